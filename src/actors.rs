//! Actors: entity mentions merged into canonical actors.
//!
//! Before them, a mention that is half of a name the table knows is
//! completed from the text around it ("Jae-in" after "Moon" is "Moon
//! Jae-in"): the NER model sometimes tags only part of a Korean name.
//!
//! Two rules, in order:
//! 1. the alias table (`actors.toml`, user-extendable): "Pyongyang", "DPRK"
//!    and "the North" are all North Korea;
//! 2. within one article, a person's surname or given name alone ("Colby",
//!    "Kim") joins the one full name it fits ("Elbridge Colby", "Kim
//!    Jong-un"). Where none or several fit, a table entry that claims the
//!    word as its `short` name takes it ("Kim" is Kim Jong-un unless the
//!    article names only other Kims); otherwise a lone word becomes an actor
//!    of its own and an ambiguous one stays unlinked.
//!
//! Other names of people, organisations and states become actors of their
//! own; nationality words, places, events and other names do only through
//! the table (a "Russian" mention is Russia, a "Korean war" nobody).

use crate::article::{Actor, Entity};
use serde::Deserialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use crate::config::ConfigError;

/// Version of the merging rules below; part of the pipeline fingerprint, so
/// a change re-runs entity linking on stored articles.
pub const RESOLVER_VERSION: &str = "resolve-2";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    name: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    aliases: Vec<String>,
    /// One-word names that mean this actor when the article's full names do
    /// not settle it (house style: "Kim" alone is Kim Jong-un).
    #[serde(default)]
    short: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(rename = "actor", default)]
    actors: Vec<Entry>,
}

/// One canonical actor of the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Canonical {
    pub name: String,
    pub kind: String,
}

/// The alias table: normalised alias → canonical actor.
#[derive(Debug, Clone, Default)]
pub struct ActorTable {
    by_alias: HashMap<String, usize>,
    /// Normalised `short` name → canonical actor.
    by_short: HashMap<String, usize>,
    actors: Vec<Canonical>,
    /// Hash of the table's content, part of the pipeline fingerprint.
    digest: Sha256,
}

const TYPES: [&str; 7] = ["PER", "ORG", "GPE", "LOC", "NORP", "EVENT", "MISC"];

/// Titles dropped from the front of a person's name before lookup.
const TITLES: &[&str] = &[
    "president",
    "chairman",
    "leader",
    "premier",
    "prime minister",
    "minister",
    "foreign minister",
    "secretary",
    "secretary of state",
    "ambassador",
    "envoy",
    "senator",
    "general",
    "gen",
    "dr",
    "mr",
    "mrs",
    "ms",
    "former",
];

impl ActorTable {
    /// Read one or more tables; later files add actors and aliases (an
    /// alias defined again points at the later actor).
    pub fn load(paths: &[PathBuf]) -> Result<ActorTable, ConfigError> {
        let mut table = ActorTable::default();
        for path in paths {
            let raw = crate::config::read(path)?;
            table.add(&raw, path)?;
        }
        Ok(table)
    }

    pub fn parse(raw: &str) -> Result<ActorTable, ConfigError> {
        let mut table = ActorTable::default();
        table.add(raw, Path::new("<actors>"))?;
        Ok(table)
    }

