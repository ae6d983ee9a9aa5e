//! `stancemine run` on every input kind: the seed article, front matter,
//! plain text, HTML pages and JSONL.

mod util;
use util::*;

#[test]
fn the_seed_article_is_cleaned_and_segmented() {
    let out = tempfile::tempdir().unwrap();
    let o = stancemine(&[
        "run",
        "--no-stance",
        "--no-ner",
        seed().to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let arts = read_jsonl(&out.path().join("articles.jsonl"));
    assert_eq!(arts.len(), 1);
    let a = &arts[0];
    assert_eq!(a["schema_version"], 1);
    assert_eq!(
        a["title"],
        "This time, Russia stands in the way of any US\u{2011}North Korea deal"
    );
    assert_eq!(
        a["standfirst"],
        "If Donald Trump wants to revive his showpiece negotiation, he will find the calculation has since changed."
    );
    assert_eq!(a["date"], "2025-01", "date comes from the sidecar");
    assert_eq!(a["author"], serde_json::Value::Null);
    let text = a["text"].as_str().unwrap();
    assert_eq!(
        text.matches("Russia’s rewards far outweigh").count(),
        1,
        "pull quote once"
    );
    for boilerplate in [
        "Published daily",
        "Manuel Elías",
        "UN Photo",
        "You may also be interested",
    ] {
        assert!(
            !text.contains(boilerplate),
            "{boilerplate} left in the text"
        );
    }
    assert!(text.starts_with("With Donald Trump about to return to the White House"));
    assert!(text.ends_with("hope for a different outcome."));
    let sentences = a["sentences"].as_array().unwrap();
    assert!(sentences.len() >= 25, "{} sentences", sentences.len());
    assert_offsets(a);
    // Known boundaries: a quote closed before the stop, and "per se".
    let texts: Vec<&str> = sentences
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert!(texts.contains(
        &"In July, Korean Central News Agency explicitly said that “the foreign policy of a state and personal feelings must be strictly distinguished”."
    ));
    assert!(texts.contains(&"North Korea’s calculation has now changed."));
}

#[test]
fn text_html_and_jsonl_inputs_are_read_with_their_metadata() {
    let out = tempfile::tempdir().unwrap();
    let o = stancemine(&[
        "run",
        "--no-stance",
        "--no-ner",
        data("inputs").to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let arts = read_jsonl(&out.path().join("articles.jsonl"));
    assert_eq!(arts.len(), 6, "3 JSONL records + 3 documents");
    let by_title = |t: &str| {
        arts.iter()
            .find(|a| a["title"] == t)
            .unwrap_or_else(|| panic!("no article titled {t}"))
    };
    for a in &arts {
        assert_offsets(a);
        assert!(
            a["text"]
                .as_str()
                .unwrap()
                .starts_with("Synthetic test fixture"),
            "{a}"
        );
    }

    let fm = by_title("Envoys before summits");
    assert_eq!(fm["author"], "Test Writer");
    assert_eq!(fm["date"], "2020-07-14");
    assert_eq!(fm["url"], "https://example.org/envoys-before-summits");
    assert_eq!(fm["synthetic"], true);
    assert_eq!(
        fm["standfirst"],
        "Working-level talks do the slow work that leaders cannot."
    );
    let text = fm["text"].as_str().unwrap();
    assert!(!text.contains("Illustration"));
    assert_eq!(
        text.matches("Leaders can sign").count(),
        1,
        "pull quote dropped"
    );
    let s: Vec<&str> = fm["sentences"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["text"].as_str().unwrap())
        .collect();
    assert!(
        s.contains(&"Mr. Lee said the U.S. envoy would travel on Monday."),
        "{s:?}"
    );

    let plain = by_title("A plain note with no masthead");
    assert_eq!(plain["standfirst"], serde_json::Value::Null);
    assert!(plain["text"]
        .as_str()
        .unwrap()
        .contains("runs over two lines"));
    let s = plain["sentences"].as_array().unwrap();
    assert_eq!(s.last().unwrap()["text"], "It does — and answers it.");

    let html = by_title("Freeze for relief is back on the table");
    assert_eq!(html["author"], "Avery Example");
    assert_eq!(html["date"], "2019-03-05");
    assert_eq!(
        html["url"],
        "https://example.org/commentary/freeze-for-relief"
    );
    assert_eq!(
        html["standfirst"],
        "A smaller deal may be the only deal available."
    );
    let text = html["text"].as_str().unwrap();
    for junk in [
        "Subscribe",
        "Share this",
        "Related",
        "Another piece",
        "rights reserved",
        "dataLayer",
        "Delegations at",
    ] {
        assert!(!text.contains(junk), "{junk} in {text}");
    }
    assert_eq!(
        text.matches("A freeze is not the end of the road.").count(),
        1
    );
    assert!(text.contains("Dr. Kim Ji-won"));

    let j1 = by_title("Talks about talks");
    assert_eq!(j1["id"], "jsonl-1");
    assert!(j1["source"].as_str().unwrap().ends_with("batch.jsonl:1"));
    assert_eq!(j1["sentences"].as_array().unwrap().len(), 3);
    let j2 = by_title("No id given");
    assert_eq!(j2["id"].as_str().unwrap().len(), 16, "content-hash id");
    let j3 = by_title("A third");
    assert_eq!(j3["date"], serde_json::Value::Null);
    assert!(j3["warnings"][0].as_str().unwrap().contains("not a date"));
    assert!(
        j3["source"].as_str().unwrap().ends_with("batch.jsonl:4"),
        "blank lines still count"
    );
}

#[test]
fn content_hash_ids_are_stable_across_runs_and_locations() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let copy = b.path().join("elsewhere.txt");
    std::fs::copy(seed(), &copy).unwrap();
    stancemine(&[
        "run",
        "--no-stance",
        "--no-ner",
        seed().to_str().unwrap(),
        "--out",
        a.path().to_str().unwrap(),
    ]);
    stancemine(&[
        "run",
        "--no-stance",
        "--no-ner",
        copy.to_str().unwrap(),
        "--out",
        b.path().join("o").to_str().unwrap(),
    ]);
    let x = &read_jsonl(&a.path().join("articles.jsonl"))[0];
    let y = &read_jsonl(&b.path().join("o/articles.jsonl"))[0];
    assert_eq!(x["id"], y["id"]);
}
