//! Training machinery shared by the NER and stance models: which variables
//! train, length-bucketed batches, AdamW with linear warm-up and decay,
//! gradient clipping, fixed seeds and progress.
//!
//! The backbone's lower layers stay frozen. Their output is computed once
//! per example and cached, so each epoch only runs the trained top layers:
//! on two CPU cores this makes an epoch several times faster.

use crate::model::encoder::Encoder;
use rand::seq::SliceRandom;
use rand::{rngs::StdRng, SeedableRng};
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Kind, Tensor};

/// Hyper-parameters of one training run.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TrainConfig {
    pub epochs: usize,
    pub batch_size: usize,
    pub learning_rate: f64,
    pub weight_decay: f64,
    /// Share of all steps spent warming the learning rate up from zero.
    pub warmup: f64,
    /// Largest gradient L2 norm.
    pub clip_norm: f64,
    pub seed: u64,
    /// Layers from this index up (and the heads) are trained.
    pub first_trained_layer: usize,
}

impl Default for TrainConfig {
    fn default() -> Self {
        TrainConfig {
            epochs: 6,
            batch_size: 32,
            learning_rate: 1e-4,
            weight_decay: 0.01,
            warmup: 0.1,
            clip_norm: 1.0,
            seed: 13,
            first_trained_layer: 4,
        }
    }
}

/// Seed torch (initialisation, dropout) and return the batching RNG.
pub fn seed_everything(seed: u64) -> StdRng {
    tch::manual_seed(seed as i64);
    StdRng::seed_from_u64(seed)
}

/// Names of the variables a run trains: everything except the embeddings
/// and the encoder layers below `first_trained_layer`.
pub fn is_trained(name: &str, first_trained_layer: usize) -> bool {
    if name.starts_with("bert.embeddings.") {
        return false;
    }
    if let Some(rest) = name.strip_prefix("bert.encoder.layer.") {
        let layer: usize = rest
            .split('.')
            .next()
            .and_then(|n| n.parse().ok())
            .unwrap_or(usize::MAX);
        return layer >= first_trained_layer;
    }
    true
}

/// Stop gradients for the frozen variables.
pub fn freeze_lower(vs: &nn::VarStore, first_trained_layer: usize) {
    for (name, t) in vs.variables() {
        if !is_trained(&name, first_trained_layer) {
            let _ = t.set_requires_grad(false);
        }
    }
}

