//! `stancemine train stance` and `stancemine eval stance`.

use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressStyle};
use stancemine::metrics::argmax;
use stancemine::model::card::{DataFile, ModelCard};
use stancemine::model::sha256_file;
use stancemine::stance::calibrate;
use stancemine::stance::data::{self, LabelledSentence};
use stancemine::stance::model::StanceModel;
use stancemine::stance::targets::Targets;
use stancemine::stance::train::{self as stance_train, Prepared};
use stancemine::train::{TrainConfig, TrainProgress};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// The shipped training data: the default base data of continued training.
pub const SHIPPED_TRAIN: &str = "data/stance/train.jsonl";

#[derive(clap::Args)]
pub struct TrainArgs {
    /// Training data (JSONL labelled sentences); several files are concatenated.
    /// With --from: the base data replayed beside the new annotations
    /// (default data/stance/train.jsonl).
    #[arg(long, num_args = 1.., required_unless_present_any = ["from", "public_data"])]
    pub data: Vec<PathBuf>,
    /// Continue training this model directory (e.g. models/stance, the
    /// active model) instead of starting from the backbone.
    #[arg(long)]
    pub from: Option<PathBuf>,
    /// With --from: new annotations (JSONL or CSV from `stancemine annotate`,
    /// partly filled is fine: unlabelled lines are skipped).
    #[arg(long, num_args = 1.., requires = "from")]
    pub new: Vec<PathBuf>,
    /// With --from: the fixed regression set, scored before and after.
    #[arg(long, default_value = "data/stance/test.jsonl", requires = "from")]
    pub regression: PathBuf,
    /// With --from: share of the new sentences held out and scored before
    /// and after (whole articles when they come from four or more).
    #[arg(long, default_value_t = 0.25, requires = "from")]
    pub holdout: f64,
    /// With --from: base sentences replayed (default: twice the new
    /// training sentences, at most all of the base data).
    #[arg(long, requires = "from")]
    pub replay: Option<usize>,
    /// Development data: the epoch with the best dev macro-F1 is kept.
    #[arg(long, conflicts_with = "from")]
    pub dev: Option<PathBuf>,
    /// Test data, scored once at the end and written into the model card.
    #[arg(long, conflicts_with = "from")]
    pub test: Vec<PathBuf>,
    /// Output model directory (must not exist; written atomically).
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, default_value = "targets.toml")]
    pub targets: PathBuf,
    #[arg(long, default_value = "models/backbone")]
    pub backbone: PathBuf,
    /// Epochs [default: 6; with --from 3].
    #[arg(long)]
    pub epochs: Option<usize>,
    #[arg(long, default_value_t = TrainConfig::default().seed)]
    pub seed: u64,
    /// Peak learning rate [default: 1e-4; with --from 5e-5].
    #[arg(long)]
    pub lr: Option<f64>,
    #[arg(long, default_value_t = TrainConfig::default().batch_size)]
    pub batch_size: usize,
    /// Layers from this one up are trained; lower ones stay as they are
    /// [default: 4; with --from the parent's].
    #[arg(long)]
    pub first_trained_layer: Option<usize>,
    /// Longest input in tokens [default: 128; with --from the parent's].
    #[arg(long)]
    pub max_length: Option<usize>,
    /// Version name recorded with every prediction (default: from the date and seed).
    #[arg(long)]
    pub version: Option<String>,
    /// Start from this stance model's weights (e.g. one trained on NLI
    /// pairs) instead of the bare backbone; otherwise a fresh run (dev, test,
    /// epochs as given). Unlike --from, nothing is replayed or compared.
    #[arg(long, conflicts_with = "from")]
    pub init: Option<PathBuf>,
    /// Extra training data whose `target` is free text (public multi-topic
    /// sets such as VAST or IBM Claim Stance); not checked against --targets.
    #[arg(long, num_args = 1.., conflicts_with = "from")]
    pub public_data: Vec<PathBuf>,
}

