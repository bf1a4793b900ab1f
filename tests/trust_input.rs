//! The trust boundary at the input: policy text (line terminators, bidirectional
//! controls, invisible characters, byte-order mark) and documents (YAML schema and
//! merge keys, limits enforced while reading, depth, bounded diagnostics).

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
    assert!(err
        .iter()
        .any(|d| d.code == "changegate::invisible_character"));
}

/// The digest covers the file's bytes as given, not the normalized text.
#[test]
fn the_digest_covers_the_original_bytes() {
    use sha2::Digest;
    let src = "policy \"p\"\r\ndefault deploy\r\n";
    let policy = parse(src).expect("crlf");
    let file = policy.file_digests().first().expect("one file");
    assert_eq!(
        file.sha256,
        format!("{:x}", sha2::Sha256::digest(src.as_bytes()))
    );
    // The same policy with LF line ends is another text, so another digest.
    let lf = parse(&src.replace("\r\n", "\n")).expect("lf");
    assert_ne!(lf.sha256(), policy.sha256());
}

const BIDI: [char; 12] = [
    '\u{202A}', '\u{202B}', '\u{202C}', '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}', '\u{200E}', '\u{200F}', '\u{061C}',
];
const INVISIBLE: [char; 9] = [
    '\u{200B}',
    '\u{200C}',
    '\u{200D}',
    '\u{2060}',
    '\u{FEFF}',
    '\u{00AD}',
    '\u{180E}',
    '\u{E0041}',
    '\u{1B}',
];

