//! Paragraph-level cleaning shared by every input format: whitespace,
//! repeated photo captions, and pull quotes repeated from the body.

/// Collapse runs of spaces (including no-break spaces) and trim.
pub fn normalize_space(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.chars() {
        if c.is_whitespace() || c == '\u{feff}' || c.is_control() {
            pending_space = !out.is_empty();
        } else {
            if pending_space {
                out.push(' ');
                pending_space = false;
            }
            out.push(c);
        }
    }
    out
}

/// Split text into paragraphs (separated by blank lines); each paragraph is a
/// list of its non-empty lines, whitespace-normalised.
pub fn paragraphs(text: &str) -> Vec<Vec<String>> {
    let mut paras = Vec::new();
    let mut current: Vec<String> = Vec::new();
    for line in text.lines() {
        let line = normalize_space(line);
        if line.is_empty() {
            if !current.is_empty() {
                paras.push(std::mem::take(&mut current));
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        paras.push(current);
    }
    paras
}

/// True when a paragraph is a photo caption as the site prints it: one line
/// shown twice in a row.
pub fn is_repeated_caption(lines: &[String]) -> bool {
    lines.len() == 2 && lines[0] == lines[1]
}

/// Join a paragraph's lines (hard-wrapped text) into one line.
pub fn join_lines(lines: &[String]) -> String {
    lines.join(" ")
}

/// Remove pull quotes: a paragraph that reappears later as a whole paragraph
/// (the earlier copy is the display quote, shown ahead of the text it
/// quotes), or that is a short passage of another paragraph.
pub fn drop_pull_quotes(paras: Vec<String>) -> (Vec<String>, usize) {
    let n = paras.len();
    let mut keep = vec![true; n];
    for i in 0..n {
        let p = &paras[i];
        let repeated_later = paras[i + 1..].iter().any(|q| q == p);
        let inside_other = p.chars().count() <= 400
            && paras
                .iter()
                .enumerate()
                .any(|(j, q)| j != i && q.len() > p.len() && q.contains(p.as_str()));
        if repeated_later || inside_other {
            keep[i] = false;
        }
    }
    let dropped = keep.iter().filter(|k| !**k).count();
    let kept = paras
        .into_iter()
        .zip(keep)
        .filter_map(|(p, k)| k.then_some(p))
        .collect();
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_no_break_and_runs_of_space() {
        assert_eq!(normalize_space("  a\u{a0} b\t\tc  "), "a b c");
    }

    #[test]
    fn splits_paragraphs_on_blank_lines() {
        let p = paragraphs("one\ntwo\n\n\n three \n");
        assert_eq!(
            p,
            vec![vec!["one".to_string(), "two".into()], vec!["three".into()]]
        );
    }

    #[test]
    fn detects_caption_pairs_only() {
        assert!(is_repeated_caption(&[
            "x (Photo)".into(),
            "x (Photo)".into()
        ]));
        assert!(!is_repeated_caption(&["x".into(), "y".into()]));
        assert!(!is_repeated_caption(&["x".into()]));
    }

    #[test]
    fn keeps_the_later_of_two_identical_paragraphs() {
        let paras = vec!["Q.".to_string(), "A.".into(), "Q.".into(), "B.".into()];
        let (kept, dropped) = drop_pull_quotes(paras);
        assert_eq!(kept, vec!["A.", "Q.", "B."]);
        assert_eq!(dropped, 1);
    }

    #[test]
    fn drops_a_quote_taken_from_inside_a_paragraph() {
        let paras = vec![
            "Talks are dead.".to_string(),
            "Officials met. Talks are dead. Nobody came.".into(),
        ];
        let (kept, _) = drop_pull_quotes(paras);
        assert_eq!(kept, vec!["Officials met. Talks are dead. Nobody came."]);
    }
}
