//! Store: every article, sentence, run and error in one SQLite file, so a
//! second run skips what has not changed and analysts can query results
//! with SQL. Tables are documented in `docs/schema.md`.

use crate::article::ArticleRecord;
use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;

/// Bumped when the table layout changes; older stores are migrated or refused.
pub const STORE_VERSION: i64 = 2;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("store {path}: {source}")]
    Sqlite {
        path: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("store {path}: written by a newer stancemine (store version {found}, this one reads {STORE_VERSION})")]
    TooNew { path: String, found: i64 },
    #[error("store: stored record for {id} is unreadable: {source}")]
    Record {
        id: String,
        #[source]
        source: serde_json::Error,
    },
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// Counts written into the `runs` table at the end of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RunCounts {
    pub processed: usize,
    pub unchanged: usize,
    pub failed: usize,
}

/// A finished run, as the `runs` table records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RunInfo {
    pub id: i64,
    pub stancemine_version: String,
    pub fingerprint: String,
    pub finished_at: String,
}

/// How a stored article compares with a freshly ingested one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    New,
    Changed,
    /// Same content, computed by other stage versions (the stored fingerprint).
    Restaged(String),
    Unchanged,
}

pub struct Store {
    conn: Connection,
    path: String,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    stancemine_version TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    inputs TEXT NOT NULL,
    processed INTEGER, unchanged INTEGER, failed INTEGER
);
CREATE TABLE IF NOT EXISTS articles (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    source_file TEXT NOT NULL,
    title TEXT, standfirst TEXT, author TEXT, date TEXT, url TEXT,
    synthetic INTEGER NOT NULL,
    text TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    record_json TEXT NOT NULL,
    run_id INTEGER NOT NULL REFERENCES runs(id)
);
CREATE INDEX IF NOT EXISTS articles_source_file ON articles(source_file);
CREATE TABLE IF NOT EXISTS sentences (
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (article_id, idx)
);
CREATE TABLE IF NOT EXISTS sentence_stances (
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    target TEXT NOT NULL,
    label TEXT NOT NULL,
    p_favor REAL NOT NULL, p_against REAL NOT NULL, p_neutral REAL NOT NULL, p_none REAL NOT NULL,
    model_version TEXT NOT NULL,
    holder TEXT,
    PRIMARY KEY (article_id, idx, target)
);
CREATE TABLE IF NOT EXISTS entities (
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    idx INTEGER NOT NULL,
    text TEXT NOT NULL,
    type TEXT NOT NULL,
    start INTEGER NOT NULL,
    end INTEGER NOT NULL,
    score REAL NOT NULL,
    actor_id TEXT,
    model_version TEXT NOT NULL,
    PRIMARY KEY (article_id, idx)
);
CREATE INDEX IF NOT EXISTS entities_actor ON entities(actor_id);
CREATE TABLE IF NOT EXISTS actors (
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    actor_id TEXT NOT NULL,
    name TEXT NOT NULL,
    type TEXT NOT NULL,
    mentions INTEGER NOT NULL,
    PRIMARY KEY (article_id, actor_id)
);
CREATE TABLE IF NOT EXISTS article_stances (
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    target TEXT NOT NULL,
    label TEXT NOT NULL, score REAL NOT NULL, confidence REAL NOT NULL, relevant INTEGER NOT NULL,
    evidence TEXT NOT NULL,
    PRIMARY KEY (article_id, target)
);
CREATE TABLE IF NOT EXISTS actor_stances (
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    actor TEXT NOT NULL,
    target TEXT NOT NULL,
    label TEXT NOT NULL, score REAL NOT NULL,
    evidence TEXT NOT NULL,
    PRIMARY KEY (article_id, actor, target)
);
CREATE TABLE IF NOT EXISTS errors (
    run_id INTEGER NOT NULL REFERENCES runs(id),
    source TEXT NOT NULL,
    line INTEGER,
    error TEXT NOT NULL
);
";