/// Bidirectional controls and invisible characters are errors in a literal, a
/// comment or code, each located and named by its code point.
#[test]
fn hidden_characters_are_located_errors() {
    let places = [
        (
            "a string literal",
            "rule \"r\" { when change.kind == \"fw{c}\" then deny \"x\" }",
        ),
        ("a comment", "# note {c} here"),
        (
            "the policy",
            "rule \"r\" { when change.kind{c} == \"fw\" then deny \"x\" }",
        ),
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
            let d = err
                .iter()
                .find(|d| d.code == code)
                .unwrap_or_else(|| panic!("{:?} in {place}: {}", c, err.render_plain()));
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

// ---- documents -------------------------------------------------------------------

use changegate::input::{self, Format};

fn yaml(text: &str) -> Result<serde_json::Value, input::InputError> {
    input::parse_value(text, Format::Yaml, &changegate::Limits::default()).map(|v| v.to_json())
}

/// `<<: [*strict, *loose]`: the YAML merge-key spec (and PyYAML) give the earlier
/// map precedence; serde-saphyr gave the later one, so a risk-9 change read as
/// risk 1. A merge of several maps is now refused at its place (fail closed); a merge of
/// one map keeps the spec's rule that the mapping's own keys win.
#[test]
fn yaml_merge_keys_follow_the_spec_or_fail() {
    for doc in [
        "defs:\n  - &strict {risk: 9}\n  - &loose {risk: 1}\nc:\n  <<: [*strict, *loose]\n  id: a\n",
        "defs:\n  - &strict {risk: 9}\n  - &loose {risk: 1}\nc:\n  <<:\n    - *strict\n    - *loose\n",
        "defs:\n  - &strict {risk: 9}\n  - &loose {risk: 1}\n  - &both [*strict, *loose]\nc:\n  <<: *both\n",
    ] {
        let e = yaml(doc).expect_err(doc);
        assert!(e.message().contains("merge key"), "{doc}: {e}");
        assert!(e.line() >= 4, "{doc}: {e}");
    }
    let one = "defs:\n  - &strict {risk: 9, mode: strict}\nc:\n  <<: [*strict]\n  id: a\n";
    assert_eq!(yaml(one).unwrap()["c"]["risk"], 9);
    let own = "base: &b {risk: 1, kind: db}\nc:\n  risk: 9\n  <<: *b\n";
    let v = yaml(own).unwrap();
    assert_eq!(v["c"]["risk"], 9, "explicit keys win: {v}");
    assert_eq!(v["c"]["kind"], "db", "{v}");
    let after = "base: &b {risk: 1}\nc:\n  <<: *b\n  risk: 9\n";
    assert_eq!(yaml(after).unwrap()["c"]["risk"], 9);
}

/// `rollback_plan: !!str true` was read as a boolean: serde-saphyr resolves a tagged
/// plain scalar by its text. Every tag (core or not) is now a located error that
/// says to quote the value, rather than a misreading.
#[test]
fn yaml_tags_are_located_errors() {
    for doc in [
        "x: 1\na: !!str true",
        "x: 1\na: !!str 3",
        "x: 1\na: !!int \"3\"",
        "x: 1\na: !!bool \"true\"",
        "x: 1\na: !!null \"\"",
        "x: 1\na: !!float 1",
        "x: 1\na: !!seq [1]",
        "x: 1\na: !!map {b: 1}",
        "x: 1\na: !<tag:yaml.org,2002:str> 5",
        "x: 1\na: !custom 1",
        "x: 1\na: !!binary aGk=",
        "x: 1\na: !!timestamp 2024-01-01",
        "x: 1\na: ! 1",
    ] {
        let e = yaml(doc).expect_err(doc);
        assert_eq!(e.line(), 2, "{doc}: {e}");
        assert!(e.message().contains("tag"), "{doc}: {e}");
    }
    assert_eq!(yaml("a: \"true\"").unwrap()["a"], "true");
}

/// The same rules hold for an inventory.
#[test]
fn inventories_refuse_tags_and_multi_merges() {
    for doc in [
        "devices:\n  a: {role: !!str core}\n",
        "d: &d {role: x}\ne: &e {role: y}\ndevices:\n  a: {<<: [*d, *e]}\n",
    ] {
        let e = changegate::Inventory::parse(
            doc,
            Format::Yaml,
            "inv.yaml",
            &changegate::Limits::default(),
        )
        .expect_err(doc);
        assert!(e.to_string().contains("not supported"), "{doc}: {e}");
    }
}

// ---- reading through the CLI -------------------------------------------------------

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("changegate-trust-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

const POLICY: &str =
    "policy \"p\"\ndefault deploy\nrule \"r\" { when change.risk > 5 then deny \"risky\" }\n";

fn evaluate(dir: &Path, args: &[&str]) -> Output {
    let policy = dir.join("p.gate");
    std::fs::write(&policy, POLICY).unwrap();
    Command::new(env!("CARGO_BIN_EXE_changegate"))
        .arg("evaluate")
        .arg("-p")
        .arg(&policy)
        .args(["--at", "2026-01-05T10:00:00Z"])
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Deeply nested documents of every format, as the change and as the inventory,
/// with the depth flag raised: a clean error, never a stack overflow (exit 134).
#[test]
fn no_depth_overflows_the_stack() {
    let dir = scratch("deep");
    for n in [8_000, 100_000] {
        let docs = [
            ("block.yaml", format!("{}x\n", "- ".repeat(n))),
            ("flow.yaml", format!("{}{}\n", "[".repeat(n), "]".repeat(n))),
            (
                "map.yaml",
                format!("a: {}1{}\n", "{a: ".repeat(n), "}".repeat(n)),
            ),
            (
                "deep.json",
                format!("{{\"a\": {}{}}}", "[".repeat(n), "]".repeat(n)),
            ),
            (
                "deep.toml",
                format!("a = {}{}\n", "[".repeat(n), "]".repeat(n)),
            ),
            (
                "inline.toml",
                format!("a = {}1{}\n", "{a = ".repeat(n), "}".repeat(n)),
            ),
        ];
        for (file, text) in docs {
            let path = dir.join(file);
            std::fs::write(&path, text).unwrap();
            let p = path.to_str().unwrap();
            for flag in ["-c", "-i"] {
                let mut args = vec![flag, p, "--max-depth", "100000"];
                let change = dir.join("c.json");
                std::fs::write(&change, "{\"id\": \"c\", \"risk\": 1}").unwrap();
                if flag == "-i" {
                    args.extend(["-c", change.to_str().unwrap()]);
                }
                let out = evaluate(&dir, &args);
                let stderr = String::from_utf8_lossy(&out.stderr);
                assert_eq!(out.status.code(), Some(1), "{file} {flag} at {n}: {stderr}");
                assert!(
                    stderr.len() < 4_000,
                    "{file} {flag}: {} bytes of stderr",
                    stderr.len()
                );
            }
        }
    }
}

/// A 5 MB one-line change over the list limit printed 22.5 MB of diagnostics: the
/// diagnostic now quotes a bounded excerpt. The same for a long one-line policy.
#[test]
fn diagnostics_quote_a_bounded_excerpt() {
    let dir = scratch("long");
    let items = vec!["1"; 2_000_000].join(",");
    let change = dir.join("c.json");
    std::fs::write(&change, format!("{{\"id\": \"c\", \"risk\": [{items}]}}")).unwrap();
    let out = evaluate(
        &dir,
        &[
            "-c",
            change.to_str().unwrap(),
            "--max-input-bytes",
            "10000000",
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    assert!(stderr.len() < 4_000, "{} bytes of stderr", stderr.len());
    assert!(stderr.contains("limit of"), "{stderr}");

    let long = format!(
        "policy \"p\" default deploy rule \"r\" {{ when change.kind in [{}] then approve 1 from nobody }}",
        vec!["\"x\""; 200_000].join(",")
    );
    let policy = dir.join("long.gate");
    std::fs::write(&policy, long).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_changegate"))
        .args([
            "check",
            "--max-policy-bytes",
            "10000000",
            "--max-list-len",
            "1000000",
        ])
        .arg(&policy)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        &stderr[..stderr.len().min(2000)]
    );
    assert!(stderr.len() < 4_000, "{} bytes of stderr", stderr.len());
}

/// Limits hold while reading: `/dev/zero` as the change, as the inventory, through a
/// symbolic link, or imported by a policy, stops at the limit.
#[cfg(unix)]
#[test]
fn limits_hold_while_reading_devices() {
    let dir = scratch("zero");
    let link = dir.join("zero.json");
    let _ = std::fs::remove_file(&link);
    std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
    let change = dir.join("c.json");
    std::fs::write(&change, "{\"id\": \"c\", \"risk\": 1}").unwrap();
    for args in [
        vec!["-c", link.to_str().unwrap()],
        vec!["-c", change.to_str().unwrap(), "-i", link.to_str().unwrap()],
    ] {
        let out = evaluate(&dir, &args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
        assert!(stderr.contains("more than the limit"), "{stderr}");
    }
    let policy = dir.join("imp.gate");
    std::fs::write(
        &policy,
        "policy \"p\"\nimport \"/dev/zero\"\ndefault deploy\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_changegate"))
        .arg("check")
        .arg(&policy)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not a regular file"), "{stderr}");
    // Standard input is bounded too.
    let mut child = Command::new(env!("CARGO_BIN_EXE_changegate"))
        .args(["evaluate", "-p"])
        .arg(dir.join("p.gate"))
        .args(["-c", "-", "--at", "2026-01-05T10:00:00Z"])
        .stdin(std::fs::File::open("/dev/zero").unwrap())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(1));
    // A batch that never ends a line (`--batch` from `/dev/zero`) stops, exit 1.
    for batch in [
        vec!["--batch", "-c", "-"],
        vec!["-c", "/dev/zero", "--batch"],
    ] {
        let child = Command::new(env!("CARGO_BIN_EXE_changegate"))
            .args(["evaluate", "-p"])
            .arg(dir.join("p.gate"))
            .args(&batch)
            .args(["--at", "2026-01-05T10:00:00Z", "--max-input-bytes", "4096"])
            .stdin(std::fs::File::open("/dev/zero").unwrap())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{batch:?}: {stderr}");
        assert!(
            stderr.contains("does not end within"),
            "{batch:?}: {stderr}"
        );
    }
}

/// An import of a FIFO is refused without opening it (nobody may ever write it);
/// a command-line input may be a pipe such as `<(...)`.
#[cfg(unix)]
#[test]
fn an_imported_fifo_is_refused_and_a_piped_change_is_read() {
    let dir = scratch("fifo");
    let fifo = dir.join("f.gate");
    let _ = std::fs::remove_file(&fifo);
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let policy = dir.join("imp.gate");
    std::fs::write(&policy, "policy \"p\"\nimport \"f.gate\"\ndefault deploy\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_changegate"))
        .args(["check", "--error-format", "json"])
        .arg(&policy)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(all.contains("not a regular file"), "{all}");

    let out = Command::new("bash")
        .arg("-c")
        .arg(format!(
            "'{}' evaluate -p '{}' -c <(printf '{{\"id\":\"c\",\"risk\":9}}') --at 2026-01-05T10:00:00Z",
            env!("CARGO_BIN_EXE_changegate"),
            dir.join("p.gate").display()
        ))
        .output()
        .unwrap();
    // `<(...)` names a pipe without an extension: the format is not known, which
    // is an error (exit 1) rather than a guess; what matters is that it returns.
    assert!(out.status.code().is_some());
}

/// A diagnostic never lets the quoted text control the terminal: the excerpt shows a
/// control or bidi character as a visible stand-in (the message names it as `U+…`).
#[test]
fn diagnostics_never_quote_terminal_controls() {
    let dir = scratch("quoted");
    let policy = dir.join("esc.gate");
    std::fs::write(
        &policy,
        "policy \"p\"\n# \u{1b}[2K\u{1b}[1A DEPLOY \u{202e}\ndefault deploy\n",
    )
    .unwrap();
    let change = dir.join("esc.json");
    std::fs::write(&change, "{\"id\": \"x\u{1b}[2K\u{9b}1A\", \"kind\": }").unwrap();
    let checked = Command::new(env!("CARGO_BIN_EXE_changegate"))
        .arg("check")
        .arg(&policy)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let p = dir.join("ok.gate");
    std::fs::write(&p, "policy \"p\"\ndefault deploy\n").unwrap();
    let evaluated = Command::new(env!("CARGO_BIN_EXE_changegate"))
        .args(["evaluate", "--at", "2026-01-05T10:00:00Z", "-p"])
        .arg(&p)
        .arg("-c")
        .arg(&change)
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    for (what, out) in [("check", checked), ("evaluate", evaluated)] {
        assert_eq!(out.status.code(), Some(1), "{what}");
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(!stderr.is_empty(), "{what}: a diagnostic");
        for bad in ['\u{1b}', '\u{9b}', '\u{202e}'] {
            assert!(
                !stderr.contains(bad),
                "{what} quotes {bad:?} raw:\n{stderr}"
            );
        }
    }
}
