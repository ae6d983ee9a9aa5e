//! JSON Lines input: one article per line,
//! `{"id"?, "title", "author"?, "date"?, "url"?, "standfirst"?, "text"}`.
//! Read as a stream, so a file of any size takes little memory.

use super::clean::{drop_pull_quotes, join_lines, normalize_space, paragraphs};
use super::{finish, normalize_date, IngestError, Limits, Parsed};
use crate::article::{Article, Metadata};
use serde::Deserialize;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

#[derive(Deserialize)]
struct Record {
    id: Option<String>,
    title: String,
    text: String,
    author: Option<String>,
    date: Option<String>,
    url: Option<String>,
    standfirst: Option<String>,
    #[serde(default)]
    synthetic: bool,
}

/// Iterator over the records of one JSONL file.
pub struct Records {
    path: PathBuf,
    reader: BufReader<File>,
    line: usize,
    limits: Limits,
    done: bool,
    any: bool,
}

impl Records {
    pub fn open(path: &Path, limits: Limits) -> Result<Self, IngestError> {
        let f = File::open(path).map_err(|source| IngestError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Records {
            path: path.to_path_buf(),
            reader: BufReader::new(f),
            line: 0,
            limits,
            done: false,
            any: false,
        })
    }

    /// Read the next line, at most `max_bytes` of it; the rest of an
    /// over-long line is skipped. Returns (bytes, was_truncated).
    fn next_line(&mut self) -> std::io::Result<Option<(Vec<u8>, bool)>> {
        let mut buf = Vec::new();
        let n = (&mut self.reader)
            .take(self.limits.max_bytes + 1)
            .read_until(b'\n', &mut buf)?;
        if n == 0 {
            return Ok(None);
        }
        let truncated = buf.len() as u64 > self.limits.max_bytes && buf.last() != Some(&b'\n');
        if truncated {
            let mut sink = Vec::new();
            self.reader.read_until(b'\n', &mut sink)?;
        }
        Ok(Some((buf, truncated)))
    }

    fn parse_line(&self, bytes: &[u8]) -> Result<Option<Article>, IngestError> {
        let line = self.line;
        let text = std::str::from_utf8(bytes).map_err(|_| IngestError::NotUtf8 {
            path: self.path.clone(),
            line,
        })?;
        let text = text.trim_start_matches('\u{feff}').trim();
        if text.is_empty() {
            return Ok(None);
        }
        let rec: Record = serde_json::from_str(text).map_err(|e| IngestError::Json {
            path: self.path.clone(),
            line,
            message: e.to_string(),
        })?;
        let mut warnings = Vec::new();
        let date = rec.date.and_then(|d| {
            let n = normalize_date(&d);
            if n.is_none() {
                warnings.push(format!("unrecognised date {d:?} ignored"));
            }
            n
        });
        let paras: Vec<String> = paragraphs(&rec.text)
            .iter()
            .map(|p| join_lines(p))
            .collect();
        let (paras, _) = drop_pull_quotes(paras);
        let parsed = Parsed {
            meta: Metadata {
                title: Some(normalize_space(&rec.title)).filter(|t| !t.is_empty()),
                standfirst: rec.standfirst.map(|s| normalize_space(&s)),
                author: rec.author,
                date,
                url: rec.url,
                synthetic: rec.synthetic,
            },
            text: paras.join("\n\n"),
            warnings,
        };
        let source = format!("{}:{line}", self.path.display());
        finish(parsed, source, rec.id.filter(|i| !i.trim().is_empty())).map(Some)
    }
}

impl Iterator for Records {
    type Item = Result<Article, IngestError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            let (bytes, truncated) = match self.next_line() {
                Ok(Some(l)) => l,
                Ok(None) => {
                    self.done = true;
                    if !self.any {
                        return Some(Err(IngestError::Empty {
                            path: self.path.clone(),
                        }));
                    }
                    return None;
                }
                Err(source) => {
                    self.done = true;
                    return Some(Err(IngestError::Io {
                        path: self.path.clone(),
                        source,
                    }));
                }
            };
            self.line += 1;
            if truncated {
                self.any = true;
                return Some(Err(IngestError::Json {
                    path: self.path.clone(),
                    line: self.line,
                    message: format!("line longer than {} bytes", self.limits.max_bytes),
                }));
            }
            match self.parse_line(&bytes) {
                Ok(None) => continue,
                Ok(Some(a)) => {
                    self.any = true;
                    return Some(Ok(a));
                }
                Err(e) => {
                    self.any = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn records(content: &[u8], max: u64) -> Vec<Result<Article, IngestError>> {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(content).unwrap();
        Records::open(f.path(), Limits { max_bytes: max })
            .unwrap()
            .collect()
    }

    #[test]
    fn good_and_bad_lines_are_reported_separately() {
        let out = records(
            b"{\"title\":\"A\",\"text\":\"One.\"}\n\nnot json\n{\"text\":\"no title\"}\n{\"id\":\"x\",\"title\":\"B\",\"text\":\"Two.\",\"date\":\"2020-01-02\"}\n",
            1 << 20,
        );
        assert_eq!(out.len(), 4);
        assert!(out[0].is_ok());
        assert_eq!(out[1].as_ref().unwrap_err().line(), Some(3));
        assert!(out[2]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("missing field `title`"));
        let b = out[3].as_ref().unwrap();
        assert_eq!(b.id, "x");
        assert!(b.source.ends_with(":5"));
        assert_eq!(b.meta.date.as_deref(), Some("2020-01-02"));
    }

    #[test]
    fn an_over_long_line_is_skipped_and_the_next_read() {
        let long = format!("{{\"title\":\"A\",\"text\":\"{}\"}}\n", "x".repeat(200));
        let content = format!("{long}{{\"title\":\"B\",\"text\":\"ok\"}}\n");
        let out = records(content.as_bytes(), 100);
        assert_eq!(out.len(), 2);
        assert!(out[0]
            .as_ref()
            .unwrap_err()
            .to_string()
            .contains("longer than 100"));
        assert_eq!(out[1].as_ref().unwrap().meta.title.as_deref(), Some("B"));
    }

    #[test]
    fn invalid_utf8_line_names_its_line() {
        let out = records(b"{\"title\":\"A\",\"text\":\"\xff\"}\n", 1 << 20);
        assert_eq!(out[0].as_ref().unwrap_err().line(), Some(1));
    }

    #[test]
    fn empty_file_is_an_error() {
        let out = records(b"\n\n", 1 << 20);
        assert!(matches!(out[0], Err(IngestError::Empty { .. })));
    }
}
