//! Models: the one place that knows how a model directory is laid out and
//! how weights are loaded.
//!
//! A stancemine model directory holds
//! - `config.json` — the Hugging Face BERT config with `id2label`, plus a
//!   `stancemine` block (task, which layers were trained, max length);
//! - either `head.safetensors` — only the trained tensors (top layers,
//!   pooler, classifier), with the frozen rest read from the backbone in
//!   `models/backbone/` — or a full `model.safetensors` (Hugging Face layout);
//! - `model-card.json` / `model-card.md` — data, metrics, seed, command, and
//!   the sha256 of every file, checked on load.

pub mod card;
pub mod encoder;
pub mod registry;

use rust_bert::bert::BertConfig;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tch::{nn, Device, Tensor};

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{}: {message}", path.display())]
    Invalid { path: PathBuf, message: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Torch {
        path: PathBuf,
        #[source]
        source: tch::TchError,
    },
    #[error("{}: {source}", path.display())]
    Tokenizer {
        path: PathBuf,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

pub type Result<T> = std::result::Result<T, ModelError>;

pub(crate) fn invalid(path: &Path, message: impl Into<String>) -> ModelError {
    ModelError::Invalid {
        path: path.to_path_buf(),
        message: message.into(),
    }
}

/// stancemine's own block in `config.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stancemine {
    /// `stance` or `ner`.
    pub task: String,
    /// Layers below this index are the backbone's, unchanged.
    pub first_trained_layer: usize,
    /// Longest input in tokens.
    pub max_length: usize,
    /// sha256 of the backbone's `model.safetensors` the head was trained on.
    pub backbone_sha256: String,
    /// Version name (e.g. `stance-2026-11-26-a`), recorded with every prediction.
    pub version: String,
    /// Stance only: logits are divided by this before the softmax, so the
    /// probabilities are calibrated (fitted on dev data after training).
    /// Absent in models trained without dev data and in NER models.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
}

/// `config.json`: the BERT config plus labels and stancemine's block.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ModelConfig {
    #[serde(flatten)]
    pub bert: serde_json::Map<String, serde_json::Value>,
    pub id2label: BTreeMap<String, String>,
    pub label2id: BTreeMap<String, i64>,
    pub stancemine: Stancemine,
}

impl ModelConfig {
    /// Labels in id order.
    pub fn labels(&self) -> Vec<String> {
        let mut v: Vec<(i64, String)> = self
            .id2label
            .iter()
            .filter_map(|(k, v)| k.parse().ok().map(|k| (k, v.clone())))
            .collect();
        v.sort();
        v.into_iter().map(|(_, l)| l).collect()
    }

    pub fn bert_config(&self, path: &Path) -> Result<BertConfig> {
        serde_json::from_value(serde_json::Value::Object(self.bert.clone()))
            .map_err(|e| invalid(path, format!("not a BERT config: {e}")))
    }

    pub fn new(
        backbone: &serde_json::Map<String, serde_json::Value>,
        labels: &[&str],
        stancemine: Stancemine,
    ) -> ModelConfig {
        let mut bert = backbone.clone();
        for k in [
            "id2label",
            "label2id",
            "stancemine",
            "architectures",
            "_name_or_path",
        ] {
            bert.remove(k);
        }
        let arch = if stancemine.task == "ner" {
            "BertForTokenClassification"
        } else {
            "BertForSequenceClassification"
        };
        bert.insert("architectures".into(), serde_json::json!([arch]));
        ModelConfig {
            bert,
            id2label: labels
                .iter()
                .enumerate()
                .map(|(i, l)| (i.to_string(), l.to_string()))
                .collect(),
            label2id: labels
                .iter()
                .enumerate()
                .map(|(i, l)| (l.to_string(), i as i64))
                .collect(),
            stancemine,
        }
    }
}

