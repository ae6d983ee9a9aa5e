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
