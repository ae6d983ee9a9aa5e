//! Segment: split an article's cleaned text into sentences with code-point
//! offsets. Rule-based, tuned for commentary prose: abbreviations ("Mr.",
//! "Gen.", "U.S."), initials ("Donald J. Trump"), quotes closing after the
//! full stop, questions inside quotes, and em dashes, which never end a
//! sentence. Paragraph breaks always do.

use crate::article::Sentence;

/// Abbreviations that never end a sentence.
const NEVER_FINAL: &[&str] = &[
    "mr", "mrs", "ms", "dr", "prof", "gen", "lt", "col", "maj", "capt", "cpt", "sgt", "adm",
    "cmdr", "sen", "rep", "gov", "pres", "amb", "hon", "rev", "st", "mt", "ft", "no", "nos", "vs",
    "v", "cf", "fig", "vol", "pp", "approx", "messrs", "jan", "feb", "mar", "apr", "jun", "jul",
    "aug", "sep", "sept", "oct", "nov", "dec", "inc", "corp", "ltd", "co", "jr", "sr",
];

/// Words that, after an abbreviation that can end a sentence ("U.S.",
/// "etc."), show that a new sentence has started.
const SENTENCE_STARTERS: &[&str] = &[
    "The",
    "This",
    "That",
    "These",
    "Those",
    "It",
    "Its",
    "In",
    "But",
    "And",
    "Yet",
    "However",
    "He",
    "She",
    "They",
    "We",
    "I",
    "A",
    "An",
    "As",
    "At",
    "For",
    "If",
    "On",
    "So",
    "When",
    "While",
    "What",
    "Why",
    "How",
    "There",
    "Such",
    "Still",
    "Even",
    "Instead",
    "Meanwhile",
    "Nor",
    "Neither",
    "Both",
    "After",
    "Before",
    "Since",
    "Although",
    "Though",
    "Now",
    "Then",
    "Our",
    "Their",
    "His",
    "Her",
    "My",
    "One",
    "Many",
    "Most",
    "Some",
    "Few",
    "Other",
    "Another",
    "Washington",
    "Pyongyang",
    "Seoul",
    "Beijing",
    "Moscow",
    "Tokyo",
    "Canberra",
];

const TERMINATORS: &[char] = &['.', '?', '!', '…'];
const CLOSERS: &[char] = &['”', '’', '"', '\'', ')', ']', '»'];
const OPENERS: &[char] = &['“', '‘', '"', '\'', '(', '[', '«', '—', '–', '-'];

/// Split `text` into sentences.
pub fn segment(text: &str) -> Vec<Sentence> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let n = chars.len();
    let mut spans: Vec<(usize, usize)> = Vec::new(); // char indices
    let mut start: Option<usize> = None;
    let mut i = 0;
    while i < n {
        let c = chars[i].1;
        if start.is_none() {
            if !c.is_whitespace() {
                start = Some(i);
            }
            i += 1;
            continue;
        }
        if c == '\n' && i + 1 < n && chars[i + 1].1 == '\n' {
            close(&chars, start.take(), i, &mut spans);
            i += 1;
            continue;
        }
        if TERMINATORS.contains(&c) {
            let mut j = i + 1;
            while j < n && (TERMINATORS.contains(&chars[j].1) || CLOSERS.contains(&chars[j].1)) {
                j += 1;
            }
            if j >= n {
                i = j;
                continue;
            }
            if chars[j].1.is_whitespace() && is_boundary(&chars, start.unwrap_or(0), i, j) {
                close(&chars, start.take(), j, &mut spans);
            }
            i = j;
            continue;
        }
        i += 1;
    }
    close(&chars, start, n, &mut spans);

    spans
        .into_iter()
        .map(|(s, e)| {
            let bs = chars[s].0;
            let be = if e < n { chars[e].0 } else { text.len() };
            Sentence::new(s, e, text[bs..be].to_string())
        })
        .collect()
}

/// Record the sentence from `start` to `end` (char indices), trailing
/// whitespace trimmed.
fn close(
    chars: &[(usize, char)],
    start: Option<usize>,
    end: usize,
    spans: &mut Vec<(usize, usize)>,
) {
    let Some(s) = start else { return };
    let mut e = end;
    while e > s && chars[e - 1].1.is_whitespace() {
        e -= 1;
    }
    if e > s {
        spans.push((s, e));
    }
}

