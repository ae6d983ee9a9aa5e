//! Readers for the public English NER data sets in `shared/data/ner/`, mapped
//! onto stancemine's seven entity types (`PER ORG GPE LOC NORP EVENT MISC`,
//! plus `O`) with IOB2 (`B-`/`I-`) tags.
//!
//! Every reader turns its files into [`NerSentence`]s in one common form and
//! returns a [`Dataset`] that also says which of the seven types the set
//! annotates at all ([`Dataset::labelled`]). Training masks the loss on `O`
//! tokens for types a set never labels: a NORP word in BTC is `O` only
//! because BTC has no NORP type, not because it is not a NORP.
//!
//! # Pipeline
//!
//! 1. Parse lines into tokens and *source* tags (`B-politicalparty`), keeping
//!    each token's line number. Blank or whitespace-only lines end a
//!    sentence; `-DOCSTART-` lines end a sentence and are skipped.
//! 2. Repair the IOB scheme on the *source* labels: an `I-x` that does not
//!    follow `B-x`/`I-x` starts a new entity (`B-x`). This converts IOB1
//!    (wikigold) to IOB2 and is done before mapping so that two adjacent
//!    source entities of different labels that map to the same type
//!    (`politician` then `person`) stay two entities. In sets that claim
//!    IOB2 each repair is also reported as an [`Issue`].
//! 3. Map each source *span* (not each token) to a type, so that the mapping
//!    can look at the span's words where a source label mixes two of our
//!    types (see the heuristics below). A span can also be dropped (`O`) or,
//!    for re3d, trimmed at the front.
//!
//! # Shared heuristics
//!
//! * **Countries** ([`is_country`]). A span that is exactly a country name
//!   or a common short form (`Iraq`, `the United States`, `U.S.`, `UK`;
//!   built-in list) is GPE: OntoNotes makes every country mention a GPE,
//!   whatever its role in the sentence.
//! * **Place split** ([`place_type`]). Most sets have one "location" label
//!   covering countries, cities, regions and landmarks, while stancemine (like
//!   OntoNotes) separates political entities (GPE) from other places (LOC).
//!   Countries, states and cities dominate the data, so a place span is GPE
//!   unless one of its words names a geographic feature or facility (`river`,
//!   `mount`, `gulf`, `island`, `border`, `street`, `airport`, `hospital`,
//!   ...) or the whole span is a continent or supranational region (`Europe`,
//!   `Middle East`, `Central Asia`, ...). Countries, spans containing `city`
//!   and a short list of towns named after features (`Cape Town`, `Miami
//!   Beach`, `Staten Island`) stay GPE. Applied to crossner `location`, re3d
//!   `Location`, wikigold/BTC/UNER `LOC`, WNUT `location` and GMB `geo`, so
//!   every set draws the GPE/LOC line in the same place. (stancemine has no
//!   FAC type, so facilities go to LOC.)
//! * **MISC split** ([`misc_type`]). CoNLL-style MISC (wikigold, crossner
//!   `misc`) is dominated by nationality, religious and political-group words
//!   (`American`, `Jewish`, `Republicans`), which are NORP here, and by events
//!   (`World War II`, `Stanley Cup`). A MISC span of at most three
//!   capitalised words whose last word looks like a demonym (suffix `-an -ese
//!   -ish -ist -crat -ite` or a plural of one, a listed `-i` demonym such as
//!   `Israeli`, or a listed irregular form such as `Dutch`, `Jews`, `Serbs`,
//!   `Catholic`, `Liberal`) becomes NORP, as does a lower-case adherent word
//!   (`communist`, `Christian democrats`). Otherwise a span containing an
//!   event word (`war`, `battle`, `revolution`, `cup`, `olympics`,
//!   `festival`, `summit`, `election`, ...) or starting with `Operation`
//!   becomes EVENT, and anything else stays MISC. These sets do annotate such
//!   words (as MISC), so NORP and EVENT count as labelled for them.
//!
//! # Per-set mappings
//!
//! | set | source label → type | labelled |
//! |---|---|---|
//! | crossner_politics | politician, person → PER; organisation, politicalparty → ORG; country → GPE; location → place split (mostly GPE: cities, states); election, event → EVENT; misc → MISC split | all 7 |
//! | re3d | Person → PER; Organisation → ORG (GPE for a country, NORP for a one-word demonym such as `Syrians`); Nationality → NORP; Location → place split; DocumentReference, MilitaryPlatform, Money, Quantity, Temporal, Weapon, CommsIdentifier, Frequency, Vehicle, Url → O; mentions that are not names → O | PER ORG GPE LOC NORP |
//! | wikigold | PER → PER; ORG → ORG; LOC → place split; MISC → MISC split (IOB1 input) | all 7 |
//! | btc | PER → PER; ORG → ORG; LOC → place split | PER ORG GPE LOC |
//! | wnut17 | person → PER; corporation, group → ORG; location → place split; product, creative-work → MISC | PER ORG GPE LOC MISC |
//! | uner_en_ewt | PER → PER; ORG → ORG; LOC → place split | PER ORG GPE LOC |
//! | gmb | per → PER; org → ORG (GPE for a country); geo → place split; gpe → NORP (GPE for a country); eve → EVENT; art → MISC; tim, nat → O | all 7 |
//!
//! In the CoNLL-style sets (wikigold, BTC, UNER) a country-named ORG is
//! deliberate (a national team), so the country rule is not applied to ORG
//! there.
//!
//! re3d annotates *mentions*, not names: pronouns (`he`, `We`), nominals
//! (`the city`, `rebels`, `ISIL tactical units`) and descriptions are
//! labelled. A span is kept only if its last word is a name (capitalised and
//! not a pronoun or determiner, or a number after a name), and the words
//! before its first name are trimmed (`the city of Mosul` → `Mosul`,
//! `eastern Aleppo` → `Aleppo`); otherwise it becomes `O`. re3d also labels
//! countries acting as agents (`Turkey has ...`) as Organisation; the
//! country rule makes them GPE. `BBC_Online` is never read (CC BY-NC), and
//! `US_State_Department` is the held-out test split (select it with
//! `re3d:US_State_Department`, exclude it with `re3d:-US_State_Department`).
//!
//! GMB (`ner_dataset.csv.zip`) is silver data. Its `gpe` tag is used for
//! demonyms (`Iraqi`, `Palestinian`), hence NORP, but also for some country
//! names (`Nepal`, `Niger`), which the country rule sends to GPE. `tim`
//! (dates) and `nat` (storms, diseases) have no stancemine type. It often
//! tags `World War II` as `O O B-eve`; such spans are extended over `World
//! War` (each repair is an [`Issue`]). Although the file is described as
//! latin-1, its bytes 0x80–0x9F are Windows-1252 punctuation (`’`, `…`,
//! `–`), so it is decoded as Windows-1252 (also the WHATWG meaning of
//! "latin-1").
//!
//! Names for [`load`]: `crossner_politics:{train,dev,test}`, `re3d`,
//! `re3d:A,B`, `re3d:-A,B`, `wikigold`, `btc`, `btc:g`, `btc:-g`,
//! `wnut17:{train,dev,test}`, `uner_en_ewt:{dev,test,train}`, `gmb`.
//! [`read_conll`] reads a user's own two-or-more-column CoNLL file with a
//! label-level mapping.

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use thiserror::Error;

/// stancemine's entity types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum EntityType {
    Per,
    Org,
    Gpe,
    Loc,
    Norp,
    Event,
    Misc,
}

impl EntityType {
    pub const ALL: [EntityType; 7] = [
        EntityType::Per,
        EntityType::Org,
        EntityType::Gpe,
        EntityType::Loc,
        EntityType::Norp,
        EntityType::Event,
        EntityType::Misc,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EntityType::Per => "PER",
            EntityType::Org => "ORG",
            EntityType::Gpe => "GPE",
            EntityType::Loc => "LOC",
            EntityType::Norp => "NORP",
            EntityType::Event => "EVENT",
            EntityType::Misc => "MISC",
        }
    }
}

impl fmt::Display for EntityType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EntityType {
    type Err = ConllError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        EntityType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| ConllError::UnknownEntityType(s.to_string()))
    }
}

/// An IOB2 tag over stancemine's types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tag {
    O,
    B(EntityType),
    I(EntityType),
}

impl Tag {
    pub fn entity(self) -> Option<EntityType> {
        match self {
            Tag::O => None,
            Tag::B(t) | Tag::I(t) => Some(t),
        }
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tag::O => f.write_str("O"),
            Tag::B(t) => write!(f, "B-{t}"),
            Tag::I(t) => write!(f, "I-{t}"),
        }
    }
}

impl FromStr for Tag {
    type Err = ConllError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "O" {
            return Ok(Tag::O);
        }
        match s.split_once('-') {
            Some(("B", t)) => Ok(Tag::B(t.parse()?)),
            Some(("I", t)) => Ok(Tag::I(t.parse()?)),
            _ => Err(ConllError::UnknownEntityType(s.to_string())),
        }
    }
}

/// One sentence; `tokens` and `tags` have the same length and `tags` is
/// valid IOB2.
#[derive(Debug, Clone, PartialEq)]
pub struct NerSentence {
    pub tokens: Vec<String>,
    pub tags: Vec<Tag>,
    /// Where the sentence starts, e.g. `crossner_politics/test.txt:123`.
    pub source: String,
}

/// Something in the data that was repaired or skipped rather than rejected.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    /// `file:line`.
    pub source: String,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Dataset {
    pub name: String,
    pub sentences: Vec<NerSentence>,
    /// Types this set annotates at all; `O` is only trustworthy for these.
    pub labelled: Vec<EntityType>,
    /// Repairs and skipped lines (IOB2 violations, empty tokens, excluded
    /// sources).
    pub issues: Vec<Issue>,
    /// How many source spans of each source label became which type (`None`:
    /// dropped to `O`), so the mapping can be audited on the real data.
    pub span_mapping: BTreeMap<(String, Option<EntityType>), usize>,
}

impl Dataset {
    pub fn is_labelled(&self, ty: EntityType) -> bool {
        self.labelled.contains(&ty)
    }

    pub fn token_count(&self) -> usize {
        self.sentences.iter().map(|s| s.tokens.len()).sum()
    }

