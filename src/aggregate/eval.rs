//! Article-level evaluation: author stances, actor stances and sentence
//! holders of aggregated records against the team's gold.
//!
//! Gold articles are named by their corpus file stem (`s03_a-handshake…`,
//! `000_e54d…`); a record matches when its source file has that stem or its
//! id equals it.

use super::slug;
use crate::article::ArticleRecord;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// Article split of `scripts/make-stance-splits` (keep the two in step):
/// thresholds are chosen on `dev`, `test` is held out.
const TEST: &[&str] = &[
    "000_e54d198a35ed2720",
    "s03",
    "s06",
    "s13",
    "s17",
    "s19",
    "s24",
    "s26",
    "s33",
    "s39",
];
const DEV: &[&str] = &["s02", "s09", "s12", "s15", "s23", "s29", "s32", "s36"];

/// The split an article of the demo corpus belongs to.
pub fn split_of(article: &str) -> &'static str {
    let key = if article.starts_with('s') {
        article.split('_').next().unwrap_or(article)
    } else {
        article
    };
    if TEST.contains(&key) {
        "test"
    } else if DEV.contains(&key) {
        "dev"
    } else {
        "train"
    }
}

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}:{line}: {source}")]
    Json {
        path: String,
        line: usize,
        #[source]
        source: serde_json::Error,
    },
}

/// One gold article.
#[derive(Debug, Clone, Deserialize)]
pub struct GoldArticle {
    pub article: String,
    pub gold: BTreeMap<String, GoldTarget>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct GoldTarget {
    pub author_stance: String,
    /// Canonical actor name → label.
    #[serde(default)]
    pub actors: BTreeMap<String, String>,
}

/// One labelled sentence of the domain stance data (`data/stance/*.jsonl`).
#[derive(Debug, Clone, Deserialize)]
pub struct GoldSentence {
    pub text: String,
    pub target: String,
    pub label: String,
    /// `author`, a canonical actor name, or absent.
    #[serde(default)]
    pub holder: Option<String>,
    #[serde(default)]
    pub article_id: Option<String>,
}

/// Read a JSON Lines file, naming file and line on a bad record.
pub fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>, EvalError> {
    let p = path.display().to_string();
    let raw = std::fs::read_to_string(path).map_err(|source| EvalError::Io {
        path: p.clone(),
        source,
    })?;
    raw.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|source| EvalError::Json {
                path: p.clone(),
                line: i + 1,
                source,
            })
        })
        .collect()
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Accuracy {
    pub correct: usize,
    pub total: usize,
    /// None when nothing was scored.
    pub accuracy: Option<f64>,
}

impl Accuracy {
    fn add(&mut self, ok: bool) {
        self.correct += usize::from(ok);
        self.total += 1;
        self.accuracy = Some(self.correct as f64 / self.total as f64);
    }
}

/// Accuracy overall and per split.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BySplit {
    pub all: Accuracy,
    pub dev: Accuracy,
    pub test: Accuracy,
    pub train: Accuracy,
}

