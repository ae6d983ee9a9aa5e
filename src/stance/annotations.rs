//! Annotation files: the sentences `stancemine annotate` proposes, written
//! for people to label (JSONL, or CSV for spreadsheets), and read back.
//! Reading accepts partly filled files (unlabelled lines are skipped) and
//! reports every bad line with its file and line, not just the first.

use super::data::{label_index, LabelledSentence, LABELS};
use super::targets::Targets;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

/// A sentence proposed for labelling, with what the model thinks of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub text: String,
    /// The previous sentence of the article (or null for the first).
    pub context: Option<String>,
    pub article_id: String,
    pub title: Option<String>,
    pub date: Option<String>,
    pub target: String,
    /// The model's label.
    pub predicted: String,
    /// Probability of each label, in [`LABELS`] order.
    #[serde(serialize_with = "probs_by_label")]
    pub probs: [f32; 4],
    /// How unsure the model is, in [0, 1] (see `active::uncertainty`).
    pub uncertainty: f32,
    pub model_version: String,
}

fn probs_by_label<S: serde::Serializer>(p: &[f32; 4], s: S) -> Result<S::Ok, S::Error> {
    let m: BTreeMap<&str, f32> = LABELS.iter().copied().zip(p.iter().copied()).collect();
    m.serialize(s)
}

/// One labelled line of an annotation file, with where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Annotated {
    pub path: PathBuf,
    pub line: usize,
    pub sentence: LabelledSentence,
}

impl Annotated {
    /// `file:line`, for messages.
    pub fn place(&self) -> String {
        format!("{}:{}", self.path.display(), self.line)
    }
}

/// What one annotation file held.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    pub labelled: Vec<Annotated>,
    /// Lines left without a label (skipped).
    pub unlabelled: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum AnnotationError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Csv {
        path: PathBuf,
        #[source]
        source: csv::Error,
    },
    #[error("{} already exists: choose another --out (it may hold labels you wrote)", path.display())]
    Exists { path: PathBuf },
    #[error("{}", render_problems(.0))]
    Invalid(Vec<String>),
    #[error("{}: no labelled sentences ({unlabelled} line(s) without a label): fill in \"label\" first", path.display())]
    Empty { path: PathBuf, unlabelled: usize },
}

/// The first problems, one per line, and how many more there are.
fn render_problems(p: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut s = format!("{} invalid line(s) in the annotations:", p.len());
    for m in p.iter().take(SHOWN) {
        s += "\n  ";
        s += m;
    }
    if p.len() > SHOWN {
        s += &format!("\n  … and {} more", p.len() - SHOWN);
    }
    s
}

fn is_csv(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
}

/// Write candidates to `path` (CSV when it ends in `.csv`, else JSONL) with
/// empty `label` and `holder` to fill. The file is written to a temporary
/// sibling and renamed, and an existing file is never overwritten.
pub fn write(path: &Path, candidates: &[Candidate]) -> Result<(), AnnotationError> {
    let io = |source| AnnotationError::Io {
        path: path.to_path_buf(),
        source,
    };
    if path.exists() {
        return Err(AnnotationError::Exists {
            path: path.to_path_buf(),
        });
    }
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(io)?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir).map_err(io)?;
    if is_csv(path) {
        write_csv(tmp.as_file_mut(), candidates).map_err(|source| AnnotationError::Csv {
            path: path.to_path_buf(),
            source,
        })?;
    } else {
        let mut w = std::io::BufWriter::new(tmp.as_file_mut());
        for c in candidates {
            let mut v = serde_json::to_value(c).expect("a candidate serialises");
            v["label"] = "".into();
            v["holder"] = "".into();
            serde_json::to_writer(&mut w, &v).map_err(|e| io(e.into()))?;
            w.write_all(b"\n").map_err(io)?;
        }
        w.flush().map_err(io)?;
    }
    // Refuses to replace a file created meanwhile.
    tmp.persist_noclobber(path).map_err(|e| io(e.error))?;
    Ok(())
}

const CSV_HEADER: [&str; 15] = [
    "label",
    "holder",
    "text",
    "context",
    "article_id",
    "title",
    "date",
    "target",
    "predicted",
    "p_favor",
    "p_against",
    "p_neutral",
    "p_none",
    "uncertainty",
    "model_version",
];

fn write_csv(f: &mut std::fs::File, candidates: &[Candidate]) -> Result<(), csv::Error> {
    // label and holder first: the columns people fill are next to the text.
    let mut w = csv::Writer::from_writer(f);
    w.write_record(CSV_HEADER)?;
    for c in candidates {
        let p = |i: usize| format!("{:.4}", c.probs[i]);
        w.write_record([
            "",
            "",
            &c.text,
            c.context.as_deref().unwrap_or(""),
            &c.article_id,
            c.title.as_deref().unwrap_or(""),
            c.date.as_deref().unwrap_or(""),
            &c.target,
            &c.predicted,
            &p(0),
            &p(1),
            &p(2),
            &p(3),
            &format!("{:.4}", c.uncertainty),
            &c.model_version,
        ])?;
    }
    w.flush()?;
    Ok(())
}

