//! The NER stage of a run: article sentences → entity mentions with
//! character offsets into the article text.
//!
//! Sentences are cut into words the way the CoNLL training sets are
//! (whitespace, with punctuation, quotes and possessives split off but
//! "U.S." and "Jong-un" kept whole), so a word-level prediction never ends
//! an entity mid-word. The backbone is uncased, so the original casing is
//! used afterwards: a predicted span with no capital letter or digit ("us",
//! "the north") is dropped.

use super::conll::Tag;
use super::model::NerModel;
use super::spans::spans;
use crate::article::{Entity, Sentence};
use std::cell::OnceCell;
use std::path::{Path, PathBuf};

/// Lazily loaded NER model plus batching settings.
pub struct NerAnnotator {
    dir: PathBuf,
    version: String,
    model: OnceCell<NerModel>,
    pub batch_size: usize,
}

impl NerAnnotator {
    /// Check the model directory (card, config, labels) without loading weights.
    pub fn open(dir: &Path, batch_size: usize) -> crate::model::Result<Self> {
        let labels = super::model::labels();
        let refs: Vec<&str> = labels.iter().map(String::as_str).collect();
        let (config, _) = crate::model::open_dir(dir, "ner", &refs)?;
        Ok(NerAnnotator {
            dir: dir.to_path_buf(),
            version: config.stancemine.version,
            model: OnceCell::new(),
            batch_size,
        })
    }

    pub fn version(&self) -> &str {
        &self.version
    }

    fn model(&self) -> crate::model::Result<&NerModel> {
        if let Some(m) = self.model.get() {
            return Ok(m);
        }
        let started = std::time::Instant::now();
        let m = NerModel::load(&self.dir)?;
        tracing::info!(
            "NER model {} loaded in {:.1}s",
            m.version(),
            started.elapsed().as_secs_f64()
        );
        Ok(self.model.get_or_init(|| m))
    }

    /// Entity mentions in `sentences` (offsets into the article text, in
    /// text order), all sentences in one batched call.
    pub fn annotate(&self, sentences: &[Sentence]) -> crate::model::Result<Vec<Entity>> {
        let model = self.model()?;
        let words: Vec<Vec<(usize, usize)>> = sentences.iter().map(|s| words(&s.text)).collect();
        let texts: Vec<Vec<char>> = sentences.iter().map(|s| s.text.chars().collect()).collect();
        let word_strings: Vec<Vec<String>> = words
            .iter()
            .zip(&texts)
            .map(|(ws, chars)| {
                ws.iter()
                    .map(|&(a, b)| chars[a..b].iter().collect())
                    .collect()
            })
            .collect();
        let tags = super::train::predict_words(model, &word_strings, self.batch_size);
        let mut out = Vec::new();
        for (si, sentence) in sentences.iter().enumerate() {
            let plain: Vec<Tag> = tags[si].iter().map(|(t, _)| *t).collect();
            for mut span in spans(&plain) {
                // Punctuation at the edges ("-Kim" in "Trump-Kim") is not part of a name.
                let word = |w: usize| &word_strings[si][w];
                let is_punct = |w: &String| !w.chars().any(char::is_alphanumeric);
                while span.start < span.end && is_punct(word(span.start)) {
                    span.start += 1;
                }
                while span.end > span.start && is_punct(word(span.end - 1)) {
                    span.end -= 1;
                }
                if span.start == span.end {
                    continue;
                }
                let (a, _) = words[si][span.start];
                let (_, b) = words[si][span.end - 1];
                let text: String = texts[si][a..b].iter().collect();
                if !text.chars().any(|c| c.is_uppercase() || c.is_ascii_digit()) {
                    continue;
                }
                let score = tags[si][span.start..span.end]
                    .iter()
                    .map(|(_, p)| p)
                    .sum::<f32>()
                    / (span.end - span.start) as f32;
                out.push(Entity {
                    text,
                    kind: span.ty.as_str().to_string(),
                    start: sentence.start + a,
                    end: sentence.start + b,
                    score,
                    actor: None,
                });
            }
        }
        Ok(out)
    }
}

