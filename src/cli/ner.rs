//! `stancemine train ner`, `stancemine eval ner` and `stancemine tag ner`.

use super::stance::EpochProgress;
use anyhow::{bail, Context};
use stancemine::model::card::{DataFile, ModelCard};
use stancemine::ner::conll::{self, Dataset, EntityType};
use stancemine::ner::model::NerModel;
use stancemine::ner::train as ner_train;
use stancemine::train::TrainConfig;
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct TrainArgs {
    /// Training sets: names such as `crossner_politics:train`, `re3d:-US_State_Department`,
    /// `wikigold`, `gmb` (read from --ner-data), optionally sliced `NAME@START..END`
    /// (sentences), or CoNLL files (token first, IOB tag last, our 7 type names or
    /// PERSON/LOCATION/ORGANIZATION).
    #[arg(long, required = true, num_args = 1..)]
    pub data: Vec<String>,
    /// Development set (same forms as --data); the best epoch on it is kept.
    #[arg(long)]
    pub dev: Option<String>,
    /// Test sets, scored at the end and written into the model card.
    #[arg(long, num_args = 1..)]
    pub test: Vec<String>,
    #[arg(long)]
    pub out: PathBuf,
    /// The folder of public NER sets.
    #[arg(long, default_value = "../shared/data/ner")]
    pub ner_data: PathBuf,
    #[arg(long, default_value = "models/backbone")]
    pub backbone: PathBuf,
    #[arg(long, default_value_t = 3)]
    pub epochs: usize,
    #[arg(long, default_value_t = TrainConfig::default().seed)]
    pub seed: u64,
    #[arg(long, default_value_t = 2e-4)]
    pub lr: f64,
    #[arg(long, default_value_t = TrainConfig::default().batch_size)]
    pub batch_size: usize,
    #[arg(long, default_value_t = TrainConfig::default().first_trained_layer)]
    pub first_trained_layer: usize,
    #[arg(long, default_value_t = 128)]
    pub max_length: usize,
    #[arg(long)]
    pub version: Option<String>,
    /// Also train each word's later pieces (to continue its label), so
    /// decoders that read every piece (Hugging Face's aggregation "simple")
    /// split fewer words. By default only a word's first piece is trained.
    #[arg(long)]
    pub label_all_pieces: bool,
}

#[derive(clap::Args)]
pub struct EvalArgs {
    /// A data set name (see `train ner --help`) or a CoNLL file.
    #[arg(long)]
    pub data: String,
    #[arg(long, default_value = "models/ner")]
    pub model: PathBuf,
    #[arg(long, default_value = "../shared/data/ner")]
    pub ner_data: PathBuf,
    /// Write `token<TAB>gold<TAB>pred` lines, a blank line between sentences.
    #[arg(long)]
    pub predictions: Option<PathBuf>,
    /// Run the encoders' linear layers in int8 (dynamic quantisation): about
    /// twice as fast, slightly different results (see README, "Speed").
    #[arg(long)]
    pub int8: bool,
}

/// Map a user's CoNLL label to a type.
fn user_type(label: &str) -> Option<EntityType> {
    match label.to_uppercase().as_str() {
        "PER" | "PERSON" => Some(EntityType::Per),
        "ORG" | "ORGANIZATION" | "ORGANISATION" => Some(EntityType::Org),
        "GPE" => Some(EntityType::Gpe),
        "LOC" | "LOCATION" => Some(EntityType::Loc),
        "NORP" => Some(EntityType::Norp),
        "EVENT" => Some(EntityType::Event),
        "MISC" => Some(EntityType::Misc),
        _ => None,
    }
}

/// Load `NAME[@START..END]` or a CoNLL file.
pub fn load(spec: &str, root: &Path) -> anyhow::Result<Dataset> {
    let (name, range) = match spec.rsplit_once('@') {
        Some((n, r)) => {
            let (a, b) = r
                .split_once("..")
                .with_context(|| format!("{spec}: slice must be START..END"))?;
            let a: usize = if a.is_empty() { 0 } else { a.parse()? };
            let b: usize = if b.is_empty() { usize::MAX } else { b.parse()? };
            (n, Some(a..b))
        }
        None => (spec, None),
    };
    let path = Path::new(name);
    let mut ds = if path.is_file() {
        let sentences = conll::read_conll(path, &user_type)?;
        Dataset {
            name: name.to_string(),
            sentences,
            labelled: EntityType::ALL.to_vec(),
            issues: vec![],
            span_mapping: Default::default(),
        }
    } else {
        conll::load(name, root)
            .with_context(|| format!("cannot load NER data {name:?} from {}", root.display()))?
    };
    if let Some(r) = range {
        let end = r.end.min(ds.sentences.len());
        if r.start >= end {
            bail!("{spec}: empty slice of {} sentences", ds.sentences.len());
        }
        ds.sentences = ds.sentences[r.start..end].to_vec();
        ds.name = spec.to_string();
    }
    Ok(ds)
}

