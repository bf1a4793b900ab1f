//! The policy text rules that hold before any grammar runs: what is a line break,
//! what a leading byte-order mark means, and which characters a policy may not hold.
//!
//! * Every line terminator an editor or terminal shows as a line break — LF, CR,
//!   CRLF, NEL (U+0085), LINE SEPARATOR (U+2028), PARAGRAPH SEPARATOR (U+2029),
//!   vertical tab (U+000B) and form feed (U+000C) — is one line break. [`normalize`]
//!   turns each into `\n`, and [`crate::SourceFile`] holds the normalized text, so the
//!   grammar, the rule reader, the piece splitter, the formatter and the line numbers
//!   of diagnostics all see the same lines a reviewer sees.
//! * One byte-order mark at the very start is dropped (editors hide it); a U+FEFF
//!   anywhere else is an invisible character.
//! * [`forbidden`] names the characters a policy may not hold anywhere (code, string
//!   literals, comments): bidirectional controls, which reorder what a reviewer sees
//!   (Trojan Source), and invisible characters, which hide a difference between two
//!   names or a word inside a comment.

use std::borrow::Cow;

/// The byte-order mark.
const BOM: char = '\u{FEFF}';

/// Whether `c` ends a line (CR of a CRLF included).
pub(crate) fn is_line_break(c: char) -> bool {
    matches!(
        c,
        '\n' | '\r' | '\u{0B}' | '\u{0C}' | '\u{85}' | '\u{2028}' | '\u{2029}'
    )
}

/// `text` without a leading byte-order mark and with every line terminator (CRLF
/// as one) replaced by `\n`. Borrowed when nothing changes.
pub(crate) fn normalize(text: &str) -> Cow<'_, str> {
    let body = text.strip_prefix(BOM).unwrap_or(text);
    // Every line break but LF is CR, VT, FF or a character outside ASCII: text without
    // those bytes needs no per-character walk.
    // (In blocks without an early exit, so that the compiler can vectorize the scan.)
    let suspicious = |b: u8| (b == b'\r') | (b == 0x0B) | (b == 0x0C) | (b >= 0x80);
    let any_suspicious = body
        .as_bytes()
        .chunks(64)
        .any(|block| block.iter().fold(false, |found, &b| found | suspicious(b)));
    if body.len() == text.len() && !any_suspicious {
        return Cow::Borrowed(text);
    }
    if body.len() == text.len() && !body.chars().any(|c| c != '\n' && is_line_break(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\r' && chars.peek() == Some(&'\n') {
            continue;
        }
        out.push(if is_line_break(c) { '\n' } else { c });
    }
    Cow::Owned(out)
}

/// What kind of character a policy may not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Forbidden {
    /// A bidirectional control: U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069.
    Bidi,
    /// An invisible character: a format character (general category Cf), a
    /// Default_Ignorable_Code_Point, or a control character other than tab and the
    /// line terminators.
    Invisible,
}

/// Which kind of forbidden character `c` is, if it is one. The set: Unicode 15's
/// bidirectional controls; its Default_Ignorable_Code_Point list; the other
/// format (Cf) characters; and the C0/C1 controls except tab, LF, VT, FF, CR and NEL
/// (which are white space or line breaks).
pub(crate) fn forbidden_kind(c: char) -> Option<Forbidden> {
    let u = u32::from(c);
    match u {
        0x061C | 0x200E | 0x200F | 0x202A..=0x202E | 0x2066..=0x2069 => Some(Forbidden::Bidi),
        0x09 | 0x0A..=0x0D | 0x85 => None,
        0x00..=0x1F | 0x7F..=0x9F => Some(Forbidden::Invisible),
        // Default_Ignorable_Code_Point (DerivedCoreProperties.txt) and the other Cf
        // characters (UnicodeData.txt).
        0x00AD
        | 0x034F
        | 0x0600..=0x0605
        | 0x06DD
        | 0x070F
        | 0x0890..=0x0891
        | 0x08E2
        | 0x115F..=0x1160
        | 0x17B4..=0x17B5
        | 0x180B..=0x180F
        | 0x200B..=0x200D
        | 0x2060..=0x2065
        | 0x206A..=0x206F
        | 0x3164
        | 0xFE00..=0xFE0F
        | 0xFEFF
        | 0xFFA0
        | 0xFFF0..=0xFFFB
        | 0x110BD
        | 0x110CD
        | 0x13430..=0x1343F
        | 0x1BCA0..=0x1BCA3
        | 0x1D173..=0x1D17A
        | 0xE0000..=0xE0FFF => Some(Forbidden::Invisible),
        _ => None,
    }
}

/// Where in the policy a forbidden character sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// Outside string literals and comments.
    Code,
    /// Inside a string literal.
    Literal,
    /// Inside a `#` comment.
    Comment,
}

/// Every forbidden character of (normalized) `text`: its byte offset, the character,
/// its kind and where it sits.
pub(crate) fn forbidden(text: &str) -> impl Iterator<Item = (usize, char, Forbidden, Place)> + '_ {
    // Fast path: every forbidden character is a control byte or starts with one of
    // these lead bytes, so most policies need no per-character walk.
    // (In blocks without an early exit, so that the compiler can vectorize the scan.)
    let odd = |b: u8| (b < 0x20) & (b != b'\t') & (b != b'\n') | (b == 0x7F) | (b >= 0xC2);
    let suspicious = text
        .as_bytes()
        .chunks(64)
        .any(|block| block.iter().fold(false, |found, &b| found | odd(b)));
    let pieces = suspicious.then(|| super::pieces::pieces(text));
    pieces
        .into_iter()
        .flatten()
        .flat_map(move |(piece, start, end)| {
            let place = match piece {
                super::pieces::Piece::Code(_) => Place::Code,
                super::pieces::Piece::Str => Place::Literal,
                super::pieces::Piece::Comment => Place::Comment,
            };
            // A code piece is one byte: take the whole character that starts there.
            let end = match piece {
                super::pieces::Piece::Code(_) => text
                    .get(start..)
                    .and_then(|s| s.chars().next())
                    .map_or(end, |c| start + c.len_utf8()),
                _ => end,
            };
            text.get(start..end)
                .unwrap_or("")
                .char_indices()
                .filter_map(move |(i, c)| forbidden_kind(c).map(|k| (start + i, c, k, place)))
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_terminator_becomes_lf() {
        for t in [
            "\r", "\r\n", "\u{0B}", "\u{0C}", "\u{85}", "\u{2028}", "\u{2029}",
        ] {
            assert_eq!(normalize(&format!("a{t}b")), "a\nb", "{t:?}");
        }
        assert_eq!(normalize("\r\r\n\n"), "\n\n\n");
        assert!(matches!(normalize("a\nb"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_leading_bom_is_dropped_once() {
        assert_eq!(normalize("\u{FEFF}a"), "a");
        assert_eq!(normalize("\u{FEFF}\u{FEFF}a"), "\u{FEFF}a");
    }

    #[test]
    fn forbidden_characters_are_placed() {
        let text = "a\u{202E} \"\u{200B}\" # \u{2066}\n";
        let found: Vec<_> = forbidden(text).collect();
        assert_eq!(
            found,
            vec![
                (1, '\u{202E}', Forbidden::Bidi, Place::Code),
                (6, '\u{200B}', Forbidden::Invisible, Place::Literal),
                (13, '\u{2066}', Forbidden::Bidi, Place::Comment),
            ]
        );
        assert_eq!(forbidden("rule \"é ü 中\" # naïve\n\t").count(), 0);
    }
}
