//! Command-line interface: argument parsing and validation into library
//! configs, logging and progress. No pipeline work happens here.

mod annotate;
mod models;
mod ner;
mod progress;
mod report;
mod retrain;
mod stance;

use anyhow::Context;
use clap::{Parser, Subcommand};
use stancemine::ingest::Limits;
use stancemine::ner::annotate::NerAnnotator;
use stancemine::pipeline::{self, RunConfig, Stages};
use stancemine::stance::{targets::Targets, StanceAnnotator};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "stancemine",
    version,
    about = "Stance mining for foreign-policy commentary",
    after_help = "Examples:\n  stancemine run corpus --out out\n  stancemine run new-pieces/ archive.jsonl --out out --store archive.sqlite\n\n\
                  Exit codes: 0 all inputs processed, 1 some inputs failed (see OUT/errors.jsonl), 2 fatal error."
)]
struct Cli {
    /// More log output (-v debug, -vv trace); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// Only errors on the terminal.
    #[arg(short, long, global = true)]
    quiet: bool,
    /// Threads for model inference and training (libtorch intra-op).
    #[arg(long, global = true, default_value_t = default_threads())]
    threads: usize,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Process files and folders of articles (.txt, .html, .jsonl) into OUT.
    ///
    /// Writes OUT/articles.jsonl, OUT/errors.jsonl and the SQLite store
    /// (OUT/stancemine.sqlite unless --store). Articles already in the store
    /// with unchanged content are not recomputed.
    Run {
        /// Files or folders to read; folders are walked for .txt, .html, .htm and .jsonl files.
        #[arg(required = true)]
        inputs: Vec<PathBuf>,
        /// Output folder.
        #[arg(long, short, default_value = "out")]
        out: PathBuf,
        /// SQLite store to use instead of OUT/stancemine.sqlite.
        #[arg(long)]
        store: Option<PathBuf>,
        /// Largest input file (text, HTML) or JSONL line to read, in bytes.
        #[arg(long, default_value_t = Limits::default().max_bytes)]
        max_bytes: u64,
        /// Folder of models: MODELS/ner and MODELS/stance.
        #[arg(long, default_value = "models")]
        models: PathBuf,
        /// Stance targets.
        #[arg(long, default_value = "targets.toml")]
        targets: PathBuf,
        /// Actor alias tables; later ones add to and override earlier ones.
        #[arg(long, num_args = 1.., default_value = "actors.toml")]
        actors: Vec<PathBuf>,
        /// Skip stance classification and holder attribution.
        #[arg(long)]
        no_stance: bool,
        /// Skip entity recognition and actors.
        #[arg(long)]
        no_ner: bool,
        /// Sentences per model batch.
        #[arg(long, default_value_t = 64)]
        batch_size: usize,
        /// Run these models' linear layers in int8 (dynamic quantisation):
        /// `--int8` alone is the stance model (about 1.35× the whole run's speed
        /// here, accuracy held); `--int8=stance,ner` adds NER (faster still,
        /// up to a point of span F1 lost). See README, "Benchmark".
        #[arg(long, num_args = 0..=1, require_equals = true, value_delimiter = ',',
              default_missing_value = "stance", value_parser = ["stance", "ner"])]
        int8: Vec<String>,
    },
    /// Train a model.
    #[command(subcommand)]
    Train(TrainCommand),
    /// Score a model on labelled data (JSON to stdout).
    #[command(subcommand)]
    Eval(EvalCommand),
    /// Manage models.
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Print a model's raw predictions for sentences, to inspect or compare it.
    #[command(subcommand)]
    Tag(TagCommand),
    /// Write report.json, report.md and report.html from a store, without running any model.
    ///
    /// Example: stancemine report --store out/stancemine.sqlite --out out --target us-dprk-dialogue --from 2018 --to 2019-06
    Report(report::ReportArgs),
    /// Export the sentences most worth labelling for a target (the model's
    /// least certain, spread across articles) to JSONL or CSV for people to label.
    ///
    /// Example: stancemine annotate --store out/stancemine.sqlite --target us-dprk-dialogue --n 60 --out to-label.jsonl
    Annotate(annotate::AnnotateArgs),
}

#[derive(Subcommand)]
enum ModelsCommand {
    /// Write a model as a Hugging Face directory (full weights, tokenizer, config).
    ///
    /// Example: stancemine models export models/stance --out models/stance/hf
    Export(models::ExportArgs),
    /// List the stance model versions: the active one, the registered ones,
    /// with their regression scores.
    ///
    /// Example: stancemine models list
    List(models::ListArgs),
    /// Make a model the active one (MODELS_DIR/stance), if its regression
    /// macro-F1 is at most 1 point below the active model's (else --force).
    ///
    /// Example: stancemine models promote models/stance-retrained
    Promote(models::PromoteArgs),
    /// Make the previously active model active again.
    ///
    /// Example: stancemine models rollback
    Rollback(models::RollbackArgs),
    /// Re-hash a model's files and re-render model-card.md from model-card.json
    /// (after editing its notes or command by hand).
    Card {
        /// The model directory.
        model: PathBuf,
    },
}

#[derive(Subcommand)]
enum TrainCommand {
    /// Train the stance classifier on labelled sentences.
    ///
    /// Example: stancemine train stance --data data/stance/train.jsonl --dev data/stance/dev.jsonl --test data/stance/test.jsonl --out models/stance-new
    Stance(stance::TrainArgs),
    /// Train the NER token classifier on CoNLL data.
    ///
    /// Example: stancemine train ner --data crossner_politics:train wikigold --dev crossner_politics:dev --out models/ner-new
    Ner(ner::TrainArgs),
}

