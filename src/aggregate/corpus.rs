//! Corpus aggregation: for each target, the stance of relevant articles by
//! period (month, quarter, year), by author and by actor, with a bootstrap
//! uncertainty band and the strongest evidence quotes of each cell.

use crate::article::ArticleRecord;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Bootstrap resamples per cell.
pub const RESAMPLES: usize = 1000;
/// Coverage of the uncertainty band.
pub const BAND: f64 = 0.90;
/// Evidence quotes kept per cell.
pub const QUOTES: usize = 3;
const SEED: u64 = 0x5eed_c095;

/// One group of articles (a month, an author, an actor, …).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Cell {
    /// `2018-03`, `2018-Q1`, `2018`, an author, an actor id, or `all`.
    pub key: String,
    /// Display name (the actor's canonical name; else the key).
    pub name: String,
    /// Articles in the cell with a favor/against/neutral stance.
    pub n: usize,
    pub favor: usize,
    pub against: usize,
    pub neutral: usize,
    /// Shares of `n`.
    pub share_favor: f64,
    pub share_against: f64,
    pub share_neutral: f64,
    /// share_favor − share_against, in [-1, 1].
    pub net: f64,
    /// 90 % bootstrap interval of `net` over the cell's articles.
    pub net_low: f64,
    pub net_high: f64,
    pub quotes: Vec<Quote>,
}

/// An evidence sentence with what is needed to link to its article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quote {
    pub article_id: String,
    pub title: Option<String>,
    pub url: Option<String>,
    pub source: String,
    pub date: Option<String>,
    /// Index into the article's sentences.
    pub sentence: usize,
    pub text: String,
    /// The stance this quote supports.
    pub label: String,
    pub score: f32,
}

/// Everything the corpus says about one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetSummary {
    pub target: String,
    /// Articles with a stance record for the target.
    pub articles: usize,
    /// Of those, the ones about the target.
    pub relevant: usize,
    pub overall: Cell,
    pub by_month: Vec<Cell>,
    pub by_quarter: Vec<Cell>,
    pub by_year: Vec<Cell>,
    /// Relevant articles without a date (absent from the period series).
    pub undated: Cell,
    /// Relevant articles dated to the year only (absent from months and quarters).
    pub year_only: usize,
    /// Authors of relevant articles; `unknown` when unnamed.
    pub by_author: Vec<Cell>,
    /// Actors' own stances, one vote per relevant article that attributes one.
    pub by_actor: Vec<Cell>,
}

/// One article's vote in a cell.
struct Vote<'a> {
    label: &'a str,
    quote: Option<Quote>,
    /// Rank of the quote among the cell's quotes.
    strength: f32,
}

/// Summaries of `targets` over `records`, in target order.
pub fn summarize(records: &[ArticleRecord], targets: &[String]) -> Vec<TargetSummary> {
    targets
        .iter()
        .map(|t| summarize_target(records, t))
        .collect()
}

