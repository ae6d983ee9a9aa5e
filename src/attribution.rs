//! Holder attribution: whose position a stance-bearing sentence states —
//! the author's, or that of one of the article's actors.
//!
//! Rules over words and the article's actor mentions (no parser): an actor
//! is the holder when it is the subject of a speech, cognition or stance
//! verb ("Colby, who advocated…", "Trump boasted…", "…, said Biegun"),
//! follows "according to", is described as "a supporter / critic of…", or
//! owns a position at the start of the sentence ("Moon's government
//! argues…"), or opens it ("For Moon, …"). A sentence-initial "he", "she"
//! or "it" before such a verb stands for the nearest earlier actor of a
//! fitting type. The author's verdict on a view ("Trump is right that…")
//! and everything else is the author's. Measured on the holder labels of
//! the domain splits (`docs/method.md`).

use crate::article::{Entity, Sentence};
use crate::ner::annotate::words;

/// The holder id for the author's own position.
pub const AUTHOR: &str = "author";

/// Verbs whose subject holds the stance the sentence states. Plain word
/// forms, so "said" matches but "unsaid" does not.
const VERBS: &[&str] = &[
    "said",
    "says",
    "told",
    "tells",
    "argued",
    "argues",
    "argue",
    "insisted",
    "insists",
    "warned",
    "warns",
    "believes",
    "believed",
    "wants",
    "wanted",
    "urged",
    "urges",
    "urging",
    "proposed",
    "proposes",
    "offered",
    "offers",
    "rejected",
    "rejects",
    "refused",
    "refuses",
    "welcomed",
    "welcomes",
    "stated",
    "declared",
    "declares",
    "announced",
    "boasted",
    "emphasised",
    "emphasized",
    "maintained",
    "maintains",
    "claimed",
    "claims",
    "hopes",
    "hoped",
    "expects",
    "signalled",
    "signaled",
    "pledged",
    "vowed",
    "demanded",
    "demands",
    "dismissed",
    "dismisses",
    "threatened",
    "accused",
    "praised",
    "praises",
    "criticised",
    "criticized",
    "supports",
    "supported",
    "opposes",
    "opposed",
    "favours",
    "favors",
    "advocated",
    "advocates",
    "sought",
    "seeks",
    "pushed",
    "pushing",
    "agreed",
    "accepted",
    "adopted",
    "ignored",
    "declined",
    "endorsed",
    "described",
    "replied",
    "added",
    "wrote",
    "suggested",
    "suggesting",
    "pressing",
    "blamed",
    "ridiculed",
    "thinks",
    "doubts",
    "doubted",
    "fears",
    "feared",
    "worried",
    "worries",
    "questioned",
    "reiterated",
    "stressed",
    "noted",
    "concluded",
    "spoke",
    "prefers",
    "preferred",
    "disclosed",
    "advised",
    "replies",
    "points",
    "counters",
    "countered",
    "cautioned",
    "cautions",
    "conceded",
    "concedes",
    "acknowledged",
    "admitted",
    "predicted",
    "predicts",
    "contends",
    "contended",
    "asserted",
    "asserts",
    "explained",
    "explains",
    "writes",
    "notes",
    "tweeted",
    "hinted",
    "promised",
    "reaffirmed",
    "denied",
    "denies",
    "derided",
    "mocked",
    "lamented",
    "complained",
    "warn",
    "counter",
    "fear",
    "insist",
    "believe",
    "say",
    "urge",
    "backs",
    "backed",
];

/// Verbs that may come right before the holder ("…," said Kim).
const INVERTED: &[&str] = &[
    "said", "says", "argues", "argued", "added", "wrote", "told", "insisted",
];

/// Nouns that make the nearest person before them a holder ("Grenell, …
/// a supporter of dialogue").
const ROLES: &[&str] = &[
    "supporter",
    "advocate",
    "proponent",
    "champion",
    "critic",
    "opponent",
    "sceptic",
    "skeptic",
];

