//! NER: a tiny model trained end to end through the CLI, saved, reloaded
//! and scored, with the predictions file anyone can re-score.

mod util;
use serde_json::Value;
use util::*;

#[test]
fn a_tiny_ner_model_trains_round_trips_and_scores() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("ner");
    let m = model.to_str().unwrap();
    let fixture = data("ner/tiny.conll");
    let f = fixture.to_str().unwrap();
    let o = stancemine(&[
        "train",
        "ner",
        "--data",
        f,
        "--out",
        m,
        "--epochs",
        "6",
        "--batch-size",
        "4",
        "--lr",
        "1e-3",
        "--first-trained-layer",
        "5",
        "--seed",
        "3",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let card: Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("model-card.json")).unwrap())
            .unwrap();
    let losses: Vec<f64> = card["train_config"]["epoch_losses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    assert!(
        losses.last().unwrap() < &losses[0],
        "loss falls: {losses:?}"
    );
    let config: Value =
        serde_json::from_str(&std::fs::read_to_string(model.join("config.json")).unwrap()).unwrap();
    assert_eq!(config["architectures"][0], "BertForTokenClassification");
    assert_eq!(config["id2label"]["1"], "B-PER");

    let eval = |pred: &std::path::Path| -> Value {
        let o = stancemine(&[
            "eval",
            "ner",
            "--data",
            f,
            "--model",
            m,
            "--predictions",
            pred.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let p1 = dir.path().join("p1.tsv");
    let p2 = dir.path().join("p2.tsv");
    let r = eval(&p1);
    eval(&p2);
    assert_eq!(
        std::fs::read(&p1).unwrap(),
        std::fs::read(&p2).unwrap(),
        "stable predictions"
    );
    let f1 = r["report"]["micro"]["f1"].as_f64().unwrap();
    assert!(f1 > 0.3, "learned its training data: {r}");
    // The TSV has one line per token and a blank line per sentence.
    let tsv = std::fs::read_to_string(&p1).unwrap();
    assert_eq!(tsv.lines().filter(|l| l.is_empty()).count(), 12);
    assert!(tsv.lines().next().unwrap().starts_with("Kim\tB-PER\t"));
}
