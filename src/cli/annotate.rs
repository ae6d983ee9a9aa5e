//! `stancemine annotate`: export the sentences most worth labelling for a
//! target, from a corpus or a store, to a file people can edit.

use anyhow::{bail, Context};
use stancemine::ingest::{self, Limits};
use stancemine::metrics::argmax;
use stancemine::segment::segment;
use stancemine::stance::active::{self, Uncertainty};
use stancemine::stance::annotations::{self, Candidate};
use stancemine::stance::data::{self, LABELS};
use stancemine::stance::model::StanceModel;
use stancemine::stance::targets::Targets;
use stancemine::store::Store;
use std::collections::HashSet;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["corpus", "store"])))]
pub struct AnnotateArgs {
    /// Files or folders of articles (as for `run`); their sentences are classified now.
    #[arg(long, num_args = 1..)]
    pub corpus: Vec<PathBuf>,
    /// A store written by `run`: its sentences, with the stored predictions
    /// when they come from the current model.
    #[arg(long)]
    pub store: Option<PathBuf>,
    /// Target id (from --targets).
    #[arg(long)]
    pub target: String,
    /// How many sentences to export.
    #[arg(long, default_value_t = 50)]
    pub n: usize,
    /// Output file: JSONL, or CSV when it ends in .csv. Never overwritten.
    #[arg(long)]
    pub out: PathBuf,
    /// The model whose uncertainty picks the sentences.
    #[arg(long, default_value = "models/stance")]
    pub model: PathBuf,
    #[arg(long, default_value = "targets.toml")]
    pub targets: PathBuf,
    /// Labelled sentences to skip: JSONL or CSV files, or folders of them
    /// (e.g. earlier, filled annotation files). Missing default folders are ignored.
    #[arg(long, num_args = 1.., default_values = ["data/stance", "data/labels"])]
    pub labelled: Vec<PathBuf>,
    /// Uncertainty measure.
    #[arg(long, value_enum, default_value = "margin")]
    pub uncertainty: Uncertainty,
    /// At most this many sentences from one article.
    #[arg(long)]
    pub max_per_article: Option<usize>,
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Largest input file or JSONL line to read (--corpus), in bytes.
    #[arg(long, default_value_t = Limits::default().max_bytes)]
    pub max_bytes: u64,
}

/// A sentence before the model has had its say.
struct Pending {
    c: Candidate,
    stored: Option<[f32; 4]>,
}

