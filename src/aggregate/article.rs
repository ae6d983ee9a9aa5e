//! Article aggregation: the author's stance toward each target, and each
//! actor's, from the stances of the article's sentences and their holders.
//! The method and the choice of its parameters are in `docs/method.md`.

use crate::article::{ActorStance, ArticleRecord, ArticleStance, SentenceStance};
use crate::stance::targets::Target;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Version of this method; with the parameters, part of the pipeline
/// fingerprint so a change recomputes stored records.
pub const VERSION: &str = "aggregate-1";

/// Tuning of the method. The defaults were chosen on the dev articles only
/// (see `docs/method.md`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// |score| above this is `favor` / `against`, else `neutral`.
    pub threshold: f32,
    /// A relevant piece has at least this share of stance-bearing sentences…
    pub min_share: f32,
    /// …and at least this many cue hits (a sentence naming a target cue
    /// counts 1, a title or standfirst naming one counts `title_cue_weight`).
    pub min_cues: f32,
    pub title_cue_weight: f32,
    /// Weight of the first `lede_sentences` sentences, which state the
    /// argument of a commentary piece more often than the rest.
    pub lede_weight: f32,
    pub lede_sentences: usize,
    /// Number of evidence sentences kept.
    pub evidence: usize,
    /// Sentence resamples behind `confidence`.
    pub resamples: usize,
}

impl Params {
    /// Method version and a digest of the parameters and the targets' cues.
    pub fn fingerprint(&self, targets: &[Target]) -> String {
        let cues: Vec<(&str, &[String])> = targets
            .iter()
            .map(|t| (t.id.as_str(), t.cues.as_slice()))
            .collect();
        let digest = <sha2::Sha256 as sha2::Digest>::digest(format!("{self:?}{cues:?}").as_bytes());
        format!("{VERSION}-{}", &hex::encode(digest)[..8])
    }
}

impl Default for Params {
    fn default() -> Self {
        Params {
            threshold: 0.05,
            min_share: 0.3,
            min_cues: 5.0,
            title_cue_weight: 2.0,
            lede_weight: 1.5,
            lede_sentences: 2,
            evidence: 3,
            resamples: 200,
        }
    }
}

/// Fixed seed of the confidence resampling: the same record always gets
/// the same confidence.
const SEED: u64 = 0x5eed_0005;

/// Fill `record.stance` for every target and `actors[].stance` for every
/// actor that holds a stance in some sentence.
///
/// Sentences whose holder is `author` make the author's stance; those
/// whose holder is an actor id make that actor's. A record without any
/// holder (attribution did not run) counts every stance-bearing sentence as
/// the author's.
pub fn aggregate(record: &mut ArticleRecord, targets: &[Target], params: &Params) {
    let attributed = record
        .sentences
        .iter()
        .any(|s| s.stance.values().any(|st| st.holder.is_some()));
    record.stance.clear();
    for a in &mut record.actors {
        a.stance.clear();
    }
    for target in targets {
        let stances: Vec<Option<&SentenceStance>> = record
            .sentences
            .iter()
            .map(|s| s.stance.get(&target.id))
            .collect();
        if stances.iter().all(Option::is_none) {
            continue;
        }
        let cues: Vec<f32> = record
            .sentences
            .iter()
            .map(|s| f32::from(u8::from(mentions_cue(&s.text, &target.cues))))
            .collect();
        let head = [record.title.as_deref(), record.standfirst.as_deref()]
            .iter()
            .flatten()
            .any(|t| mentions_cue(t, &target.cues));
        let title_cues = if head { params.title_cue_weight } else { 0.0 };
        // A target without cues has only the share rule.
        let min_cues = if target.cues.is_empty() {
            0.0
        } else {
            params.min_cues
        };
        let author = |st: &SentenceStance| match &st.holder {
            Some(h) => h == "author",
            None => !attributed && st.label != "none",
        };
        let sample = Sample {
            stances: &stances,
            cues: &cues,
            title_cues,
            min_cues,
        };
        let all: Vec<usize> = (0..stances.len()).collect();
        let (label, score) = sample.author_label(&all, &author, params);
        let confidence = sample.confidence(&label, &author, params, &target.id);
        let strongest = evidence(&stances, &label, &author, params.evidence);
        record.stance.insert(
            target.id.clone(),
            ArticleStance {
                relevant: label != "none",
                label,
                score,
                confidence,
                evidence: strongest,
            },
        );
        for actor in &mut record.actors {
            let held = |st: &SentenceStance| st.holder.as_deref() == Some(actor.id.as_str());
            let Some(score) = polarity(&stances, &all, &held, 1.0, 0) else {
                continue;
            };
            let label = polar_label(score, params.threshold).to_string();
            let evidence = evidence(&stances, &label, &held, params.evidence);
            actor.stance.insert(
                target.id.clone(),
                ActorStance {
                    label,
                    score,
                    evidence,
                },
            );
        }
    }
}