    fn add(&mut self, raw: &str, path: &Path) -> Result<(), ConfigError> {
        let invalid = crate::config::invalid(path);
        let file: File = toml::from_str(raw).map_err(|e| invalid(e.to_string()))?;
        for e in file.actors {
            if e.name.trim().is_empty() {
                return Err(invalid("an actor has an empty name".into()));
            }
            if !TYPES.contains(&e.kind.as_str()) {
                return Err(invalid(format!(
                    "actor {:?}: type {:?} is not one of {}",
                    e.name,
                    e.kind,
                    TYPES.join(", ")
                )));
            }
            let idx = match self.actors.iter().position(|a| a.name == e.name) {
                Some(i) => i,
                None => {
                    self.actors.push(Canonical {
                        name: e.name.clone(),
                        kind: e.kind.clone(),
                    });
                    self.actors.len() - 1
                }
            };
            for alias in std::iter::once(&e.name).chain(&e.aliases) {
                let key = normalize(alias);
                if key.is_empty() {
                    return Err(invalid(format!("actor {:?}: empty alias", e.name)));
                }
                self.by_alias.insert(key, idx);
            }
            for word in &e.short {
                let key = normalize(word);
                if key.is_empty() || key.contains(' ') {
                    return Err(invalid(format!(
                        "actor {:?}: short name {word:?} is not one word",
                        e.name
                    )));
                }
                if self.actors[idx].kind != "PER" {
                    return Err(invalid(format!(
                        "actor {:?}: only people (type PER) have short names",
                        e.name
                    )));
                }
                self.by_short.insert(key, idx);
            }
        }
        self.digest.update(raw.as_bytes());
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.actors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.actors.is_empty()
    }

    /// Short hash of the table, for the pipeline fingerprint.
    pub fn fingerprint(&self) -> String {
        hex::encode(self.digest.clone().finalize())[..12].to_string()
    }

    /// The canonical actor a mention's text names, if the table has it.
    pub fn lookup(&self, text: &str, kind: &str) -> Option<&Canonical> {
        let key = normalize(text);
        if let Some(&i) = self.by_alias.get(&key) {
            return Some(&self.actors[i]);
        }
        if kind == "PER" {
            // "North Korean Chairman Kim Jong-un": the longest known tail.
            let words: Vec<&str> = key.split(' ').collect();
            for k in 1..words.len() {
                let tail = words[k..].join(" ");
                if let Some(&i) = self.by_alias.get(&tail) {
                    if self.actors[i].kind == "PER" {
                        return Some(&self.actors[i]);
                    }
                }
            }
        }
        None
    }

    /// Complete a mention to a name in the table from the word just before
    /// or after it in `text` ("Moon" + "Jae-in", "North" + "Korea"), taking
    /// the table's type: the model sometimes splits a name or tags half of
    /// it. A neighbouring mention that is exactly that word is absorbed; one
    /// the word only partly covers stops the growth. Offsets are code points
    /// into `text`, and mentions are in text order.
    fn complete_names(&self, text: &str, entities: &mut Vec<Entity>) {
        let chars: Vec<char> = text.chars().collect();
        let is_word = |c: char| c.is_alphanumeric() || matches!(c, '-' | '‑' | '‐' | '.');
        let mut i = 0;
        while i < entities.len() {
            let (start, end) = (entities[i].start, entities[i].end);
            if end > chars.len() || start >= end {
                i += 1;
                continue;
            }
            // (span start, span end, the neighbour that is the added word)
            let mut candidates = vec![];
            // The word before: "Moon| Jae-in".
            if start >= 2 && chars[start - 1] == ' ' {
                let mut ws = start - 1;
                while ws > 0 && is_word(chars[ws - 1]) {
                    ws -= 1;
                }
                let prev = i.checked_sub(1).filter(|&p| entities[p].end > ws);
                let whole =
                    prev.is_none_or(|p| (entities[p].start, entities[p].end) == (ws, start - 1));
                if ws < start - 1 && whole {
                    candidates.push((ws, end, prev));
                }
            }
            // The word after: "Moon |Jae-in", a possessive left outside.
            if end + 1 < chars.len() && chars[end] == ' ' {
                let mut we = end + 1;
                while we < chars.len() && is_word(chars[we]) {
                    we += 1;
                }
                let next = Some(i + 1).filter(|&n| n < entities.len() && entities[n].start < we);
                let whole =
                    next.is_none_or(|n| (entities[n].start, entities[n].end) == (end + 1, we));
                if we > end + 1 && whole {
                    candidates.push((start, we, next));
                }
            }
            let mut grown = false;
            for (a, b, neighbour) in candidates {
                let joined: String = chars[a..b].iter().collect();
                let joined = joined.trim_end_matches('.');
                let key = normalize(joined);
                if key == normalize(&entities[i].text) {
                    continue; // "the North": nothing gained
                }
                if let Some(&c) = self.by_alias.get(&key) {
                    let mut score = entities[i].score;
                    if let Some(n) = neighbour {
                        score = score.min(entities.remove(n).score);
                        if n < i {
                            i -= 1;
                        }
                    }
                    let e = &mut entities[i];
                    e.text = joined.to_string();
                    e.start = a;
                    e.end = a + joined.chars().count();
                    e.kind = self.actors[c].kind.clone();
                    e.score = score;
                    grown = true;
                    break;
                }
            }
            // A grown mention may complete further ("North Korean regime").
            if !grown {
                i += 1;
            }
        }
    }

