//! Reports: `run` writes them, `report` rewrites them byte for byte from the
//! store alone, and the HTML renders in headless Chromium without touching
//! the network.

mod util;

use std::path::{Path, PathBuf};
use std::process::Command;
use util::*;

const CHROMIUM: &str = "/usr/bin/chromium";

/// The seed and two more demo pieces: two targets, three authors, three dates.
fn pieces(dir: &Path) -> PathBuf {
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    for name in [
        "000_e54d198a35ed2720.txt",
        "000_e54d198a35ed2720.meta.json",
        "s12_singapore-was-a-beginning.txt",
        "s32_submarine-pathway-unweighed-price.txt",
    ] {
        std::fs::copy(repo().join("corpus").join(name), input.join(name)).unwrap();
    }
    input
}

fn read(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn run_writes_reports_that_report_reproduces_and_chromium_renders_offline() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    let o = stancemine(&[
        "run",
        pieces(tmp.path()).to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));

    // The seed's author stance (gold: against) reaches the record, the store and the report.
    let records = read_jsonl(&out.join("articles.jsonl"));
    let seed = records
        .iter()
        .find(|r| {
            r["source"]
                .as_str()
                .unwrap()
                .ends_with("000_e54d198a35ed2720.txt")
        })
        .unwrap();
    let st = &seed["stance"]["us-dprk-dialogue"];
    assert_eq!(st["label"], "against", "{st}");
    assert_eq!(st["evidence"].as_array().unwrap().len(), 3);
    let db = rusqlite::Connection::open(out.join("stancemine.sqlite")).unwrap();
    let (n, label): (i64, String) = db
        .query_row(
            "SELECT COUNT(*), MAX(CASE WHEN article_id = ?1 AND target = 'us-dprk-dialogue' THEN label END)
             FROM article_stances",
            [seed["id"].as_str().unwrap()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(
        (n, label.as_str()),
        (6, "against"),
        "3 articles × 2 targets"
    );
    let report: serde_json::Value =
        serde_json::from_slice(&read(&out.join("report.json"))).unwrap();
    assert_eq!(report["report_version"], 1);
    assert_eq!(report["articles_total"], 3);
    assert_eq!(report["targets"].as_array().unwrap().len(), 2);

    // The same store gives the same bytes, with no model loaded.
    let again = tmp.path().join("again");
    let o = stancemine(&[
        "report",
        "--store",
        out.join("stancemine.sqlite").to_str().unwrap(),
        "--out",
        again.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("loaded in"), "{}", stderr(&o));
    for f in ["report.json", "report.md", "report.html"] {
        assert!(read(&out.join(f)) == read(&again.join(f)), "{f} differs");
    }

    // Filters narrow the report.
    let narrow = tmp.path().join("narrow");
    let o = stancemine(&[
        "report",
        "--store",
        out.join("stancemine.sqlite").to_str().unwrap(),
        "--out",
        narrow.to_str().unwrap(),
        "--target",
        "aukus",
        "--from",
        "2020",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let r: serde_json::Value = serde_json::from_slice(&read(&narrow.join("report.json"))).unwrap();
    assert_eq!(r["targets"].as_array().unwrap().len(), 1);
    assert!(
        r["articles_total"].as_u64().unwrap() < 3,
        "the 2018 piece is out"
    );

    // `eval articles` scores the seed against its gold, from the JSONL or the store.
    let seed_gold = repo().join("data/gold/part0-seed.jsonl");
    let holders = repo().join("data/stance/test.jsonl");
    for source in ["--articles", "--store"] {
        let file = match source {
            "--articles" => out.join("articles.jsonl"),
            _ => out.join("stancemine.sqlite"),
        };
        let o = stancemine(&[
            "eval",
            "articles",
            "--gold",
            seed_gold.to_str().unwrap(),
            source,
            file.to_str().unwrap(),
            "--holders",
            holders.to_str().unwrap(),
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        let e: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(e["author_stance"]["test"]["correct"], 1, "{e}");
        assert_eq!(e["author_stance"]["all"]["total"], 1);
        assert_eq!(e["actor_stance"]["all"]["total"], 4, "four gold actors");
        let h = &e["holder"];
        assert!(
            h["all"]["total"].as_u64().unwrap() > 10,
            "seed sentences found: {h}"
        );
    }
    let bad = tmp.path().join("bad-gold.jsonl");
    std::fs::write(&bad, "{\"article\": \"x\", \"gold\": {}}\nnot json\n").unwrap();
    let o = stancemine(&[
        "eval",
        "articles",
        "--gold",
        bad.to_str().unwrap(),
        "--articles",
        out.join("articles.jsonl").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad-gold.jsonl:2:"), "{}", stderr(&o));

    let html = String::from_utf8(read(&out.join("report.html"))).unwrap();
    assert_no_external_urls(&html);
    assert!(
        html.contains("<svg") && html.contains("<polygon"),
        "chart with band"
    );
    chromium_renders_offline(&out.join("report.html"), tmp.path());
}

/// Nothing the page could load from elsewhere: no URL scheme or
/// protocol-relative reference in attributes or CSS.
fn assert_no_external_urls(html: &str) {
    let lower = html.to_lowercase();
    for needle in [
        "src=\"http",
        "href=\"http",
        "src=\"//",
        "href=\"//",
        "url(",
        "@import",
        "<link",
        "<iframe",
        "ws://",
        "wss://",
    ] {
        assert!(!lower.contains(needle), "report.html contains {needle}");
    }
    // Article URLs appear as text only, never as an attribute value.
    let attr =
        regex::Regex::new(r#"(?i)(src|href|action|data)\s*=\s*["']?\s*(https?:|//|ftp:)"#).unwrap();
    assert!(!attr.is_match(html), "external reference in an attribute");
}

/// Network URLs (http, https, ws, wss) the page itself requested, from a
/// Chromium net log. Chromium's own background requests carry the
/// initiator `not an origin`; a page's requests carry the page's origin
/// (`null` for a file).
fn page_requests(netlog: &Path) -> Vec<String> {
    let log: serde_json::Value = serde_json::from_slice(&read(netlog)).unwrap();
    let types = &log["constants"]["logEventTypes"];
    let start = types["URL_REQUEST_START_JOB"].as_i64().unwrap();
    log["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["type"].as_i64() == Some(start))
        .filter(|e| e["params"]["initiator"] != "not an origin")
        .filter_map(|e| e["params"]["url"].as_str())
        .filter(|u| {
            ["http:", "https:", "ws:", "wss:"]
                .iter()
                .any(|s| u.starts_with(s))
        })
        .map(String::from)
        .collect()
}

/// Run headless Chromium on `page`; returns the net log's path.
fn chromium(page: &Path, tmp: &Path, shot: &Path) -> PathBuf {
    assert!(
        Path::new(CHROMIUM).exists(),
        "{CHROMIUM} missing: run scripts/setup (it installs Debian's chromium)"
    );
    let netlog = tmp.join(format!(
        "netlog-{}.json",
        shot.file_stem().unwrap().to_string_lossy()
    ));
    let o = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", tmp.join("profile").display()))
        .arg(format!("--log-net-log={}", netlog.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg("--window-size=1280,2000")
        .arg(format!("file://{}", page.display()))
        .output()
        .expect("chromium runs");
    assert!(
        o.status.success() && shot.exists(),
        "chromium failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    netlog
}

#[test]
fn the_network_check_sees_a_page_that_fetches() {
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("fetch.html");
    // Port 9 (discard) on loopback: the request is made and fails at once.
    std::fs::write(
        &page,
        "<!DOCTYPE html><p>x</p><img src=\"http://127.0.0.1:9/x.png\">",
    )
    .unwrap();
    let netlog = chromium(&page, tmp.path(), &tmp.path().join("fetch.png"));
    let requests = page_requests(&netlog);
    assert_eq!(requests, vec!["http://127.0.0.1:9/x.png".to_string()]);
}

fn chromium_renders_offline(page: &Path, tmp: &Path) {
    let shot = repo().join("out/report-screenshot.png");
    std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(&shot);
    let netlog = chromium(page, tmp, &shot);

    // Not blank: many colours, and a good part of the page is not white.
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&shot).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    assert!(channels >= 3, "colour screenshot");
    let pixels = &buf[..info.buffer_size()];
    let mut colours = std::collections::HashSet::new();
    let mut non_white = 0usize;
    let total = pixels.len() / channels;
    for px in pixels.chunks(channels) {
        colours.insert((px[0], px[1], px[2]));
        if px[0] < 235 || px[1] < 235 || px[2] < 235 {
            non_white += 1;
        }
    }
    assert!(colours.len() > 200, "only {} colours", colours.len());
    assert!(
        non_white * 20 > total,
        "{non_white} of {total} pixels are not white"
    );

    // The page asked for nothing: no request with a page initiator.
    let requests = page_requests(&netlog);
    assert!(requests.is_empty(), "the page made requests: {requests:?}");
}
