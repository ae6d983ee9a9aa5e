//! From word-level IOB2 labels to entity spans, and span-level scoring
//! (exact match of boundaries and type, micro and per type).

use super::conll::{EntityType, Tag};
use serde::Serialize;
use std::collections::BTreeMap;

/// An entity over words `start..end` (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct WordSpan {
    pub start: usize,
    pub end: usize,
    pub ty: EntityType,
}

/// Spans of a tag sequence. An `I-X` that does not continue an `X` entity
/// starts one (lenient decoding, as for model output).
pub fn spans(tags: &[Tag]) -> Vec<WordSpan> {
    let mut out: Vec<WordSpan> = Vec::new();
    let mut open: Option<WordSpan> = None;
    for (i, tag) in tags.iter().enumerate() {
        match *tag {
            Tag::O => {
                out.extend(open.take());
            }
            Tag::B(t) => {
                out.extend(open.take());
                open = Some(WordSpan {
                    start: i,
                    end: i + 1,
                    ty: t,
                });
            }
            Tag::I(t) => match open.as_mut() {
                Some(s) if s.ty == t => s.end = i + 1,
                _ => {
                    out.extend(open.take());
                    open = Some(WordSpan {
                        start: i,
                        end: i + 1,
                        ty: t,
                    });
                }
            },
        }
    }
    out.extend(open);
    out
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Prf {
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub gold: usize,
    pub predicted: usize,
    pub correct: usize,
}

impl Prf {
    fn new(correct: usize, predicted: usize, gold: usize) -> Prf {
        let (precision, recall, f1) = crate::metrics::prf(correct, predicted, gold);
        Prf {
            precision,
            recall,
            f1,
            gold,
            predicted,
            correct,
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SpanReport {
    pub sentences: usize,
    pub micro: Prf,
    pub per_type: BTreeMap<String, Prf>,
}

/// Exact-match span scores over sentences of (gold, predicted) tags.
pub fn score(pairs: &[(Vec<Tag>, Vec<Tag>)]) -> SpanReport {
    let mut counts: BTreeMap<EntityType, (usize, usize, usize)> = BTreeMap::new();
    for (gold, pred) in pairs {
        let g = spans(gold);
        let p = spans(pred);
        for s in &g {
            counts.entry(s.ty).or_default().2 += 1;
        }
        for s in &p {
            let c = counts.entry(s.ty).or_default();
            c.1 += 1;
            if g.contains(s) {
                c.0 += 1;
            }
        }
    }
    let (mut c, mut p, mut g) = (0, 0, 0);
    let mut per_type = BTreeMap::new();
    for (ty, (ci, pi, gi)) in counts {
        c += ci;
        p += pi;
        g += gi;
        per_type.insert(ty.as_str().to_string(), Prf::new(ci, pi, gi));
    }
    SpanReport {
        sentences: pairs.len(),
        micro: Prf::new(c, p, g),
        per_type,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use EntityType::*;

    #[test]
    fn decodes_spans_leniently() {
        let tags = [
            Tag::B(Per),
            Tag::I(Per),
            Tag::O,
            Tag::I(Gpe),
            Tag::B(Gpe),
            Tag::I(Org),
        ];
        assert_eq!(
            spans(&tags),
            vec![
                WordSpan {
                    start: 0,
                    end: 2,
                    ty: Per
                },
                WordSpan {
                    start: 3,
                    end: 4,
                    ty: Gpe
                },
                WordSpan {
                    start: 4,
                    end: 5,
                    ty: Gpe
                },
                WordSpan {
                    start: 5,
                    end: 6,
                    ty: Org
                },
            ]
        );
    }

    #[test]
    fn exact_match_scores() {
        let gold = vec![Tag::B(Per), Tag::I(Per), Tag::O, Tag::B(Gpe)];
        let pred = vec![Tag::B(Per), Tag::O, Tag::O, Tag::B(Gpe)];
        let r = score(&[(gold, pred)]);
        assert_eq!(
            (r.micro.correct, r.micro.predicted, r.micro.gold),
            (1, 2, 2)
        );
        assert_eq!(r.per_type["PER"].f1, 0.0, "a boundary error is an error");
        assert_eq!(r.per_type["GPE"].f1, 1.0);
    }
}