/// The backbone directory: `STANCEMINE_BACKBONE`, else a `backbone/` beside
/// the model directory or up to three levels above it (`models/backbone`
/// for `models/stance`), else `models/backbone` under the working directory.
pub fn backbone_dir(model_dir: &Path) -> PathBuf {
    if let Some(p) = std::env::var_os("STANCEMINE_BACKBONE") {
        return PathBuf::from(p);
    }
    let parent = model_dir.parent().unwrap_or(Path::new("."));
    // A versioned model lives one level deeper: models/stance/versions/x.
    for dir in parent.ancestors().take(4) {
        let b = dir.join("backbone");
        if b.join("model.safetensors").is_file() {
            return b;
        }
    }
    let cwd = PathBuf::from("models/backbone");
    if cwd.join("model.safetensors").is_file() {
        return cwd;
    }
    parent.join("backbone")
}

pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    let raw = std::fs::read_to_string(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    serde_json::from_str(&raw).map_err(|e| invalid(path, format!("invalid JSON: {e}")))
}

pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut h = Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(|source| ModelError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(hex::encode(h.finalize()))
}

/// Load the WordPiece tokenizer with its built-in padding and truncation
/// turned off (stancemine pads per batch and truncates per task).
pub fn load_tokenizer(dir: &Path) -> Result<tokenizers::Tokenizer> {
    let path = dir.join("tokenizer.json");
    let mut t =
        tokenizers::Tokenizer::from_file(&path).map_err(|source| ModelError::Tokenizer {
            path: path.clone(),
            source,
        })?;
    t.with_padding(None);
    t.with_truncation(None)
        .map_err(|source| ModelError::Tokenizer { path, source })?;
    Ok(t)
}

/// Copy tensors from a safetensors file into the variables of `vs` whose
/// names are `prefix + name`. Returns the names of the variables set.
pub fn load_into(vs: &nn::VarStore, file: &Path, prefix: &str) -> Result<Vec<String>> {
    let tensors = Tensor::read_safetensors(file).map_err(|source| ModelError::Torch {
        path: file.to_path_buf(),
        source,
    })?;
    let mut vars = vs.variables();
    let mut set = Vec::new();
    tch::no_grad(|| -> Result<()> {
        for (name, t) in tensors {
            let full = format!("{prefix}{name}");
            if let Some(var) = vars.get_mut(&full) {
                if var.size() != t.size() {
                    return Err(invalid(
                        file,
                        format!(
                            "{full}: shape {:?} in the file, {:?} in the model",
                            t.size(),
                            var.size()
                        ),
                    ));
                }
                var.copy_(&t.to_kind(var.kind()));
                set.push(full);
            }
        }
        Ok(())
    })?;
    Ok(set)
}

/// Fill `vs` from a model directory: the full `model.safetensors` if there
/// is one, else the backbone plus `head.safetensors`. Every variable must be
/// set, and a head trained on another backbone is refused.
pub fn load_weights(vs: &nn::VarStore, dir: &Path, config: &ModelConfig) -> Result<()> {
    let full = dir.join("model.safetensors");
    let mut set: Vec<String> = if full.is_file() {
        load_into(vs, &full, "")?
    } else {
        let head = dir.join("head.safetensors");
        if !head.is_file() {
            return Err(invalid(
                dir,
                "neither model.safetensors nor head.safetensors found",
            ));
        }
        let backbone = backbone_dir(dir);
        let weights = backbone.join("model.safetensors");
        if !weights.is_file() {
            return Err(invalid(
                &backbone,
                "backbone weights missing: run `make setup` (scripts/setup) to fetch all-MiniLM-L6-v2",
            ));
        }
        let sha = backbone_sha256(&backbone)?;
        if sha != config.stancemine.backbone_sha256 {
            return Err(invalid(
                dir,
                format!(
                    "trained on backbone {} but {} is {sha}: this model belongs to another backbone",
                    short(&config.stancemine.backbone_sha256),
                    backbone.display()
                ),
            ));
        }
        let mut s = load_into(vs, &weights, "bert.")?;
        s.extend(load_into(vs, &head, "")?);
        s
    };
    set.sort();
    set.dedup();
    let missing: Vec<String> = vs
        .variables()
        .keys()
        .filter(|k| set.binary_search(k).is_err())
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(invalid(
            dir,
            format!(
                "weights missing for {} variable(s), e.g. {}",
                missing.len(),
                missing[0]
            ),
        ));
    }
    Ok(())
}

