//! A lexical split of policy source into string literals, comments and single code
//! bytes: what the bracket-depth pre-check and the formatter's comment collector both
//! need, without running the grammar.

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
                        b'\n' => break,
                        _ => i += 1,
                    }
                }
                i = i.min(bytes.len());
                Some((Piece::Str, start, i))
            }
            b'#' => {
                while bytes.get(i).is_some_and(|&c| c != b'\n') {
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