impl Store {
    /// Open (or create) the store at `path`.
    pub fn open(path: &Path) -> Result<Store> {
        let p = path.display().to_string();
        let err = |source| StoreError::Sqlite {
            path: p.clone(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
        )
        .map_err(err)?;
        conn.execute_batch(SCHEMA).map_err(err)?;
        let found: Option<String> = conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'store_version'",
                [],
                |r| r.get(0),
            )
            .optional()
            .map_err(err)?;
        match found.and_then(|v| v.parse::<i64>().ok()) {
            Some(v) if v > STORE_VERSION => return Err(StoreError::TooNew { path: p, found: v }),
            Some(STORE_VERSION) => {}
            Some(v) => {
                // Version 1 lacked holders; its records are recomputed on the
                // next run because the pipeline fingerprint changed too.
                if v < 2 {
                    conn.execute_batch("ALTER TABLE sentence_stances ADD COLUMN holder TEXT;")
                        .map_err(err)?;
                }
                conn.execute(
                    "UPDATE meta SET value = ?1 WHERE key = 'store_version'",
                    params![STORE_VERSION.to_string()],
                )
                .map_err(err)?;
            }
            None => {
                conn.execute(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES ('store_version', ?1)",
                    params![STORE_VERSION.to_string()],
                )
                .map_err(err)?;
            }
        }
        Ok(Store { conn, path: p })
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// Start a run; returns its id.
    pub fn begin_run(&self, inputs: &str, fingerprint: &str) -> Result<i64> {
        self.conn
            .execute(
                "INSERT INTO runs (started_at, stancemine_version, fingerprint, inputs) VALUES (?1, ?2, ?3, ?4)",
                params![now(), env!("CARGO_PKG_VERSION"), fingerprint, inputs],
            )
            .map_err(|e| self.err(e))?;
        Ok(self.conn.last_insert_rowid())
    }

    pub fn finish_run(&self, run_id: i64, counts: RunCounts) -> Result<()> {
        self.conn
            .execute(
                "UPDATE runs SET finished_at = ?2, processed = ?3, unchanged = ?4, failed = ?5 WHERE id = ?1",
                params![run_id, now(), counts.processed as i64, counts.unchanged as i64, counts.failed as i64],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Compare a freshly ingested article with what the store holds.
    pub fn freshness(&self, id: &str, content_hash: &str, fingerprint: &str) -> Result<Freshness> {
        let row: Option<(String, String)> = self
            .conn
            .query_row(
                "SELECT content_hash, fingerprint FROM articles WHERE id = ?1",
                params![id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(match row {
            None => Freshness::New,
            Some((h, f)) if h == content_hash && f == fingerprint => Freshness::Unchanged,
            Some((h, f)) if h == content_hash => Freshness::Restaged(f),
            Some(_) => Freshness::Changed,
        })
    }

    /// The stored `articles.jsonl` record of an article.
    pub fn record(&self, id: &str) -> Result<Option<ArticleRecord>> {
        let json: Option<String> = self
            .conn
            .query_row(
                "SELECT record_json FROM articles WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()
            .map_err(|e| self.err(e))?;
        json.map(|j| {
            serde_json::from_str(&j).map_err(|source| StoreError::Record {
                id: id.to_string(),
                source,
            })
        })
        .transpose()
    }

    /// Insert or replace an article and its sentences, in one transaction.
    pub fn put_article(
        &mut self,
        run_id: i64,
        source_file: &str,
        record: &ArticleRecord,
        content_hash: &str,
        fingerprint: &str,
    ) -> Result<()> {
        let json = serde_json::to_string(record).map_err(|source| StoreError::Record {
            id: record.id.clone(),
            source,
        })?;
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let tx = self.conn.transaction().map_err(err)?;
        tx.execute("DELETE FROM articles WHERE id = ?1", params![record.id])
            .map_err(err)?;
        tx.execute(
            "INSERT INTO articles (id, source, source_file, title, standfirst, author, date, url, synthetic, text,
                                   content_hash, fingerprint, record_json, run_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                record.id,
                record.source,
                source_file,
                record.title,
                record.standfirst,
                record.author,
                record.date,
                record.url,
                record.synthetic,
                record.text,
                content_hash,
                fingerprint,
                json,
                run_id
            ],
        )
        .map_err(err)?;
        {
            let mut stmt = tx
                .prepare("INSERT INTO sentences (article_id, idx, start, end, text) VALUES (?1, ?2, ?3, ?4, ?5)")
                .map_err(err)?;
            let mut stance = tx
                .prepare(
                    "INSERT INTO sentence_stances (article_id, idx, target, label, p_favor, p_against, p_neutral, p_none, model_version, holder)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
                )
                .map_err(err)?;
            let version = record
                .models
                .get("stance")
                .map(String::as_str)
                .unwrap_or("");
            for (i, s) in record.sentences.iter().enumerate() {
                stmt.execute(params![
                    record.id,
                    i as i64,
                    s.start as i64,
                    s.end as i64,
                    s.text
                ])
                .map_err(err)?;
                for (target, st) in &s.stance {
                    let p = |l: &str| st.probs.get(l).copied().unwrap_or(0.0) as f64;
                    stance
                        .execute(params![
                            record.id,
                            i as i64,
                            target,
                            st.label,
                            p("favor"),
                            p("against"),
                            p("neutral"),
                            p("none"),
                            version,
                            st.holder
                        ])
                        .map_err(err)?;
                }
            }
            let mut entity = tx
                .prepare(
                    "INSERT INTO entities (article_id, idx, text, type, start, end, score, actor_id, model_version)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                )
                .map_err(err)?;
            let ner = record.models.get("ner").map(String::as_str).unwrap_or("");
            for (i, e) in record.entities.iter().enumerate() {
                entity
                    .execute(params![
                        record.id,
                        i as i64,
                        e.text,
                        e.kind,
                        e.start as i64,
                        e.end as i64,
                        e.score as f64,
                        e.actor,
                        ner
                    ])
                    .map_err(err)?;
            }
            let mut actor = tx
                .prepare(
                    "INSERT INTO actors (article_id, actor_id, name, type, mentions) VALUES (?1, ?2, ?3, ?4, ?5)",
                )
                .map_err(err)?;
            for a in &record.actors {
                actor
                    .execute(params![record.id, a.id, a.name, a.kind, a.mentions as i64])
                    .map_err(err)?;
            }
        }
        put_stances(&tx, record).map_err(err)?;
        tx.commit().map_err(err)
    }

    /// Forget articles that `source_file` no longer contains.
    pub fn remove_stale(&self, source_file: &str, keep: &[String]) -> Result<usize> {
        let mut stmt = self
            .conn
            .prepare("SELECT id FROM articles WHERE source_file = ?1")
            .map_err(|e| self.err(e))?;
        let ids: Vec<String> = stmt
            .query_map(params![source_file], |r| r.get(0))
            .map_err(|e| self.err(e))?
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))?;
        let mut removed = 0;
        for id in ids.iter().filter(|id| !keep.contains(id)) {
            removed += self
                .conn
                .execute("DELETE FROM articles WHERE id = ?1", params![id])
                .map_err(|e| self.err(e))?;
        }
        Ok(removed)
    }

    pub fn record_error(
        &self,
        run_id: i64,
        source: &str,
        line: Option<usize>,
        error: &str,
    ) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO errors (run_id, source, line, error) VALUES (?1, ?2, ?3, ?4)",
                params![run_id, source, line.map(|l| l as i64), error],
            )
            .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// Every stored record, by id.
    pub fn records(&self) -> Result<Vec<ArticleRecord>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, record_json FROM articles ORDER BY id")
            .map_err(|e| self.err(e))?;
        let rows: Vec<(String, String)> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(|e| self.err(e))?
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))?;
        rows.into_iter()
            .map(|(id, j)| {
                serde_json::from_str(&j).map_err(|source| StoreError::Record { id, source })
            })
            .collect()
    }

