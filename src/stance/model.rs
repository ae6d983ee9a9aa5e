//! The stance classifier: BERT over the pair (target text, sentence), the
//! pooled [CLS] vector, dropout and a linear layer over favor / against /
//! neutral / none — Hugging Face's `BertForSequenceClassification`, so an
//! assembled model directory loads there too.

use super::data::LABELS;
use crate::model::encoder::{Encoder, FusedEncoder};
use crate::model::{self, ModelConfig, ModelError};
use crate::train::inference_batches;
use std::path::Path;
use tch::{nn, Device, Kind, Tensor};
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

/// Token ids of one (target, sentence) pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Encoded {
    pub ids: Vec<i64>,
    pub type_ids: Vec<i64>,
}

pub struct StanceModel {
    pub vs: nn::VarStore,
    pub encoder: Encoder,
    /// The inference forward over the same weights, for a loaded model
    /// (training uses `encoder`).
    fused: Option<FusedEncoder>,
    classifier: nn::Linear,
    dropout: f64,
    tokenizer: Tokenizer,
    pub config: ModelConfig,
}

impl StanceModel {
    /// A model with the backbone's weights and a fresh head, to train.
    pub fn untrained(
        backbone: &Path,
        first_trained_layer: usize,
        max_length: usize,
        version: &str,
    ) -> model::Result<Self> {
        let config = model::new_config(
            backbone,
            &LABELS,
            "stance",
            first_trained_layer,
            max_length,
            version,
        )?;
        let m = Self::build(backbone, config)?;
        model::load_into(&m.vs, &backbone.join("model.safetensors"), "bert.")?;
        Ok(m)
    }

    /// Load a trained model directory.
    pub fn load(dir: &Path) -> model::Result<Self> {
        let (config, tokenizer_dir) = model::open_dir(dir, "stance", &LABELS)?;
        let mut m = Self::build(&tokenizer_dir, config)?;
        model::load_weights(&m.vs, dir, &m.config)?;
        m.fused = model::fused_encoder(&m.vs, &m.config, dir);
        Ok(m)
    }

    fn build(tokenizer_dir: &Path, config: ModelConfig) -> model::Result<Self> {
        let bert = config.bert_config(tokenizer_dir)?;
        let vs = nn::VarStore::new(model::device());
        let root = vs.root();
        let encoder = Encoder::new(&(&root / "bert"), &bert, true);
        let classifier = nn::linear(
            &root / "classifier",
            bert.hidden_size,
            LABELS.len() as i64,
            Default::default(),
        );
        let mut tokenizer = model::load_tokenizer(tokenizer_dir)?;
        tokenizer
            .with_truncation(Some(TruncationParams {
                direction: TruncationDirection::Right,
                max_length: config.stancemine.max_length,
                strategy: TruncationStrategy::OnlySecond,
                stride: 0,
            }))
            .map_err(|source| ModelError::Tokenizer {
                path: tokenizer_dir.join("tokenizer.json"),
                source,
            })?;
        Ok(StanceModel {
            vs,
            encoder,
            fused: None,
            classifier,
            dropout: bert.hidden_dropout_prob,
            tokenizer,
            config,
        })
    }