/// Read annotation files (JSONL, or CSV by extension). Unlabelled lines are
/// skipped; every malformed line, unknown label or unknown target is
/// reported with its file and line. A file with no labelled line at all is
/// an error.
pub fn read_all(paths: &[PathBuf], targets: &Targets) -> Result<Vec<Imported>, AnnotationError> {
    let mut problems = Vec::new();
    let mut out = Vec::new();
    for path in paths {
        let rows = if is_csv(path) {
            read_csv_rows(path)?
        } else {
            read_jsonl_rows(path)?
        };
        let mut imported = Imported::default();
        for (line, row) in rows {
            let place = format!("{}:{line}", path.display());
            let s = match row {
                Ok(s) => s,
                Err(m) => {
                    problems.push(format!("{place}: {m}"));
                    continue;
                }
            };
            match check(s, targets) {
                Ok(Some(s)) => imported.labelled.push(Annotated {
                    path: path.clone(),
                    line,
                    sentence: s,
                }),
                Ok(None) => imported.unlabelled += 1,
                Err(m) => problems.push(format!("{place}: {m}")),
            }
        }
        if imported.labelled.is_empty() && problems.is_empty() {
            return Err(AnnotationError::Empty {
                path: path.clone(),
                unlabelled: imported.unlabelled,
            });
        }
        out.push(imported);
    }
    if !problems.is_empty() {
        return Err(AnnotationError::Invalid(problems));
    }
    Ok(out)
}

/// Normalise one row: `None` when it has no label yet.
fn check(mut s: LabelledSentence, targets: &Targets) -> Result<Option<LabelledSentence>, String> {
    let label = s.label.as_deref().map(str::trim).unwrap_or("");
    if label.is_empty() {
        return Ok(None);
    }
    let Some(i) = label_index(label) else {
        return Err(format!(
            "unknown label {label:?} (expected one of {})",
            LABELS.join(", ")
        ));
    };
    if s.text.trim().is_empty() {
        return Err("empty \"text\"".into());
    }
    if targets.get(s.target.trim()).is_none() {
        let known: Vec<&str> = targets.0.iter().map(|t| t.id.as_str()).collect();
        return Err(format!(
            "unknown target {:?} (the targets file has {})",
            s.target,
            known.join(", ")
        ));
    }
    s.target = s.target.trim().to_string();
    s.label = Some(LABELS[i].to_string());
    s.holder = s
        .holder
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty());
    s.context = s.context.filter(|c| !c.trim().is_empty());
    Ok(Some(s))
}

type Row = (usize, Result<LabelledSentence, String>);