fn summarize_target(records: &[ArticleRecord], target: &str) -> TargetSummary {
    let mut articles = 0;
    let mut all = Vec::new();
    let mut month: BTreeMap<String, Vec<Vote>> = BTreeMap::new();
    let mut quarter: BTreeMap<String, Vec<Vote>> = BTreeMap::new();
    let mut year: BTreeMap<String, Vec<Vote>> = BTreeMap::new();
    let mut author: BTreeMap<String, Vec<Vote>> = BTreeMap::new();
    let mut actor: BTreeMap<String, Vec<Vote>> = BTreeMap::new();
    let mut actor_names: BTreeMap<String, String> = BTreeMap::new();
    let mut undated = Vec::new();
    let mut year_only = 0;
    for r in records {
        let Some(s) = r.stance.get(target) else {
            continue;
        };
        articles += 1;
        if !s.relevant || s.label == "none" {
            continue;
        }
        // Actors count only in pieces about the target.
        for a in &r.actors {
            if let Some(s) = a.stance.get(target) {
                let vote = || Vote {
                    label: &s.label,
                    quote: s.evidence.first().map(|&i| quote(r, i, &s.label, s.score)),
                    strength: s.score.abs(),
                };
                actor.entry(a.id.clone()).or_default().push(vote());
                actor_names.insert(a.id.clone(), a.name.clone());
            }
        }
        let vote = || Vote {
            label: &s.label,
            quote: s.evidence.first().map(|&i| quote(r, i, &s.label, s.score)),
            strength: s.score.abs() * s.confidence,
        };
        all.push(vote());
        let name = r.author.clone().unwrap_or_else(|| "unknown".to_string());
        author.entry(name).or_default().push(vote());
        match r.date.as_deref().and_then(Period::parse) {
            None => undated.push(vote()),
            Some(p) => {
                year.entry(p.year.clone()).or_default().push(vote());
                match p.month {
                    Some(m) => {
                        month
                            .entry(format!("{}-{m:02}", p.year))
                            .or_default()
                            .push(vote());
                        quarter
                            .entry(format!("{}-Q{}", p.year, (m - 1) / 3 + 1))
                            .or_default()
                            .push(vote());
                    }
                    None => year_only += 1,
                }
            }
        }
    }
    let cells = |m: BTreeMap<String, Vec<Vote>>, kind: &str| -> Vec<Cell> {
        m.into_iter()
            .map(|(k, v)| cell(&k, &k, v, &format!("{target}/{kind}")))
            .collect()
    };
    let relevant = all.len();
    let mut by_author = cells(author, "author");
    // Most prolific authors first; name breaks ties so the order is stable.
    by_author.sort_by(|a, b| b.n.cmp(&a.n).then(a.key.cmp(&b.key)));
    let mut by_actor: Vec<Cell> = actor
        .into_iter()
        .map(|(k, v)| {
            let name = actor_names.get(&k).cloned().unwrap_or_else(|| k.clone());
            cell(&k, &name, v, &format!("{target}/actor"))
        })
        .collect();
    by_actor.sort_by(|a, b| b.n.cmp(&a.n).then(a.key.cmp(&b.key)));
    TargetSummary {
        target: target.to_string(),
        articles,
        relevant,
        overall: cell("all", "all", all, target),
        by_month: cells(month, "month"),
        by_quarter: cells(quarter, "quarter"),
        by_year: cells(year, "year"),
        undated: cell("undated", "undated", undated, &format!("{target}/undated")),
        year_only,
        by_author,
        by_actor,
    }
}

fn quote(r: &ArticleRecord, i: usize, label: &str, score: f32) -> Quote {
    Quote {
        article_id: r.id.clone(),
        title: r.title.clone(),
        url: r.url.clone(),
        source: r.source.clone(),
        date: r.date.clone(),
        sentence: i,
        text: r
            .sentences
            .get(i)
            .map(|s| s.text.clone())
            .unwrap_or_default(),
        label: label.to_string(),
        score: round(score as f64, 4) as f32,
    }
}

/// A date's year and, when given, month.
struct Period {
    year: String,
    month: Option<u32>,
}

impl Period {
    /// `YYYY`, `YYYY-MM` or `YYYY-MM-DD`; anything else is undated.
    fn parse(date: &str) -> Option<Period> {
        let mut parts = date.trim().split('-');
        let year = parts.next()?;
        if year.len() != 4 || !year.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let month = match parts.next() {
            None => None,
            Some(m) => match m.parse::<u32>() {
                Ok(m @ 1..=12) => Some(m),
                _ => return None,
            },
        };
        Some(Period {
            year: year.to_string(),
            month,
        })
    }
}

fn cell(key: &str, name: &str, votes: Vec<Vote>, scope: &str) -> Cell {
    let count = |l: &str| votes.iter().filter(|v| v.label == l).count();
    let (favor, against, neutral) = (count("favor"), count("against"), count("neutral"));
    let n = favor + against + neutral;
    let share = |c: usize| if n == 0 { 0.0 } else { c as f64 / n as f64 };
    let net = share(favor) - share(against);
    let (net_low, net_high) = band(&votes, &format!("{scope}/{key}"));
    let mut quotes: Vec<(f32, Quote)> = votes
        .into_iter()
        .filter_map(|v| v.quote.map(|q| (v.strength, q)))
        .collect();
    quotes.sort_by(|a, b| {
        b.0.total_cmp(&a.0)
            .then(a.1.article_id.cmp(&b.1.article_id))
            .then(a.1.sentence.cmp(&b.1.sentence))
    });
    Cell {
        key: key.to_string(),
        name: name.to_string(),
        n,
        favor,
        against,
        neutral,
        share_favor: round(share(favor), 4),
        share_against: round(share(against), 4),
        share_neutral: round(share(neutral), 4),
        net: round(net, 4),
        net_low: round(net_low, 4),
        net_high: round(net_high, 4),
        quotes: quotes.into_iter().take(QUOTES).map(|q| q.1).collect(),
    }
}

