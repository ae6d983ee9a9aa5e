//! Shared helpers for integration tests: run the real binary, read its outputs.
#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn data(rel: &str) -> PathBuf {
    repo().join("tests/data").join(rel)
}

pub fn seed() -> PathBuf {
    repo().join("corpus/000_e54d198a35ed2720.txt")
}

/// Run `stancemine` with the given arguments (no terminal, so plain logs).
pub fn stancemine(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stancemine"))
        .args(args)
        .env_remove("RUST_LOG")
        .output()
        .expect("the binary runs")
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

pub fn read_jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {e}: {l}", path.display())))
        .collect()
}

/// A model directory's `model-card.json`.
pub fn card(model: &Path) -> Value {
    let path = model.join("model-card.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A model directory's card, and its per-epoch training losses.
pub fn card_and_losses(model: &Path) -> (Value, Vec<f64>) {
    let card = card(model);
    let losses = card["train_config"]["epoch_losses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    (card, losses)
}

/// Copy the files of a folder (not its subfolders: a model's `hf/` export
/// is not needed) into a fresh temporary folder.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.path().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// Check that every sentence's offsets (code points) select its text.
pub fn assert_offsets(article: &Value) {
    let text: Vec<char> = article["text"].as_str().unwrap().chars().collect();
    for s in article["sentences"].as_array().unwrap() {
        let (a, b) = (
            s["start"].as_u64().unwrap() as usize,
            s["end"].as_u64().unwrap() as usize,
        );
        let slice: String = text[a..b].iter().collect();
        assert_eq!(slice, s["text"].as_str().unwrap(), "offsets {a}..{b}");
    }
}
