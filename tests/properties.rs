//! Laws of evaluation, checked on random policies and changes (proptest):
//! reordering rules never changes a verdict; the rule index never changes one; a
//! matching `deny` always denies; an error or an unmet approval never deploys.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use changegate::{Change, Decision, Inventory, Policy, Verdict};
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use serde_json::{json, Value};

const HEADER: &str = r#"policy "random"
group g0 = ["a", "b"]
group g1 = ["b", "c"]
group g2 = ["d"]
window w0 = daily 08:00-12:00 in "UTC"
window w1 = mon..fri 10:00-18:00 in "Europe/Berlin"
freeze f0 = sat,sun 00:00-00:00 in "UTC" when change.kind == "k0"
"#;

fn atom() -> impl Strategy<Value = String> {
    prop_oneof![
        (0..4u8).prop_map(|k| format!("change.kind == \"k{k}\"")),
        (0..4u8).prop_map(|k| format!("change.kind != \"k{k}\"")),
        (0..6i64).prop_map(|r| format!("change.risk >= {r}")),
        (0..6i64).prop_map(|r| format!("change.risk < {r}")),
        (0..5u8).prop_map(|l| format!("\"l{l}\" in change.labels")),
        Just("change.flag".to_owned()),
        Just("has(change.risk)".to_owned()),
        (0..5u8).prop_map(|l| format!("any change.labels == \"l{l}\"")),
        (0..4i64).prop_map(|n| format!("count change.labels > {n}")),
        Just("all change.labels match \"l*\"".to_owned()),
    ]
}

fn condition() -> impl Strategy<Value = String> {
    atom().prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(|v| v.join(" and ")),
            prop::collection::vec(inner.clone(), 2..4)
                .prop_map(|v| format!("({})", v.join(" or "))),
            inner.prop_map(|c| format!("not ({c})")),
        ]
    })
}

fn outcome() -> impl Strategy<Value = String> {
    let during = prop_oneof![
        Just(String::new()),
        Just(" during w0".to_owned()),
        Just(" during w1".to_owned()),
        Just(" during w0, w1".to_owned()),
    ];
    let action = prop_oneof![
        Just("deploy".to_owned()),
        (1..3u8, 0..2u8).prop_map(|(n, g)| format!("approve {n} from g{g}")),
        Just("approve 1 from g2".to_owned()),
        Just("approve 1 from g0, approve 1 from g1".to_owned()),
        Just("approve 1 from g0, break glass".to_owned()),
    ];
    prop_oneof![
        4 => (action, during).prop_map(|(a, d)| format!("{a}{d}")),
        1 => Just("deny \"no\"".to_owned()),
    ]
}

#[derive(Debug, Clone)]
struct RuleSrc {
    cond: String,
    outcome: String,
    advisory: bool,
}

fn rules() -> impl Strategy<Value = Vec<RuleSrc>> {
    prop::collection::vec(
        (condition(), outcome(), prop::bool::weighted(0.15)).prop_map(
            |(cond, outcome, advisory)| RuleSrc {
                cond,
                outcome,
                advisory,
            },
        ),
        0..8,
    )
}

fn source(rules: &[RuleSrc], names: &[usize]) -> String {
    let mut s = HEADER.to_owned();
    for (r, n) in rules.iter().zip(names) {
        s.push_str(&format!(
            "rule \"r{n}\"{} {{\n  when {}\n  then {}\n}}\n",
            if r.advisory { " advisory" } else { "" },
            r.cond,
            r.outcome
        ));
    }
    s.push_str("default approve 1 from g2\n");
    s
}

fn change() -> impl Strategy<Value = Value> {
    let kind = prop_oneof![6 => (0..4u8).prop_map(|k| json!(format!("k{k}"))), 1 => Just(json!(3)), 1 => Just(Value::Null)];
    let risk = prop_oneof![6 => (0..6i64).prop_map(|r| json!(r)), 1 => Just(json!("high")), 1 => Just(Value::Null)];
    let labels = prop_oneof![
        6 => prop::collection::vec((0..5u8).prop_map(|l| format!("l{l}")), 0..4).prop_map(|v| json!(v)),
        1 => Just(json!("l1")),
        1 => Just(Value::Null),
    ];
    let flag = prop_oneof![Just(json!(true)), Just(json!(false)), Just(Value::Null)];
    let author = prop_oneof![Just(json!("a")), Just(json!("b")), Just(Value::Null)];
    let approvals = prop::collection::vec(
        prop_oneof![Just("a"), Just("b"), Just("c"), Just("d"), Just("e")],
        0..4,
    );
    (kind, risk, labels, flag, author, approvals).prop_map(
        |(kind, risk, labels, flag, author, approvals)| {
            let mut m = serde_json::Map::new();
            m.insert("id".into(), json!("CHG-1"));
            for (k, v) in [
                ("kind", kind),
                ("risk", risk),
                ("labels", labels),
                ("flag", flag),
                ("author", author),
            ] {
                if !v.is_null() {
                    m.insert(k.into(), v);
                }
            }
            let approvals: Vec<Value> = approvals.into_iter().map(|a| json!({ "by": a })).collect();
            m.insert("approvals".into(), json!(approvals));
            Value::Object(m)
        },
    )
}

fn instant() -> impl Strategy<Value = DateTime<Utc>> {
    // 2026-01-01 .. 2028-01-01, whole minutes.
    (0i64..(2 * 365 * 24 * 60))
        .prop_map(|m| DateTime::from_timestamp(1_767_225_600 + m * 60, 0).unwrap_or_default())
}

