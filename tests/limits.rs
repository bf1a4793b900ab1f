//! Every limit in `changegate::Limits` is enforced with a clear diagnostic, through
//! the library and through the CLI flag that sets it (docs/hardening.md lists them
//! with their defaults). The library's diagnostics name the limit they hit
//! (`Diagnostic::limit`, `InputError::limit`) and no flag; the CLI's help names the
//! flag.

use std::path::{Path, PathBuf};
use std::process::Command;

use changegate::input::{self, Format, InputErrorKind};
use changegate::limits::Limit;
use changegate::{Diagnostic, Diagnostics, Inventory, Limits, Policy};

const OK_POLICY: &str = r#"policy "p"
group ops = ["alice", "bob"]
rule "r" {
  when change.kind == "x"
  then deploy
}
default approve 1 from ops
"#;

/// A fresh, empty directory under the system's temp dir.
fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("changegate-limits-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

fn parse_with(src: &str, limits: &Limits) -> Result<Policy, Diagnostics> {
    Policy::parse_with_loader(src, "limits.gate", limits, &|p: &Path| {
        Err(std::io::Error::other(format!(
            "no imports here: {}",
            p.display()
        )))
    })
}

/// The error diagnostic with `code`, after checking its message and that its help
/// names no command-line flag.
fn expect_error(result: Result<Policy, Diagnostics>, code: &str, message_has: &str) -> Diagnostic {
    let diags = match result {
        Ok(_) => panic!("expected error {code}, but the policy checked"),
        Err(d) => d,
    };
    let d = diags.iter().find(|d| d.code == code).unwrap_or_else(|| {
        panic!(
            "no {code} among {:?}",
            diags.iter().map(|d| d.code).collect::<Vec<_>>()
        )
    });
    assert!(
        d.message.contains(message_has),
        "{code}: message {:?} lacks {message_has:?}",
        d.message
    );
    assert!(d.help.is_some(), "{code} has no help");
    assert_no_flag(&diags);
    d.clone()
}

/// Whether `text` names a command-line flag (`` `--max-depth` ``, `--reviews`).
fn names_a_flag(text: &str) -> bool {
    text.match_indices("--")
        .any(|(i, _)| text[i + 2..].starts_with(|c: char| c.is_ascii_lowercase()))
}

/// The library's own help and rendering name no flag: only the CLI knows them.
fn assert_no_flag(diags: &Diagnostics) {
    for d in diags
        .iter()
        .chain(diags.iter().flat_map(|d| d.related.iter()))
    {
        let help = d.help.as_deref().unwrap_or("");
        assert!(!names_a_flag(help), "{}: help names a flag: {help}", d.code);
        if d.limit.is_some() {
            assert!(help.ends_with("raise the limit"), "{}: {help}", d.code);
        }
    }
    let text = diags.render_plain();
    assert!(!names_a_flag(&text), "{text}");
}

fn small(f: impl FnOnce(&mut Limits)) -> Limits {
    let mut l = Limits::default();
    f(&mut l);
    l
}

fn cli(args: &[&str]) -> (i32, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_changegate"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run changegate");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{args:?} panicked:\n{stderr}");
    (out.status.code().unwrap_or(-1), stderr)
}

// ---- defaults -------------------------------------------------------------------

#[test]
fn defaults_are_the_documented_ones() {
    let l = Limits::default();
    assert_eq!(l.max_source_bytes, 16 << 20);
    assert_eq!(l.max_depth, 64);
    assert_eq!(l.max_items, 100_000);
    assert_eq!(l.max_string_len, 64 << 10);
    assert_eq!(l.max_list_len, 100_000);
    assert_eq!(l.max_import_depth, 16);
    assert_eq!(l.max_input_bytes, 64 << 20);
    assert_eq!(l.max_alias_events, 250_000);
}

// ---- policy limits ----------------------------------------------------------------

#[test]
fn policy_source_size() {
    let limits = small(|l| l.max_source_bytes = 64);
    let d = expect_error(
        parse_with(OK_POLICY, &limits),
        "changegate::too_large",
        "more than the limit of 64 bytes",
    );
    assert_eq!(d.limit, Some(Limit::SourceBytes));
    // At the limit exactly, it is fine.
    let limits = small(|l| l.max_source_bytes = OK_POLICY.len());
    assert!(parse_with(OK_POLICY, &limits).is_ok());
    // From a file, before the file is read.
    let dir = temp_dir("size");
    let path = dir.join("big.gate");
    std::fs::write(&path, OK_POLICY).expect("write");
    let err = Policy::from_file_with_limits(&path, &small(|l| l.max_source_bytes = 10))
        .expect_err("too big");
    assert!(
        err.render_plain()
            .contains("more than the limit of 10 bytes"),
        "{}",
        err.render_plain()
    );
}

