//! Instants at the edges: `--at` text (`changegate::time::parse_at`) and
//! `Policy::evaluate` from year 1 to 9999. A clear answer or a clear error, never a
//! panic.

use std::process::Command;

use changegate::time::parse_at;
use changegate::{Change, Decision, Inventory, Policy};
use chrono::DateTime;

fn secs(text: &str) -> i64 {
    parse_at(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

#[test]
fn parse_at_accepts_the_edges() {
    // Epoch, before it, long before it, far after 2100.
    assert_eq!(secs("1970-01-01T00:00:00Z"), 0);
    assert_eq!(secs("1969-12-31T23:59:59Z"), -1);
    assert_eq!(secs("0001-01-01T00:00:00Z"), -62_135_596_800);
    assert_eq!(secs("0000-01-01T00:00:00Z"), -62_167_219_200);
    assert_eq!(secs("1900-03-01T00:00:00Z"), -2_203_891_200);
    assert_eq!(secs("2100-12-31T23:59:59Z"), 4_133_980_799);
    assert_eq!(secs("9999-12-31T23:59:59Z"), 253_402_300_799);
    // Offsets: Z, +00:00 and -00:00 are the same instant; +05:45 (Nepal), -12:00, +14:00.
    let t = secs("2026-11-26T10:00:00Z");
    assert_eq!(secs("2026-11-26T10:00:00+00:00"), t);
    assert_eq!(secs("2026-11-26T10:00:00-00:00"), t);
    assert_eq!(secs("2026-11-26t10:00:00z"), t);
    assert_eq!(secs("2026-11-26T15:45:00+05:45"), t);
    assert_eq!(secs("2026-11-25T22:00:00-12:00"), t);
    assert_eq!(secs("2026-11-27T00:00:00+14:00"), t);
    // Offsets that move the instant across a year boundary at both ends.
    assert_eq!(
        secs("0001-01-01T00:00:00+05:45"),
        -62_135_596_800 - 5 * 3600 - 45 * 60
    );
    assert_eq!(
        secs("9999-12-31T23:59:59-23:59"),
        253_402_300_799 + 23 * 3600 + 59 * 60
    );
    // Leap days.
    assert_eq!(
        secs("2024-02-29T12:00:00Z") + 86_400,
        secs("2024-03-01T12:00:00Z")
    );
    assert_eq!(
        secs("2000-02-29T00:00:00Z") + 86_400,
        secs("2000-03-01T00:00:00Z")
    );
    assert_eq!(
        secs("1600-02-29T00:00:00Z") + 86_400,
        secs("1600-03-01T00:00:00Z")
    );
    // A leap second is read as the last second of its minute, never the next day.
    assert_eq!(secs("2016-12-31T23:59:60Z"), secs("2016-12-31T23:59:59Z"));
    assert_eq!(
        secs("2016-12-31T23:59:60.999Z"),
        secs("2016-12-31T23:59:59Z")
    );
    assert_eq!(secs("1972-06-30T23:59:60Z"), secs("1972-06-30T23:59:59Z"));
    // Fractions truncate toward the past, before 1970 too.
    assert_eq!(secs("2026-11-26T10:00:00.999999999Z"), t);
    assert_eq!(secs("1969-12-31T23:59:59.5Z"), -1);
}

#[test]
fn parse_at_refuses_clearly() {
    for bad in [
        "",
        "now",
        "2023-02-29T00:00:00Z", // not a leap year
        "2100-02-29T00:00:00Z", // nor is 2100
        "1900-02-29T00:00:00Z", // nor 1900
        "2026-11-26T10:00:00",  // no offset
        "2026-11-26 10:00",     // no seconds, no offset
        "2026-11-26T24:00:00Z",
        "2026-11-26T23:60:00Z",
        "2026-11-26T23:59:61Z",
        "2026-13-01T00:00:00Z",
        "2026-00-10T00:00:00Z",
        "2026-11-31T00:00:00Z",
        "2026-11-26T10:00:00+24:00",
        "2026-11-26T10:00:00+05:60",
        "10000-01-01T00:00:00Z",
        "-0001-01-01T00:00:00Z",
        "+2026-11-26T10:00:00Z",
        "2026-11-26T10:00:00Z ",
        "2026-11-26T10:00:00ZZ",
        "2026-11-26T10:00:00.Z",
        "２０２６-11-26T10:00:00Z",
        "2026-11-26T10:00:00+0545",
    ] {
        let e = parse_at(bad).expect_err(bad);
        let text = e.to_string();
        assert!(text.contains("expected RFC 3339"), "{bad:?}: {text}");
        assert!(
            text.contains(&format!("{bad:?}")),
            "{bad:?}: the message quotes the input: {text}"
        );
    }
}

const NETOPS_AT_EDGES: [&str; 12] = [
    "0001-01-01T00:00:00Z",
    "0001-01-01T00:00:00+05:45",
    "0100-02-28T23:59:59Z",
    "1600-02-29T12:00:00Z",
    "1883-11-18T12:00:00-05:00",
    "1969-12-31T23:59:59Z",
    "2024-02-29T23:30:00+05:45",
    "2016-12-31T23:59:60Z",
    "2100-03-01T00:00:00-00:00",
    "2999-12-31T22:00:00-05:00",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59-23:59",
];

fn example_changes() -> Vec<(String, Change)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("policies/changes").expect("examples") {
        let path = entry.expect("entry").path();
        let value = changegate::input::read_file(&path, &Default::default()).expect("parses");
        out.push((
            path.display().to_string(),
            Change::from_value(value).expect("object"),
        ));
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn evaluate_at_the_edges_never_panics_and_never_deploys_on_error() {
    let policy = Policy::from_file("policies/netops.gate").expect("netops checks");
    let inventory = Inventory::from_file("policies/netops.inventory.json").expect("inventory");
    let changes = example_changes();
    for at_text in NETOPS_AT_EDGES {
        let at = DateTime::from_timestamp(secs(at_text), 0).expect("in chrono's range");
        for (name, change) in &changes {
            let v = policy.evaluate(change, &inventory, at);
            let json = v.to_json();
            assert!(json.contains("\"decision\""), "{at_text} {name}");
            let _ = v.to_text();
            if !v.errors.is_empty() {
                assert_ne!(v.decision, Decision::Deploy, "{at_text} {name}: {json}");
            }
            if v.decision != Decision::Deny {
                assert!(v.errors.is_empty(), "{at_text} {name}: {json}");
            }
        }
    }
}

#[test]
fn evaluate_sweeps_year_1_to_9999() {
    // Every policy in tests/cases, at an instant in every 37th year and a spread of
    // times of day: never a panic, and the verdict always serialises.
    let inventory = Inventory::from_file("tests/cases/local_window_all_sites/inventory.json")
        .expect("inventory");
    let change = Change::from_value(
        changegate::input::parse_value(
            r#"{"id": "CHG-1", "kind": "site", "author": "mallory", "targets": ["edge-1", "lon-1"],
                "labels": ["emergency"], "files": ["docs/a.md"], "rollback_plan": true,
                "risk": 5, "duration": "45m", "approvals": [{"by": "alice"}, {"by": "dave"}]}"#,
            changegate::input::Format::Json,
            &Default::default(),
        )
        .expect("json"),
    )
    .expect("object");
    let mut policies = Vec::new();
    for entry in std::fs::read_dir("tests/cases").expect("cases") {
        let dir = entry.expect("entry").path();
        policies.push(Policy::from_file(dir.join("policy.gate")).expect("case policy checks"));
    }
    let first = secs("0001-01-01T00:00:00Z");
    let last = secs("9999-12-31T23:59:59Z");
    let step = 37 * 365 * 86_400 + 12_345;
    let mut at = first;
    let mut n = 0;
    while at <= last {
        let when = DateTime::from_timestamp(at, 0).expect("in range");
        for p in &policies {
            let v = p.evaluate(&change, &inventory, when);
            let _ = v.to_json();
            if !v.errors.is_empty() {
                assert_ne!(v.decision, Decision::Deploy, "{when}: {}", v.to_json());
            }
            n += 1;
        }
        at += step;
    }
    let when = DateTime::from_timestamp(last, 0).expect("in range");
    for p in &policies {
        let _ = p.evaluate(&change, &inventory, when).to_json();
    }
    assert!(n > 1000);
}

fn cli_at(at: &str) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_changegate"))
        .args([
            "evaluate",
            "-p",
            "policies/netops.gate",
            "-i",
            "policies/netops.inventory.json",
            "-c",
            "policies/changes/firewall-acl.json",
            "--format",
            "json",
            "--at",
            at,
        ])
        .env("NO_COLOR", "1")
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!stderr.contains("panicked"), "{at}: {stderr}");
    assert_ne!(out.status.code(), Some(101), "{at}: {stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr,
    )
}

