//! The data of a continued training run ("retrain"): new annotations,
//! checked for repeats and conflicts, split into a training part and a
//! held-out part, and mixed with a seeded sample of the base training data
//! (replay), so old targets and cases are not forgotten.

use super::active::sentence_key;
use super::annotations::Annotated;
use super::data::LabelledSentence;
use rand::seq::SliceRandom;
use rand::{rngs::StdRng, SeedableRng};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};

#[derive(Debug, Clone, PartialEq)]
pub struct RetrainConfig {
    /// Share of the new sentences held out for evaluation.
    pub holdout: f64,
    /// Base sentences replayed; `None`: twice the new training sentences.
    pub replay: Option<usize>,
    pub seed: u64,
}

/// The assembled data and what was done to get it.
#[derive(Debug, Clone, Default)]
pub struct RetrainData {
    /// Shuffled: new training sentences and replayed base sentences.
    pub train: Vec<LabelledSentence>,
    /// Held-out new sentences (whole articles when there are several).
    pub holdout: Vec<LabelledSentence>,
    pub new_train: usize,
    pub replayed: usize,
    /// Things the analyst should know (repeats dropped, corrections, …).
    pub notes: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum RetrainError {
    #[error("{} sentence(s) are labelled twice with different labels:\n  {}", .0.len(), .0.join("\n  "))]
    Conflicts(Vec<String>),
    #[error("no new sentences left to train on ({0})")]
    NothingNew(String),
}

/// Assemble the data. `new` are the labelled annotation lines; `base` the
/// base training data; `regression` the fixed regression set, which new
/// sentences must not leak into training.
pub fn assemble(
    new: &[Annotated],
    base: &[LabelledSentence],
    regression: &[LabelledSentence],
    cfg: &RetrainConfig,
) -> Result<RetrainData, RetrainError> {
    let mut notes = Vec::new();
    // Repeats with the same label are dropped; different labels are an error.
    let mut first: HashMap<(String, String), &Annotated> = HashMap::new();
    let mut conflicts = Vec::new();
    let mut unique: Vec<&Annotated> = Vec::new();
    let mut repeats = Vec::new();
    for a in new {
        let k = sentence_key(&a.sentence.text, &a.sentence.target);
        match first.get(&k) {
            None => {
                first.insert(k, a);
                unique.push(a);
            }
            Some(f) if f.sentence.label == a.sentence.label => {
                repeats.push(format!("{} repeats {}", a.place(), f.place()))
            }
            Some(f) => conflicts.push(format!(
                "{} ({}) and {} ({}): {:?}",
                f.place(),
                f.sentence.label.as_deref().unwrap_or(""),
                a.place(),
                a.sentence.label.as_deref().unwrap_or(""),
                short(&a.sentence.text)
            )),
        }
    }
    if !conflicts.is_empty() {
        return Err(RetrainError::Conflicts(conflicts));
    }
    if !repeats.is_empty() {
        notes.push(format!(
            "{} repeated sentence(s) used once: {}",
            repeats.len(),
            repeats.join("; ")
        ));
    }
    // A regression sentence in the training data would flatter the
    // regression score: such lines are left out.
    let in_regression: HashSet<_> = regression
        .iter()
        .map(|s| sentence_key(&s.text, &s.target))
        .collect();
    let before = unique.len();
    unique.retain(|a| !in_regression.contains(&sentence_key(&a.sentence.text, &a.sentence.target)));
    if unique.len() < before {
        notes.push(format!(
            "{} new sentence(s) are in the regression set and were left out",
            before - unique.len()
        ));
    }
    if unique.is_empty() {
        return Err(RetrainError::NothingNew(format!(
            "{} labelled line(s) read, all repeats or regression-set sentences",
            new.len()
        )));
    }

    let held = holdout_of(&unique, cfg);
    let mut holdout = Vec::new();
    let mut train = Vec::new();
    for (i, a) in unique.iter().enumerate() {
        if held.contains(&i) {
            holdout.push(a.sentence.clone());
        } else {
            train.push(a.sentence.clone());
        }
    }
    if train.is_empty() {
        return Err(RetrainError::NothingNew(format!(
            "all {} new sentence(s) were held out: lower --holdout",
            holdout.len()
        )));
    }
    let new_train = train.len();

    // New labels win over the base data's: a base sentence the analyst
    // labelled again is not replayed (it is a correction, or a repeat).
    let new_keys: HashMap<_, _> = unique
        .iter()
        .map(|a| {
            (
                sentence_key(&a.sentence.text, &a.sentence.target),
                a.sentence.label.clone(),
            )
        })
        .collect();
    let mut corrections = 0;
    let mut pool: Vec<&LabelledSentence> = base
        .iter()
        .filter(|s| match new_keys.get(&sentence_key(&s.text, &s.target)) {
            Some(l) => {
                corrections += usize::from(*l != s.label);
                false
            }
            None => true,
        })
        .collect();
    if corrections > 0 {
        notes.push(format!(
            "{corrections} base sentence(s) relabelled in the new annotations: the new label is used"
        ));
    }
    let mut rng = StdRng::seed_from_u64(cfg.seed);
    pool.shuffle(&mut rng);
    let want = cfg.replay.unwrap_or(2 * new_train).min(pool.len());
    train.extend(pool.into_iter().take(want).cloned());
    train.shuffle(&mut rng);
    Ok(RetrainData {
        train,
        holdout,
        new_train,
        replayed: want,
        notes,
    })
}

/// Indices of the held-out sentences. With sentences from four or more
/// articles, whole articles are held out (no sentence of a held-out article
/// is trained on); otherwise single sentences. The choice hangs on a hash
/// of the seed and the article id or text, not on file order.
fn holdout_of(unique: &[&Annotated], cfg: &RetrainConfig) -> HashSet<usize> {
    let want = (unique.len() as f64 * cfg.holdout).round() as usize;
    if want == 0 {
        return HashSet::new();
    }
    let rank = |s: &str| {
        let mut h = Sha256::new();
        h.update(cfg.seed.to_le_bytes());
        h.update(s.as_bytes());
        hex::encode(h.finalize())
    };
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, a) in unique.iter().enumerate() {
        let g = a.sentence.article_id.clone().unwrap_or_default();
        groups.entry(g).or_default().push(i);
    }
    let by_article = groups.len() >= 4 && !groups.contains_key("");
    let mut units: Vec<(String, Vec<usize>)> = if by_article {
        groups.into_iter().map(|(g, v)| (rank(&g), v)).collect()
    } else {
        unique
            .iter()
            .enumerate()
            .map(|(i, a)| (rank(&a.sentence.text), vec![i]))
            .collect()
    };
    units.sort();
    let mut held = HashSet::new();
    for (_, members) in units {
        if held.len() >= want {
            break;
        }
        held.extend(members);
    }
    held
}