/// A version name from the time and seed.
pub fn default_version(seed: u64) -> String {
    format!(
        "stance-{}-s{seed}",
        chrono::Utc::now().format("%Y%m%d-%H%M%S")
    )
}

#[derive(clap::Args)]
pub struct EvalArgs {
    /// Labelled sentences (JSONL). `target` is a target id from --targets, or free text used as the target.
    #[arg(long)]
    pub data: PathBuf,
    #[arg(long, default_value = "models/stance")]
    pub model: PathBuf,
    #[arg(long, default_value = "targets.toml")]
    pub targets: PathBuf,
    /// Write one JSON line per input: its fields plus `predicted` and `probs`.
    #[arg(long)]
    pub predictions: Option<PathBuf>,
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Score only the lines for this target.
    #[arg(long)]
    pub target: Option<String>,
    /// Run the encoders' linear layers in int8 (dynamic quantisation): about
    /// twice as fast, slightly different results (see README, "Speed").
    #[arg(long)]
    pub int8: bool,
}

pub fn data_file(path: &Path, n: usize, role: &str) -> anyhow::Result<DataFile> {
    Ok(DataFile {
        path: path.display().to_string(),
        sha256: sha256_file(path)?,
        examples: n,
        role: role.into(),
    })
}

/// Check every target in the data is configured (training needs the text).
pub fn check_targets(
    data: &[LabelledSentence],
    targets: &Targets,
    what: &Path,
) -> anyhow::Result<()> {
    if let Some(s) = data.iter().find(|s| targets.get(&s.target).is_none()) {
        bail!(
            "{}: unknown target {:?} (not in the targets file)",
            what.display(),
            s.target
        );
    }
    Ok(())
}