/// Nouns that make a sentence-initial possessor the holder ("Moon's
/// government argues", "Pyongyang's reply").
const OWNED: &[&str] = &[
    "government",
    "reply",
    "response",
    "position",
    "policy",
    "offer",
    "proposal",
    "memoir",
    "statement",
    "calculation",
    "ambiguity",
    "stance",
    "approach",
    "view",
    "message",
    "state",
    "administration",
    "insistence",
    "demand",
    "call",
    "push",
    "spokesman",
    "spokeswoman",
    "speech",
    "remarks",
    "comments",
    "letter",
    "words",
    "testimony",
    "tweet",
    "tweets",
    "plan",
    "strategy",
    "doctrine",
    "initiative",
    "ministry",
    "delegation",
    "diplomats",
    "officials",
    "negotiators",
];

/// Words after "it is" that make "it" a dummy subject ("it is time…").
const DUMMY_IT: &[&str] = &[
    "time",
    "hard",
    "easy",
    "difficult",
    "possible",
    "impossible",
    "likely",
    "unlikely",
    "clear",
    "true",
    "worth",
    "quite",
    "not",
    "against",
    "tempting",
    "striking",
    "telling",
    "important",
    "no",
    "also",
    "too",
    "in",
    "only",
    "one",
    "a",
    "the",
];

/// Words that, after "is"/"was", make the sentence the author's verdict on
/// someone's view ("Trump is right that…"): the author holds the stance.
const VERDICTS: &[&str] = &[
    "right",
    "wrong",
    "correct",
    "mistaken",
    "naive",
    "misguided",
    "justified",
];

/// Words a sentence may start with before its subject.
const OPENERS: &[&str] = &[
    "but", "and", "yet", "still", "so", "now", "however", "instead",
];

/// Furthest a verb may be from its subject, in words.
const WINDOW: usize = 8;

#[derive(Debug, Clone)]
struct Mention {
    /// Word range in the sentence.
    start: usize,
    end: usize,
    actor: String,
    kind: String,
}

/// Set `holder` on every stance of every sentence whose label is not
/// `none`. `entities` are the article's, in text order, linked to actors.
pub fn attribute(sentences: &mut [Sentence], entities: &[Entity]) {
    // The latest actor of each kind mentioned so far, for pronouns.
    let mut last_person: Option<String> = None;
    let mut last_body: Option<String> = None;
    for sentence in sentences.iter_mut() {
        let (holder, mentions) = holder_of(sentence, entities, &last_person, &last_body);
        for m in &mentions {
            match m.kind.as_str() {
                "PER" => last_person = Some(m.actor.clone()),
                "GPE" | "ORG" => last_body = Some(m.actor.clone()),
                _ => {}
            }
        }

        for stance in sentence.stance.values_mut() {
            stance.holder = (stance.label != "none").then(|| holder.clone());
        }
    }
}

