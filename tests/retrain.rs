//! The retraining loop end to end on the retrain demo (8 synthetic 2026
//! pieces with gold sentence labels): run, annotate, label from gold,
//! retrain from the shipped model, compare, promote, re-run, roll back; the
//! regression guard; and bad input. Every model directory is a copy in a
//! temporary folder: the repository's `models/` is never touched.

mod util;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use util::*;

const TARGET: &str = "us-dprk-dialogue";

/// A models folder with a copy of the shipped stance model and a link to
/// the backbone.
fn models_dir(root: &Path) -> PathBuf {
    let m = root.join("models");
    copy_dir(&repo().join("models/stance"), &m.join("stance"));
    std::os::unix::fs::symlink(repo().join("models/backbone"), m.join("backbone")).unwrap();
    m
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ok(args: &[&str]) -> std::process::Output {
    let o = stancemine(args);
    assert!(
        o.status.success(),
        "stancemine {}\n{}",
        args.join(" "),
        stderr(&o)
    );
    o
}

fn active_version(models: &Path) -> String {
    card(&models.join("stance"))["version"]
        .as_str()
        .unwrap()
        .to_string()
}

/// Gold labels of the demo pieces, by whitespace-normalised text.
fn gold() -> HashMap<String, Value> {
    let mut m = HashMap::new();
    for e in std::fs::read_dir(repo().join("data/retrain-demo/labels")).unwrap() {
        for v in read_jsonl(&e.unwrap().path()) {
            if v["target"] == TARGET {
                m.insert(norm(v["text"].as_str().unwrap()), v);
            }
        }
    }
    m
}

fn norm(t: &str) -> String {
    t.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn macro_f1(model: &Path, data: &Path) -> f64 {
    let o = ok(&[
        "eval",
        "stance",
        "--data",
        s(data),
        "--model",
        s(model),
        "--target",
        TARGET,
    ]);
    let v: Value = serde_json::from_slice(&o.stdout).unwrap();
    v["report"]["macro_f1"].as_f64().unwrap()
}

#[test]
fn annotate_retrain_compare_promote_rerun_rollback() {
    let tmp = tempfile::tempdir().unwrap();
    let models = models_dir(tmp.path());
    let shipped = active_version(&models);
    let out = tmp.path().join("out");
    let store = out.join("stancemine.sqlite");
    let corpus = repo().join("data/retrain-demo/corpus");
    // One target and no NER keep the runs short (this is about stance).
    let targets = tmp.path().join("targets.toml");
    let all = std::fs::read_to_string(repo().join("targets.toml")).unwrap();
    std::fs::write(
        &targets,
        &all[..all.find("[[target]]\nid = \"aukus\"").unwrap()],
    )
    .unwrap();
    let run = [
        "run",
        s(&corpus),
        "--out",
        s(&out),
        "--models",
        s(&models),
        "--targets",
        s(&targets),
        "--no-ner",
    ];
    ok(&run);

    // Export the 60 least certain sentences, spread over the 8 pieces.
    let ann = tmp.path().join("to-label.jsonl");
    ok(&[
        "annotate",
        "--store",
        s(&store),
        "--target",
        TARGET,
        "--n",
        "60",
        "--out",
        s(&ann),
        "--model",
        s(&models.join("stance")),
    ]);
    let rows = read_jsonl(&ann);
    assert_eq!(rows.len(), 60);
    let articles: std::collections::HashSet<&str> = rows
        .iter()
        .map(|r| r["article_id"].as_str().unwrap())
        .collect();
    assert_eq!(articles.len(), 8, "every piece contributes");
    for r in &rows {
        assert_eq!(r["label"], "");
        assert_eq!(r["target"], TARGET);
        assert!(r["title"].is_string() && r["date"].as_str().unwrap().starts_with("2026"));
        let p: f64 = ["favor", "against", "neutral", "none"]
            .iter()
            .map(|l| r["probs"][l].as_f64().unwrap())
            .sum();
        assert!((p - 1.0).abs() < 1e-3);
    }
    // The most uncertain come first within the first round.
    assert!(rows[0]["uncertainty"].as_f64() >= rows[7]["uncertainty"].as_f64());

    // Label them from gold, as an analyst would; sentences without a gold
    // label stay empty (a partly filled file).
    let gold = gold();
    let mut filled = String::new();
    let mut labelled = 0;
    let mut annotated = std::collections::HashSet::new();
    for mut r in rows {
        let key = norm(r["text"].as_str().unwrap());
        if let Some(g) = gold.get(&key) {
            r["label"] = g["label"].clone();
            r["holder"] = g.get("holder").cloned().unwrap_or(Value::Null);
            labelled += 1;
            annotated.insert(key);
        }
        filled += &(r.to_string() + "\n");
    }
    assert!(
        labelled >= 50,
        "{labelled} of 60 sentences have a gold label"
    );
    std::fs::write(&ann, filled).unwrap();
    // The new pieces' other labelled sentences: never trained on.
    let rest = tmp.path().join("rest.jsonl");
    let rest_lines: String = gold
        .iter()
        .filter(|(k, _)| !annotated.contains(*k))
        .map(|(_, v)| v.to_string() + "\n")
        .collect();
    std::fs::write(&rest, rest_lines).unwrap();

    // Retrain from the active model (3 epochs, the parent's trained layers),
    // replaying 480 base sentences at lr 3e-5. Which sentences are least
    // certain depends on the probabilities, so calibrating the shipped model
    // (stance-20261127-075746-s15, T = 3.25) changed the 60 exported here;
    // on them seven recipes (lr 2e-5 to 5e-5, replay 90 to 480, layers 2..
    // or 4..) moved the regression set by -0.010 to -0.017 and the held-out
    // annotations by +0.016 to +0.130. This one learns the most (+0.130,
    // regression -0.015); the regression guard is checked below either way.
    let new_model = tmp.path().join("retrained");
    let o = ok(&[
        "train",
        "stance",
        "--from",
        s(&models.join("stance")),
        "--new",
        s(&ann),
        "--out",
        s(&new_model),
        "--version",
        "stance-test-retrained",
        "--replay",
        "480",
        "--lr",
        "3e-5",
        "--batch-size",
        "16",
    ]);
    let table = String::from_utf8_lossy(&o.stdout);
    eprintln!("{table}");
    assert!(
        table.contains("regression set") && table.contains("new, held out"),
        "{table}"
    );
    let c = card(&new_model);
    assert_eq!(c["parent"], shipped.as_str());
    let cmp = |name: &str, k: &str| -> f64 {
        c["comparison"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == name)
            .unwrap()[k]["macro_f1"]
            .as_f64()
            .unwrap()
    };
    let (reg_before, reg_after) = (cmp("regression", "before"), cmp("regression", "after"));
    // About a point either way is the noise of retraining on 45 hard
    // sentences; a collapse is not.
    assert!(
        reg_after >= reg_before - 0.03,
        "regression set holds: {reg_before:.3} -> {reg_after:.3}"
    );
    // The card records the data it used, with hashes.
    let roles: Vec<&str> = c["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["role"].as_str().unwrap())
        .collect();
    assert!(
        roles.contains(&"new annotations") && roles.contains(&"regression"),
        "{roles:?}"
    );
    assert!(c["data"][0]["sha256"].as_str().unwrap().len() == 64);
    // It learns what it was taught: the held-out share of the annotated
    // (least certain) sentences improves. The new pieces' other sentences
    // were already labelled well by the shipped model and may move a little
    // either way, but not collapse.
    let (old_rest, new_rest) = (
        macro_f1(&models.join("stance"), &rest),
        macro_f1(&new_model, &rest),
    );
    let (ho_before, ho_after) = (cmp("new-holdout", "before"), cmp("new-holdout", "after"));
    eprintln!(
        "regression {reg_before:.3} -> {reg_after:.3}; held out {ho_before:.3} -> {ho_after:.3}; rest {old_rest:.3} -> {new_rest:.3}"
    );
    assert!(
        ho_after > ho_before + 0.05,
        "{ho_before:.3} -> {ho_after:.3}"
    );
    assert!(new_rest > old_rest - 0.05, "{old_rest:.3} -> {new_rest:.3}");

    // Promote: the scores come from the cards, nothing is re-evaluated. A
    // drop of more than a point is refused (nothing switches) and needs
    // --force; a smaller one is not.
    let md = s(&models);
    let promote = ["models", "promote", s(&new_model), "--models-dir", md];
    let o = stancemine(&promote);
    let o = if reg_before - reg_after > 0.01 {
        assert!(!o.status.success(), "a drop past the guard is refused");
        assert!(stderr(&o).contains("refused"), "{}", stderr(&o));
        assert_eq!(active_version(&models), shipped, "nothing switched");
        ok(&[&promote[..], &["--force"]].concat())
    } else {
        assert!(o.status.success(), "{}", stderr(&o));
        o
    };
    let said = String::from_utf8_lossy(&o.stdout);
    assert!(
        said.contains("(model card)") && !said.contains("measured now"),
        "{said}"
    );
    assert_eq!(active_version(&models), "stance-test-retrained");
    assert!(std::fs::symlink_metadata(models.join("stance"))
        .unwrap()
        .file_type()
        .is_symlink());
    let list: Value =
        serde_json::from_slice(&ok(&["models", "list", "--models-dir", md, "--json"]).stdout)
            .unwrap();
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert!(list
        .iter()
        .any(|e| e["version"] == "stance-test-retrained" && e["active"] == true));

    // Re-run: stance is recomputed with the new model for every article.
    let o = ok(&run);
    assert!(
        stderr(&o).contains("8 article(s) processed"),
        "{}",
        stderr(&o)
    );
    let db = rusqlite::Connection::open(&store).unwrap();
    let versions: Vec<(String, i64)> = db
        .prepare("SELECT model_version, COUNT(*) FROM sentence_stances GROUP BY model_version")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(versions.len(), 1, "{versions:?}");
    assert_eq!(versions[0].0, "stance-test-retrained");
    assert!(versions[0].1 > 250);

    // Roll back: the shipped model is active again.
    ok(&["models", "rollback", "--models-dir", md]);
    assert_eq!(active_version(&models), shipped);
    let e = stancemine(&["models", "rollback", "--models-dir", md]);
    assert!(!e.status.success());
    assert!(
        stderr(&e).contains("nothing to roll back to"),
        "{}",
        stderr(&e)
    );
}

#[test]
fn promote_refuses_a_model_trained_on_wrong_labels() {
    let tmp = tempfile::tempdir().unwrap();
    let models = models_dir(tmp.path());
    let shipped = active_version(&models);
    // Every gold label of the demo pieces rotated to a wrong one.
    let rotate = |l: &str| match l {
        "favor" => "against",
        "against" => "neutral",
        "neutral" => "none",
        _ => "favor",
    };
    let bad = tmp.path().join("rotated.jsonl");
    let lines: String = gold()
        .values()
        .take(150)
        .map(|v| {
            let mut v = v.clone();
            v["label"] = rotate(v["label"].as_str().unwrap()).into();
            v.to_string() + "\n"
        })
        .collect();
    std::fs::write(&bad, lines).unwrap();
    let model = tmp.path().join("bad");
    ok(&[
        "train",
        "stance",
        "--from",
        s(&models.join("stance")),
        "--new",
        s(&bad),
        "--out",
        s(&model),
        "--version",
        "stance-test-rotated",
        "--replay",
        "0",
        "--holdout",
        "0",
        "--epochs",
        "3",
        "--first-trained-layer",
        "4",
        "--lr",
        "2e-4",
        "--batch-size",
        "16",
    ]);
    let md = s(&models);
    let o = stancemine(&["models", "promote", s(&model), "--models-dir", md]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("refused"), "{}", stderr(&o));
    assert_eq!(active_version(&models), shipped, "nothing switched");
    assert!(!models.join("registry/stance/stance-test-rotated").exists());
    // --force overrides the guard, and the history says so.
    ok(&[
        "models",
        "promote",
        s(&model),
        "--models-dir",
        md,
        "--force",
    ]);
    assert_eq!(active_version(&models), "stance-test-rotated");
    let history = read_jsonl(&models.join("registry/stance/history.jsonl"));
    assert_eq!(history.last().unwrap()["forced"], true);
}

#[test]
fn bad_annotation_files_and_models_are_refused_with_clear_messages() {
    let tmp = tempfile::tempdir().unwrap();
    let models = models_dir(tmp.path());
    let from = models.join("stance");
    let out = tmp.path().join("never");
    let train = |new: &Path, from: &Path| {
        stancemine(&[
            "train",
            "stance",
            "--from",
            s(from),
            "--new",
            s(new),
            "--out",
            s(&out),
            "--epochs",
            "1",
            "--first-trained-layer",
            "5",
            "--replay",
            "10",
        ])
    };
    let write = |name: &str, content: &str| {
        let p = tmp.path().join(name);
        std::fs::write(&p, content).unwrap();
        p
    };
    let line = |text: &str, target: &str, label: &str| {
        format!("{{\"text\":\"{text}\",\"target\":\"{target}\",\"label\":\"{label}\",\"article_id\":\"a\"}}\n")
    };
    let cases = [
        (
            write(
                "labels.jsonl",
                &(line("Talks now.", TARGET, "favor")
                    + &line("Talks later.", TARGET, "maybe")
                    + &line("Talks never.", "mars-base", "against")),
            ),
            vec![
                "labels.jsonl:2: unknown label \"maybe\"",
                "labels.jsonl:3: unknown target \"mars-base\"",
            ],
        ),
        (
            write("empty.jsonl", ""),
            vec!["empty.jsonl: no labelled sentences"],
        ),
        (
            write("unlabelled.jsonl", &line("Talks now.", TARGET, "")),
            vec!["no labelled sentences (1 line(s) without a label)"],
        ),
        (
            write(
                "dupes.jsonl",
                &(line("Talks now.", TARGET, "favor") + &line("Talks  now.", TARGET, "against")),
            ),
            vec!["dupes.jsonl:1 (favor) and", "dupes.jsonl:2 (against)"],
        ),
    ];
    for (file, wanted) in &cases {
        let o = train(file, &from);
        assert!(!o.status.success(), "{}", file.display());
        for w in wanted {
            assert!(stderr(&o).contains(w), "{w}\n{}", stderr(&o));
        }
        assert!(!out.exists(), "nothing written for {}", file.display());
    }
    // A model trained on another backbone (its card says so, consistently).
    let other = tmp.path().join("models/other-backbone");
    copy_dir(&from, &other);
    let cfg_path = other.join("config.json");
    let mut cfg: Value =
        serde_json::from_str(&std::fs::read_to_string(&cfg_path).unwrap()).unwrap();
    cfg["stancemine"]["backbone_sha256"] = "0".repeat(64).into();
    std::fs::write(&cfg_path, serde_json::to_string_pretty(&cfg).unwrap()).unwrap();
    let mut c = stancemine::model::card::ModelCard::read(&other).unwrap();
    c.version = "stance-other".into();
    c.write(&other).unwrap();
    let good = write("good.jsonl", &line("Talks now.", TARGET, "favor"));
    let o = train(&good, &other);
    assert!(
        stderr(&o).contains("belongs to another backbone"),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
    let o = stancemine(&["models", "promote", s(&other), "--models-dir", s(&models)]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("belongs to another backbone"),
        "{}",
        stderr(&o)
    );
    // Annotate: an unknown target, an existing output file.
    let o = stancemine(&[
        "annotate",
        "--corpus",
        s(&repo().join("data/retrain-demo/corpus")),
        "--target",
        "mars-base",
        "--out",
        s(&tmp.path().join("x.jsonl")),
        "--model",
        s(&from),
    ]);
    assert!(
        stderr(&o).contains("unknown target \"mars-base\""),
        "{}",
        stderr(&o)
    );
    let o = stancemine(&[
        "annotate",
        "--corpus",
        s(&repo().join("data/retrain-demo/corpus")),
        "--target",
        TARGET,
        "--out",
        s(&good),
        "--model",
        s(&from),
    ]);
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
}
