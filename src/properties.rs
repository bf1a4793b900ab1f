//! Laws of evaluation, checked on random policies and changes (proptest):
//! reordering rules never changes a verdict; the rule index never changes one; a
//! matching `deny` always denies; an error or an unmet approval never deploys;
//! another spelling of a person (case, width, compatibility forms, white space) never
//! changes a decision, and no spelling of the author ever fills a seat; formatting
//! never changes the syntax tree or a verdict.
//!
//! In the crate because two of them compare with what only the crate sees: the
//! unindexed evaluation and the syntax tree.

use crate::{Change, Decision, Inventory, Policy, SourceFile, Verdict};
use chrono::{DateTime, Utc};
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use serde_json::{json, Value};

/// Proptest's configuration with `cases` cases, its failures kept next to this file
/// (`properties.proptest-regressions`) rather than under `proptest-regressions/`.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

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
    source_with(HEADER, rules, names)
}

fn source_with(header: &str, rules: &[RuleSrc], names: &[usize]) -> String {
    let mut s = header.to_owned();
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

/// Another spelling of the one-letter login `name` (`a`..`e`): the same person once
/// canonical (NFKC, case-folded, trimmed).
fn respell(name: &str, style: u8) -> String {
    let shifted = |base: u32| -> String {
        name.chars()
            .map(|c| char::from_u32(u32::from(c) - u32::from('a') + base).unwrap_or(c))
            .collect()
    };
    match style % 8 {
        0 => name.to_owned(),
        1 => name.to_uppercase(),
        2 => format!(" {name}\u{a0}"),
        3 => shifted(0xFF41),  // fullwidth small letters
        4 => shifted(0xFF21),  // fullwidth capitals
        5 => shifted(0x1D41A), // mathematical bold small letters
        6 => shifted(0x1D400), // mathematical bold capitals
        _ => format!("\u{3000}{} ", name.to_uppercase()),
    }
}

/// `HEADER` with each group member respelled by the next style (case, width and
/// compatibility forms: the white-space styles are for changes, where any white space
/// may come in).
fn respelled_header(styles: &[u8]) -> String {
    const IN_POLICY: [u8; 6] = [0, 1, 3, 4, 5, 6];
    let mut k = 0;
    let mut next = |n: &str| {
        let style = styles.get(k % styles.len().max(1)).copied().unwrap_or(0);
        let s = respell(n, IN_POLICY[usize::from(style) % IN_POLICY.len()]);
        k += 1;
        s
    };
    let g0 = format!("group g0 = [\"{}\", \"{}\"]", next("a"), next("b"));
    let g1 = format!("group g1 = [\"{}\", \"{}\"]", next("b"), next("c"));
    let g2 = format!("group g2 = [\"{}\"]", next("d"));
    HEADER
        .replace("group g0 = [\"a\", \"b\"]", &g0)
        .replace("group g1 = [\"b\", \"c\"]", &g1)
        .replace("group g2 = [\"d\"]", &g2)
}

/// `change` with its author and approvers respelled by the next style.
fn respelled_change(change: &Value, styles: &[u8]) -> Value {
    let mut k = 0;
    let mut next = |n: &str| {
        let s = respell(n, styles.get(k % styles.len().max(1)).copied().unwrap_or(0));
        k += 1;
        s
    };
    let mut c = change.clone();
    if let Some(a) = c["author"].as_str().map(str::to_owned) {
        c["author"] = json!(next(&a));
    }
    if let Some(list) = c["approvals"].as_array_mut() {
        for a in list {
            if let Some(by) = a["by"].as_str().map(str::to_owned) {
                a["by"] = json!(next(&by));
            }
        }
    }
    c
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
    #![proptest_config(config(200))]

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
    fn the_index_and_decide_never_change_the_verdict(rules in rules(), change in change(), at in instant()) {
        let names: Vec<usize> = (0..rules.len()).collect();
        let policy = compile(&source(&rules, &names));
        let change = Change::from_json(change).unwrap();
        let indexed = policy.evaluate(&change, &Inventory::empty(), at);
        let reference = policy.evaluate_unindexed(&change, &Inventory::empty(), at);
        // `decide` stops where the decision is known: it must be the verdict's.
        prop_assert_eq!(policy.decide(&change, None, at), indexed.decision);
        prop_assert_eq!(indexed, reference);
    }

    #[test]
    fn formatting_never_changes_meaning(rules in rules(), change in change(), at in instant()) {
        let names: Vec<usize> = (0..rules.len()).collect();
        let src = source(&rules, &names);
        let formatted = crate::fmt::format_source(&src, "random.gate", &crate::Limits::default()).unwrap();
        let limits = crate::Limits::default();
        let (a, _) = crate::syntax::parse_file(&SourceFile::new("a", &src), &limits);
        let (b, _) = crate::syntax::parse_file(&SourceFile::new("b", &formatted), &limits);
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

    #[test]
    fn respelling_people_never_changes_the_decision(
        rules in rules(),
        change in change(),
        at in instant(),
        styles in prop::collection::vec(any::<u8>(), 1..8),
        policy_styles in prop::collection::vec(any::<u8>(), 1..8),
    ) {
        let names: Vec<usize> = (0..rules.len()).collect();
        let plain = compile(&source(&rules, &names));
        let respelled = compile(&source_with(&respelled_header(&policy_styles), &rules, &names));
        let before = plain.evaluate(&Change::from_json(change.clone()).unwrap(), &Inventory::empty(), at);
        let other = respelled_change(&change, &styles);
        let after = respelled.evaluate(&Change::from_json(other.clone()).unwrap(), &Inventory::empty(), at);
        prop_assert_eq!(before.decision, after.decision, "{} vs {}", change, other);
        // Reports show the canonical form, so the whole verdict is the same.
        prop_assert_eq!(essence(&before), essence(&after));
    }

    #[test]
    fn no_spelling_of_the_author_fills_a_seat(
        rules in rules(),
        at in instant(),
        author in prop_oneof![Just("a"), Just("b"), Just("c"), Just("d")],
        author_style in any::<u8>(),
        approvals in prop::collection::vec((prop_oneof![Just("a"), Just("b"), Just("c"), Just("d"), Just("e")], any::<u8>()), 0..4),
        author_approvals in prop::collection::vec(any::<u8>(), 1..4),
    ) {
        let names: Vec<usize> = (0..rules.len()).collect();
        let policy = compile(&source(&rules, &names));
        let mut by: Vec<Value> = approvals.iter().map(|(n, s)| json!({"by": respell(n, *s)})).collect();
        by.extend(author_approvals.iter().map(|s| json!({"by": respell(author, *s)})));
        let change = json!({"id": "CHG-1", "kind": "k0", "author": respell(author, author_style), "approvals": by});
        let v = policy.evaluate(&Change::from_json(change.clone()).unwrap(), &Inventory::empty(), at);
        for status in &v.approvals {
            prop_assert!(!status.approved_by.iter().any(|p| p == author), "{} filled a seat: {}", author, change);
        }
        for i in v.ignored_approvals.iter().filter(|i| i.by == author) {
            prop_assert_eq!(i.why.as_str(), "author");
        }
    }

    #[test]
    fn seats_are_a_maximum_matching(
        members in prop::collection::vec(prop::collection::btree_set(0..6u8, 1..5), 3),
        counts in prop::collection::vec(1..4u32, 3),
        approvals in prop::collection::vec(0..7u8, 0..8),
        author in 0..7u8,
    ) {
        let name = |i: u8| format!("p{i}");
        let mut src = String::from("policy \"m\"\n");
        let mut asks = Vec::new();
        for (g, (set, &n)) in members.iter().zip(&counts).enumerate() {
            let list: Vec<String> = set.iter().map(|&i| format!("\"{}\"", name(i))).collect();
            src.push_str(&format!("group g{g} = [{}]\n", list.join(", ")));
            asks.push(format!("approve {} from g{g}", n.min(set.len() as u32)));
        }
        src.push_str(&format!("default {}\n", asks.join(", ")));
        let policy = compile(&src);
        let by: Vec<Value> = approvals.iter().map(|&i| json!(name(i))).collect();
        let change = json!({"author": name(author), "approvals": by});
        let v = policy.evaluate(&Change::from_json(change).unwrap(), &Inventory::empty(), "2026-11-26T10:00:00Z".parse().unwrap());
        // Brute force: the largest number of seats distinct non-author approvers fill.
        let mut people: Vec<u8> = approvals.iter().copied().filter(|&i| i != author).collect();
        people.sort_unstable();
        people.dedup();
        let caps: Vec<usize> = members.iter().zip(&counts).map(|(set, &n)| n.min(set.len() as u32) as usize).collect();
        fn best(people: &[u8], members: &[std::collections::BTreeSet<u8>], caps: &mut [usize]) -> usize {
            let Some((&p, rest)) = people.split_first() else { return 0 };
            let mut top = best(rest, members, caps);
            for g in 0..caps.len() {
                if caps[g] > 0 && members[g].contains(&p) {
                    caps[g] -= 1;
                    top = top.max(1 + best(rest, members, caps));
                    caps[g] += 1;
                }
            }
            top
        }
        let want = best(&people, &members, &mut caps.clone());
        let have: u32 = v.approvals.iter().map(|a| a.have).sum();
        prop_assert_eq!(have as usize, want, "{}", src);
        // Nobody fills two seats, and the author none.
        let mut seated: Vec<&String> = v.approvals.iter().flat_map(|a| a.approved_by.iter()).collect();
        let n = seated.len();
        seated.sort();
        seated.dedup();
        prop_assert_eq!(seated.len(), n);
        prop_assert!(!seated.iter().any(|s| **s == name(author)));
    }
}