    /// The latest finished run, if any.
    pub fn last_run(&self) -> Result<Option<RunInfo>> {
        self.conn
            .query_row(
                "SELECT id, stancemine_version, fingerprint, finished_at FROM runs
                 WHERE finished_at IS NOT NULL ORDER BY id DESC LIMIT 1",
                [],
                |r| {
                    Ok(RunInfo {
                        id: r.get(0)?,
                        stancemine_version: r.get(1)?,
                        fingerprint: r.get(2)?,
                        finished_at: r.get(3)?,
                    })
                },
            )
            .optional()
            .map_err(|e| self.err(e))
    }

    /// Number of stored articles.
    pub fn article_count(&self) -> Result<usize> {
        self.conn
            .query_row("SELECT COUNT(*) FROM articles", [], |r| r.get::<_, i64>(0))
            .map(|n| n as usize)
            .map_err(|e| self.err(e))
    }
}

/// The article's and its actors' aggregated stances (evidence as a JSON
/// array of sentence indices).
fn put_stances(tx: &rusqlite::Transaction, record: &ArticleRecord) -> rusqlite::Result<()> {
    let json = |e: &[usize]| serde_json::to_string(e).unwrap_or_else(|_| "[]".into());
    let mut art = tx.prepare(
        "INSERT INTO article_stances (article_id, target, label, score, confidence, relevant, evidence)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    for (t, s) in &record.stance {
        art.execute(params![
            record.id,
            t,
            s.label,
            s.score as f64,
            s.confidence as f64,
            s.relevant,
            json(&s.evidence)
        ])?;
    }
    let mut act = tx.prepare(
        "INSERT INTO actor_stances (article_id, actor, target, label, score, evidence) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for a in &record.actors {
        for (t, s) in &a.stance {
            act.execute(params![
                record.id,
                a.id,
                t,
                s.label,
                s.score as f64,
                json(&s.evidence)
            ])?;
        }
    }
    Ok(())
}

