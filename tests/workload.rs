//! The shared benchmark workload W(N) (`benches/compare/WORKLOAD.md`): the generator
//! reproduces every published checksum, and changegate's indexed evaluation gives
//! exactly the expected matched rules and final verdict for all 1000 requests.

#[path = "../benches/compare/src/workload.rs"]
#[allow(dead_code, unreachable_pub, clippy::all)]
mod workload;

use changegate::{Change, Decision, Inventory, Policy};
use sha2::{Digest, Sha256};

#[test]
fn the_generator_reproduces_the_published_checksums() {
    let sums = std::fs::read_to_string("benches/compare/CHECKSUMS.sha256").expect("checksums");
    let mut checked = 0;
    for n in [10, 100, 1000, 10000] {
        for (path, text) in workload::Workload::new(n).files() {
            let Some(line) = sums.lines().find(|l| l.ends_with(&format!("  {path}"))) else {
                continue; // gate_N.gate is ours, not in the published list
            };
            let want = line.split_whitespace().next().unwrap();
            let got = format!("{:x}", Sha256::digest(text.as_bytes()));
            assert_eq!(got, want, "{path}");
            checked += 1;
        }
    }
    // requests.jsonl is listed once but generated for every N.
    assert!(checked >= 17, "checked only {checked} files");
}

/// The workload's canonical verdict string from changegate's verdict.
fn canonical(v: &changegate::Verdict) -> String {
    match v.decision {
        Decision::Deny => "deny".into(),
        Decision::Deploy => "auto".into(),
        _ => {
            let mut groups: Vec<String> = v
                .approvals
                .iter()
                .map(|a| {
                    if a.group == "fallback" {
                        "default".into()
                    } else {
                        a.group.clone()
                    }
                })
                .collect();
            groups.sort();
            format!("approval:{}", groups.join(","))
        }
    }
}

fn agree(n: usize) {
    let w = workload::Workload::new(n);
    let policy = Policy::parse(&workload::gate(&w.rules), &format!("gate_{n}.gate"))
        .unwrap_or_else(|d| panic!("{}", d.render_plain()));
    let at = chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
        .unwrap()
        .to_utc();
    for req in &w.requests {
        let json: serde_json::Value = serde_json::from_str(&workload::request_json(req)).unwrap();
        let change = Change::from_json(json).unwrap();
        let v = policy.evaluate(&change, &Inventory::empty(), at);
        let expected = workload::matched(&w.rules, req);
        let mut got: Vec<usize> = v
            .matched
            .iter()
            .map(|m| m.rule.trim_start_matches('r').parse().unwrap())
            .collect();
        got.sort_unstable();
        assert_eq!(got, expected, "N={n}, request {}", req.id);
        assert_eq!(
            canonical(&v),
            workload::final_verdict(&w.rules, &expected),
            "N={n}, request {}",
            req.id
        );
    }
}

#[test]
fn changegate_agrees_with_the_workload_at_100_and_1000_rules() {
    agree(100);
    agree(1000);
}
