//! People: the one form in which authors, approvers and group members compare.
//!
//! Logins from GitHub, GitLab and LDAP are case-insensitive, and the same name can be
//! written in more than one Unicode spelling (NFC or NFD `josé`, fullwidth letters).
//! So every name is reduced to one canonical form before it is compared, and a name
//! that hides something a reviewer cannot see is refused rather than guessed at.
//!
//! The canonical form is the *compatibility caseless* form of Unicode (chapter 3,
//! definition D146: `NFKD(toCasefold(NFKD(toCasefold(NFD(X)))))`), composed again
//! with NFKC so it prints as people write it, after surrounding white space is
//! removed. `toCasefold` is full case folding (CaseFolding.txt, statuses C and F), not
//! `str::to_lowercase`: folding maps `ß` and `ẞ` to `ss` and final `ς` to `σ`, which
//! lowercasing does not, so `Straße` and `STRASSE` are one person.

use std::fmt;

use icu_casemap::CaseMapper;
use icu_normalizer::{ComposingNormalizerBorrowed, DecomposingNormalizerBorrowed};
use icu_properties::props::GeneralCategory;
use icu_properties::CodePointMapData;

/// A name that cannot stand for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameError {
    /// Nothing is left once surrounding white space is removed.
    Empty,
    /// The name holds a character a reader cannot see or that controls how text is
    /// shown: a control (`Cc`), format (`Cf`, e.g. bidi overrides), line or paragraph
    /// separator, a default-ignorable code point (zero-width space, variation
    /// selectors, Hangul fillers, …), or an unassigned or private-use code point.
    Hidden {
        /// The name, escaped for printing.
        name: String,
        /// The offending character.
        ch: char,
    },
}

impl fmt::Display for NameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            NameError::Empty => f.write_str("the name is empty"),
            NameError::Hidden { name, ch } => write!(
                f,
                "the name `{name}` holds U+{:04X}, {}: write the name without it",
                u32::from(*ch),
                describe(*ch)
            ),
        }
    }
}

impl std::error::Error for NameError {}

/// What kind of hidden character `c` is, for messages.
fn describe(c: char) -> &'static str {
    match CodePointMapData::<GeneralCategory>::new().get(c) {
        GeneralCategory::Control => "a control character",
        GeneralCategory::Format => "an invisible format character",
        GeneralCategory::LineSeparator | GeneralCategory::ParagraphSeparator => {
            "a line or paragraph separator"
        }
        GeneralCategory::Unassigned => "an unassigned code point",
        GeneralCategory::PrivateUse => "a private-use code point",
        _ => "an invisible character",
    }
}

/// Whether `c` may not appear in a person's name: hidden (see [`crate::terminal::is_hidden`]), or a
/// code point whose normalization may change with a later Unicode version.
fn refused(c: char) -> bool {
    crate::terminal::is_hidden(c)
        || matches!(
            CodePointMapData::<GeneralCategory>::new().get(c),
            GeneralCategory::Unassigned | GeneralCategory::PrivateUse
        )
}

/// The canonical form of a person's name: trimmed, compatibility-normalized and
/// case-folded (see the module documentation). `Dave`, ` dave `, `ＤＡＶＥ` all give
/// `dave`.
///
/// ```
/// use changegate::people::canonical;
/// assert_eq!(canonical("Dave ").unwrap(), "dave");
/// assert_eq!(canonical("jose\u{301}").unwrap(), canonical("JOSÉ").unwrap());
/// assert_eq!(canonical("Straße").unwrap(), "strasse");
/// assert!(canonical("dave\u{200b}").is_err());
/// ```
pub fn canonical(name: &str) -> Result<String, NameError> {
    // Controls are refused anywhere, even at the ends (`"dave\n"`): only visible
    // white space is trimmed.
    if let Some(ch) = name.chars().find(|&c| refused(c)) {
        return Err(NameError::Hidden {
            name: crate::terminal::escape(name).to_string(),
            ch,
        });
    }
    let trimmed = name.trim();
    let nfd = DecomposingNormalizerBorrowed::new_nfd();
    let nfkd = DecomposingNormalizerBorrowed::new_nfkd();
    let fold = CaseMapper::new();
    let once = nfkd
        .normalize(&fold.fold_string(&nfd.normalize(trimmed)))
        .into_owned();
    let twice = nfkd.normalize(&fold.fold_string(&once)).into_owned();
    let composed = ComposingNormalizerBorrowed::new_nfkc().normalize(&twice);
    let out = composed.trim();
    if out.is_empty() {
        return Err(NameError::Empty);
    }
    Ok(out.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_person() {
        for (a, b) in [
            ("Dave", "dave"),
            ("dave ", "dave"),
            ("\u{3000}dave\u{a0}", "dave"),
            ("ＤＡＶＥ", "dave"),
            ("jose\u{301}", "jos\u{e9}"),
            ("JOS\u{c9}", "jos\u{e9}"),
            ("Straße", "strasse"),
            ("STRASSE", "strasse"),
            ("ẞ", "ss"),
            ("ΣΊΣΥΦΟΣ", "σίσυφοσ"),
            ("σίσυφος", "σίσυφοσ"),
            ("ﬁona", "fiona"),
            ("K", "k"), // KELVIN SIGN
            ("Å", "å"), // ANGSTROM SIGN
            ("İlker", "i\u{307}lker"),
            ("ǅ", "dž"),
            ("𝐝𝐚𝐯𝐞", "dave"), // mathematical bold
        ] {
            assert_eq!(
                canonical(a).unwrap(),
                canonical(b).unwrap(),
                "{a:?} vs {b:?}"
            );
        }
        // Lowercasing alone would not have joined these.
        assert_ne!("Straße".to_lowercase(), "STRASSE".to_lowercase());
        assert_ne!(canonical("dave").unwrap(), canonical("dav").unwrap());
    }

    #[test]
    fn hidden_characters_are_refused() {
        for name in [
            "dave\u{200b}",  // zero-width space
            "da\u{200d}ve",  // zero-width joiner
            "dave\u{feff}",  // BOM
            "\u{202e}evad",  // right-to-left override
            "dave\u{2066}",  // left-to-right isolate
            "dave\u{61c}",   // Arabic letter mark
            "dave\u{ad}",    // soft hyphen
            "dave\u{34f}",   // combining grapheme joiner
            "dave\u{fe0f}",  // variation selector
            "dave\u{e0061}", // tag character
            "dave\u{3164}",  // Hangul filler
            "dave\u{1b}[2K", // ESC
            "dave\n",
            "dave\t",
            "\u{85}dave", // NEL
            "da\u{2028}ve",
            "dave\u{9b}",     // CSI (C1)
            "dave\u{e000}",   // private use
            "dave\u{10ffff}", // noncharacter, unassigned
        ] {
            match canonical(name) {
                Err(NameError::Hidden { .. }) => {}
                other => panic!("{name:?}: {other:?}"),
            }
        }
        assert_eq!(canonical("   "), Err(NameError::Empty));
        assert_eq!(canonical(""), Err(NameError::Empty));
        let message = canonical("dave\u{1b}[31m").unwrap_err().to_string();
        assert!(!message.contains('\u{1b}'), "{message}");
        assert!(message.contains("U+001B"), "{message}");
    }

    #[test]
    fn canonical_is_idempotent() {
        for name in ["Dave", "ǅemal", "ΣΊΣΥΦΟΣ", "ﬃ", "ⅸ", "㎒", "İ"] {
            let once = canonical(name).unwrap();
            assert_eq!(canonical(&once).unwrap(), once, "{name:?}");
        }
    }
}