    /// Change the longest input (in tokens) for training and inference.
    pub fn set_max_length(&mut self, max_length: usize) -> model::Result<()> {
        let mut t = self.tokenizer.get_truncation().cloned().unwrap_or_default();
        t.max_length = max_length;
        t.strategy = TruncationStrategy::OnlySecond;
        self.tokenizer
            .with_truncation(Some(t))
            .map_err(|source| ModelError::Tokenizer {
                path: "tokenizer.json".into(),
                source,
            })?;
        self.config.stancemine.max_length = max_length;
        Ok(())
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    pub fn version(&self) -> &str {
        &self.config.stancemine.version
    }

    /// Tokenise a (target text, sentence) pair.
    pub fn encode(&self, target: &str, sentence: &str) -> Encoded {
        match self.tokenizer.encode((target, sentence), true) {
            Ok(e) => Encoded {
                ids: e.get_ids().iter().map(|&i| i as i64).collect(),
                type_ids: e.get_type_ids().iter().map(|&i| i as i64).collect(),
            },
            // Only an over-long target can fail here (nothing left of the
            // sentence): keep the target alone rather than fail the batch.
            Err(_) => {
                let e = self
                    .tokenizer
                    .encode(target, true)
                    .expect("a target alone encodes");
                Encoded {
                    ids: e.get_ids().iter().map(|&i| i as i64).collect(),
                    type_ids: vec![0; e.get_ids().len()],
                }
            }
        }
    }

    /// Encode every (target, sentence) pair, target-major, tokenising each
    /// text once: the same ids as [`Self::encode`] pair by pair (truncating
    /// the sentence only), without re-tokenising a sentence per target.
    pub fn encode_pairs(&self, targets: &[&str], sentences: &[&str]) -> Vec<Encoded> {
        let pieces = |text: &str| -> Option<Vec<i64>> {
            let e = self.tokenizer.encode(text, false).ok()?;
            Some(e.get_ids().iter().map(|&i| i as i64).collect())
        };
        let (Some(cls), Some(sep)) = (
            self.tokenizer.token_to_id("[CLS]"),
            self.tokenizer.token_to_id("[SEP]"),
        ) else {
            return self.encode_each(targets, sentences);
        };
        let (cls, sep) = (cls as i64, sep as i64);
        let max = self.config.stancemine.max_length;
        let sents: Option<Vec<Vec<i64>>> = sentences.iter().map(|s| pieces(s)).collect();
        let Some(sents) = sents else {
            return self.encode_each(targets, sentences);
        };
        let mut out = Vec::with_capacity(targets.len() * sentences.len());
        for (ti, target) in targets.iter().enumerate() {
            let t = match pieces(target) {
                // An over-long target leaves no room for the sentence: the
                // tokenizer's own path handles (and reports) that case.
                Some(t) if t.len() + 3 < max => t,
                _ => {
                    out.extend(sentences.iter().map(|s| self.encode(targets[ti], s)));
                    continue;
                }
            };
            for s in &sents {
                let keep = s.len().min(max - t.len() - 3);
                let mut ids = Vec::with_capacity(t.len() + keep + 3);
                ids.push(cls);
                ids.extend_from_slice(&t);
                ids.push(sep);
                let first = ids.len();
                ids.extend_from_slice(&s[..keep]);
                ids.push(sep);
                let mut type_ids = vec![0i64; first];
                type_ids.resize(ids.len(), 1);
                out.push(Encoded { ids, type_ids });
            }
        }
        out
    }

    fn encode_each(&self, targets: &[&str], sentences: &[&str]) -> Vec<Encoded> {
        targets
            .iter()
            .flat_map(|t| sentences.iter().map(move |s| self.encode(t, s)))
            .collect()
    }

    /// Padded id, segment and mask tensors for a batch.
    pub fn batch(&self, items: &[&Encoded]) -> (Tensor, Tensor, Tensor) {
        let len = items.iter().map(|e| e.ids.len()).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(items.len() * len);
        let mut types = Vec::with_capacity(items.len() * len);
        let mut mask = Vec::with_capacity(items.len() * len);
        for e in items {
            let pad = len - e.ids.len();
            ids.extend_from_slice(&e.ids);
            ids.extend(std::iter::repeat_n(0, pad));
            types.extend_from_slice(&e.type_ids);
            types.extend(std::iter::repeat_n(0, pad));
            mask.extend(std::iter::repeat_n(1i64, e.ids.len()));
            mask.extend(std::iter::repeat_n(0i64, pad));
        }
        let shape = [items.len() as i64, len as i64];
        let d = self.device();
        (
            Tensor::from_slice(&ids).view(shape).to(d),
            Tensor::from_slice(&types).view(shape).to(d),
            Tensor::from_slice(&mask).view(shape).to(d),
        )
    }

    /// Class logits from top-layer input: hidden states after layer
    /// `from_layer - 1` (or the embeddings when 0).
    pub fn logits_from(
        &self,
        hidden: &Tensor,
        mask: &Tensor,
        from_layer: usize,
        train: bool,
    ) -> Tensor {
        let bias = Encoder::attention_bias(mask);
        let h = self
            .encoder
            .layers(hidden, &bias, from_layer..self.encoder.num_layers(), train);
        self.encoder
            .pool(&h)
            .dropout(self.dropout, train)
            .apply(&self.classifier)
    }

    /// Class logits for a batch of encoded pairs.
    pub fn logits(&self, items: &[&Encoded], train: bool) -> Tensor {
        let (ids, types, mask) = self.batch(items);
        let h = self.encoder.embed(&ids, &types, train);
        self.logits_from(&h, &mask, 0, train)
    }

    /// Class probabilities (rows in `LABELS` order) for (target text,
    /// sentence) pairs, batched by length.
    pub fn predict(&self, pairs: &[(&str, &str)], batch_size: usize) -> Vec<[f32; 4]> {
        let encoded: Vec<Encoded> = pairs.iter().map(|(t, s)| self.encode(t, s)).collect();
        self.predict_encoded(&encoded, batch_size)
    }

    /// Class probabilities: the softmax of the logits divided by the
    /// model's temperature (1 when it has none).
    pub fn predict_encoded(&self, encoded: &[Encoded], batch_size: usize) -> Vec<[f32; 4]> {
        let t = self.config.stancemine.temperature.unwrap_or(1.0);
        self.forward_encoded(encoded, batch_size, |logits| {
            (logits / t).softmax(-1, Kind::Float)
        })
    }

    /// Raw class logits (before the temperature), to fit the temperature.
    pub fn logits_encoded(&self, encoded: &[Encoded], batch_size: usize) -> Vec<[f32; 4]> {
        self.forward_encoded(encoded, batch_size, |logits| logits)
    }

    fn forward_encoded(
        &self,
        encoded: &[Encoded],
        batch_size: usize,
        finish: impl Fn(Tensor) -> Tensor,
    ) -> Vec<[f32; 4]> {
        let lengths: Vec<usize> = encoded.iter().map(|e| e.ids.len()).collect();
        let mut out = vec![[0f32; 4]; encoded.len()];
        tch::no_grad(|| {
            for batch in inference_batches(&lengths, batch_size) {
                let items: Vec<&Encoded> = batch.iter().map(|&i| &encoded[i]).collect();
                let logits = match &self.fused {
                    Some(f) => {
                        let (ids, types, mask) = self.batch(&items);
                        f.pool(&f.forward(&ids, &types, &mask))
                            .apply(&self.classifier)
                    }
                    None => self.logits(&items, false),
                };
                let rows = finish(logits.to_kind(Kind::Float)).to_device(Device::Cpu);
                let flat: Vec<f32> = Vec::<f32>::try_from(rows.flatten(0, -1)).unwrap_or_default();
                for (row, &i) in batch.iter().enumerate() {
                    out[i].copy_from_slice(&flat[row * 4..row * 4 + 4]);
                }
            }
        });
        out
    }

    /// Use rust-bert's forward for prediction too (to compare the two).
    pub fn without_fused(mut self) -> Self {
        self.fused = None;
        self
    }

    /// Write `config.json` and `head.safetensors` (see [`model::save_head`]).
    pub fn save(&self, dir: &Path) -> model::Result<()> {
        model::save_head(&self.vs, &self.config, dir)
    }
}

impl std::fmt::Debug for StanceModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StanceModel")
            .field("version", &self.version())
            .finish()
    }
}