fn data_hash(ds: &Dataset) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    for s in &ds.sentences {
        for (t, g) in s.tokens.iter().zip(&s.tags) {
            h.update(format!("{t}\t{g}\n").as_bytes());
        }
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

pub fn train(args: TrainArgs) -> anyhow::Result<()> {
    if args.out.exists() {
        bail!(
            "--out {} already exists: choose a new directory",
            args.out.display()
        );
    }
    let sets: Vec<Dataset> = args
        .data
        .iter()
        .map(|d| load(d, &args.ner_data))
        .collect::<anyhow::Result<_>>()?;
    let dev = args
        .dev
        .as_deref()
        .map(|d| load(d, &args.ner_data))
        .transpose()?;
    let tests: Vec<Dataset> = args
        .test
        .iter()
        .map(|d| load(d, &args.ner_data))
        .collect::<anyhow::Result<_>>()?;
    let version = args.version.clone().unwrap_or_else(|| {
        format!(
            "ner-{}-s{}",
            chrono::Utc::now().format("%Y%m%d-%H%M"),
            args.seed
        )
    });
    let cfg = TrainConfig {
        epochs: args.epochs,
        batch_size: args.batch_size,
        learning_rate: args.lr,
        seed: args.seed,
        first_trained_layer: args.first_trained_layer,
        ..Default::default()
    };
    // The new head's initial weights come from torch's generator: seed it
    // first, so the same seed gives the same model.
    stancemine::train::seed_everything(cfg.seed);
    let m = NerModel::untrained(
        &args.backbone,
        cfg.first_trained_layer,
        args.max_length,
        &version,
    )?;
    let started = std::time::Instant::now();
    let mut windows = Vec::new();
    let mut files = Vec::new();
    for ds in &sets {
        tracing::info!("{}", ds.summary());
        windows.extend(ner_train::prepare(&m, ds, args.label_all_pieces));
        files.push(DataFile {
            path: ds.name.clone(),
            sha256: data_hash(ds),
            examples: ds.sentences.len(),
            role: "train".into(),
        });
    }
    tracing::info!(
        "training {version} on {} windows, {} epochs",
        windows.len(),
        cfg.epochs
    );
    let mut progress = EpochProgress::new(cfg.epochs);
    let (losses, dev_f1) = ner_train::train(
        &m,
        &windows,
        dev.as_ref().map(|d| d.sentences.as_slice()),
        &cfg,
        &mut progress,
    )?;
    let seconds = started.elapsed().as_secs_f64();
    let mut metrics = std::collections::BTreeMap::new();
    for (ds, role) in dev
        .iter()
        .map(|d| (d, "dev"))
        .chain(tests.iter().map(|t| (t, "test")))
    {
        let (r, _) = ner_train::evaluate(&m, &ds.sentences, 64);
        tracing::info!(
            "{} ({role}): span F1 {:.3} (P {:.3}, R {:.3})",
            ds.name,
            r.micro.f1,
            r.micro.precision,
            r.micro.recall
        );
        metrics.insert(ds.name.clone(), serde_json::to_value(&r)?);
        files.push(DataFile {
            path: ds.name.clone(),
            sha256: data_hash(ds),
            examples: ds.sentences.len(),
            role: role.into(),
        });
    }
    let config = serde_json::json!({
        "train": cfg,
        "max_length": args.max_length,
        "label_all_pieces": args.label_all_pieces,
        "epoch_losses": losses,
        "dev_span_f1_by_epoch": dev_f1,
        "train_seconds": seconds,
        "labelled_types": sets.iter().map(|d| (d.name.clone(), d.labelled.iter().map(|t| t.as_str()).collect::<Vec<_>>())).collect::<std::collections::BTreeMap<_, _>>(),
    });
    let card = ModelCard {
        data: files,
        metrics,
        ..ModelCard::new(
            "stancemine NER (token classification)",
            &version,
            "ner",
            cfg.seed,
            &m.config.stancemine.backbone_sha256,
            config,
        )
    };
    stancemine::model::write_dir(&args.out, card, |dir| m.save(dir))?;
    tracing::info!(
        "model {version} written to {} in {seconds:.0}s",
        args.out.display()
    );
    Ok(())
}

pub fn eval(args: EvalArgs) -> anyhow::Result<()> {
    stancemine::model::set_int8_for("ner", args.int8);
    let ds = load(&args.data, &args.ner_data)?;
    let m = NerModel::load(&args.model)
        .with_context(|| format!("cannot load {}", args.model.display()))?;
    let (report, pred) = ner_train::evaluate(&m, &ds.sentences, 64);
    if let Some(p) = &args.predictions {
        let mut w = std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("{}", p.display()))?,
        );
        for (s, pr) in ds.sentences.iter().zip(&pred) {
            for ((t, g), p) in s.tokens.iter().zip(&s.tags).zip(pr) {
                writeln!(w, "{t}\t{g}\t{p}")?;
            }
            writeln!(w)?;
        }
        w.flush()?;
    }
    let out = serde_json::json!({
        "data": args.data,
        "model": args.model.display().to_string(),
        "model_version": stancemine::model::run_version(&m.config),
        "report": report,
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}

#[derive(clap::Args)]
pub struct TagArgs {
    /// Sentences: JSONL with a "text" field per line, or plain text, one
    /// sentence per line.
    pub input: PathBuf,
    #[arg(long, default_value = "models/ner")]
    pub model: PathBuf,
    /// Output JSONL (default: standard output).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Run the encoders' linear layers in int8 (dynamic quantisation).
    #[arg(long)]
    pub int8: bool,
    /// Label every word piece, as Hugging Face's pipeline with aggregation
    /// "simple" does (spans may start or end inside a word), instead of each
    /// word by its first piece as `run` does.
    #[arg(long)]
    pub by_piece: bool,
}

/// Sentences read per model call: batches of similar lengths, flat memory.
const TAG_CHUNK: usize = 1024;

/// `stancemine tag ner`: the model's own entity spans for each input line,
/// before the clean-up `run` applies (edge punctuation, lower-case spans)
/// and before actor linking. Returns whether every line was read.
pub fn tag(args: TagArgs) -> anyhow::Result<bool> {
    use std::io::BufRead;
    stancemine::model::set_int8_for("ner", args.int8);
    let annotator = stancemine::ner::annotate::NerAnnotator::open(&args.model, args.batch_size)
        .with_context(|| format!("cannot open {}", args.model.display()))?;
    let input = std::fs::File::open(&args.input)
        .with_context(|| format!("cannot open {}", args.input.display()))?;
    let jsonl = args.input.extension().is_some_and(|e| e == "jsonl");
    let mut out: Box<dyn Write> = match &args.out {
        Some(p) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(std::io::BufWriter::new(std::io::stdout().lock())),
    };
    let mut all_read = true;
    let mut chunk: Vec<(usize, String)> = Vec::new();
    let flush = |chunk: &mut Vec<(usize, String)>, out: &mut dyn Write| -> anyhow::Result<()> {
        let texts: Vec<&str> = chunk.iter().map(|(_, t)| t.as_str()).collect();
        let spans = if args.by_piece {
            annotator.model_spans_by_piece(&texts)?
        } else {
            annotator.model_spans(&texts)?
        };
        for ((line, text), spans) in chunk.iter().zip(spans) {
            let chars: Vec<char> = text.chars().collect();
            let entities: Vec<serde_json::Value> = spans
                .iter()
                .map(|s| {
                    serde_json::json!({
                        "type": s.kind,
                        "start": s.start,
                        "end": s.end,
                        "text": chars[s.start..s.end].iter().collect::<String>(),
                        "score": s.score(),
                    })
                })
                .collect();
            let record = serde_json::json!({"line": line, "text": text, "entities": entities});
            writeln!(out, "{record}")?;
        }
        chunk.clear();
        Ok(())
    };
    for (i, line) in std::io::BufReader::new(input).split(b'\n').enumerate() {
        let n = i + 1;
        let where_ = || format!("{}:{n}", args.input.display());
        let bytes = line.with_context(|| format!("cannot read {}", where_()))?;
        let text = match String::from_utf8(bytes) {
            Ok(t) => t,
            Err(_) => {
                tracing::error!("{}: not UTF-8, skipped", where_());
                all_read = false;
                continue;
            }
        };
        let text = text.trim_end_matches('\r');
        let text = if jsonl {
            if text.trim().is_empty() {
                continue;
            }
            match serde_json::from_str::<serde_json::Value>(text) {
                Ok(v) => match v.get("text").and_then(|t| t.as_str()) {
                    Some(t) => t.to_string(),
                    None => {
                        tracing::error!("{}: no \"text\" string, skipped", where_());
                        all_read = false;
                        continue;
                    }
                },
                Err(e) => {
                    tracing::error!("{}: not JSON ({e}), skipped", where_());
                    all_read = false;
                    continue;
                }
            }
        } else {
            text.to_string()
        };
        if text.trim().is_empty() {
            continue;
        }
        chunk.push((n, text));
        if chunk.len() >= TAG_CHUNK {
            flush(&mut chunk, &mut *out)?;
        }
    }
    flush(&mut chunk, &mut *out)?;
    out.flush()?;
    Ok(all_read)
}
