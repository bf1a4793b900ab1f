//! `changegate diff OLD NEW --history FILE`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::common::{temp_path, BIN};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = temp_path(&format!("diff-{tag}"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn run_in(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn run(args: &[&str]) -> (i32, String, String) {
    run_in(&root(), args)
}

const NEW_RULE: &str = "firewall changes need a change ticket";

/// netops.gate with one more rule: firewall changes without a ticket are denied.
fn variant(dir: &Path) -> PathBuf {
    let mut text = std::fs::read_to_string(root().join("policies/netops.gate")).unwrap();
    text.push_str(&format!(
        "\nrule \"{NEW_RULE}\" {{\n  when change.kind == \"firewall\" and not has(change.ticket)\n  then deny \"firewall changes need a ticket\"\n}}\n"
    ));
    let path = dir.join("netops-variant.gate");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn one_more_rule_shows_exactly_the_cases_it_touches() {
    let dir = temp_dir("rule");
    let new = variant(&dir);
    // The cases the rule touches, found without `diff`: the test file's changes of
    // kind `firewall` without a ticket (read from the case itself), that the old
    // policy does not already deny (the new rule's `deny` changes the decision of
    // exactly those).
    let limits = changegate::Limits::default();
    let test_file = root().join("policies/netops.test.yaml");
    let spec = changegate::input::read_file(&test_file, &limits)
        .unwrap()
        .to_json();
    let old = changegate::Policy::from_file(root().join("policies/netops.gate")).unwrap();
    let inventory =
        changegate::Inventory::from_file(root().join("policies/netops.inventory.json")).unwrap();
    let mut expected = Vec::new();
    for case in spec["cases"].as_array().unwrap() {
        let change = match &case["change"] {
            Value::String(p) => {
                changegate::input::read_file(&root().join("policies").join(p), &limits)
                    .unwrap()
                    .to_json()
            }
            v => v.clone(),
        };
        let touched = change["kind"] == "firewall" && change.get("ticket").is_none();
        let verdict = old.evaluate(
            &changegate::Change::from_json(change).unwrap(),
            &inventory,
            case["at"].as_str().unwrap().parse().unwrap(),
        );
        if touched && verdict.decision != changegate::Decision::Deny {
            expected.push(case["name"].as_str().unwrap().to_owned());
        }
    }
    assert!(expected.len() >= 2, "{expected:?}");

    let (code, out, err) = run(&[
        "diff",
        "policies/netops.gate",
        new.to_str().unwrap(),
        "--history",
        "policies/netops.test.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(code, 3, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let cases = spec["cases"].as_array().unwrap().len();
    assert_eq!(report["replayed"], cases);
    assert_eq!(report["differing"], expected.len());
    let mut shown = Vec::new();
    for g in report["groups"].as_array().unwrap() {
        assert_eq!(g["to"], "deny", "{g}");
        assert_eq!(g["count"], g["changes"].as_array().unwrap().len());
        for c in g["changes"].as_array().unwrap() {
            shown.push(c["change"].as_str().unwrap().to_owned());
            assert_eq!(c["old"]["decision"], g["from"]);
            let cause = c["new"]["cause"].to_string();
            assert!(cause.contains(NEW_RULE), "{cause}");
            assert!(!c["old"]["cause"].to_string().contains(NEW_RULE));
        }
    }
    shown.sort();
    expected.sort();
    assert_eq!(shown, expected);

    // Text: the counts by transition, then each change with both sides.
    let (code, text, _) = run(&[
        "diff",
        "policies/netops.gate",
        new.to_str().unwrap(),
        "--history",
        "policies/netops.test.yaml",
    ]);
    assert_eq!(code, 3);
    assert!(
        text.contains(&format!(
            "{} of {cases} changes decided differently",
            expected.len()
        )),
        "{text}"
    );
    assert!(text.contains("approve -> deny: "), "{text}");
    assert!(
        text.contains(&format!("because rule {NEW_RULE:?} matches")),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_same_policy_differs_nowhere_and_exits_0() {
    for format in ["text", "json", "markdown"] {
        let (code, out, err) = run(&[
            "diff",
            "policies/netops.gate",
            "policies/netops.gate",
            "--history",
            "policies/netops.test.yaml",
            "--format",
            format,
        ]);
        assert_eq!(code, 0, "{format}: {err}");
        assert!(
            out.contains("0 of 12") || out.contains("\"differing\": 0"),
            "{out}"
        );
    }
}

fn record_line(prev: Option<&str>, at: &str, change: Value) -> String {
    // The decision record's shape (one JSON object per line, keys in this order).
    let line = json!({
        "record": 1,
        "prev": prev,
        "decision_id": "d-0001",
        "changegate": "0.1.0",
        "zone_data": "2025b",
        "at": at,
        "inputs": { "policy": { "policies/netops.gate": "00" }, "change": "11", "inventory": null },
        "change": change,
        "inventory": "policies/netops.inventory.json",
        "verdict": { "decision": "approve", "change": change["id"], "at": at },
    });
    line.to_string()
}

fn firewall(id: &str) -> Value {
    json!({
        "id": id, "kind": "firewall", "author": "mallory", "targets": ["fw-nyc-1"],
        "labels": [], "files": ["firewall/acl.conf"], "rollback_plan": true,
        "approvals": ["dave", "erin", "frank"]
    })
}

fn docs(id: &str) -> Value {
    json!({ "id": id, "kind": "docs", "author": "alice", "files": ["docs/x.md"],
            "rollback_plan": true, "approvals": [] })
}

#[test]
fn a_decision_log_and_changes_with_at_are_histories() {
    let dir = temp_dir("log");
    let new = variant(&dir);
    let log = dir.join("decisions.jsonl");
    let mut lines = vec![
        record_line(None, "2026-11-27T04:00:00Z", firewall("CHG-1")),
        record_line(Some("ab"), "2026-11-27T04:00:00Z", docs("CHG-2")),
    ];
    let mut plain = firewall("CHG-3");
    plain["at"] = json!("2026-11-26T10:00:00Z");
    lines.push(plain.to_string());
    let mut ticketed = firewall("CHG-4");
    ticketed["ticket"] = json!("T-9");
    ticketed["at"] = json!("2026-11-27T04:00:00Z");
    lines.push(ticketed.to_string());
    lines.push(String::new()); // blank lines are skipped
    std::fs::write(&log, lines.join("\n")).unwrap();
    let (code, out, err) = run(&[
        "diff",
        "policies/netops.gate",
        new.to_str().unwrap(),
        "--history",
        log.to_str().unwrap(),
        "-i",
        "policies/netops.inventory.json",
        "--format",
        "json",
    ]);
    assert_eq!(code, 3, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["replayed"], 4);
    assert_eq!(report["differing"], 2);
    let groups = report["groups"].as_array().unwrap();
    let names: Vec<(String, String, Vec<String>)> = groups
        .iter()
        .map(|g| {
            (
                g["from"].as_str().unwrap().to_owned(),
                g["to"].as_str().unwrap().to_owned(),
                g["changes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["change"].as_str().unwrap().to_owned())
                    .collect(),
            )
        })
        .collect();
    // CHG-1 was fully approved and in its window: deploy -> deny. CHG-3 was outside its
    // window at its instant: wait -> deny.
    assert!(
        names.contains(&("deploy".into(), "deny".into(), vec!["CHG-1".into()])),
        "{names:?}"
    );
    assert!(
        names.contains(&("wait".into(), "deny".into(), vec!["CHG-3".into()])),
        "{names:?}"
    );
    // The record's `at` is the instant evaluated.
    assert!(out.contains("\"at\":\"2026-11-27T04:00:00Z\""), "{out}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn markdown_is_counts_first_then_at_most_limit_examples() {
    let dir = temp_dir("md");
    let new = variant(&dir);
    let log = dir.join("h.jsonl");
    let mut text = String::new();
    for i in 0..25 {
        let mut c = firewall(&format!("CHG-{i}"));
        c["at"] = json!("2026-11-27T04:00:00Z");
        text.push_str(&c.to_string());
        text.push('\n');
    }
    std::fs::write(&log, text).unwrap();
    let (code, md, err) = run(&[
        "diff",
        "policies/netops.gate",
        new.to_str().unwrap(),
        "--history",
        log.to_str().unwrap(),
        "-i",
        "policies/netops.inventory.json",
        "--format",
        "markdown",
        "--limit",
        "3",
    ]);
    assert_eq!(code, 3, "{err}");
    let table = md.find("| deploy → deny | 25 |").expect(&md);
    let details = md.find("<details>").expect(&md);
    assert!(table < details, "counts come first");
    assert!(md.contains("deploy → deny: 25 (showing 3)"), "{md}");
    let rows = md.lines().filter(|l| l.starts_with("| CHG-")).count();
    assert_eq!(rows, 3, "{md}");
    // Default limit for markdown: 10.
    let (_, md, _) = run(&[
        "diff",
        "policies/netops.gate",
        new.to_str().unwrap(),
        "--history",
        log.to_str().unwrap(),
        "-i",
        "policies/netops.inventory.json",
        "--format",
        "markdown",
    ]);
    assert_eq!(md.lines().filter(|l| l.starts_with("| CHG-")).count(), 10);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_history_exits_1() {
    let dir = temp_dir("bad");
    let cases: [(&str, &str); 7] = [
        ("no-at.jsonl", "{\"id\": \"x\", \"kind\": \"docs\"}\n"),
        // Records: a duplicate key in the change or in the record itself, and a
        // change that is not an object, are refused as in any other document.
        (
            "dup-change.jsonl",
            r#"{"record": 1, "at": "2026-11-27T04:00:00Z", "change": {"id": "a", "id": "b"}, "verdict": {}}"#,
        ),
        (
            "dup-at.jsonl",
            r#"{"record": 1, "at": "2026-11-27T04:00:00Z", "at": "2026-11-28T04:00:00Z", "change": {"id": "a"}, "verdict": {}}"#,
        ),
        (
            "list-change.jsonl",
            r#"{"record": 1, "at": "2026-11-27T04:00:00Z", "change": [1], "verdict": {}}"#,
        ),
        ("not-json.jsonl", "{\"at\": \"2026-11-27T04:00:00Z\", \n"),
        (
            "bad-at.jsonl",
            "{\"at\": \"yesterday\", \"kind\": \"docs\"}\n",
        ),
        ("array.jsonl", "[1, 2]\n"),
    ];
    for (name, body) in cases {
        let path = dir.join(name);
        std::fs::write(&path, body).unwrap();
        let (code, out, err) = run(&[
            "diff",
            "policies/netops.gate",
            "policies/netops.gate",
            "--history",
            path.to_str().unwrap(),
        ]);
        assert_eq!(code, 1, "{name}: {out}");
        assert!(err.contains(name) && err.contains(":1"), "{name}: {err}");
    }
    // An empty history compares nothing: that is not "nothing differs".
    let empty = dir.join("empty.jsonl");
    std::fs::write(&empty, "\n\n").unwrap();
    let (code, _, err) = run(&[
        "diff",
        "policies/netops.gate",
        "policies/netops.gate",
        "--history",
        empty.to_str().unwrap(),
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("no change"), "{err}");
    let (code, _, err) = run(&[
        "diff",
        "policies/netops.gate",
        "policies/missing.gate",
        "--history",
        "policies/netops.test.yaml",
    ]);
    assert_eq!(code, 1, "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn base_reads_the_old_policy_and_its_imports_from_git() {
    let dir = temp_dir("git");
    std::fs::create_dir_all(dir.join("gates/shared")).unwrap();
    let module = "group ops = [\"alice\", \"bob\"]\nwindow night = daily 01:00-05:00 in \"UTC\"\n";
    std::fs::write(dir.join("gates/shared/common.gate"), module).unwrap();
    let policy = "policy \"p\"\nimport \"shared/common.gate\"\n\nrule \"config at night\" {\n  when change.kind == \"config\"\n  then approve 1 from ops during night\n}\n\ndefault deploy\n";
    std::fs::write(dir.join("gates/p.gate"), policy).unwrap();
    std::fs::write(
        dir.join("history.jsonl"),
        "{\"id\": \"A\", \"kind\": \"config\", \"author\": \"carol\", \"approvals\": [\"alice\"], \"at\": \"2026-11-27T03:00:00Z\"}\n{\"id\": \"B\", \"kind\": \"docs\", \"at\": \"2026-11-27T12:00:00Z\"}\n",
    )
    .unwrap();
    git(&dir, &["init", "-q"]);
    git(&dir, &["add", "."]);
    git(&dir, &["commit", "-q", "-m", "base"]);
    // The merge request: the shared window moves (an import changes) and nothing
    // else; A, at 03:00 UTC, is now outside the window.
    std::fs::write(
        dir.join("gates/shared/common.gate"),
        module.replace("01:00-05:00", "01:00-02:00"),
    )
    .unwrap();
    let (code, out, err) = run_in(
        &dir,
        &[
            "diff",
            "--base",
            "HEAD",
            "gates/p.gate",
            "--history",
            "history.jsonl",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 3, "{err}\n{out}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["old"], "HEAD:gates/p.gate");
    assert_eq!(report["replayed"], 2);
    assert_eq!(report["differing"], 1);
    assert_eq!(report["groups"][0]["from"], "deploy");
    assert_eq!(report["groups"][0]["to"], "wait");
    assert_eq!(report["groups"][0]["changes"][0]["change"], "A");
    // From a subfolder, paths are relative to it, as for every other command.
    let (code, _, err) = run_in(
        &dir.join("gates"),
        &[
            "diff",
            "--base",
            "HEAD",
            "p.gate",
            "--history",
            "../history.jsonl",
        ],
    );
    assert_eq!(code, 3, "{err}");
    // Committed, the two agree.
    git(&dir, &["commit", "-q", "-am", "narrow the window"]);
    let (code, _, err) = run_in(
        &dir,
        &[
            "diff",
            "--base",
            "HEAD",
            "gates/p.gate",
            "--history",
            "history.jsonl",
        ],
    );
    assert_eq!(code, 0, "{err}");
    // An unknown revision is bad input.
    let (code, _, err) = run_in(
        &dir,
        &[
            "diff",
            "--base",
            "no-such-branch",
            "gates/p.gate",
            "--history",
            "history.jsonl",
        ],
    );
    assert_eq!(code, 1);
    assert!(err.contains("no-such-branch"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn folders_pair_policies_by_name_and_route_test_cases_to_their_policy() {
    let dir = temp_dir("folders");
    std::fs::create_dir_all(dir.join("shared")).unwrap();
    let mut gates = 0;
    for entry in std::fs::read_dir(root().join("policies")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|x| x == "gate") {
            std::fs::copy(&p, dir.join(p.file_name().unwrap())).unwrap();
            gates += 1;
        }
    }
    std::fs::copy(
        root().join("policies/shared/common.gate"),
        dir.join("shared/common.gate"),
    )
    .unwrap();
    std::fs::copy(variant(&dir), dir.join("netops.gate")).unwrap();
    std::fs::remove_file(dir.join("netops-variant.gate")).unwrap();
    let (code, out, err) = run(&[
        "diff",
        "policies",
        dir.to_str().unwrap(),
        "--history",
        "policies",
        "--format",
        "json",
    ]);
    assert_eq!(code, 3, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    // Every case of every test file is replayed once, under its own policy.
    let limits = changegate::Limits::default();
    let mut cases = 0;
    for entry in std::fs::read_dir(root().join("policies")).unwrap() {
        let p = entry.unwrap().path();
        if p.to_string_lossy().ends_with(".test.yaml") {
            let spec = changegate::input::read_file(&p, &limits).unwrap().to_json();
            cases += spec["cases"].as_array().unwrap().len();
        }
    }
    assert!(gates >= 5);
    assert_eq!(report["replayed"], cases);
    // Only netops.gate changed: the same three cases as the file diff.
    assert_eq!(report["differing"], 3, "{out}");
    for g in report["groups"].as_array().unwrap() {
        for c in g["changes"].as_array().unwrap() {
            assert!(c["source"].as_str().unwrap().contains("netops.gate"), "{c}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
