//! Choosing the sentences most worth labelling (active learning): the ones
//! the model is least sure of, spread across articles so one long,
//! confusing piece does not fill the whole batch.

use super::annotations::Candidate;
use std::collections::{HashMap, HashSet};

/// How unsure a prediction is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Uncertainty {
    /// 1 − (p₁ − p₂): the two likeliest labels are close.
    Margin,
    /// Entropy of the four probabilities, divided by ln 4.
    Entropy,
}

/// Uncertainty of one probability vector, in [0, 1] (1 = no idea).
pub fn uncertainty(p: &[f32; 4], how: Uncertainty) -> f32 {
    match how {
        Uncertainty::Margin => {
            let mut s = *p;
            s.sort_by(|a, b| b.total_cmp(a));
            1.0 - (s[0] - s[1])
        }
        Uncertainty::Entropy => {
            let h: f32 = p.iter().filter(|&&x| x > 0.0).map(|&x| -x * x.ln()).sum();
            h / 4f32.ln()
        }
    }
}

/// The key under which two sentences count as the same: case, spacing and
/// quote styles ignored, per target.
pub fn sentence_key(text: &str, target: &str) -> (String, String) {
    let t: String = text
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
        .chars()
        .map(|c| match c {
            '‘' | '’' | '‛' => '\'',
            '“' | '”' | '„' => '"',
            '\u{2011}' | '‐' => '-',
            c => c,
        })
        .collect();
    (t, target.to_string())
}

/// Drop sentences already labelled (`known`) and repeats of a sentence
/// (the same piece quoted twice, or stored twice); the first one is kept.
pub fn skip_known(
    candidates: Vec<Candidate>,
    known: &HashSet<(String, String)>,
) -> (Vec<Candidate>, usize, usize) {
    let mut seen = HashSet::new();
    let (mut labelled, mut repeats) = (0, 0);
    let kept = candidates
        .into_iter()
        .filter(|c| {
            let k = sentence_key(&c.text, &c.target);
            if known.contains(&k) {
                labelled += 1;
                false
            } else if !seen.insert(k) {
                repeats += 1;
                false
            } else {
                true
            }
        })
        .collect();
    (kept, labelled, repeats)
}

/// Pick up to `n` sentences: each article's candidates are ranked by
/// uncertainty, and picking goes round by round — one sentence from every
/// article per round, the most uncertain first — so a second sentence of an
/// article is only taken once every article has given one. `max_per_article`
/// caps what one article can give. The result is in pick order.
pub fn select(
    candidates: Vec<Candidate>,
    n: usize,
    max_per_article: Option<usize>,
) -> Vec<Candidate> {
    let mut order: Vec<String> = Vec::new();
    let mut by_article: HashMap<String, Vec<Candidate>> = HashMap::new();
    for c in candidates {
        if !by_article.contains_key(&c.article_id) {
            order.push(c.article_id.clone());
        }
        by_article.entry(c.article_id.clone()).or_default().push(c);
    }
    let mut queues: Vec<std::collections::VecDeque<Candidate>> = order
        .iter()
        .map(|a| {
            let mut v = by_article.remove(a).unwrap_or_default();
            // Stable: equal scores keep reading order.
            v.sort_by(|x, y| y.uncertainty.total_cmp(&x.uncertainty));
            if let Some(m) = max_per_article {
                v.truncate(m);
            }
            v.into()
        })
        .collect();
    let mut picked = Vec::with_capacity(n);
    while picked.len() < n {
        let mut round: Vec<Candidate> = queues.iter_mut().filter_map(|q| q.pop_front()).collect();
        if round.is_empty() {
            break;
        }
        round.sort_by(|x, y| y.uncertainty.total_cmp(&x.uncertainty));
        round.truncate(n - picked.len());
        picked.extend(round);
    }
    picked
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(article: &str, text: &str, u: f32) -> Candidate {
        Candidate {
            text: text.into(),
            context: None,
            article_id: article.into(),
            title: None,
            date: None,
            target: "t".into(),
            predicted: "none".into(),
            probs: [0.25; 4],
            uncertainty: u,
            model_version: "v".into(),
        }
    }

    #[test]
    fn margin_and_entropy_rank_unsure_predictions_higher() {
        let sure = [0.97, 0.01, 0.01, 0.01];
        let torn = [0.45, 0.44, 0.06, 0.05];
        let flat = [0.25; 4];
        for how in [Uncertainty::Margin, Uncertainty::Entropy] {
            assert!(uncertainty(&sure, how) < uncertainty(&torn, how), "{how:?}");
            assert!((uncertainty(&flat, how) - 1.0).abs() < 1e-5, "{how:?}");
        }
        // Margin sees a two-way tie that entropy rates lower than a flat vector.
        assert!(uncertainty(&torn, Uncertainty::Margin) > 0.98);
        assert!(uncertainty(&torn, Uncertainty::Entropy) < 0.8);
    }

    #[test]
    fn selection_spreads_over_articles_before_taking_seconds() {
        let cands = vec![
            c("a", "a1", 0.99),
            c("a", "a2", 0.98),
            c("a", "a3", 0.97),
            c("b", "b1", 0.50),
            c("c", "c1", 0.60),
            c("c", "c2", 0.10),
        ];
        let texts = |v: Vec<Candidate>| v.into_iter().map(|c| c.text).collect::<Vec<_>>();
        assert_eq!(
            texts(select(cands.clone(), 4, None)),
            ["a1", "c1", "b1", "a2"]
        );
        assert_eq!(
            texts(select(cands.clone(), 10, None)),
            ["a1", "c1", "b1", "a2", "c2", "a3"]
        );
        assert_eq!(
            texts(select(cands, 10, Some(1))),
            ["a1", "c1", "b1"],
            "at most one per article"
        );
    }

    #[test]
    fn labelled_and_repeated_sentences_are_skipped() {
        let known: HashSet<_> = [sentence_key("Talks  resumed’.", "t")].into();
        let (kept, labelled, repeats) = skip_known(
            vec![
                c("a", "talks resumed'.", 0.9),
                c("a", "New one.", 0.9),
                c("b", "new  ONE.", 0.8),
            ],
            &known,
        );
        assert_eq!((kept.len(), labelled, repeats), (1, 1, 1));
        assert_eq!(kept[0].text, "New one.");
    }
}
