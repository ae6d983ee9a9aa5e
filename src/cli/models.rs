//! `stancemine models …`: `export` writes a trained model as a Hugging Face
//! model directory (config.json with id2label, tokenizer files, full
//! model.safetensors) that `transformers` loads with
//! `BertForSequenceClassification` (stance) or `BertForTokenClassification`
//! (NER) `.from_pretrained`; `list`, `promote` and `rollback` manage the
//! registry of stance model versions and the active model, with the
//! regression guard.

use anyhow::{bail, Context};
use stancemine::model::backbone_dir;
use stancemine::model::card::ModelCard;
use stancemine::model::registry::Registry;
use stancemine::model::sha256_file;
use stancemine::ner::model::NerModel;
use stancemine::stance::model::StanceModel;
use stancemine::stance::targets::Targets;
use std::path::{Path, PathBuf};
use tch::{nn, Device, Kind, Tensor};

#[derive(clap::Args)]
pub struct ExportArgs {
    /// The stancemine model directory (head + card).
    pub model: PathBuf,
    /// Output directory (replaced atomically if it exists).
    #[arg(long)]
    pub out: PathBuf,
}

pub fn export(args: ExportArgs) -> anyhow::Result<()> {
    let card = ModelCard::read(&args.model)?;
    let load = |dir: &Path| -> anyhow::Result<(nn::VarStore, String)> {
        Ok(match card.task.as_str() {
            "stance" => {
                let m = StanceModel::load(dir)?;
                let v = m.version().to_string();
                (m.vs, v)
            }
            "ner" => {
                let m = NerModel::load(dir)?;
                let v = m.version().to_string();
                (m.vs, v)
            }
            other => bail!("{}: cannot export a {other} model", dir.display()),
        })
    };
    let (vs, version) =
        load(&args.model).with_context(|| format!("cannot load {}", args.model.display()))?;
    let mut exported = card.clone();
    exported.notes.push(format!(
        "Hugging Face export of {} (full weights: the backbone plus the trained head).",
        args.model.display()
    ));
    let backbone = backbone_dir(&args.model);
    stancemine::model::write_dir(&args.out, exported, |dir| {
        let mut tensors: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .map(|(n, t)| (n, t.detach().to_kind(Kind::Float).to_device(Device::Cpu)))
            .collect();
        tensors.sort_by(|a, b| a.0.cmp(&b.0));
        let io = |path: PathBuf| move |source| stancemine::model::ModelError::Io { path, source };
        write_hf_safetensors(&tensors, &dir.join("model.safetensors")).map_err(|e| {
            stancemine::model::ModelError::Invalid {
                path: dir.join("model.safetensors"),
                message: e.to_string(),
            }
        })?;
        std::fs::copy(args.model.join("config.json"), dir.join("config.json"))
            .map_err(io(args.model.join("config.json")))?;
        for f in [
            "tokenizer.json",
            "vocab.txt",
            "tokenizer_config.json",
            "special_tokens_map.json",
        ] {
            let src = backbone.join(f);
            if src.is_file() {
                std::fs::copy(&src, dir.join(f)).map_err(io(src.clone()))?;
            }
        }
        Ok(())
    })?;
    // The export must load as it is, tokenizer and all.
    load(&args.out).context("the exported directory does not load")?;
    tracing::info!(
        "exported {} ({}) to {}",
        args.model.display(),
        version,
        args.out.display()
    );
    Ok(())
}

