//! `stancemine train stance --from DIR --new FILE…`: continue training the
//! current model on new annotations mixed with replayed base data, and
//! compare the parent and the new model on the regression set and on a
//! held-out part of the new annotations.

use super::stance::{data_file, EpochProgress, TrainArgs};
use anyhow::{bail, Context};
use stancemine::metrics::Report;
use stancemine::model::card::{Compared, ModelCard, REGRESSION};
use stancemine::model::sha256_file;
use stancemine::stance::annotations;
use stancemine::stance::data::{self, LabelledSentence};
use stancemine::stance::model::StanceModel;
use stancemine::stance::retrain::{self, RetrainConfig};
use stancemine::stance::targets::Targets;
use stancemine::stance::train as stance_train;
use stancemine::train::TrainConfig;
use std::path::PathBuf;

/// Defaults for continued training: fewer epochs and a lower learning rate
/// than a fresh run, since the model starts trained.
pub const EPOCHS: usize = 3;
pub const LEARNING_RATE: f64 = 5e-5;

/// A set scored before and after.
struct Scored {
    name: &'static str,
    label: &'static str,
    path: String,
    sha256: String,
    examples: usize,
    before: serde_json::Value,
    after: Option<serde_json::Value>,
}

pub fn train(args: TrainArgs, from: PathBuf) -> anyhow::Result<()> {
    if args.out.exists() {
        bail!(
            "--out {} already exists: choose a new directory",
            args.out.display()
        );
    }
    if args.new.is_empty() {
        bail!(
            "--from needs the new annotations: --new FILE… (from `stancemine annotate`, labelled)"
        );
    }
    if !(0.0..1.0).contains(&args.holdout) {
        bail!("--holdout must be in [0, 1), got {}", args.holdout);
    }
    let targets = Targets::load(&args.targets)?;

    // Cheap checks first: every input file, then the model directory.
    let imported = annotations::read_all(&args.new, &targets)?;
    let mut files = Vec::new();
    let mut new = Vec::new();
    for (p, imp) in args.new.iter().zip(imported) {
        tracing::info!(
            "{}: {} labelled sentence(s), {} unlabelled line(s) skipped",
            p.display(),
            imp.labelled.len(),
            imp.unlabelled
        );
        files.push(data_file(p, imp.labelled.len(), "new annotations")?);
        new.extend(imp.labelled);
    }
    let base_paths = if args.data.is_empty() {
        vec![PathBuf::from(super::stance::SHIPPED_TRAIN)]
    } else {
        args.data.clone()
    };
    let mut base = Vec::new();
    let mut base_files = Vec::new();
    for p in &base_paths {
        let d = data::read(p, true).with_context(|| format!("base data {}", p.display()))?;
        super::stance::check_targets(&d, &targets, p)?;
        base_files.push((p.clone(), d.len()));
        base.extend(d);
    }
    let regression = data::read(&args.regression, true)
        .with_context(|| format!("regression set {}", args.regression.display()))?;
    let regression_sha = sha256_file(&args.regression)?;
    let parent_card = ModelCard::read(&from)
        .with_context(|| format!("--from {} is not a model directory", from.display()))?;
    let mut m = StanceModel::load(&from)
        .with_context(|| format!("cannot continue training from {}", from.display()))?;
    let parent_version = m.version().to_string();
    let parent_first = m.config.stancemine.first_trained_layer;
    let first = args.first_trained_layer.unwrap_or(parent_first);
    if first < parent_first {
        bail!(
            "--first-trained-layer {first}: {} only has its own weights from layer {parent_first} up (the rest is the backbone's); use {parent_first} or more",
            from.display()
        );
    }
    if let Some(l) = args.max_length {
        m.set_max_length(l)?;
    }

    let cfg = RetrainConfig {
        holdout: args.holdout,
        replay: args.replay,
        seed: args.seed,
    };
    let d = retrain::assemble(&new, &base, &regression, &cfg)?;
    for n in &d.notes {
        tracing::warn!("{n}");
    }
    for (p, n) in &base_files {
        let mut f = data_file(p, *n, "replay base")?;
        f.role = format!(
            "replay base ({} of {n} sentences replayed in all)",
            d.replayed
        );
        files.push(f);
    }
    let holdout_sha = retrain::sentences_sha256(&d.holdout);

    // Before: the parent's scores (the regression score from its card when
    // it was measured on the same file, else measured now).
    let mut sets = vec![Scored {
        name: REGRESSION,
        label: "regression set",
        path: args.regression.display().to_string(),
        sha256: regression_sha.clone(),
        examples: regression.len(),
        before: match parent_card.report_on(&regression_sha) {
            Some(r) => {
                tracing::info!("regression score of {parent_version}: from its model card");
                r.clone()
            }
            None => {
                tracing::info!("scoring {parent_version} on the regression set");
                serde_json::to_value(score(&m, &regression, &targets))?
            }
        },
        after: None,
    }];
    if !d.holdout.is_empty() {
        sets.push(Scored {
            name: "new-holdout",
            label: "new, held out",
            path: "held-out part of --new".into(),
            sha256: holdout_sha,
            examples: d.holdout.len(),
            before: serde_json::to_value(score(&m, &d.holdout, &targets))?,
            after: None,
        });
    } else {
        tracing::warn!(
            "no held-out new sentences (--holdout {}): only the regression set is compared",
            args.holdout
        );
    }

    let version = args
        .version
        .clone()
        .unwrap_or_else(|| super::stance::default_version(args.seed));
    m.config.stancemine.version = version.clone();
    let tc = TrainConfig {
        epochs: args.epochs.unwrap_or(EPOCHS),
        batch_size: args.batch_size,
        learning_rate: args.lr.unwrap_or(LEARNING_RATE),
        seed: args.seed,
        first_trained_layer: first,
        ..Default::default()
    };
    tracing::info!(
        "training {version} from {parent_version}: {} new + {} replayed sentences ({} new held out), {} epochs, layers {first}.. trained",
        d.new_train,
        d.replayed,
        d.holdout.len(),
        tc.epochs
    );
    let started = std::time::Instant::now();
    let prepared = stance_train::prepare(&m, &d.train, &targets);
    let mut progress = EpochProgress::new(tc.epochs);
    let outcome = stance_train::train(&mut m, &prepared, None, &tc, &mut progress)?;
    let seconds = started.elapsed().as_secs_f64();
    // Score exactly what will be saved.
    stancemine::model::round_to_saved_precision(&m.vs, m.config.stancemine.first_trained_layer);

    for s in sets.iter_mut() {
        let data = if s.name == REGRESSION {
            &regression
        } else {
            &d.holdout
        };
        s.after = Some(serde_json::to_value(score(&m, data, &targets))?);
    }
    print_comparison(&sets, &parent_version, &version);

    let mut metrics = std::collections::BTreeMap::new();
    let mut comparison = Vec::new();
    for s in &sets {
        let after = s.after.clone().unwrap_or_default();
        metrics.insert(s.name.to_string(), after.clone());
        comparison.push(Compared {
            name: s.name.into(),
            path: s.path.clone(),
            sha256: s.sha256.clone(),
            examples: s.examples,
            before: s.before.clone(),
            after,
        });
    }
    files.push(data_file(&args.regression, regression.len(), REGRESSION)?);
    let mut notes = vec![format!(
        "Continued training of {parent_version} on {} new sentence(s) with {} replayed base sentence(s); {} new sentence(s) held out ({:.0}%, whole articles when there are four or more).",
        d.new_train,
        d.replayed,
        d.holdout.len(),
        args.holdout * 100.0
    )];
    if let Some(t) = m.config.stancemine.temperature {
        notes.push(format!(
            "Temperature {t:.2} kept from {parent_version} (continued training has no dev set to refit it on)."
        ));
    }
    notes.extend(d.notes.iter().cloned());
    notes.extend(parent_card.notes.iter().cloned());
    let config = serde_json::json!({
        "train": tc,
        "max_length": m.config.stancemine.max_length,
        "from": from.display().to_string(),
        "new_train_sentences": d.new_train,
        "replayed_sentences": d.replayed,
        "holdout": args.holdout,
        "targets": targets.texts(),
        "epoch_losses": outcome.epoch_losses,
        "class_weights": outcome.class_weights,
        "train_seconds": seconds,
    });
    let card = ModelCard {
        // The parent's description of its backbone, in case it was older.
        backbone: parent_card.backbone.clone(),
        data: files,
        metrics,
        notes,
        parent: Some(parent_version),
        comparison,
        ..ModelCard::new(
            &parent_card.name,
            &version,
            "stance",
            tc.seed,
            &m.config.stancemine.backbone_sha256,
            config,
        )
    };
    stancemine::model::write_dir(&args.out, card, |dir| m.save(dir))?;
    tracing::info!(
        "model {version} written to {} (training {seconds:.0}s); promote it with `stancemine models promote {}`",
        args.out.display(),
        args.out.display()
    );
    Ok(())
}

fn score(m: &StanceModel, data: &[LabelledSentence], targets: &Targets) -> Report {
    stance_train::evaluate(m, &stance_train::prepare(m, data, targets), 64).0
}

/// The before/after table on stdout.
fn print_comparison(sets: &[Scored], before: &str, after: &str) {
    let f = |v: &serde_json::Value, k: &str| v.get(k).and_then(|x| x.as_f64()).unwrap_or(f64::NAN);
    println!("macro-F1 (accuracy)  before = {before}  after = {after}");
    println!(
        "{:<16} {:>6}  {:>15}  {:>15}  {:>7}",
        "set", "n", "before", "after", "change"
    );
    for s in sets {
        let after = s.after.clone().unwrap_or_default();
        let (b, a) = (f(&s.before, "macro_f1"), f(&after, "macro_f1"));
        println!(
            "{:<16} {:>6}  {:>6.3} ({:>6.3})  {:>6.3} ({:>6.3})  {:>+7.3}",
            s.label,
            s.examples,
            b,
            f(&s.before, "accuracy"),
            a,
            f(&after, "accuracy"),
            a - b
        );
    }
}
