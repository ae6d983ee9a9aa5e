//! Ingest: turn input files into cleaned [`Article`]s.
//!
//! Formats: Interpreter-style or plain text (`.txt`, anything unknown given
//! by name), saved HTML pages (`.html`, `.htm`) and JSON Lines (`.jsonl`,
//! `.ndjson`), one article per line. Every problem is an [`IngestError`]
//! naming the file (and line); one bad input never stops the others.

mod clean;
mod html;
mod jsonl;
mod text;

use crate::article::{content_id, Article, Metadata};
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

pub use clean::normalize_space;

/// Errors for one input file or JSONL line.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: no such file or directory", path.display())]
    Missing { path: PathBuf },
    #[error("{}: empty file", path.display())]
    Empty { path: PathBuf },
    #[error("{}: binary file (NUL bytes), not text", path.display())]
    Binary { path: PathBuf },
    #[error("{}: file is {size} bytes, over the {limit}-byte limit for one article (raise --max-bytes, or split it)", path.display())]
    TooLarge {
        path: PathBuf,
        size: u64,
        limit: u64,
    },
    #[error("{}:{line}: not valid UTF-8", path.display())]
    NotUtf8 { path: PathBuf, line: usize },
    #[error("{}:{line}: invalid JSON: {message}", path.display())]
    Json {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}:{line}: bad front matter: {message}", path.display())]
    FrontMatter {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: bad sidecar {}: {message}", path.display(), sidecar.display())]
    Sidecar {
        path: PathBuf,
        sidecar: PathBuf,
        message: String,
    },
    #[error("{what}: no article text left after cleaning")]
    NoText { what: String },
}

impl IngestError {
    /// The input path the error is about.
    pub fn path(&self) -> Option<&Path> {
        match self {
            IngestError::Io { path, .. }
            | IngestError::Missing { path }
            | IngestError::Empty { path }
            | IngestError::Binary { path }
            | IngestError::TooLarge { path, .. }
            | IngestError::NotUtf8 { path, .. }
            | IngestError::Json { path, .. }
            | IngestError::FrontMatter { path, .. }
            | IngestError::Sidecar { path, .. } => Some(path),
            IngestError::NoText { .. } => None,
        }
    }

    /// The line number, for errors inside a JSONL file or front matter.
    pub fn line(&self) -> Option<usize> {
        match self {
            IngestError::NotUtf8 { line, .. }
            | IngestError::Json { line, .. }
            | IngestError::FrontMatter { line, .. } => Some(*line),
            _ => None,
        }
    }
}

/// What a format parser hands back before ids are assigned.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub meta: Metadata,
    pub text: String,
    pub warnings: Vec<String>,
}

/// Input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Html,
    Jsonl,
}

impl Format {
    /// The format of a file from its extension; `None` for files a folder
    /// walk should pass over (images, sidecars, READMEs…).
    pub fn of(path: &Path) -> Option<Format> {
        let name = path.file_name()?.to_string_lossy().to_lowercase();
        if name.starts_with('.') || name.starts_with("readme") {
            return None;
        }
        match path.extension()?.to_string_lossy().to_lowercase().as_str() {
            "txt" | "text" | "md" => Some(Format::Text),
            "html" | "htm" | "xhtml" => Some(Format::Html),
            "jsonl" | "ndjson" => Some(Format::Jsonl),
            _ => None,
        }
    }
}

/// One input file and how to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceFile {
    pub path: PathBuf,
    pub format: Format,
}

/// Limits that keep one odd input from exhausting memory.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest text/HTML file, and largest JSONL line, in bytes.
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_bytes: 20 * 1024 * 1024,
        }
    }
}

/// Expand the given paths into input files, sorted within each folder.
/// Files named explicitly are read whatever their extension (as text unless
/// it says HTML or JSONL); folders are walked for known extensions only.
pub fn discover(paths: &[PathBuf]) -> (Vec<SourceFile>, Vec<IngestError>) {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        match std::fs::metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                errors.push(IngestError::Missing { path: path.clone() })
            }
            Err(e) => errors.push(IngestError::Io {
                path: path.clone(),
                source: e,
            }),
            Ok(m) if m.is_dir() => {
                let walker = walkdir::WalkDir::new(path)
                    .sort_by_file_name()
                    .into_iter()
                    .filter_entry(|e| {
                        e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.')
                    });
                for entry in walker {
                    match entry {
                        Ok(e) if e.file_type().is_file() => {
                            if let Some(format) = Format::of(e.path()) {
                                files.push(SourceFile {
                                    path: e.path().to_path_buf(),
                                    format,
                                });
                            }
                        }
                        Ok(_) => {}
                        Err(e) => errors.push(IngestError::Io {
                            path: e
                                .path()
                                .map(Path::to_path_buf)
                                .unwrap_or_else(|| path.clone()),
                            source: e.into(),
                        }),
                    }
                }
            }
            Ok(_) => files.push(SourceFile {
                path: path.clone(),
                format: Format::of(path).unwrap_or(Format::Text),
            }),
        }
    }
    (files, errors)
}

