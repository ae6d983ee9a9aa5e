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
            version: crate::model::run_version(&config),
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

    /// The model's own spans for each text, before any clean-up: words
    /// cut as in training, each word labelled by its first piece, spans
    /// decoded leniently. Offsets are code points into each text.
    pub fn model_spans(&self, texts: &[&str]) -> crate::model::Result<Vec<Vec<ModelSpan>>> {
        let model = self.model()?;
        let mut all_words = Vec::with_capacity(texts.len());
        let mut word_strings = Vec::with_capacity(texts.len());
        for text in texts {
            let chars: Vec<char> = text.chars().collect();
            let ws = words(text);
            word_strings.push(
                ws.iter()
                    .map(|&(a, b)| chars[a..b].iter().collect::<String>())
                    .collect::<Vec<_>>(),
            );
            all_words.push(ws);
        }
        let tags = super::train::predict_words(model, &word_strings, self.batch_size);
        Ok(tags
            .iter()
            .zip(&all_words)
            .zip(&word_strings)
            .map(|((tags, ws), strings)| {
                let plain: Vec<Tag> = tags.iter().map(|(t, _)| *t).collect();
                spans(&plain)
                    .into_iter()
                    .map(|span| ModelSpan {
                        kind: span.ty.as_str(),
                        start: ws[span.start].0,
                        end: ws[span.end - 1].1,
                        words: strings[span.start..span.end].to_vec(),
                        word_starts: ws[span.start..span.end].iter().map(|w| w.0).collect(),
                        word_ends: ws[span.start..span.end].iter().map(|w| w.1).collect(),
                        word_scores: tags[span.start..span.end].iter().map(|(_, p)| *p).collect(),
                    })
                    .collect()
            })
            .collect())
    }

    /// The model's spans decoded piece by piece, as Hugging Face's
    /// token-classification pipeline does with aggregation "simple": each
    /// word piece takes its own label, so a span can start or end inside a
    /// word. Only to compare with that pipeline (`make bench`); `run` reads
    /// each word's first piece ([`Self::model_spans`]).
    pub fn model_spans_by_piece(
        &self,
        texts: &[&str],
    ) -> crate::model::Result<Vec<Vec<ModelSpan>>> {
        let model = self.model()?;
        // Per sentence: its pieces, and per piece its text range.
        let mut pieces = Vec::with_capacity(texts.len());
        let mut ranges: Vec<Vec<(usize, usize)>> = Vec::with_capacity(texts.len());
        let mut texts_chars: Vec<Vec<char>> = Vec::with_capacity(texts.len());
        for text in texts {
            let chars: Vec<char> = text.chars().collect();
            let ws = words(text);
            let strings: Vec<String> = ws
                .iter()
                .map(|&(a, b)| chars[a..b].iter().collect())
                .collect();
            let (p, offsets) = model.pieces_with_offsets(&strings);
            ranges.push(
                p.words
                    .iter()
                    .zip(&offsets)
                    .map(|(w, &(a, b))| {
                        let start = w.map_or(0, |w| ws[w].0);
                        (start + a, start + b)
                    })
                    .collect(),
            );
            pieces.push(p);
            texts_chars.push(chars);
        }
        let tags: Vec<Vec<(Tag, f32)>> =
            super::train::predict_sentence_pieces(model, &pieces, self.batch_size)
                .iter()
                .map(|probs| {
                    probs
                        .iter()
                        .map(|p| {
                            let best = crate::metrics::argmax(p);
                            (super::model::index_tag(best), p[best])
                        })
                        .collect()
                })
                .collect();
        Ok(tags
            .iter()
            .zip(&ranges)
            .zip(&texts_chars)
            .map(|((tags, ranges), chars)| {
                let plain: Vec<Tag> = tags.iter().map(|(t, _)| *t).collect();
                spans(&plain)
                    .into_iter()
                    .map(|span| {
                        let (start, end) = (ranges[span.start].0, ranges[span.end - 1].1);
                        ModelSpan {
                            kind: span.ty.as_str(),
                            start,
                            end,
                            words: vec![chars[start..end].iter().collect()],
                            word_starts: vec![start],
                            word_ends: vec![end],
                            word_scores: tags[span.start..span.end]
                                .iter()
                                .map(|(_, p)| *p)
                                .collect(),
                        }
                    })
                    .collect()
            })
            .collect())
    }

    /// Entity mentions in `sentences` (offsets into the article text, in
    /// text order), all sentences in one batched call. The model's spans
    /// lose punctuation at their edges ("-Kim" in "Trump-Kim" is not part of
    /// a name), and spans with no capital letter or digit are dropped.
    pub fn annotate(&self, sentences: &[Sentence]) -> crate::model::Result<Vec<Entity>> {
        let texts: Vec<&str> = sentences.iter().map(|s| s.text.as_str()).collect();
        let spans = self.model_spans(&texts)?;
        let mut out = Vec::new();
        for (sentence, spans) in sentences.iter().zip(spans) {
            let chars: Vec<char> = sentence.text.chars().collect();
            for span in spans {
                let is_punct = |w: &String| !w.chars().any(char::is_alphanumeric);
                let (Some(first), Some(last)) = (
                    span.words.iter().position(|w| !is_punct(w)),
                    span.words.iter().rposition(|w| !is_punct(w)),
                ) else {
                    continue;
                };
                let (a, b) = (span.word_starts[first], span.word_ends[last]);
                let text: String = chars[a..b].iter().collect();
                if !text.chars().any(|c| c.is_uppercase() || c.is_ascii_digit()) {
                    continue;
                }
                out.push(Entity {
                    text,
                    kind: span.kind.to_string(),
                    start: sentence.start + a,
                    end: sentence.start + b,
                    score: span.word_scores[first..=last].iter().sum::<f32>()
                        / (last + 1 - first) as f32,
                    actor: None,
                });
            }
        }
        Ok(out)
    }
}

/// One entity span as the model found it (see [`NerAnnotator::model_spans`]).
#[derive(Debug, Clone, PartialEq)]
pub struct ModelSpan {
    pub kind: &'static str,
    /// Code-point offsets into the text, end exclusive.
    pub start: usize,
    pub end: usize,
    /// The span's words and their offsets.
    pub words: Vec<String>,
    pub word_starts: Vec<usize>,
    pub word_ends: Vec<usize>,
    /// The probability of each word's label.
    pub word_scores: Vec<f32>,
}

impl ModelSpan {
    /// Mean probability of the words' labels.
    pub fn score(&self) -> f32 {
        self.word_scores.iter().sum::<f32>() / self.word_scores.len() as f32
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