    /// Number of entities (B- tags) per type.
    pub fn entity_counts(&self) -> BTreeMap<EntityType, usize> {
        let mut counts = BTreeMap::new();
        for tag in self.sentences.iter().flat_map(|s| &s.tags) {
            if let Tag::B(t) = tag {
                *counts.entry(*t).or_insert(0) += 1;
            }
        }
        counts
    }

    /// One line: sentences, tokens, entities per type, labelled types.
    pub fn summary(&self) -> String {
        let counts = self.entity_counts();
        let per_type: Vec<String> = EntityType::ALL
            .iter()
            .map(|t| {
                let mark = if self.is_labelled(*t) {
                    ""
                } else {
                    "(unlabelled)"
                };
                format!("{t}={}{mark}", counts.get(t).copied().unwrap_or(0))
            })
            .collect();
        format!(
            "{}: {} sentences, {} tokens; {}; {} issues",
            self.name,
            self.sentences.len(),
            self.token_count(),
            per_type.join(" "),
            self.issues.len()
        )
    }
}

#[derive(Debug, Error)]
pub enum ConllError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}: {source}", path.display())]
    Zip {
        path: PathBuf,
        #[source]
        source: zip::result::ZipError,
    },
    #[error("{}:{line}: {reason}", path.display())]
    Malformed {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("{}:{line}: label `{label}` is not in the {set} mapping table", path.display())]
    UnknownLabel {
        path: PathBuf,
        line: usize,
        set: String,
        label: String,
    },
    #[error("data set `{name}`: {reason}")]
    BadName { name: String, reason: String },
    #[error("unknown entity type or tag `{0}`")]
    UnknownEntityType(String),
}

// ---------------------------------------------------------------------------
// Public entry points
// ---------------------------------------------------------------------------

/// Load a data set by name (see the module docs for the names). `root` is the
/// `ner` directory (the one holding `SOURCES.md`), or its parent.
pub fn load(name: &str, root: &Path) -> Result<Dataset, ConllError> {
    let root = resolve_root(root);
    let (set, arg) = match name.split_once(':') {
        Some((s, a)) => (s, Some(a)),
        None => (name, None),
    };
    let bad = |reason: &str| ConllError::BadName {
        name: name.to_string(),
        reason: reason.to_string(),
    };
    let result = match set {
        "crossner_politics" | "crossner" => read_crossner_politics(
            &root,
            arg.ok_or_else(|| bad("needs :train, :dev or :test"))?,
        ),
        "re3d" => read_re3d(&root, &Selection::parse(arg)),
        "wikigold" if arg.is_none() => read_wikigold(&root),
        "btc" => read_btc(&root, &Selection::parse(arg)),
        "wnut17" => read_wnut17(
            &root,
            arg.ok_or_else(|| bad("needs :train, :dev or :test"))?,
        ),
        "uner_en_ewt" | "uner" => read_uner_en_ewt(
            &root,
            arg.ok_or_else(|| bad("needs :dev, :test or :train"))?,
        ),
        "gmb" | "gmb_kaggle" if arg.is_none() => read_gmb(&root),
        "wikigold" | "gmb" | "gmb_kaggle" => return Err(bad("this set has no splits")),
        _ => return Err(bad("unknown data set")),
    };
    let mut ds = result.map_err(|e| match e {
        // Name errors raised inside a reader should name what the caller asked for.
        ConllError::BadName { reason, .. } => ConllError::BadName {
            name: name.to_string(),
            reason,
        },
        other => other,
    })?;
    ds.name = name.to_string();
    Ok(ds)
}

/// Read a user's CoNLL file: token in the first column, IOB tag in the last,
/// columns separated by tabs (if the line has one) or by spaces. Blank lines
/// separate sentences; `-DOCSTART-` lines are skipped; a line starting with
/// `#` is a comment unless its last column is a valid tag. `mapping` gets the
/// label without its prefix (`PER` from `B-PER`) and returns `None` for `O`.
/// IOB1, IOB2 and BIOES input are all turned into IOB2.
pub fn read_conll(
    path: &Path,
    mapping: &dyn Fn(&str) -> Option<EntityType>,
) -> Result<Vec<NerSentence>, ConllError> {
    let spec = ColumnSpec {
        token: Col::First,
        tag: Col::Last,
        comments: CommentMode::UnlessTagged,
    };
    let display = path.display().to_string();
    let mut issues = Vec::new();
    let mut raw = read_column_file(path, &display, &spec, &mut issues)?;
    repair_iob(&mut raw, &display, false, &mut issues);
    let mut audit = BTreeMap::new();
    let mapper = |label: &str, _: &[String]| match mapping(label) {
        Some(t) => SpanMap::Keep(t),
        None => SpanMap::Drop,
    };
    map_sentences(raw, path, &display, "user", &mapper, &mut audit)
}

/// Which sources (re3d) or sections (btc) to read.
#[derive(Debug, Clone, PartialEq)]
pub enum Selection {
    All,
    Only(Vec<String>),
    Except(Vec<String>),
}

impl Selection {
    /// `None` → all; `"a,b"` → only those; `"-a,b"` → all but those.
    pub fn parse(spec: Option<&str>) -> Selection {
        let list = |s: &str| s.split(',').map(|x| x.trim().to_string()).collect();
        match spec {
            None | Some("") => Selection::All,
            Some(s) => match s.strip_prefix('-') {
                Some(rest) => Selection::Except(list(rest)),
                None => Selection::Only(list(s)),
            },
        }
    }

    fn names(&self) -> &[String] {
        match self {
            Selection::All => &[],
            Selection::Only(v) | Selection::Except(v) => v,
        }
    }

    fn includes(&self, name: &str) -> bool {
        match self {
            Selection::All => true,
            Selection::Only(v) => v.iter().any(|x| x == name),
            Selection::Except(v) => !v.iter().any(|x| x == name),
        }
    }
}

/// CrossNER politics (`train`, `dev` or `test`): tab-separated IOB2.
pub fn read_crossner_politics(root: &Path, split: &str) -> Result<Dataset, ConllError> {
    check_split(split, &["train", "dev", "test"])?;
    let rel = format!("crossner_politics/{split}.txt");
    // The set's nine labels. There is no nationality label: demonyms are in
    // `misc`, which the MISC split turns into NORP.
    let mapper = |label: &str, toks: &[String]| match label {
        "politician" | "person" => SpanMap::Keep(EntityType::Per),
        "organisation" | "politicalparty" => SpanMap::Keep(EntityType::Org),
        "country" => SpanMap::Keep(EntityType::Gpe),
        // Mostly cities, states and provinces (GPE); continents etc. → LOC.
        "location" => SpanMap::Keep(place_type(toks)),
        "election" | "event" => SpanMap::Keep(EntityType::Event),
        "misc" => SpanMap::Keep(misc_type(toks)),
        _ => SpanMap::Unknown,
    };
    let mut b = Builder::new(&format!("crossner_politics:{split}"), &EntityType::ALL);
    b.read_columns(root, &rel, &ColumnSpec::two_columns(), true, &mapper)?;
    Ok(b.finish())
}

/// re3d, one CoNLL file per document under `conll_by_source/<source>/`
/// (tab-separated IOB2). `BBC_Online` is never read (CC BY-NC).
pub fn read_re3d(root: &Path, selection: &Selection) -> Result<Dataset, ConllError> {
    const EXCLUDED: &str = "BBC_Online";
    let base = root.join("re3d/conll_by_source");
    let mut sources = list_dir(&base, true)?;
    sources.sort();
    if selection.names().iter().any(|n| n == EXCLUDED) && matches!(selection, Selection::Only(_)) {
        return Err(ConllError::BadName {
            name: format!("re3d:{EXCLUDED}"),
            reason: "BBC_Online is CC BY-NC 3.0 and is excluded".into(),
        });
    }
    for n in selection.names() {
        if n != EXCLUDED && !sources.contains(n) {
            return Err(ConllError::BadName {
                name: format!("re3d:{n}"),
                reason: format!("no such re3d source; have {}", sources.join(", ")),
            });
        }
    }
    let mut b = Builder::new("re3d", &RE3D_LABELLED);
    let mut files = Vec::new();
    for source in &sources {
        if source == EXCLUDED {
            b.ds.issues.push(Issue {
                source: format!("re3d/conll_by_source/{source}"),
                message: "skipped: CC BY-NC 3.0".into(),
            });
            continue;
        }
        if !selection.includes(source) {
            continue;
        }
        let mut docs = list_dir(&base.join(source), false)?;
        docs.retain(|d| d.ends_with(".conll"));
        docs.sort();
        files.extend(
            docs.into_iter()
                .map(|d| format!("re3d/conll_by_source/{source}/{d}")),
        );
    }
    let spec = ColumnSpec::two_columns();
    let mapper = |label: &str, toks: &[String]| {
        if !matches!(
            label,
            "Person" | "Organisation" | "Location" | "Nationality"
        ) {
            return if RE3D_DROPPED.contains(&label) {
                SpanMap::Drop
            } else {
                SpanMap::Unknown
            };
        }
        // Pronouns, nominals and descriptions are labelled in re3d; keep names only.
        let Some(start) = re3d_name_start(toks) else {
            return SpanMap::Drop;
        };
        let name = &toks[start..];
        let ty = match label {
            "Person" => EntityType::Per,
            "Nationality" => EntityType::Norp,
            "Location" => place_type(name),
            // "Syrians", "Iraqis" as a group of people.
            _ if name.len() == 1 && is_demonym_like(name) => EntityType::Norp,
            // Countries acting as agents ("Turkey has ...") are Organisation in re3d.
            _ => org_or_country(name),
        };
        SpanMap::Trim { skip: start, ty }
    };
    for rel in &files {
        let path = root.join(rel);
        let mut raw = read_column_file(&path, rel, &spec, &mut b.ds.issues)?;
        repair_iob(&mut raw, rel, true, &mut b.ds.issues);
        b.map(raw, &path, rel, "re3d", &mapper)?;
    }
    Ok(b.finish())
}

/// re3d labels that have no stancemine type; the set does not annotate MISC
/// so these become `O` without teaching the model anything wrong.
const RE3D_DROPPED: [&str; 10] = [
    "DocumentReference",
    "MilitaryPlatform",
    "Money",
    "Quantity",
    "Temporal",
    "Weapon",
    "CommsIdentifier",
    "Frequency",
    "Vehicle",
    "Url",
];