    /// Link each entity to an actor (setting `entity.actor`) and return the
    /// article's actors, most mentioned first. `text` is the article text
    /// the entities' offsets point into.
    pub fn resolve(&self, text: &str, entities: &mut Vec<Entity>) -> Vec<Actor> {
        self.complete_names(text, entities);
        // name → (type, mentions), in first-mention order.
        let mut found: Vec<(String, String, usize)> = Vec::new();
        fn link(found: &mut Vec<(String, String, usize)>, name: &str, kind: &str) -> String {
            match found.iter_mut().find(|f| f.0 == name) {
                Some(f) => f.2 += 1,
                None => found.push((name.to_string(), kind.to_string(), 1)),
            }
            slug(name)
        }
        // Pass 1: the table, and full names of people and organisations.
        let mut short: Vec<usize> = Vec::new();
        for (i, e) in entities.iter_mut().enumerate() {
            if let Some(c) = self.lookup(&e.text, &e.kind) {
                e.actor = Some(link(&mut found, &c.name, &c.kind));
                continue;
            }
            match e.kind.as_str() {
                "PER" => {
                    let name = display_name(&e.text, true);
                    if name.split_whitespace().count() >= 2 {
                        e.actor = Some(link(&mut found, &name, "PER"));
                    } else {
                        short.push(i);
                    }
                }
                "ORG" | "GPE" if self.by_short.contains_key(&normalize(&e.text)) => {
                    // A person's short name the model typed as a body
                    // ("Moon's government" → ORG "Moon"): the table knows better.
                    e.kind = "PER".into();
                    short.push(i);
                }
                "ORG" | "GPE" => {
                    let name = display_name(&e.text, false);
                    e.actor = Some(link(&mut found, &name, &e.kind));
                }
                _ => {}
            }
        }
        // Pass 2: a one-word person mention joins the one full name it fits.
        let people: Vec<String> = found
            .iter()
            .filter(|f| f.1 == "PER")
            .map(|f| f.0.clone())
            .collect();
        for i in short {
            let word = normalize(&display_name(&entities[i].text, true));
            let fits: Vec<&String> = people
                .iter()
                .filter(|p| {
                    normalize(p)
                        .split([' ', '-'])
                        .any(|part| part == word.as_str())
                })
                .collect();
            // The table's claim, if the article's full names allow it.
            let claimed = self
                .by_short
                .get(&word)
                .map(|&c| &self.actors[c].name)
                .filter(|c| fits.is_empty() || fits.contains(c));
            match (fits.as_slice(), claimed) {
                ([one], _) => {
                    let one = (*one).clone();
                    entities[i].actor = Some(link(&mut found, &one, "PER"));
                }
                (_, Some(name)) => {
                    entities[i].actor = Some(link(&mut found, name, "PER"));
                }
                ([], None) => {
                    let name = display_name(&entities[i].text, true);
                    entities[i].actor = Some(link(&mut found, &name, "PER"));
                }
                _ => tracing::debug!("{:?}: ambiguous, left unlinked", entities[i].text),
            }
        }
        let mut actors: Vec<Actor> = found
            .into_iter()
            .map(|(name, kind, mentions)| Actor {
                id: slug(&name),
                name,
                kind,
                mentions,
                stance: BTreeMap::new(),
            })
            .collect();
        // Stable: ties keep first-mention order.
        actors.sort_by_key(|a| std::cmp::Reverse(a.mentions));
        actors
    }
}