#[test]
fn cli_at_edges() {
    for at in NETOPS_AT_EDGES {
        let (code, stdout, stderr) = cli_at(at);
        assert!([10, 11, 12].contains(&code), "{at}: {code} {stderr}");
        let v: serde_json::Value = serde_json::from_str(&stdout).expect("verdict JSON");
        assert!(v["at"].is_string(), "{at}: {stdout}");
    }
    let (code, _, stderr) = cli_at("2023-02-29T00:00:00Z");
    assert_eq!(code, 1);
    assert!(
        stderr.contains("invalid `--at`") && stderr.contains("help:"),
        "{stderr}"
    );
    let (code, _, stderr) = cli_at("10000-01-01T00:00:00Z");
    assert_eq!(code, 1, "{stderr}");
}

#[test]
fn evaluate_beyond_the_rfc3339_years_does_not_panic() {
    // RFC 3339 stops at 9999, but a library caller can pass any DateTime.
    let policy = Policy::from_file("policies/netops.gate").expect("netops checks");
    let inventory = Inventory::from_file("policies/netops.inventory.json").expect("inventory");
    let changes = example_changes();
    for at in [
        DateTime::<chrono::Utc>::MIN_UTC,
        DateTime::<chrono::Utc>::MAX_UTC,
        DateTime::from_timestamp(secs("0000-01-01T00:00:00Z") - 1, 0).expect("range"),
        DateTime::from_timestamp(secs("9999-12-31T23:59:59Z") + 1, 0).expect("range"),
    ] {
        for (name, change) in &changes {
            let v = policy.evaluate(change, &inventory, at);
            let _ = v.to_json();
            let _ = v.to_text();
            if !v.errors.is_empty() {
                assert_ne!(v.decision, Decision::Deploy, "{at} {name}");
            }
        }
    }
}
