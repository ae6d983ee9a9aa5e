//! Stance: for each sentence and each configured target, one of favor /
//! against / neutral / none with probabilities.
//!
//! - [`targets`] reads `targets.toml`;
//! - [`data`] reads labelled sentences (JSONL);
//! - [`model`] is the classifier (BERT pair classification);
//! - [`train`] trains it and scores it.

pub mod data;
pub mod model;
pub mod targets;
pub mod train;

use crate::article::{Sentence, SentenceStance};
use data::LABELS;
use model::StanceModel;
use targets::Targets;

/// The stance stage of a run: every sentence, every configured target.
pub struct StanceAnnotator {
    pub model: StanceModel,
    pub targets: Targets,
    pub batch_size: usize,
}

impl StanceAnnotator {
    /// Fill `stance` on each sentence, all targets in one batched call.
    pub fn annotate(&self, sentences: &mut [Sentence]) {
        let pairs: Vec<(&str, &str)> = self
            .targets
            .0
            .iter()
            .flat_map(|t| {
                sentences
                    .iter()
                    .map(move |s| (t.description.as_str(), s.text.as_str()))
            })
            .collect();
        let probs = self.model.predict(&pairs, self.batch_size);
        let n = sentences.len();
        for (ti, t) in self.targets.0.iter().enumerate() {
            for (si, s) in sentences.iter_mut().enumerate() {
                let p = &probs[ti * n + si];
                s.stance.insert(
                    t.id.clone(),
                    SentenceStance {
                        label: LABELS[train::argmax(p)].to_string(),
                        probs: LABELS
                            .iter()
                            .zip(p)
                            .map(|(l, v)| (l.to_string(), *v))
                            .collect(),
                    },
                );
            }
        }
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
        format!(
            "stance:{}:{}",
            self.model.version(),
            &hex::encode(digest)[..12]
        )
    }
}