fn rule_with(cond: &str) -> String {
    format!("policy \"p\"\ngroup ops = [\"a\"]\nrule \"r\" {{\n  when {cond}\n  then deploy\n}}\ndefault approve 1 from ops\n")
}

fn parens(n: usize, inner: &str) -> String {
    format!("{}{inner}{}", "(".repeat(n), ")".repeat(n))
}

#[test]
fn policy_bracket_nesting() {
    let d = expect_error(
        parse_with(&rule_with(&parens(65, "change.ok")), &Limits::default()),
        "changegate::too_deep",
        "brackets nest deeper than the limit of 64",
    );
    assert_eq!(d.limit, Some(Limit::Depth));
    // A million open brackets are refused as fast: the check does not recurse.
    let huge = format!(
        "policy \"p\"\nrule \"r\" {{ when {} }}",
        "(".repeat(1_000_000)
    );
    expect_error(
        parse_with(&huge, &Limits::default()),
        "changegate::too_deep",
        "brackets nest deeper",
    );
    let huge = format!("policy \"p\"\ngroup g = {}", "[".repeat(1_000_000));
    expect_error(
        parse_with(&huge, &Limits::default()),
        "changegate::too_deep",
        "brackets nest deeper",
    );
}

#[test]
fn policy_expression_nesting() {
    // The depth counts levels of the AST: a bracket is one level, a comparison's
    // operands one below it, and a lone operand is no level at all. So 64 brackets
    // around a path fit the default of 64, and 64 around a comparison do not.
    assert!(parse_with(&rule_with(&parens(64, "change.ok")), &Limits::default()).is_ok());
    assert!(parse_with(&rule_with(&parens(63, "change.n == 1")), &Limits::default()).is_ok());
    let d = expect_error(
        parse_with(&rule_with(&parens(64, "change.n == 1")), &Limits::default()),
        "changegate::too_deep",
        "this expression nests deeper than the limit of 64",
    );
    assert_eq!(d.limit, Some(Limit::Depth));
    assert!(parse_with(OK_POLICY, &small(|l| l.max_depth = 1)).is_ok());
    expect_error(
        parse_with(OK_POLICY, &small(|l| l.max_depth = 0)),
        "changegate::too_deep",
        "limit of 0",
    );
    // `not` and `count`/`sum` chains need no brackets to nest.
    let d = expect_error(
        parse_with(
            &rule_with(&format!("{}change.ok", "not ".repeat(100))),
            &Limits::default(),
        ),
        "changegate::too_deep",
        "nests deeper than the limit of 64",
    );
    assert_eq!(d.limit, Some(Limit::Depth));
    expect_error(
        parse_with(
            &rule_with(&format!("{}change.ok > 1", "count ".repeat(100))),
            &Limits::default(),
        ),
        "changegate::too_deep",
        "nests deeper than the limit of 64",
    );
}

#[test]
fn policy_number_of_items() {
    let limits = small(|l| l.max_items = 3);
    let d = expect_error(
        parse_with(OK_POLICY, &limits),
        "changegate::too_many_items",
        "more than 3 items",
    );
    assert_eq!(d.limit, Some(Limit::Items));
    assert!(parse_with(OK_POLICY, &small(|l| l.max_items = 4)).is_ok());
    // Many rules at the default limit are fine.
    let mut many = String::from("policy \"p\"\ngroup ops = [\"a\"]\n");
    for i in 0..2_000 {
        many.push_str(&format!(
            "rule \"r{i}\" {{ when change.n == {i} then deploy }}\n"
        ));
    }
    many.push_str("default approve 1 from ops\n");
    assert!(parse_with(&many, &Limits::default()).is_ok());
}

#[test]
fn policy_number_of_items_stops_reading() {
    // Items are parsed in batches; the first item over the limit is the last one read,
    // so a broken item after it adds no diagnostic (as when items were read one by one).
    let src = r#"policy "p"
group ops = ["alice"]
group more = ["bob"]
rule "r" { when change.kind == "a string far too long" then deploy }
default approve 1 from ops
"#;
    let diags = match parse_with(
        src,
        &small(|l| {
            l.max_items = 2;
            l.max_string_len = 8;
        }),
    ) {
        Ok(_) => panic!("expected too_many_items"),
        Err(d) => d,
    };
    let codes: Vec<_> = diags.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["changegate::too_many_items"]);
}

