//! The MiniLM/BERT encoder assembled from rust-bert's BERT modules, layer by
//! layer, so training can run the frozen lower layers once and cache their
//! output, and train only the top layers and a head.

use rust_bert::bert::{BertConfig, BertEmbedding, BertEmbeddings, BertLayer, BertPooler};
use std::ops::Range;
use tch::{nn, Kind, Tensor};

/// BERT embeddings, transformer layers and (optionally) the pooler, with
/// Hugging Face variable names under the path it is built at (`bert.…`).
pub struct Encoder {
    embeddings: BertEmbeddings,
    layers: Vec<BertLayer>,
    pooler: Option<BertPooler>,
}

impl Encoder {
    pub fn new(p: &nn::Path, config: &BertConfig, with_pooler: bool) -> Encoder {
        let layers = (0..config.num_hidden_layers)
            .map(|i| BertLayer::new(&(p / "encoder" / "layer" / i), config))
            .collect();
        Encoder {
            embeddings: BertEmbeddings::new(p / "embeddings", config),
            layers,
            pooler: with_pooler.then(|| BertPooler::new(p / "pooler", config)),
        }
    }

    pub fn num_layers(&self) -> usize {
        self.layers.len()
    }

    /// Token embeddings for `ids` (batch × length) and segment ids.
    pub fn embed(&self, ids: &Tensor, type_ids: &Tensor, train: bool) -> Tensor {
        self.embeddings
            .forward_t(Some(ids), Some(type_ids), None, None, train)
            // Only fails when neither ids nor embeddings are given.
            .expect("input ids are given")
    }

    /// The additive attention mask the layers expect: 0 for tokens, -10000
    /// for padding, shaped batch × 1 × 1 × length.
    pub fn attention_bias(mask: &Tensor) -> Tensor {
        (mask.to_kind(Kind::Float).ones_like() - mask.to_kind(Kind::Float))
            .unsqueeze(1)
            .unsqueeze(1)
            * -10000.0
    }

    /// Run layers `range` over hidden states.
    pub fn layers(
        &self,
        hidden: &Tensor,
        bias: &Tensor,
        range: Range<usize>,
        train: bool,
    ) -> Tensor {
        let mut h = hidden.shallow_clone();
        for layer in &self.layers[range] {
            h = layer
                .forward_t(&h, Some(bias), None, None, train)
                .hidden_state;
        }
        h
    }

    /// The whole encoder: last hidden states (batch × length × hidden).
    pub fn forward(&self, ids: &Tensor, type_ids: &Tensor, mask: &Tensor, train: bool) -> Tensor {
        let h = self.embed(ids, type_ids, train);
        self.layers(&h, &Self::attention_bias(mask), 0..self.layers.len(), train)
    }

    /// BERT's pooled [CLS] vector; panics if built without a pooler.
    pub fn pool(&self, hidden: &Tensor) -> Tensor {
        self.pooler
            .as_ref()
            .expect("encoder built with a pooler")
            .forward(hidden)
    }
}
