//! NER: a tiny model trained end to end through the CLI, saved, reloaded
//! and scored, with the predictions file anyone can re-score.

mod util;
use serde_json::Value;
use util::*;

#[test]
fn a_tiny_ner_model_trains_round_trips_and_scores() {
    let dir = tempfile::tempdir().unwrap();
    let fixture = data("ner/tiny.conll");
    let f = fixture.to_str().unwrap();
    let train = |name: &str| -> (std::path::PathBuf, Vec<f64>) {
        let model = dir.path().join(name);
        let o = stancemine(&[
            "train",
            "ner",
            "--data",
            f,
            "--out",
            model.to_str().unwrap(),
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
        let (_, losses) = card_and_losses(&model);
        (model, losses)
    };
    let (model, losses) = train("ner");
    let m = model.to_str().unwrap();
    // The same seed gives the same training, epoch by epoch.
    let (_, again) = train("ner-again");
    for (a, b) in losses.iter().zip(&again) {
        assert!(
            (a - b).abs() < 1e-4,
            "same seed, same losses: {losses:?} vs {again:?}"
        );
    }
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

/// The actors the seed article must yield, each once (issue 3).
const SEED_ACTORS: [&str; 13] = [
    "Donald Trump",
    "Kim Jong-un",
    "Alex Wong",
    "Elbridge Colby",
    "Richard Grenell",
    "Moon Jae-in",
    "United States",
    "North Korea",
    "Russia",
    "South Korea",
    "Ukraine",
    "United Nations",
    "Korean Central News Agency",
];

/// The seed's actors are found; a stance-only change reuses the entities;
/// int8 inference is its own version of each model and keeps the actors.
#[test]
fn run_finds_the_seed_actors_and_reuses_entities_when_only_stance_changes() {
    let out = tempfile::tempdir().unwrap();
    let o = out.path().to_str().unwrap();
    let first = stancemine(&["run", seed().to_str().unwrap(), "--out", o]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    let a = &read_jsonl(&out.path().join("articles.jsonl"))[0];
    let text: Vec<char> = a["text"].as_str().unwrap().chars().collect();

    // Entities: offsets select their text, types are ours, no word is cut.
    let entities = a["entities"].as_array().unwrap();
    assert!(entities.len() > 50, "{} entities", entities.len());
    for e in entities {
        let (s, t) = (
            e["start"].as_u64().unwrap() as usize,
            e["end"].as_u64().unwrap() as usize,
        );
        assert_eq!(
            text[s..t].iter().collect::<String>(),
            e["text"].as_str().unwrap()
        );
        assert!(
            s == 0 || !text[s - 1].is_alphanumeric(),
            "{e} starts mid-word"
        );
        assert!(
            t == text.len() || !text[t].is_alphanumeric(),
            "{e} ends mid-word"
        );
        let ty = e["type"].as_str().unwrap();
        assert!(["PER", "ORG", "GPE", "LOC", "NORP", "EVENT", "MISC"].contains(&ty));
        assert!(e["text"]
            .as_str()
            .unwrap()
            .chars()
            .any(|c| c.is_uppercase() || c.is_ascii_digit()));
    }

    // Actors: every required one, once, with its aliases merged.
    let actors = a["actors"].as_array().unwrap();
    let names: Vec<&str> = actors.iter().map(|x| x["name"].as_str().unwrap()).collect();
    for want in SEED_ACTORS {
        assert_eq!(
            names.iter().filter(|n| **n == want).count(),
            1,
            "{want} in {names:?}"
        );
    }
    let mentions = |name: &str| {
        actors.iter().find(|x| x["name"] == name).unwrap()["mentions"]
            .as_u64()
            .unwrap()
    };
    // "North Korea", "Pyongyang", "North Korean", …; "US", "America", "the White House", …
    assert!(mentions("North Korea") >= 20);
    assert!(mentions("United States") >= 10);
    assert!(mentions("Russia") >= 10, "Russia and Moscow");
    for e in entities
        .iter()
        .filter(|e| e["text"] == "Pyongyang" || e["text"] == "Moscow")
    {
        assert!(e["actor"] == "north-korea" || e["actor"] == "russia", "{e}");
    }

    // Holders: stance-bearing sentences name the author or one of the actors.
    let ids: Vec<&str> = actors.iter().map(|x| x["id"].as_str().unwrap()).collect();
    let mut by_actor = 0;
    for s in a["sentences"].as_array().unwrap() {
        let st = &s["stance"]["us-dprk-dialogue"];
        match st["holder"].as_str() {
            None => assert_eq!(st["label"], "none"),
            Some("author") => {}
            Some(h) => {
                assert!(ids.contains(&h), "holder {h} is not an actor");
                by_actor += 1;
            }
        }
    }
    assert!(by_actor >= 2, "actors hold some stances");
    let grenell = a["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| {
            s["text"]
                .as_str()
                .unwrap()
                .contains("a supporter of dialogue")
        })
        .unwrap();
    if grenell["stance"]["us-dprk-dialogue"]["label"] != "none" {
        assert_eq!(
            grenell["stance"]["us-dprk-dialogue"]["holder"],
            "richard-grenell"
        );
    }

    // The store has the same entities and actors.
    let db = rusqlite::Connection::open(out.path().join("stancemine.sqlite")).unwrap();
    let n: i64 = db
        .query_row("SELECT COUNT(*) FROM entities", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n as usize, entities.len());
    let n: i64 = db
        .query_row("SELECT COUNT(*) FROM actors", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n as usize, actors.len());

    // A changed stance stage (here: a target's wording) recomputes stance
    // only: the NER model is not even loaded, and entities are kept.
    let targets = out.path().join("targets.toml");
    let raw = std::fs::read_to_string(repo().join("targets.toml")).unwrap();
    let reworded = raw.replacen("description = \"", "description = \"talks: ", 1);
    assert_ne!(raw, reworded, "targets.toml has a description to reword");
    std::fs::write(&targets, reworded).unwrap();
    let second = stancemine(&[
        "run",
        seed().to_str().unwrap(),
        "--out",
        o,
        "--targets",
        targets.to_str().unwrap(),
    ]);
    assert_eq!(second.status.code(), Some(0), "{}", stderr(&second));
    let log = stderr(&second);
    assert!(log.contains("1 article(s) processed"), "{log}");
    let loaded = |what: &str| {
        log.lines()
            .any(|l| l.contains(what) && l.contains("loaded in"))
    };
    assert!(!loaded("NER model"), "{log}");
    assert!(loaded("stance model"), "{log}");
    let b = &read_jsonl(&out.path().join("articles.jsonl"))[0];
    assert_eq!(a["entities"], b["entities"]);
    assert_eq!(
        a["actors"].as_array().unwrap().len(),
        b["actors"].as_array().unwrap().len()
    );

    // int8 for both models is another version of each (NER's names what it
    // keeps in f32), so both are recomputed, and NER still finds the actors.
    let third = stancemine(&[
        "run",
        seed().to_str().unwrap(),
        "--out",
        o,
        "--int8=stance,ner",
    ]);
    assert_eq!(third.status.code(), Some(0), "{}", stderr(&third));
    let log = stderr(&third);
    assert!(
        log.lines()
            .any(|l| l.contains("NER model") && l.contains("loaded in")),
        "{log}"
    );
    let c = &read_jsonl(&out.path().join("articles.jsonl"))[0];
    let version = |x: &Value, m: &str| x["models"][m].as_str().unwrap().to_string();
    assert_eq!(
        version(c, "ner"),
        format!("{}+int8-down-f32", version(a, "ner"))
    );
    assert_eq!(
        version(c, "stance"),
        format!("{}+int8", version(a, "stance"))
    );
    let names = |x: &Value| -> std::collections::BTreeSet<String> {
        x["actors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|y| y["id"].as_str().unwrap().to_string())
            .collect()
    };
    let (f32_actors, int8_actors) = (names(a), names(c));
    let kept = f32_actors.intersection(&int8_actors).count();
    assert!(
        kept * 10 >= f32_actors.len() * 9,
        "int8 NER keeps at least 90 % of the actors: {int8_actors:?} vs {f32_actors:?}"
    );
}

/// `tag ner` prints the shipped model's own spans per line, goes on past
/// bad lines (naming them), and `--int8` finds the same names in plain
/// sentences.
#[test]
fn tag_prints_model_spans_and_skips_bad_lines() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("sentences.jsonl");
    std::fs::write(
        &input,
        "{\"text\": \"Trump met Kim Jong-un in Singapore.\"}\n\
         not json\n\
         {\"title\": \"no text\"}\n\
         \n\
         {\"text\": \"Moon Jae-in flew to Pyongyang on Tuesday.\"}\n",
    )
    .unwrap();
    let tag = |extra: &[&str]| -> (std::process::Output, Vec<Value>) {
        let out = dir.path().join(format!("tags{}.jsonl", extra.len()));
        let mut args = vec![
            "tag",
            "ner",
            input.to_str().unwrap(),
            "--model",
            "models/ner",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = stancemine(&args);
        let records = read_jsonl(&out);
        (o, records)
    };
    let (o, records) = tag(&[]);
    assert_eq!(o.status.code(), Some(1), "bad lines make exit code 1");
    let err = stderr(&o);
    assert!(err.contains("sentences.jsonl:2: not JSON"), "{err}");
    assert!(err.contains("sentences.jsonl:3: no \"text\""), "{err}");
    assert_eq!(records.len(), 2, "the good lines are all written");
    assert_eq!(records[0]["line"], 1);
    assert_eq!(records[1]["line"], 5);
    let spans = |r: &Value| -> Vec<(String, String)> {
        let text: Vec<char> = r["text"].as_str().unwrap().chars().collect();
        r["entities"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| {
                let (a, b) = (
                    e["start"].as_u64().unwrap() as usize,
                    e["end"].as_u64().unwrap() as usize,
                );
                let t: String = text[a..b].iter().collect();
                assert_eq!(e["text"], t.as_str(), "offsets are code points into text");
                (e["type"].as_str().unwrap().to_string(), t)
            })
            .collect()
    };
    let first = spans(&records[0]);
    for want in [
        ("PER", "Trump"),
        ("PER", "Kim Jong-un"),
        ("GPE", "Singapore"),
    ] {
        assert!(
            first.contains(&(want.0.to_string(), want.1.to_string())),
            "{want:?} in {first:?}"
        );
    }
    assert!(spans(&records[1]).contains(&("PER".into(), "Moon Jae-in".into())));
    let (_, quantised) = tag(&["--int8"]);
    assert_eq!(spans(&quantised[0]), first, "int8 finds the same spans");
}
