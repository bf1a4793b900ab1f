//! Test files can assert every verdict field and the exit code, and `--run`
//! selects cases. The cases run the example network policy and changes.

use std::process::Output;

use crate::common::{changegate, root, Temp};

/// A test file over policies/netops.gate with `cases`, run with `args`.
fn run_cases(tag: &str, cases: &str, args: &[&str]) -> Output {
    let t = Temp::new(&format!("expect-{tag}"));
    let p = |f: &str| root().join(f).display().to_string();
    let text = format!(
        "policy: {}\ninventory: {}\ncases:\n{}",
        p("policies/netops.gate"),
        p("policies/netops.inventory.json"),
        cases.replace("CHANGES", &p("policies/changes"))
    );
    std::fs::write(t.0.join("n.test.yaml"), text).unwrap();
    let mut all = vec!["test", "n.test.yaml"];
    all.extend(args);
    changegate().args(&all).current_dir(&t.0).output().unwrap()
}

const PASSING: &str = r#"  - name: firewall, every field
    at: 2026-11-26T10:00:00Z
    change: CHANGES/firewall-acl.json
    expect:
      decision: approve
      exit_code: 10
      window_open: false
      closes: null
      freeze: []
      lifted: []
      advisory: ["new: changes to the edge need the edge team (trial run)"]
      ignored_approvals: [{ by: mallory, why: author }]
      errors: []
  - name: emergency breaks the year-end freeze
    at: 2026-12-20T10:00:00Z
    change: CHANGES/emergency.json
    expect:
      decision: deploy
      exit_code: 0
      break_glass: true
      lifted: [year_end]
      freeze: []
      ignored_approvals: []
  - name: access port frozen
    at: 2026-12-20T10:00:00Z
    change: CHANGES/access-port.json
    expect:
      decision: wait
      exit_code: 11
      freeze: [year_end]
      window_open: false
"#;

#[test]
fn every_field_can_be_asserted() {
    let out = run_cases("pass", PASSING, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{text}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("3 passed; 0 failed"), "{text}");
}

#[test]
fn each_new_expectation_can_fail() {
    let wrong = r#"  - name: firewall, all wrong
    at: 2026-11-26T10:00:00Z
    change: CHANGES/firewall-acl.json
    expect:
      decision: approve
      exit_code: 11
      window_open: true
      closes: 2026-11-27T04:00:00Z
      freeze: [year_end]
      lifted: [year_end]
      advisory: []
      ignored_approvals: [{ by: mallory, why: stale }]
      errors: ["no such error"]
"#;
    let out = run_cases("fail", wrong, &[]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{text}");
    for field in [
        "exit_code: expected 11, got 10",
        "window_open: expected true, got false",
        "closes: expected 2026-11-27T04:00:00Z",
        "freeze: expected [year_end], got []",
        "lifted: expected [year_end], got []",
        "advisory: expected [], got [new: changes to the edge",
        "ignored_approvals: expected [mallory (stale)], got [mallory (author)]",
        "errors: no error contains \"no such error\"",
    ] {
        assert!(text.contains(field), "{field}:\n{text}");
    }
    // An unknown expectation is refused, not ignored.
    let typo = "  - name: t\n    at: 2026-11-26T10:00:00Z\n    change: CHANGES/firewall-acl.json\n    expect: { decision: approve, exitcode: 10 }\n";
    let out = run_cases("typo", typo, &[]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn run_selects_cases_by_name() {
    let out = run_cases("run", PASSING, &["--run", "freeze", "--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let names: Vec<&str> = v["files"][0]["cases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["emergency breaks the year-end freeze"]);
    let out = run_cases("none", PASSING, &["--run", "nothing matches this"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no test case's name contains"));
}
