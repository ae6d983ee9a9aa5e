//! Labelled stance sentences in JSON Lines:
//! `{"text", "context"?, "target", "label", "holder"?, "article_id"?}`
//! (`article` is read as `article_id`; unknown fields are kept aside).

use serde::{Deserialize, Serialize};
use std::io::BufRead;
use std::path::{Path, PathBuf};

/// The four stance classes, in model output order.
pub const LABELS: [&str; 4] = ["favor", "against", "neutral", "none"];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LabelledSentence {
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
    pub target: String,
    #[serde(default)]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    #[serde(default, alias = "article", skip_serializing_if = "Option::is_none")]
    pub article_id: Option<String>,
    /// Every other field, written back unchanged in predictions.
    #[serde(flatten)]
    pub extra: serde_json::Map<String, serde_json::Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}: {message}", path.display())]
    Line {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("{}: no labelled sentences", path.display())]
    Empty { path: PathBuf },
}

/// Map a label as written (also VAST/IBM spellings) to its class index.
pub fn label_index(label: &str) -> Option<usize> {
    let l = label.trim().to_lowercase();
    let l = match l.as_str() {
        "pro" | "support" | "favour" => "favor",
        "con" | "oppose" => "against",
        other => other,
    };
    LABELS.iter().position(|x| *x == l)
}

/// Read labelled sentences. Lines without a label are skipped when
/// `require_label` is false (partly filled annotation files); any malformed
/// line is an error naming its file and line.
pub fn read(path: &Path, require_label: bool) -> Result<Vec<LabelledSentence>, DataError> {
    let f = std::fs::File::open(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut out = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line_no = i + 1;
        let err = |message: String| DataError::Line {
            path: path.to_path_buf(),
            line: line_no,
            message,
        };
        let line = line.map_err(|e| err(e.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let s: LabelledSentence =
            serde_json::from_str(&line).map_err(|e| err(format!("invalid JSON: {e}")))?;
        if s.text.trim().is_empty() {
            return Err(err("empty \"text\"".into()));
        }
        if s.target.trim().is_empty() {
            return Err(err("empty \"target\"".into()));
        }
        match s.label.as_deref().map(str::trim) {
            None | Some("") if !require_label => continue,
            None | Some("") => return Err(err("missing \"label\"".into())),
            Some(l) if label_index(l).is_none() => {
                return Err(err(format!(
                    "unknown label {l:?} (expected one of {})",
                    LABELS.join(", ")
                )))
            }
            Some(_) => {}
        }
        out.push(s);
    }
    if out.is_empty() && require_label {
        return Err(DataError::Empty {
            path: path.to_path_buf(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn file(content: &str) -> tempfile::NamedTempFile {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(content.as_bytes()).unwrap();
        f
    }

    #[test]
    fn reads_labels_and_keeps_extra_fields() {
        let f = file("{\"text\":\"Talks now.\",\"target\":\"t\",\"label\":\"Favor\",\"article\":\"a1\",\"part\":\"body\"}\n\n");
        let v = read(f.path(), true).unwrap();
        assert_eq!(v[0].article_id.as_deref(), Some("a1"));
        assert_eq!(v[0].extra["part"], "body");
        assert_eq!(label_index(v[0].label.as_deref().unwrap()), Some(0));
    }

    #[test]
    fn bad_lines_name_file_and_line() {
        let f = file("{\"text\":\"a\",\"target\":\"t\",\"label\":\"none\"}\n{\"text\":\"b\",\"target\":\"t\",\"label\":\"maybe\"}\n");
        let e = read(f.path(), true).unwrap_err().to_string();
        assert!(e.contains(":2: unknown label \"maybe\""), "{e}");
        let f = file("{\"text\":\"a\",\"target\":\"t\"}\n");
        assert!(read(f.path(), true)
            .unwrap_err()
            .to_string()
            .contains(":1: missing \"label\""));
        assert!(
            read(f.path(), false).unwrap().is_empty(),
            "unlabelled lines skipped on import"
        );
        let f = file("{oops\n");
        assert!(read(f.path(), true)
            .unwrap_err()
            .to_string()
            .contains(":1: invalid JSON"));
    }

    #[test]
    fn vast_spellings_map_to_classes() {
        assert_eq!(label_index("pro"), Some(0));
        assert_eq!(label_index("con"), Some(1));
        assert_eq!(label_index("neutral"), Some(2));
    }
}
