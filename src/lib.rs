//! # stancemine
//!
//! Stance mining for foreign-policy commentary. Data flows one way through
//! named stages, one module each:
//!
//! ```text
//! files ─▶ ingest ─▶ segment ─▶ ner ─▶ actors ─▶ stance ─▶ attribution ─▶ store / output
//!          Article   Sentences  Entities Actors   labels    holders        SQLite + articles.jsonl
//! ```
//!
//! - [`ingest`] reads text, HTML and JSONL inputs into cleaned [`article::Article`]s;
//! - [`segment`] splits the cleaned text into [`article::Sentence`]s with offsets;
//! - [`ner`] finds entity mentions; [`actors`] merges them into canonical actors;
//! - [`stance`] labels every sentence for every target; [`attribution`] says
//!   whose stance it is (the author's or an actor's);
//! - [`store`] keeps every result in SQLite so re-runs skip unchanged articles;
//! - [`pipeline`] drives a batch run over many inputs and reports progress;
//! - [`output`] writes `articles.jsonl` and `errors.jsonl`;
//! - [`aggregate`] turns sentence stances into article, actor and corpus stances;
//! - [`report`] writes `report.json`, `report.md` and `report.html` from the store;
//! - [`config`] reads the tables people edit (`targets.toml`, `actors.toml`).
//!
//! ```
//! let sentences = stancemine::segment::segment("Mr. Kim left. Talks stalled.");
//! assert_eq!(sentences.len(), 2);
//! assert_eq!(sentences[1].start, 14);
//! ```

pub mod actors;
pub mod aggregate;
pub mod article;
pub mod attribution;
pub mod config;
pub mod ingest;
pub mod metrics;
pub mod model;
pub mod ner;
pub mod output;
pub mod pipeline;
pub mod report;
pub mod segment;
pub mod stance;
pub mod store;
pub mod train;
