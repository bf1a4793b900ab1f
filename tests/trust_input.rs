//! The trust boundary at the input: policy text (line terminators, bidirectional
//! controls, invisible characters, byte-order mark) and documents (YAML schema and
//! merge keys, limits enforced while reading, depth, bounded diagnostics).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use changegate::{Limits, Policy};

fn parse(src: &str) -> Result<Policy, changegate::Diagnostics> {
    Policy::parse_with_loader(src, "t.gate", &Limits::default(), &|_| {
        Err(std::io::Error::other("no imports"))
    })
}

/// Every terminator an editor shows as a line break, CRLF included.
const TERMINATORS: [(&str, &str); 8] = [
    ("LF", "\n"),
    ("CR", "\r"),
    ("CRLF", "\r\n"),
    ("NEL", "\u{85}"),
    ("LS", "\u{2028}"),
    ("PS", "\u{2029}"),
    ("VT", "\u{0B}"),
    ("FF", "\u{0C}"),
];

/// `default deploy # note<CR>rule "fw" { ... }`: a lone CR showed the rule on its
/// own line, but the comment swallowed it, so the rule never ran. Every terminator
/// now ends the comment.
#[test]
fn every_line_terminator_ends_a_comment() {
    for (name, t) in TERMINATORS {
        let src = format!(
            "policy \"p\"{t}default deploy # note{t}rule \"fw\" {{ when change.kind == \"fw\" then deny \"no firewall\" }}{t}"
        );
        let policy = parse(&src).unwrap_or_else(|e| panic!("{name}: {}", e.render_plain()));
        assert_eq!(
            policy.rule_names().collect::<Vec<_>>(),
            ["fw"],
            "{name}: the rule after the comment must exist"
        );
    }
}

/// Line numbers in diagnostics count the lines an editor shows.
#[test]
fn diagnostics_number_lines_as_editors_do() {
    for (name, t) in TERMINATORS {
        let src = format!("policy \"p\"{t}# c{t}default deploy{t}group x = [1]{t}");
        let err = parse(&src).expect_err(name);
        let d = err.iter().next().unwrap();
        assert_eq!(d.line_col().0, 4, "{name}: {}", err.render_plain());
    }
}

/// A terminator inside a string literal breaks the line, as LF always did.
#[test]
fn a_terminator_inside_a_string_is_a_line_break() {
    for (name, t) in TERMINATORS {
        let src = format!("policy \"p{t}q\"\ndefault deploy\n");
        assert!(parse(&src).is_err(), "{name}");
    }
}

/// One byte-order mark at the start is dropped; anywhere else it is invisible.
#[test]
fn a_leading_bom_is_ignored() {
    let policy = parse("\u{FEFF}policy \"p\"\ndefault deploy\n").expect("leading BOM");
    assert_eq!(policy.name(), "p");
    let err = parse("policy \"p\"\n\u{FEFF}default deploy\n").expect_err("BOM mid-file");
    assert!(err.iter().any(|d| d.code == "changegate::invisible_character"));
}

/// The digest covers the file's bytes as given, not the normalized text.
#[test]
fn the_digest_covers_the_original_bytes() {
    use sha2::Digest;
    let src = "policy \"p\"\r\ndefault deploy\r\n";
    let policy = parse(src).expect("crlf");
    assert_eq!(policy.sha256(), format!("{:x}", sha2::Sha256::digest(src.as_bytes())));
}

const BIDI: [char; 12] = [
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}',
    '\u{2068}', '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
];
const INVISIBLE: [char; 9] = [
    '\u{200B}', '\u{200C}', '\u{200D}', '\u{2060}', '\u{FEFF}', '\u{00AD}', '\u{180E}',
    '\u{E0041}', '\u{1B}',
];

/// Bidirectional controls and invisible characters are errors in a literal, a
/// comment or code, each located and named by its code point.
#[test]
fn hidden_characters_are_located_errors() {
    let places = [
        ("a string literal", "rule \"r\" { when change.kind == \"fw{c}\" then deny \"x\" }"),
        ("a comment", "# note {c} here"),
        ("the policy", "rule \"r\" { when change.kind{c} == \"fw\" then deny \"x\" }"),
        ("the policy", "group g{c}x = [\"a\"]"),
    ];
    for c in BIDI.iter().chain(&INVISIBLE) {
        let code = if BIDI.contains(c) {
            "changegate::text_direction_codepoint"
        } else {
            "changegate::invisible_character"
        };
        for (place, line) in places {
            let line = line.replace("{c}", &c.to_string());
            let src = format!("policy \"p\"\ndefault deploy\n{line}\n");
            let err = parse(&src).expect_err(&line);
            let d = err.iter().find(|d| d.code == code).unwrap_or_else(|| {
                panic!("{:?} in {place}: {}", c, err.render_plain())
            });
            let cp = format!("`U+{:04X}`", u32::from(*c));
            assert!(d.message.contains(&cp), "{}", d.message);
            assert!(d.message.contains(place), "{}", d.message);
            let col = line.chars().position(|x| x == *c).unwrap() + 1;
            assert_eq!(d.line_col(), (3, col), "{c:?} in {place}");
            assert!(d.help.as_deref().unwrap_or("").contains("delete"));
        }
    }
}

/// Ordinary non-ASCII text stays allowed.
#[test]
fn ordinary_unicode_is_allowed() {
    parse("policy \"café – 中文\"\n# naïve ✓\ndefault deploy\n").expect("plain unicode");
}

/// `fmt` writes LF line breaks whatever the input used, and drops a leading BOM.
#[test]
fn fmt_normalizes_line_terminators() {
    let lf = "policy \"p\"\n\n# note\ndefault deploy\n";
    let expected = changegate::fmt::format_source(lf, "t.gate", &Limits::default()).unwrap();
    for (name, t) in TERMINATORS {
        let src = format!("\u{FEFF}policy \"p\"{t}{t}# note{t}default deploy{t}");
        let out = changegate::fmt::format_source(&src, "t.gate", &Limits::default())
            .unwrap_or_else(|e| panic!("{name}: {}", e.render_plain()));
        assert_eq!(out, expected, "{name}");
    }
}