#[test]
fn policy_string_length() {
    let limits = small(|l| l.max_string_len = 4);
    let d = expect_error(
        parse_with(OK_POLICY, &limits),
        "changegate::too_long",
        "more than the limit of 4",
    );
    assert_eq!(d.limit, Some(Limit::StringLen));
}

#[test]
fn policy_list_length() {
    let limits = small(|l| l.max_list_len = 2);
    let src = OK_POLICY.replace(
        "change.kind == \"x\"",
        "change.kind in [\"a\", \"b\", \"c\"]",
    );
    let d = expect_error(
        parse_with(&src, &limits),
        "changegate::too_long",
        "3 items, more than the limit of 2",
    );
    assert_eq!(d.limit, Some(Limit::ListLen));
    // A group's members are a list too.
    let limits = small(|l| l.max_list_len = 1);
    let d = expect_error(
        parse_with(OK_POLICY, &limits),
        "changegate::too_long",
        "2 items, more than the limit of 1",
    );
    assert_eq!(d.limit, Some(Limit::ListLen));
}

/// root imports m1 imports m2 … imports m{n}.
fn import_chain(dir: &Path, n: usize) -> PathBuf {
    for i in 1..=n {
        let next = if i < n {
            format!("import \"m{}.gate\"\n", i + 1)
        } else {
            String::new()
        };
        std::fs::write(
            dir.join(format!("m{i}.gate")),
            format!("{next}group g{i} = [\"p{i}\"]\n"),
        )
        .expect("write");
    }
    let root = dir.join("root.gate");
    std::fs::write(&root, format!("import \"m1.gate\"\n{OK_POLICY}")).expect("write");
    root
}

#[test]
fn policy_import_depth() {
    let dir = temp_dir("imports");
    let root = import_chain(&dir, 3);
    Policy::from_file_with_limits(&root, &small(|l| l.max_import_depth = 3))
        .expect("three levels fit a limit of 3");
    let err = Policy::from_file_with_limits(&root, &small(|l| l.max_import_depth = 2))
        .expect_err("too deep");
    let d = err
        .iter()
        .find(|d| d.code == "changegate::import_depth")
        .expect("import_depth error");
    assert!(
        d.message
            .contains("imports nest deeper than the limit of 2"),
        "{}",
        d.message
    );
    assert_eq!(d.limit, Some(Limit::ImportDepth));
    assert_no_flag(&err);
    // The default (16) refuses a chain of 20 without reading it all.
    let dir = temp_dir("imports-20");
    let root = import_chain(&dir, 20);
    let err = Policy::from_file(&root).expect_err("too deep");
    assert!(
        err.iter().any(|d| d.code == "changegate::import_depth"),
        "{}",
        err.render_plain()
    );
}

#[test]
fn policy_not_utf8_names_the_offset() {
    let dir = temp_dir("utf8");
    let path = dir.join("bad.gate");
    std::fs::write(&path, b"policy \"p\xff\"\n").expect("write");
    let err = Policy::from_file(&path).expect_err("not UTF-8");
    let text = err.render_plain();
    assert!(
        text.contains("not UTF-8") && text.contains("offset 9"),
        "{text}"
    );
}

// ---- input (change and inventory) limits -------------------------------------------

fn input_err(bytes: &[u8], format: Format, limits: &Limits) -> input::InputError {
    input::parse_bytes(bytes, format, "doc", limits).expect_err("refused")
}