/// The trained variables, by name (what a head file holds).
pub fn trained_tensors(vs: &nn::VarStore, first_trained_layer: usize) -> Vec<(String, Tensor)> {
    let mut v: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .filter(|(n, _)| is_trained(n, first_trained_layer))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Batches of similar length (little padding), in random order: examples
/// are shuffled, sorted by length within windows of 50 batches, cut into
/// batches, and the batches shuffled.
pub fn bucketed_batches(lengths: &[usize], batch_size: usize, rng: &mut StdRng) -> Vec<Vec<usize>> {
    let mut idx: Vec<usize> = (0..lengths.len()).collect();
    idx.shuffle(rng);
    let mut batches = Vec::new();
    for window in idx.chunks(batch_size * 50) {
        let mut w = window.to_vec();
        w.sort_by_key(|&i| lengths[i]);
        batches.extend(w.chunks(batch_size).map(|c| c.to_vec()));
    }
    batches.shuffle(rng);
    batches
}

/// Batches in length order for inference (no randomness).
pub fn sorted_batches(lengths: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
    let mut idx: Vec<usize> = (0..lengths.len()).collect();
    idx.sort_by_key(|&i| lengths[i]);
    idx.chunks(batch_size.max(1)).map(|c| c.to_vec()).collect()
}

/// Real tokens below which an inference batch takes the next sequence
/// whatever its length.
pub const MIN_BATCH_TOKENS: usize = 1024;

/// Inference batches: indices sorted by length, a batch closed when full or
/// when it holds `MIN_BATCH_TOKENS` and the next sequence is over a quarter
/// longer than its shortest. Padding so stays under ~25 % however mixed the
/// lengths (on CPU a batch of a thousand tokens costs little more per
/// token than a large one, while padding costs in full).
pub fn inference_batches(lengths: &[usize], batch_size: usize) -> Vec<Vec<usize>> {
    let mut idx: Vec<usize> = (0..lengths.len()).collect();
    idx.sort_by_key(|&i| lengths[i]);
    let mut out: Vec<Vec<usize>> = Vec::new();
    let mut cur: Vec<usize> = Vec::new();
    let mut tokens = 0;
    for i in idx {
        let full = cur.len() >= batch_size.max(1);
        let spread = tokens >= MIN_BATCH_TOKENS
            && cur
                .first()
                .is_some_and(|&f| lengths[i] * 4 > lengths[f] * 5 + 4);
        if full || spread {
            out.push(std::mem::take(&mut cur));
            tokens = 0;
        }
        cur.push(i);
        tokens += lengths[i];
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// Hidden states after the frozen layers `0..first_trained`, one tensor
/// (length × hidden) per example. `batch` builds the (ids, segment ids,
/// mask) tensors for a list of example indices.
pub fn cache_frozen(
    encoder: &Encoder,
    lengths: &[usize],
    first_trained: usize,
    batch: impl Fn(&[usize]) -> (Tensor, Tensor, Tensor),
) -> Vec<Tensor> {
    let mut out: Vec<Option<Tensor>> = (0..lengths.len()).map(|_| None).collect();
    tch::no_grad(|| {
        for b in sorted_batches(lengths, 64) {
            let (ids, types, mask) = batch(&b);
            let h = encoder.embed(&ids, &types, false);
            let h = encoder.layers(&h, &Encoder::attention_bias(&mask), 0..first_trained, false);
            for (row, &i) in b.iter().enumerate() {
                out[i] = Some(h.get(row as i64).narrow(0, 0, lengths[i] as i64).copy());
            }
        }
    });
    out.into_iter()
        .map(|t| t.expect("every example cached"))
        .collect()
}

/// Pad cached hidden states into a batch tensor and its mask.
pub fn pad_hidden(cached: &[&Tensor], device: Device) -> (Tensor, Tensor) {
    let len = cached.iter().map(|t| t.size()[0]).max().unwrap_or(0);
    let hidden = cached.first().map(|t| t.size()[1]).unwrap_or(0);
    let h = Tensor::zeros([cached.len() as i64, len, hidden], (Kind::Float, device));
    let mut mask = Vec::with_capacity(cached.len() * len as usize);
    for (row, t) in cached.iter().enumerate() {
        let n = t.size()[0];
        h.get(row as i64).narrow(0, 0, n).copy_(t);
        mask.extend(std::iter::repeat_n(1i64, n as usize));
        mask.extend(std::iter::repeat_n(0i64, (len - n) as usize));
    }
    (
        h,
        Tensor::from_slice(&mask)
            .view([cached.len() as i64, len])
            .to(device),
    )
}

/// Linear warm-up then linear decay to zero.
pub fn learning_rate(cfg: &TrainConfig, step: usize, total: usize) -> f64 {
    let warm = ((total as f64) * cfg.warmup).max(1.0);
    let s = step as f64;
    if s < warm {
        cfg.learning_rate * (s + 1.0) / warm
    } else {
        cfg.learning_rate * ((total as f64 - s) / (total as f64 - warm).max(1.0)).max(0.0)
    }
}

/// Reports training progress.
pub trait TrainProgress {
    fn epoch_start(&mut self, epoch: usize, batches: usize);
    fn batch(&mut self, loss: f64);
    fn epoch_end(&mut self, epoch: usize, mean_loss: f64, dev: Option<f64>);
}

pub struct QuietTraining;
impl TrainProgress for QuietTraining {
    fn epoch_start(&mut self, _: usize, _: usize) {}
    fn batch(&mut self, _: f64) {}
    fn epoch_end(&mut self, _: usize, _: f64, _: Option<f64>) {}
}

/// Train with AdamW. `loss` computes the mean loss of a batch (train mode);
/// `evaluate`, after each epoch, returns a dev score (higher is better) and
/// the best epoch's trained tensors are kept. Returns per-epoch mean losses
/// and dev scores.
pub fn fit(
    vs: &nn::VarStore,
    cfg: &TrainConfig,
    lengths: &[usize],
    rng: &mut StdRng,
    loss: &mut dyn FnMut(&[usize]) -> Tensor,
    evaluate: &mut dyn FnMut() -> Option<f64>,
    progress: &mut dyn TrainProgress,
) -> Result<(Vec<f64>, Vec<Option<f64>>), tch::TchError> {
    freeze_lower(vs, cfg.first_trained_layer);
    let mut opt = nn::AdamW {
        wd: cfg.weight_decay,
        ..Default::default()
    }
    .build(vs, cfg.learning_rate)?;
    let steps_per_epoch = lengths.len().div_ceil(cfg.batch_size.max(1));
    let total = steps_per_epoch * cfg.epochs;
    let mut step = 0;
    let mut losses = Vec::new();
    let mut scores = Vec::new();
    let mut best: Option<(f64, Vec<(String, Tensor)>)> = None;
    for epoch in 0..cfg.epochs {
        let batches = bucketed_batches(lengths, cfg.batch_size, rng);
        progress.epoch_start(epoch, batches.len());
        let mut sum = 0.0;
        for batch in &batches {
            opt.set_lr(learning_rate(cfg, step, total));
            let l = loss(batch);
            opt.backward_step_clip_norm(&l, cfg.clip_norm);
            let v = l.double_value(&[]);
            sum += v;
            progress.batch(v);
            step += 1;
        }
        let mean = sum / batches.len().max(1) as f64;
        let dev = tch::no_grad(&mut *evaluate);
        progress.epoch_end(epoch, mean, dev);
        losses.push(mean);
        scores.push(dev);
        if let Some(d) = dev {
            if best.as_ref().is_none_or(|(b, _)| d > *b) {
                let snapshot = trained_tensors(vs, cfg.first_trained_layer)
                    .into_iter()
                    .map(|(n, t)| (n, t.detach().copy()))
                    .collect();
                best = Some((d, snapshot));
            }
        }
    }
    if let Some((_, snapshot)) = best {
        let mut vars = vs.variables();
        tch::no_grad(|| {
            for (name, t) in snapshot {
                if let Some(v) = vars.get_mut(&name) {
                    v.copy_(&t);
                }
            }
        });
    }
    Ok((losses, scores))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inference_batches_cover_all_and_bound_padding() {
        let lengths = [100, 800, 120, 110, 400, 410, 790, 90, 2000, 130, 5, 6];
        let batches = inference_batches(&lengths, 3);
        let mut seen: Vec<usize> = batches.iter().flatten().copied().collect();
        seen.sort();
        assert_eq!(seen, (0..lengths.len()).collect::<Vec<_>>());
        for b in &batches {
            assert!(!b.is_empty() && b.len() <= 3);
            let min = b.iter().map(|&i| lengths[i]).min().unwrap();
            let max = b.iter().map(|&i| lengths[i]).max().unwrap();
            let small: usize = b[..b.len() - 1].iter().map(|&i| lengths[i]).sum();
            assert!(
                max * 4 <= min * 5 + 4 || small < MIN_BATCH_TOKENS,
                "batch {b:?} spans {min}..{max}"
            );
        }
        // Short sequences share a batch however different; then 90..130
        // fit one bucket but the batch size splits them.
        assert_eq!(batches[0], vec![10, 11, 7]);
        assert_eq!(batches[1], vec![0, 3, 2]);
        assert_eq!(batches.len(), 5);
        assert!(inference_batches(&[], 8).is_empty());
    }

    #[test]
    fn only_top_layers_and_heads_train() {
        assert!(!is_trained("bert.embeddings.word_embeddings.weight", 4));
        assert!(!is_trained("bert.encoder.layer.3.output.dense.weight", 4));
        assert!(is_trained("bert.encoder.layer.4.output.dense.weight", 4));
        assert!(is_trained("bert.pooler.dense.weight", 4));
        assert!(is_trained("classifier.weight", 4));
    }

    #[test]
    fn schedule_warms_up_then_decays_to_zero() {
        let cfg = TrainConfig {
            learning_rate: 1.0,
            warmup: 0.1,
            ..Default::default()
        };
        assert!(learning_rate(&cfg, 0, 100) < 0.2);
        assert!((learning_rate(&cfg, 9, 100) - 1.0).abs() < 1e-9);
        assert!(learning_rate(&cfg, 55, 100) < 1.0);
        assert!(learning_rate(&cfg, 99, 100) < 0.02);
    }

    #[test]
    fn bucketed_batches_cover_every_example_once_and_are_seeded() {
        let lengths: Vec<usize> = (0..1000).map(|i| (i * 7919) % 97).collect();
        let a = bucketed_batches(&lengths, 32, &mut StdRng::seed_from_u64(1));
        let b = bucketed_batches(&lengths, 32, &mut StdRng::seed_from_u64(1));
        assert_eq!(a, b);
        let mut all: Vec<usize> = a.concat();
        all.sort();
        assert_eq!(all, (0..1000).collect::<Vec<_>>());
        // Within a batch lengths are close.
        let spread: usize = a
            .iter()
            .map(|b| {
                let l: Vec<usize> = b.iter().map(|&i| lengths[i]).collect();
                l.iter().max().unwrap() - l.iter().min().unwrap()
            })
            .max()
            .unwrap();
        assert!(spread < 20, "spread {spread}");
    }
}