pub fn train(mut args: TrainArgs) -> anyhow::Result<()> {
    if let Some(from) = args.from.take() {
        return super::retrain::train(args, from);
    }
    if args.out.exists() {
        bail!(
            "--out {} already exists: choose a new directory",
            args.out.display()
        );
    }
    let targets = Targets::load(&args.targets)?;
    // Data files are read once; their sizes and hashes go into the card.
    let mut train_data = Vec::new();
    let mut files = vec![];
    for p in &args.data {
        let d = data::read(p, true)?;
        check_targets(&d, &targets, p)?;
        files.push(data_file(p, d.len(), "train")?);
        train_data.extend(d);
    }
    for p in &args.public_data {
        let d = data::read(p, true)?;
        files.push(data_file(p, d.len(), "train (public, free-text targets)")?);
        train_data.extend(d);
    }
    let dev = args.dev.as_ref().map(|p| data::read(p, true)).transpose()?;
    let tests: Vec<(PathBuf, Vec<LabelledSentence>)> = args
        .test
        .iter()
        .map(|p| Ok((p.clone(), data::read(p, true)?)))
        .collect::<anyhow::Result<_>>()?;
    let version = args
        .version
        .clone()
        .unwrap_or_else(|| default_version(args.seed));
    let defaults = TrainConfig::default();
    let cfg = TrainConfig {
        epochs: args.epochs.unwrap_or(defaults.epochs),
        batch_size: args.batch_size,
        learning_rate: args.lr.unwrap_or(defaults.learning_rate),
        seed: args.seed,
        first_trained_layer: args
            .first_trained_layer
            .unwrap_or(defaults.first_trained_layer),
        ..Default::default()
    };
    let max_length = args.max_length.unwrap_or(128);
    // The new head's initial weights come from torch's generator: seed it
    // first, so the same seed gives the same model.
    stancemine::train::seed_everything(cfg.seed);
    let mut m = StanceModel::untrained(
        &args.backbone,
        cfg.first_trained_layer,
        max_length,
        &version,
    )
    .context("cannot build the stance model from the backbone")?;
    let mut notes = vec![];
    if let Some(init) = &args.init {
        let (init_config, _) = stancemine::model::open_dir(init, "stance", &data::LABELS)
            .with_context(|| format!("--init {}", init.display()))?;
        stancemine::model::load_weights(&m.vs, init, &init_config)
            .with_context(|| format!("cannot load --init {}", init.display()))?;
        tracing::info!("starting from {}", init_config.stancemine.version);
        notes.push(format!(
            "Initialised from {} (--init; its model card lists its data).",
            init_config.stancemine.version
        ));
    }
    let started = std::time::Instant::now();
    let prepared = stance_train::prepare(&m, &train_data, &targets);
    let dev_prepared = dev.as_ref().map(|d| stance_train::prepare(&m, d, &targets));
    tracing::info!(
        "training {version} on {} sentences ({} dev), {} epochs, layers {}.. trained",
        prepared.labels.len(),
        dev_prepared.as_ref().map_or(0, |d| d.labels.len()),
        cfg.epochs,
        cfg.first_trained_layer
    );
    let mut progress = EpochProgress::new(cfg.epochs);
    let outcome = stance_train::train(
        &mut m,
        &prepared,
        dev_prepared.as_ref(),
        &cfg,
        &mut progress,
    )?;
    let seconds = started.elapsed().as_secs_f64();
    // Score exactly what will be saved (head tensors are stored as f16).
    stancemine::model::round_to_saved_precision(&m.vs, cfg.first_trained_layer);
    // Fine-tuning leaves the model near-certain even where it is wrong; one
    // temperature fitted on dev brings the probabilities in line. The dev
    // forward runs once: the fit and the dev report share its logits.
    let mut calibration = None;
    let mut metrics = std::collections::BTreeMap::new();
    if let (Some(p), Some(d)) = (&args.dev, &dev_prepared) {
        let logits = m.logits_encoded(&d.encoded, 64);
        let t = calibrate::fit_temperature(&logits, &d.labels);
        let probs_at =
            |t: f64| -> Vec<[f32; 4]> { logits.iter().map(|l| calibrate::softmax(l, t)).collect() };
        let before = stancemine::metrics::calibration(&probs_at(1.0), &d.labels);
        let r = stance_train::score(&probs_at(t), &d.labels);
        let after = r.calibration.clone().expect("score reports calibration");
        tracing::info!(
            "temperature {t:.2} fitted on dev: ECE {:.3} -> {:.3}, NLL {:.3} -> {:.3}",
            before.ece,
            after.ece,
            before.nll,
            after.nll
        );
        m.config.stancemine.temperature = Some(t);
        calibration =
            Some(serde_json::json!({"temperature": t, "dev_before": before, "dev_after": after}));
        tracing::info!(
            "dev macro-F1 {:.3}, F_avg {:.3}",
            r.macro_f1,
            r.f_avg.unwrap_or(0.0)
        );
        metrics.insert("dev".to_string(), serde_json::to_value(&r)?);
        files.push(data_file(p, d.labels.len(), "dev")?);
    }
    for (p, t) in &tests {
        let prep = stance_train::prepare(&m, t, &targets);
        let (r, _) = stance_train::evaluate(&m, &prep, 64);
        tracing::info!(
            "{}: macro-F1 {:.3}, F_avg {:.3}",
            p.display(),
            r.macro_f1,
            r.f_avg.unwrap_or(0.0)
        );
        let name = p
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        metrics.insert(name, serde_json::to_value(&r)?);
        files.push(data_file(p, prep.labels.len(), "test")?);
    }

    let config = serde_json::json!({
        "train": cfg,
        "max_length": max_length,
        "targets": targets.texts(),
        "epoch_losses": outcome.epoch_losses,
        "dev_macro_f1_by_epoch": outcome.dev_macro_f1,
        "class_weights": outcome.class_weights,
        "calibration": calibration,
        "train_seconds": seconds,
    });
    let card = ModelCard {
        data: files,
        metrics,
        notes,
        ..ModelCard::new(
            "stancemine stance classifier",
            &version,
            "stance",
            cfg.seed,
            &m.config.stancemine.backbone_sha256,
            config,
        )
    };
    // Written to a temporary sibling and renamed: a failed run leaves no model.
    stancemine::model::write_dir(&args.out, card, |dir| m.save(dir))?;
    tracing::info!(
        "model {version} written to {} in {seconds:.0}s",
        args.out.display()
    );
    Ok(())
}