/// Characters split off the front of a word.
const LEADING: &[char] = &['"', '\'', '“', '‘', '(', '[', '{', '«'];
/// Characters split off the end of a word (a final '.' is handled apart).
const TRAILING: &[char] = &[
    ',', ';', ':', '!', '?', '"', '\'', '”', '’', ')', ']', '}', '»', '…',
];
/// Dashes that separate words even without spaces.
const DASHES: &[char] = &['—', '–'];

/// Word boundaries (code-point offsets, end exclusive) of a sentence, cut
/// like the CoNLL training data: "Trump’s" → "Trump" "’s", "(KCNA)." →
/// "(" "KCNA" ")" ".", "US-North Korea" → "US" "-" "North" "Korea", while
/// "U.S.", "Jong-un" and "nuclear-weapon" stay whole.
pub fn words(text: &str) -> Vec<(usize, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() || DASHES.contains(&chars[i]) {
            if DASHES.contains(&chars[i]) {
                out.push((i, i + 1));
            }
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() && !DASHES.contains(&chars[i]) {
            i += 1;
        }
        split_chunk(&chars, start, i, &mut out);
    }
    out
}

fn split_chunk(chars: &[char], mut a: usize, mut b: usize, out: &mut Vec<(usize, usize)>) {
    while a < b && LEADING.contains(&chars[a]) {
        out.push((a, a + 1));
        a += 1;
    }
    let mut tail = Vec::new();
    loop {
        if a < b && TRAILING.contains(&chars[b - 1]) {
            // An apostrophe that ends a possessive plural ("allies'") is kept as its own token too.
            tail.push((b - 1, b));
            b -= 1;
        } else if a < b && chars[b - 1] == '.' && !is_abbreviation(&chars[a..b]) {
            tail.push((b - 1, b));
            b -= 1;
        } else {
            break;
        }
    }
    // Possessive 's.
    if b >= a + 3 && matches!(chars[b - 2], '\'' | '’') && matches!(chars[b - 1], 's' | 'S') {
        tail.push((b - 2, b));
        b -= 2;
    }
    // Hyphens between capitalised parts join separate names ("US-North",
    // "Trump-Kim", "Russia-Ukraine"); others stay inside the word.
    let mut s = a;
    let mut k = a;
    while k < b {
        let c = chars[k];
        if is_hyphen(c) && k > s && k + 1 < b && chars[k + 1].is_uppercase() {
            out.push((s, k));
            out.push((k, k + 1));
            s = k + 1;
        }
        k += 1;
    }
    if s < b {
        out.push((s, b));
    }
    out.extend(tail.into_iter().rev());
}

fn is_hyphen(c: char) -> bool {
    matches!(c, '-' | '‑' | '‐')
}

/// "U.S.", "U.N.", "D.C." and initials ("J.") keep their final period.
fn is_abbreviation(word: &[char]) -> bool {
    let body = &word[..word.len() - 1];
    (body.len() == 1 && body[0].is_uppercase()) || (body.contains(&'.') && body.len() <= 6)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cut(text: &str) -> Vec<String> {
        let chars: Vec<char> = text.chars().collect();
        words(text)
            .into_iter()
            .map(|(a, b)| chars[a..b].iter().collect())
            .collect()
    }

    #[test]
    fn splits_like_conll() {
        assert_eq!(
            cut("Trump’s talks with the U.S. (KCNA) ended."),
            ["Trump", "’s", "talks", "with", "the", "U.S.", "(", "KCNA", ")", "ended", "."]
        );
        assert_eq!(
            cut("the US‑North Korea deal and Kim Jong-un, a nuclear-weapon state"),
            [
                "the",
                "US",
                "‑",
                "North",
                "Korea",
                "deal",
                "and",
                "Kim",
                "Jong-un",
                ",",
                "a",
                "nuclear-weapon",
                "state"
            ]
        );
        assert_eq!(
            cut("“hostile state”—said Seoul."),
            ["“", "hostile", "state", "”", "—", "said", "Seoul", "."]
        );
    }

    #[test]
    fn offsets_are_code_points() {
        let text = "Moon Jae‑in’s “peace”";
        let w = words(text);
        let chars: Vec<char> = text.chars().collect();
        assert_eq!(w[0], (0, 4));
        assert_eq!(chars[w[1].0..w[1].1].iter().collect::<String>(), "Jae‑in");
        assert_eq!(w.last(), Some(&(20, 21)));
    }
}
