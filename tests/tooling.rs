//! `changegate fmt` and `changegate test`: formatting snapshots and laws, and the
//! test runner's output, exit codes, coverage figures and JUnit report.

use std::path::{Path, PathBuf};
use std::process::Output;

use crate::common::{self, Temp};

use changegate::Limits;

fn format(src: &str) -> String {
    changegate::fmt::format_source(src, "t.gate", &Limits::default()).expect("formats")
}

#[test]
fn formatting_snapshots_are_idempotent_and_keep_comments() {
    let mut dir: Vec<PathBuf> = std::fs::read_dir("tests/fmt")
        .expect("tests/fmt")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "gate"))
        .collect();
    dir.sort();
    assert!(dir.len() >= 2);
    for path in dir {
        let src = std::fs::read_to_string(&path).expect("readable");
        let once = format(&src);
        let name = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or("?")
            .to_owned();
        insta::assert_snapshot!(format!("fmt_{name}"), once);
        assert_eq!(format(&once), once, "{name}: formatting is not idempotent");
        // That formatting keeps the syntax tree is tested in the crate (src/fmt.rs).
        // Every comment survives.
        for line in src.lines() {
            if let Some(i) = line.find("# ") {
                let comment = line[i..].trim_end();
                assert!(once.contains(comment), "{name}: lost comment {comment:?}");
            }
        }
    }
}

#[test]
fn example_policies_are_formatted() {
    for entry in std::fs::read_dir("policies")
        .expect("policies/")
        .filter_map(Result::ok)
    {
        let path = entry.path();
        if path.extension().is_some_and(|e| e == "gate") {
            let src = std::fs::read_to_string(&path).expect("readable");
            assert_eq!(
                format(&src),
                src,
                "{} is not formatted: run `changegate fmt policies/`",
                path.display()
            );
        }
    }
}

fn changegate(args: &[&str], dir: &Path) -> Output {
    common::changegate()
        .args(args)
        .current_dir(dir)
        .output()
        .expect("changegate runs")
}

const POLICY: &str = r#"policy "t"

group ops = ["alice", "bob"]

rule "docs" {
  when all change.files match "docs/**"
  then deploy
}

rule "risky" {
  when has(change.risk) and change.risk > 3
  then approve 2 from ops
}

default approve 1 from ops
"#;

#[test]
fn fmt_check_reports_a_diff_and_fails() {
    let dir = Temp::new("tooling-fmt");
    dir.file(
        "messy.gate",
        "policy \"m\"\ngroup ops=[\"a\"]\ndefault approve 1 from ops\n",
    );
    let out = changegate(&["fmt", "--check", "messy.gate"], &dir.0);
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("-group ops=[\"a\"]"), "{stdout}");
    assert!(stdout.contains("+group ops = [\"a\"]"), "{stdout}");
    // Without --check it rewrites the file, after which --check passes.
    assert_eq!(
        changegate(&["fmt", "messy.gate"], &dir.0).status.code(),
        Some(0)
    );
    assert_eq!(
        changegate(&["fmt", "--check", "."], &dir.0).status.code(),
        Some(0)
    );
}

#[test]
fn test_runner_passes_fails_and_reports() {
    let dir = Temp::new("tooling-test");
    dir.file("t.gate", POLICY);
    dir.file(
        "t.test.yaml",
        r#"cases:
  - name: docs deploy
    at: 2026-11-26T10:00:00Z
    change: { files: [docs/a.md] }
    expect: { decision: deploy }
  - name: wrong on purpose
    at: 2026-11-26T10:00:00Z
    change: { files: [src/a.rs], approvals: [bob] }
    expect: { decision: approve }
"#,
    );
    let out = changegate(&["test", "--coverage"], &dir.0);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("test docs deploy ... ok"), "{text}");
    assert!(text.contains("test wrong on purpose ... FAILED"), "{text}");
    assert!(
        text.contains("decision: expected approve, got deploy"),
        "{text}"
    );
    assert!(text.contains("-  \"decision\": \"approve\""), "{text}");
    // One of two rules matched: exactly 50.0%; no windows or freezes.
    assert!(
        text.contains("rules    1/2 (50.0%)  not exercised: risky"),
        "{text}"
    );
    assert!(
        text.contains("test result: FAILED. 1 passed; 1 failed"),
        "{text}"
    );

    let junit = changegate(&["test", "--format", "junit"], &dir.0);
    let xml = String::from_utf8_lossy(&junit.stdout);
    assert!(xml.starts_with("<?xml"), "{xml}");
    assert!(
        xml.contains(r#"<testsuites name="changegate" tests="2" "#)
            && xml.contains(r#" failures="1""#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testcase name="wrong on purpose" classname="./t.test.yaml" "#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<failure message="decision: expected approve, got deploy">"#),
        "{xml}"
    );

    let json = changegate(&["test", "--format", "json"], &dir.0);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).expect("JSON report");
    assert_eq!(v["files"][0]["cases"][1]["passed"], false);
    assert_eq!(v["files"][0]["coverage"]["rules"]["docs"], true);
}