/// The backbone's sha256, cached beside it (hashing 90 MB takes ~0.3 s).
pub fn backbone_sha256(backbone: &Path) -> Result<String> {
    let weights = backbone.join("model.safetensors");
    let cache = backbone.join(".sha256");
    let meta = std::fs::metadata(&weights).map_err(|source| ModelError::Io {
        path: weights.clone(),
        source,
    })?;
    let stamp = format!("{}:{:?}", meta.len(), meta.modified().ok());
    if let Ok(c) = std::fs::read_to_string(&cache) {
        if let Some((s, h)) = c.trim().split_once(' ') {
            if s == stamp {
                return Ok(h.to_string());
            }
        }
    }
    let h = sha256_file(&weights)?;
    // A read-only backbone folder only costs a re-hash next time.
    let _ = std::fs::write(&cache, format!("{stamp} {h}\n"));
    Ok(h)
}

fn short(s: &str) -> &str {
    &s[..s.len().min(12)]
}

/// CPU unless a CUDA device is there (users with the CUDA build of torch).
pub fn device() -> Device {
    Device::cuda_if_available()
}

/// Write `config.json` and `head.safetensors`: the trained tensors only,
/// stored as f16 to keep shipped models small (loaded back as f32).
pub fn save_head(vs: &nn::VarStore, config: &ModelConfig, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| ModelError::Io {
        path: dir.to_path_buf(),
        source,
    })?;
    let cfg = serde_json::to_string_pretty(config).expect("config serialises");
    let cfg_path = dir.join("config.json");
    std::fs::write(&cfg_path, cfg + "\n").map_err(|source| ModelError::Io {
        path: cfg_path,
        source,
    })?;
    let tensors: Vec<(String, Tensor)> =
        crate::train::trained_tensors(vs, config.stancemine.first_trained_layer)
            .into_iter()
            .map(|(n, t)| {
                (
                    n,
                    t.detach().to_kind(tch::Kind::Half).to_device(Device::Cpu),
                )
            })
            .collect();
    let path = dir.join("head.safetensors");
    Tensor::write_safetensors(&tensors, &path).map_err(|source| ModelError::Torch { path, source })
}

/// Round the trained tensors to the precision `save_head` stores (f16), so
/// scores measured in memory are the scores of the saved model.
pub fn round_to_saved_precision(vs: &nn::VarStore, first_trained_layer: usize) {
    tch::no_grad(|| {
        for (_, mut t) in crate::train::trained_tensors(vs, first_trained_layer) {
            let r = t.to_kind(tch::Kind::Half).to_kind(t.kind());
            t.copy_(&r);
        }
    });
}

/// A fresh model config from the backbone's `config.json`.
pub fn new_config(
    backbone: &Path,
    labels: &[&str],
    task: &str,
    first_trained_layer: usize,
    max_length: usize,
    version: &str,
) -> Result<ModelConfig> {
    let raw: serde_json::Map<String, serde_json::Value> = read_json(&backbone.join("config.json"))?;
    Ok(ModelConfig::new(
        &raw,
        labels,
        Stancemine {
            task: task.into(),
            first_trained_layer,
            max_length,
            backbone_sha256: backbone_sha256(backbone)?,
            version: version.into(),
            temperature: None,
        },
    ))
}