fn holder_of(
    sentence: &Sentence,
    entities: &[Entity],
    last_person: &Option<String>,
    last_body: &Option<String>,
) -> (String, Vec<Mention>) {
    let spans = words(&sentence.text);
    let chars: Vec<char> = sentence.text.chars().collect();
    let toks: Vec<String> = spans
        .iter()
        .map(|&(a, b)| chars[a..b].iter().collect::<String>().to_lowercase())
        .collect();
    let word_at = |offset: usize| spans.iter().position(|&(a, b)| a <= offset && offset < b);
    let mut mentions: Vec<Mention> = entities
        .iter()
        .filter(|e| e.start >= sentence.start && e.end <= sentence.end)
        .filter_map(|e| {
            let actor = e.actor.clone()?;
            let start = word_at(e.start - sentence.start)?;
            let end = word_at(e.end - sentence.start - 1)? + 1;
            Some(Mention {
                start,
                end,
                actor,
                kind: e.kind.clone(),
            })
        })
        .collect();
    // A sentence-initial pronoun stands for the latest fitting actor.
    let first = first_word(&toks).unwrap_or(0);
    // The latest fitting actor a pronoun stands for.
    let stands_for = |t: &str| match t {
        "he" | "she" => last_person.clone().map(|a| (a, "PER")),
        "it" => last_body.clone().map(|a| (a, "GPE")),
        _ => None,
    };
    // "It is time…", "It is hard to imagine…": a dummy subject, no one's view.
    let dummy = |i: usize| {
        toks.get(i).is_some_and(|t| t == "it")
            && toks
                .get(i + 1)
                .is_some_and(|t| ["is", "was", "’s", "'s"].contains(&t.as_str()))
            && toks
                .get(i + 2)
                .is_some_and(|t| DUMMY_IT.contains(&t.as_str()))
    };
    let pronoun = toks
        .get(first)
        .filter(|_| !dummy(first))
        .and_then(|t| stands_for(t));
    let mut candidates = mentions.clone();
    // A pronoun right before a stance verb later in the sentence ("Not only
    // did it not report…, it emphasised…") stands for the same actors.
    for (i, t) in toks.iter().enumerate().skip(first + 1) {
        if let Some((actor, kind)) = stands_for(t) {
            if toks.get(i + 1).is_some_and(|n| VERBS.contains(&n.as_str())) {
                candidates.push(Mention {
                    start: i,
                    end: i + 1,
                    actor,
                    kind: kind.to_string(),
                });
            }
        }
    }
    if let Some((actor, kind)) = pronoun {
        candidates.insert(
            0,
            Mention {
                start: first,
                end: first + 1,
                actor,
                kind: kind.to_string(),
            },
        );
    }
    let caps: Vec<bool> = spans
        .iter()
        .map(|&(a, _)| chars[a].is_uppercase())
        .collect();
    let holder = find_holder(&toks, &caps, &candidates).unwrap_or_else(|| AUTHOR.to_string());
    mentions.sort_by_key(|m| m.start);
    (holder, mentions)
}

fn find_holder(toks: &[String], caps: &[bool], mentions: &[Mention]) -> Option<String> {
    let is = |i: usize, words: &[&str]| toks.get(i).is_some_and(|t| words.contains(&t.as_str()));
    // The author judging a view ("Trump is right that…", "his instinct was
    // right", "he has a point") holds the stance (annotation guide §2.3, 6),
    // unless the verdict is itself reported ("Bolton argues … he was right").
    let verdict = (1..toks.len()).find(|&i| {
        (is(i - 1, &["is", "was", "are", "were"]) && is(i, VERDICTS))
            || (is(i - 1, &["has", "had"]) && is(i, &["a"]) && is(i + 1, &["point"]))
    });
    if verdict.is_some_and(|i| !(0..i).any(|j| is(j, VERBS) && !nominal(toks, j))) {
        return None;
    }
    // "according to X"
    for m in mentions {
        if m.start >= 2 && toks[m.start - 2] == "according" && toks[m.start - 1] == "to" {
            return Some(m.actor.clone());
        }
    }
    // "For Moon, the announcement vindicates…", "To critics such as X, the
    // summit was…": an opening "for/to X," frames what follows as X's view.
    if let Some(first) = first_word(toks) {
        if is(first, &["for", "to"]) {
            if let Some(m) = mentions
                .iter()
                .filter(|m| m.start > first && m.start <= first + 4)
                .min_by_key(|m| m.start)
            {
                if is(m.end, &[","]) && !toks[first + 1..m.start].iter().any(|t| t == ",") {
                    return Some(m.actor.clone());
                }
            }
        }
    }
    // “…,” X (, a former official,) said: the first mention after a
    // quotation that opens the sentence.
    if is(0, &["“", "\"", "‘"]) {
        if let Some(close) = toks.iter().position(|t| t == "”" || t == "’") {
            if let Some(m) = mentions
                .iter()
                .filter(|m| m.start > close && m.start <= close + 2)
                .min_by_key(|m| m.start)
            {
                return Some(m.actor.clone());
            }
        }
    }
    // "…," said X
    for m in mentions {
        if m.start >= 1 && is(m.start - 1, INVERTED) {
            return Some(m.actor.clone());
        }
    }
    // X's government argues… (at the start of the sentence)
    for m in mentions.iter().filter(|m| m.start <= 3) {
        if is(m.end, &["'s", "’s", "'", "’"]) && (1..=2).any(|k| is(m.end + k, OWNED)) {
            return Some(m.actor.clone());
        }
    }
    // "… Grenell …, a supporter of dialogue"
    for (r, _) in toks.iter().enumerate().filter(|(r, _)| is(*r, ROLES)) {
        if let Some(m) = mentions
            .iter()
            .filter(|m| m.end <= r && m.kind == "PER")
            .max_by_key(|m| m.end)
        {
            return Some(m.actor.clone());
        }
    }
    // The subject of the main clause: "Pyongyang is employing…", "Bolton,
    // who sat at the table, has never hidden…", "In July, KCNA said…".
    if let Some(m) = subject(toks, caps, mentions) {
        return Some(m.actor.clone());
    }
    // X (, who …) said / advocated / welcomed …: the nearest mention before
    // the first fitting verb, with no other mention in between.
    for (v, _) in toks
        .iter()
        .enumerate()
        .filter(|(v, _)| is(*v, VERBS) && !nominal(toks, *v))
    {
        let before = mentions
            .iter()
            .filter(|m| m.end <= v && v - m.end <= WINDOW)
            .max_by_key(|m| m.end);
        if let Some(m) = before {
            // A mention right after a preposition is an object, not a subject
            // ("talks with North Korea have stalled").
            let object = m.start > 0
                && is(
                    m.start - 1,
                    &[
                        "with", "to", "on", "against", "toward", "towards", "of", "for", "about",
                    ],
                );
            if !object {
                return Some(m.actor.clone());
            }
        }
    }
    None
}