fn read_jsonl_rows(path: &Path) -> Result<Vec<Row>, AnnotationError> {
    let f = std::fs::File::open(path).map_err(|source| AnnotationError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut rows = Vec::new();
    for (i, line) in std::io::BufReader::new(f).lines().enumerate() {
        let line = line.map_err(|source| AnnotationError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        if line.trim().is_empty() {
            continue;
        }
        rows.push((
            i + 1,
            serde_json::from_str::<LabelledSentence>(&line)
                .map_err(|e| format!("invalid JSON: {e}")),
        ));
    }
    Ok(rows)
}

fn read_csv_rows(path: &Path) -> Result<Vec<Row>, AnnotationError> {
    let csv_err = |source| AnnotationError::Csv {
        path: path.to_path_buf(),
        source,
    };
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_path(path)
        .map_err(csv_err)?;
    let header: Vec<String> = r
        .headers()
        .map_err(csv_err)?
        .iter()
        .map(|h| h.trim().to_lowercase())
        .collect();
    let col = |name: &str| header.iter().position(|h| h == name);
    let (Some(text), Some(target), Some(label)) = (col("text"), col("target"), col("label")) else {
        return Err(AnnotationError::Invalid(vec![format!(
            "{}:1: the header needs the columns text, target and label (found: {})",
            path.display(),
            header.join(", ")
        )]));
    };
    let (holder, context, article) = (col("holder"), col("context"), col("article_id"));
    let mut rows = Vec::new();
    for rec in r.records() {
        let rec = match rec {
            Ok(rec) => rec,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                rows.push((line, Err(format!("unreadable CSV row: {e}"))));
                continue;
            }
        };
        let line = rec.position().map_or(0, |p| p.line() as usize);
        if rec.iter().all(|f| f.trim().is_empty()) {
            continue;
        }
        let get = |i: Option<usize>| i.and_then(|i| rec.get(i)).map(str::to_string);
        // The columns stancemine wrote are kept as fields, like JSONL extras.
        let mut extra = serde_json::Map::new();
        for (i, name) in header.iter().enumerate() {
            if !["text", "target", "label", "holder", "context", "article_id"]
                .contains(&name.as_str())
            {
                if let Some(v) = rec.get(i) {
                    extra.insert(name.clone(), v.into());
                }
            }
        }
        rows.push((
            line,
            Ok(LabelledSentence {
                text: get(Some(text)).unwrap_or_default(),
                context: get(context),
                target: get(Some(target)).unwrap_or_default(),
                label: get(Some(label)),
                holder: get(holder),
                article_id: get(article).filter(|a| !a.is_empty()),
                extra,
            }),
        ));
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn targets() -> Targets {
        Targets::parse(
            "[[target]]\nid = \"t\"\nname = \"T\"\ndescription = \"talks\"\n",
            Path::new("targets.toml"),
        )
        .unwrap()
    }

    fn candidate(text: &str) -> Candidate {
        Candidate {
            text: text.into(),
            context: Some("Before, \"quoted\", here.".into()),
            article_id: "a1".into(),
            title: Some("A title, with a comma".into()),
            date: Some("2026-01-19".into()),
            target: "t".into(),
            predicted: "none".into(),
            probs: [0.1, 0.2, 0.3, 0.4],
            uncertainty: 0.9,
            model_version: "v1".into(),
        }
    }

    #[test]
    fn jsonl_round_trip_skips_unlabelled_lines_and_keeps_fields() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.jsonl");
        write(&p, &[candidate("One."), candidate("Two.")]).unwrap();
        let first = std::fs::read_to_string(&p).unwrap();
        let v: serde_json::Value = serde_json::from_str(first.lines().next().unwrap()).unwrap();
        assert_eq!(v["label"], "");
        assert_eq!(v["probs"]["none"].as_f64().unwrap(), 0.4f32 as f64);
        assert_eq!(v["title"], "A title, with a comma");
        // Never overwrites a file someone may have labelled.
        assert!(matches!(
            write(&p, &[candidate("x")]),
            Err(AnnotationError::Exists { .. })
        ));
        // Label one line, as a person would.
        let filled = first.replacen("\"label\":\"\"", "\"label\":\" Favor \"", 1);
        std::fs::write(&p, filled).unwrap();
        let got = read_all(std::slice::from_ref(&p), &targets()).unwrap();
        assert_eq!(got[0].unlabelled, 1);
        let a = &got[0].labelled[0];
        assert_eq!((a.line, a.sentence.label.as_deref()), (1, Some("favor")));
        assert_eq!(a.sentence.holder, None, "an empty holder is no holder");
        assert_eq!(a.sentence.article_id.as_deref(), Some("a1"));
    }

    #[test]
    fn csv_round_trip_with_quotes_and_commas() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        write(
            &p,
            &[candidate("Talks, \"now\", please."), candidate("Two.")],
        )
        .unwrap();
        let raw = std::fs::read_to_string(&p).unwrap();
        assert!(raw.starts_with("label,holder,text,"), "{raw}");
        // A spreadsheet user fills the first row's label and holder.
        let filled = raw.replacen("\n,,", "\nagainst,Kim Jong-un,", 1);
        std::fs::write(&p, filled).unwrap();
        let got = read_all(&[p], &targets()).unwrap();
        assert_eq!(got[0].unlabelled, 1);
        let s = &got[0].labelled[0].sentence;
        assert_eq!(s.text, "Talks, \"now\", please.");
        assert_eq!(s.label.as_deref(), Some("against"));
        assert_eq!(s.holder.as_deref(), Some("Kim Jong-un"));
        assert_eq!(s.context.as_deref(), Some("Before, \"quoted\", here."));
        assert_eq!(got[0].labelled[0].line, 2);
    }

    #[test]
    fn every_bad_line_is_reported_with_file_and_line() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.jsonl");
        std::fs::write(
            &p,
            "{\"text\":\"a\",\"target\":\"t\",\"label\":\"favor\"}\n\
             {\"text\":\"b\",\"target\":\"t\",\"label\":\"maybe\"}\n\
             \n\
             {\"text\":\"c\",\"target\":\"nope\",\"label\":\"none\"}\n\
             {oops\n",
        )
        .unwrap();
        let e = read_all(&[p], &targets()).unwrap_err().to_string();
        assert!(e.contains("3 invalid line(s)"), "{e}");
        assert!(e.contains("a.jsonl:2: unknown label \"maybe\""), "{e}");
        assert!(e.contains("a.jsonl:4: unknown target \"nope\""), "{e}");
        assert!(e.contains("a.jsonl:5: invalid JSON"), "{e}");
    }

    #[test]
    fn a_file_without_any_label_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.jsonl");
        write(&p, &[candidate("One.")]).unwrap();
        let e = read_all(std::slice::from_ref(&p), &targets())
            .unwrap_err()
            .to_string();
        assert!(e.contains("no labelled sentences (1 line(s)"), "{e}");
        std::fs::write(&p, "").unwrap();
        assert!(matches!(
            read_all(&[p], &targets()),
            Err(AnnotationError::Empty { unlabelled: 0, .. })
        ));
        let csv = dir.path().join("b.csv");
        std::fs::write(&csv, "sentence,stance\nx,favor\n").unwrap();
        let e = read_all(&[csv], &targets()).unwrap_err().to_string();
        assert!(e.contains("b.csv:1: the header needs"), "{e}");
    }
}
