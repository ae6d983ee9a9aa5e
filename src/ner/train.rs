//! Training and scoring the NER model with the shared machinery in
//! [`crate::train`].
//!
//! Sub-words: a word's label goes on its first piece, and a word's
//! prediction is its first piece's. The other pieces are not scored, or,
//! with `all_pieces`, trained to continue the word's label (`B-X` → `I-X`,
//! as Hugging Face's examples do), so that decoders reading every piece (its
//! pipeline's aggregation "simple") split fewer words.
//! Long sentences are cut into windows at word boundaries.
//!
//! Missing types: a data set that never annotates, say, NORP tags NORP
//! words `O`. For an `O` word of such a set the loss accepts `O` or any
//! label of a type the set does not annotate (the log of their summed
//! probability), so the model is not taught that those words are not
//! entities.

use super::conll::{Dataset, EntityType, NerSentence, Tag};
use super::model::{index_tag, labels, tag_index, NerModel, Pieces};
use super::spans::{self, SpanReport};
use crate::train::{self, TrainConfig, TrainProgress};
use tch::{Kind, Tensor};

/// One training window: pieces with [CLS]/[SEP] and, per piece, a bit mask
/// of the labels the loss accepts (0: not scored).
pub struct Window {
    pub pieces: Pieces,
    pub allowed: Vec<u16>,
}

/// Cut a sentence's pieces into windows of at most `max_len - 2` pieces,
/// at word boundaries. Returns piece ranges.
pub fn windows(words: &[Option<usize>], max_len: usize) -> Vec<std::ops::Range<usize>> {
    let cap = max_len.saturating_sub(2).max(1);
    let mut out = Vec::new();
    let mut start = 0;
    while start < words.len() {
        let mut end = (start + cap).min(words.len());
        if end < words.len() {
            // Back off to the start of the word cut in two, if that leaves anything.
            let mut e = end;
            while e > start && words[e] == words[e - 1] {
                e -= 1;
            }
            if e > start {
                end = e;
            }
        }
        out.push(start..end);
        start = end;
    }
    out
}

/// Bit mask of the labels the loss accepts for a word tagged `tag` in a set
/// that annotates `labelled`.
pub fn allowed_mask(tag: Tag, labelled: &[EntityType]) -> u16 {
    let mut m = 1u16 << tag_index(tag);
    if tag == Tag::O {
        for t in EntityType::ALL.iter().filter(|t| !labelled.contains(t)) {
            m |= 1 << tag_index(Tag::B(*t));
            m |= 1 << tag_index(Tag::I(*t));
        }
    }
    m
}

/// The label of a word's second and later pieces.
fn continuation(tag: Tag) -> Tag {
    match tag {
        Tag::B(t) | Tag::I(t) => Tag::I(t),
        Tag::O => Tag::O,
    }
}

/// Training windows for a data set.
pub fn prepare(model: &NerModel, ds: &Dataset, all_pieces: bool) -> Vec<Window> {
    let mut out = Vec::new();
    for s in &ds.sentences {
        let p = model.pieces_of_words(&s.tokens);
        for r in windows(&p.words, model.max_length()) {
            let words = &p.words[r.clone()];
            let mut allowed = vec![0u16];
            let mut prev = None;
            for w in words {
                let first = *w != prev;
                prev = *w;
                allowed.push(match (first, w) {
                    (true, Some(w)) => allowed_mask(s.tags[*w], &ds.labelled),
                    (false, Some(w)) if all_pieces => {
                        allowed_mask(continuation(s.tags[*w]), &ds.labelled)
                    }
                    _ => 0,
                });
            }
            allowed.push(0);
            out.push(Window {
                pieces: model.with_specials(&p.ids[r.clone()], words),
                allowed,
            });
        }
    }
    out
}

/// Label probabilities of every piece of each sentence, in order: long
/// sentences run in windows and are joined back; [CLS]/[SEP] are dropped.
pub fn predict_sentence_pieces(
    model: &NerModel,
    sentences: &[Pieces],
    batch_size: usize,
) -> Vec<Vec<Vec<f32>>> {
    let mut seqs = Vec::new();
    let mut owner = Vec::new();
    for (si, p) in sentences.iter().enumerate() {
        for r in windows(&p.words, model.max_length()) {
            seqs.push(model.with_specials(&p.ids[r.clone()], &p.words[r]));
            owner.push(si);
        }
    }
    let mut out: Vec<Vec<Vec<f32>>> = vec![Vec::new(); sentences.len()];
    for (mut probs, si) in model
        .predict_pieces(&seqs, batch_size)
        .into_iter()
        .zip(owner)
    {
        probs.pop();
        out[si].extend(probs.into_iter().skip(1));
    }
    out
}

/// Predicted word tags for pre-split sentences: each word's is its first
/// piece's.
pub fn predict_words(
    model: &NerModel,
    sentences: &[Vec<String>],
    batch_size: usize,
) -> Vec<Vec<(Tag, f32)>> {
    let pieces: Vec<Pieces> = sentences.iter().map(|w| model.pieces_of_words(w)).collect();
    let probs = predict_sentence_pieces(model, &pieces, batch_size);
    sentences
        .iter()
        .zip(&pieces)
        .zip(&probs)
        .map(|((words, p), probs)| {
            let mut tags = vec![(Tag::O, 1.0); words.len()];
            let mut prev = None;
            for (w, probs) in p.words.iter().zip(probs) {
                if let Some(w) = w {
                    if Some(*w) != prev {
                        let best = crate::metrics::argmax(probs);
                        tags[*w] = (index_tag(best), probs[best]);
                    }
                }
                prev = *w;
            }
            tags
        })
        .collect()
}

