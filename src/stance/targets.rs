//! Stance targets are configuration (`targets.toml`), not code: an id, a
//! name, the short description the model reads as its target text, and
//! optional relevance cues.

use serde::Deserialize;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Target {
    pub id: String,
    pub name: String,
    /// The text the model reads as the target (first segment of the pair).
    pub description: String,
    /// Words or phrases that suggest a sentence is about the target.
    #[serde(default)]
    pub cues: Vec<String>,
}

#[derive(Debug, Deserialize)]
struct File {
    #[serde(rename = "target")]
    targets: Vec<Target>,
}

use crate::config::ConfigError;

/// The configured targets, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Targets(pub Vec<Target>);

impl Targets {
    pub fn load(path: &Path) -> Result<Targets, ConfigError> {
        let raw = crate::config::read(path)?;
        Self::parse(&raw, path)
    }

    pub fn parse(raw: &str, path: &Path) -> Result<Targets, ConfigError> {
        let invalid = crate::config::invalid(path);
        let file: File = toml::from_str(raw).map_err(|e| invalid(e.to_string()))?;
        let mut seen = std::collections::HashSet::new();
        for t in &file.targets {
            if t.id.trim().is_empty() || t.description.trim().is_empty() {
                return Err(invalid(format!(
                    "target {:?}: id and description must not be empty",
                    t.id
                )));
            }
            if !seen.insert(t.id.clone()) {
                return Err(invalid(format!("target {:?} is defined twice", t.id)));
            }
        }
        if file.targets.is_empty() {
            return Err(invalid("no [[target]] entries".into()));
        }
        Ok(Targets(file.targets))
    }

    pub fn get(&self, id: &str) -> Option<&Target> {
        self.0.iter().find(|t| t.id == id)
    }

    /// Each target id with the text the model reads for it (recorded in
    /// model cards).
    pub fn texts(&self) -> std::collections::BTreeMap<String, String> {
        self.0
            .iter()
            .map(|t| (t.id.clone(), t.description.clone()))
            .collect()
    }

    /// The target text for an id, or the string itself when it is not a
    /// configured id (public data sets with their own topics).
    pub fn text_for<'a>(&'a self, id_or_text: &'a str) -> &'a str {
        self.get(id_or_text)
            .map(|t| t.description.as_str())
            .unwrap_or(id_or_text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_resolves_target_text() {
        let t = Targets::parse(
            "[[target]]\nid = \"a\"\nname = \"A\"\ndescription = \"talks about A\"\ncues = [\"talks\"]\n",
            Path::new("t.toml"),
        )
        .unwrap();
        assert_eq!(t.text_for("a"), "talks about A");
        assert_eq!(t.text_for("gun control"), "gun control");
    }

    #[test]
    fn duplicate_ids_are_refused_with_the_file_name() {
        let raw = "[[target]]\nid = \"a\"\nname = \"A\"\ndescription = \"x\"\n[[target]]\nid = \"a\"\nname = \"B\"\ndescription = \"y\"\n";
        let e = Targets::parse(raw, Path::new("t.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("t.toml") && e.contains("twice"), "{e}");
    }

    #[test]
    fn the_shipped_targets_file_is_valid() {
        let t = Targets::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("targets.toml")).unwrap();
        assert!(t.get("us-dprk-dialogue").is_some());
        assert!(t.get("aukus").is_some());
    }
}