pub fn annotate(args: AnnotateArgs) -> anyhow::Result<()> {
    if args.out.exists() {
        bail!(
            "{} already exists: choose another --out (it may hold labels you wrote)",
            args.out.display()
        );
    }
    if args.n == 0 {
        bail!("--n must be at least 1");
    }
    let targets = Targets::load(&args.targets)?;
    let Some(target) = targets.get(&args.target) else {
        bail!(
            "unknown target {:?}: {} has {}",
            args.target,
            args.targets.display(),
            targets
                .0
                .iter()
                .map(|t| t.id.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    let known = labelled_keys(&args.labelled, &targets)?;
    let card = stancemine::model::card::ModelCard::read(&args.model)
        .with_context(|| format!("--model {} is not a model directory", args.model.display()))?;
    let version = card.version;

    let mut pending = if let Some(store) = &args.store {
        from_store(store, &args.target, &version)?
    } else {
        from_corpus(
            &args.corpus,
            &args.target,
            Limits {
                max_bytes: args.max_bytes,
            },
        )
    };
    let total = pending.len();
    if total == 0 {
        bail!("no sentences found to choose from");
    }
    // Classify what has no prediction from this model yet.
    let todo: Vec<usize> = (0..pending.len())
        .filter(|&i| pending[i].stored.is_none())
        .collect();
    if !todo.is_empty() {
        tracing::info!("classifying {} sentence(s) with {version}", todo.len());
        let m = StanceModel::load(&args.model)
            .with_context(|| format!("cannot load {}", args.model.display()))?;
        let pairs: Vec<(&str, &str)> = todo
            .iter()
            .map(|&i| (target.description.as_str(), pending[i].c.text.as_str()))
            .collect();
        let probs = m.predict(&pairs, args.batch_size);
        for (&i, p) in todo.iter().zip(probs) {
            pending[i].stored = Some(p);
        }
    }
    let candidates: Vec<Candidate> = pending
        .into_iter()
        .map(|p| {
            let probs = p.stored.unwrap_or([0.25; 4]);
            Candidate {
                predicted: LABELS[argmax(&probs)].to_string(),
                uncertainty: active::uncertainty(&probs, args.uncertainty),
                probs,
                model_version: version.clone(),
                ..p.c
            }
        })
        .collect();
    let (candidates, labelled, repeats) = active::skip_known(candidates, &known);
    let picked = active::select(candidates, args.n, args.max_per_article);
    let articles: HashSet<&str> = picked.iter().map(|c| c.article_id.as_str()).collect();
    annotations::write(&args.out, &picked)?;
    tracing::info!(
        "{} of {total} sentence(s) written to {} ({} article(s)); {labelled} already labelled and {repeats} repeat(s) skipped. Fill in \"label\" (favor, against, neutral, none) and \"holder\", then: stancemine train stance --from {} --new {} --out <new model dir>",
        picked.len(),
        args.out.display(),
        articles.len(),
        args.model.display(),
        args.out.display()
    );
    if picked.len() < args.n {
        tracing::warn!("only {} sentence(s) left to propose", picked.len());
    }
    Ok(())
}

fn from_store(path: &Path, target: &str, version: &str) -> anyhow::Result<Vec<Pending>> {
    if !path.is_file() {
        bail!("store {} not found", path.display());
    }
    let store = Store::open(path)?;
    let rows = store.sentences_for(target)?;
    let stale = rows
        .iter()
        .filter(|r| r.probs.as_ref().is_some_and(|(_, v)| v != version))
        .count();
    if stale > 0 {
        tracing::info!(
            "{stale} stored prediction(s) come from another model version: classified again"
        );
    }
    Ok(rows
        .into_iter()
        .map(|r| Pending {
            stored: r.probs.filter(|(_, v)| v == version).map(|(p, _)| p),
            c: Candidate {
                text: r.text,
                context: r.context,
                article_id: r.article_id,
                title: r.title,
                date: r.date,
                target: target.to_string(),
                predicted: String::new(),
                probs: [0.0; 4],
                uncertainty: 0.0,
                model_version: String::new(),
            },
        })
        .collect())
}

fn from_corpus(inputs: &[PathBuf], target: &str, limits: Limits) -> Vec<Pending> {
    let (files, errors) = ingest::discover(inputs);
    for e in errors {
        tracing::error!("{e}");
    }
    let mut out = Vec::new();
    for file in &files {
        for item in ingest::read(file, limits) {
            let article = match item {
                Ok(a) => a,
                Err(e) => {
                    tracing::error!("{e}");
                    continue;
                }
            };
            let mut prev: Option<String> = None;
            for s in segment(&article.text) {
                out.push(Pending {
                    stored: None,
                    c: Candidate {
                        context: prev.replace(s.text.clone()),
                        text: s.text,
                        article_id: article.id.clone(),
                        title: article.meta.title.clone(),
                        date: article.meta.date.clone(),
                        target: target.to_string(),
                        predicted: String::new(),
                        probs: [0.0; 4],
                        uncertainty: 0.0,
                        model_version: String::new(),
                    },
                });
            }
        }
    }
    out
}

/// Keys of every labelled sentence in the given files and folders.
fn labelled_keys(
    paths: &[PathBuf],
    targets: &Targets,
) -> anyhow::Result<HashSet<(String, String)>> {
    let defaults = ["data/stance", "data/labels"].map(PathBuf::from);
    let mut files = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut v: Vec<PathBuf> = std::fs::read_dir(p)
                .with_context(|| p.display().to_string())?
                .flatten()
                .map(|e| e.path())
                .filter(|f| f.extension().is_some_and(|e| e == "jsonl" || e == "csv"))
                .collect();
            v.sort();
            files.extend(v);
        } else if p.is_file() {
            files.push(p.clone());
        } else if !defaults.contains(p) {
            bail!("--labelled {}: no such file or folder", p.display());
        }
    }
    let mut keys = HashSet::new();
    for f in files {
        let sentences = if f.extension().is_some_and(|e| e == "csv") {
            match annotations::read_all(std::slice::from_ref(&f), targets) {
                Ok(v) => v
                    .into_iter()
                    .flat_map(|i| i.labelled)
                    .map(|a| a.sentence)
                    .collect(),
                Err(annotations::AnnotationError::Empty { .. }) => vec![],
                Err(e) => return Err(e.into()),
            }
        } else {
            data::read(&f, false)?
        };
        keys.extend(
            sentences
                .iter()
                .filter(|s| s.label.as_deref().is_some_and(|l| !l.trim().is_empty()))
                .map(|s| active::sentence_key(&s.text, &s.target)),
        );
    }
    Ok(keys)
}