const RE3D_LABELLED: [EntityType; 5] = [
    EntityType::Per,
    EntityType::Org,
    EntityType::Gpe,
    EntityType::Loc,
    EntityType::Norp,
];

/// wikigold: space-separated, IOB1 (only `I-` tags), `-DOCSTART-` lines.
pub fn read_wikigold(root: &Path) -> Result<Dataset, ConllError> {
    let mapper = |label: &str, toks: &[String]| match label {
        "PER" => SpanMap::Keep(EntityType::Per),
        "ORG" => SpanMap::Keep(EntityType::Org),
        "LOC" => SpanMap::Keep(place_type(toks)),
        "MISC" => SpanMap::Keep(misc_type(toks)),
        _ => SpanMap::Unknown,
    };
    let mut b = Builder::new("wikigold", &EntityType::ALL);
    // IOB1: I- after O is the normal way to start an entity, not an error.
    b.read_columns(
        root,
        "wikigold/wikigold.conll.txt",
        &ColumnSpec::two_columns(),
        false,
        &mapper,
    )?;
    Ok(b.finish())
}

const BTC_SECTIONS: [&str; 6] = ["a", "b", "e", "f", "g", "h"];

/// Broad Twitter Corpus sections (`g` is mainstream news): tab-separated
/// IOB2; some tokens carry trailing spaces and some lines have an empty token.
pub fn read_btc(root: &Path, selection: &Selection) -> Result<Dataset, ConllError> {
    for n in selection.names() {
        if !BTC_SECTIONS.contains(&n.as_str()) {
            return Err(ConllError::BadName {
                name: format!("btc:{n}"),
                reason: format!("no such section; have {}", BTC_SECTIONS.join(", ")),
            });
        }
    }
    let mapper = |label: &str, toks: &[String]| match label {
        "PER" => SpanMap::Keep(EntityType::Per),
        "ORG" => SpanMap::Keep(EntityType::Org),
        "LOC" => SpanMap::Keep(place_type(toks)),
        _ => SpanMap::Unknown,
    };
    let mut b = Builder::new("btc", &FOUR_TYPES);
    for s in BTC_SECTIONS.iter().filter(|s| selection.includes(s)) {
        b.read_columns(
            root,
            &format!("btc/{s}.conll"),
            &ColumnSpec::two_columns(),
            true,
            &mapper,
        )?;
    }
    Ok(b.finish())
}

const FOUR_TYPES: [EntityType; 4] = [
    EntityType::Per,
    EntityType::Org,
    EntityType::Gpe,
    EntityType::Loc,
];

/// WNUT-17 emerging entities: tab-separated IOB2; the train file separates
/// sentences with lines holding a single tab.
pub fn read_wnut17(root: &Path, split: &str) -> Result<Dataset, ConllError> {
    check_split(split, &["train", "dev", "test"])?;
    let rel = match split {
        "train" => "wnut17/wnut17train.conll",
        "dev" => "wnut17/emerging.dev.conll",
        _ => "wnut17/emerging.test.annotated",
    };
    let mapper = |label: &str, toks: &[String]| match label {
        "person" => SpanMap::Keep(EntityType::Per),
        // `group`: bands, teams, non-corporate organisations.
        "corporation" | "group" => SpanMap::Keep(EntityType::Org),
        "location" => SpanMap::Keep(place_type(toks)),
        "product" | "creative-work" => SpanMap::Keep(EntityType::Misc),
        _ => SpanMap::Unknown,
    };
    let labelled = [
        EntityType::Per,
        EntityType::Org,
        EntityType::Gpe,
        EntityType::Loc,
        EntityType::Misc,
    ];
    let mut b = Builder::new(&format!("wnut17:{split}"), &labelled);
    b.read_columns(root, rel, &ColumnSpec::two_columns(), true, &mapper)?;
    Ok(b.finish())
}

/// Universal NER English-EWT: CoNLL-U-like, `# ` comment lines, five
/// tab-separated columns `id token tag - annotator` (the tag is *not* last).
pub fn read_uner_en_ewt(root: &Path, split: &str) -> Result<Dataset, ConllError> {
    check_split(split, &["train", "dev", "test"])?;
    let rel = format!("uner_en_ewt/en_ewt-ud-{split}.iob2");
    let spec = ColumnSpec {
        token: Col::Index(1),
        tag: Col::Index(2),
        comments: CommentMode::Always,
    };
    let mapper = |label: &str, toks: &[String]| match label {
        "PER" => SpanMap::Keep(EntityType::Per),
        "ORG" => SpanMap::Keep(EntityType::Org),
        "LOC" => SpanMap::Keep(place_type(toks)),
        _ => SpanMap::Unknown,
    };
    let mut b = Builder::new(&format!("uner_en_ewt:{split}"), &FOUR_TYPES);
    b.read_columns(root, &rel, &spec, true, &mapper)?;
    Ok(b.finish())
}

/// GMB (Kaggle `ner_dataset.csv.zip`): one CSV `Sentence #,Word,POS,Tag`
/// in Windows-1252; a row with `Sentence: N` in the first column starts a
/// sentence.
pub fn read_gmb(root: &Path) -> Result<Dataset, ConllError> {
    let rel = "gmb_kaggle/ner_dataset.csv.zip";
    let path = root.join(rel);
    let text = read_zip_csv(&path)?;
    let mut b = Builder::new("gmb", &EntityType::ALL);
    let mut raw = parse_gmb_csv(&text, &path)?;
    repair_iob(&mut raw, rel, true, &mut b.ds.issues);
    repair_gmb_world_war(&mut raw, rel, &mut b.ds.issues);
    let mapper = |label: &str, toks: &[String]| match label {
        "per" => SpanMap::Keep(EntityType::Per),
        // "U.S." / "Turkey" as the acting government: GPE, as in OntoNotes.
        "org" => SpanMap::Keep(org_or_country(toks)),
        "geo" => SpanMap::Keep(place_type(toks)),
        // GMB's demonym tag, also used for some country names ("Nepal").
        "gpe" if is_country(toks) => SpanMap::Keep(EntityType::Gpe),
        "gpe" => SpanMap::Keep(EntityType::Norp),
        "eve" => SpanMap::Keep(EntityType::Event),
        // Artefacts: products, works, laws, buildings — the MISC bucket.
        "art" => SpanMap::Keep(EntityType::Misc),
        // Dates/times and natural phenomena (storms, diseases) have no type.
        "tim" | "nat" => SpanMap::Drop,
        _ => SpanMap::Unknown,
    };
    b.map(raw, &path, rel, "gmb", &mapper)?;
    Ok(b.finish())
}

// ---------------------------------------------------------------------------
// Span heuristics
// ---------------------------------------------------------------------------

/// Words that make a place span a non-political location (LOC): geographic
/// features and facilities (stancemine has no FAC type; LOC is nearest).
const LOC_WORDS: &[&str] = &[
    "river",
    "rivers",
    "mount",
    "mt",
    "mt.",
    "mountain",
    "mountains",
    "valley",
    "lake",
    "lakes",
    "sea",
    "ocean",
    "gulf",
    "bay",
    "strait",
    "straits",
    "canal",
    "island",
    "islands",
    "isle",
    "isles",
    "peninsula",
    "desert",
    "coast",
    "beach",
    "border",
    "borders",
    "plain",
    "plains",
    "plateau",
    "basin",
    "delta",
    "forest",
    "park",
    "hill",
    "hills",
    "heights",
    "falls",
    "glacier",
    "cape",
    "channel",
    "reef",
    "highlands",
    "canyon",
    "square",
    "street",
    "road",
    "avenue",
    "blvd",
    "boulevard",
    "highway",
    "bridge",
    "dam",
    "dams",
    "barrage",
    "airport",
    "airfield",
    "station",
    "building",
    "tower",
    "hospital",
    "mosque",
    "church",
    "cathedral",
    "temple",
    "palace",
    "stadium",
    "arena",
    "prison",
    "gate",
    "monument",
    "zoo",
    "harbour",
    "harbor",
];

/// Whole-span continents and supranational regions (lowercase, without a
/// leading "the").
const LOC_REGIONS: &[&str] = &[
    "europe",
    "asia",
    "africa",
    "antarctica",
    "oceania",
    "australasia",
    "eurasia",
    "americas",
    "north america",
    "south america",
    "latin america",
    "central america",
    "middle east",
    "mideast",
    "near east",
    "far east",
    "balkans",
    "caucasus",
    "caribbean",
    "scandinavia",
    "sahara",
    "sahel",
    "arctic",
    "antarctic",
    "pacific",
    "atlantic",
    "mediterranean",
    "levant",
    "siberia",
    "himalayas",
    "alps",
    "andes",
    "horn of africa",
    "central asia",
    "south asia",
    "east asia",
    "southeast asia",
    "south-east asia",
    "asia-pacific",
    "asia pacific",
    "west africa",
    "east africa",
    "north africa",
    "southern africa",
    "central africa",
    "sub-saharan africa",
    "western europe",
    "eastern europe",
    "central europe",
    "northern europe",
    "southern europe",
    "western hemisphere",
];

