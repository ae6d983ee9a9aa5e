//! NER: entity spans (PER, ORG, GPE, LOC, NORP, EVENT, MISC) in article text.
//!
//! - [`conll`] reads the public NER training sets and users' CoNLL files,
//!   mapping each set's types onto stancemine's seven;
//! - [`model`] is the token classifier; [`annotate`] runs it over articles;
//! - [`train`] trains and scores it; [`spans`] turns tags into spans and
//!   scores spans.

pub mod annotate;
pub mod conll;
pub mod model;
pub mod spans;
pub mod train;
