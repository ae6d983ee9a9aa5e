//! Batch behaviour: bad inputs are reported and the batch goes on, exit
//! codes, re-runs that skip unchanged articles, and the SQLite store.

mod util;
use util::*;

#[test]
fn bad_inputs_are_reported_by_file_and_line_and_the_rest_is_processed() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    copy_dir(&data("bad"), &inputs);
    // A 100 MB file, made here rather than committed.
    let huge = inputs.join("huge.txt");
    let f = std::fs::File::create(&huge).unwrap();
    f.set_len(100 * 1024 * 1024).unwrap();
    drop(f);
    let out = dir.path().join("out");
    let missing = dir.path().join("no-such-file.txt");
    let o = stancemine(&[
        "run",
        "--no-stance",
        "--no-ner",
        inputs.to_str().unwrap(),
        missing.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        o.status.code(),
        Some(1),
        "partial failure exit code; {}",
        stderr(&o)
    );
    assert!(!stderr(&o).contains("panicked"));

    let errors = read_jsonl(&out.join("errors.jsonl"));
    let error_for = |name: &str| {
        errors
            .iter()
            .filter(|e| e["source"].as_str().unwrap().ends_with(name))
            .collect::<Vec<_>>()
    };
    let one = |name: &str, needle: &str| {
        let es = error_for(name);
        assert_eq!(es.len(), 1, "{name}: {errors:?}");
        let msg = es[0]["error"].as_str().unwrap();
        assert!(msg.contains(needle) && msg.contains(name), "{name}: {msg}");
    };
    one("empty.txt", "empty file");
    one("blank.txt", "empty file");
    one("picture.txt", "binary");
    one("huge.txt", "over the");
    one("no-such-file.txt", "no such file");
    let jsonl: Vec<_> = error_for("broken.jsonl");
    let lines: Vec<u64> = jsonl.iter().map(|e| e["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, vec![2, 3, 4], "{jsonl:?}");
    assert!(jsonl[1]["error"]
        .as_str()
        .unwrap()
        .contains("missing field `text`"));
    assert_eq!(errors.len(), 8);

    let arts = read_jsonl(&out.join("articles.jsonl"));
    let ids: Vec<&str> = arts.iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert!(ids.contains(&"ok-1") && ids.contains(&"ok-2"), "{ids:?}");
    let latin = arts
        .iter()
        .find(|a| a["source"].as_str().unwrap().ends_with("windows1252.txt"))
        .expect("non-UTF-8 text is decoded leniently");
    assert!(latin["text"].as_str().unwrap().contains("café"));
    assert!(latin["warnings"][0]
        .as_str()
        .unwrap()
        .contains("Windows-1252"));
    assert_eq!(arts.len(), 4, "ok-1, ok-2, good.txt, windows1252.txt");
}

#[test]
fn a_second_run_skips_unchanged_articles_and_picks_up_changes() {
    let dir = tempfile::tempdir().unwrap();
    let inputs = dir.path().join("in");
    copy_dir(&data("inputs"), &inputs);
    let out = dir.path().join("out");
    let args = [
        "run",
        "--no-stance",
        "--no-ner",
        inputs.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ];

    let first = stancemine(&args);
    assert_eq!(first.status.code(), Some(0));
    assert!(
        stderr(&first).contains("6 article(s) processed, 0 unchanged"),
        "{}",
        stderr(&first)
    );
    let before = std::fs::read_to_string(out.join("articles.jsonl")).unwrap();

    let second = stancemine(&args);
    assert!(
        stderr(&second).contains("0 article(s) processed, 6 unchanged"),
        "{}",
        stderr(&second)
    );
    assert_eq!(
        std::fs::read_to_string(out.join("articles.jsonl")).unwrap(),
        before,
        "same output"
    );

    // Change one document and drop one JSONL record.
    let plain = inputs.join("plain.txt");
    let changed = std::fs::read_to_string(&plain)
        .unwrap()
        .replace("a question", "another question");
    std::fs::write(&plain, changed).unwrap();
    let batch = inputs.join("batch.jsonl");
    let kept: Vec<String> = std::fs::read_to_string(&batch)
        .unwrap()
        .lines()
        .take(1)
        .map(String::from)
        .collect();
    std::fs::write(&batch, kept.join("\n")).unwrap();
    let third = stancemine(&args);
    assert!(
        stderr(&third).contains("1 article(s) processed, 3 unchanged"),
        "{}",
        stderr(&third)
    );

    let db = rusqlite::Connection::open(out.join("stancemine.sqlite")).unwrap();
    let n: i64 = db
        .query_row("SELECT COUNT(*) FROM articles", [], |r| r.get(0))
        .unwrap();
    assert_eq!(
        n, 4,
        "the changed plain.txt replaces its old row; dropped JSONL records are removed"
    );
    let runs: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM runs WHERE finished_at IS NOT NULL",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(runs, 3);
    let sentences: i64 = db
        .query_row("SELECT COUNT(*) FROM sentences s JOIN articles a ON a.id = s.article_id WHERE a.title = 'Talks about talks'", [], |r| r.get(0))
        .unwrap();
    assert_eq!(sentences, 3);
}

#[test]
fn an_output_path_that_is_a_file_is_fatal() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("taken");
    std::fs::write(&file, "x").unwrap();
    let o = stancemine(&[
        "run",
        "--no-stance",
        "--no-ner",
        data("inputs").to_str().unwrap(),
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("not a folder"), "{}", stderr(&o));
}

#[test]
fn no_inputs_is_a_usage_error() {
    let o = stancemine(&["run"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("Usage"));
}