/// Lookup key of a name: lower case, one kind of hyphen and apostrophe, no
/// periods, no leading "the", no possessive.
pub fn normalize(text: &str) -> String {
    let mut s: String = text
        .chars()
        .filter(|c| *c != '.')
        .map(|c| match c {
            '‑' | '‐' | '–' => '-',
            '’' | '‘' => '\'',
            c => c,
        })
        .collect::<String>()
        .to_lowercase();
    s = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if let Some(rest) = s.strip_prefix("the ") {
        s = rest.to_string();
    }
    for suffix in ["'s", "'"] {
        if let Some(rest) = s.strip_suffix(suffix) {
            s = rest.to_string();
            break;
        }
    }
    s
}

fn strip_title(key: &str) -> &str {
    let mut k = key;
    loop {
        let before = k;
        for t in TITLES {
            if let Some(rest) = k.strip_prefix(t).and_then(|r| r.strip_prefix(' ')) {
                k = rest;
            }
        }
        if k == before {
            return k;
        }
    }
}

/// The name as written, without a leading "the", a possessive or (for
/// people) titles: "President Moon Jae-in's" → "Moon Jae-in".
fn display_name(text: &str, person: bool) -> String {
    let mut s = text.split_whitespace().collect::<Vec<_>>().join(" ");
    for suffix in ["’s", "'s", "’", "'"] {
        if let Some(rest) = s.strip_suffix(suffix) {
            s = rest.to_string();
            break;
        }
    }
    if let Some(rest) = s.strip_prefix("the ").or_else(|| s.strip_prefix("The ")) {
        s = rest.to_string();
    }
    if person {
        // Keep the original casing of the remaining words.
        let key = normalize(&s);
        let stripped = strip_title(&key);
        if stripped.len() < key.len() && !stripped.is_empty() {
            let drop = key.split(' ').count() - stripped.split(' ').count();
            s = s.split(' ').skip(drop).collect::<Vec<_>>().join(" ");
        }
    }
    s
}

/// Stable id of a canonical name: "Kim Jong-un" → "kim-jong-un".
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in normalize(name).chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ent(text: &str, kind: &str) -> Entity {
        Entity {
            text: text.into(),
            kind: kind.into(),
            start: 0,
            end: 0,
            score: 1.0,
            actor: None,
        }
    }

    const TABLE: &str = r#"