#[test]
fn input_size() {
    let limits = small(|l| l.max_input_bytes = 8);
    let e = input_err(br#"{"id": "CHG-1"}"#, Format::Json, &limits);
    assert_eq!(e.kind(), InputErrorKind::TooLarge);
    assert!(
        e.message()
            .contains("15 bytes, more than the limit of 8 bytes"),
        "{}",
        e.message()
    );
    // Files are refused before they are read whole.
    let dir = temp_dir("input-size");
    let path = dir.join("c.json");
    std::fs::write(&path, br#"{"id": "CHG-1"}"#).expect("write");
    assert_eq!(
        input::read_file(&path, &limits).expect_err("big").kind(),
        InputErrorKind::TooLarge
    );
    let e = Inventory::from_file_with(&path, &limits).expect_err("big");
    assert!(
        e.to_string().contains("more than the limit of 8 bytes"),
        "{e}"
    );
}

#[test]
fn input_depth_json_and_yaml() {
    let deep_json = format!("{}{}", "[".repeat(65), "]".repeat(65));
    let e = input_err(deep_json.as_bytes(), Format::Json, &Limits::default());
    assert_eq!(e.kind(), InputErrorKind::TooDeep);
    assert!(
        e.message().contains("deeper than the limit of 64 levels"),
        "{}",
        e.message()
    );
    assert_eq!((e.line(), e.column() > 0), (1, true));
    // 64 levels are fine.
    let ok = format!("{}{}", "[".repeat(64), "]".repeat(64));
    input::parse_bytes(ok.as_bytes(), Format::Json, "doc", &Limits::default()).expect("64 levels");
    // A million open brackets: refused, not a stack overflow.
    let e = input_err(
        "[".repeat(1_000_000).as_bytes(),
        Format::Json,
        &Limits::default(),
    );
    assert_eq!(e.kind(), InputErrorKind::TooDeep);

    let deep_yaml = format!("{}1{}", "[".repeat(65), "]".repeat(65));
    let e = input_err(deep_yaml.as_bytes(), Format::Yaml, &Limits::default());
    assert_eq!(e.kind(), InputErrorKind::TooDeep);
    assert!(
        e.message().contains("limit of 64 levels"),
        "{}",
        e.message()
    );
    let mut block = String::new();
    for i in 0..70 {
        block.push_str(&format!("{}k{i}:\n", "  ".repeat(i)));
    }
    let e = input_err(block.as_bytes(), Format::Yaml, &Limits::default());
    assert_eq!(e.kind(), InputErrorKind::TooDeep);
    let toml = format!("a = {}{}", "[".repeat(70), "]".repeat(70));
    let e = input_err(toml.as_bytes(), Format::Toml, &Limits::default());
    assert_eq!(e.kind(), InputErrorKind::TooDeep, "{}", e.message());
}

#[test]
fn input_string_length() {
    let limits = small(|l| l.max_string_len = 5);
    for (doc, format) in [
        (&br#"{"id": "CHG-1042"}"#[..], Format::Json),
        (b"id: CHG-1042\n", Format::Yaml),
        (b"id = \"CHG-1042\"\n", Format::Toml),
        (br#"{"a-very-long-key": 1}"#, Format::Json),
    ] {
        let e = input_err(doc, format, &limits);
        assert_eq!(e.kind(), InputErrorKind::StringTooLong, "{format}");
        assert!(
            e.message().contains("longer than the limit of 5 bytes"),
            "{}",
            e.message()
        );
        assert!(e.line() >= 1, "{format}: placed");
    }
}

#[test]
fn input_list_length() {
    let limits = small(|l| l.max_list_len = 3);
    for (doc, format) in [
        (&br#"{"targets": [1, 2, 3, 4]}"#[..], Format::Json),
        (b"targets: [1, 2, 3, 4]\n", Format::Yaml),
        (b"targets = [1, 2, 3, 4]\n", Format::Toml),
    ] {
        let e = input_err(doc, format, &limits);
        assert_eq!(e.kind(), InputErrorKind::ListTooLong, "{format}");
        assert!(e.message().contains("limit of 3"), "{}", e.message());
    }
    input::parse_bytes(br#"{"targets": [1, 2, 3]}"#, Format::Json, "doc", &limits).expect("3 fit");
}

#[test]
fn yaml_billion_laughs_is_refused() {
    let mut doc = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..10 {
        let prev = format!("*a{}", i - 1);
        doc.push_str(&format!("a{i}: &a{i} [{}]\n", vec![prev; 10].join(", ")));
    }
    let started = std::time::Instant::now();
    let e = input_err(doc.as_bytes(), Format::Yaml, &Limits::default());
    assert!(
        started.elapsed().as_secs() < 5,
        "took {:?}",
        started.elapsed()
    );
    assert!(
        matches!(
            e.kind(),
            InputErrorKind::AliasLimit | InputErrorKind::ListTooLong
        ),
        "{:?}: {}",
        e.kind(),
        e.message()
    );
    assert!(
        e.message().contains("alias") || e.message().contains("budget"),
        "{}",
        e.message()
    );
    // The inventory loader refuses it the same way.
    let err =
        Inventory::parse(&doc, Format::Yaml, "inv.yaml", &Limits::default()).expect_err("refused");
    assert!(
        err.to_string().contains("alias") || err.to_string().contains("budget"),
        "{err}"
    );
}

#[test]
fn input_not_utf8_names_the_byte_offset() {
    let e = input_err(b"{\"id\": \"caf\xe9\"}", Format::Json, &Limits::default());
    assert_eq!(e.kind(), InputErrorKind::NotUtf8);
    assert_eq!(e.message(), "invalid UTF-8 at byte 11 (byte 0xe9)");
    assert_eq!((e.line(), e.column()), (1, 12));
    // UTF-16 with a byte-order mark.
    let e = input_err(b"\xff\xfe{\x00}\x00", Format::Json, &Limits::default());
    assert_eq!(e.message(), "invalid UTF-8 at byte 0 (byte 0xff)");
    // Through an inventory file, on a later line.
    let dir = temp_dir("input-utf8");
    let path = dir.join("inv.yaml");
    std::fs::write(&path, b"devices:\n  r\xc0: {}\n").expect("write");
    let e = Inventory::from_file(&path).expect_err("not UTF-8");
    assert!(e.to_string().contains("invalid UTF-8 at byte 12"), "{e}");
}

// ---- no flags in the library's words ---------------------------------------------

/// How the CLI's help for a limit error ends.
fn raise_with(flag: &str) -> String {
    format!("raise the limit with `{flag}`")
}

/// Every limit error the library gives names its limit and no flag, and so does
/// every other diagnostic of the policies in the test corpora; the documents'
/// limit errors too.
#[test]
fn library_help_names_no_flag() {
    let limit_errors = [
        (small(|l| l.max_source_bytes = 8), Limit::SourceBytes),
        (small(|l| l.max_items = 1), Limit::Items),
        (small(|l| l.max_string_len = 1), Limit::StringLen),
        (small(|l| l.max_list_len = 1), Limit::ListLen),
        (small(|l| l.max_depth = 0), Limit::Depth),
    ];
    for (limits, limit) in limit_errors {
        let err = parse_with(OK_POLICY, &limits).expect_err("over a limit");
        assert!(err.iter().any(|d| d.limit == Some(limit)), "{limit:?}");
        assert_no_flag(&err);
    }
    let err =
        parse_with(&rule_with(&parens(65, "change.ok")), &Limits::default()).expect_err("too deep");
    assert!(err.iter().any(|d| d.limit == Some(Limit::Depth)));
    assert_no_flag(&err);
    let dir = temp_dir("no-flag-imports");
    let root = import_chain(&dir, 3);
    let err = Policy::from_file_with_limits(&root, &small(|l| l.max_import_depth = 2))
        .expect_err("too deep");
    assert!(err.iter().any(|d| d.limit == Some(Limit::ImportDepth)));
    assert_no_flag(&err);

    // Every other diagnostic: the corpora of bad policies.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut seen = 0;
    for folder in ["bad/policies", "diagnostics", "lints", "modules"] {
        let Ok(entries) = std::fs::read_dir(root.join(folder)) else {
            continue;
        };
        for entry in entries {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "gate") {
                let diags = match Policy::from_file(&path) {
                    Ok(p) => Diagnostics(p.warnings().to_vec()),
                    Err(d) => d,
                };
                seen += diags.len();
                assert_no_flag(&diags);
            }
        }
    }
    assert!(seen > 50, "only {seen} diagnostics");

    // Documents.
    let doc_errors: [(&[u8], Limits, Limit); 4] = [
        (
            br#"{"id": "CHG-1"}"#,
            small(|l| l.max_input_bytes = 8),
            Limit::InputBytes,
        ),
        (br#"{"a": [[1]]}"#, small(|l| l.max_depth = 2), Limit::Depth),
        (
            br#"{"id": "CHG-1042"}"#,
            small(|l| l.max_string_len = 5),
            Limit::StringLen,
        ),
        (
            br#"{"t": [1, 2, 3]}"#,
            small(|l| l.max_list_len = 2),
            Limit::ListLen,
        ),
    ];
    for (doc, limits, limit) in doc_errors {
        let e = input_err(doc, Format::Json, &limits);
        assert_eq!(e.limit(), Some(limit));
        let advice = e.advice().unwrap_or("");
        assert!(!names_a_flag(advice), "{limit:?}: {advice}");
        assert!(!names_a_flag(&format!("{:?}", miette::Report::new(e))));
    }
    let mut laughs = String::from("a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for i in 1..6 {
        laughs.push_str(&format!(
            "a{i}: &a{i} [{}]\n",
            vec![format!("*a{}", i - 1); 10].join(", ")
        ));
    }
    let e = input_err(
        laughs.as_bytes(),
        Format::Yaml,
        &small(|l| l.max_alias_events = 100),
    );
    assert_eq!(e.limit(), Some(Limit::AliasEvents), "{}", e.message());
    assert!(!names_a_flag(e.advice().unwrap_or("")));
}

// ---- the CLI flags ---------------------------------------------------------------------

#[test]
fn cli_flags_set_each_limit() {
    let dir = temp_dir("cli");
    let policy = dir.join("p.gate");
    std::fs::write(&policy, OK_POLICY).expect("write");
    let p = policy.to_str().expect("utf-8 path");
    let change = dir.join("c.json");
    std::fs::write(
        &change,
        r#"{"id": "CHG-1", "kind": "x", "author": "a-long-name", "targets": [[["a"]]]}"#,
    )
    .expect("write");
    let c = change.to_str().expect("utf-8 path");
    let at = "2026-11-26T10:00:00Z";

    assert_eq!(cli(&["check", p]).0, 0);
    for (flag, value, needle) in [
        (
            "--max-policy-bytes",
            "10",
            "more than the limit of 10 bytes",
        ),
        ("--max-rules", "2", "more than 2 items"),
        ("--max-string-len", "2", "more than the limit of 2"),
        ("--max-list-len", "1", "more than the limit of 1"),
    ] {
        let (code, err) = cli(&["check", flag, value, p]);
        assert_eq!(code, 1, "{flag}: {err}");
        assert!(err.contains(needle), "{flag}: {err}");
        // The help names the flag (a file over the size limit is refused while
        // being read, with no help).
        if flag != "--max-policy-bytes" {
            assert!(err.contains(&raise_with(flag)), "{flag}: {err}");
        }
    }
    let deep = dir.join("deep.gate");
    std::fs::write(
        &deep,
        OK_POLICY.replace("change.kind == \"x\"", "((change.kind == \"x\"))"),
    )
    .expect("write");
    let (code, err) = cli(&["check", "--max-depth", "1", deep.to_str().expect("path")]);
    assert_eq!(code, 1);
    assert!(
        err.contains("brackets nest deeper than the limit of 1"),
        "{err}"
    );
    assert!(err.contains(&raise_with("--max-depth")), "{err}");
    let (code, err) = cli(&["check", "--max-depth", "2", deep.to_str().expect("path")]);
    assert_eq!(code, 1);
    assert!(
        err.contains("this expression nests deeper than the limit of 2"),
        "{err}"
    );
    assert!(err.contains(&raise_with("--max-depth")), "{err}");

    let root = import_chain(&dir, 3);
    let (code, err) = cli(&[
        "check",
        "--max-import-depth",
        "2",
        root.to_str().expect("path"),
    ]);
    assert_eq!(code, 1);
    assert!(
        err.contains("imports nest deeper than the limit of 2"),
        "{err}"
    );
    assert!(err.contains(&raise_with("--max-import-depth")), "{err}");
    // The JSON diagnostics too.
    let (code, err) = cli(&[
        "check",
        "--error-format",
        "json",
        "--max-import-depth",
        "2",
        root.to_str().expect("path"),
    ]);
    assert_eq!(code, 1);
    assert!(err.contains(&raise_with("--max-import-depth")), "{err}");

    let (code, out) = cli(&["evaluate", "-p", p, "-c", c, "--at", at]);
    assert_eq!(code, 0, "{out}");
    for (flag, value, needle) in [
        ("--max-input-bytes", "10", "more than the limit of 10 bytes"),
        ("--max-depth", "3", "deeper than the limit of 3 levels"),
        ("--max-string-len", "5", "longer than the limit of 5 bytes"),
    ] {
        let (code, err) = cli(&["evaluate", "-p", p, "-c", c, "--at", at, flag, value]);
        assert_eq!(code, 1, "{flag}: {err}");
        assert!(err.contains(needle), "{flag}: {err}");
    }
    let list = dir.join("list.json");
    std::fs::write(&list, r#"{"kind": "x", "labels": ["a", "b", "c"]}"#).expect("write");
    let (code, err) = cli(&[
        "evaluate",
        "-p",
        p,
        "-c",
        list.to_str().expect("path"),
        "--at",
        at,
        "--max-list-len",
        "2",
    ]);
    assert_eq!(code, 1);
    assert!(err.contains("limit of 2"), "{err}");
}
