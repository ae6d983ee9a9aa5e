//! NER: entity spans (PER, ORG, GPE, LOC, NORP, EVENT, MISC) in article text.
//!
//! - [`conll`] reads the public NER training sets and users' CoNLL files,
//!   mapping each set's types onto stancemine's seven.

pub mod conll;