/// Span-level scores on a data set, and the predicted tags.
pub fn evaluate(
    model: &NerModel,
    sentences: &[NerSentence],
    batch_size: usize,
) -> (SpanReport, Vec<Vec<Tag>>) {
    let words: Vec<Vec<String>> = sentences.iter().map(|s| s.tokens.clone()).collect();
    let pred: Vec<Vec<Tag>> = predict_words(model, &words, batch_size)
        .into_iter()
        .map(|v| v.into_iter().map(|(t, _)| t).collect())
        .collect();
    let pairs: Vec<(Vec<Tag>, Vec<Tag>)> = sentences
        .iter()
        .map(|s| s.tags.clone())
        .zip(pred.iter().cloned())
        .collect();
    (spans::score(&pairs), pred)
}

/// Train in place; keeps the epoch with the best dev micro-F1.
pub fn train(
    model: &NerModel,
    data: &[Window],
    dev: Option<&[NerSentence]>,
    cfg: &TrainConfig,
    progress: &mut dyn TrainProgress,
) -> Result<(Vec<f64>, Vec<Option<f64>>), tch::TchError> {
    let mut rng = train::seed_everything(cfg.seed);
    let first = cfg.first_trained_layer;
    let device = model.device();
    let lengths: Vec<usize> = data.iter().map(|w| w.pieces.ids.len()).collect();
    let cached = train::cache_frozen(&model.encoder, &lengths, first, |batch| {
        let items: Vec<&Pieces> = batch.iter().map(|&i| &data[i].pieces).collect();
        model.batch(&items)
    });
    let n_labels = labels().len();
    let mut loss = |batch: &[usize]| -> Tensor {
        let items: Vec<&Tensor> = batch.iter().map(|&i| &cached[i]).collect();
        let (h, mask) = train::pad_hidden(&items, device);
        let logits = model.logits_from(&h, &mask, first, true);
        let len = logits.size()[1] as usize;
        // Unscored pieces and padding allow every label, so their (zero-
        // weighted) log-sums stay finite.
        let mut allowed = vec![1f32; batch.len() * len * n_labels];
        let mut scored = vec![0f32; batch.len() * len];
        for (row, &i) in batch.iter().enumerate() {
            for (t, &m) in data[i].allowed.iter().enumerate() {
                let base = (row * len + t) * n_labels;
                if m != 0 {
                    scored[row * len + t] = 1.0;
                    for (l, a) in allowed[base..base + n_labels].iter_mut().enumerate() {
                        *a = ((m >> l) & 1) as f32;
                    }
                }
            }
        }
        let allowed = Tensor::from_slice(&allowed)
            .view([batch.len() as i64, len as i64, n_labels as i64])
            .to(device);
        let scored = Tensor::from_slice(&scored)
            .view([batch.len() as i64, len as i64])
            .to(device);
        let all = logits.logsumexp([-1i64].as_slice(), false);
        let ok = (&logits + allowed.log()).logsumexp([-1i64].as_slice(), false);
        ((all - ok) * &scored).sum(Kind::Float) / scored.sum(Kind::Float).clamp_min(1.0)
    };
    let mut evaluate = || dev.map(|d| evaluate(model, d, 64).0.micro.f1);
    train::fit(
        &model.vs,
        cfg,
        &lengths,
        &mut rng,
        &mut loss,
        &mut evaluate,
        progress,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_cut_at_word_boundaries() {
        let words: Vec<Option<usize>> = [0, 0, 1, 2, 2, 2, 3].iter().map(|&w| Some(w)).collect();
        let w = windows(&words, 6); // 4 pieces per window
        assert_eq!(w, vec![0..3, 3..7]);
        assert_eq!(windows(&words, 100), vec![0..7]);
    }

    #[test]
    fn o_in_a_set_without_norp_also_accepts_norp() {
        let m = allowed_mask(
            Tag::O,
            &[
                EntityType::Per,
                EntityType::Org,
                EntityType::Gpe,
                EntityType::Loc,
            ],
        );
        assert!(m & (1 << tag_index(Tag::O)) != 0);
        assert!(m & (1 << tag_index(Tag::B(EntityType::Norp))) != 0);
        assert!(m & (1 << tag_index(Tag::B(EntityType::Per))) == 0);
        assert_eq!(
            allowed_mask(Tag::B(EntityType::Per), &[]),
            1 << tag_index(Tag::B(EntityType::Per))
        );
    }

    #[test]
    fn later_pieces_continue_their_word() {
        let per = EntityType::Per;
        assert_eq!(continuation(Tag::B(per)), Tag::I(per));
        assert_eq!(continuation(Tag::I(per)), Tag::I(per));
        assert_eq!(continuation(Tag::O), Tag::O);
    }
}
