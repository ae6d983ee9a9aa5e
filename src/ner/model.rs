//! The NER model: BERT token classification (Hugging Face's
//! `BertForTokenClassification` layout) over IOB2 labels of the seven types,
//! and the step from sub-word predictions to entity spans with character
//! offsets.

use super::conll::{EntityType, Tag};
use crate::model::encoder::{Encoder, FusedEncoder};
use crate::model::{self, ModelConfig};
use crate::train::inference_batches;
use std::path::Path;
use tch::{nn, Device, Kind, Tensor};
use tokenizers::Tokenizer;

/// Labels in model output order: O, then B-/I- for each type.
pub fn labels() -> Vec<String> {
    let mut v = vec!["O".to_string()];
    for t in EntityType::ALL {
        v.push(format!("B-{}", t.as_str()));
        v.push(format!("I-{}", t.as_str()));
    }
    v
}

pub fn tag_index(tag: Tag) -> usize {
    match tag {
        Tag::O => 0,
        Tag::B(t) => 1 + 2 * type_index(t),
        Tag::I(t) => 2 + 2 * type_index(t),
    }
}

pub fn index_tag(i: usize) -> Tag {
    if i == 0 {
        return Tag::O;
    }
    let t = EntityType::ALL[(i - 1) / 2];
    if (i - 1).is_multiple_of(2) {
        Tag::B(t)
    } else {
        Tag::I(t)
    }
}

fn type_index(t: EntityType) -> usize {
    EntityType::ALL
        .iter()
        .position(|x| *x == t)
        .expect("type in ALL")
}

/// A sequence of word pieces with, for each, the index of the word it
/// belongs to (None for [CLS]/[SEP]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pieces {
    pub ids: Vec<i64>,
    pub words: Vec<Option<usize>>,
}

pub struct NerModel {
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

impl NerModel {
    pub fn untrained(
        backbone: &Path,
        first_trained_layer: usize,
        max_length: usize,
        version: &str,
    ) -> model::Result<Self> {
        let labels = labels();
        let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
        let config = model::new_config(
            backbone,
            &refs,
            "ner",
            first_trained_layer,
            max_length,
            version,
        )?;
        let m = Self::build(backbone, config)?;
        model::load_into(&m.vs, &backbone.join("model.safetensors"), "bert.")?;
        Ok(m)
    }

    pub fn load(dir: &Path) -> model::Result<Self> {
        let labels = labels();
        let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
        let (config, tokenizer_dir) = model::open_dir(dir, "ner", &refs)?;
        let mut m = Self::build(&tokenizer_dir, config)?;
        model::load_weights(&m.vs, dir, &m.config)?;
        m.fused = model::fused_encoder(&m.vs, &m.config, dir);
        Ok(m)
    }

    fn build(tokenizer_dir: &Path, config: ModelConfig) -> model::Result<Self> {
        let bert = config.bert_config(tokenizer_dir)?;
        let vs = nn::VarStore::new(model::device());
        let root = vs.root();
        let encoder = Encoder::new(&(&root / "bert"), &bert, false);
        let classifier = nn::linear(
            &root / "classifier",
            bert.hidden_size,
            labels().len() as i64,
            Default::default(),
        );
        Ok(NerModel {
            vs,
            encoder,
            fused: None,
            classifier,
            dropout: bert.hidden_dropout_prob,
            tokenizer: model::load_tokenizer(tokenizer_dir)?,
            config,
        })
    }

    pub fn version(&self) -> &str {
        &self.config.stancemine.version
    }

    pub fn device(&self) -> Device {
        self.vs.device()
    }

    pub fn max_length(&self) -> usize {
        self.config.stancemine.max_length
    }

    /// Word pieces of pre-split words (training data), without special tokens.
    pub fn pieces_of_words(&self, words: &[String]) -> Pieces {
        self.pieces_with_offsets(words).0
    }

    /// Word pieces of pre-split words, and each piece's character range
    /// within its word (an `[UNK]` for an empty encoding spans the whole word).
    pub fn pieces_with_offsets(&self, words: &[String]) -> (Pieces, Vec<(usize, usize)>) {
        let mut ids = Vec::new();
        let mut map = Vec::new();
        let mut offsets = Vec::new();
        for (w, word) in words.iter().enumerate() {
            // One word at a time keeps the word index exact even when the
            // pre-tokenizer would split a token with punctuation inside.
            if let Ok(e) = self.tokenizer.encode_char_offsets(word.as_str(), false) {
                if e.get_ids().is_empty() {
                    ids.push(100); // [UNK]
                    map.push(Some(w));
                    offsets.push((0, word.chars().count()));
                } else {
                    ids.extend(e.get_ids().iter().map(|&i| i as i64));
                    map.extend(std::iter::repeat_n(Some(w), e.get_ids().len()));
                    offsets.extend_from_slice(e.get_offsets());
                }
            }
        }
        (Pieces { ids, words: map }, offsets)
    }