/// A stored sentence with its article's metadata and, when stance was run
/// for the target, the stored prediction.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSentence {
    pub article_id: String,
    pub idx: usize,
    pub text: String,
    /// The previous sentence of the article.
    pub context: Option<String>,
    pub title: Option<String>,
    pub date: Option<String>,
    /// favor, against, neutral, none; with the version that produced them.
    pub probs: Option<([f32; 4], String)>,
}

impl Store {
    /// Every stored sentence (articles by date, then id; sentences in
    /// reading order) with its stance toward `target`, if stored.
    pub fn sentences_for(&self, target: &str) -> Result<Vec<StoredSentence>> {
        let mut stmt = self
            .conn
            .prepare(
                "SELECT s.article_id, s.idx, s.text, a.title, a.date,
                        st.p_favor, st.p_against, st.p_neutral, st.p_none, st.model_version
                 FROM sentences s JOIN articles a ON a.id = s.article_id
                 LEFT JOIN sentence_stances st
                   ON st.article_id = s.article_id AND st.idx = s.idx AND st.target = ?1
                 ORDER BY a.date, a.id, s.idx",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![target], |r| {
                let p: Option<f64> = r.get(5)?;
                let probs = match p {
                    Some(f) => Some((
                        [
                            f as f32,
                            r.get::<_, f64>(6)? as f32,
                            r.get::<_, f64>(7)? as f32,
                            r.get::<_, f64>(8)? as f32,
                        ],
                        r.get::<_, String>(9)?,
                    )),
                    None => None,
                };
                Ok(StoredSentence {
                    article_id: r.get(0)?,
                    idx: r.get::<_, i64>(1)? as usize,
                    text: r.get(2)?,
                    context: None,
                    title: r.get(3)?,
                    date: r.get(4)?,
                    probs,
                })
            })
            .map_err(|e| self.err(e))?;
        let mut out: Vec<StoredSentence> = rows
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| self.err(e))?;
        for i in 1..out.len() {
            if out[i - 1].article_id == out[i].article_id {
                out[i].context = Some(out[i - 1].text.clone());
            }
        }
        Ok(out)
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::article::{Article, Metadata, Sentence};

    fn record(id: &str) -> ArticleRecord {
        ArticleRecord::new(
            Article {
                id: id.into(),
                source: "a.txt".into(),
                meta: Metadata::default(),
                text: "One. Two.".into(),
                warnings: vec![],
            },
            vec![
                Sentence::new(0, 4, "One.".into()),
                Sentence::new(5, 9, "Two.".into()),
            ],
        )
    }

    #[test]
    fn version_1_stores_gain_holders() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
                 INSERT INTO meta VALUES ('store_version', '1');
                 CREATE TABLE sentence_stances (
                     article_id TEXT NOT NULL, idx INTEGER NOT NULL, target TEXT NOT NULL,
                     label TEXT NOT NULL, p_favor REAL NOT NULL, p_against REAL NOT NULL,
                     p_neutral REAL NOT NULL, p_none REAL NOT NULL, model_version TEXT NOT NULL,
                     PRIMARY KEY (article_id, idx, target));",
            )
            .unwrap();
        }
        let s = Store::open(&path).unwrap();
        let v: String = s
            .conn
            .query_row(
                "SELECT value FROM meta WHERE key = 'store_version'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(v, STORE_VERSION.to_string());
        s.conn
            .execute_batch("SELECT holder FROM sentence_stances")
            .unwrap();
    }

    #[test]
    fn articles_round_trip_and_freshness_follows_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.sqlite")).unwrap();
        let run = s.begin_run("a.txt", "f1").unwrap();
        assert_eq!(s.freshness("x", "h", "f1").unwrap(), Freshness::New);
        s.put_article(run, "a.txt", &record("x"), "h", "f1")
            .unwrap();
        assert_eq!(s.freshness("x", "h", "f1").unwrap(), Freshness::Unchanged);
        assert_eq!(s.freshness("x", "h2", "f1").unwrap(), Freshness::Changed);
        assert_eq!(
            s.freshness("x", "h", "f2").unwrap(),
            Freshness::Restaged("f1".into())
        );
        assert_eq!(s.record("x").unwrap().unwrap(), record("x"));
        // Replacing keeps one copy of the sentences.
        s.put_article(run, "a.txt", &record("x"), "h", "f1")
            .unwrap();
        let n: i64 = s
            .conn
            .query_row("SELECT COUNT(*) FROM sentences", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 2);
        // Aggregated stances are stored with their article and replaced with it.
        let mut r = record("x");
        r.stance.insert(
            "t".into(),
            crate::article::ArticleStance {
                label: "favor".into(),
                score: 0.5,
                confidence: 0.9,
                relevant: true,
                evidence: vec![1, 0],
            },
        );
        s.put_article(run, "a.txt", &r, "h", "f1").unwrap();
        s.put_article(run, "a.txt", &r, "h", "f1").unwrap();
        let (n, ev): (i64, String) = s
            .conn
            .query_row(
                "SELECT COUNT(*), MAX(evidence) FROM article_stances",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((n, ev.as_str()), (1, "[1,0]"));
        assert_eq!(s.records().unwrap(), vec![r]);
        assert_eq!(s.remove_stale("a.txt", &[]).unwrap(), 1);
        let n: i64 = s
            .conn
            .query_row("SELECT COUNT(*) FROM sentences", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0, "sentences go with their article");
    }

    #[test]
    fn sentences_come_back_with_context_and_stored_stance() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(&dir.path().join("s.sqlite")).unwrap();
        let run = s.begin_run("a.txt", "f1").unwrap();
        let mut r = record("x");
        r.models.insert("stance".into(), "v7".into());
        r.sentences[1].stance.insert(
            "t".into(),
            crate::article::SentenceStance {
                label: "favor".into(),
                probs: [("favor".to_string(), 0.5f32), ("none".to_string(), 0.5)].into(),
                holder: None,
            },
        );
        s.put_article(run, "a.txt", &r, "h", "f1").unwrap();
        let got = s.sentences_for("t").unwrap();
        assert_eq!(got.len(), 2);
        assert_eq!(
            (got[0].context.as_deref(), got[0].probs.is_none()),
            (None, true)
        );
        assert_eq!(got[1].context.as_deref(), Some("One."));
        assert_eq!(got[1].probs, Some(([0.5, 0.0, 0.0, 0.5], "v7".to_string())));
        assert!(s.sentences_for("other").unwrap()[1].probs.is_none());
    }

    #[test]
    fn a_newer_store_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.sqlite");
        let s = Store::open(&p).unwrap();
        s.conn
            .execute(
                "UPDATE meta SET value = '99' WHERE key = 'store_version'",
                [],
            )
            .unwrap();
        drop(s);
        assert!(matches!(
            Store::open(&p),
            Err(StoreError::TooNew { found: 99, .. })
        ));
    }
}
