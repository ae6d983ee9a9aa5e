//! Plain-text articles: Interpreter-style pages saved as text (masthead,
//! title, standfirst, repeated photo captions, body, pull quotes, a trailing
//! "You may also be interested in" block), plain text whose first line is
//! the title, and optional `---` front matter.

use super::clean::{
    drop_pull_quotes, is_repeated_caption, join_lines, normalize_space, paragraphs,
};
use super::{normalize_date, IngestError, Parsed};
use crate::article::Metadata;
use std::path::Path;

const MASTHEAD: &str = "published daily by the lowy institute";
const TRAILER: &str = "you may also be interested in";

/// Parse one text document.
pub fn parse(raw: &str, path: &Path) -> Result<Parsed, IngestError> {
    let raw = raw.replace("\r\n", "\n").replace('\r', "\n");
    let (mut meta, mut warnings, body) = split_front_matter(&raw, path)?;

    let mut paras = paragraphs(body);
    let had_masthead = paras
        .first()
        .is_some_and(|p| p.len() == 1 && p[0].to_lowercase() == MASTHEAD);
    if had_masthead {
        paras.remove(0);
    }
    if let Some(i) = paras
        .iter()
        .position(|p| normalize_space(&p[0]).to_lowercase().starts_with(TRAILER))
    {
        paras.truncate(i);
    }

    // Title: front matter wins; a first paragraph repeating it is dropped.
    let first = paras.first().map(|p| join_lines(p));
    match (&meta.title, first) {
        (Some(t), Some(f)) if normalize_space(t) == f => {
            paras.remove(0);
        }
        (None, Some(f)) if paras[0].len() == 1 && f.chars().count() <= 300 => {
            meta.title = Some(f);
            paras.remove(0);
        }
        _ => {}
    }

    // The standfirst is the paragraph between the title and the photo
    // caption (or the one after the title when the masthead says the page
    // came from the site).
    let caption_follows = paras.get(1).is_some_and(|p| is_repeated_caption(p));
    if meta.standfirst.is_none()
        && paras.len() > 1
        && (caption_follows || had_masthead)
        && !is_repeated_caption(&paras[0])
    {
        meta.standfirst = Some(join_lines(&paras.remove(0)));
    }

    let before = paras.len();
    paras.retain(|p| !is_repeated_caption(p));
    let captions = before - paras.len();
    let joined: Vec<String> = paras.iter().map(|p| join_lines(p)).collect();
    let (kept, pull_quotes) = drop_pull_quotes(joined);
    if captions + pull_quotes > 0 {
        tracing::debug!(path = %path.display(), captions, pull_quotes, "removed boilerplate");
    }
    if let Some(d) = meta.date.take() {
        match normalize_date(&d) {
            Some(n) => meta.date = Some(n),
            None => warnings.push(format!("unrecognised date {d:?} ignored")),
        }
    }
    Ok(Parsed {
        meta,
        text: kept.join("\n\n"),
        warnings,
    })
}

/// Split `---` front matter (simple `key: value` lines) from the body.
fn split_front_matter<'a>(
    raw: &'a str,
    path: &Path,
) -> Result<(Metadata, Vec<String>, &'a str), IngestError> {
    let raw = raw.trim_start_matches('\u{feff}');
    let mut meta = Metadata::default();
    let mut warnings = Vec::new();
    let Some(rest) = raw.strip_prefix("---\n") else {
        return Ok((meta, warnings, raw));
    };
    let mut offset = 4;
    for (i, line) in rest.split_inclusive('\n').enumerate() {
        let lineno = i + 2;
        offset += line.len();
        let line = line.trim_end_matches('\n');
        if line.trim() == "---" {
            return Ok((meta, warnings, &raw[offset..]));
        }
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            return Err(IngestError::FrontMatter {
                path: path.to_path_buf(),
                line: lineno,
                message: format!("expected `key: value`, found {line:?}"),
            });
        };
        let value = unquote(value.trim());
        let value = (!value.is_empty()).then(|| value.to_string());
        match key.trim().to_lowercase().as_str() {
            "title" => meta.title = value,
            "standfirst" | "summary" | "description" => meta.standfirst = value,
            "author" | "authors" | "byline" => meta.author = value,
            "date" | "published" => meta.date = value,
            "url" | "link" => meta.url = value,
            "synthetic" => meta.synthetic = value.as_deref() == Some("true"),
            "note" | "topic" | "tags" => {}
            other => warnings.push(format!("front matter key {other:?} ignored")),
        }
    }
    Err(IngestError::FrontMatter {
        path: path.to_path_buf(),
        line: 1,
        message: "front matter opened with `---` is never closed".into(),
    })
}

fn unquote(s: &str) -> &str {
    for q in ['"', '\''] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return &s[1..s.len() - 1];
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(raw: &str) -> Parsed {
        parse(raw, Path::new("t.txt")).expect("parses")
    }

    #[test]
    fn interpreter_layout_is_cleaned() {
        let raw = "Published daily by the Lowy Institute\n\nThe title\n\nThe standfirst.\n\n\
                   Cap (Photo/X)\nCap (Photo/X)\n\nBody one.\n\nQuote.\n\nBody two.\n\nQuote.\n\n\n\
                   You may also be interested\u{a0}in\nOther piece\n";
        let d = p(raw);
        assert_eq!(d.meta.title.as_deref(), Some("The title"));
        assert_eq!(d.meta.standfirst.as_deref(), Some("The standfirst."));
        assert_eq!(d.text, "Body one.\n\nBody two.\n\nQuote.");
    }

    #[test]
    fn plain_text_takes_first_line_as_title_and_has_no_standfirst() {
        let d = p("A plain title\n\nFirst para.\nwrapped here.\n\nSecond.");
        assert_eq!(d.meta.title.as_deref(), Some("A plain title"));
        assert_eq!(d.meta.standfirst, None);
        assert_eq!(d.text, "First para. wrapped here.\n\nSecond.");
    }

    #[test]
    fn front_matter_supplies_metadata() {
        let d = p("---\ntitle: \"T\"\nauthor: A. Writer\ndate: 3 March 2019\nsynthetic: true\n---\nT\n\nStand.\n\nC (x)\nC (x)\n\nBody.");
        assert_eq!(d.meta.title.as_deref(), Some("T"));
        assert_eq!(d.meta.author.as_deref(), Some("A. Writer"));
        assert_eq!(d.meta.date.as_deref(), Some("2019-03-03"));
        assert!(d.meta.synthetic);
        assert_eq!(d.meta.standfirst.as_deref(), Some("Stand."));
        assert_eq!(d.text, "Body.");
    }

    #[test]
    fn unclosed_front_matter_is_an_error_naming_the_file() {
        let e = parse("---\ntitle: x\nbody", Path::new("bad.txt")).unwrap_err();
        assert!(e.to_string().contains("bad.txt"), "{e}");
    }

    #[test]
    fn front_matter_line_without_colon_is_reported_with_its_line() {
        let e = parse("---\ntitle: x\nnonsense\n---\nbody", Path::new("f.txt")).unwrap_err();
        assert!(e.to_string().starts_with("f.txt:3:"), "{e}");
    }
}
