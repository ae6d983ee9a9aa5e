//! Training the stance classifier with the shared machinery in
//! [`crate::train`]: pairs are tokenised once, the frozen lower layers run
//! once per example, and each epoch trains the top layers and the head.

use super::data::{label_index, LabelledSentence, LABELS};
use super::model::{Encoded, StanceModel};
use super::targets::Targets;
use crate::metrics::{self, argmax, Report};
use crate::train::{self, TrainConfig, TrainProgress};
use tch::{Kind, Tensor};

/// Encoded examples with their class index.
pub struct Prepared {
    pub encoded: Vec<Encoded>,
    pub labels: Vec<usize>,
}

/// Tokenise labelled sentences against their targets' texts.
pub fn prepare(model: &StanceModel, data: &[LabelledSentence], targets: &Targets) -> Prepared {
    let mut encoded = Vec::with_capacity(data.len());
    let mut labels = Vec::with_capacity(data.len());
    for s in data {
        // `data::read` has already refused lines with unknown labels.
        let Some(label) = s.label.as_deref().and_then(label_index) else {
            continue;
        };
        encoded.push(model.encode(targets.text_for(&s.target), &s.text));
        labels.push(label);
    }
    Prepared { encoded, labels }
}

/// Score a model on prepared data.
pub fn evaluate(
    model: &StanceModel,
    data: &Prepared,
    batch_size: usize,
) -> (Report, Vec<[f32; 4]>) {
    let probs = model.predict_encoded(&data.encoded, batch_size);
    (score(&probs, &data.labels), probs)
}

/// Score probability rows against gold class indices: labels and calibration.
pub fn score(probs: &[[f32; 4]], gold: &[usize]) -> Report {
    let pred: Vec<usize> = probs.iter().map(|p| argmax(p)).collect();
    let labels: Vec<String> = LABELS.iter().map(|s| s.to_string()).collect();
    let mut report = metrics::report(&labels, gold, &pred);
    report.calibration = Some(metrics::calibration(probs, gold));
    report
}

/// What a training run measured.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainOutcome {
    pub epoch_losses: Vec<f64>,
    pub dev_macro_f1: Vec<Option<f64>>,
    pub train_examples: usize,
    pub class_weights: Vec<f64>,
}

/// Train `model` in place; the epoch with the best dev macro-F1 is kept
/// (the last epoch without dev data).
pub fn train(
    model: &mut StanceModel,
    train_data: &Prepared,
    dev: Option<&Prepared>,
    cfg: &TrainConfig,
    progress: &mut dyn TrainProgress,
) -> Result<TrainOutcome, tch::TchError> {
    let mut rng = train::seed_everything(cfg.seed);
    let first = cfg.first_trained_layer;
    let device = model.device();
    let cached = train::cache_frozen(
        &model.encoder,
        &train_data
            .encoded
            .iter()
            .map(|e| e.ids.len())
            .collect::<Vec<_>>(),
        first,
        |batch| {
            let items: Vec<&Encoded> = batch.iter().map(|&i| &train_data.encoded[i]).collect();
            model.batch(&items)
        },
    );
    let lengths: Vec<usize> = train_data.encoded.iter().map(|e| e.ids.len()).collect();
    // Inverse square-root class frequencies: "none" dominates real text,
    // and this keeps rare stances from being ignored without overshooting.
    let mut counts = [0usize; 4];
    for &l in &train_data.labels {
        counts[l] += 1;
    }
    let n = train_data.labels.len().max(1) as f64;
    let class_weights: Vec<f64> = counts
        .iter()
        .map(|&c| {
            if c == 0 {
                0.0
            } else {
                (n / (4.0 * c as f64)).sqrt()
            }
        })
        .collect();
    let weights = Tensor::from_slice(&class_weights)
        .to_kind(Kind::Float)
        .to(device);
    let targets: Vec<i64> = train_data.labels.iter().map(|&l| l as i64).collect();

    let model_ref: &StanceModel = model;
    let mut loss = |batch: &[usize]| -> Tensor {
        let items: Vec<&Tensor> = batch.iter().map(|&i| &cached[i]).collect();
        let (h, mask) = train::pad_hidden(&items, device);
        let logits = model_ref.logits_from(&h, &mask, first, true);
        let y =
            Tensor::from_slice(&batch.iter().map(|&i| targets[i]).collect::<Vec<_>>()).to(device);
        logits.log_softmax(-1, Kind::Float).g_nll_loss(
            &y,
            Some(&weights),
            tch::Reduction::Mean,
            -100,
        )
    };
    let mut evaluate = || dev.map(|d| evaluate(model_ref, d, 64).0.macro_f1);
    let (epoch_losses, dev_macro_f1) = train::fit(
        &model_ref.vs,
        cfg,
        &lengths,
        &mut rng,
        &mut loss,
        &mut evaluate,
        progress,
    )?;
    Ok(TrainOutcome {
        epoch_losses,
        dev_macro_f1,
        train_examples: train_data.labels.len(),
        class_weights,
    })
}
