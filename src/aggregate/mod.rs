//! Aggregation: sentence stances into article and actor stances
//! ([`article`]), articles into corpus-wide tables ([`corpus`]), and the
//! comparison of article stances with hand-made gold ([`eval`]).
//! Every function here is pure: no model, no I/O beyond reading gold files.

pub mod article;
pub mod corpus;
pub mod eval;

/// Slug of a canonical name (`Kim Jong-un` → `kim-jong-un`), the form of
/// actor ids.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.to_lowercase().chars() {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_string()
}

#[cfg(test)]
mod tests {
    #[test]
    fn slugs_join_words_with_single_hyphens() {
        assert_eq!(super::slug("Kim Jong-un"), "kim-jong-un");
        assert_eq!(
            super::slug("  U.S. State Department "),
            "u-s-state-department"
        );
    }
}
