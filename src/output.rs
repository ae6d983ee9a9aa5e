//! Output: `articles.jsonl` (one record per article) and `errors.jsonl`
//! (one line per failed input) in the output folder. Lines are flushed as
//! they are written, so an interrupted run keeps everything done so far.

use crate::article::ArticleRecord;
use serde::Serialize;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
#[error("{}: {source}", path.display())]
pub struct OutputError {
    pub path: PathBuf,
    #[source]
    pub source: std::io::Error,
}

/// One line of `errors.jsonl`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ErrorRecord {
    pub source: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
    pub error: String,
}

pub struct Writer {
    articles: (PathBuf, BufWriter<File>),
    errors: (PathBuf, BufWriter<File>),
}

impl Writer {
    /// Create the output folder (if needed) and truncate both files.
    pub fn create(dir: &Path) -> Result<Writer, OutputError> {
        std::fs::create_dir_all(dir).map_err(|source| OutputError {
            path: dir.to_path_buf(),
            source,
        })?;
        let open = |name: &str| -> Result<(PathBuf, BufWriter<File>), OutputError> {
            let path = dir.join(name);
            let f = File::create(&path).map_err(|source| OutputError {
                path: path.clone(),
                source,
            })?;
            Ok((path, BufWriter::new(f)))
        };
        Ok(Writer {
            articles: open("articles.jsonl")?,
            errors: open("errors.jsonl")?,
        })
    }

    pub fn article(&mut self, record: &ArticleRecord) -> Result<(), OutputError> {
        write_line(&mut self.articles, record)
    }

    pub fn error(&mut self, record: &ErrorRecord) -> Result<(), OutputError> {
        write_line(&mut self.errors, record)
    }
}

fn write_line<T: Serialize>(
    (path, w): &mut (PathBuf, BufWriter<File>),
    value: &T,
) -> Result<(), OutputError> {
    let err = |source| OutputError {
        path: path.clone(),
        source,
    };
    serde_json::to_writer(&mut *w, value).map_err(|e| err(e.into()))?;
    w.write_all(b"\n").map_err(err)?;
    w.flush().map_err(err)
}
