//! Saved HTML article pages: metadata from `<meta>`, `<time>` and JSON-LD,
//! body paragraphs from `<article>` (or the page's main content), with
//! navigation, scripts, figures, asides, pull quotes and footers dropped.

use super::clean::{drop_pull_quotes, normalize_space};
use super::{normalize_date, Parsed};
use crate::article::Metadata;
use scraper::{ElementRef, Html, Selector};

/// Elements whose text is never body text.
const SKIP: &[&str] = &[
    "nav",
    "header",
    "footer",
    "aside",
    "script",
    "style",
    "noscript",
    "figure",
    "figcaption",
    "form",
    "button",
    "iframe",
    "svg",
    "template",
];

fn sel(s: &str) -> Selector {
    // The selectors are literals in this file; a typo is a programming error.
    Selector::parse(s).expect("valid selector")
}

/// Parse one HTML page. Never fails: a page with no body text is reported by
/// the caller.
pub fn parse(raw: &str) -> Parsed {
    let doc = Html::parse_document(raw);
    let mut warnings = Vec::new();
    let ld = json_ld(&doc);

    let meta_content = |names: &[&str]| -> Option<String> {
        names.iter().find_map(|n| {
            let s = sel(&format!("meta[name=\"{n}\"], meta[property=\"{n}\"]"));
            doc.select(&s)
                .filter_map(|e| e.value().attr("content"))
                .map(normalize_space)
                .find(|v| !v.is_empty())
        })
    };
    let first_text = |selector: &str| -> Option<String> {
        doc.select(&sel(selector))
            .map(|e| normalize_space(&e.text().collect::<String>()))
            .find(|t| !t.is_empty())
    };

    let title = meta_content(&["og:title", "twitter:title"])
        .or_else(|| ld_str(&ld, &["headline", "name"]))
        .or_else(|| first_text("article h1"))
        .or_else(|| first_text("h1"))
        .or_else(|| first_text("title"));
    let author = meta_content(&["author", "article:author", "parsely-author"])
        .or_else(|| ld_author(&ld))
        .or_else(|| first_text("[rel=author]"))
        .or_else(|| first_text(".author, .byline"));
    let raw_date = meta_content(&[
        "article:published_time",
        "date",
        "dc.date",
        "parsely-pub-date",
    ])
    .or_else(|| ld_str(&ld, &["datePublished", "dateCreated"]))
    .or_else(|| {
        doc.select(&sel("time[datetime]"))
            .filter_map(|e| e.value().attr("datetime"))
            .map(str::to_string)
            .next()
    });
    let date = raw_date.as_deref().and_then(|d| {
        let n = normalize_date(d);
        if n.is_none() {
            warnings.push(format!("unrecognised date {d:?} ignored"));
        }
        n
    });
    let url = doc
        .select(&sel("link[rel=canonical]"))
        .filter_map(|e| e.value().attr("href"))
        .map(str::to_string)
        .next()
        .or_else(|| meta_content(&["og:url"]))
        .or_else(|| ld_str(&ld, &["url"]));
    let standfirst = first_text(".standfirst, .dek, .article-summary, .subtitle")
        .or_else(|| meta_content(&["description", "og:description"]));

    let root = doc
        .select(&sel("article"))
        .next()
        .or_else(|| doc.select(&sel("main")).next())
        .or_else(|| doc.select(&sel("body")).next());
    let mut paras = Vec::new();
    if let Some(root) = root {
        for p in root.select(&sel("p")) {
            if inside_skipped(p, root) {
                continue;
            }
            let t = normalize_space(&p.text().collect::<String>());
            if !t.is_empty() && Some(&t) != standfirst.as_ref() {
                paras.push(t);
            }
        }
    }
    let (paras, _) = drop_pull_quotes(paras);
    Parsed {
        meta: Metadata {
            title,
            standfirst,
            author,
            date,
            url,
            synthetic: meta_content(&["stancemine:synthetic"]).as_deref() == Some("true"),
        },
        text: paras.join("\n\n"),
        warnings,
    }
}