/// Percentile bootstrap of the net stance over the cell's articles. The
/// seed depends only on the cell's scope, so the band of a cell does not
/// move when other cells change.
fn band(votes: &[Vote], scope: &str) -> (f64, f64) {
    let values: Vec<f64> = votes
        .iter()
        .filter_map(|v| match v.label {
            "favor" => Some(1.0),
            "against" => Some(-1.0),
            "neutral" => Some(0.0),
            _ => None,
        })
        .collect();
    let n = values.len();
    if n == 0 {
        return (0.0, 0.0);
    }
    let seed = scope.bytes().fold(SEED, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut nets: Vec<f64> = (0..RESAMPLES)
        .map(|_| (0..n).map(|_| values[rng.gen_range(0..n)]).sum::<f64>() / n as f64)
        .collect();
    nets.sort_by(f64::total_cmp);
    let tail = (1.0 - BAND) / 2.0;
    let at = |q: f64| nets[((q * (RESAMPLES - 1) as f64).round() as usize).min(RESAMPLES - 1)];
    (at(tail), at(1.0 - tail))
}

/// Rounded for stable, readable JSON.
fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::article::{Actor, ActorStance, Article, ArticleStance, Metadata, Sentence};

    fn rec(id: &str, date: Option<&str>, author: &str, label: &str) -> ArticleRecord {
        let mut r = ArticleRecord::new(
            Article {
                id: id.into(),
                source: format!("{id}.txt"),
                meta: Metadata {
                    title: Some(format!("Title {id}")),
                    author: Some(author.into()),
                    date: date.map(String::from),
                    ..Metadata::default()
                },
                text: "Talks now.".into(),
                warnings: vec![],
            },
            vec![Sentence::new(0, 10, format!("Quote of {id}."))],
        );
        let relevant = label != "none";
        r.stance.insert(
            "t".into(),
            ArticleStance {
                label: label.into(),
                score: match label {
                    "favor" => 0.5,
                    "against" => -0.5,
                    _ => 0.0,
                },
                confidence: 0.8,
                relevant,
                evidence: if relevant { vec![0] } else { vec![] },
            },
        );
        let mut kim = Actor {
            id: "kim".into(),
            name: "Kim".into(),
            kind: "PER".into(),
            mentions: 1,
            stance: BTreeMap::new(),
        };
        kim.stance.insert(
            "t".into(),
            ActorStance {
                label: "against".into(),
                score: -0.7,
                evidence: vec![0],
            },
        );
        r.actors.push(kim);
        r
    }

    fn corpus() -> Vec<ArticleRecord> {
        vec![
            rec("a", Some("2018-03-14"), "Ann", "favor"),
            rec("b", Some("2018-05"), "Ann", "against"),
            rec("c", Some("2018"), "Bob", "favor"),
            rec("d", None, "Bob", "neutral"),
            rec("e", Some("2019-11-02"), "Bob", "none"),
        ]
    }

    #[test]
    fn cells_count_relevant_articles_by_period_author_and_actor() {
        let s = &summarize(&corpus(), &["t".to_string()])[0];
        assert_eq!((s.articles, s.relevant), (5, 4));
        assert_eq!(
            (s.overall.favor, s.overall.against, s.overall.neutral),
            (2, 1, 1)
        );
        assert_eq!(s.overall.net, 0.25);
        let months: Vec<&str> = s.by_month.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(months, ["2018-03", "2018-05"]);
        let quarters: Vec<&str> = s.by_quarter.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(quarters, ["2018-Q1", "2018-Q2"]);
        assert_eq!(s.by_year.len(), 1, "2019 holds only an irrelevant piece");
        assert_eq!(s.by_year[0].n, 3);
        assert_eq!((s.undated.n, s.year_only), (1, 1));
        assert_eq!(s.by_author[0].key, "Ann");
        assert_eq!(s.by_author[0].n, 2);
        let kim = &s.by_actor[0];
        assert_eq!(
            (kim.name.as_str(), kim.n, kim.against, kim.net),
            ("Kim", 4, 4, -1.0)
        );
        assert_eq!(kim.quotes.len(), 3);
    }

    #[test]
    fn band_brackets_the_net_stance_and_is_deterministic() {
        let a = summarize(&corpus(), &["t".to_string()]);
        let b = summarize(&corpus(), &["t".to_string()]);
        assert_eq!(a, b);
        let o = &a[0].overall;
        assert!(o.net_low <= o.net && o.net <= o.net_high, "{o:?}");
        assert!(o.net_low < o.net_high, "a mixed cell is uncertain");
        assert_eq!(o.quotes[0].text, "Quote of a.");
        assert_eq!(
            (a[0].by_actor[0].net_low, a[0].by_actor[0].net_high),
            (-1.0, -1.0)
        );
    }

    #[test]
    fn malformed_dates_are_undated() {
        assert!(Period::parse("March 2019").is_none());
        assert!(Period::parse("2019-13").is_none());
        assert_eq!(Period::parse("2019-02-30").unwrap().month, Some(2));
    }
}