/// Is the terminator at `t` (followed by closers up to `j`, then white
/// space) the end of a sentence that began at `s`?
fn is_boundary(chars: &[(usize, char)], s: usize, t: usize, j: usize) -> bool {
    // A paragraph break decides on its own.
    let mut k = j;
    let mut newlines = 0;
    while k < chars.len() && chars[k].1.is_whitespace() {
        if chars[k].1 == '\n' {
            newlines += 1;
        }
        k += 1;
    }
    if k >= chars.len() || newlines >= 2 {
        return true;
    }
    let next = chars[k].1;
    if !(next.is_uppercase() || next.is_ascii_digit() || OPENERS.contains(&next)) {
        return false;
    }
    // Only a bare full stop can belong to an abbreviation; a stop followed
    // by a closing quote, a bracket or more stops is final.
    if chars[t].1 != '.' || j > t + 1 {
        return true;
    }
    // The word before the full stop, without opening quotes or brackets.
    let mut w = t;
    while w > s && !chars[w - 1].1.is_whitespace() {
        w -= 1;
    }
    let word: String = chars[w..t]
        .iter()
        .map(|(_, c)| *c)
        .collect::<String>()
        .trim_start_matches(OPENERS)
        .trim_end_matches(CLOSERS)
        .to_string();
    let lower = word.to_lowercase();
    if NEVER_FINAL.contains(&lower.as_str()) {
        return false;
    }
    let mut letters = word.chars();
    let is_initial =
        matches!((letters.next(), letters.next()), (Some(c), None) if c.is_uppercase());
    if is_initial {
        return false;
    }
    let dotted = word.contains('.')
        && word
            .split('.')
            .all(|p| p.chars().count() == 1 && p.chars().all(char::is_alphabetic));
    if dotted || lower == "etc" {
        let next_word: String = chars[k..]
            .iter()
            .map(|(_, c)| *c)
            .take_while(|c| c.is_alphanumeric())
            .collect();
        return SENTENCE_STARTERS.contains(&next_word.as_str());
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(t: &str) -> Vec<String> {
        segment(t).into_iter().map(|s| s.text).collect()
    }

    #[test]
    fn offsets_are_code_points_into_the_text() {
        let t = "Kim’s envoy left. Talks — again — stalled.";
        for s in segment(t) {
            let by_chars: String = t.chars().skip(s.start).take(s.end - s.start).collect();
            assert_eq!(by_chars, s.text);
        }
        assert_eq!(
            texts(t),
            vec!["Kim’s envoy left.", "Talks — again — stalled."]
        );
    }

    #[test]
    fn abbreviations_and_initials_do_not_split() {
        assert_eq!(
            texts("Mr. Kim met Gen. Smith and Donald J. Trump in Washington. They talked."),
            vec![
                "Mr. Kim met Gen. Smith and Donald J. Trump in Washington.",
                "They talked."
            ]
        );
    }

    #[test]
    fn us_splits_only_before_a_sentence_start() {
        assert_eq!(
            texts("The U.S. Congress objected. Talks with the U.S. The next day, nothing."),
            vec![
                "The U.S. Congress objected.",
                "Talks with the U.S.",
                "The next day, nothing."
            ]
        );
    }

    #[test]
    fn quotes_close_sentences_and_questions_inside_quotes_do_not() {
        assert_eq!(
            texts("He said “talks are dead.” Then he left. “Are they?” she asked. Yes."),
            vec![
                "He said “talks are dead.”",
                "Then he left.",
                "“Are they?” she asked.",
                "Yes."
            ]
        );
        assert_eq!(
            texts("KCNA said that “policy and feelings must be distinguished”. At its meeting, it hardened."),
            vec![
                "KCNA said that “policy and feelings must be distinguished”.",
                "At its meeting, it hardened."
            ]
        );
    }

    #[test]
    fn paragraph_breaks_end_sentences_and_numbers_stay_whole() {
        assert_eq!(
            texts("A title without stop\n\nGrowth was 3.5 per cent. Next"),
            vec!["A title without stop", "Growth was 3.5 per cent.", "Next"]
        );
    }

    #[test]
    fn empty_text_has_no_sentences() {
        assert!(segment("  \n\n ").is_empty());
    }
}
