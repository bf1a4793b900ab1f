//! CLI tests: they run the real `changegate` binary on files written to a temporary
//! folder and check exit codes, stdout and stderr.

use std::path::Path;
use std::process::Output;

use crate::common::{changegate, output_with_stdin, Temp};

const AT: &str = "2026-11-26T10:00:00Z";

const POLICY: &str = r#"policy "cli"
group ops = ["alice", "bob"]
window night = daily 01:00-02:00 in "UTC"
rule "docs ship" { when change.kind == "docs" then deploy }
rule "databases at night" { when change.kind == "db" then deploy during night }
rule "never" { when change.kind == "bad" then deny "not this" }
default approve 1 from ops
"#;

const INVENTORY: &str = r#"{
  "sites": { "NYC": { "timezone": "America/New_York" } },
  "devices": {
    "core-1": { "site": "NYC", "role": "core", "depends_on": ["edge-1"] },
    "edge-1": { "site": "NYC", "role": "edge" }
  }
}"#;

fn run(args: &[&str]) -> Output {
    changegate().args(args).output().expect("run changegate")
}

fn run_stdin(args: &[&str], input: &str) -> Output {
    output_with_stdin(changegate().args(args), input)
}

fn code(o: &Output) -> i32 {
    o.status.code().expect("exit code")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn p(path: &Path) -> &str {
    path.to_str().expect("UTF-8 path")
}

fn change(kind: &str) -> String {
    format!(r#"{{"id": "CHG-{kind}", "kind": "{kind}", "author": "mallory"}}"#)
}

// ---- check ----------------------------------------------------------------------

#[test]
fn check_netops_is_clean() {
    let policy = concat!(env!("CARGO_MANIFEST_DIR"), "/policies/netops.gate");
    let o = run(&["check", policy]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
}

#[test]
fn check_broken_policy_exits_1_with_the_diagnostic() {
    let t = Temp::new("cli");
    let bad = t.file(
        "bad.gate",
        "policy \"p\"\ngroup ops = [\"a\"]\ndefault approve 1 from opz\n",
    );
    let o = run(&["check", p(&bad)]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(err.contains("unknown group `opz`"), "{err}");
    assert!(err.contains("did you mean `ops`?"), "{err}");
    assert!(err.contains("bad.gate:3:24"), "{err}");
    assert!(stdout(&o).is_empty());
}

#[test]
fn check_error_format_json_is_one_object_per_line() {
    let t = Temp::new("cli");
    let bad = t.file(
        "bad.gate",
        "policy \"p\"\nrule \"a\" { when change.a = 1 then deploy }\nrule \"b\" { when change.b && change.c then deploy }\ndefault deploy\n",
    );
    let o = run(&["check", "--error-format", "json", p(&bad)]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines.len(), 2, "{err}");
    let objects: Vec<serde_json::Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    for (o, line) in objects.iter().zip([2, 3]) {
        for key in ["file", "line", "column", "message", "help", "code"] {
            assert!(o.get(key).is_some(), "missing `{key}` in {o}");
        }
        assert_eq!(o["file"], p(&bad));
        assert_eq!(o["line"], line);
        assert_eq!(o["code"], "changegate::syntax");
    }
    assert_eq!(objects[0]["column"], 26);
    assert_eq!(objects[0]["help"], "compare with `==`");
    assert_eq!(objects[1]["help"], "write `and`");
}

#[test]
fn check_unreadable_policy_exits_1() {
    let t = Temp::new("cli");
    let o = run(&["check", p(&t.0.join("missing.gate"))]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("cannot read"), "{}", stderr(&o));
}

// ---- evaluate -------------------------------------------------------------------

#[test]
fn evaluate_exit_codes() {
    let t = Temp::new("cli");
    let policy = t.file("policy.gate", POLICY);
    for (kind, expected, decision) in [
        ("docs", 0, "deploy"),
        ("other", 10, "approve"),
        ("db", 11, "wait"),
        ("bad", 12, "deny"),
    ] {
        let c = t.file(&format!("{kind}.json"), &change(kind));
        let o = run(&[
            "evaluate",
            "-p",
            p(&policy),
            "-c",
            p(&c),
            "--at",
            AT,
            "--format",
            "json",
        ]);
        assert_eq!(code(&o), expected, "{kind}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("verdict JSON");
        assert_eq!(v["decision"], decision);
        assert_eq!(v["change"], format!("CHG-{kind}"));
    }
}

#[test]
fn evaluate_text_output_names_the_decision() {
    let t = Temp::new("cli");
    let policy = t.file("policy.gate", POLICY);
    let c = t.file("c.json", &change("db"));
    let o = run(&["evaluate", "-p", p(&policy), "-c", p(&c), "--at", AT]);
    assert_eq!(code(&o), 11);
    assert!(stdout(&o).to_lowercase().contains("wait"), "{}", stdout(&o));
}

#[test]
fn evaluate_reads_the_change_from_stdin() {
    let t = Temp::new("cli");
    let policy = t.file("policy.gate", POLICY);
    let o = run_stdin(
        &[
            "evaluate",
            "-p",
            p(&policy),
            "-c",
            "-",
            "--at",
            AT,
            "--format",
            "json",
        ],
        &change("docs"),
    );
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    // YAML on standard input too.
    let o = run_stdin(
        &["evaluate", "-p", p(&policy), "-c", "-", "--at", AT],
        "id: CHG-9\nkind: bad\n",
    );
    assert_eq!(code(&o), 12, "{}", stderr(&o));
}

#[test]
fn evaluate_malformed_change_exits_1_with_line_and_column() {
    let t = Temp::new("cli");
    let policy = t.file("policy.gate", POLICY);
    let c = t.file("c.json", "{\n  \"id\": \"x\",\n  \"kind\": ,\n}\n");
    let o = run(&["evaluate", "-p", p(&policy), "-c", p(&c), "--at", AT]);
    assert_eq!(code(&o), 1);
    let err = stderr(&o);
    assert!(err.contains("line 3") || err.contains(":3:"), "{err}");
    assert!(err.contains("column 11") || err.contains(":3:11"), "{err}");
    assert!(stdout(&o).is_empty());
}

#[test]
fn evaluate_malformed_change_on_stdin_exits_1() {
    let t = Temp::new("cli");
    let policy = t.file("policy.gate", POLICY);
    let o = run_stdin(
        &["evaluate", "-p", p(&policy), "-c", "-", "--at", AT],
        "{\"id\": ",
    );
    assert_eq!(code(&o), 1);
    assert!(!stderr(&o).is_empty());
}

#[test]
fn evaluate_change_that_is_not_an_object_exits_1() {
    let t = Temp::new("cli");
    let policy = t.file("policy.gate", POLICY);
    let c = t.file("c.json", "[1, 2]");
    let o = run(&["evaluate", "-p", p(&policy), "-c", p(&c), "--at", AT]);
    assert_eq!(code(&o), 1, "{}", stdout(&o));
}

#[test]
fn evaluate_unreadable_or_broken_policy_exits_1() {
    let t = Temp::new("cli");
    let c = t.file("c.json", &change("docs"));
    let o = run(&[
        "evaluate",
        "-p",
        p(&t.0.join("nope.gate")),
        "-c",
        p(&c),
        "--at",
        AT,
    ]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("cannot read"), "{}", stderr(&o));

    let broken = t.file("broken.gate", "policy \"p\"\n");
    let o = run(&["evaluate", "-p", p(&broken), "-c", p(&c), "--at", AT]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("no `default`"), "{}", stderr(&o));

    let o = run(&["evaluate", "-p", p(&t.0), "-c", p(&c), "--at", AT]);
    assert_eq!(code(&o), 1, "a directory is not a policy");
}

#[test]
fn evaluate_missing_change_file_exits_1() {
    let t = Temp::new("cli");
    let policy = t.file("policy.gate", POLICY);
    let o = run(&[
        "evaluate",
        "-p",
        p(&policy),
        "-c",
        p(&t.0.join("no.json")),
        "--at",
        AT,
    ]);
    assert_eq!(code(&o), 1);
}

#[test]
fn evaluate_batch_prints_one_verdict_per_line() {
    let t = Temp::new("cli");
    let policy = t.file("policy.gate", POLICY);
    let batch = t.file(
        "batch.jsonl",
        &format!(
            "{}\n\n{}\n{}\n",
            change("docs"),
            change("other"),
            change("db")
        ),
    );
    let o = run(&[
        "evaluate",
        "-p",
        p(&policy),
        "-c",
        p(&batch),
        "--at",
        AT,
        "--format",
        "json",
    ]);
    assert_eq!(
        code(&o),
        10,
        "approve is the most restrictive: {}",
        stderr(&o)
    );
    let out = stdout(&o);
    let decisions: Vec<String> = out
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("one JSON verdict per line");
            v["decision"].as_str().expect("decision").to_owned()
        })
        .collect();
    assert_eq!(decisions, ["deploy", "approve", "wait"]);

    let batch = t.file(
        "deny.jsonl",
        &format!("{}\n{}\n", change("bad"), change("docs")),
    );
    let o = run(&[
        "evaluate",
        "-p",
        p(&policy),
        "-c",
        p(&batch),
        "--at",
        AT,
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 12);
    assert_eq!(stdout(&o).lines().count(), 2);
}

#[test]
fn evaluate_batch_with_a_malformed_line_exits_1() {
    let t = Temp::new("cli");
    let policy = t.file("policy.gate", POLICY);
    let batch = t.file(
        "batch.jsonl",
        &format!("{}\n{{\"kind\": \n{}\n", change("docs"), change("bad")),
    );
    let o = run(&[
        "evaluate",
        "-p",
        p(&policy),
        "-c",
        p(&batch),
        "--at",
        AT,
        "--format",
        "json",
    ]);
    assert_eq!(code(&o), 1);
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON per line"))
        .collect();
    assert_eq!(lines.len(), 3, "the good lines are still evaluated");
    assert_eq!(lines[0]["decision"], "deploy");
    assert_eq!(lines[1]["line"], 2);
    assert!(lines[1]["error"].is_string());
    assert_eq!(lines[2]["decision"], "deny");
}

#[test]
fn evaluate_at_accepts_offsets() {
    let t = Temp::new("cli");
    let policy = t.file("policy.gate", POLICY);
    let c = t.file("c.json", &change("db"));
    let mut seen = Vec::new();
    // All the same instant; `db` may only go inside 01:00-02:00 UTC.
    for at in [
        "2026-11-26T01:30:00Z",
        "2026-11-26T07:15:00+05:45",
        "2026-11-26T01:30:00-00:00",
        "2026-11-25T20:30:00-05:00",
    ] {
        let o = run(&[
            "evaluate",
            "-p",
            p(&policy),
            "-c",
            p(&c),
            "--at",
            at,
            "--format",
            "json",
        ]);
        assert_eq!(code(&o), 0, "{at}: inside the window: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("verdict");
        seen.push(v["at"].clone());
    }
    assert!(seen.windows(2).all(|w| w[0] == w[1]), "{seen:?}");
    let o = run(&[
        "evaluate",
        "-p",
        p(&policy),
        "-c",
        p(&c),
        "--at",
        "2026-11-26T07:45:00+05:45",
    ]);
    assert_eq!(code(&o), 11, "02:00 UTC: the window has closed");
}

#[test]
fn evaluate_bad_at_exits_1() {
    let t = Temp::new("cli");
    let policy = t.file("policy.gate", POLICY);
    let c = t.file("c.json", &change("docs"));
    for at in [
        "tomorrow",
        "2026-11-26 10:00",
        "2026-11-26T10:00:00",
        "2026-13-01T00:00:00Z",
    ] {
        let o = run(&["evaluate", "-p", p(&policy), "-c", p(&c), "--at", at]);
        assert_eq!(code(&o), 1, "{at}");
        assert!(stderr(&o).contains("--at"), "{at}: {}", stderr(&o));
        assert!(stdout(&o).is_empty());
    }
}

// ---- blast ----------------------------------------------------------------------

#[test]
fn blast_text_and_json() {
    let t = Temp::new("cli");
    let inv = t.file("inventory.json", INVENTORY);
    let o = run(&["blast", "-i", p(&inv), "edge-1"]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("2 devices"), "{text}");
    assert!(text.contains("core-1") && text.contains("edge-1"), "{text}");

    let o = run(&["blast", "-i", p(&inv), "edge-1", "--format", "json"]);
    assert_eq!(code(&o), 0);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["devices"], serde_json::json!(["core-1", "edge-1"]));
    assert_eq!(v["sites"], serde_json::json!(["NYC"]));
    assert_eq!(v["roles"], serde_json::json!(["core", "edge"]));
    assert_eq!(v["depth"], 1);

    // A device nothing depends on is its own blast radius.
    let o = run(&["blast", "-i", p(&inv), "core-1", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&stdout(&o)).expect("JSON");
    assert_eq!(v["devices"], serde_json::json!(["core-1"]));
    assert_eq!(v["depth"], 0);
}

#[test]
fn blast_unknown_target_exits_1() {
    let t = Temp::new("cli");
    let inv = t.file("inventory.json", INVENTORY);
    let o = run(&["blast", "-i", p(&inv), "edge-2"]);
    assert_eq!(code(&o), 1);
    assert!(stderr(&o).contains("edge-2"), "{}", stderr(&o));
    assert!(stdout(&o).is_empty());
}

// ---- colour ---------------------------------------------------------------------

#[test]
fn no_color_output_has_no_ansi_escapes() {
    let t = Temp::new("cli");
    let bad = t.file("bad.gate", "policy \"p\"\ndefault approve 1 from nobody\n");
    let policy = t.file("policy.gate", POLICY);
    let c = t.file("c.json", &change("db"));
    let outputs = [
        run(&["check", p(&bad)]),
        run(&["evaluate", "-p", p(&policy), "-c", p(&c), "--at", AT]),
        run(&["evaluate", "-p", p(&bad), "-c", p(&c), "--at", AT]),
    ];
    for o in &outputs {
        assert!(!o.stdout.contains(&0x1b), "{}", stdout(o));
        assert!(!o.stderr.contains(&0x1b), "{}", stderr(o));
    }
    assert!(!outputs[0].stderr.is_empty());
}

// ---- the trust boundary (docs/language.md) ---------------------------------------

/// An empty or blank batch yields no verdict: exit 1, even under `default deploy`.
#[test]
fn evaluate_empty_batch_exits_1() {
    let t = Temp::new("cli");
    let policy = t.file("policy.gate", "policy \"p\"\ndefault deploy\n");
    for (name, text) in [
        ("empty.jsonl", ""),
        ("blank.jsonl", "\n\n"),
        ("spaces.jsonl", "  \t \n \r\n   "),
    ] {
        let batch = t.file(name, text);
        for format in ["json", "text"] {
            let o = run(&[
                "evaluate",
                "-p",
                p(&policy),
                "-c",
                p(&batch),
                "--at",
                AT,
                "--format",
                format,
            ]);
            assert_eq!(code(&o), 1, "{name} ({format}): {}", stderr(&o));
            assert!(stderr(&o).contains("holds no change"), "{}", stderr(&o));
        }
    }
}

/// A name with a hidden character is an input error: exit 1, for one change and for
/// a batch line; the message is escaped.
#[test]
fn evaluate_hidden_character_in_a_name_exits_1() {
    let t = Temp::new("cli");
    let policy = t.file("policy.gate", POLICY);
    for (name, bad) in [
        (
            "author.json",
            r#"{"kind": "docs", "author": "alice\u200b"}"#,
        ),
        (
            "by.json",
            r#"{"kind": "docs", "approvals": [{"by": "bob\u202e"}]}"#,
        ),
        (
            "esc.json",
            r#"{"kind": "docs", "approvals": ["bob\u001b[2K"]}"#,
        ),
    ] {
        let c = t.file(name, bad);
        let o = run(&["evaluate", "-p", p(&policy), "-c", p(&c), "--at", AT]);
        assert_eq!(code(&o), 1, "{name}: {}", stdout(&o));
        let err = stderr(&o);
        assert!(err.contains("is not a usable name"), "{err}");
        assert!(
            !err.contains('\u{1b}') && !err.contains('\u{202e}'),
            "{err:?}"
        );
        let batch = t.file("batch.jsonl", &format!("{}\n{bad}\n", change("docs")));
        let o = run(&[
            "evaluate",
            "-p",
            p(&policy),
            "-c",
            p(&batch),
            "--at",
            AT,
            "--format",
            "json",
        ]);
        assert_eq!(code(&o), 1, "{name} in a batch: {}", stdout(&o));
        let lines: Vec<serde_json::Value> = stdout(&o)
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON per line"))
            .collect();
        assert_eq!(lines[0]["decision"], "deploy");
        assert_eq!(lines[1]["line"], 2);
    }
}

/// `--min-coverage NaN` passed a half-covered policy; only 0..=100 is accepted.
#[test]
fn test_min_coverage_must_be_a_percentage() {
    let t = Temp::new("cli");
    t.file(
        "p.gate",
        "policy \"p\"\nrule \"a\" { when change.kind == \"a\" then deploy }\nrule \"b\" { when change.kind == \"b\" then deploy }\ndefault deploy\n",
    );
    let tests = t.file(
        "p.test.yaml",
        "cases:\n  - name: a\n    at: \"2026-11-26T10:00:00Z\"\n    change: { kind: a }\n    expect: { decision: deploy }\n",
    );
    for bad in [
        "NaN", "nan", "inf", "-inf", "infinity", "-1", "101", "100.5", "1e3", "fifty", "",
    ] {
        let o = run(&["test", p(&tests), &format!("--min-coverage={bad}")]);
        assert_eq!(
            code(&o),
            2,
            "--min-coverage {bad:?} is a usage error: {}",
            stderr(&o)
        );
        assert!(stderr(&o).contains("--min-coverage"), "{}", stderr(&o));
    }
    for (ok, exit) in [("0", 0), ("50", 0), ("50.0", 0), ("66.7", 1), ("100", 1)] {
        let o = run(&["test", p(&tests), "--min-coverage", ok]);
        assert_eq!(code(&o), exit, "--min-coverage {ok}: {}", stderr(&o));
    }
}

/// A change id with ANSI escapes rewrote the text verdict (`DEPLOY` over `APPROVE`).
#[test]
fn evaluate_text_output_escapes_the_change_id() {
    let t = Temp::new("cli");
    let policy = t.file("policy.gate", POLICY);
    let c = t.file(
        "c.json",
        r#"{"id": "CHG-1\r\u001b[1A\u001b[2KDEPLOY  the change may go now\u009b\u202e", "kind": "other"}"#,
    );
    let o = run(&["evaluate", "-p", p(&policy), "-c", p(&c), "--at", AT]);
    assert_eq!(code(&o), 10);
    let out = stdout(&o);
    assert!(out.starts_with("APPROVE"), "{out}");
    for ch in ['\u{1b}', '\r', '\u{9b}', '\u{202e}'] {
        assert!(!out.contains(ch), "{ch:?} in {out:?}");
    }
    assert!(
        out.contains("change CHG-1\\u{d}\\u{1b}[1A\\u{1b}[2KDEPLOY"),
        "{out}"
    );
    // `--explain` text too.
    let o = run(&[
        "evaluate",
        "-p",
        p(&policy),
        "-c",
        p(&c),
        "--at",
        AT,
        "--explain",
    ]);
    assert!(!stdout(&o).contains('\u{1b}'), "{}", stdout(&o));
}

/// `blast` text output escapes device names from the inventory and the command line.
#[test]
fn blast_text_escapes_names() {
    let t = Temp::new("cli");
    let inv = t.file(
        "inv.json",
        r#"{"sites": {"S\u001b[31m": {"timezone": "UTC"}}, "devices": {"d\u001b[2K": {"site": "S\u001b[31m", "role": "r\u202e"}}}"#,
    );
    let o = run(&["blast", "-i", p(&inv), "d\u{1b}[2K"]);
    let out = stdout(&o);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    assert!(
        !out.contains('\u{1b}') && !out.contains('\u{202e}'),
        "{out:?}"
    );
    assert!(out.contains("d\\u{1b}[2K"), "{out}");
    let o = run(&["blast", "-i", p(&inv), "nope\u{1b}[2K"]);
    assert_eq!(code(&o), 1);
    assert!(!stderr(&o).contains('\u{1b}'), "{:?}", stderr(&o));
}

/// `changegate test` text output escapes case names and messages from the test file.
#[test]
fn test_text_output_escapes_names() {
    let t = Temp::new("cli");
    t.file("p.gate", "policy \"p\"\ndefault deploy\n");
    let tests = t.file(
        "p.test.yaml",
        "cases:\n  - name: \"ok\\e[2K\\rDEPLOY\"\n    at: \"2026-11-26T10:00:00Z\"\n    change: { kind: \"a\\e[31m\" }\n    expect: { decision: deny }\n",
    );
    let o = run(&["test", p(&tests)]);
    assert_eq!(code(&o), 1);
    let out = stdout(&o);
    assert!(!out.contains('\u{1b}') && !out.contains('\r'), "{out:?}");
    assert!(out.contains("ok\\u{1b}[2K\\u{d}DEPLOY"), "{out}");
}

/// `windows` text output escapes site names from the inventory, and prints lengths
/// exactly (`3h`, `16d`, not `3h00m`, `384h00m`).
#[test]
fn windows_text_escapes_sites_and_prints_exact_lengths() {
    let t = Temp::new("cli");
    let policy = t.file(
        "p.gate",
        "policy \"p\"\nwindow night = daily 02:00-05:00 local\nfreeze long = 2026-12-01 00:00 .. 2026-12-17 00:00 in \"UTC\"\nrule \"r\" { when change.kind == \"x\" then deploy during night }\ndefault deploy\n",
    );
    let inv = t.file(
        "inv.json",
        r#"{"sites": {"N\u001b[2J": {"timezone": "UTC"}}, "devices": {"d": {"site": "N\u001b[2J"}}}"#,
    );
    let o = run(&[
        "windows",
        "-p",
        p(&policy),
        "-i",
        p(&inv),
        "--from",
        "2026-11-30T00:00:00Z",
        "--days",
        "20",
    ]);
    assert_eq!(code(&o), 0, "{}", stderr(&o));
    let out = stdout(&o);
    assert!(!out.contains('\u{1b}'), "{out:?}");
    assert!(out.contains("at N\\u{1b}[2J"), "{out}");
    assert!(out.contains("   3h\n") && out.contains("   16d\n"), "{out}");
    assert!(!out.contains("h00m"), "{out}");
}