#[test]
fn coverage_is_exact_and_enforced() {
    let dir = Temp::new("tooling-coverage");
    // Three rules, two exercised: 66.66…% must print as 66.6, never 66.7 or 100.
    dir.file(
        "c.gate",
        &POLICY.replace(
            "default approve",
            "rule \"never\" {\n  when change.kind == \"nothing\"\n  then deny \"no\"\n}\n\ndefault approve",
        ),
    );
    dir.file(
        "c.test.yaml",
        r#"cases:
  - name: docs
    at: 2026-11-26T10:00:00Z
    change: { kind: docs, files: [docs/a.md] }
    expect: { decision: deploy }
  - name: risky
    at: 2026-11-26T10:00:00Z
    change: { kind: code, risk: 5, files: [src/a.rs], approvals: [alice, bob] }
    expect: { decision: deploy }
"#,
    );
    let out = changegate(&["test", "--coverage"], &dir.0);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("rules    2/3 (66.6%)  not exercised: never"),
        "{text}"
    );
    let strict = changegate(&["test", "--min-coverage", "70"], &dir.0);
    assert_eq!(strict.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&strict.stderr)
        .contains("coverage of ./c.gate is 66.6%, below the minimum of 70%"));
    assert_eq!(
        changegate(&["test", "--min-coverage", "66"], &dir.0)
            .status
            .code(),
        Some(0)
    );
}

#[test]
fn a_broken_test_file_fails_with_its_reason() {
    let dir = Temp::new("tooling-broken");
    dir.file("b.gate", POLICY);
    dir.file("b.test.yaml", "cases:\n  - name: x\n    at: 2026-11-26T10:00:00Z\n    change: {}\n    expct: { decision: deploy }\n");
    let out = changegate(&["test"], &dir.0);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("unknown field `expct`"), "{text}");
}

#[test]
fn a_field_no_case_mentions_is_flagged() {
    let dir = Temp::new("tooling-fields");
    dir.file(
        "f.gate",
        "policy \"f\"\n\ngroup ops = [\"a\", \"b\"]\n\nrule \"r\" {\n  when not change.rollback_plna\n  then deny \"x\"\n}\n\ndefault deploy\n",
    );
    dir.file(
        "f.test.yaml",
        "cases:\n  - name: x\n    at: 2026-11-26T10:00:00Z\n    change: { rollback_plan: true, rollback_plna: true }\n    expect: { decision: deploy }\n  - name: y\n    at: 2026-11-26T10:00:00Z\n    change: { rollback_plan: true }\n    expect: { decision: deny }\n",
    );
    // The first case sets the misspelt field, so nothing is flagged...
    let out = changegate(&["test"], &dir.0);
    assert!(!String::from_utf8_lossy(&out.stdout).contains("warning:"));
    // ...until no case does.
    dir.file(
        "f.test.yaml",
        "cases:\n  - name: y\n    at: 2026-11-26T10:00:00Z\n    change: { rollback_plan: true }\n    expect: { decision: deny }\n",
    );
    let out = changegate(&["test"], &dir.0);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("warning: `change.rollback_plna` (read at ./f.gate:6:12) appears in no test case and no schema: a typo, or an untested field (did you mean `change.rollback_plan`?)"),
        "{text}"
    );
}
