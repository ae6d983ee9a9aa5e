//! The model registry: named versions of a model kept side by side, and an
//! atomic switch of the active one.
//!
//! Under a models folder (`models/`):
//! - `registry/<task>/<version>/` — every registered version, a complete
//!   model directory with its card (never modified once written);
//! - `<task>` (`models/stance`) — the active model, the path `run` reads.
//!   On a fresh clone it is the shipped directory; the first promotion
//!   registers that directory under its own version and replaces it with a
//!   relative symbolic link into `registry/`. Later promotions make a new
//!   link beside it and rename it over the old one, which is atomic: a
//!   reader sees the old model or the new one, never neither;
//! - `registry/<task>/state.json` — the earlier active versions (what
//!   `rollback` returns to), and `history.jsonl`, one line per switch.
//!
//! A lock file keeps two switches from interleaving.

use super::card::ModelCard;
use super::{invalid, ModelError, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub struct Registry {
    root: PathBuf,
    task: String,
}

/// One model the registry knows.
#[derive(Debug, Clone)]
pub struct Entry {
    pub version: String,
    pub dir: PathBuf,
    pub card: ModelCard,
    pub active: bool,
    /// Only in the active folder (the shipped model before any promotion).
    pub registered: bool,
}

/// A switch of the active model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Switch {
    pub action: String,
    pub from: Option<String>,
    pub to: String,
    pub at: String,
    #[serde(default)]
    pub forced: bool,
    /// Free-form facts about the decision (scores compared).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct State {
    /// Earlier active versions, the latest last.
    previous: Vec<String>,
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> ModelError {
    let path = path.to_path_buf();
    move |source| ModelError::Io { path, source }
}

impl Registry {
    /// The registry of `task` models under `root` (e.g. `models`, `stance`).
    pub fn new(root: &Path, task: &str) -> Registry {
        Registry {
            root: root.to_path_buf(),
            task: task.to_string(),
        }
    }

    /// The active model's path (`models/stance`).
    pub fn active_path(&self) -> PathBuf {
        self.root.join(&self.task)
    }

    pub fn versions_dir(&self) -> PathBuf {
        self.root.join("registry").join(&self.task)
    }

    fn version_dir(&self, version: &str) -> PathBuf {
        self.versions_dir().join(version)
    }

    /// The active version, from the active model's card.
    pub fn active_version(&self) -> Result<Option<String>> {
        let p = self.active_path();
        if !p.join("model-card.json").is_file() {
            return Ok(None);
        }
        Ok(Some(ModelCard::read(&p)?.version))
    }

    /// Every registered version (oldest first), and the active folder when
    /// it is not registered yet.
    pub fn list(&self) -> Result<Vec<Entry>> {
        let active = self.active_version()?;
        let mut out = Vec::new();
        let dir = self.versions_dir();
        if dir.is_dir() {
            for e in std::fs::read_dir(&dir).map_err(io(&dir))?.flatten() {
                let p = e.path();
                if !p.join("model-card.json").is_file() {
                    continue;
                }
                let card = ModelCard::read(&p)?;
                out.push(Entry {
                    version: card.version.clone(),
                    active: active.as_deref() == Some(card.version.as_str()),
                    dir: p,
                    card,
                    registered: true,
                });
            }
        }
        if let Some(v) = &active {
            if !out.iter().any(|e| &e.version == v) {
                out.push(Entry {
                    version: v.clone(),
                    dir: self.active_path(),
                    card: ModelCard::read(&self.active_path())?,
                    active: true,
                    registered: false,
                });
            }
        }
        out.sort_by(|a, b| {
            (a.card.created.as_str(), a.version.as_str())
                .cmp(&(b.card.created.as_str(), b.version.as_str()))
        });
        Ok(out)
    }

    /// The directory of a version, registered or active.
    pub fn find(&self, version: &str) -> Result<Option<PathBuf>> {
        Ok(self
            .list()?
            .into_iter()
            .find(|e| e.version == version)
            .map(|e| e.dir))
    }

    /// Copy a model directory into the registry under its card's version
    /// (checked against the card first). Registering the same files again
    /// is a no-op; another model under a taken version is refused.
    pub fn register(&self, dir: &Path) -> Result<String> {
        let card = ModelCard::read(dir)?;
        card.verify(dir)?;
        if card.task != self.task {
            return Err(invalid(
                dir,
                format!("a {} model, not a {} model", card.task, self.task),
            ));
        }
        let version = card.version.clone();
        if version.is_empty() || version.contains(['/', '\\']) || version.starts_with('.') {
            return Err(invalid(dir, format!("unusable version name {version:?}")));
        }
        let target = self.version_dir(&version);
        if target.exists() {
            let have = ModelCard::read(&target)?;
            if have.files != card.files {
                return Err(invalid(
                    dir,
                    format!(
                        "version {version} is already registered with other weights ({}): retrain with another --version",
                        target.display()
                    ),
                ));
            }
            return Ok(version);
        }
        let parent = self.versions_dir();
        std::fs::create_dir_all(&parent).map_err(io(&parent))?;
        let tmp = tempfile::Builder::new()
            .prefix(".register-")
            .tempdir_in(&parent)
            .map_err(io(&parent))?;
        // The card's files and the card; anything else (an `hf/` export) is
        // rebuilt where needed.
        let names = card
            .files
            .keys()
            .cloned()
            .chain(["model-card.json".into(), "model-card.md".into()]);
        for name in names {
            let src = dir.join(&name);
            if src.is_file() {
                std::fs::copy(&src, tmp.path().join(&name)).map_err(io(&src))?;
            }
        }
        card.verify(tmp.path())?;
        let kept = tmp.keep();
        std::fs::rename(&kept, &target).map_err(io(&target))?;
        Ok(version)
    }

    /// Make a registered version the active one.
    pub fn activate(&self, version: &str, forced: bool, reason: Option<String>) -> Result<Switch> {
        let _lock = self.lock()?;
        let from = self.active_version()?;
        if from.as_deref() == Some(version) {
            return Err(invalid(
                &self.active_path(),
                format!("{version} is already the active model"),
            ));
        }
        self.switch_to(version)?;
        let mut state = self.state()?;
        if let Some(f) = &from {
            state.previous.push(f.clone());
        }
        self.save_state(&state)?;
        self.log(Switch {
            action: "promote".into(),
            from,
            to: version.into(),
            at: now(),
            forced,
            reason,
        })
    }

    /// Return to the model that was active before the current one.
    pub fn rollback(&self) -> Result<Switch> {
        let _lock = self.lock()?;
        let mut state = self.state()?;
        let from = self.active_version()?;
        let Some(to) = state.previous.pop() else {
            return Err(invalid(
                &self.versions_dir(),
                "nothing to roll back to: no earlier active model is recorded",
            ));
        };
        self.switch_to(&to)?;
        self.save_state(&state)?;
        self.log(Switch {
            action: "rollback".into(),
            from,
            to,
            at: now(),
            forced: false,
            reason: None,
        })
    }

    /// Point the active path at a registered version, atomically.
    fn switch_to(&self, version: &str) -> Result<()> {
        let target = self.version_dir(version);
        if !target.join("model-card.json").is_file() {
            return Err(invalid(
                &target,
                format!("version {version} is not registered"),
            ));
        }
        let active = self.active_path();
        // A real directory (the shipped model) is registered first, so
        // that rollback can return to it.
        let meta = std::fs::symlink_metadata(&active).ok();
        let is_dir = meta.as_ref().is_some_and(|m| m.file_type().is_dir());
        if is_dir {
            self.register(&active)?;
        }
        let link = self.root.join(format!(".{}.next", self.task));
        let _ = std::fs::remove_file(&link);
        let rel = Path::new("registry").join(&self.task).join(version);
        std::os::unix::fs::symlink(&rel, &link).map_err(io(&link))?;
        if is_dir {
            // A link cannot be renamed over a directory: exchange the two
            // atomically, then delete the old directory (registered above).
            exchange(&link, &active).map_err(io(&active))?;
            std::fs::remove_dir_all(&link).map_err(io(&link))?;
        } else {
            std::fs::rename(&link, &active).map_err(io(&active))?;
        }
        Ok(())
    }

    fn lock(&self) -> Result<std::fs::File> {
        let dir = self.versions_dir();
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let p = dir.join(".lock");
        let f = std::fs::File::create(&p).map_err(io(&p))?;
        rustix::fs::flock(&f, rustix::fs::FlockOperation::NonBlockingLockExclusive)
            .map_err(|_| invalid(&p, "another promote or rollback is running (lock held)"))?;
        Ok(f)
    }

    fn state(&self) -> Result<State> {
        let p = self.versions_dir().join("state.json");
        if !p.is_file() {
            return Ok(State::default());
        }
        super::read_json(&p)
    }

    fn save_state(&self, state: &State) -> Result<()> {
        let p = self.versions_dir().join("state.json");
        let tmp = self.versions_dir().join(".state.json.tmp");
        let json = serde_json::to_string_pretty(state).expect("state serialises") + "\n";
        std::fs::write(&tmp, json).map_err(io(&tmp))?;
        std::fs::rename(&tmp, &p).map_err(io(&p))
    }

    fn log(&self, s: Switch) -> Result<Switch> {
        use std::io::Write;
        let p = self.versions_dir().join("history.jsonl");
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&p)
            .map_err(io(&p))?;
        let line = serde_json::to_string(&s).expect("a switch serialises") + "\n";
        f.write_all(line.as_bytes()).map_err(io(&p))?;
        Ok(s)
    }

    /// Every switch so far, oldest first.
    pub fn history(&self) -> Result<Vec<Switch>> {
        let p = self.versions_dir().join("history.jsonl");
        let raw = match std::fs::read_to_string(&p) {
            Ok(r) => r,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(io(&p)(e)),
        };
        raw.lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).map_err(|e| invalid(&p, format!("invalid line: {e}"))))
            .collect()
    }
}