/// Sovereign states and common short forms (lowercase, without a leading
/// "the"). OntoNotes makes every country mention a GPE whatever its role, so
/// this list overrides both the place split and re3d/GMB organisation labels.
const COUNTRIES: &[&str] = &[
    "afghanistan",
    "albania",
    "algeria",
    "andorra",
    "angola",
    "antigua and barbuda",
    "argentina",
    "armenia",
    "australia",
    "austria",
    "azerbaijan",
    "bahamas",
    "bahrain",
    "bangladesh",
    "barbados",
    "belarus",
    "belgium",
    "belize",
    "benin",
    "bhutan",
    "bolivia",
    "bosnia",
    "bosnia and herzegovina",
    "botswana",
    "brazil",
    "brunei",
    "bulgaria",
    "burkina faso",
    "burma",
    "burundi",
    "cambodia",
    "cameroon",
    "canada",
    "cape verde",
    "central african republic",
    "chad",
    "chile",
    "china",
    "colombia",
    "comoros",
    "congo",
    "costa rica",
    "croatia",
    "cuba",
    "cyprus",
    "czech republic",
    "czechia",
    "denmark",
    "djibouti",
    "dominica",
    "dominican republic",
    "east timor",
    "ecuador",
    "egypt",
    "el salvador",
    "equatorial guinea",
    "eritrea",
    "estonia",
    "eswatini",
    "ethiopia",
    "fiji",
    "finland",
    "france",
    "gabon",
    "gambia",
    "georgia",
    "germany",
    "ghana",
    "greece",
    "grenada",
    "guatemala",
    "guinea",
    "guinea-bissau",
    "guyana",
    "haiti",
    "honduras",
    "hungary",
    "iceland",
    "india",
    "indonesia",
    "iran",
    "iraq",
    "ireland",
    "israel",
    "italy",
    "ivory coast",
    "jamaica",
    "japan",
    "jordan",
    "kazakhstan",
    "kenya",
    "kiribati",
    "kosovo",
    "kuwait",
    "kyrgyzstan",
    "laos",
    "latvia",
    "lebanon",
    "lesotho",
    "liberia",
    "libya",
    "liechtenstein",
    "lithuania",
    "luxembourg",
    "macedonia",
    "madagascar",
    "malawi",
    "malaysia",
    "maldives",
    "mali",
    "malta",
    "marshall islands",
    "mauritania",
    "mauritius",
    "mexico",
    "micronesia",
    "moldova",
    "monaco",
    "mongolia",
    "montenegro",
    "morocco",
    "mozambique",
    "myanmar",
    "namibia",
    "nauru",
    "nepal",
    "netherlands",
    "new zealand",
    "nicaragua",
    "niger",
    "nigeria",
    "north korea",
    "north macedonia",
    "norway",
    "oman",
    "pakistan",
    "palau",
    "palestine",
    "panama",
    "papua new guinea",
    "paraguay",
    "peru",
    "philippines",
    "poland",
    "portugal",
    "qatar",
    "romania",
    "russia",
    "rwanda",
    "saint lucia",
    "samoa",
    "san marino",
    "saudi arabia",
    "senegal",
    "serbia",
    "seychelles",
    "sierra leone",
    "singapore",
    "slovakia",
    "slovenia",
    "solomon islands",
    "somalia",
    "south africa",
    "south korea",
    "south sudan",
    "spain",
    "sri lanka",
    "sudan",
    "suriname",
    "swaziland",
    "sweden",
    "switzerland",
    "syria",
    "taiwan",
    "tajikistan",
    "tanzania",
    "thailand",
    "togo",
    "tonga",
    "trinidad and tobago",
    "tunisia",
    "turkey",
    "turkmenistan",
    "tuvalu",
    "uganda",
    "ukraine",
    "uruguay",
    "uzbekistan",
    "vanuatu",
    "vatican",
    "venezuela",
    "vietnam",
    "yemen",
    "zambia",
    "zimbabwe",
    "united arab emirates",
    "uae",
    "united kingdom",
    "uk",
    "u.k.",
    "britain",
    "great britain",
    "england",
    "scotland",
    "wales",
    "northern ireland",
    "united states",
    "united states of america",
    "us",
    "u.s.",
    "usa",
    "u.s.a.",
    "america",
    "korea",
    "soviet union",
    "ussr",
    "yugoslavia",
];

/// Cities and territories whose names contain a LOC word (`Cape Town`).
const GPE_PLACES: &[&str] = &[
    "cape town",
    "gold coast",
    "beverly hills",
    "chapel hill",
    "miami beach",
    "long beach",
    "palm beach",
    "west palm beach",
    "virginia beach",
    "daytona beach",
    "mountain view",
    "lake charles",
    "staten island",
    "rhode island",
    "isle of man",
    "green bay",
    "thunder bay",
    "falkland islands",
    "canary islands",
    "cayman islands",
    "virgin islands",
    "faroe islands",
    "cook islands",
    "woodland hills",
    "kawartha lakes",
    "whitley bay",
];

/// Lowercase span text without a leading "the".
fn bare_name(tokens: &[String]) -> String {
    let joined = tokens.join(" ").to_lowercase();
    match joined.strip_prefix("the ") {
        Some(rest) => rest.to_string(),
        None => joined,
    }
}

/// True if the span names a country (`Iraq`, `the United States`, `U.S.`).
pub fn is_country(tokens: &[String]) -> bool {
    tokens
        .first()
        .and_then(|t| t.chars().next())
        .is_some_and(|c| c.is_uppercase())
        && COUNTRIES.contains(&bare_name(tokens).as_str())
}

/// ORG, or GPE for a country acting as an organisation (re3d, GMB). Not used
/// for the CoNLL-style sets, where a country-named ORG is a national team.
pub fn org_or_country(tokens: &[String]) -> EntityType {
    if is_country(tokens) {
        EntityType::Gpe
    } else {
        EntityType::Org
    }
}

/// GPE for countries, states and cities; LOC for geographic features,
/// facilities and continents/regions. See the module docs.
pub fn place_type(tokens: &[String]) -> EntityType {
    let bare = bare_name(tokens);
    if is_country(tokens) || GPE_PLACES.contains(&bare.as_str()) {
        return EntityType::Gpe;
    }
    let lower: Vec<String> = tokens.iter().map(|t| t.to_lowercase()).collect();
    if lower.iter().any(|t| t == "city") {
        return EntityType::Gpe;
    }
    if lower.iter().any(|t| LOC_WORDS.contains(&t.as_str())) || LOC_REGIONS.contains(&bare.as_str())
    {
        return EntityType::Loc;
    }
    EntityType::Gpe
}

/// Demonyms and group words that do not follow the suffix rules.
const NORP_WORDS: &[&str] = &[
    "jew",
    "jews",
    "arab",
    "arabs",
    "thai",
    "serb",
    "serbs",
    "pole",
    "poles",
    "greek",
    "greeks",
    "swiss",
    "dutch",
    "french",
    "czech",
    "czechs",
    "welsh",
    "scots",
    "basque",
    "basques",
    "uzbek",
    "uzbeks",
    "kurd",
    "kurds",
    "sikh",
    "sikhs",
    "turk",
    "turks",
    "dane",
    "danes",
    "swede",
    "swedes",
    "finn",
    "finns",
    "hindu",
    "hindus",
    "muslim",
    "muslims",
    "moslem",
    "moslems",
    "shia",
    "sunni",
    "catholic",
    "catholics",
    "protestant",
    "protestants",
    "slavic",
    "hispanic",
    "nordic",
    "celtic",
    "germanic",
    "islamic",
    "goth",
    "goths",
    "copt",
    "copts",
    "druze",
    "maori",
    "māori",
    "tamil",
    "tamils",
    "latino",
    "latinos",
    "filipino",
    "filipinos",
    "inuit",
    "bedouin",
    "bedouins",
    "zulu",
    "zulus",
    "uyghur",
    "uyghurs",
    "uighur",
    "uighurs",
    "tatar",
    "tatars",
    "kazakh",
    "kazakhs",
    "tajik",
    "tajiks",
    "pashtun",
    "pashtuns",
    "soviet",
    "soviets",
    "nazi",
    "nazis",
    "tory",
    "tories",
    "bolshevik",
    "bolsheviks",
    "mormon",
    "mormons",
    "liberal",
    "liberals",
    "conservative",
    "conservatives",
    "greens",
    "breton",
    "bretons",
];

/// Words that end like demonyms but are places or other things.
const NOT_NORP_WORDS: &[&str] = &[
    "mediterranean",
    "caribbean",
    "sudan",
    "japan",
    "iran",
    "taiwan",
    "oman",
    "bhutan",
    "jordan",
    "vatican",
    "tehran",
    "milan",
    "taliban",
    "koran",
    "quran",
    "ramadan",
    "titan",
    "satan",
    "batman",
    "superman",
    "pan",
    "van",
    "paris",
    "tunis",
    "memphis",
    "hawaii",
    "mali",
    "malawi",
    "nairobi",
    "helsinki",
    "tbilisi",
    "delhi",
];

const NORP_SUFFIXES: &[&str] = &[
    "an", "ans", "ese", "ish", "ist", "ists", "crat", "crats", "ite", "ites",
];

/// Demonyms in -i (a bare -i/-is suffix would also catch "Cannabis", "Sukiyaki").
const NORP_I_WORDS: &[&str] = &[
    "afghani",
    "azerbaijani",
    "bahraini",
    "bangladeshi",
    "bengali",
    "emirati",
    "gujarati",
    "iraqi",
    "israeli",
    "kashmiri",
    "kuwaiti",
    "marathi",
    "nepali",
    "omani",
    "pakistani",
    "punjabi",
    "qatari",
    "saudi",
    "sindhi",
    "somali",
    "yazidi",
    "yemeni",
];

/// Adherents written in lower case are still NORP ("communist", "Christian democrats").
const NORP_LOWER_SUFFIXES: &[&str] = &["ist", "ists", "crat", "crats"];

/// True for spans like `American`, `South African`, `Christian Democrats`,
/// `Jews`: at most three capitalised words, the last demonym-like.
pub fn is_demonym_like(tokens: &[String]) -> bool {
    if tokens.is_empty() || tokens.len() > 3 {
        return false;
    }
    let capitalised = |w: &str| {
        w.split('-')
            .all(|p| p.chars().next().is_some_and(char::is_uppercase))
    };
    let (last, init) = tokens.split_last().unwrap_or((&tokens[0], &[]));
    if !init.iter().all(|t| capitalised(t)) {
        return false;
    }
    let word = last.rsplit('-').next().unwrap_or("");
    let lower = word.to_lowercase();
    if !capitalised(last) {
        // Only lower-case adherent words ("communist"), not "pro-Spanish".
        return !last.contains('-')
            && lower.chars().count() > 4
            && NORP_LOWER_SUFFIXES.iter().any(|s| lower.ends_with(s));
    }
    // Acronyms and roman numerals ("MEPs", "II") are not demonyms.
    if !word.chars().skip(1).any(char::is_lowercase) {
        return false;
    }
    if NOT_NORP_WORDS.contains(&lower.as_str()) || lower.ends_with("stan") {
        return false;
    }
    let singular = lower.strip_suffix('s').unwrap_or(&lower);
    NORP_WORDS.contains(&lower.as_str())
        || NORP_I_WORDS.contains(&singular)
        || (lower.chars().count() > 3 && NORP_SUFFIXES.iter().any(|s| lower.ends_with(s)))
}