/// Case-insensitive substring match: cues such as `negotiat` are prefixes.
fn mentions_cue(text: &str, cues: &[String]) -> bool {
    let text = text.to_lowercase();
    cues.iter().any(|c| text.contains(&c.to_lowercase()))
}

/// One target's view of an article, resampled for the confidence.
struct Sample<'a> {
    stances: &'a [Option<&'a SentenceStance>],
    cues: &'a [f32],
    title_cues: f32,
    min_cues: f32,
}

impl Sample<'_> {
    /// The author's label and score over the sentences `idx` (with repeats
    /// when resampled).
    fn author_label(
        &self,
        idx: &[usize],
        author: &dyn Fn(&SentenceStance) -> bool,
        params: &Params,
    ) -> (String, f32) {
        let score = polarity(
            self.stances,
            idx,
            author,
            params.lede_weight,
            params.lede_sentences,
        );
        let bearing = idx
            .iter()
            .filter(|&&i| self.stances[i].is_some_and(|s| s.label != "none"))
            .count();
        let share = bearing as f32 / idx.len().max(1) as f32;
        let cues = self.title_cues + idx.iter().map(|&i| self.cues[i]).sum::<f32>();
        let relevant = share >= params.min_share && cues >= self.min_cues;
        match score {
            Some(s) if relevant => (polar_label(s, params.threshold).to_string(), s),
            Some(s) => ("none".to_string(), s),
            None => ("none".to_string(), 0.0),
        }
    }

    /// Share of sentence resamples (with replacement) whose label equals
    /// `label`: how much the verdict depends on which sentences happen to
    /// be in the piece.
    fn confidence(
        &self,
        label: &str,
        author: &dyn Fn(&SentenceStance) -> bool,
        params: &Params,
        target: &str,
    ) -> f32 {
        let n = self.stances.len();
        if n == 0 || params.resamples == 0 {
            return 0.0;
        }
        let mut rng = ChaCha8Rng::seed_from_u64(SEED ^ fnv(target));
        let mut same = 0;
        let mut idx = vec![0; n];
        for _ in 0..params.resamples {
            for slot in idx.iter_mut() {
                *slot = rng.gen_range(0..n);
            }
            // Resampled indices lose their position; keep the lede weight by
            // sorting, so index < lede_sentences still means "in the lede".
            idx.sort_unstable();
            if self.author_label(&idx, author, params).0 == label {
                same += 1;
            }
        }
        same as f32 / params.resamples as f32
    }
}