[[actor]]
name = "North Korea"
type = "GPE"
aliases = ["Pyongyang", "DPRK", "the North", "North Korean"]
[[actor]]
name = "United States"
type = "GPE"
aliases = ["US", "U.S.", "Washington"]
[[actor]]
name = "Donald Trump"
type = "PER"
aliases = ["Trump"]
"#;

    #[test]
    fn normalises_names() {
        assert_eq!(normalize("the U.S."), "us");
        assert_eq!(normalize("Pyongyang’s"), "pyongyang");
        assert_eq!(normalize("Kim  Jong‑un"), "kim jong-un");
        assert_eq!(slug("Kim Jong-un"), "kim-jong-un");
        assert_eq!(
            slug("Korean Central News Agency"),
            "korean-central-news-agency"
        );
    }

    #[test]
    fn merges_aliases_and_short_forms() {
        let table = ActorTable::parse(TABLE).unwrap();
        let mut es = vec![
            ent("Pyongyang", "GPE"),
            ent("DPRK", "ORG"),
            ent("U.S.", "GPE"),
            ent("Elbridge Colby", "PER"),
            ent("Colby", "PER"),
            ent("Trump’s", "PER"),
            ent("Kim Jong-un", "PER"),
            ent("Kim", "PER"),
            ent("Korean", "NORP"),
            ent("President Moon Jae-in", "PER"),
            ent("North Korean Chairman Donald Trump", "PER"),
            ent("Moon", "PER"),
        ];
        let actors = table.resolve("", &mut es);
        let ids: Vec<Option<&str>> = es.iter().map(|e| e.actor.as_deref()).collect();
        assert_eq!(
            ids,
            [
                Some("north-korea"),
                Some("north-korea"),
                Some("united-states"),
                Some("elbridge-colby"),
                Some("elbridge-colby"),
                Some("donald-trump"),
                Some("kim-jong-un"),
                Some("kim-jong-un"),
                None,
                Some("moon-jae-in"),
                Some("donald-trump"),
                Some("moon-jae-in"),
            ]
        );
        assert_eq!(actors[0].name, "North Korea");
        assert_eq!(actors[0].mentions, 2);
        assert!(actors
            .iter()
            .any(|a| a.name == "Moon Jae-in" && a.kind == "PER"));
    }

    #[test]
    fn split_names_are_joined() {
        let table = ActorTable::parse(TABLE).unwrap();
        let text = "North Korea";
        let mut es = vec![at(text, "North", "MISC"), at(text, "Korea", "GPE")];
        table.resolve(text, &mut es);
        assert_eq!(es.len(), 1);
        assert_eq!(
            (es[0].text.as_str(), es[0].kind.as_str()),
            ("North Korea", "GPE")
        );
        assert_eq!(es[0].actor.as_deref(), Some("north-korea"));
    }

    #[test]
    fn ambiguous_short_forms_stay_unlinked() {
        let table = ActorTable::parse(TABLE).unwrap();
        let mut es = vec![
            ent("Kim Jong-un", "PER"),
            ent("Kim Yo-jong", "PER"),
            ent("Kim", "PER"),
        ];
        let actors = table.resolve("", &mut es);
        assert_eq!(es[2].actor, None);
        assert_eq!(actors.len(), 2);
    }

    /// The mention `word` where `anchor` first starts in `text`.
    fn at_in(text: &str, anchor: &str, word: &str, kind: &str) -> Entity {
        let byte = text.find(anchor).expect("anchor in text");
        let start = text[..byte].chars().count();
        Entity {
            start,
            end: start + word.chars().count(),
            ..ent(word, kind)
        }
    }

    fn at(text: &str, word: &str, kind: &str) -> Entity {
        at_in(text, word, word, kind)
    }

    #[test]
    fn a_half_name_is_completed_from_the_text() {
        let table = ActorTable::parse(&format!(
            "{TABLE}[[actor]]\nname = \"Moon Jae-in\"\ntype = \"PER\"\nshort = [\"Moon\"]\n"
        ))
        .unwrap();
        let text = "South Korea’s Moon Jae-in has argued for talks. Moon Jae-in’s aides agreed.";
        // The given name alone, and the family name typed as a body.
        let mut es = vec![
            at(text, "Jae-in", "PER"),
            at_in(text, "Moon Jae-in’s", "Moon", "ORG"),
        ];
        let actors = table.resolve(text, &mut es);
        assert_eq!(es[0].text, "Moon Jae-in");
        assert_eq!(es[0].kind, "PER");
        let chars: Vec<char> = text.chars().collect();
        let span: String = chars[es[0].start..es[0].end].iter().collect();
        assert_eq!(span, "Moon Jae-in");
        assert_eq!(es[1].text, "Moon Jae-in"); // the possessive stays outside
        assert_eq!(actors.len(), 1);
        assert_eq!(actors[0].name, "Moon Jae-in");
        assert_eq!(actors[0].mentions, 2);
    }

    #[test]
    fn completion_needs_the_table_and_a_whole_neighbour() {
        let table = ActorTable::parse(TABLE).unwrap();
        let text = "South North Korea met the North while Jane Roe watched.";
        let mut es = vec![
            at(text, "South North", "ORG"),
            at(text, "Korea", "GPE"),
            at_in(text, "North while", "North", "GPE"),
            at(text, "Roe", "PER"),
        ];
        let before = es.clone();
        table.complete_names(text, &mut es);
        // "North" + "Korea" would be a name, but "North" belongs to a longer
        // mention; "the North" adds nothing; "Jane Roe" is not in the table.
        assert_eq!(es, before);
    }

    #[test]
    fn a_persons_short_name_typed_as_a_body_is_the_person() {
        let table = ActorTable::parse(&format!(
            "{TABLE}[[actor]]\nname = \"Moon Jae-in\"\ntype = \"PER\"\nshort = [\"Moon\"]\n"
        ))
        .unwrap();
        let mut es = vec![ent("Moon", "ORG"), ent("Pyongyang", "GPE")];
        let actors = table.resolve("", &mut es);
        assert_eq!(es[0].kind, "PER");
        assert_eq!(es[0].actor.as_deref(), Some("moon-jae-in"));
        assert_eq!(actors.len(), 2);
    }

    #[test]
    fn a_short_name_settles_a_lone_or_ambiguous_word() {
        let kim = "[[actor]]\nname = \"Kim Jong-un\"\ntype = \"PER\"\nshort = [\"Kim\"]\n";
        let table = ActorTable::parse(kim).unwrap();
        let link = |names: &[&str]| {
            let mut es: Vec<Entity> = names.iter().map(|n| ent(n, "PER")).collect();
            table.resolve("", &mut es);
            es.last().unwrap().actor.clone()
        };
        // No full name in the article: the claim decides.
        assert_eq!(link(&["Kim"]).as_deref(), Some("kim-jong-un"));
        // Two full names fit; the claimed one is among them.
        assert_eq!(
            link(&["Kim Yo-jong", "Kim Jong-un", "Kim"]).as_deref(),
            Some("kim-jong-un")
        );
        // The article names only another Kim: that one, not the claim.
        assert_eq!(
            link(&["Kim Yo-jong", "Kim"]).as_deref(),
            Some("kim-yo-jong")
        );
        // Two other Kims: still ambiguous.
        assert_eq!(link(&["Kim Yo-jong", "Kim Yong-chol", "Kim"]), None);
        let e = ActorTable::parse("[[actor]]\nname = \"X\"\ntype = \"GPE\"\nshort = [\"X\"]\n")
            .unwrap_err();
        assert!(e.to_string().contains("only people"), "{e}");
        assert!(ActorTable::parse(
            "[[actor]]\nname = \"Kim Jong-un\"\ntype = \"PER\"\nshort = [\"Kim Jong\"]\n"
        )
        .is_err());
    }

    #[test]
    fn bad_tables_are_refused() {
        let e = ActorTable::parse("[[actor]]\nname = \"X\"\ntype = \"COUNTRY\"\n").unwrap_err();
        assert!(e.to_string().contains("COUNTRY"), "{e}");
        assert!(ActorTable::parse("[[actor]]\nname = \"X\"\n").is_err());
        assert!(
            ActorTable::parse("[[actor]]\nname = \"X\"\ntype = \"PER\"\nalias = []\n").is_err()
        );
    }

    #[test]
    fn the_shipped_table_parses() {
        let raw = include_str!("../actors.toml");
        let t = ActorTable::parse(raw).unwrap();
        assert!(t.len() > 20);
        assert_eq!(
            t.lookup("Pyongyang", "GPE").map(|c| c.name.as_str()),
            Some("North Korea")
        );
        assert_eq!(
            t.lookup("the Kremlin", "ORG").map(|c| c.name.as_str()),
            Some("Russia")
        );
    }
}