#[derive(Subcommand)]
enum TagCommand {
    /// The NER model's entity spans for each sentence (JSONL), before the
    /// clean-up and actor linking of `run`.
    ///
    /// Example: stancemine tag ner sentences.txt --model models/ner
    Ner(ner::TagArgs),
}

#[derive(Subcommand)]
enum EvalCommand {
    /// Macro-F1, F_avg, per-class scores and the confusion matrix of a stance model.
    ///
    /// Example: stancemine eval stance --data data/stance/test.jsonl --model models/stance
    Stance(stance::EvalArgs),
    /// Span precision/recall/F1 (exact match, per type) of an NER model.
    ///
    /// Example: stancemine eval ner --data crossner_politics:test --model models/ner
    Ner(ner::EvalArgs),
    /// Author-stance, actor-stance and holder accuracy of a run against article gold.
    ///
    /// Example: stancemine eval articles --gold data/gold/*.jsonl --articles out/articles.jsonl --holders data/stance/test.jsonl
    Articles(report::EvalArticlesArgs),
}

pub fn run() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    init_logging(cli.verbose, cli.quiet);
    if cli.threads == 0 {
        anyhow::bail!("--threads must be at least 1");
    }
    tch::set_num_threads(i32::try_from(cli.threads).unwrap_or(i32::MAX));
    match cli.command {
        Command::Run {
            inputs,
            out,
            store,
            max_bytes,
            models,
            targets,
            actors,
            no_stance,
            no_ner,
            batch_size,
            int8,
        } => {
            stancemine::model::set_int8(&int8);
            if out.exists() && !out.is_dir() {
                anyhow::bail!("--out {} exists and is not a folder", out.display());
            }
            let config = RunConfig {
                inputs,
                out_dir: out.clone(),
                store,
                limits: Limits { max_bytes },
            };
            let stages = Stages {
                ner: if no_ner {
                    None
                } else {
                    Some(load_ner(&models.join("ner"), &actors, batch_size)?)
                },
                stance: if no_stance {
                    None
                } else {
                    Some(load_stance(&models.join("stance"), &targets, batch_size)?)
                },
            };
            let mut progress = progress::for_terminal(cli.quiet);
            let summary = pipeline::run(&config, &stages, progress.as_mut())
                .with_context(|| format!("run into {} stopped", out.display()))?;
            Ok(if summary.failed > 0 {
                ExitCode::from(1)
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Train(TrainCommand::Stance(args)) => {
            stance::train(args).map(|_| ExitCode::SUCCESS)
        }
        Command::Eval(EvalCommand::Stance(args)) => stance::eval(args).map(|_| ExitCode::SUCCESS),
        Command::Train(TrainCommand::Ner(args)) => ner::train(args).map(|_| ExitCode::SUCCESS),
        Command::Eval(EvalCommand::Ner(args)) => ner::eval(args).map(|_| ExitCode::SUCCESS),
        Command::Tag(TagCommand::Ner(args)) => ner::tag(args).map(|all_read| {
            if all_read {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }),
        Command::Eval(EvalCommand::Articles(args)) => {
            report::eval_articles(args).map(|_| ExitCode::SUCCESS)
        }
        Command::Report(args) => report::report(args).map(|_| ExitCode::SUCCESS),
        Command::Models(ModelsCommand::Export(args)) => {
            models::export(args).map(|_| ExitCode::SUCCESS)
        }
        Command::Models(ModelsCommand::List(args)) => models::list(args).map(|_| ExitCode::SUCCESS),
        Command::Models(ModelsCommand::Promote(args)) => {
            models::promote(args).map(|_| ExitCode::SUCCESS)
        }
        Command::Models(ModelsCommand::Rollback(args)) => {
            models::rollback(args).map(|_| ExitCode::SUCCESS)
        }
        Command::Annotate(args) => annotate::annotate(args).map(|_| ExitCode::SUCCESS),
        Command::Models(ModelsCommand::Card { model }) => {
            let card = stancemine::model::card::ModelCard::read(&model)?;
            card.write(&model)
                .with_context(|| format!("cannot rewrite the card of {}", model.display()))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn load_ner(
    dir: &std::path::Path,
    actors: &[PathBuf],
    batch_size: usize,
) -> anyhow::Result<pipeline::NerStage> {
    let table =
        stancemine::actors::ActorTable::load(actors).context("cannot read the actor table")?;
    let annotator = NerAnnotator::open(dir, batch_size).with_context(|| {
        format!(
            "cannot use the NER model in {} (use --models, or --no-ner to skip entities)",
            dir.display()
        )
    })?;
    tracing::info!(
        "NER model {}; {} actors in the alias table",
        annotator.version(),
        table.len()
    );
    Ok(pipeline::NerStage {
        annotator,
        actors: table,
    })
}

fn load_stance(
    dir: &std::path::Path,
    targets: &std::path::Path,
    batch_size: usize,
) -> anyhow::Result<StanceAnnotator> {
    let targets = Targets::load(targets)?;
    let ids = targets
        .0
        .iter()
        .map(|t| t.id.clone())
        .collect::<Vec<_>>()
        .join(", ");
    let annotator = StanceAnnotator::open(dir, targets, batch_size).with_context(|| {
        format!(
            "cannot use the stance model in {} (use --models, or --no-stance to skip stance)",
            dir.display()
        )
    })?;
    tracing::info!("stance model {}; targets: {ids}", annotator.version());
    Ok(annotator)
}

/// One thread per core: libtorch's own default can count hyper-threads or
/// the whole host rather than the cores this process may use.
fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "info",
        (false, 1) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("stancemine={level},warn")));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(progress::LogWriter)
        .with_target(false)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .without_time()
        .init();
}