/// Open a trained model directory: check its files against the model
/// card, read `config.json`, refuse another task or label set, and say
/// where the tokenizer is (the directory itself, or the backbone).
pub fn open_dir(dir: &Path, task: &str, labels: &[&str]) -> Result<(ModelConfig, PathBuf)> {
    card::ModelCard::read(dir)?.verify(dir)?;
    let config: ModelConfig = read_json(&dir.join("config.json"))?;
    if config.stancemine.task != task {
        return Err(invalid(
            dir,
            format!("a {} model, not a {task} model", config.stancemine.task),
        ));
    }
    if config.labels() != labels {
        return Err(invalid(
            dir,
            format!("labels {:?}, expected {labels:?}", config.labels()),
        ));
    }
    let tokenizer_dir = if dir.join("tokenizer.json").is_file() {
        dir.to_path_buf()
    } else {
        backbone_dir(dir)
    };
    Ok((config, tokenizer_dir))
}

/// Write a model directory atomically: `fill` writes the model files into a
/// temporary sibling of `out`, then the card is written (hashing them) and
/// the folder renamed into place, so a failure leaves nothing at `out`.
pub fn write_dir(
    out: &Path,
    card: card::ModelCard,
    fill: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ModelError::Io { path, source }
    };
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let tmp = tempfile::Builder::new()
        .prefix(".stancemine-model-")
        .tempdir_in(parent)
        .map_err(io(parent))?;
    fill(tmp.path())?;
    card.write(tmp.path())?;
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(io(out))?;
    }
    let kept = tmp.keep();
    std::fs::rename(&kept, out).map_err(io(out))
}

/// Which tasks' models (`stance`, `ner`) loaded from now on run their
/// linears in int8 (`--int8`). A process setting, like libtorch's thread
/// count: set once by the command line before any model is loaded.
static INT8: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());

pub fn set_int8<S: AsRef<str>>(tasks: &[S]) {
    let mut t = INT8.lock().unwrap_or_else(|e| e.into_inner());
    *t = tasks.iter().map(|s| s.as_ref().to_string()).collect();
}

/// `--int8` of a command that loads one model: that task's, or none.
pub fn set_int8_for(task: &str, on: bool) {
    let tasks: &[&str] = if on { &[task] } else { &[] };
    set_int8(tasks);
}

/// What int8 inference quantises for a task's models, or None when they
/// run in f32. Token labels are the more sensitive: with every linear in
/// int8 the NER model lost 0.9 points of CrossNER span F1, with the
/// down-projections kept f32 0.3 (its model card); the stance model holds
/// its accuracy with all of them in int8.
pub fn int8_scope(task: &str) -> Option<encoder::Int8Scope> {
    let on = INT8
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .any(|t| t == task);
    on.then(|| {
        if task == "ner" {
            encoder::Int8Scope::KeepDownF32
        } else {
            encoder::Int8Scope::All
        }
    })
}

/// A model version as outputs and the store record it: int8 inference
/// gives (slightly) different results, so it is a different version, and
/// so is each choice of what is quantised.
pub fn run_version(config: &ModelConfig) -> String {
    let v = &config.stancemine.version;
    match int8_scope(&config.stancemine.task) {
        Some(scope) => format!("{v}{}", scope.version_suffix()),
        None => v.to_string(),
    }
}

/// The fused inference forward over a loaded model's weights (int8 as
/// [`int8_scope`] says); None (with a warning) when the config has no fused
/// form, and rust-bert's is used.
pub fn fused_encoder(
    vs: &nn::VarStore,
    config: &ModelConfig,
    dir: &Path,
) -> Option<encoder::FusedEncoder> {
    let built = config
        .bert_config(dir)
        .map_err(|e| e.to_string())
        .and_then(|bert| {
            encoder::FusedEncoder::from_vars(vs, "bert.", &bert).map_err(|e| e.to_string())
        });
    match built {
        Ok(mut f) => {
            if let Some(scope) = int8_scope(&config.stancemine.task) {
                f.quantize_int8(scope);
            }
            Some(f)
        }
        Err(e) => {
            tracing::warn!("{}: slower forward used: {e}", dir.display());
            None
        }
    }
}