pub fn eval(args: EvalArgs) -> anyhow::Result<()> {
    stancemine::model::set_int8_for("stance", args.int8);
    let targets = Targets::load(&args.targets)?;
    let mut data = data::read(&args.data, true)?;
    if let Some(t) = &args.target {
        data.retain(|s| &s.target == t);
        if data.is_empty() {
            bail!("{}: no lines for target {t:?}", args.data.display());
        }
    }
    let m = StanceModel::load(&args.model)
        .with_context(|| format!("cannot load {}", args.model.display()))?;
    let prepared: Prepared = stance_train::prepare(&m, &data, &targets);
    let (report, probs) = stance_train::evaluate(&m, &prepared, args.batch_size);
    if let Some(p) = &args.predictions {
        let mut w = std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("{}", p.display()))?,
        );
        for (s, pr) in data.iter().zip(&probs) {
            let mut v = serde_json::to_value(s)?;
            let labels = data::LABELS;
            v["predicted"] = labels[argmax(pr)].into();
            v["probs"] = labels
                .iter()
                .zip(pr)
                .map(|(l, p)| (l.to_string(), serde_json::json!(*p)))
                .collect::<serde_json::Map<_, _>>()
                .into();
            serde_json::to_writer(&mut w, &v)?;
            w.write_all(b"\n")?;
        }
        w.flush()?;
    }
    let out = serde_json::json!({
        "data": args.data.display().to_string(),
        "model": args.model.display().to_string(),
        "model_version": stancemine::model::run_version(&m.config),
        "target": args.target,
        "report": report,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

/// One bar over every batch of the run, with its ETA, on a terminal; one
/// log line per epoch (with the ETA of the run) otherwise.
pub struct EpochProgress {
    epochs: usize,
    bar: Option<ProgressBar>,
    started: std::time::Instant,
}

impl EpochProgress {
    pub fn new(epochs: usize) -> Self {
        EpochProgress {
            epochs,
            bar: None,
            started: std::time::Instant::now(),
        }
    }
}

impl TrainProgress for EpochProgress {
    fn epoch_start(&mut self, epoch: usize, batches: usize) {
        if epoch == 0 {
            self.started = std::time::Instant::now();
            if std::io::stderr().is_terminal() {
                // Every epoch has the same number of batches.
                let bar = ProgressBar::new((batches * self.epochs) as u64);
                bar.set_style(
                    ProgressStyle::with_template(
                        "epoch {msg} [{elapsed_precise}] {wide_bar} {pos}/{len} batches  ETA {eta}",
                    )
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
                );
                self.bar = Some(bar);
            }
        }
        if let Some(b) = &self.bar {
            b.set_message(format!("{}/{}", epoch + 1, self.epochs));
        }
    }
    fn batch(&mut self, _loss: f64) {
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }
    fn epoch_end(&mut self, epoch: usize, loss: f64, dev: Option<f64>) {
        let done = epoch + 1;
        if done == self.epochs {
            if let Some(b) = self.bar.take() {
                b.finish_and_clear();
            }
        }
        let per_epoch = self.started.elapsed().as_secs_f64() / done as f64;
        let eta = per_epoch * (self.epochs - done) as f64;
        let log = || {
            match dev {
            Some(d) => tracing::info!(
                "epoch {done}/{}: loss {loss:.4}, dev score {d:.4}, {per_epoch:.0}s/epoch, ETA {eta:.0}s",
                self.epochs
            ),
            None => tracing::info!(
                "epoch {done}/{}: loss {loss:.4}, {per_epoch:.0}s/epoch, ETA {eta:.0}s",
                self.epochs
            ),
        }
        };
        match &self.bar {
            Some(b) => b.suspend(log),
            None => log(),
        }
    }
}
