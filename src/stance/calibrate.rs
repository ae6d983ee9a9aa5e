//! Temperature scaling (Guo et al., 2017): one number T that divides the
//! logits before the softmax, fitted on dev data by minimising the negative
//! log-likelihood of the gold labels. It changes no predicted label; it makes
//! a fine-tuned model's near-certain probabilities mean what they say, which
//! the article scores rely on (`docs/method.md`).

/// Softmax of `logits / t`.
pub fn softmax(logits: &[f32; 4], t: f64) -> [f32; 4] {
    let z: Vec<f64> = logits.iter().map(|&l| l as f64 / t).collect();
    let max = z.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
    let e: Vec<f64> = z.iter().map(|v| (v - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    let mut out = [0f32; 4];
    for (o, v) in out.iter_mut().zip(&e) {
        *o = (v / sum) as f32;
    }
    out
}

/// Mean negative log-likelihood of `gold` under `softmax(logits / t)`.
fn nll(logits: &[[f32; 4]], gold: &[usize], t: f64) -> f64 {
    let sum: f64 = logits
        .iter()
        .zip(gold)
        .map(|(l, &g)| -(softmax(l, t)[g] as f64).max(1e-12).ln())
        .sum();
    sum / gold.len().max(1) as f64
}

/// The temperature in [0.25, 10] (steps of 0.05) with the lowest dev NLL;
/// 1 without data. A grid, not an optimiser: one parameter, deterministic.
pub fn fit_temperature(logits: &[[f32; 4]], gold: &[usize]) -> f64 {
    assert_eq!(logits.len(), gold.len(), "one logit row per gold label");
    if gold.is_empty() {
        return 1.0;
    }
    (5..=200)
        .map(|k| k as f64 * 0.05)
        .map(|t| (t, nll(logits, gold, t)))
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .map(|(t, _)| t)
        .unwrap_or(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Logits that are 99 % sure and right `right` times in ten.
    fn sure(right: usize) -> (Vec<[f32; 4]>, Vec<usize>) {
        let l = [6.0f32, 0.0, 0.0, 0.0];
        let gold = (0..10).map(|i| if i < right { 0 } else { 1 }).collect();
        (vec![l; 10], gold)
    }

    #[test]
    fn an_overconfident_model_is_cooled() {
        let (l, g) = sure(7);
        let t = fit_temperature(&l, &g);
        assert!(t > 1.5, "T = {t}");
        // The fitted top probability is close to the 70 % it earns.
        let p = softmax(&l[0], t)[0];
        assert!((p - 0.7).abs() < 0.03, "p = {p}");
        assert!(nll(&l, &g, t) < nll(&l, &g, 1.0));
    }

    #[test]
    fn labels_do_not_change_and_no_data_means_one() {
        let l = [0.3f32, 2.0, -1.0, 0.5];
        for t in [0.5, 1.0, 3.0] {
            let p = softmax(&l, t);
            assert_eq!(crate::metrics::argmax(&p), 1);
            assert!((p.iter().sum::<f32>() - 1.0).abs() < 1e-5);
        }
        assert_eq!(fit_temperature(&[], &[]), 1.0);
    }
}
