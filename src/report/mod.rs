//! Reports: `report.json` (the data, versioned), `report.md` and a
//! self-contained `report.html`, all built from the store alone so they can
//! be regenerated without running any model. Output is deterministic: the
//! same store gives the same bytes.

mod html;

use crate::aggregate::corpus::{self, TargetSummary};
use crate::article::ArticleRecord;
use crate::store::{RunInfo, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Version of the `report.json` layout (see `docs/schema.md`).
pub const REPORT_VERSION: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot write {path}: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{what} {value:?} is not a date (use YYYY, YYYY-MM or YYYY-MM-DD)")]
    BadDate { what: &'static str, value: String },
    #[error("cannot render {name}: {source}")]
    Template {
        name: &'static str,
        #[source]
        source: minijinja::Error,
    },
}

/// Which part of the store a report covers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Filter {
    pub target: Option<String>,
    /// Inclusive bounds; partial dates cover their whole year or month.
    pub from: Option<String>,
    pub to: Option<String>,
}

impl Filter {
    /// Check the date bounds.
    pub fn validate(&self) -> Result<(), ReportError> {
        for (what, v) in [("--from", &self.from), ("--to", &self.to)] {
            if let Some(v) = v {
                if span(v).is_none() {
                    return Err(ReportError::BadDate {
                        what,
                        value: v.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Whether an article dated `date` falls in the bounds; undated
    /// articles only when there are no bounds.
    fn keeps(&self, date: Option<&str>) -> bool {
        if self.from.is_none() && self.to.is_none() {
            return true;
        }
        let Some((lo, hi)) = date.and_then(span) else {
            return false;
        };
        let from_ok = self
            .from
            .as_deref()
            .and_then(span)
            .is_none_or(|(f, _)| hi >= f);
        let to_ok = self
            .to
            .as_deref()
            .and_then(span)
            .is_none_or(|(_, t)| lo <= t);
        from_ok && to_ok
    }
}

/// The first and last day a partial date covers, as `YYYY-MM-DD` strings
/// (which compare like dates).
fn span(date: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = date.trim().split('-').collect();
    let num = |s: &str, len: usize| s.len() == len && s.bytes().all(|b| b.is_ascii_digit());
    match parts.as_slice() {
        [y] if num(y, 4) => Some((format!("{y}-01-01"), format!("{y}-12-31"))),
        [y, m] if num(y, 4) && num(m, 2) && ("01"..="12").contains(m) => {
            Some((format!("{y}-{m}-01"), format!("{y}-{m}-31")))
        }
        [y, m, d] if num(y, 4) && num(m, 2) && num(d, 2) && ("01"..="12").contains(m) => {
            Some((date.to_string(), date.to_string()))
        }
        _ => None,
    }
}

/// `report.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub report_version: u32,
    /// The stancemine that wrote the last run into the store.
    pub stancemine_version: Option<String>,
    /// The last finished run of the store (none for an empty store).
    pub run: Option<RunMeta>,
    /// Model versions found in the records, by stage.
    pub models: BTreeMap<String, Vec<String>>,
    pub filter: Filter,
    /// Articles in the report (after the filter).
    pub articles_total: usize,
    pub targets: Vec<TargetSummary>,
    /// Every article, dated ones first by date, then by id.
    pub articles: Vec<ArticleEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunMeta {
    pub id: i64,
    pub finished_at: String,
    pub fingerprint: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleEntry {
    pub id: String,
    pub title: Option<String>,
    pub author: Option<String>,
    pub date: Option<String>,
    pub url: Option<String>,
    pub source: String,
    pub stance: BTreeMap<String, StanceEntry>,
    pub actors: Vec<ActorEntry>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StanceEntry {
    pub label: String,
    pub score: f32,
    /// Absent for actors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relevant: Option<bool>,
    pub evidence: Vec<Evidence>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActorEntry {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub mentions: usize,
    pub stance: BTreeMap<String, StanceEntry>,
}

/// An evidence sentence with the actor mentions inside it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub sentence: usize,
    pub text: String,
    pub mentions: Vec<Mention>,
}

/// Code-point offsets into the evidence text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mention {
    pub start: usize,
    pub end: usize,
    pub actor: String,
}

/// Build the report from the store.
pub fn build(store: &Store, filter: &Filter) -> Result<Report, ReportError> {
    let records: Vec<ArticleRecord> = store
        .records()?
        .into_iter()
        .filter(|r| filter.keeps(r.date.as_deref()))
        .collect();
    Ok(from_records(&records, store.last_run()?, filter))
}

/// Build the report from records (sorted by the caller or not: the report
/// sorts what it shows).
pub fn from_records(records: &[ArticleRecord], run: Option<RunInfo>, filter: &Filter) -> Report {
    let mut targets: BTreeSet<String> = BTreeSet::new();
    let mut models: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in records {
        targets.extend(r.stance.keys().cloned());
        for s in &r.sentences {
            targets.extend(s.stance.keys().cloned());
        }
        for (stage, v) in &r.models {
            models.entry(stage.clone()).or_default().insert(v.clone());
        }
    }
    if let Some(t) = &filter.target {
        targets.retain(|x| x == t);
    }
    let targets: Vec<String> = targets.into_iter().collect();
    let mut articles: Vec<ArticleEntry> = records.iter().map(|r| entry(r, &targets)).collect();
    articles.sort_by(|a, b| {
        (a.date.is_none(), &a.date, &a.id).cmp(&(b.date.is_none(), &b.date, &b.id))
    });
    Report {
        report_version: REPORT_VERSION,
        stancemine_version: run.as_ref().map(|r| r.stancemine_version.clone()),
        run: run.map(|r| RunMeta {
            id: r.id,
            finished_at: r.finished_at,
            fingerprint: r.fingerprint,
        }),
        models: models
            .into_iter()
            .map(|(k, v)| (k, v.into_iter().collect()))
            .collect(),
        filter: filter.clone(),
        articles_total: records.len(),
        targets: corpus::summarize(records, &targets),
        articles,
    }
}

fn entry(r: &ArticleRecord, targets: &[String]) -> ArticleEntry {
    let ev = |idx: &[usize]| idx.iter().filter_map(|&i| evidence(r, i)).collect();
    let wanted = |t: &String| targets.contains(t);
    ArticleEntry {
        id: r.id.clone(),
        title: r.title.clone(),
        author: r.author.clone(),
        date: r.date.clone(),
        url: r.url.clone(),
        source: r.source.clone(),
        stance: r
            .stance
            .iter()
            .filter(|(t, _)| wanted(t))
            .map(|(t, s)| {
                let e = StanceEntry {
                    label: s.label.clone(),
                    score: s.score,
                    confidence: Some(s.confidence),
                    relevant: Some(s.relevant),
                    evidence: ev(&s.evidence),
                };
                (t.clone(), e)
            })
            .collect(),
        actors: r
            .actors
            .iter()
            .map(|a| ActorEntry {
                id: a.id.clone(),
                name: a.name.clone(),
                kind: a.kind.clone(),
                mentions: a.mentions,
                stance: a
                    .stance
                    .iter()
                    .filter(|(t, _)| wanted(t))
                    .map(|(t, s)| {
                        let e = StanceEntry {
                            label: s.label.clone(),
                            score: s.score,
                            confidence: None,
                            relevant: None,
                            evidence: ev(&s.evidence),
                        };
                        (t.clone(), e)
                    })
                    .collect(),
            })
            .collect(),
    }
}

/// Sentence `i` with its actor mentions: from the entity offsets when the
/// record has entities, else where an actor's name occurs verbatim.
fn evidence(r: &ArticleRecord, i: usize) -> Option<Evidence> {
    let s = r.sentences.get(i)?;
    let mut mentions: Vec<Mention> = if r.entities.is_empty() {
        let chars: Vec<char> = s.text.chars().collect();
        r.actors
            .iter()
            .flat_map(|a| {
                let name: Vec<char> = a.name.chars().collect();
                let last = chars
                    .len()
                    .checked_sub(name.len())
                    .filter(|_| !name.is_empty());
                last.into_iter()
                    .flat_map(|last| 0..=last)
                    .filter(|&k| chars[k..k + name.len()] == name[..])
                    .map(|k| Mention {
                        start: k,
                        end: k + name.len(),
                        actor: a.id.clone(),
                    })
                    .collect::<Vec<_>>()
            })
            .collect()
    } else {
        r.entities
            .iter()
            .filter(|e| e.start >= s.start && e.end <= s.end)
            .filter_map(|e| {
                e.actor.as_ref().map(|a| Mention {
                    start: e.start - s.start,
                    end: e.end - s.start,
                    actor: a.clone(),
                })
            })
            .collect()
    };
    mentions.sort_by(|a, b| (a.start, b.end).cmp(&(b.start, a.end)));
    // Overlapping mentions would nest highlights; keep the first, longest.
    let mut kept: Vec<Mention> = Vec::new();
    for m in mentions {
        if kept.last().is_none_or(|k| m.start >= k.end) {
            kept.push(m);
        }
    }
    Some(Evidence {
        sentence: i,
        text: s.text.clone(),
        mentions: kept,
    })
}

/// Write `report.json`, `report.md` and `report.html` into `dir`.
pub fn write(report: &Report, dir: &Path) -> Result<(), ReportError> {
    std::fs::create_dir_all(dir).map_err(|source| ReportError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut json = serde_json::to_string_pretty(report).expect("a report always serialises");
    json.push('\n');
    let files = [
        ("report.json", json),
        ("report.md", html::markdown(report)?),
        ("report.html", html::html(report)?),
    ];
    for (name, body) in files {
        let path = dir.join(name);
        std::fs::write(&path, body).map_err(|source| ReportError::Write { path, source })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::article::{Actor, ActorStance, Article, ArticleStance, Entity, Metadata, Sentence};

    /// An article whose title tries to inject markup, with one actor
    /// mention found by NER.
    fn record() -> ArticleRecord {
        let text = "Kim wants talks. Others doubt it.";
        let mut r = ArticleRecord::new(
            Article {
                id: "a1".into(),
                source: "a.txt".into(),
                meta: Metadata {
                    title: Some("<script>alert(1)</script> & talks".into()),
                    date: Some("2019-02".into()),
                    url: Some("https://example.org/a1".into()),
                    ..Metadata::default()
                },
                text: text.into(),
                warnings: vec![],
            },
            vec![
                Sentence::new(0, 16, "Kim wants talks.".into()),
                Sentence::new(17, 33, "Others doubt it.".into()),
            ],
        );
        r.entities.push(Entity {
            text: "Kim".into(),
            kind: "PER".into(),
            start: 0,
            end: 3,
            score: 0.99,
            actor: Some("kim-jong-un".into()),
        });
        let mut kim = Actor {
            id: "kim-jong-un".into(),
            name: "Kim Jong-un".into(),
            kind: "PER".into(),
            mentions: 1,
            stance: BTreeMap::new(),
        };
        kim.stance.insert(
            "t".into(),
            ActorStance {
                label: "favor".into(),
                score: 0.8,
                evidence: vec![0],
            },
        );
        r.actors.push(kim);
        r.stance.insert(
            "t".into(),
            ArticleStance {
                label: "against".into(),
                score: -0.4,
                confidence: 0.9,
                relevant: true,
                evidence: vec![1, 0],
            },
        );
        r
    }

    #[test]
    fn html_escapes_text_highlights_mentions_and_links_nowhere_else() {
        let report = from_records(&[record()], None, &Filter::default());
        let ev = &report.articles[0].stance["t"].evidence;
        assert_eq!(ev[1].mentions[0].actor, "kim-jong-un");
        let page = html::html(&report).unwrap();
        assert!(page.contains(r#"<mark title="kim-jong-un">Kim</mark> wants talks."#));
        assert!(!page.contains("<script>alert"), "title is escaped");
        assert!(page.contains("&lt;script&gt;alert(1)&lt;"));
        assert!(page.contains("&gt; &amp; talks"));
        assert!(
            !page.contains("href=\"https://"),
            "article URLs are text, not links"
        );
        assert!(page.contains("Kim Jong-un"), "actor table");
        let md = html::markdown(&report).unwrap();
        assert!(
            md.contains("| Kim Jong-un | 1 | 1 | 0 | 0 | +1.00 |"),
            "{md}"
        );
    }

    #[test]
    fn an_empty_store_gives_a_valid_report() {
        let report = from_records(&[], None, &Filter::default());
        assert!(report.targets.is_empty());
        assert!(html::html(&report).unwrap().contains("No stance results"));
        assert!(html::markdown(&report)
            .unwrap()
            .contains("No stance results"));
    }

    #[test]
    fn date_filters_cover_partial_dates() {
        let f = Filter {
            target: None,
            from: Some("2018-03".into()),
            to: Some("2019".into()),
        };
        f.validate().unwrap();
        assert!(f.keeps(Some("2018")), "2018 overlaps March 2018 on");
        assert!(f.keeps(Some("2018-03-31")));
        assert!(!f.keeps(Some("2018-02-28")));
        assert!(!f.keeps(Some("2020-01")));
        assert!(!f.keeps(None), "undated pieces only without bounds");
        assert!(Filter::default().keeps(None));
        let bad = Filter {
            from: Some("March".into()),
            ..Filter::default()
        };
        assert!(matches!(bad.validate(), Err(ReportError::BadDate { .. })));
    }
}
