//! The syntax stage's errors as data: one variant per kind of problem, each with the
//! code and the message the user sees. The parser turns them into the crate's
//! [`Diagnostic`] (adding the labels and help that depend on the source) with
//! [`SyntaxError::into_diagnostic`].
//!
//! Each variant's doc shows an input that triggers it.

use crate::diag::{Diagnostic, SourceFile};
use crate::limits::Limit;

/// What is wrong with a policy's text.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub(crate) enum SyntaxError {
    /// A bidirectional control anywhere in the file: `rule "a\u{202E}b" { … }`.
    #[error("bidirectional control `{codepoint}` in {place}")]
    #[diagnostic(code(changegate::text_direction_codepoint))]
    TextDirection {
        /// The character as `U+XXXX`.
        codepoint: String,
        /// Where it sits: "the policy", "a string literal" or "a comment".
        place: &'static str,
    },
    /// An invisible character anywhere in the file: `rule "a\u{200B}b" { … }`.
    #[error("invisible character `{codepoint}` in {place}")]
    #[diagnostic(code(changegate::invisible_character))]
    InvisibleCharacter {
        /// The character as `U+XXXX`.
        codepoint: String,
        /// Where it sits: "the policy", "a string literal" or "a comment".
        place: &'static str,
    },
    /// The parser's thread panicked or could not be started (a bug, never expected).
    #[error("the parser failed unexpectedly; please report this policy")]
    #[diagnostic(code(changegate::internal))]
    Internal,
    /// A file over `Limits::max_source_bytes`: a 2 MB policy with the default limits.
    #[error("the policy is {bytes} bytes, more than the limit of {limit} bytes")]
    #[diagnostic(code(changegate::too_large))]
    TooLarge {
        /// The file's size.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// More items than `Limits::max_items`: `default deploy` twice with a limit of 1.
    #[error("the policy has more than {limit} items")]
    #[diagnostic(code(changegate::too_many_items))]
    TooManyItems {
        /// The limit.
        limit: usize,
    },
    /// A string whose line ends before its closing quote: `policy "netops`.
    #[error("unterminated string")]
    #[diagnostic(code(changegate::syntax))]
    UnterminatedString,
    /// Something other than an item keyword where an item must start: `rules "r" {`.
    #[error("expected an item (`policy`, `import`, `group`, `window`, `freeze`, `rule` or `default`), found {found}")]
    #[diagnostic(code(changegate::syntax))]
    ExpectedItem {
        /// What was found: a quoted token or "the end of the file".
        found: String,
    },
    /// Any other token the grammar does not allow where it stands:
    /// `rule "r" { when change.kind = "x" then deploy }`.
    #[error("expected {expected}, found {found}")]
    #[diagnostic(code(changegate::syntax))]
    Unexpected {
        /// What the grammar allows there, in words (`` `and`, `or` or an operator ``).
        expected: String,
        /// What was found: a quoted token or "the end of the file".
        found: String,
    },
    /// Brackets nested past `Limits::max_depth`, found before the grammar runs:
    /// `rule "r" { when ((((…(change.risk > 1)…)))) then deploy }` 300 levels deep.
    #[error("brackets nest deeper than the limit of {limit}")]
    #[diagnostic(code(changegate::too_deep))]
    TooDeepBrackets {
        /// The depth limit.
        limit: usize,
    },
    /// An expression nested past `Limits::max_depth` without brackets:
    /// `not not not … change.ok` with more `not`s than the limit.
    #[error("this expression nests deeper than the limit of {limit}")]
    #[diagnostic(code(changegate::too_deep))]
    TooDeepExpression {
        /// The depth limit.
        limit: usize,
    },
    /// A list longer than `Limits::max_list_len`: `group g = ["a", "b"]` with a limit of 1.
    #[error("this list has {len} items, more than the limit of {limit}")]
    #[diagnostic(code(changegate::too_long))]
    TooLongList {
        /// The list's length.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// A string longer than `Limits::max_string_len`: `policy "abc"` with a limit of 2.
    #[error("this string is {len} bytes, more than the limit of {limit}")]
    #[diagnostic(code(changegate::too_long))]
    TooLongString {
        /// The string's length in bytes, escapes as written.
        len: usize,
        /// The limit.
        limit: usize,
    },
    /// An escape other than `\"`, `\\`, `\n`, `\t`, `\r`: `policy "a\qb"`.
    #[error("unknown escape `{escape}` in a string")]
    #[diagnostic(code(changegate::bad_escape))]
    BadEscape {
        /// The escape as written (`\q`).
        escape: String,
    },
    /// An approval count that is not a `u64`: `then approve -1 from ops`.
    #[error("`{text}` is not a number of people")]
    #[diagnostic(code(changegate::bad_count))]
    BadCount {
        /// The count as written.
        text: String,
    },
    /// An integer literal outside `i64`: `when change.risk > 99999999999999999999`.
    #[error("`{text}` does not fit in a 64-bit integer")]
    #[diagnostic(code(changegate::bad_integer))]
    BadInteger {
        /// The integer as written.
        text: String,
    },
}

impl SyntaxError {
    /// The error's code, as `#[diagnostic(code(…))]` gives it (a test checks they agree):
    /// the crate's [`Diagnostic`] keeps codes as `&'static str`.
    pub(crate) fn code(&self) -> &'static str {
        match self {
            SyntaxError::TextDirection { .. } => "changegate::text_direction_codepoint",
            SyntaxError::InvisibleCharacter { .. } => "changegate::invisible_character",
            SyntaxError::Internal => "changegate::internal",
            SyntaxError::TooLarge { .. } => "changegate::too_large",
            SyntaxError::TooManyItems { .. } => "changegate::too_many_items",
            SyntaxError::UnterminatedString
            | SyntaxError::ExpectedItem { .. }
            | SyntaxError::Unexpected { .. } => "changegate::syntax",
            SyntaxError::TooDeepBrackets { .. } | SyntaxError::TooDeepExpression { .. } => {
                "changegate::too_deep"
            }
            SyntaxError::TooLongList { .. } | SyntaxError::TooLongString { .. } => {
                "changegate::too_long"
            }
            SyntaxError::BadEscape { .. } => "changegate::bad_escape",
            SyntaxError::BadCount { .. } => "changegate::bad_count",
            SyntaxError::BadInteger { .. } => "changegate::bad_integer",
        }
    }

    /// The limit this error reports reaching, if it is a limit error.
    pub(crate) fn limit(&self) -> Option<Limit> {
        match self {
            SyntaxError::TooLarge { .. } => Some(Limit::SourceBytes),
            SyntaxError::TooManyItems { .. } => Some(Limit::Items),
            SyntaxError::TooDeepBrackets { .. } | SyntaxError::TooDeepExpression { .. } => {
                Some(Limit::Depth)
            }
            SyntaxError::TooLongList { .. } => Some(Limit::ListLen),
            SyntaxError::TooLongString { .. } => Some(Limit::StringLen),
            SyntaxError::TextDirection { .. }
            | SyntaxError::InvisibleCharacter { .. }
            | SyntaxError::Internal
            | SyntaxError::UnterminatedString
            | SyntaxError::ExpectedItem { .. }
            | SyntaxError::Unexpected { .. }
            | SyntaxError::BadEscape { .. }
            | SyntaxError::BadCount { .. }
            | SyntaxError::BadInteger { .. } => None,
        }
    }

    /// The error as the crate's diagnostic in `file`, without labels or help (the
    /// caller adds those): code and message as the user sees them, and for a limit
    /// error which limit ([`Diagnostic::limit`]).
    pub(crate) fn into_diagnostic(self, file: &SourceFile) -> Diagnostic {
        let d = Diagnostic::error(self.code(), file, self.to_string());
        match self.limit() {
            Some(limit) => d.with_limit(limit),
            None => d,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::SyntaxError;

    /// One of each variant.
    fn all() -> Vec<SyntaxError> {
        let s = String::new;
        vec![
            SyntaxError::TextDirection {
                codepoint: s(),
                place: "",
            },
            SyntaxError::InvisibleCharacter {
                codepoint: s(),
                place: "",
            },
            SyntaxError::Internal,
            SyntaxError::TooLarge { bytes: 0, limit: 0 },
            SyntaxError::TooManyItems { limit: 0 },
            SyntaxError::UnterminatedString,
            SyntaxError::ExpectedItem { found: s() },
            SyntaxError::Unexpected {
                expected: s(),
                found: s(),
            },
            SyntaxError::TooDeepBrackets { limit: 0 },
            SyntaxError::TooDeepExpression { limit: 0 },
            SyntaxError::TooLongList { len: 0, limit: 0 },
            SyntaxError::TooLongString { len: 0, limit: 0 },
            SyntaxError::BadEscape { escape: s() },
            SyntaxError::BadCount { text: s() },
            SyntaxError::BadInteger { text: s() },
        ]
    }

    #[test]
    fn codes_agree_with_the_derived_ones() {
        for e in all() {
            let derived = miette::Diagnostic::code(&e).map(|c| c.to_string());
            assert_eq!(derived.as_deref(), Some(e.code()), "{e:?}");
        }
    }

    /// The limit errors, and only they, name their limit on the diagnostic.
    #[test]
    fn limit_errors_name_their_limit() {
        let file = crate::diag::SourceFile::new("x.gate", "");
        for e in all() {
            let limit_code = matches!(
                e.code(),
                "changegate::too_large"
                    | "changegate::too_many_items"
                    | "changegate::too_deep"
                    | "changegate::too_long"
            );
            let limit = e.limit();
            assert_eq!(limit.is_some(), limit_code, "{e:?}");
            assert_eq!(e.into_diagnostic(&file).limit, limit);
        }
    }
}