/// Read every article of one input file. Text and HTML files give one
/// article; JSONL gives one per non-blank line, each its own `Result`.
pub fn read(
    file: &SourceFile,
    limits: Limits,
) -> Box<dyn Iterator<Item = Result<Article, IngestError>>> {
    match file.format {
        Format::Jsonl => match jsonl::Records::open(&file.path, limits) {
            Ok(records) => Box::new(records),
            Err(e) => Box::new(std::iter::once(Err(e))),
        },
        Format::Text | Format::Html => Box::new(std::iter::once(read_document(file, limits))),
    }
}

fn read_document(file: &SourceFile, limits: Limits) -> Result<Article, IngestError> {
    let path = &file.path;
    let bytes = read_limited(path, limits)?;
    let (raw, mut warnings) = decode(&bytes, path)?;
    let mut parsed = match file.format {
        Format::Html => html::parse(&raw),
        _ => text::parse(&raw, path)?,
    };
    warnings.append(&mut parsed.warnings);
    parsed.warnings = warnings;
    apply_sidecar(path, &mut parsed.meta)?;
    finish(parsed, path.display().to_string(), None)
}

/// Assign the id and refuse articles with no text.
fn finish(parsed: Parsed, source: String, id: Option<String>) -> Result<Article, IngestError> {
    if parsed.text.trim().is_empty() {
        return Err(IngestError::NoText { what: source });
    }
    let id =
        id.unwrap_or_else(|| content_id(parsed.meta.title.as_deref().unwrap_or(""), &parsed.text));
    Ok(Article {
        id,
        source,
        meta: parsed.meta,
        text: parsed.text,
        warnings: parsed.warnings,
    })
}

fn read_limited(path: &Path, limits: Limits) -> Result<Vec<u8>, IngestError> {
    let io = |source| IngestError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut f = File::open(path).map_err(io)?;
    let size = f.metadata().map_err(io)?.len();
    if size > limits.max_bytes {
        return Err(IngestError::TooLarge {
            path: path.to_path_buf(),
            size,
            limit: limits.max_bytes,
        });
    }
    let mut bytes = Vec::with_capacity(size as usize);
    // Bound the read too: the file may grow, or be a pipe.
    f.by_ref()
        .take(limits.max_bytes + 1)
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limits.max_bytes {
        return Err(IngestError::TooLarge {
            path: path.to_path_buf(),
            size: bytes.len() as u64,
            limit: limits.max_bytes,
        });
    }
    Ok(bytes)
}

/// Decode a text file: UTF-8 (with or without BOM), UTF-16 with a BOM, or
/// else Windows-1252, which every byte sequence decodes as; the last two
/// are noted as warnings. Empty and binary files are errors.
fn decode(bytes: &[u8], path: &Path) -> Result<(String, Vec<String>), IngestError> {
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(IngestError::Empty {
            path: path.to_path_buf(),
        });
    }
    if let Some((enc, _)) = encoding_rs::Encoding::for_bom(bytes) {
        let (s, _, had_errors) = enc.decode(bytes);
        let mut w = Vec::new();
        if enc != encoding_rs::UTF_8 {
            w.push(format!("decoded as {}", enc.name()));
        }
        if had_errors {
            w.push("invalid byte sequences replaced with U+FFFD".into());
        }
        return Ok((s.into_owned(), w));
    }
    let head = &bytes[..bytes.len().min(8192)];
    if head.contains(&0) {
        return Err(IngestError::Binary {
            path: path.to_path_buf(),
        });
    }
    match std::str::from_utf8(bytes) {
        Ok(s) => Ok((s.to_string(), Vec::new())),
        Err(_) => {
            let (s, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            // Many control characters mean this is not text in any encoding.
            let controls = s
                .chars()
                .filter(|c| c.is_control() && !c.is_whitespace())
                .count();
            if controls * 20 > s.chars().count() {
                return Err(IngestError::Binary {
                    path: path.to_path_buf(),
                });
            }
            Ok((
                s.into_owned(),
                vec!["not valid UTF-8: decoded as Windows-1252".into()],
            ))
        }
    }
}