/// A hash of a list of sentences (the held-out part has no file of its own).
pub fn sentences_sha256(sentences: &[LabelledSentence]) -> String {
    let mut h = Sha256::new();
    for s in sentences {
        h.update(serde_json::to_string(s).expect("a sentence serialises"));
        h.update(b"\n");
    }
    hex::encode(h.finalize())
}

fn short(s: &str) -> String {
    let mut t: String = s.chars().take(60).collect();
    if t.len() < s.len() {
        t += "…";
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn s(text: &str, label: &str, article: &str) -> LabelledSentence {
        LabelledSentence {
            text: text.into(),
            context: None,
            target: "t".into(),
            label: Some(label.into()),
            holder: None,
            article_id: Some(article.into()),
            extra: Default::default(),
        }
    }

    fn ann(line: usize, sentence: LabelledSentence) -> Annotated {
        Annotated {
            path: PathBuf::from("new.jsonl"),
            line,
            sentence,
        }
    }

    fn cfg(holdout: f64, replay: Option<usize>) -> RetrainConfig {
        RetrainConfig {
            holdout,
            replay,
            seed: 13,
        }
    }

    fn new_set(articles: usize, per: usize) -> Vec<Annotated> {
        (0..articles * per)
            .map(|i| {
                ann(
                    i + 1,
                    s(&format!("new {i}"), "favor", &format!("art{}", i / per)),
                )
            })
            .collect()
    }

    #[test]
    fn holds_out_whole_articles_and_replays_twice_the_new_data() {
        let base: Vec<_> = (0..100)
            .map(|i| s(&format!("base {i}"), "none", "b"))
            .collect();
        let new = new_set(8, 5);
        let d = assemble(&new, &base, &[], &cfg(0.25, None)).unwrap();
        assert_eq!(d.holdout.len(), 10);
        let held: HashSet<_> = d.holdout.iter().map(|s| s.article_id.clone()).collect();
        assert_eq!(held.len(), 2, "two whole articles");
        assert!(
            d.train.iter().all(|s| !held.contains(&s.article_id)),
            "no held-out article is trained on"
        );
        assert_eq!((d.new_train, d.replayed, d.train.len()), (30, 60, 90));
        // Seeded: the same call gives the same split and order.
        let again = assemble(&new, &base, &[], &cfg(0.25, None)).unwrap();
        assert_eq!(d.train, again.train);
        assert_eq!(d.holdout, again.holdout);
        // Replay is capped by the base data.
        let d = assemble(&new, &base[..10], &[], &cfg(0.25, None)).unwrap();
        assert_eq!(d.replayed, 10);
        let d = assemble(&new, &base, &[], &cfg(0.0, Some(5))).unwrap();
        assert_eq!((d.holdout.len(), d.replayed), (0, 5));
    }

    #[test]
    fn few_articles_hold_out_single_sentences() {
        let d = assemble(&new_set(2, 10), &[], &[], &cfg(0.2, None)).unwrap();
        assert_eq!(d.holdout.len(), 4);
        let arts: HashSet<_> = d.holdout.iter().map(|s| s.article_id.clone()).collect();
        assert!(d.new_train == 16 && !arts.is_empty());
    }

    #[test]
    fn conflicting_labels_name_both_lines() {
        let new = vec![
            ann(3, s("Talks now.", "favor", "a")),
            ann(9, s("talks  now.", "against", "a")),
        ];
        let e = assemble(&new, &[], &[], &cfg(0.0, None))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("new.jsonl:3 (favor) and new.jsonl:9 (against)"),
            "{e}"
        );
    }

    #[test]
    fn repeats_regression_leaks_and_corrections_are_handled() {
        let new = vec![
            ann(1, s("One.", "favor", "a")),
            ann(2, s("One.", "favor", "a")),
            ann(3, s("In the test set.", "none", "a")),
            ann(4, s("Base says none.", "against", "a")),
        ];
        let base = vec![s("Base says none.", "none", "b"), s("Other.", "none", "b")];
        let regression = vec![s("In the test set.", "none", "r")];
        let d = assemble(&new, &base, &regression, &cfg(0.0, None)).unwrap();
        assert_eq!(d.new_train, 2);
        assert_eq!(d.replayed, 1, "the corrected base sentence is not replayed");
        assert!(d.train.iter().all(|s| s.text != "In the test set."));
        let notes = d.notes.join("\n");
        assert!(notes.contains("new.jsonl:2 repeats new.jsonl:1"), "{notes}");
        assert!(
            notes.contains("1 new sentence(s) are in the regression set"),
            "{notes}"
        );
        assert!(notes.contains("1 base sentence(s) relabelled"), "{notes}");
        let only_test = vec![ann(1, s("In the test set.", "none", "a"))];
        assert!(matches!(
            assemble(&only_test, &base, &regression, &cfg(0.0, None)),
            Err(RetrainError::NothingNew(_))
        ));
    }
}