/// Swap two paths atomically (Linux `renameat2` with `RENAME_EXCHANGE`).
/// Where the file system cannot, fall back to two renames, with a moment in
/// which the second path is missing.
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use rustix::fs::{renameat_with, RenameFlags, CWD};
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Ok(()) => Ok(()),
        Err(e) if e == rustix::io::Errno::INVAL || e == rustix::io::Errno::NOSYS => {
            let aside = b.with_extension("old");
            std::fs::rename(b, &aside)?;
            std::fs::rename(a, b)?;
            std::fs::rename(&aside, a)
        }
        Err(e) => Err(e.into()),
    }
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(dir: &Path, version: &str, weights: &str) {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(dir.join("head.safetensors"), weights).unwrap();
        ModelCard {
            created: format!("2026-01-01T00:00:0{}Z", version.len() % 10),
            ..ModelCard::new("m", version, "stance", 1, "", serde_json::Value::Null)
        }
        .write(dir)
        .unwrap();
    }

    #[test]
    fn promote_adopts_the_shipped_folder_and_rollback_returns_to_it() {
        let root = tempfile::tempdir().unwrap();
        let reg = Registry::new(root.path(), "stance");
        model(&reg.active_path(), "v1", "shipped");
        let other = root.path().join("out/v2");
        model(&other, "v2", "new weights");
        assert_eq!(reg.list().unwrap().len(), 1);
        assert_eq!(reg.register(&other).unwrap(), "v2");
        let s = reg.activate("v2", false, None).unwrap();
        assert_eq!((s.from.as_deref(), s.to.as_str()), (Some("v1"), "v2"));
        let link = std::fs::read_link(reg.active_path()).unwrap();
        assert_eq!(link, Path::new("registry/stance/v2"), "relative link");
        assert_eq!(
            std::fs::read_to_string(reg.active_path().join("head.safetensors")).unwrap(),
            "new weights"
        );
        let list = reg.list().unwrap();
        assert_eq!(list.len(), 2);
        assert!(list.iter().all(|e| e.registered));
        assert!(list.iter().find(|e| e.version == "v2").unwrap().active);
        // Rollback returns to the adopted shipped model, then has nothing left.
        let s = reg.rollback().unwrap();
        assert_eq!((s.from.as_deref(), s.to.as_str()), (Some("v2"), "v1"));
        assert_eq!(reg.active_version().unwrap().as_deref(), Some("v1"));
        assert_eq!(
            std::fs::read_to_string(reg.active_path().join("head.safetensors")).unwrap(),
            "shipped"
        );
        assert!(reg
            .rollback()
            .unwrap_err()
            .to_string()
            .contains("nothing to roll back"));
        assert_eq!(reg.history().unwrap().len(), 2);
        // Promoting the active version again is refused.
        assert!(reg
            .activate("v1", false, None)
            .unwrap_err()
            .to_string()
            .contains("already the active model"));
        // No leftovers beside the active link.
        let names: Vec<String> = std::fs::read_dir(root.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(names.iter().all(|n| !n.starts_with('.')), "{names:?}");
    }

    #[test]
    fn a_taken_version_with_other_weights_is_refused() {
        let root = tempfile::tempdir().unwrap();
        let reg = Registry::new(root.path(), "stance");
        let a = root.path().join("a");
        let b = root.path().join("b");
        model(&a, "v1", "one");
        model(&b, "v1", "two");
        reg.register(&a).unwrap();
        assert_eq!(reg.register(&a).unwrap(), "v1", "idempotent");
        let e = reg.register(&b).unwrap_err().to_string();
        assert!(e.contains("already registered with other weights"), "{e}");
        // A tampered directory is refused before it is copied.
        std::fs::write(b.join("head.safetensors"), "tampered").unwrap();
        assert!(reg.register(&b).unwrap_err().to_string().contains("sha256"));
    }
}
