//! Classification metrics: confusion matrix, per-class precision, recall and
//! F1, macro-F1 over the classes present in the gold labels, and F_avg (the
//! mean F1 of favor and against, as in SemEval-2016 Task 6).

use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ClassScores {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub support: usize,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub n: usize,
    pub accuracy: f64,
    /// Mean F1 over the classes that occur in the gold labels.
    pub macro_f1: f64,
    /// Mean F1 of `favor` and `against` (when both are label names).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub f_avg: Option<f64>,
    pub per_class: BTreeMap<String, ClassScores>,
    /// `confusion[gold][predicted]` counts.
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
    /// How well the probabilities match observed frequencies (when the
    /// scorer had probabilities).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub calibration: Option<Calibration>,
}

/// How far a model's probabilities are from how often it is right.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Calibration {
    /// Expected calibration error: |confidence − accuracy| over ten
    /// equal-width bins of the top probability, weighted by bin size. 0 is
    /// perfect; 0.15 means "99 % sure" is right about 85 % of the time.
    pub ece: f64,
    /// Mean negative log-probability of the gold label.
    pub nll: f64,
}

/// Calibration of probability rows against gold class indices.
pub fn calibration<P: AsRef<[f32]>>(probs: &[P], gold: &[usize]) -> Calibration {
    assert_eq!(
        probs.len(),
        gold.len(),
        "one probability row per gold label"
    );
    let n = gold.len().max(1) as f64;
    // (count, summed confidence, correct) per bin.
    let mut bins = [(0usize, 0f64, 0usize); 10];
    let mut nll = 0.0;
    for (p, &g) in probs.iter().zip(gold) {
        let p = p.as_ref();
        let top = argmax(p);
        let conf = p[top] as f64;
        let b = ((conf * 10.0) as usize).min(9);
        bins[b].0 += 1;
        bins[b].1 += conf;
        bins[b].2 += usize::from(top == g);
        nll -= (p[g] as f64).max(1e-12).ln();
    }
    let ece = bins
        .iter()
        .map(|&(_, conf, right)| (conf - right as f64).abs())
        .sum::<f64>()
        / n;
    Calibration { ece, nll: nll / n }
}

/// Precision, recall and F1 from counts of correct, predicted and gold
/// items (0 where a denominator is 0).
pub fn prf(correct: usize, predicted: usize, gold: usize) -> (f64, f64, f64) {
    let precision = if predicted > 0 {
        correct as f64 / predicted as f64
    } else {
        0.0
    };
    let recall = if gold > 0 {
        correct as f64 / gold as f64
    } else {
        0.0
    };
    let f1 = if precision + recall > 0.0 {
        2.0 * precision * recall / (precision + recall)
    } else {
        0.0
    };
    (precision, recall, f1)
}

/// Index of the largest value (the predicted class of a probability row).
pub fn argmax(p: &[f32]) -> usize {
    p.iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
        .unwrap_or(0)
}

/// Score predictions against gold labels (same length, label names).
pub fn report(labels: &[String], gold: &[usize], pred: &[usize]) -> Report {
    assert_eq!(gold.len(), pred.len(), "one prediction per gold label");
    let k = labels.len();
    let mut m = vec![vec![0usize; k]; k];
    for (&g, &p) in gold.iter().zip(pred) {
        m[g][p] += 1;
    }
    let mut per_class = BTreeMap::new();
    let mut f1s = Vec::new();
    for c in 0..k {
        let support: usize = m[c].iter().sum();
        let predicted: usize = (0..k).map(|g| m[g][c]).sum();
        let (precision, recall, f1) = prf(m[c][c], predicted, support);
        if support > 0 {
            f1s.push(f1);
        }
        per_class.insert(
            labels[c].clone(),
            ClassScores {
                precision,
                recall,
                f1,
                support,
            },
        );
    }
    let f = |name: &str| per_class.get(name).map(|s| s.f1);
    let f_avg = match (f("favor"), f("against")) {
        (Some(a), Some(b)) => Some((a + b) / 2.0),
        _ => None,
    };
    let correct: usize = (0..k).map(|c| m[c][c]).sum();
    let confusion = (0..k)
        .map(|g| {
            (
                labels[g].clone(),
                (0..k).map(|p| (labels[p].clone(), m[g][p])).collect(),
            )
        })
        .collect();
    Report {
        n: gold.len(),
        accuracy: if gold.is_empty() {
            0.0
        } else {
            correct as f64 / gold.len() as f64
        },
        macro_f1: if f1s.is_empty() {
            0.0
        } else {
            f1s.iter().sum::<f64>() / f1s.len() as f64
        },
        f_avg,
        per_class,
        confusion,
        calibration: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scores_a_small_confusion_by_hand() {
        let labels: Vec<String> = ["favor", "against", "none"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        // gold:  f f a a n n ; pred: f a a a n f
        let r = report(&labels, &[0, 0, 1, 1, 2, 2], &[0, 1, 1, 1, 2, 0]);
        assert_eq!(r.n, 6);
        assert!((r.accuracy - 4.0 / 6.0).abs() < 1e-12);
        let favor = &r.per_class["favor"];
        assert!((favor.precision - 0.5).abs() < 1e-12 && (favor.recall - 0.5).abs() < 1e-12);
        let against = &r.per_class["against"];
        assert!(
            (against.precision - 2.0 / 3.0).abs() < 1e-12 && (against.recall - 1.0).abs() < 1e-12
        );
        assert!((r.f_avg.unwrap() - (0.5 + 0.8) / 2.0).abs() < 1e-12);
        assert!((r.macro_f1 - (0.5 + 0.8 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
        assert_eq!(r.confusion["favor"]["against"], 1);
    }

    #[test]
    fn classes_absent_from_gold_do_not_count_in_macro_f1() {
        let labels: Vec<String> = ["favor", "against", "neutral"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let r = report(&labels, &[0, 1], &[0, 1]);
        assert_eq!(r.macro_f1, 1.0);
    }

    #[test]
    fn calibration_by_hand() {
        // Four rows 90 % sure, three of them right: one bin, |0.9 − 0.75|.
        let p = [[0.9f32, 0.1], [0.9, 0.1], [0.9, 0.1], [0.9, 0.1]];
        let c = calibration(&p, &[0, 0, 0, 1]);
        assert!((c.ece - 0.15).abs() < 1e-6, "{c:?}");
        let nll = -(3.0 * 0.9f64.ln() + 0.1f64.ln()) / 4.0;
        assert!((c.nll - nll).abs() < 1e-6);
        // Right as often as sure: no gap.
        let p = [[0.5f32, 0.5], [0.5, 0.5]];
        assert!(calibration(&p, &[0, 1]).ece < 1e-9);
    }
}