/// The first word after the sentence's openers ("But", "Still", commas).
fn first_word(toks: &[String]) -> Option<usize> {
    toks.iter()
        .position(|t| !OPENERS.contains(&t.as_str()) && t != ",")
}

/// A verb form used as a noun, an infinitive or a passive ("for fear of",
/// "something to fear", "has been mocked"): its subject holds no stance.
fn nominal(toks: &[String], i: usize) -> bool {
    // "continues to urge", "went on to say": the infinitive is the verb.
    let catenative = i > 1 && toks[i - 1] == "to" && CATENATIVE.contains(&toks[i - 2].as_str());
    i > 0
        && !catenative
        && [
            "to", "for", "of", "the", "a", "an", "his", "her", "their", "its", "our", "whose",
            "been", "be", "being",
        ]
        .contains(&toks[i - 1].as_str())
}

/// Verbs whose infinitive complement is the clause's real verb.
const CATENATIVE: &[&str] = &[
    "continues",
    "continued",
    "continue",
    "began",
    "begins",
    "seems",
    "seemed",
    "appears",
    "appeared",
    "tends",
    "tended",
    "on",
];

/// Words that may follow a clause's subject: auxiliaries and the stance verbs.
const AFTER_SUBJECT: &[&str] = &[
    "is",
    "was",
    "are",
    "were",
    "has",
    "had",
    "have",
    "can",
    "did",
    "does",
    "do",
    "also",
    "then",
    "now",
    "still",
    "itself",
    "himself",
    "herself",
    "again",
    "already",
    "never",
    "always",
    "long",
    "so",
    "continues",
    "continued",
    "remains",
    "remained",
    "seems",
    "seemed",
];

/// Capitalised sentence openers that are not part of a title.
const FUNCTION: &[&str] = &[
    "if", "what", "with", "when", "while", "although", "though", "because", "as", "for", "to",
    "in", "at", "on", "after", "before", "since", "by", "from", "the", "a", "an", "unless",
    "whether", "once", "until", "without", "under", "over", "despite",
];

/// Words that open an introductory phrase ending in a comma before the subject.
const INTRO: &[&str] = &[
    "in",
    "at",
    "on",
    "after",
    "before",
    "during",
    "earlier",
    "last",
    "since",
    "speaking",
    "when",
    "while",
    "finally",
    "meanwhile",
    "later",
    "this",
    "for",
    "with",
    "today",
];