const EVENT_WORDS: &[&str] = &[
    "war",
    "wars",
    "battle",
    "revolution",
    "uprising",
    "rebellion",
    "siege",
    "invasion",
    "massacre",
    "holocaust",
    "olympics",
    "olympiad",
    "games",
    "cup",
    "championship",
    "championships",
    "tournament",
    "festival",
    "summit",
    "conference",
    "election",
    "elections",
    "referendum",
    "plebiscite",
    "plebiscites",
    "crisis",
    "campaign",
    "bowl",
    "prix",
    "marathon",
    "expo",
    "concert",
    "riots",
    "coup",
];

/// True for spans like `World War II`, `Stanley Cup`, `Operation Overlord`.
pub fn is_event_like(tokens: &[String]) -> bool {
    let lower: Vec<String> = tokens.iter().map(|t| t.to_lowercase()).collect();
    lower.iter().any(|t| EVENT_WORDS.contains(&t.as_str()))
        || (lower.len() > 1 && lower[0] == "operation")
}

/// NORP, EVENT or MISC for a CoNLL-style MISC span. See the module docs.
pub fn misc_type(tokens: &[String]) -> EntityType {
    if is_demonym_like(tokens) {
        EntityType::Norp
    } else if is_event_like(tokens) {
        EntityType::Event
    } else {
        EntityType::Misc
    }
}

/// Capitalised words that are not names.
const FUNCTION_WORDS: &[&str] = &[
    "the", "a", "an", "this", "that", "these", "those", "i", "he", "she", "it", "we", "they",
    "you", "me", "him", "her", "us", "them", "his", "its", "our", "their", "my", "your", "one",
    "all", "some", "many", "most", "both", "each", "every", "any", "no", "other", "such",
    "another", "several", "there", "here", "who", "which", "what",
];

/// Lower-case name particles that may open a name (`al - Qaida`, `de Mistura`).
const NAME_PARTICLES: &[&str] = &[
    "al", "el", "ad", "ash", "bin", "ibn", "abu", "de", "del", "della", "der", "di", "du", "da",
    "van", "von", "la", "le",
];

fn is_name_word(t: &str) -> bool {
    t.chars().next().is_some_and(|c| c.is_uppercase())
        && t.chars().any(|c| c.is_alphabetic())
        && !FUNCTION_WORDS.contains(&t.to_lowercase().as_str())
}

/// For a re3d mention: the index where its name starts, or `None` if the
/// mention is not a name (pronoun, nominal, description). The last word with
/// a letter or digit must be a name word (or a number after one), e.g. keeps
/// `the city of Mosul` (from `Mosul`), drops `ISIL tactical units` and `he`.
pub fn re3d_name_start(tokens: &[String]) -> Option<usize> {
    let first_name = tokens.iter().position(|t| is_name_word(t))?;
    let last = tokens
        .iter()
        .rev()
        .find(|t| t.chars().any(|c| c.is_alphanumeric()))?;
    let numeric = last.chars().all(|c| c.is_ascii_digit());
    if !is_name_word(last) && !numeric {
        return None;
    }
    // Keep a particle that directly opens the name ("the al - Qaida" → "al - Qaida").
    let mut start = first_name;
    while start > 0 {
        let prev = &tokens[start - 1];
        if NAME_PARTICLES.contains(&prev.as_str()) {
            start -= 1;
        } else if prev == "-" && start >= 2 && NAME_PARTICLES.contains(&tokens[start - 2].as_str())
        {
            start -= 2;
        } else {
            break;
        }
    }
    Some(start)
}

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

#[derive(Debug, Clone, PartialEq)]
enum RawTag {
    O,
    B(String),
    I(String),
}

impl RawTag {
    fn label(&self) -> Option<&str> {
        match self {
            RawTag::O => None,
            RawTag::B(l) | RawTag::I(l) => Some(l),
        }
    }
}

/// Parse `O`, `B-x`, `I-x`, and BIOES/BILOU (`S-`/`U-` → B, `E-`/`L-` → I).
fn parse_raw_tag(s: &str) -> Option<RawTag> {
    if s == "O" {
        return Some(RawTag::O);
    }
    let (prefix, label) = s.split_once('-')?;
    if label.is_empty() {
        return None;
    }
    match prefix {
        "B" | "S" | "U" => Some(RawTag::B(label.to_string())),
        "I" | "E" | "L" => Some(RawTag::I(label.to_string())),
        _ => None,
    }
}

#[derive(Debug, Default)]
struct RawSentence {
    tokens: Vec<String>,
    tags: Vec<RawTag>,
    lines: Vec<usize>,
}

#[derive(Clone, Copy)]
enum Col {
    First,
    Last,
    Index(usize),
}

#[derive(Clone, Copy, PartialEq)]
enum CommentMode {
    /// `#` has no special meaning.
    None,
    /// Every line starting with `#` is a comment (CoNLL-U style).
    Always,
    /// A `#` line is a comment unless it parses as a token with a valid tag.
    UnlessTagged,
}

struct ColumnSpec {
    token: Col,
    tag: Col,
    comments: CommentMode,
}

impl ColumnSpec {
    fn two_columns() -> Self {
        ColumnSpec {
            token: Col::First,
            tag: Col::Last,
            comments: CommentMode::None,
        }
    }
}

fn read_text(path: &Path) -> Result<String, ConllError> {
    let bytes = fs::read(path).map_err(|source| ConllError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    match String::from_utf8(bytes) {
        Ok(mut s) => {
            if s.starts_with('\u{feff}') {
                s.drain(..3);
            }
            Ok(s)
        }
        Err(e) => {
            let valid = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..valid]
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
                + 1;
            Err(ConllError::Malformed {
                path: path.to_path_buf(),
                line,
                reason: "not valid UTF-8".into(),
            })
        }
    }
}

fn pick<'a>(fields: &[&'a str], col: Col) -> Option<&'a str> {
    match col {
        Col::First => fields.first().copied(),
        Col::Last => fields.last().copied(),
        Col::Index(i) => fields.get(i).copied(),
    }
}

/// `display` is how issue sources name the file (relative to the data root).
fn read_column_file(
    path: &Path,
    display: &str,
    spec: &ColumnSpec,
    issues: &mut Vec<Issue>,
) -> Result<Vec<RawSentence>, ConllError> {
    let text = read_text(path)?;
    parse_columns(&text, path, display, spec, issues)
}