/// Probability-weighted polarity of the sentences in `idx` that `keep`
/// selects: Σw(p_favor − p_against) / Σw(p_favor + p_against + p_neutral),
/// in [-1, 1]. Neutral mass in the denominator pulls balanced, explanatory
/// pieces toward 0. None when no sentence is selected.
fn polarity(
    stances: &[Option<&SentenceStance>],
    idx: &[usize],
    keep: &dyn Fn(&SentenceStance) -> bool,
    lede_weight: f32,
    lede_sentences: usize,
) -> Option<f32> {
    let (mut num, mut den, mut any) = (0.0f32, 0.0f32, false);
    for &i in idx {
        let Some(st) = stances[i].filter(|s| s.label != "none" && keep(s)) else {
            continue;
        };
        let w = if i < lede_sentences { lede_weight } else { 1.0 };
        let (f, a, n) = (p(st, "favor"), p(st, "against"), p(st, "neutral"));
        num += w * (f - a);
        den += w * (f + a + n);
        any = true;
    }
    any.then(|| {
        if den > 0.0 {
            (num / den).clamp(-1.0, 1.0)
        } else {
            0.0
        }
    })
}

fn polar_label(score: f32, threshold: f32) -> &'static str {
    if score > threshold {
        "favor"
    } else if score < -threshold {
        "against"
    } else {
        "neutral"
    }
}

fn p(st: &SentenceStance, label: &str) -> f32 {
    st.probs.get(label).copied().unwrap_or(0.0)
}

/// The `k` selected sentences that most support `label`: highest
/// probability of that label, earlier sentence first on ties. Sentences
/// labelled `label` come before the others.
fn evidence(
    stances: &[Option<&SentenceStance>],
    label: &str,
    keep: &dyn Fn(&SentenceStance) -> bool,
    k: usize,
) -> Vec<usize> {
    if label == "none" {
        return Vec::new();
    }
    let mut cand: Vec<(bool, f32, usize)> = stances
        .iter()
        .enumerate()
        .filter_map(|(i, s)| {
            s.filter(|s| s.label != "none" && keep(s))
                .map(|s| (s.label == label, p(s, label), i))
        })
        .collect();
    cand.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.total_cmp(&a.1)).then(a.2.cmp(&b.2)));
    cand.into_iter().take(k).map(|c| c.2).collect()
}