/// Write f32 tensors as safetensors with the `{"format": "pt"}` metadata
/// that `transformers` requires (tch writes none).
fn write_hf_safetensors(tensors: &[(String, Tensor)], path: &Path) -> anyhow::Result<()> {
    let mut buffers: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::with_capacity(tensors.len());
    for (name, t) in tensors {
        let shape: Vec<usize> = t.size().iter().map(|&d| d as usize).collect();
        let values = Vec::<f32>::try_from(t.flatten(0, -1))?;
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        buffers.push((name.clone(), shape, bytes));
    }
    let views = buffers
        .iter()
        .map(|(n, shape, bytes)| {
            safetensors::tensor::TensorView::new(safetensors::Dtype::F32, shape.clone(), bytes)
                .map(|v| (n.as_str(), v))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let metadata = Some(std::collections::HashMap::from([(
        "format".to_string(),
        "pt".to_string(),
    )]));
    safetensors::serialize_to_file(views, &metadata, path)?;
    Ok(())
}

#[derive(clap::Args)]
pub struct RegistryArgs {
    /// The models folder: the active model is MODELS_DIR/stance, versions
    /// are kept in MODELS_DIR/registry/stance/.
    #[arg(long, default_value = "models")]
    pub models_dir: PathBuf,
}

#[derive(clap::Args)]
pub struct ListArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The regression set whose scores are shown (from the model cards).
    #[arg(long, default_value = "data/stance/test.jsonl")]
    pub regression: PathBuf,
    /// JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
pub struct PromoteArgs {
    /// A registered version name, or a model directory (registered first).
    pub model: String,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The regression set both models are compared on.
    #[arg(long, default_value = "data/stance/test.jsonl")]
    pub regression: PathBuf,
    /// Largest allowed drop in regression macro-F1, in points (0.01 = 1 point).
    #[arg(long, default_value_t = 0.01)]
    pub max_drop: f64,
    /// Promote even when the regression score dropped by more than --max-drop.
    #[arg(long)]
    pub force: bool,
    #[arg(long, default_value = "targets.toml")]
    pub targets: PathBuf,
}

#[derive(clap::Args)]
pub struct RollbackArgs {
    #[command(flatten)]
    pub registry: RegistryArgs,
}

fn registry(args: &RegistryArgs) -> Registry {
    Registry::new(&args.models_dir, "stance")
}

pub fn list(args: ListArgs) -> anyhow::Result<()> {
    let reg = registry(&args.registry);
    let sha = sha256_file(&args.regression).ok();
    let entries = reg.list()?;
    if entries.is_empty() {
        bail!(
            "no stance model in {} (expected {})",
            args.registry.models_dir.display(),
            reg.active_path().display()
        );
    }
    let score = |c: &ModelCard| sha.as_deref().and_then(|s| c.macro_f1_on(s));
    if args.json {
        let v: Vec<serde_json::Value> = entries
            .iter()
            .map(|e| {
                serde_json::json!({
                    "version": e.version,
                    "active": e.active,
                    "registered": e.registered,
                    "dir": e.dir.display().to_string(),
                    "created": e.card.created,
                    "parent": e.card.parent,
                    "regression_macro_f1": score(&e.card),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!(
        "  {:<32} {:<21} {:>14}  {:<32} dir",
        "version", "created", "regression F1", "trained from"
    );
    for e in &entries {
        println!(
            "{} {:<32} {:<21} {:>14}  {:<32} {}",
            if e.active { "*" } else { " " },
            e.version,
            e.card.created,
            score(&e.card).map_or("–".into(), |f| format!("{f:.3}")),
            e.card.parent.as_deref().unwrap_or("–"),
            e.dir.display()
        );
    }
    println!(
        "* active ({}). Regression F1: macro-F1 on {} as recorded in the model card (– not recorded).",
        reg.active_path().display(),
        args.regression.display()
    );
    Ok(())
}

/// A model's regression macro-F1: from its card, from a child's card that
/// measured it as "before", or measured now.
fn regression_score(
    dir: &Path,
    card: &ModelCard,
    sha: &str,
    other: &ModelCard,
    args: &PromoteArgs,
) -> anyhow::Result<(f64, &'static str)> {
    if let Some(f) = card.macro_f1_on(sha) {
        return Ok((f, "model card"));
    }
    if other.parent.as_deref() == Some(card.version.as_str()) {
        if let Some(f) = other.parent_macro_f1_on(sha) {
            return Ok((f, "measured when its successor was trained"));
        }
    }
    tracing::info!("scoring {} on {}", card.version, args.regression.display());
    let targets = Targets::load(&args.targets)?;
    let data = stancemine::stance::data::read(&args.regression, true)?;
    let m = StanceModel::load(dir).with_context(|| format!("cannot load {}", dir.display()))?;
    let prep = stancemine::stance::train::prepare(&m, &data, &targets);
    Ok((
        stancemine::stance::train::evaluate(&m, &prep, 64)
            .0
            .macro_f1,
        "measured now",
    ))
}

pub fn promote(args: PromoteArgs) -> anyhow::Result<()> {
    let reg = registry(&args.registry);
    let candidate_dir = {
        let p = PathBuf::from(&args.model);
        if p.join("model-card.json").is_file() {
            p
        } else if let Some(d) = reg.find(&args.model)? {
            d
        } else {
            bail!(
                "{:?} is neither a model directory nor a version in {} (see `stancemine models list`)",
                args.model,
                reg.versions_dir().display()
            );
        }
    };
    let card = ModelCard::read(&candidate_dir)?;
    // Loading checks the files against the card, the task, the labels and
    // the backbone: a model that cannot run is never made active.
    StanceModel::load(&candidate_dir)
        .with_context(|| format!("cannot promote {}", candidate_dir.display()))?;
    let active_dir = reg.active_path();
    let reason = if active_dir.join("model-card.json").is_file() {
        let active = ModelCard::read(&active_dir)?;
        if active.version == card.version {
            bail!("{} is already the active model", card.version);
        }
        let sha = sha256_file(&args.regression)?;
        let (new, new_src) = regression_score(&candidate_dir, &card, &sha, &active, &args)?;
        let (old, old_src) = regression_score(&active_dir, &active, &sha, &card, &args)?;
        let drop = old - new;
        let line = format!(
            "regression macro-F1 on {}: {} {old:.3} ({old_src}) → {} {new:.3} ({new_src}), change {:+.1} points",
            args.regression.display(),
            active.version,
            card.version,
            (new - old) * 100.0
        );
        println!("{line}");
        if drop > args.max_drop + 1e-9 {
            if !args.force {
                bail!(
                    "refused: {} scores {:.1} points below the active model on the regression set (allowed: {:.1}); check its training data, or use --force",
                    card.version,
                    drop * 100.0,
                    args.max_drop * 100.0
                );
            }
            tracing::warn!(
                "promoting despite a drop of {:.1} points (--force)",
                drop * 100.0
            );
        }
        Some(line)
    } else {
        None
    };
    let version = reg.register(&candidate_dir)?;
    let s = reg.activate(&version, args.force, reason)?;
    println!(
        "active stance model: {} (was {}); `stancemine run` recomputes stance with it, `stancemine models rollback` goes back",
        s.to,
        s.from.as_deref().unwrap_or("none")
    );
    Ok(())
}

pub fn rollback(args: RollbackArgs) -> anyhow::Result<()> {
    let s = registry(&args.registry).rollback()?;
    println!(
        "active stance model: {} (was {})",
        s.to,
        s.from.as_deref().unwrap_or("none")
    );
    Ok(())
}