fn parse_columns(
    text: &str,
    path: &Path,
    display: &str,
    spec: &ColumnSpec,
    issues: &mut Vec<Issue>,
) -> Result<Vec<RawSentence>, ConllError> {
    let malformed = |line: usize, reason: String| ConllError::Malformed {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let mut out = Vec::new();
    let mut cur = RawSentence::default();
    for (idx, line) in text.lines().enumerate() {
        let n = idx + 1;
        // Whitespace-only lines (WNUT-17 train uses a lone tab) end a sentence.
        if line.trim().is_empty() {
            flush(&mut cur, &mut out);
            continue;
        }
        if spec.comments == CommentMode::Always && line.starts_with('#') {
            continue;
        }
        // Tab-separated if there is a tab (tokens may then contain spaces);
        // otherwise ASCII spaces, so that a non-breaking space stays in its token.
        let mut fields: Vec<&str> = if line.contains('\t') {
            line.split('\t').map(|f| f.trim_matches(' ')).collect()
        } else {
            line.split_ascii_whitespace().collect()
        };
        while fields.len() > 1 && fields.last() == Some(&"") {
            fields.pop();
        }
        let token = pick(&fields, spec.token);
        let tag_str = pick(&fields, spec.tag);
        let tag = tag_str.and_then(parse_raw_tag);
        if spec.comments == CommentMode::UnlessTagged
            && line.starts_with('#')
            && (fields.len() < 2 || tag.is_none())
        {
            continue;
        }
        if fields.len() < 2 {
            return Err(malformed(
                n,
                format!("expected a token and a tag column, found `{line}`"),
            ));
        }
        let (Some(token), Some(tag_str)) = (token, tag_str) else {
            return Err(malformed(
                n,
                format!("too few columns ({}) in `{line}`", fields.len()),
            ));
        };
        if token == "-DOCSTART-" {
            flush(&mut cur, &mut out);
            continue;
        }
        let Some(tag) = tag else {
            return Err(malformed(n, format!("`{tag_str}` is not an IOB tag")));
        };
        let token = token.trim();
        if token.is_empty() {
            // BTC has a few `\tO` lines; an empty token would give a model
            // nothing to attach the tag to.
            issues.push(Issue {
                source: format!("{display}:{n}"),
                message: format!("dropped empty token tagged {tag_str}"),
            });
            continue;
        }
        cur.tokens.push(token.to_string());
        cur.tags.push(tag);
        cur.lines.push(n);
    }
    flush(&mut cur, &mut out);
    Ok(out)
}

fn flush(cur: &mut RawSentence, out: &mut Vec<RawSentence>) {
    if !cur.tokens.is_empty() {
        out.push(std::mem::take(cur));
    }
}

/// Turn every `I-x` that does not continue an `x` entity into `B-x`. With
/// `strict` (the set claims IOB2) each such repair is an [`Issue`].
fn repair_iob(raw: &mut [RawSentence], display: &str, strict: bool, issues: &mut Vec<Issue>) {
    for s in raw {
        let mut prev: Option<String> = None;
        for (tag, line) in s.tags.iter_mut().zip(&s.lines) {
            if let RawTag::I(l) = tag {
                if prev.as_deref() != Some(l.as_str()) {
                    if strict {
                        issues.push(Issue {
                            source: format!("{display}:{line}"),
                            message: format!("I-{l} does not continue an entity; read as B-{l}"),
                        });
                    }
                    *tag = RawTag::B(std::mem::take(l));
                }
            }
            prev = tag.label().map(str::to_string);
        }
    }
}

fn spans(tags: &[RawTag]) -> Vec<(usize, usize, &str)> {
    let mut out: Vec<(usize, usize, &str)> = Vec::new();
    for (i, tag) in tags.iter().enumerate() {
        match tag {
            RawTag::B(l) => out.push((i, i + 1, l)),
            // After repair_iob an I- always continues the last span.
            RawTag::I(_) => {
                if let Some(last) = out.last_mut() {
                    last.1 = i + 1;
                }
            }
            RawTag::O => {}
        }
    }
    out
}

enum SpanMap {
    Keep(EntityType),
    /// Drop the first `skip` tokens from the span (re3d: "the city of Mosul").
    Trim {
        skip: usize,
        ty: EntityType,
    },
    Drop,
    Unknown,
}

type SpanMapper<'a> = dyn Fn(&str, &[String]) -> SpanMap + 'a;

fn map_sentences(
    raw: Vec<RawSentence>,
    path: &Path,
    display: &str,
    set: &str,
    mapper: &SpanMapper,
    audit: &mut BTreeMap<(String, Option<EntityType>), usize>,
) -> Result<Vec<NerSentence>, ConllError> {
    let mut out = Vec::with_capacity(raw.len());
    for s in raw {
        let mut tags = vec![Tag::O; s.tokens.len()];
        for (start, end, label) in spans(&s.tags) {
            let (skip, ty) = match mapper(label, &s.tokens[start..end]) {
                SpanMap::Keep(ty) => (0, Some(ty)),
                SpanMap::Trim { skip, ty } => (skip, Some(ty)),
                SpanMap::Drop => (0, None),
                SpanMap::Unknown => {
                    return Err(ConllError::UnknownLabel {
                        path: path.to_path_buf(),
                        line: s.lines[start],
                        set: set.to_string(),
                        label: label.to_string(),
                    })
                }
            };
            let ty = ty.filter(|_| start + skip < end);
            *audit.entry((label.to_string(), ty)).or_insert(0) += 1;
            if let Some(ty) = ty {
                tags[start + skip] = Tag::B(ty);
                for t in &mut tags[start + skip + 1..end] {
                    *t = Tag::I(ty);
                }
            }
        }
        out.push(NerSentence {
            source: format!("{display}:{}", s.lines[0]),
            tokens: s.tokens,
            tags,
        });
    }
    Ok(out)
}

/// Collects sentences, issues and the span audit for one data set.
struct Builder {
    ds: Dataset,
}

impl Builder {
    fn new(name: &str, labelled: &[EntityType]) -> Self {
        Builder {
            ds: Dataset {
                name: name.to_string(),
                sentences: Vec::new(),
                labelled: labelled.to_vec(),
                issues: Vec::new(),
                span_mapping: BTreeMap::new(),
            },
        }
    }

    fn read_columns(
        &mut self,
        root: &Path,
        rel: &str,
        spec: &ColumnSpec,
        strict_iob2: bool,
        mapper: &SpanMapper,
    ) -> Result<(), ConllError> {
        let path = root.join(rel);
        let mut raw = read_column_file(&path, rel, spec, &mut self.ds.issues)?;
        repair_iob(&mut raw, rel, strict_iob2, &mut self.ds.issues);
        let set = self.ds.name.clone();
        self.map(raw, &path, rel, &set, mapper)
    }

    fn map(
        &mut self,
        raw: Vec<RawSentence>,
        path: &Path,
        rel: &str,
        set: &str,
        mapper: &SpanMapper,
    ) -> Result<(), ConllError> {
        let sents = map_sentences(raw, path, rel, set, mapper, &mut self.ds.span_mapping)?;
        self.ds.sentences.extend(sents);
        Ok(())
    }

    fn finish(self) -> Dataset {
        self.ds
    }
}

fn check_split(split: &str, allowed: &[&str]) -> Result<(), ConllError> {
    if allowed.contains(&split) {
        Ok(())
    } else {
        Err(ConllError::BadName {
            name: split.to_string(),
            reason: format!("unknown split; have {}", allowed.join(", ")),
        })
    }
}

fn list_dir(dir: &Path, dirs: bool) -> Result<Vec<String>, ConllError> {
    let io = |source| ConllError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        if entry.file_type().map_err(io)?.is_dir() == dirs {
            out.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    Ok(out)
}

/// Accept the `ner` directory itself or a parent holding `ner/`.
fn resolve_root(root: &Path) -> PathBuf {
    let nested = root.join("ner");
    if !root.join("SOURCES.md").exists() && nested.join("SOURCES.md").exists() {
        nested
    } else {
        root.to_path_buf()
    }
}

// ---------------------------------------------------------------------------
// GMB: zip, Windows-1252, CSV
// ---------------------------------------------------------------------------

fn read_zip_csv(path: &Path) -> Result<String, ConllError> {
    let zip_err = |source| ConllError::Zip {
        path: path.to_path_buf(),
        source,
    };
    let file = fs::File::open(path).map_err(|source| ConllError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut archive = zip::ZipArchive::new(file).map_err(zip_err)?;
    let name = archive
        .file_names()
        .find(|n| n.ends_with(".csv"))
        .map(str::to_string)
        .ok_or_else(|| ConllError::Malformed {
            path: path.to_path_buf(),
            line: 0,
            reason: "archive holds no .csv file".into(),
        })?;
    let mut entry = archive.by_name(&name).map_err(zip_err)?;
    let mut bytes = Vec::with_capacity(entry.size() as usize);
    entry
        .read_to_end(&mut bytes)
        .map_err(|source| ConllError::Io {
            path: path.join(&name),
            source,
        })?;
    Ok(decode_windows_1252(&bytes))
}

/// GMB often tags only the numeral of "World War II" (`World/O War/O
/// II/B-eve`); extend such a span over the two words before it.
fn repair_gmb_world_war(raw: &mut [RawSentence], display: &str, issues: &mut Vec<Issue>) {
    for s in raw {
        for i in 2..s.tokens.len() {
            let numeral = matches!(s.tokens[i].as_str(), "I" | "II");
            let is_b_eve = matches!(&s.tags[i], RawTag::B(l) if l == "eve");
            if numeral
                && is_b_eve
                && s.tokens[i - 2] == "World"
                && matches!(s.tokens[i - 1].as_str(), "War" | "Wars")
                && s.tags[i - 2] == RawTag::O
                && s.tags[i - 1] == RawTag::O
            {
                s.tags[i - 2] = RawTag::B("eve".into());
                s.tags[i - 1] = RawTag::I("eve".into());
                s.tags[i] = RawTag::I("eve".into());
                issues.push(Issue {
                    source: format!("{display}:{}", s.lines[i - 2]),
                    message: format!("extended eve span over `World {}`", s.tokens[i - 1]),
                });
            }
        }
    }
}

/// Windows-1252: latin-1 except 0x80–0x9F, which hold punctuation (the five
/// unassigned bytes keep their latin-1 control code points).
pub fn decode_windows_1252(bytes: &[u8]) -> String {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    bytes
        .iter()
        .map(|&b| match b {
            0x80..=0x9f => HIGH[(b - 0x80) as usize],
            _ => b as char,
        })
        .collect()
}

/// Split one CSV record (RFC 4180 quoting, `""` inside quotes).
fn parse_csv_line(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut chars = line.chars().peekable();
    let mut quoted = false;
    let mut at_start = true;
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    cur.push('"');
                } else {
                    quoted = false;
                }
            } else {
                cur.push(c);
            }
        } else if c == '"' && at_start {
            quoted = true;
            at_start = false;
        } else if c == ',' {
            fields.push(std::mem::take(&mut cur));
            at_start = true;
        } else {
            cur.push(c);
            at_start = false;
        }
    }
    if quoted {
        return Err("unterminated quoted field".into());
    }
    fields.push(cur);
    Ok(fields)
}