/// FNV-1a, to derive a per-target seed that does not depend on the
/// standard library's randomised hasher.
fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::article::{Actor, Article, Metadata, Sentence};
    use std::collections::BTreeMap;

    fn target() -> Target {
        Target {
            id: "t".into(),
            name: "T".into(),
            description: "talks".into(),
            cues: vec!["talks".into()],
        }
    }

    fn st(label: &str, f: f32, a: f32, n: f32, holder: Option<&str>) -> SentenceStance {
        let none = 1.0 - f - a - n;
        SentenceStance {
            label: label.into(),
            probs: [
                ("favor".to_string(), f),
                ("against".to_string(), a),
                ("neutral".to_string(), n),
                ("none".to_string(), none),
            ]
            .into_iter()
            .collect(),
            holder: holder.map(String::from),
        }
    }

    /// A record whose sentences all mention the cue, with the given stances.
    fn record(stances: Vec<SentenceStance>) -> ArticleRecord {
        let sentences = stances
            .into_iter()
            .enumerate()
            .map(|(i, s)| {
                let mut x = Sentence::new(i * 10, i * 10 + 9, format!("talks {i}."));
                x.stance.insert("t".into(), s);
                x
            })
            .collect();
        let mut r = ArticleRecord::new(
            Article {
                id: "a".into(),
                source: "a.txt".into(),
                meta: Metadata {
                    title: Some("On talks".into()),
                    ..Metadata::default()
                },
                text: String::new(),
                warnings: vec![],
            },
            sentences,
        );
        r.actors.push(Actor {
            id: "kim".into(),
            name: "Kim".into(),
            kind: "PER".into(),
            mentions: 3,
            stance: BTreeMap::new(),
        });
        r
    }

    #[test]
    fn author_and_actor_stances_come_from_their_own_sentences() {
        let mut r = record(vec![
            st("against", 0.05, 0.9, 0.05, Some("author")),
            st("favor", 0.9, 0.05, 0.05, Some("kim")),
            st("against", 0.1, 0.8, 0.1, Some("author")),
            st("favor", 0.8, 0.1, 0.1, Some("kim")),
            st("against", 0.2, 0.6, 0.2, Some("author")),
            st("against", 0.3, 0.5, 0.2, Some("author")),
        ]);
        aggregate(&mut r, &[target()], &Params::default());
        let a = &r.stance["t"];
        assert_eq!(a.label, "against");
        assert!(a.relevant);
        assert!(a.score < -0.5 && a.score >= -1.0, "{}", a.score);
        assert_eq!(a.evidence, vec![0, 2, 4], "strongest against first");
        assert!(a.confidence > 0.9 && a.confidence <= 1.0);
        let k = &r.actors[0].stance["t"];
        assert_eq!(k.label, "favor");
        assert_eq!(k.evidence, vec![1, 3]);
    }

    #[test]
    fn balanced_or_neutral_sentences_give_neutral() {
        let mut r = record(vec![
            st("favor", 0.6, 0.2, 0.2, Some("author")),
            st("against", 0.2, 0.6, 0.2, Some("author")),
            st("neutral", 0.1, 0.1, 0.8, Some("author")),
            st("neutral", 0.1, 0.1, 0.8, Some("author")),
        ]);
        aggregate(&mut r, &[target()], &Params::default());
        assert_eq!(r.stance["t"].label, "neutral");
        assert!(r.stance["t"].score.abs() < 0.05);
        // Neutral sentences first, then the most neutral of the rest.
        assert_eq!(r.stance["t"].evidence, vec![2, 3, 0]);
    }

    #[test]
    fn few_stance_bearing_sentences_make_the_piece_irrelevant() {
        let mut stances = vec![st("favor", 0.9, 0.05, 0.05, Some("author"))];
        stances.extend((0..9).map(|_| st("none", 0.01, 0.01, 0.01, None)));
        let mut r = record(stances);
        aggregate(&mut r, &[target()], &Params::default());
        let a = &r.stance["t"];
        assert_eq!((a.label.as_str(), a.relevant), ("none", false));
        assert!(a.evidence.is_empty());
        assert!(r.actors[0].stance.is_empty(), "kim holds nothing");
    }

    #[test]
    fn without_cues_the_piece_is_not_about_the_target() {
        let mut r = record(vec![st("favor", 0.9, 0.05, 0.05, Some("author")); 6]);
        for s in &mut r.sentences {
            s.text = "Unrelated.".into();
        }
        r.title = None;
        aggregate(&mut r, &[target()], &Params::default());
        assert_eq!(r.stance["t"].label, "none");
    }

    #[test]
    fn a_target_without_cues_needs_only_stance_bearing_sentences() {
        let mut r = record(vec![st("favor", 0.9, 0.05, 0.05, Some("author")); 6]);
        for s in &mut r.sentences {
            s.text = "Unrelated.".into();
        }
        let mut t = target();
        t.cues.clear();
        aggregate(&mut r, &[t], &Params::default());
        assert_eq!(r.stance["t"].label, "favor");
    }

    #[test]
    fn records_without_holders_count_stance_sentences_as_the_authors() {
        let mut r = record(vec![st("favor", 0.8, 0.1, 0.1, None); 5]);
        aggregate(&mut r, &[target()], &Params::default());
        assert_eq!(r.stance["t"].label, "favor");
        // …but once any holder is set, unattributed sentences count for no one.
        r.sentences[0].stance.get_mut("t").unwrap().holder = Some("kim".into());
        aggregate(&mut r, &[target()], &Params::default());
        assert_eq!(r.stance["t"].label, "none");
        assert_eq!(r.actors[0].stance["t"].label, "favor");
    }

    #[test]
    fn same_record_same_result() {
        let mk = || {
            let mut r = record(vec![
                st("favor", 0.5, 0.3, 0.2, Some("author")),
                st("against", 0.3, 0.5, 0.2, Some("author")),
                st("favor", 0.45, 0.35, 0.2, Some("author")),
            ]);
            aggregate(&mut r, &[target()], &Params::default());
            r
        };
        assert_eq!(mk(), mk());
    }
}