/// The parts of a verdict that must not depend on rule order (locations, the order
/// of `matched` and the source's digest do).
fn essence(v: &Verdict) -> Value {
    let mut j: Value = serde_json::from_str(&v.to_json()).unwrap_or_default();
    let mut names: Vec<String> = v.matched.iter().map(|m| m.rule.clone()).collect();
    names.sort();
    let mut advisory: Vec<String> = v.advisory.iter().map(|a| a.rule.clone()).collect();
    advisory.sort();
    let mut errors: Vec<String> = v
        .errors
        .iter()
        .map(|e| format!("{:?}: {}", e.rule, e.message))
        .collect();
    errors.sort();
    // Locations move with the source's layout; the rest of a reason must not.
    let mut reasons: Vec<String> = v
        .reasons
        .iter()
        .map(|r| r.split(" (random.gate:").next().unwrap_or(r).to_owned())
        .collect();
    reasons.sort();
    if let Value::Object(m) = &mut j {
        m.insert("matched".into(), json!(names));
        m.insert("advisory".into(), json!(advisory));
        m.insert("errors".into(), json!(errors));
        m.insert("reasons".into(), json!(reasons));
        // The source differs, so its digests do, and the decision id derived from them.
        m.remove("policy");
        m.remove("inputs");
        m.remove("decision_id");
    }
    j
}

fn compile(src: &str) -> Policy {
    match Policy::parse(src, "random.gate") {
        Ok(p) => p,
        Err(d) => panic!(
            "generated policy does not check:\n{src}\n{}",
            d.render_plain()
        ),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn reordering_rules_never_changes_the_verdict(rules in rules(), change in change(), at in instant(), seed in any::<u64>()) {
        let names: Vec<usize> = (0..rules.len()).collect();
        let policy = compile(&source(&rules, &names));
        // A deterministic shuffle from the seed.
        let mut order: Vec<usize> = (0..rules.len()).collect();
        let mut s = seed;
        for i in (1..order.len()).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            order.swap(i, (s >> 33) as usize % (i + 1));
        }
        let shuffled: Vec<RuleSrc> = order.iter().map(|&i| rules[i].clone()).collect();
        let shuffled_policy = compile(&source(&shuffled, &order));
        let change = Change::from_json(change).unwrap();
        let a = policy.evaluate(&change, &Inventory::empty(), at);
        let b = shuffled_policy.evaluate(&change, &Inventory::empty(), at);
        prop_assert_eq!(essence(&a), essence(&b));
    }

    #[test]
    fn the_index_never_changes_the_verdict(rules in rules(), change in change(), at in instant()) {
        let names: Vec<usize> = (0..rules.len()).collect();
        let policy = compile(&source(&rules, &names));
        let change = Change::from_json(change).unwrap();
        let indexed = policy.evaluate(&change, &Inventory::empty(), at);
        let reference = policy.evaluate_unindexed(&change, &Inventory::empty(), at);
        prop_assert_eq!(indexed, reference);
    }

    #[test]
    fn formatting_never_changes_meaning(rules in rules(), change in change(), at in instant()) {
        let names: Vec<usize> = (0..rules.len()).collect();
        let src = source(&rules, &names);
        let formatted = changegate::fmt::format_source(&src, "random.gate", &changegate::Limits::default()).unwrap();
        let limits = changegate::Limits::default();
        let (a, _) = changegate::syntax::parse_file(&changegate::SourceFile::new("a", &src), &limits);
        let (b, _) = changegate::syntax::parse_file(&changegate::SourceFile::new("b", &formatted), &limits);
        prop_assert_eq!(a, b);
        let change = Change::from_json(change).unwrap();
        let before = compile(&src).evaluate(&change, &Inventory::empty(), at);
        let after = compile(&formatted).evaluate(&change, &Inventory::empty(), at);
        prop_assert_eq!(essence(&before), essence(&after));
    }

    #[test]
    fn a_matching_deny_always_denies(rules in rules(), change in change(), at in instant()) {
        let mut rules = rules;
        rules.push(RuleSrc { cond: "has(change.id)".into(), outcome: "deny \"stop\"".into(), advisory: false });
        let names: Vec<usize> = (0..rules.len()).collect();
        let policy = compile(&source(&rules, &names));
        let change = Change::from_json(change).unwrap();
        let v = policy.evaluate(&change, &Inventory::empty(), at);
        prop_assert_eq!(v.decision, Decision::Deny);
        prop_assert!(v.earliest.is_none());
    }

    #[test]
    fn errors_and_unmet_approvals_never_deploy(rules in rules(), change in change(), at in instant()) {
        let names: Vec<usize> = (0..rules.len()).collect();
        let policy = compile(&source(&rules, &names));
        let change = Change::from_json(change).unwrap();
        let v = policy.evaluate(&change, &Inventory::empty(), at);
        if !v.errors.is_empty() {
            prop_assert_eq!(v.decision, Decision::Deny);
        }
        if v.approvals.iter().any(|a| a.have < a.required) {
            prop_assert_ne!(v.decision, Decision::Deploy);
        }
        if v.decision == Decision::Deploy {
            prop_assert!(v.errors.is_empty());
            prop_assert_eq!(v.earliest.as_deref(), Some(v.at.as_str()));
        }
    }
}