/// Metadata from a sidecar `<stem>.meta.json` beside the file overrides what
/// the file itself says (for files whose bytes must be kept as they are).
fn apply_sidecar(path: &Path, meta: &mut Metadata) -> Result<(), IngestError> {
    let Some(stem) = path.file_stem() else {
        return Ok(());
    };
    let sidecar = path.with_file_name(format!("{}.meta.json", stem.to_string_lossy()));
    if !sidecar.is_file() {
        return Ok(());
    }
    let err = |message: String| IngestError::Sidecar {
        path: path.to_path_buf(),
        sidecar: sidecar.clone(),
        message,
    };
    let raw = std::fs::read_to_string(&sidecar).map_err(|e| err(e.to_string()))?;
    let v: serde_json::Value = serde_json::from_str(&raw).map_err(|e| err(e.to_string()))?;
    let get = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
    if let Some(t) = get("title") {
        meta.title = Some(t);
    }
    if let Some(t) = get("standfirst") {
        meta.standfirst = Some(t);
    }
    if let Some(t) = get("author") {
        meta.author = Some(t);
    }
    if let Some(t) = get("url") {
        meta.url = Some(t);
    }
    if let Some(t) = get("date") {
        meta.date =
            Some(normalize_date(&t).ok_or_else(|| err(format!("unrecognised date {t:?}")))?);
    }
    if let Some(b) = v.get("synthetic").and_then(|x| x.as_bool()) {
        meta.synthetic = b;
    }
    Ok(())
}

/// Normalise a date to ISO 8601 (`YYYY-MM-DD`, or `YYYY-MM` / `YYYY` when
/// that is all that is known). Accepts ISO dates and timestamps and
/// "3 March 2019", "March 3, 2019", "Mar 3 2019".
pub fn normalize_date(s: &str) -> Option<String> {
    use chrono::NaiveDate;
    let s = s.trim();
    let iso = s.split(['T', ' ']).next().unwrap_or(s);
    if let Ok(d) = NaiveDate::parse_from_str(iso, "%Y-%m-%d") {
        return Some(d.format("%Y-%m-%d").to_string());
    }
    let parts: Vec<&str> = iso.split('-').collect();
    let year_ok = |y: &str| y.len() == 4 && y.chars().all(|c| c.is_ascii_digit());
    match parts.as_slice() {
        [y] if year_ok(y) => return Some(y.to_string()),
        [y, m] if year_ok(y) => {
            if let Ok(m) = m.parse::<u32>() {
                if (1..=12).contains(&m) {
                    return Some(format!("{y}-{m:02}"));
                }
            }
        }
        _ => {}
    }
    let cleaned = s.replace(',', " ");
    let cleaned = normalize_space(&cleaned);
    for fmt in [
        "%d %B %Y", "%B %d %Y", "%d %b %Y", "%b %d %Y", "%Y/%m/%d", "%d/%m/%Y",
    ] {
        // chrono's %Y also takes two digits ("January 2025" would read as
        // day 20 of year 25), so insist on a plausible year.
        match NaiveDate::parse_from_str(&cleaned, fmt) {
            Ok(d) if chrono::Datelike::year(&d) >= 1000 => {
                return Some(d.format("%Y-%m-%d").to_string())
            }
            _ => {}
        }
    }
    for fmt in ["%B %Y", "%b %Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(&format!("1 {cleaned}"), &format!("%d {fmt}")) {
            return Some(d.format("%Y-%m").to_string());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_normalise_to_iso() {
        assert_eq!(
            normalize_date("2019-02-27T09:00:00+07:00").as_deref(),
            Some("2019-02-27")
        );
        assert_eq!(
            normalize_date("3 March 2019").as_deref(),
            Some("2019-03-03")
        );
        assert_eq!(
            normalize_date("March 3, 2019").as_deref(),
            Some("2019-03-03")
        );
        assert_eq!(normalize_date("2025-01").as_deref(), Some("2025-01"));
        assert_eq!(normalize_date("January 2025").as_deref(), Some("2025-01"));
        assert_eq!(normalize_date("2025").as_deref(), Some("2025"));
        assert_eq!(normalize_date("2025-13"), None);
        assert_eq!(normalize_date("soon"), None);
    }

    #[test]
    fn decode_handles_bom_latin1_and_binary() {
        let p = Path::new("x");
        assert_eq!(decode(b"\xef\xbb\xbfhi", p).unwrap().0, "hi");
        let (s, w) = decode(b"caf\xe9", p).unwrap();
        assert_eq!(s, "café");
        assert_eq!(w.len(), 1);
        assert!(matches!(
            decode(b"a\0b", p),
            Err(IngestError::Binary { .. })
        ));
        assert!(matches!(
            decode(b" \n\t", p),
            Err(IngestError::Empty { .. })
        ));
    }

    #[test]
    fn folder_walks_skip_unknown_and_hidden_files() {
        assert_eq!(Format::of(Path::new("a/b.TXT")), Some(Format::Text));
        assert_eq!(Format::of(Path::new("a/b.jsonl")), Some(Format::Jsonl));
        assert_eq!(Format::of(Path::new("a/b.meta.json")), None);
        assert_eq!(Format::of(Path::new("a/README.md")), None);
        assert_eq!(Format::of(Path::new("a/.x.txt")), None);
        assert_eq!(Format::of(Path::new("a/pic.png")), None);
    }
}
