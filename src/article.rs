//! The records that flow through the pipeline: an [`Article`] after ingest,
//! and its [`Sentence`]s after segmentation.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Version of the `articles.jsonl` record layout. Later stages add fields,
/// never remove or rename them (see `docs/schema.md`).
pub const SCHEMA_VERSION: u32 = 1;

/// Article metadata that may come from front matter, HTML meta tags,
/// JSONL fields or a sidecar file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    pub title: Option<String>,
    pub standfirst: Option<String>,
    pub author: Option<String>,
    /// ISO 8601 date, possibly partial: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub date: Option<String>,
    pub url: Option<String>,
    /// True for the team's synthetic demo pieces.
    pub synthetic: bool,
}

/// One cleaned article: boilerplate removed, ready to segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Article {
    pub id: String,
    /// Input path, with `:LINE` appended for JSONL records.
    pub source: String,
    pub meta: Metadata,
    /// Cleaned body: paragraphs separated by a blank line.
    pub text: String,
    /// Things ingest fixed on the way in (e.g. a lenient decode).
    pub warnings: Vec<String>,
}

impl Article {
    /// Hash of everything that later stages read; an unchanged hash means
    /// stored results are still valid.
    pub fn content_hash(&self) -> String {
        let mut h = Sha256::new();
        for part in [
            self.meta.title.as_deref(),
            self.meta.standfirst.as_deref(),
            self.meta.author.as_deref(),
            self.meta.date.as_deref(),
            self.meta.url.as_deref(),
            Some(self.text.as_str()),
        ] {
            h.update(part.unwrap_or("\u{0}").as_bytes());
            h.update([0xff]);
        }
        hex::encode(h.finalize())
    }
}

/// A stable article id from its title and body: the first 16 hex digits of a
/// SHA-256, so the same piece gets the same id wherever it is read from.
pub fn content_id(title: &str, text: &str) -> String {
    let mut h = Sha256::new();
    h.update(title.as_bytes());
    h.update([0]);
    h.update(text.as_bytes());
    hex::encode(&h.finalize()[..8])
}

/// A sentence of an article's cleaned text. Offsets are Unicode code points
/// (what Python's `text[start:end]` uses), end exclusive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sentence {
    pub start: usize,
    pub end: usize,
    pub text: String,
    /// Stance toward each configured target, by target id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stance: BTreeMap<String, SentenceStance>,
}

impl Sentence {
    pub fn new(start: usize, end: usize, text: String) -> Sentence {
        Sentence {
            start,
            end,
            text,
            stance: BTreeMap::new(),
        }
    }
}

/// One sentence's stance toward one target.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SentenceStance {
    /// `favor`, `against`, `neutral` or `none`.
    pub label: String,
    /// Probability of each label.
    pub probs: BTreeMap<String, f32>,
    /// Whose position the sentence states: `author`, or the id of one of
    /// the article's actors. Absent when the label is `none`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
}

/// A named-entity mention. Offsets are code points into the article `text`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entity {
    pub text: String,
    /// PER, ORG, GPE, LOC, NORP, EVENT or MISC.
    #[serde(rename = "type")]
    pub kind: String,
    pub start: usize,
    pub end: usize,
    pub score: f32,
    /// Id of the canonical actor this mention refers to, if any.
    pub actor: Option<String>,
}

/// A canonical actor of one article: its mentions merged through the alias
/// table and in-article short forms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Actor {
    /// Stable slug of the canonical name, e.g. `north-korea`.
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    /// How many entity mentions refer to it.
    pub mentions: usize,
    /// The actor's stance toward each target, by target id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stance: BTreeMap<String, ActorStance>,
}

/// An actor's stance toward one target within one article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActorStance {
    pub label: String,
    /// In [-1, 1]: against … favor.
    pub score: f32,
    /// Indices into `sentences`.
    pub evidence: Vec<usize>,
}

/// The author's stance toward one target over a whole article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleStance {
    /// `favor`, `against`, `neutral`, or `none` when the piece is not about the target.
    pub label: String,
    /// In [-1, 1]: against … favor.
    pub score: f32,
    /// In [0, 1]; see `docs/method.md`.
    pub confidence: f32,
    /// Whether the piece is about the target at all.
    pub relevant: bool,
    /// Indices into `sentences` of the strongest evidence, strongest first.
    pub evidence: Vec<usize>,
}

/// The `articles.jsonl` record (schema v1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArticleRecord {
    pub schema_version: u32,
    pub id: String,
    pub source: String,
    pub title: Option<String>,
    pub standfirst: Option<String>,
    pub author: Option<String>,
    pub date: Option<String>,
    pub url: Option<String>,
    pub synthetic: bool,
    pub text: String,
    pub sentences: Vec<Sentence>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<Entity>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actors: Vec<Actor>,
    /// The author's stance toward each target, by target id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub stance: BTreeMap<String, ArticleStance>,
    /// Version of each model that produced this record, by stage.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub models: BTreeMap<String, String>,
}

impl ArticleRecord {
    pub fn new(article: Article, sentences: Vec<Sentence>) -> Self {
        let Article {
            id,
            source,
            meta,
            text,
            warnings,
        } = article;
        ArticleRecord {
            schema_version: SCHEMA_VERSION,
            id,
            source,
            title: meta.title,
            standfirst: meta.standfirst,
            author: meta.author,
            date: meta.date,
            url: meta.url,
            synthetic: meta.synthetic,
            text,
            sentences,
            warnings,
            entities: Vec::new(),
            actors: Vec::new(),
            stance: BTreeMap::new(),
            models: BTreeMap::new(),
        }
    }
}