fn parse_gmb_csv(text: &str, path: &Path) -> Result<Vec<RawSentence>, ConllError> {
    let malformed = |line: usize, reason: String| ConllError::Malformed {
        path: path.to_path_buf(),
        line,
        reason,
    };
    let mut out = Vec::new();
    let mut cur = RawSentence::default();
    for (idx, line) in text.lines().enumerate() {
        let n = idx + 1;
        if n == 1 {
            if line.trim() != "Sentence #,Word,POS,Tag" {
                return Err(malformed(n, format!("unexpected header `{line}`")));
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let f = parse_csv_line(line).map_err(|e| malformed(n, e))?;
        if f.len() != 4 {
            return Err(malformed(
                n,
                format!("expected 4 fields, found {}", f.len()),
            ));
        }
        if f[0].starts_with("Sentence:") {
            flush(&mut cur, &mut out);
        } else if !f[0].is_empty() {
            return Err(malformed(n, format!("unexpected first field `{}`", f[0])));
        }
        let tag = parse_raw_tag(&f[3])
            .ok_or_else(|| malformed(n, format!("`{}` is not an IOB tag", f[3])))?;
        let token = f[1].trim();
        if token.is_empty() {
            continue;
        }
        cur.tokens.push(token.to_string());
        cur.tags.push(tag);
        cur.lines.push(n);
    }
    flush(&mut cur, &mut out);
    Ok(out)
}

// ---------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A scratch directory removed on drop (no tempfile dependency).
    struct Scratch(PathBuf);

    impl Scratch {
        fn new() -> Self {
            static N: AtomicUsize = AtomicUsize::new(0);
            let p = std::env::temp_dir().join(format!(
                "conll-test-{}-{}",
                std::process::id(),
                N.fetch_add(1, Ordering::SeqCst)
            ));
            fs::create_dir_all(&p).unwrap();
            Scratch(p)
        }

        fn write(&self, rel: &str, content: &[u8]) -> PathBuf {
            let p = self.0.join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, content).unwrap();
            p
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.0);
        }
    }

    fn toks(s: &str) -> Vec<String> {
        s.split(' ').map(str::to_string).collect()
    }

    fn tags(s: &NerSentence) -> String {
        s.tags
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn conll_map(label: &str) -> Option<EntityType> {
        match label {
            "PER" => Some(EntityType::Per),
            "LOC" => Some(EntityType::Loc),
            _ => None,
        }
    }

    #[test]
    fn tag_and_type_round_trip() {
        for t in EntityType::ALL {
            assert_eq!(t.as_str().parse::<EntityType>().unwrap(), t);
            for tag in [Tag::B(t), Tag::I(t)] {
                assert_eq!(tag.to_string().parse::<Tag>().unwrap(), tag);
            }
        }
        assert_eq!(Tag::O.to_string(), "O");
        assert_eq!(Tag::B(EntityType::Per).to_string(), "B-PER");
        assert_eq!(Tag::I(EntityType::Gpe).to_string(), "I-GPE");
        assert!("B-FOO".parse::<Tag>().is_err());
        assert!("FAC".parse::<EntityType>().is_err());
    }

    #[test]
    fn generic_reader_space_and_tab_columns() {
        let d = Scratch::new();
        let p = d.write(
            "a.conll",
            b"John NNP B-PER\nlives VBZ O\n\nin\tIN\tO\nParis\tNNP\tB-LOC\n",
        );
        let s = read_conll(&p, &conll_map).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].tokens, ["John", "lives"]);
        assert_eq!(tags(&s[0]), "B-PER O");
        assert_eq!(tags(&s[1]), "O B-LOC");
        assert!(s[1].source.ends_with("a.conll:4"), "{}", s[1].source);
    }

    #[test]
    fn iob1_converted_and_adjacent_entities_kept_apart() {
        let d = Scratch::new();
        // IOB1: entities start with I-; B- only separates two adjacent ones.
        let p = d.write(
            "a.conll",
            b"-DOCSTART- O\n\nThe O\nMad I-PER\nCapsule I-PER\nBob B-PER\nvisited O\nRome I-LOC\n",
        );
        let s = read_conll(&p, &conll_map).unwrap();
        assert_eq!(s.len(), 1, "DOCSTART must not become a sentence");
        assert_eq!(tags(&s[0]), "O B-PER I-PER B-PER O B-LOC");
    }

    #[test]
    fn bioes_and_unmapped_labels() {
        let d = Scratch::new();
        let p = d.write(
            "a.tsv",
            b"New\tB-LOC\nYork\tE-LOC\nIBM\tS-ORG\nis\tO\nAl\tU-PER\n",
        );
        let s = read_conll(&p, &conll_map).unwrap();
        assert_eq!(tags(&s[0]), "B-LOC I-LOC O O B-PER");
    }

    #[test]
    fn crlf_bom_and_whitespace_separator_lines() {
        let d = Scratch::new();
        let p = d.write(
            "a.conll",
            "\u{feff}Bob\tB-PER\r\n\t\r\nAnn\tB-PER\r\n".as_bytes(),
        );
        let s = read_conll(&p, &conll_map).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].tokens, ["Bob"]);
        assert_eq!(s[1].tokens, ["Ann"]);
    }

    #[test]
    fn hash_lines_comment_or_token() {
        let d = Scratch::new();
        let p = d.write("a.conll", b"# sent_id = 1\n#\tO\nBob\tB-PER\n");
        let s = read_conll(&p, &conll_map).unwrap();
        assert_eq!(s[0].tokens, ["#", "Bob"]);
    }

    #[test]
    fn malformed_lines_are_errors_with_file_and_line() {
        let d = Scratch::new();
        let p = d.write("bad.conll", b"Bob B-PER\nlonely\n");
        let e = read_conll(&p, &conll_map).unwrap_err();
        assert!(matches!(e, ConllError::Malformed { line: 2, .. }), "{e}");
        assert!(e.to_string().contains("bad.conll:2"), "{e}");

        let p = d.write("bad2.conll", b"Bob\tX-PER\n");
        let e = read_conll(&p, &conll_map).unwrap_err();
        assert!(e.to_string().contains("bad2.conll:1"), "{e}");
        assert!(e.to_string().contains("X-PER"), "{e}");

        let p = d.write("bad3.conll", b"Bob\tB-PER\n\xff\tO\n");
        let e = read_conll(&p, &conll_map).unwrap_err();
        assert!(e.to_string().contains("bad3.conll:2"), "{e}");

        let e = read_conll(&d.0.join("missing.conll"), &conll_map).unwrap_err();
        assert!(matches!(e, ConllError::Io { .. }));
        assert!(e.to_string().contains("missing.conll"));
    }

    #[test]
    fn crossner_mapping_and_iob2_repair() {
        let d = Scratch::new();
        d.write(
            "crossner_politics/dev.txt",
            "Obama\tB-politician\nBiden\tI-person\nin\tO\nTexas\tB-location\n,\tO\n\
             Gulf\tB-location\nof\tI-location\nMexico\tI-location\n,\tO\n\
             American\tB-misc\nWorld\tB-misc\nWar\tI-misc\nII\tI-misc\n\
             Deutschemark\tB-misc\n\nparty\tI-politicalparty\n"
                .as_bytes(),
        );
        let ds = load("crossner_politics:dev", &d.0).unwrap();
        assert_eq!(ds.name, "crossner_politics:dev");
        assert_eq!(
            tags(&ds.sentences[0]),
            "B-PER B-PER O B-GPE O B-LOC I-LOC I-LOC O B-NORP B-EVENT I-EVENT I-EVENT B-MISC"
        );
        assert_eq!(ds.sentences[0].source, "crossner_politics/dev.txt:1");
        // Two repairs: I-person after B-politician, and I- at sentence start.
        assert_eq!(ds.issues.len(), 2, "{:?}", ds.issues);
        assert_eq!(ds.issues[1].source, "crossner_politics/dev.txt:16");
        assert_eq!(tags(&ds.sentences[1]), "B-ORG");
        assert_eq!(ds.labelled.len(), 7);
    }

    #[test]
    fn unknown_label_in_fixed_table_is_an_error() {
        let d = Scratch::new();
        d.write("crossner_politics/test.txt", b"x\tO\ny\tB-scientist\n");
        let e = load("crossner_politics:test", &d.0).unwrap_err();
        assert!(
            matches!(&e, ConllError::UnknownLabel { line: 2, label, .. } if label == "scientist"),
            "{e}"
        );
        assert!(e.to_string().contains("test.txt:2"));
    }

    #[test]
    fn btc_trailing_spaces_and_empty_tokens() {
        let d = Scratch::new();
        d.write(
            "btc/g.conll",
            b"#UN\tB-ORG\nMH17 \tO\n \tO\n\tO\nLondon\tB-LOC\n",
        );
        let ds = load("btc:g", &d.0).unwrap();
        assert_eq!(ds.sentences[0].tokens, ["#UN", "MH17", "London"]);
        assert_eq!(tags(&ds.sentences[0]), "B-ORG O B-GPE");
        assert_eq!(ds.issues.len(), 2);
        assert_eq!(ds.issues[0].source, "btc/g.conll:3");
        assert!(!ds.is_labelled(EntityType::Norp));
        assert!(load("btc:z", &d.0).is_err());
    }

    #[test]
    fn wnut17_mapping_and_tab_separator() {
        let d = Scratch::new();
        d.write(
            "wnut17/wnut17train.conll",
            b"Empire\tB-location\nState\tI-location\nBuilding\tI-location\n\t\nApple\tB-corporation\niPhone\tB-product\nBeatles\tB-group\n",
        );
        let ds = load("wnut17:train", &d.0).unwrap();
        assert_eq!(ds.sentences.len(), 2);
        assert_eq!(tags(&ds.sentences[0]), "B-LOC I-LOC I-LOC");
        assert_eq!(tags(&ds.sentences[1]), "B-ORG B-MISC B-ORG");
    }

    #[test]
    fn uner_columns_and_comments() {
        let d = Scratch::new();
        d.write(
            "uner_en_ewt/en_ewt-ud-dev.iob2",
            b"# newdoc id = x\n# sent_id = x-1\n# text = in tampa bay\n1\tin\tO\t-\t-\n2\ttampa\tB-LOC\t-\tstephen\n3\tbay\tI-LOC\t-\tstephen\n\n# sent_id = x-2\n1\tBob\tB-PER\t-\t-\n",
        );
        let ds = load("uner_en_ewt:dev", &d.0).unwrap();
        assert_eq!(ds.sentences.len(), 2);
        assert_eq!(ds.sentences[0].tokens, ["in", "tampa", "bay"]);
        // "bay" is a LOC word: Tampa Bay the area reads as LOC.
        assert_eq!(tags(&ds.sentences[0]), "O B-LOC I-LOC");
        assert_eq!(ds.sentences[1].source, "uner_en_ewt/en_ewt-ud-dev.iob2:9");
        let e = load("uner_en_ewt:train", &d.0).unwrap_err();
        assert!(e.to_string().contains("en_ewt-ud-train.iob2"), "{e}");
    }

    #[test]
    fn re3d_names_only_trimming_and_country_agents() {
        let d = Scratch::new();
        d.write(
            "re3d/conll_by_source/CENTCOM/A.conll",
            "He\tB-Person\nsaid\tO\nthe\tB-Location\ncity\tI-Location\nof\tI-Location\nMosul\tI-Location\n\
             and\tO\nIraq\tB-Location\nand\tO\nISIL\tB-Organisation\ntactical\tI-Organisation\nunits\tI-Organisation\n\
             Iraq\tB-Organisation\nthe\tB-Organisation\nal\tI-Organisation\n-\tI-Organisation\nQaida\tI-Organisation\n\
             Syrian\tB-Nationality\nTuesday\tB-Temporal\n\nIraq\tB-Location\nthe\tB-Location\nTigris\tI-Location\nRiver\tI-Location\n"
                .as_bytes(),
        );
        d.write(
            "re3d/conll_by_source/BBC_Online/B.conll",
            b"BBC\tB-Organisation\n",
        );
        d.write(
            "re3d/conll_by_source/US_State_Department/C.conll",
            b"Kerry\tB-Person\n",
        );
        let ds = load("re3d:-US_State_Department", &d.0).unwrap();
        assert_eq!(ds.sentences.len(), 2, "BBC and State Department excluded");
        assert_eq!(
            tags(&ds.sentences[0]),
            "O O O O O B-GPE O B-GPE O O O O B-GPE O B-ORG I-ORG I-ORG B-NORP O"
        );
        assert_eq!(tags(&ds.sentences[1]), "B-GPE O B-LOC I-LOC");
        assert!(ds.issues.iter().any(|i| i.source.contains("BBC_Online")));
        assert!(ds.span_mapping[&("Person".to_string(), None)] == 1);

        let test = load("re3d:US_State_Department", &d.0).unwrap();
        assert_eq!(test.sentences.len(), 1);
        assert!(!test.is_labelled(EntityType::Misc));
        assert!(load("re3d:BBC_Online", &d.0).is_err());
        assert!(load("re3d:Nowhere", &d.0).is_err());
    }

    fn write_zip(path: &Path, name: &str, data: &[u8]) {
        let f = fs::File::create(path).unwrap();
        let mut z = zip::ZipWriter::new(f);
        let opts =
            zip::write::FileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        z.start_file(name, opts).unwrap();
        std::io::Write::write_all(&mut z, data).unwrap();
        z.finish().unwrap();
    }

    #[test]
    fn gmb_zip_csv_windows_1252() {
        let d = Scratch::new();
        let mut csv = b"Sentence #,Word,POS,Tag\r\nSentence: 1,Fr\xe9d\xe9ric,NNP,B-per\r\n,said,VBD,O\r\n,\"\"\"\",``,O\r\n,\"10,000\",CD,O\r\n,Iraqi,JJ,B-gpe\r\n,Nepal,NNP,B-gpe\r\n,it\x92s,NN,O\r\n,Monday,NNP,B-tim\r\nSentence: 2,Nepal,NNP,B-geo\r\n,Nepal,NNP,B-geo\r\n,Middle,NNP,B-geo\r\n,East,NNP,I-geo\r\n".to_vec();
        csv.extend_from_slice(b",World,NNP,B-eve\r\n,Cup,NNP,I-eve\r\n");
        csv.extend_from_slice(
            b",U.S.,NNP,B-org\r\n,World,NNP,O\r\n,War,NNP,O\r\n,II,NNP,B-eve\r\n",
        );
        fs::create_dir_all(d.0.join("gmb_kaggle")).unwrap();
        write_zip(
            &d.0.join("gmb_kaggle/ner_dataset.csv.zip"),
            "ner_dataset.csv",
            &csv,
        );
        let ds = load("gmb", &d.0).unwrap();
        assert_eq!(ds.sentences.len(), 2);
        let s = &ds.sentences[0];
        assert_eq!(
            s.tokens,
            [
                "Frédéric",
                "said",
                "\"",
                "10,000",
                "Iraqi",
                "Nepal",
                "it’s",
                "Monday"
            ]
        );
        assert_eq!(tags(s), "B-PER O O O B-NORP B-GPE O O");
        assert_eq!(s.source, "gmb_kaggle/ner_dataset.csv.zip:2");
        assert_eq!(
            tags(&ds.sentences[1]),
            "B-GPE B-GPE B-LOC I-LOC B-EVENT I-EVENT B-GPE B-EVENT I-EVENT I-EVENT"
        );
        assert_eq!(ds.issues.len(), 1, "{:?}", ds.issues);
        assert_eq!(ds.issues[0].source, "gmb_kaggle/ner_dataset.csv.zip:17");
    }

    #[test]
    fn gmb_malformed_rows() {
        let d = Scratch::new();
        fs::create_dir_all(d.0.join("gmb_kaggle")).unwrap();
        let zp = d.0.join("gmb_kaggle/ner_dataset.csv.zip");
        write_zip(
            &zp,
            "ner_dataset.csv",
            b"Sentence #,Word,POS,Tag\nSentence: 1,a,DT\n",
        );
        let e = load("gmb", &d.0).unwrap_err();
        assert!(e.to_string().contains("ner_dataset.csv.zip:2"), "{e}");
        write_zip(
            &zp,
            "ner_dataset.csv",
            b"Sentence #,Word,POS,Tag\n,\"a,DT,O\n",
        );
        assert!(load("gmb", &d.0).is_err());
        fs::write(&zp, b"not a zip").unwrap();
        assert!(matches!(load("gmb", &d.0), Err(ConllError::Zip { .. })));
    }

    #[test]
    fn csv_and_cp1252() {
        assert_eq!(
            parse_csv_line(",\"\"\"\",``,O").unwrap(),
            ["", "\"", "``", "O"]
        );
        assert_eq!(
            parse_csv_line(",\",\",\",\",O").unwrap(),
            ["", ",", ",", "O"]
        );
        assert!(parse_csv_line(",\"x,O").is_err());
        assert_eq!(decode_windows_1252(b"\x85\x92\x96\xe9\xa0"), "…’–é\u{a0}");
    }

    #[test]
    fn place_heuristic() {
        for (s, t) in [
            ("Syria", EntityType::Gpe),
            ("New York City", EntityType::Gpe),
            ("Salt Lake City", EntityType::Gpe),
            ("Gaza Strip", EntityType::Gpe),
            ("Europe", EntityType::Loc),
            ("the Middle East", EntityType::Loc),
            ("Tigris River", EntityType::Loc),
            ("Mount Sinjar", EntityType::Loc),
            ("Persian Gulf", EntityType::Loc),
            ("Empire State Building", EntityType::Loc),
            ("South Africa", EntityType::Gpe),
            ("southern Africa", EntityType::Loc),
            ("Ivory Coast", EntityType::Gpe),
            ("Solomon Islands", EntityType::Gpe),
            ("Cape Town", EntityType::Gpe),
            ("the United States", EntityType::Gpe),
        ] {
            assert_eq!(place_type(&toks(s)), t, "{s}");
        }
    }

    #[test]
    fn misc_heuristic() {
        for (s, t) in [
            ("American", EntityType::Norp),
            ("Christian Democrats", EntityType::Norp),
            ("African-American", EntityType::Norp),
            ("Jews", EntityType::Norp),
            ("Dutch", EntityType::Norp),
            ("Republicans", EntityType::Norp),
            ("Catholic", EntityType::Norp),
            ("World War II", EntityType::Event),
            ("Stanley Cup", EntityType::Event),
            ("Operation Overlord", EntityType::Event),
            ("Deutschemark", EntityType::Misc),
            ("Phantom II", EntityType::Misc),
            ("MEPs", EntityType::Misc),
            ("Mediterranean", EntityType::Misc),
            ("Pact of Democrats", EntityType::Misc),
            ("communist", EntityType::Norp),
            ("Christian democrats", EntityType::Norp),
            ("Israelis", EntityType::Norp),
            ("Pakistani", EntityType::Norp),
            ("Democratic congressman", EntityType::Misc),
            ("pro-Spanish", EntityType::Misc),
            ("then-North Korean", EntityType::Misc),
            ("Cannabis", EntityType::Misc),
            ("Sukiyaki", EntityType::Misc),
            ("liberalism", EntityType::Misc),
            ("Olympic", EntityType::Misc),
        ] {
            assert_eq!(misc_type(&toks(s)), t, "{s}");
        }
    }

    #[test]
    fn re3d_name_filter() {
        for (s, want) in [
            ("he", None),
            ("He", None),
            ("We", None),
            ("the city", None),
            ("ISIL tactical units", None),
            ("U.S. service members", None),
            ("one of our brave service members", None),
            ("the city of Mosul", Some("Mosul")),
            ("eastern Aleppo", Some("Aleppo")),
            ("the Government of Iraq", Some("Government of Iraq")),
            ("the al - Qaida", Some("al - Qaida")),
            ("Washington , D . C .", Some("Washington , D . C .")),
            ("CTF 50", Some("CTF 50")),
            (
                "Lt. Gen. Stephen J. Townsend",
                Some("Lt. Gen. Stephen J. Townsend"),
            ),
        ] {
            let t = toks(s);
            let got = re3d_name_start(&t).map(|i| t[i..].join(" "));
            assert_eq!(got.as_deref(), want, "{s}");
        }
    }

    #[test]
    fn bad_names() {
        let d = Scratch::new();
        for n in [
            "nope",
            "crossner_politics",
            "crossner_politics:val",
            "wikigold:x",
            "gmb:1",
        ] {
            assert!(
                matches!(load(n, &d.0), Err(ConllError::BadName { .. })),
                "{n}"
            );
        }
    }

    // ---- real data: skipped at run time when the data directory is absent ----

    fn data_root() -> Option<PathBuf> {
        let p = std::env::var_os("STANCEMINE_NER_DATA")
            .map(PathBuf::from)
            .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/ner"));
        if p.join("SOURCES.md").exists() {
            Some(p)
        } else {
            eprintln!("skipping: NER data not found at {}", p.display());
            None
        }
    }

    /// Load, print the summary, mapping audit and first issues, and check the
    /// invariants every reader promises.
    fn check_real(name: &str, want_sentences: Option<usize>) -> Option<Dataset> {
        let root = data_root()?;
        let ds = load(name, &root).unwrap_or_else(|e| panic!("{name}: {e}"));
        println!("{}", ds.summary());
        for ((label, ty), n) in &ds.span_mapping {
            let ty = ty.map_or("O", |t| t.as_str());
            println!("    {label:>20} -> {ty:<5} {n}");
        }
        for i in ds.issues.iter().take(5) {
            println!("    issue {}: {}", i.source, i.message);
        }
        if let Some(n) = want_sentences {
            assert_eq!(ds.sentences.len(), n, "{name}");
        }
        for s in &ds.sentences {
            assert_eq!(s.tokens.len(), s.tags.len(), "{}", s.source);
            assert!(!s.tokens.is_empty(), "{}", s.source);
            let mut prev = Tag::O;
            for (tok, tag) in s.tokens.iter().zip(&s.tags) {
                assert!(!tok.trim().is_empty(), "{}", s.source);
                if let Tag::I(t) = tag {
                    assert_eq!(prev.entity(), Some(*t), "invalid IOB2 at {}", s.source);
                }
                if let Some(t) = tag.entity() {
                    assert!(ds.is_labelled(t), "{t} not labelled in {name}");
                }
                prev = *tag;
            }
        }
        Some(ds)
    }

    #[test]
    fn real_crossner_politics() {
        check_real("crossner_politics:train", Some(200));
        check_real("crossner_politics:dev", Some(541));
        check_real("crossner_politics:test", Some(651));
    }

    #[test]
    fn real_re3d() {
        let all = check_real("re3d", None);
        let train = check_real("re3d:-US_State_Department", None);
        let test = check_real("re3d:US_State_Department", None);
        if let (Some(a), Some(tr), Some(te)) = (all, train, test) {
            assert_eq!(a.sentences.len(), tr.sentences.len() + te.sentences.len());
            assert!(a.sentences.iter().all(|s| !s.source.contains("BBC_Online")));
        }
    }

    #[test]
    fn real_wikigold() {
        check_real("wikigold", Some(1696));
    }

    #[test]
    fn real_btc() {
        check_real("btc", None);
        check_real("btc:g", None);
    }

    #[test]
    fn real_wnut17() {
        for s in ["train", "dev", "test"] {
            check_real(&format!("wnut17:{s}"), None);
        }
    }

    #[test]
    fn real_uner_en_ewt() {
        // Sentence counts from the set's own .stats files.
        check_real("uner_en_ewt:dev", Some(2001));
        check_real("uner_en_ewt:test", Some(2077));
    }

    #[test]
    fn real_gmb() {
        check_real("gmb", Some(47_959));
    }
}