/// True when `el` sits inside an element that never holds body text
/// (navigation, figure captions, pull-quote blocks…), below `root`.
fn inside_skipped(el: ElementRef, root: ElementRef) -> bool {
    let mut node = el.parent();
    while let Some(n) = node {
        if n.id() == root.id() {
            return false;
        }
        if let Some(e) = n.value().as_element() {
            let class = e.attr("class").unwrap_or("").to_lowercase();
            if SKIP.contains(&e.name())
                || class.contains("pull")
                || class.contains("related")
                || class.contains("share")
                || class.contains("caption")
                || (e.name() == "blockquote" && class.contains("quote"))
            {
                return true;
            }
        }
        node = n.parent();
    }
    false
}

/// The page's JSON-LD objects (a `@graph` is flattened).
fn json_ld(doc: &Html) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for s in doc.select(&sel("script[type=\"application/ld+json\"]")) {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(&s.text().collect::<String>()) else {
            continue;
        };
        let items = match v {
            serde_json::Value::Array(a) => a,
            other => vec![other],
        };
        for item in items {
            if let Some(serde_json::Value::Array(g)) = item.get("@graph") {
                out.extend(g.iter().cloned());
            }
            out.push(item);
        }
    }
    out
}

fn ld_str(ld: &[serde_json::Value], keys: &[&str]) -> Option<String> {
    ld.iter().find_map(|v| {
        keys.iter()
            .find_map(|k| v.get(k).and_then(|x| x.as_str()).map(normalize_space))
            .filter(|s| !s.is_empty())
    })
}

fn ld_author(ld: &[serde_json::Value]) -> Option<String> {
    let name = |a: &serde_json::Value| -> Option<String> {
        a.as_str()
            .map(str::to_string)
            .or_else(|| a.get("name").and_then(|n| n.as_str()).map(str::to_string))
    };
    ld.iter().find_map(|v| {
        let a = v.get("author")?;
        match a {
            serde_json::Value::Array(xs) => {
                let names: Vec<String> = xs.iter().filter_map(name).collect();
                (!names.is_empty()).then(|| names.join(", "))
            }
            other => name(other),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<!doctype html><html><head><title>Site | T</title>
<meta property="og:title" content="Talks, again">
<meta name="author" content="Jane Roe">
<link rel="canonical" href="https://example.org/a">
<script>var x = "not text";</script></head>
<body><nav><p>Home</p></nav><article><h1>Talks, again</h1>
<p class="standfirst">Why now.</p>
<time datetime="2019-02-27T09:00:00+07:00">27 Feb</time>
<figure><img src="x.jpg"><figcaption><p>A caption</p></figcaption></figure>
<p>First   paragraph.</p><blockquote class="pullquote"><p>Second one.</p></blockquote>
<p>Second one. More.</p><footer><p>Share this</p></footer></article></body></html>"#;

    #[test]
    fn extracts_metadata_and_body_without_boilerplate() {
        let d = parse(PAGE);
        assert_eq!(d.meta.title.as_deref(), Some("Talks, again"));
        assert_eq!(d.meta.author.as_deref(), Some("Jane Roe"));
        assert_eq!(d.meta.date.as_deref(), Some("2019-02-27"));
        assert_eq!(d.meta.url.as_deref(), Some("https://example.org/a"));
        assert_eq!(d.meta.standfirst.as_deref(), Some("Why now."));
        assert_eq!(d.text, "First paragraph.\n\nSecond one. More.");
    }

    #[test]
    fn reads_json_ld_when_meta_tags_are_missing() {
        let page = r#"<html><head><script type="application/ld+json">
{"@context":"https://schema.org","@graph":[{"@type":"NewsArticle","headline":"H",
"datePublished":"2021-05-01","author":[{"@type":"Person","name":"A B"},{"name":"C D"}]}]}
</script></head><body><main><p>Text.</p></main></body></html>"#;
        let d = parse(page);
        assert_eq!(d.meta.title.as_deref(), Some("H"));
        assert_eq!(d.meta.author.as_deref(), Some("A B, C D"));
        assert_eq!(d.meta.date.as_deref(), Some("2021-05-01"));
        assert_eq!(d.text, "Text.");
    }
}
