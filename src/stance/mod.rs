//! Stance: for each sentence and each configured target, one of favor /
//! against / neutral / none with probabilities.
//!
//! - [`targets`] reads `targets.toml`;
//! - [`data`] reads labelled sentences (JSONL);
//! - [`model`] is the classifier (BERT pair classification);
//! - [`train`] trains it and scores it, and [`calibrate`] fits the
//!   temperature that makes its probabilities honest;
//! - [`active`] picks the sentences most worth labelling, [`annotations`]
//!   writes them for people and reads their labels back, and [`retrain`]
//!   assembles the data of a continued training run.

pub mod active;
pub mod annotations;
pub mod calibrate;
pub mod data;
pub mod model;
pub mod retrain;
pub mod targets;
pub mod train;

use crate::article::{Sentence, SentenceStance};
use data::LABELS;
use model::StanceModel;
use std::cell::OnceCell;
use std::path::{Path, PathBuf};
use targets::Targets;

/// The stance stage of a run: every sentence, every configured target.
/// The model's weights are loaded at the first sentence to classify, so a
/// run over unchanged articles never loads them.
pub struct StanceAnnotator {
    dir: PathBuf,
    version: String,
    model: OnceCell<StanceModel>,
    pub targets: Targets,
    pub batch_size: usize,
}

impl StanceAnnotator {
    /// Check the model directory (card, config, labels) without loading weights.
    pub fn open(dir: &Path, targets: Targets, batch_size: usize) -> crate::model::Result<Self> {
        // Resolved now: if the active model is switched during a run, the
        // weights loaded later are still those of the version recorded.
        let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
        let (config, _) = crate::model::open_dir(&dir, "stance", &LABELS)?;
        Ok(StanceAnnotator {
            dir,
            version: crate::model::run_version(&config),
            model: OnceCell::new(),
            targets,
            batch_size,
        })
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    fn model(&self) -> crate::model::Result<&StanceModel> {
        if let Some(m) = self.model.get() {
            return Ok(m);
        }
        let started = std::time::Instant::now();
        let m = StanceModel::load(&self.dir)?;
        tracing::info!(
            "stance model {} loaded in {:.1}s",
            m.version(),
            started.elapsed().as_secs_f64()
        );
        Ok(self.model.get_or_init(|| m))
    }

    /// Fill `stance` on each sentence, all targets in one batched call.
    pub fn annotate(&self, sentences: &mut [Sentence]) -> crate::model::Result<()> {
        let model = self.model()?;
        let targets: Vec<&str> = self
            .targets
            .0
            .iter()
            .map(|t| t.description.as_str())
            .collect();
        let texts: Vec<&str> = sentences.iter().map(|s| s.text.as_str()).collect();
        let encoded = model.encode_pairs(&targets, &texts);
        let probs = model.predict_encoded(&encoded, self.batch_size);
        let n = sentences.len();
        for (ti, t) in self.targets.0.iter().enumerate() {
            for (si, s) in sentences.iter_mut().enumerate() {
                let p = &probs[ti * n + si];
                s.stance.insert(
                    t.id.clone(),
                    SentenceStance {
                        label: LABELS[crate::metrics::argmax(p)].to_string(),
                        probs: LABELS
                            .iter()
                            .zip(p)
                            .map(|(l, v)| (l.to_string(), *v))
                            .collect(),
                        holder: None,
                    },
                );
            }
        }
        Ok(())
    }

    /// What goes into the pipeline fingerprint: the model version and the
    /// target texts (a changed description changes every prediction).
    pub fn fingerprint(&self) -> String {
        let targets: Vec<String> = self
            .targets
            .0
            .iter()
            .map(|t| format!("{}={}", t.id, t.description))
            .collect();
        let digest = <sha2::Sha256 as sha2::Digest>::digest(targets.join("\n").as_bytes());
        format!("stance:{}:{}", self.version, &hex::encode(digest)[..12])
    }
}
