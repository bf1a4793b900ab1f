//! A lexical split of policy source into string literals, comments and single code
//! bytes: what the bracket-depth pre-check and the formatter's comment collector both
//! need, without running the grammar.
//!
//! Line breaks are the grammar's (LF, CR, VT, FF, NEL, U+2028,
//! U+2029), so a comment never runs past a line an editor shows as ended.
//! `SourceFile` text only holds LF; the other terminators matter on raw text.

/// Whether a line break starts at byte `i` of `bytes`.
pub(crate) fn line_break_at(bytes: &[u8], i: usize) -> bool {
    match bytes.get(i) {
        Some(b'\n' | b'\r' | 0x0B | 0x0C) => true,
        Some(0xC2) => bytes.get(i + 1) == Some(&0x85),
        Some(0xE2) => {
            bytes.get(i + 1) == Some(&0x80) && matches!(bytes.get(i + 2), Some(0xA8 | 0xA9))
        }
        _ => false,
    }
}

/// What a piece of source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Piece {
    /// One byte outside strings and comments (white space included).
    Code(u8),
    /// A string literal, quotes included (an unterminated one ends at the line's end).
    Str,
    /// A `#` comment, up to (not including) the line break.
    Comment,
}

/// The pieces of `src` in order, each with its byte range.
pub(crate) fn pieces(src: &str) -> impl Iterator<Item = (Piece, usize, usize)> + '_ {
    let bytes = src.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        let start = i;
        let b = *bytes.get(i)?;
        match b {
            b'"' => {
                i += 1;
                while let Some(&c) = bytes.get(i) {
                    match c {
                        b'\\' => i += 2,
                        b'"' => {
                            i += 1;
                            break;
                        }
                        _ if line_break_at(bytes, i) => break,
                        _ => i += 1,
                    }
                }
                i = i.min(bytes.len());
                Some((Piece::Str, start, i))
            }
            b'#' => {
                while i < bytes.len() && !line_break_at(bytes, i) {
                    i += 1;
                }
                Some((Piece::Comment, start, i))
            }
            _ => {
                i += 1;
                Some((Piece::Code(b), start, i))
            }
        }
    })
}
