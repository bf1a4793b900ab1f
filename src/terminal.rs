//! Text for terminals and logs: input never controls the terminal.
//!
//! Every string that comes from a change, an inventory, a policy or a test file
//! (ids, names, reasons, rule and group names, locations) goes through [`escape`]
//! before text output prints it, so an `id` holding `ESC [ 2 K` cannot erase the
//! `APPROVE` headline and print `DEPLOY` over it, and a right-to-left override cannot
//! reorder what a reviewer reads.

use std::fmt;

use icu_properties::props::{DefaultIgnorableCodePoint, GeneralCategory};
use icu_properties::{CodePointMapData, CodePointSetData};

/// `s` as text output prints it: every control character (C0, DEL, C1 such as CSI),
/// format character (bidi overrides and isolates, zero-width characters), line or
/// paragraph separator and default-ignorable code point is written as `\u{…}`; all
/// else is printed as is.
///
/// ```
/// use changegate::terminal::escape;
/// assert_eq!(escape("CHG-1\u{1b}[2K").to_string(), "CHG-1\\u{1b}[2K");
/// assert_eq!(escape("line\nbreak").to_string(), "line\\u{a}break");
/// assert_eq!(escape("josé").to_string(), "josé");
/// ```
pub fn escape(s: &str) -> Escaped<'_> {
    Escaped(s)
}

/// A string that prints escaped; see [`escape`].
#[derive(Debug, Clone, Copy)]
pub struct Escaped<'a>(&'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut rest = self.0;
        while let Some((i, c)) = rest.char_indices().find(|&(_, c)| escaped(c)) {
            let (plain, tail) = rest.split_at(i);
            f.write_str(plain)?;
            write!(f, "\\u{{{:x}}}", u32::from(c))?;
            rest = tail.get(c.len_utf8()..).unwrap_or("");
        }
        f.write_str(rest)
    }
}

/// Whether text output escapes `c`.
fn escaped(c: char) -> bool {
    // Printable ASCII is by far the common case.
    if (' '..='~').contains(&c) {
        return false;
    }
    c.is_control() || is_hidden(c)
}

/// Whether `c` is a character a reader of a name cannot see or that changes how the
/// text around it is shown (a person's name holding one is refused: [`crate::people::NameError::Hidden`]).
pub(crate) fn is_hidden(c: char) -> bool {
    if CodePointSetData::new::<DefaultIgnorableCodePoint>().contains(c) {
        return true;
    }
    matches!(
        CodePointMapData::<GeneralCategory>::new().get(c),
        GeneralCategory::Control
            | GeneralCategory::Format
            | GeneralCategory::LineSeparator
            | GeneralCategory::ParagraphSeparator
            | GeneralCategory::Surrogate
    )
}

/// [`escape`] line by line: line breaks (`\n`) are kept, everything else [`escape`]
/// escapes is escaped, a `\r` of a CRLF included.
pub fn escape_lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in s.split_inclusive('\n') {
        match line.strip_suffix('\n') {
            Some(body) => {
                out.push_str(&escape(body).to_string());
                out.push('\n');
            }
            None => out.push_str(&escape(line).to_string()),
        }
    }
    out
}

/// `s` as a diagnostic quotes it: every character [`escape`] would escape, other
/// than a tab or a line break, replaced by a visible character of the same UTF-8
/// length (`?`, `¿`, `U+FFFD`, `U+1F6AB`), so byte offsets, and so the spans
/// miette draws under the quoted text, stay where they were. `None` when nothing
/// needs replacing.
pub(crate) fn shown(s: &str) -> Option<String> {
    let needs = |c: char| c != '\n' && c != '\t' && escaped(c);
    // Fast path: printable ASCII, tab and LF never need it, and checking bytes is much
    // cheaper than decoding characters.
    // (In blocks without an early exit, so that the compiler can vectorize the scan.)
    let plain = |b: u8| (0x20..0x7F).contains(&b) | (b == b'\n') | (b == b'\t');
    let all_plain = s
        .as_bytes()
        .chunks(64)
        .all(|block| block.iter().fold(true, |ok, &b| ok & plain(b)));
    if all_plain {
        return None;
    }
    if !s.chars().any(needs) {
        return None;
    }
    Some(
        s.chars()
            .map(|c| match c.len_utf8() {
                _ if !needs(c) => c,
                1 => '?',
                2 => '\u{bf}',
                3 => '\u{fffd}',
                _ => '\u{1f6ab}',
            })
            .collect(),
    )
}

/// `s` with control characters escaped as Rust writes them (`\n`, `\u{1b}`) and
/// bidi and invisible characters as `\u{202e}`: the form of `changegate diff` and
/// the change calendar's text, where a line break in a value must not start a line.
///
/// ```
/// use changegate::terminal::escape_default;
/// assert_eq!(escape_default("a\u{202e}b\u{200b}c\u{1b}\n"), "a\\u{202e}b\\u{200b}c\\u{1b}\\n");
/// ```
pub fn escape_default(s: &str) -> String {
    let hidden = |c: char| c.is_control() || is_hidden(c);
    if !s.chars().any(hidden) {
        return s.to_owned();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else if hidden(c) {
            out.push_str(&escape(c.encode_utf8(&mut [0; 4])).to_string());
        } else {
            out.push(c);
        }
    }
    out
}

/// Escapes each string of a list and joins them with `sep`.
pub fn join<S: AsRef<str>>(items: &[S], sep: &str) -> String {
    let mut out = String::new();
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(&escape(s.as_ref()).to_string());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{escape, shown};

    #[test]
    fn shown_keeps_byte_offsets() {
        for input in [
            "a\u{1b}[2Kb",
            "x\u{9b}y",
            "abc\u{202e}fed",
            "t\u{e0041}g",
            "tab\there\n",
        ] {
            let out = shown(input).unwrap_or_else(|| input.to_owned());
            assert_eq!(out.len(), input.len(), "{input:?}");
            assert!(
                out.chars()
                    .all(|c| c == '\n' || c == '\t' || !super::escaped(c)),
                "{out:?}"
            );
            for (a, b) in input.char_indices().zip(out.char_indices()) {
                assert_eq!(a.0, b.0, "{input:?}");
            }
        }
        assert_eq!(shown("plain\tline\n"), None);
    }

    #[test]
    fn terminal_controls_are_escaped() {
        for (input, want) in [
            ("\u{1b}[1A\u{1b}[2KDEPLOY", "\\u{1b}[1A\\u{1b}[2KDEPLOY"),
            ("a\rb", "a\\u{d}b"),
            ("\u{9b}31m", "\\u{9b}31m"),
            ("\u{7f}", "\\u{7f}"),
            ("abc\u{202e}fed", "abc\\u{202e}fed"),
            ("x\u{2067}y\u{2069}", "x\\u{2067}y\\u{2069}"),
            ("zero\u{200b}width", "zero\\u{200b}width"),
            ("a\u{2028}b", "a\\u{2028}b"),
            ("plain ASCII, ümlaut, 日本", "plain ASCII, ümlaut, 日本"),
        ] {
            assert_eq!(escape(input).to_string(), want, "{input:?}");
        }
    }
}
