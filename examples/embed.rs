//! An embedder's harness, written against the public API alone: compile a policy of
//! many rules once, build changes field by field, evaluate them without an
//! inventory, tell errors from denials, and count matches per rule by id.
//!
//! `cargo run --release --example embed -- 10000` (the number of rules; 1,000 by
//! default) prints the time per evaluation and the busiest rule.

use std::time::Instant;

use changegate::chrono::{DateTime, Utc};
use changegate::{Change, Decision, Policy};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let rules: usize = match std::env::args().nth(1) {
        Some(n) => n.parse()?,
        None => 1_000,
    };
    let policy = Policy::parse(&policy_text(rules), "embed.gate")?;

    // Changes of every fifth kind, some without a risk (an error for the rules
    // that compare it), some by an author who is also the only approver.
    let changes: Vec<Change> = (0..1_000)
        .map(|i| {
            let mut change = Change::builder(format!("CHG-{i}"))
                .kind(format!("k{}", (i * 5) % rules.max(1)))
                .author(if i % 7 == 0 { "dave" } else { "mallory" })
                .approval("dave")
                .target("core-1");
            if i % 11 != 0 {
                change = change.field("risk", i % 5);
            }
            change.build()
        })
        .collect();

    let at: DateTime<Utc> = "2026-11-26T10:00:00Z".parse()?;
    let mut per_rule = vec![0u64; rules];
    let (mut errors, mut denied, mut other) = (0u64, 0u64, 0u64);
    let rounds = 20;
    let start = Instant::now();
    for _ in 0..rounds {
        for change in &changes {
            let verdict = policy.evaluate(change, None, at);
            match verdict.decision {
                Decision::Deny if verdict.is_error() => errors += 1,
                Decision::Deny => denied += 1,
                _ => other += 1,
            }
            for m in &verdict.matched {
                if let Some(count) = per_rule.get_mut(m.id.index()) {
                    *count += 1;
                }
            }
        }
    }
    let evaluations = (rounds * changes.len()) as f64;
    let per_eval = start.elapsed().as_secs_f64() / evaluations * 1e6;

    println!("{rules} rules: {per_eval:.2} µs per evaluation");
    println!("errors {errors}, denied by the policy {denied}, other decisions {other}");
    let busiest = per_rule
        .iter()
        .enumerate()
        .max_by_key(|(_, n)| **n)
        .and_then(|(i, n)| Some((changegate::RuleId::new(i)?, *n)));
    if let Some((id, n)) = busiest {
        if let Some(rule) = policy.rule(id) {
            println!(
                "busiest rule: {:?} at {} ({n} matches)",
                rule.name, rule.location
            );
        }
    }
    Ok(())
}

/// A policy of `rules` rules, each keyed on its own `change.kind`; every third one
/// denies risky changes, which needs `change.risk`.
fn policy_text(rules: usize) -> String {
    let mut text = String::from("policy \"embed\"\n\ngroup ops = [\"dave\", \"erin\"]\n\n");
    for i in 0..rules {
        let outcome = if i % 3 == 0 {
            "deny \"too risky\""
        } else {
            "approve 1 from ops"
        };
        let extra = if i % 3 == 0 {
            " and change.risk > 2"
        } else {
            ""
        };
        text.push_str(&format!(
            "rule \"r{i}\" {{\n  when change.kind == \"k{i}\"{extra}\n  then {outcome}\n}}\n\n"
        ));
    }
    text.push_str("default deploy\n");
    text
}