/// The mention that is the subject of the sentence's main clause, if one is.
fn subject<'m>(toks: &[String], caps: &[bool], mentions: &'m [Mention]) -> Option<&'m Mention> {
    let first = first_word(toks)?;
    // Capitalised words before a name are its title ("National Security
    // Adviser John Bolton").
    let titled = |m: &Mention| {
        m.start > first
            && !FUNCTION.contains(&toks[first].as_str())
            && caps[first..m.start].iter().all(|c| *c)
    };
    let at_start = |m: &Mention| {
        m.start == first
            || titled(m)
            || (m.start > first + 1
                && toks[m.start - 1] == ","
                && INTRO.contains(&toks[first].as_str())
                && !toks[first..m.start - 1].iter().any(|t| t == ","))
    };
    let mut m = mentions
        .iter()
        .filter(|m| at_start(m))
        .min_by_key(|m| m.start)?;
    // "South Korea's Moon Jae-in …": the possessed name is the subject.
    if toks
        .get(m.end)
        .is_some_and(|t| ["'s", "’s"].contains(&t.as_str()))
    {
        if let Some(owned) = mentions.iter().find(|o| o.start == m.end + 1) {
            m = owned;
        }
    }
    // Skip an appositive or relative clause set off by commas.
    let mut next = m.end;
    if toks.get(next).is_some_and(|t| t == ",") {
        next = next + 1 + toks[next + 1..].iter().position(|t| t == ",")? + 1;
    }
    let t = toks.get(next)?.as_str();
    (AFTER_SUBJECT.contains(&t) || VERBS.contains(&t)).then_some(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::article::SentenceStance;
    use std::collections::BTreeMap;

    /// A sentence with one stance-bearing target, and entities found by
    /// searching for each (text, actor, kind).
    fn case(text: &str, ents: &[(&str, &str, &str)]) -> (Sentence, Vec<Entity>) {
        let mut s = Sentence::new(0, text.chars().count(), text.into());
        s.stance.insert(
            "t".into(),
            SentenceStance {
                label: "favor".into(),
                probs: BTreeMap::new(),
                holder: None,
            },
        );
        let mut es = Vec::new();
        for (needle, actor, kind) in ents {
            let byte = text.find(needle).expect("needle in text");
            let start = text[..byte].chars().count();
            es.push(Entity {
                text: needle.to_string(),
                kind: kind.to_string(),
                start,
                end: start + needle.chars().count(),
                score: 1.0,
                actor: Some(actor.to_string()),
            });
        }
        (s, es)
    }

    fn holder(text: &str, ents: &[(&str, &str, &str)]) -> String {
        let (s, es) = case(text, ents);
        let mut ss = vec![s];
        attribute(&mut ss, &es);
        ss[0].stance["t"].holder.clone().unwrap()
    }

    /// The holder of `text` (which mentions no actor) read after `prev`.
    fn holder_after(prev: &str, ents: &[(&str, &str, &str)], text: &str) -> String {
        let (a, es) = case(prev, ents);
        let (mut b, _) = case(text, &[]);
        b.start = a.end + 1;
        b.end = b.start + b.text.chars().count();
        let mut ss = vec![a, b];
        attribute(&mut ss, &es);
        ss[1].stance["t"].holder.clone().unwrap()
    }

    #[test]
    fn speech_and_relative_clauses() {
        assert_eq!(
            holder(
                "Elbridge Colby, who advocated for an arms control deal with North Korea, has been named.",
                &[("Elbridge Colby", "colby", "PER"), ("North Korea", "nk", "GPE")]
            ),
            "colby"
        );
        assert_eq!(
            holder(
                "“The outline of a deal is there,” said Ines Marchetti, a former inspector.",
                &[("Ines Marchetti", "marchetti", "PER")]
            ),
            "marchetti"
        );
        assert_eq!(
            holder(
                "Moon Jae-in’s government argues that talking is better.",
                &[("Moon Jae-in", "moon", "PER")]
            ),
            "moon"
        );
        assert_eq!(
            holder(
                "South Korea’s Moon Jae-in, elected in May on a platform of engagement, has said repeatedly that talks must come first.",
                &[("South Korea", "sk", "GPE"), ("Moon Jae-in", "moon", "PER")]
            ),
            "moon",
            "a possessed name is the subject, not its possessor"
        );
        assert_eq!(
            holder(
                "Moon Jae-in, whose brokering made the summits possible, continues to urge Washington to return to the table.",
                &[("Moon Jae-in", "moon", "PER"), ("Washington", "us", "GPE")]
            ),
            "moon",
            "an infinitive after 'continues' is the clause's verb"
        );
    }

    #[test]
    fn an_opening_for_or_to_frames_the_view() {
        assert_eq!(
            holder(
                "For Moon Jae-in, the announcement vindicates a strategy of engagement.",
                &[("Moon Jae-in", "moon", "PER")]
            ),
            "moon"
        );
        assert_eq!(
            holder(
                "To critics such as Lorna Whitcombe, a former analyst, the summit was theatre.",
                &[("Lorna Whitcombe", "whitcombe", "PER")]
            ),
            "whitcombe"
        );
        // A time phrase is not a view: the sentence stays the author's.
        assert_eq!(
            holder(
                "For years, talks with North Korea went nowhere.",
                &[("North Korea", "nk", "GPE")]
            ),
            AUTHOR
        );
        assert_eq!(
            holder_after(
                "Gregory Vance is unconvinced.",
                &[("Gregory Vance", "vance", "PER")],
                "He points out that earlier agreements foundered on verification."
            ),
            "vance"
        );
    }

    #[test]
    fn verdicts_and_dummy_subjects_are_the_authors() {
        assert_eq!(
            holder(
                "Trump’s instinct on this occasion was right, even if his manner was not.",
                &[("Trump", "trump", "PER")]
            ),
            AUTHOR
        );
        assert_eq!(
            holder(
                "John Bolton argues in a memoir that he was right to steer Trump away from a deal.",
                &[("John Bolton", "bolton", "PER"), ("Trump", "trump", "PER")]
            ),
            "bolton",
            "a reported verdict is the speaker's"
        );
        assert_eq!(
            holder(
                "Talks can wait until Pyongyang has something to fear from their absence.",
                &[("Pyongyang", "nk", "GPE")]
            ),
            AUTHOR,
            "an infinitive is not a stance verb"
        );
        assert_eq!(
            holder(
                "Trump’s diplomacy has been mocked, but on this occasion it bought something.",
                &[("Trump", "trump", "PER")]
            ),
            AUTHOR,
            "the subject of a passive is not its agent"
        );
        assert_eq!(
            holder(
                "Trump is right that this reduces the North’s incentive to concede.",
                &[("Trump", "trump", "PER")]
            ),
            AUTHOR
        );
        assert_eq!(
            holder_after(
                "Pyongyang spoke first.",
                &[("Pyongyang", "nk", "GPE")],
                "It is time to take it at its word."
            ),
            AUTHOR
        );
        assert_eq!(
            holder_after(
                "Pyongyang spoke first.",
                &[("Pyongyang", "nk", "GPE")],
                "It insisted that the arsenal was not for sale."
            ),
            "nk",
            "a real pronoun still stands for the actor"
        );
    }

    #[test]
    fn objects_and_plain_analysis_are_the_authors() {
        assert_eq!(
            holder(
                "A deal with North Korea would be worth having.",
                &[("North Korea", "nk", "GPE")]
            ),
            AUTHOR
        );
        assert_eq!(
            holder(
                "Talks with North Korea said little about sanctions.",
                &[("North Korea", "nk", "GPE")]
            ),
            AUTHOR
        );
    }

    #[test]
    fn supporters_and_pronouns() {
        assert_eq!(
            holder(
                "Trump designated Richard Grenell as envoy, a supporter of dialogue with Pyongyang.",
                &[
                    ("Trump", "trump", "PER"),
                    ("Richard Grenell", "grenell", "PER"),
                    ("Pyongyang", "nk", "GPE")
                ]
            ),
            "grenell"
        );
        assert_eq!(
            holder_after(
                "Kim Yo-jong spoke first.",
                &[("Kim Yo-jong", "kyj", "PER")],
                "She said a summit was unlikely."
            ),
            "kyj"
        );
    }

    #[test]
    fn no_holder_without_a_stance() {
        let (mut s, es) = case("Trump said so.", &[("Trump", "trump", "PER")]);
        s.stance.get_mut("t").unwrap().label = "none".into();
        let mut ss = vec![s];
        attribute(&mut ss, &es);
        assert_eq!(ss[0].stance["t"].holder, None);
    }
}