impl BySplit {
    fn add(&mut self, split: &str, ok: bool) {
        self.all.add(ok);
        match split {
            "dev" => self.dev.add(ok),
            "test" => self.test.add(ok),
            _ => self.train.add(ok),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mismatch {
    pub article: String,
    pub split: &'static str,
    pub target: String,
    /// The actor, for actor-stance mismatches.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    pub gold: String,
    /// `missing` when the record has no stance for it.
    pub predicted: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct StanceScores {
    #[serde(flatten)]
    pub accuracy: BySplit,
    pub mismatches: Vec<Mismatch>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HolderScores {
    /// Stance-bearing gold sentences found in the records.
    #[serde(flatten)]
    pub accuracy: BySplit,
    /// Gold sentences not found in any record: titles and standfirsts (not
    /// sentences of the body) and standalone sentences of no corpus piece.
    pub unmatched: usize,
    /// Gold holder kind → predicted kind (`author`, `actor`, `none`) counts.
    pub confusion: BTreeMap<String, BTreeMap<String, usize>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ArticleEval {
    pub gold_articles: usize,
    /// Gold articles without a record.
    pub unmatched_articles: Vec<String>,
    pub author_stance: StanceScores,
    /// Gold actors, matched by the slug of the canonical name; an actor
    /// without a stance counts as wrong (`predicted: missing`).
    pub actor_stance: StanceScores,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<HolderScores>,
}

/// The corpus file stem a record was read from.
fn stem(record: &ArticleRecord) -> &str {
    let source = record.source.split(':').next().unwrap_or(&record.source);
    let name = source.rsplit(['/', '\\']).next().unwrap_or(source);
    name.rsplit_once('.').map_or(name, |(s, _)| s)
}

fn norm(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Score `records` against gold articles and, when given, gold sentences.
pub fn evaluate(
    records: &[ArticleRecord],
    gold: &[GoldArticle],
    sentences: Option<&[GoldSentence]>,
) -> ArticleEval {
    let by_name: BTreeMap<&str, &ArticleRecord> = records
        .iter()
        .flat_map(|r| [(stem(r), r), (r.id.as_str(), r)])
        .collect();
    let mut out = ArticleEval {
        gold_articles: gold.len(),
        ..ArticleEval::default()
    };
    for g in gold {
        let Some(record) = by_name.get(g.article.as_str()) else {
            out.unmatched_articles.push(g.article.clone());
            continue;
        };
        let split = split_of(&g.article);
        for (target, gt) in &g.gold {
            let got = record.stance.get(target);
            let predicted = got.map_or("missing", |s| s.label.as_str());
            let ok = predicted == gt.author_stance;
            out.author_stance.accuracy.add(split, ok);
            if !ok {
                out.author_stance.mismatches.push(Mismatch {
                    article: g.article.clone(),
                    split,
                    target: target.clone(),
                    actor: None,
                    gold: gt.author_stance.clone(),
                    predicted: predicted.to_string(),
                    score: got.map(|s| s.score),
                    confidence: got.map(|s| s.confidence),
                });
            }
            for (name, label) in &gt.actors {
                let id = slug(name);
                let got = record
                    .actors
                    .iter()
                    .find(|a| a.id == id)
                    .and_then(|a| a.stance.get(target));
                let predicted = got.map_or("missing", |s| s.label.as_str());
                let ok = predicted == label;
                out.actor_stance.accuracy.add(split, ok);
                if !ok {
                    out.actor_stance.mismatches.push(Mismatch {
                        article: g.article.clone(),
                        split,
                        target: target.clone(),
                        actor: Some(name.clone()),
                        gold: label.clone(),
                        predicted: predicted.to_string(),
                        score: got.map(|s| s.score),
                        confidence: None,
                    });
                }
            }
        }
    }
    out.holder = sentences.map(|s| holders(&by_name, s));
    out
}

/// Holder accuracy over gold sentences with a stance (label not `none`).
fn holders(by_name: &BTreeMap<&str, &ArticleRecord>, gold: &[GoldSentence]) -> HolderScores {
    let mut out = HolderScores::default();
    for g in gold.iter().filter(|g| g.label != "none") {
        let article = g.article_id.as_deref().unwrap_or("");
        let want = norm(&g.text);
        let found = by_name.get(article).and_then(|r| {
            r.sentences
                .iter()
                .find(|s| norm(&s.text) == want)
                .map(|s| s.stance.get(&g.target).and_then(|st| st.holder.clone()))
        });
        let Some(predicted) = found else {
            out.unmatched += 1;
            continue;
        };
        let gold_id = g.holder.as_deref().map(|h| match h {
            "author" => "author".to_string(),
            name => slug(name),
        });
        out.accuracy.add(split_of(article), predicted == gold_id);
        let kind = |h: &Option<String>| match h.as_deref() {
            None => "none",
            Some("author") => "author",
            Some(_) => "actor",
        };
        *out.confusion
            .entry(kind(&gold_id).to_string())
            .or_default()
            .entry(kind(&predicted).to_string())
            .or_insert(0) += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::article::{Actor, ActorStance, Article, ArticleStance, Metadata, Sentence};

    fn record(source: &str, author: &str, actor: (&str, &str)) -> ArticleRecord {
        let mut r = ArticleRecord::new(
            Article {
                id: "x1".into(),
                source: source.into(),
                meta: Metadata::default(),
                text: "Talks now.".into(),
                warnings: vec![],
            },
            vec![Sentence::new(0, 10, "Talks  now.".into())],
        );
        r.stance.insert(
            "t".into(),
            ArticleStance {
                label: author.into(),
                score: 0.5,
                confidence: 0.9,
                relevant: true,
                evidence: vec![0],
            },
        );
        let mut a = Actor {
            id: actor.0.into(),
            name: actor.0.into(),
            kind: "PER".into(),
            mentions: 1,
            stance: BTreeMap::new(),
        };
        a.stance.insert(
            "t".into(),
            ActorStance {
                label: actor.1.into(),
                score: 0.5,
                evidence: vec![0],
            },
        );
        r.actors.push(a);
        r.sentences[0].stance.insert(
            "t".into(),
            crate::article::SentenceStance {
                label: "favor".into(),
                probs: BTreeMap::new(),
                holder: Some("kim-jong-un".into()),
            },
        );
        r
    }

    fn gold(line: &str) -> GoldArticle {
        serde_json::from_str(line).unwrap()
    }

    #[test]
    fn scores_author_actor_and_holder_per_split() {
        let recs = vec![
            record("corpus/s03_x.txt", "against", ("kim-jong-un", "favor")),
            record("corpus/s02_y.txt", "favor", ("kim-jong-un", "favor")),
        ];
        let g = vec![
            gold(
                r#"{"article":"s03_x","gold":{"t":{"author_stance":"against","actors":{"Kim Jong-un":"favor","Donald Trump":"favor"}}}}"#,
            ),
            gold(r#"{"article":"s02_y","gold":{"t":{"author_stance":"neutral","actors":{}}}}"#),
            gold(r#"{"article":"s99_z","gold":{"t":{"author_stance":"none","actors":{}}}}"#),
        ];
        let s: Vec<GoldSentence> = vec![
            serde_json::from_str(r#"{"text":"Talks now.","target":"t","label":"favor","holder":"Kim Jong-un","article_id":"s03_x"}"#).unwrap(),
            serde_json::from_str(r#"{"text":"Talks now.","target":"t","label":"favor","holder":"author","article_id":"s02_y"}"#).unwrap(),
            serde_json::from_str(r#"{"text":"A title","target":"t","label":"favor","holder":"author","article_id":"s02_y"}"#).unwrap(),
        ];
        let e = evaluate(&recs, &g, Some(&s));
        assert_eq!(e.unmatched_articles, vec!["s99_z".to_string()]);
        assert_eq!(
            (
                e.author_stance.accuracy.all.correct,
                e.author_stance.accuracy.all.total
            ),
            (1, 2)
        );
        assert_eq!(e.author_stance.accuracy.test.accuracy, Some(1.0));
        assert_eq!(e.author_stance.accuracy.dev.accuracy, Some(0.0));
        assert_eq!(e.author_stance.mismatches[0].predicted, "favor");
        assert_eq!(
            (
                e.actor_stance.accuracy.all.correct,
                e.actor_stance.accuracy.all.total
            ),
            (1, 2)
        );
        assert_eq!(e.actor_stance.mismatches[0].predicted, "missing");
        let h = e.holder.unwrap();
        assert_eq!(
            (h.accuracy.all.correct, h.accuracy.all.total, h.unmatched),
            (1, 2, 1)
        );
        assert_eq!(h.confusion["author"]["actor"], 1);
    }

    #[test]
    fn splits_follow_the_stance_splits_script() {
        assert_eq!(split_of("000_e54d198a35ed2720"), "test");
        assert_eq!(split_of("s02_accepting-the-invitation"), "dev");
        assert_eq!(split_of("s01_quiet-channel-to-pyongyang"), "train");
    }
}