    /// Add [CLS]/[SEP] around a window of pieces.
    pub fn with_specials(&self, ids: &[i64], words: &[Option<usize>]) -> Pieces {
        let cls = self.tokenizer.token_to_id("[CLS]").unwrap_or(101) as i64;
        let sep = self.tokenizer.token_to_id("[SEP]").unwrap_or(102) as i64;
        let mut p = Pieces {
            ids: vec![cls],
            words: vec![None],
        };
        p.ids.extend_from_slice(ids);
        p.words.extend_from_slice(words);
        p.ids.push(sep);
        p.words.push(None);
        p
    }

    /// Padded ids and mask for a batch.
    pub fn batch(&self, items: &[&Pieces]) -> (Tensor, Tensor, Tensor) {
        let len = items.iter().map(|e| e.ids.len()).max().unwrap_or(0);
        let mut ids = Vec::with_capacity(items.len() * len);
        let mut mask = Vec::with_capacity(items.len() * len);
        for e in items {
            ids.extend_from_slice(&e.ids);
            ids.extend(std::iter::repeat_n(0, len - e.ids.len()));
            mask.extend(std::iter::repeat_n(1i64, e.ids.len()));
            mask.extend(std::iter::repeat_n(0i64, len - e.ids.len()));
        }
        let shape = [items.len() as i64, len as i64];
        let d = self.device();
        let ids = Tensor::from_slice(&ids).view(shape).to(d);
        let types = ids.zeros_like();
        (ids, types, Tensor::from_slice(&mask).view(shape).to(d))
    }

    /// Per-piece label logits from the input of layer `from_layer`.
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
        h.dropout(self.dropout, train).apply(&self.classifier)
    }

    /// Label probabilities per piece for each sequence (batched by length).
    pub fn predict_pieces(&self, seqs: &[Pieces], batch_size: usize) -> Vec<Vec<Vec<f32>>> {
        let lengths: Vec<usize> = seqs.iter().map(|p| p.ids.len()).collect();
        let n_labels = labels().len();
        let mut out: Vec<Vec<Vec<f32>>> = vec![Vec::new(); seqs.len()];
        tch::no_grad(|| {
            for batch in inference_batches(&lengths, batch_size) {
                let items: Vec<&Pieces> = batch.iter().map(|&i| &seqs[i]).collect();
                let (ids, types, mask) = self.batch(&items);
                let logits = match &self.fused {
                    Some(f) => f.forward(&ids, &types, &mask).apply(&self.classifier),
                    None => {
                        let h = self.encoder.embed(&ids, &types, false);
                        self.logits_from(&h, &mask, 0, false)
                    }
                };
                let probs = logits.softmax(-1, Kind::Float).to_device(Device::Cpu);
                let width = probs.size()[1] as usize;
                let flat = Vec::<f32>::try_from(probs.flatten(0, -1)).unwrap_or_default();
                for (row, &i) in batch.iter().enumerate() {
                    out[i] = (0..lengths[i])
                        .map(|t| {
                            let s = (row * width + t) * n_labels;
                            flat[s..s + n_labels].to_vec()
                        })
                        .collect();
                }
            }
        });
        out
    }

    /// Tokenise running text into words with character offsets, as BERT's
    /// pre-tokenizer splits it (whitespace and punctuation).
    pub fn words_with_offsets(&self, text: &str) -> Vec<(String, usize, usize)> {
        let Ok(enc) = self.tokenizer.encode_char_offsets(text, false) else {
            return Vec::new();
        };
        let mut words: Vec<(String, usize, usize)> = Vec::new();
        let mut last: Option<u32> = None;
        let chars: Vec<char> = text.chars().collect();
        for (i, w) in enc.get_word_ids().iter().enumerate() {
            let (s, e) = enc.get_offsets()[i];
            match (w, last) {
                (Some(w), Some(l)) if *w == l => {
                    if let Some(x) = words.last_mut() {
                        x.2 = e;
                    }
                }
                (Some(w), _) => {
                    words.push((String::new(), s, e));
                    last = Some(*w);
                }
                _ => {}
            }
        }
        for w in &mut words {
            w.0 = chars[w.1..w.2].iter().collect();
        }
        words
    }

    pub fn save(&self, dir: &Path) -> model::Result<()> {
        crate::model::save_head(&self.vs, &self.config, dir)
    }
}
