//! Stance: training a tiny model end to end through the CLI, loading and
//! scoring it, the shipped model on unambiguous sentences, and stance in
//! `stancemine run`.

mod util;
use serde_json::Value;
use util::*;

fn tiny() -> String {
    data("stance/tiny-train.jsonl").display().to_string()
}

fn eval(model: &str, data_file: &str, predictions: Option<&str>) -> Value {
    let mut args = vec!["eval", "stance", "--data", data_file, "--model", model];
    if let Some(p) = predictions {
        args.extend(["--predictions", p]);
    }
    let o = stancemine(&args);
    assert!(o.status.success(), "{}", stderr(&o));
    serde_json::from_slice(&o.stdout).expect("eval prints JSON")
}

#[test]
fn a_tiny_model_trains_round_trips_and_predicts_stably() {
    let dir = tempfile::tempdir().unwrap();
    let train = |name: &str| -> (std::path::PathBuf, Value, Vec<f64>) {
        let model = dir.path().join(name);
        let o = stancemine(&[
            "train",
            "stance",
            "--data",
            &tiny(),
            "--dev",
            &tiny(),
            "--out",
            model.to_str().unwrap(),
            "--epochs",
            "5",
            "--batch-size",
            "4",
            "--lr",
            "3e-4",
            "--first-trained-layer",
            "5",
            "--seed",
            "7",
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        let (card, losses) = card_and_losses(&model);
        (model, card, losses)
    };
    let (model, card, losses) = train("m");
    let m = model.to_str().unwrap();
    // The same seed gives the same training, epoch by epoch.
    let (_, _, again) = train("m-again");
    for (a, b) in losses.iter().zip(&again) {
        assert!(
            (a - b).abs() < 1e-4,
            "same seed, same losses: {losses:?} vs {again:?}"
        );
    }
    assert_eq!(losses.len(), 5);
    assert!(losses[4] < losses[0], "loss falls: {losses:?}");
    for f in ["config.json", "head.safetensors", "model-card.md"] {
        assert!(model.join(f).is_file(), "{f}");
        if f != "model-card.md" {
            assert!(card["files"][f].is_string(), "card lists {f}");
        }
    }
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["id2label"]["0"], "favor");
    assert_eq!(config["architectures"][0], "BertForSequenceClassification");
    // A temperature was fitted on dev, and it did not make dev NLL worse
    // (1 is on the grid).
    let t = config["stancemine"]["temperature"]
        .as_f64()
        .expect("temperature");
    assert!((0.25..=10.0).contains(&t), "{t}");
    let cal = &card["train_config"]["calibration"];
    assert!(
        cal["dev_after"]["nll"].as_f64().unwrap() <= cal["dev_before"]["nll"].as_f64().unwrap(),
        "{cal}"
    );

    // Reload twice: same predictions, and it learned its training data.
    let p1 = dir.path().join("p1.jsonl");
    let p2 = dir.path().join("p2.jsonl");
    let r1 = eval(m, &tiny(), Some(p1.to_str().unwrap()));
    eval(m, &tiny(), Some(p2.to_str().unwrap()));
    assert_eq!(std::fs::read(&p1).unwrap(), std::fs::read(&p2).unwrap());
    assert!(r1["report"]["accuracy"].as_f64().unwrap() >= 0.5, "{r1}");
    let ece = r1["report"]["calibration"]["ece"].as_f64().expect("ece");
    assert!((0.0..=1.0).contains(&ece), "{r1}");
    let preds = read_jsonl(&p1);
    assert_eq!(preds.len(), 16);
    let sum: f64 = ["favor", "against", "neutral", "none"]
        .iter()
        .map(|l| preds[0]["probs"][l].as_f64().unwrap())
        .sum();
    assert!((sum - 1.0).abs() < 1e-4);
    assert_eq!(preds[0]["label"], "favor", "input fields are kept");

    // A corrupted file is refused with a clear message.
    let head = model.join("head.safetensors");
    let mut bytes = std::fs::read(&head).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 0xff;
    std::fs::write(&head, bytes).unwrap();
    let o = stancemine(&["eval", "stance", "--data", &tiny(), "--model", m]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("does not match model-card.json"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn training_refuses_bad_data_and_leaves_no_model_behind() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"text\":\"x\",\"target\":\"us-dprk-dialogue\",\"label\":\"favor\"}\n{\"text\":\"y\",\"target\":\"us-dprk-dialogue\",\"label\":\"positive\"}\n").unwrap();
    let out = dir.path().join("m");
    let o = stancemine(&[
        "train",
        "stance",
        "--data",
        bad.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("bad.jsonl:2: unknown label \"positive\""),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());

    let unknown = dir.path().join("unknown.jsonl");
    std::fs::write(
        &unknown,
        "{\"text\":\"x\",\"target\":\"mars-colony\",\"label\":\"favor\"}\n",
    )
    .unwrap();
    let o = stancemine(&[
        "train",
        "stance",
        "--data",
        unknown.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(
        stderr(&o).contains("unknown target \"mars-colony\""),
        "{}",
        stderr(&o)
    );
    assert!(!out.exists());
}

#[test]
fn the_shipped_model_gets_unambiguous_sentences_right() {
    let r = eval(
        "models/stance",
        data("stance/unambiguous.jsonl").to_str().unwrap(),
        None,
    );
    let acc = r["report"]["accuracy"].as_f64().unwrap();
    assert!(acc >= 0.8, "accuracy {acc} on unambiguous sentences: {r}");
}

#[test]
fn run_gives_every_sentence_a_stance_for_every_target() {
    let out = tempfile::tempdir().unwrap();
    let o = stancemine(&[
        "run",
        seed().to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "--no-ner",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let a = &read_jsonl(&out.path().join("articles.jsonl"))[0];
    let version = a["models"]["stance"]
        .as_str()
        .expect("model version recorded")
        .to_string();
    let sentences = a["sentences"].as_array().unwrap();
    for s in sentences {
        for target in ["us-dprk-dialogue", "aukus"] {
            let st = &s["stance"][target];
            let label = st["label"].as_str().unwrap();
            assert!(["favor", "against", "neutral", "none"].contains(&label));
            let sum: f64 = st["probs"]
                .as_object()
                .unwrap()
                .values()
                .map(|v| v.as_f64().unwrap())
                .sum();
            assert!((sum - 1.0).abs() < 1e-4);
        }
    }
    let db = rusqlite::Connection::open(out.path().join("stancemine.sqlite")).unwrap();
    let (n, versions): (i64, String) = db
        .query_row(
            "SELECT COUNT(*), GROUP_CONCAT(DISTINCT model_version) FROM sentence_stances",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(n as usize, 2 * sentences.len());
    assert_eq!(versions, version);
    assert!(stderr(&o).contains("loaded in"), "{}", stderr(&o));

    // An unchanged re-run neither recomputes nor loads the model's weights.
    let again = stancemine(&[
        "run",
        seed().to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "--no-ner",
    ]);
    assert_eq!(again.status.code(), Some(0));
    let log = stderr(&again);
    assert!(log.contains("0 article(s) processed, 1 unchanged"), "{log}");
    assert!(!log.contains("loaded in"), "{log}");
}

#[test]
fn fused_inference_and_tokenising_once_match_the_reference_path() {
    use stancemine::stance::model::StanceModel;
    let m = StanceModel::load(&repo().join("models/stance")).expect("shipped model loads");
    let sentences: Vec<String> = read_jsonl(&repo().join("data/stance/test.jsonl"))
        .iter()
        .take(60)
        .map(|r| r["text"].as_str().unwrap().to_string())
        .collect();
    let mut texts: Vec<&str> = sentences.iter().map(String::as_str).collect();
    // One sentence long enough to be truncated.
    let long = sentences.join(" ");
    texts.push(&long);
    let targets = [
        "the AUKUS security partnership",
        "dialogue with North Korea",
    ];
    let once = m.encode_pairs(&targets, &texts);
    let each: Vec<_> = targets
        .iter()
        .flat_map(|t| texts.iter().map(|s| m.encode(t, s)))
        .collect();
    assert_eq!(once, each);
    let fast = m.predict_encoded(&once, 16);
    let m = m.without_fused();
    let slow = m.predict_encoded(&once, 16);
    for (a, b) in fast.iter().zip(&slow) {
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() < 1e-4, "fused {a:?} vs rust-bert {b:?}");
        }
    }
}

/// `run --int8` records its own model version (so switching recomputes) and
/// labels the seed's sentences almost as the f32 model does.
#[test]
fn int8_run_is_its_own_version_and_stays_close_to_f32() {
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    let seed = seed();
    let run = |extra: &[&str]| -> Value {
        let mut args = vec!["run", seed.to_str().unwrap(), "--out", o, "--no-ner"];
        args.extend_from_slice(extra);
        let r = stancemine(&args);
        assert_eq!(r.status.code(), Some(0), "{}", stderr(&r));
        read_jsonl(&out.path().join("articles.jsonl"))[0].clone()
    };
    let full = run(&[]);
    let int8 = run(&["--int8"]);
    let v = |a: &Value| a["models"]["stance"].as_str().unwrap().to_string();
    assert_eq!(
        v(&int8),
        format!("{}+int8", v(&full)),
        "recomputed, not reused"
    );
    let labels = |a: &Value| -> Vec<String> {
        a["sentences"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                s["stance"]["us-dprk-dialogue"]["label"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect()
    };
    let (a, b) = (labels(&full), labels(&int8));
    let same = a.iter().zip(&b).filter(|(x, y)| x == y).count();
    assert!(
        same * 10 >= a.len() * 9,
        "int8 keeps at least 90 % of labels: {same} of {}",
        a.len()
    );
}
