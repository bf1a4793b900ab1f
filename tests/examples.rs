//! The example policy and changes in `policies/` give the verdicts the guide
//! promises (docs/guide.md, "The examples in this repository"), through the library
//! and through the CLI.

use std::process::Command;

use changegate::{Change, Decision, Inventory, Policy};

const AT: &str = "2026-11-26T10:00:00Z";

const EXPECTED: [(&str, Decision); 5] = [
    ("firewall-acl.json", Decision::Approve),
    ("docs-typo.yaml", Decision::Deploy),
    ("access-port.json", Decision::Wait),
    ("no-rollback.json", Decision::Deny),
    ("emergency.json", Decision::Deploy),
];

/// The example policy, its inventory and the guide's instant.
fn netops() -> (Policy, Inventory, chrono::DateTime<chrono::Utc>) {
    let policy = Policy::from_file("policies/netops.gate").expect("netops.gate checks");
    let inventory =
        Inventory::from_file("policies/netops.inventory.json").expect("inventory loads");
    let at = chrono::DateTime::parse_from_rfc3339(AT)
        .expect("valid instant")
        .to_utc();
    (policy, inventory, at)
}

/// One of the example changes in `policies/changes/`.
fn example_change(file: &str) -> Change {
    let path = format!("policies/changes/{file}");
    let value = changegate::input::read_file(std::path::Path::new(&path), &Default::default())
        .expect("change parses");
    Change::from_value(value).expect("change is an object")
}

#[test]
fn library_gives_the_guides_verdicts() {
    let (policy, inventory, at) = netops();
    for (file, decision) in EXPECTED {
        let change = example_change(file);
        let verdict = policy.evaluate(&change, &inventory, at);
        assert_eq!(verdict.decision, decision, "{file}:\n{}", verdict.to_text());
        assert!(verdict.errors.is_empty(), "{file}: {:?}", verdict.errors);
    }
}

#[test]
fn firewall_change_verdict_in_detail() {
    let (policy, inventory, at) = netops();
    let verdict = policy.evaluate(&example_change("firewall-acl.json"), &inventory, at);
    let security = verdict
        .approvals
        .iter()
        .find(|a| a.group == "security")
        .expect("security asked");
    assert_eq!((security.required, security.have), (2, 1));
    assert_eq!(security.approved_by, ["dave"]);
    assert_eq!(
        security.ignored.first().map(|i| i.why.as_str()),
        Some("author")
    );
    assert_eq!(verdict.window.names, ["weeknights"]);
    assert_eq!(
        verdict.window.next_open.as_deref(),
        Some("2026-11-26T22:00:00-05:00")
    );
    assert_eq!(verdict.earliest.as_deref(), Some("2026-11-27T03:00:00Z"));
}

/// The exit codes docs/guide.md gives each decision.
fn guide_exit_code(decision: Decision) -> i32 {
    match decision {
        Decision::Deploy => 0,
        Decision::Approve => 10,
        Decision::Wait => 11,
        Decision::Deny => 12,
    }
}

#[test]
fn cli_gives_the_guides_exit_codes() {
    for (file, decision) in EXPECTED {
        let out = Command::new(env!("CARGO_BIN_EXE_changegate"))
            .args([
                "evaluate",
                "-p",
                "policies/netops.gate",
                "-i",
                "policies/netops.inventory.json",
                "--at",
                AT,
                "--format",
                "json",
                "-c",
                &format!("policies/changes/{file}"),
            ])
            .output()
            .expect("changegate runs");
        assert_eq!(
            out.status.code(),
            Some(guide_exit_code(decision)),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let verdict: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON verdict");
        assert_eq!(verdict["decision"], decision.as_str(), "{file}");
    }
}

#[test]
fn explain_shows_what_each_condition_saw() {
    let (policy, inventory, at) = netops();
    let change = example_change("firewall-acl.json");
    let (verdict, explanation) = policy.explain(&change, &inventory, at);
    assert_eq!(
        verdict,
        policy.evaluate(&change, &inventory, at),
        "explain must not change the verdict"
    );
    let rule = |name: &str| {
        explanation
            .rules
            .iter()
            .find(|r| r.rule == name)
            .unwrap_or_else(|| panic!("no trace for {name}"))
    };
    let fw = rule("firewall changes: two from security, at night");
    assert_eq!(fw.result, "matched");
    assert_eq!(fw.steps[0].expr, "change.kind == \"firewall\"");
    assert_eq!(
        fw.steps[0].saw.as_deref(),
        Some("\"firewall\" == \"firewall\"")
    );
    assert_eq!(
        fw.contributes.as_deref(),
        Some("approve 2 from security during weeknights")
    );
    let cab = rule("wide blast radius goes to the CAB");
    let values: Vec<&str> = cab.steps.iter().map(|s| s.value.as_str()).collect();
    assert_eq!(
        values,
        ["true", "false", "true", "skipped"],
        "or short-circuits after the second part"
    );
    let rollback = rule("no rollback plan, no change");
    assert_eq!(rollback.result, "not matched");
    let weeknights = explanation
        .time
        .iter()
        .find(|t| t.name == "weeknights")
        .expect("window traced");
    assert!(!weeknights.open);
    assert!(
        weeknights
            .why
            .contains("next opens Thu 2026-11-26 22:00 EST"),
        "{}",
        weeknights.why
    );
}
