//! The trust boundary (docs/language.md, "The trust boundary"): what the gate is
//! told cannot talk it past a policy. People compare in one canonical form,
//! approvals count only for the change's revision, a policy that reads the topology
//! never evaluates against targets it cannot place, coverage counts only what was
//! evaluated, and durations print exactly. That evaluation never pays for `check`'s
//! lints is tested beside `Policy::lints_ran` (src/policy.rs).
//!
//! Each test names the behaviour it pins; each failed on the code before the fix.

use changegate::{Change, Decision, Inventory, Policy, Verdict};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

fn at() -> DateTime<Utc> {
    "2026-11-26T10:00:00Z".parse().unwrap()
}

fn policy(src: &str) -> Policy {
    Policy::parse(src, "trust.gate").unwrap_or_else(|d| panic!("{}", d.render_plain()))
}

fn eval(p: &Policy, change: Value, inventory: &Inventory) -> Verdict {
    p.evaluate(&Change::from_json(change).unwrap(), inventory, at())
}

const SECURITY: &str = r#"policy "people"
group security = ["dave", "erin"]
default approve 1 from security
"#;

// ---- people -------------------------------------------------------------------

/// `"Dave"` as author with `dave` approving deployed: the author check was
/// byte-exact. Every spelling of the author is the author.
#[test]
fn the_author_never_approves_under_another_spelling() {
    let p = policy(SECURITY);
    for author in [
        "Dave",
        "dave ",
        " DAVE",
        "ｄａｖｅ",           // fullwidth
        "\u{3000}dave\u{a0}", // ideographic and no-break spaces around
        "𝐝𝐚𝐯𝐞",               // mathematical bold
        "DaVe",
    ] {
        let v = eval(
            &p,
            json!({"id": "C", "author": author, "approvals": [{"by": "dave"}]}),
            &Inventory::empty(),
        );
        assert_eq!(v.decision, Decision::Approve, "author {author:?}: {v:?}");
        assert_eq!(v.approvals[0].have, 0, "author {author:?}");
        assert_eq!(v.ignored_approvals[0].why, "author", "author {author:?}");
        // And the other way round: the author approving under another spelling.
        let v = eval(
            &p,
            json!({"id": "C", "author": "dave", "approvals": [{"by": author}]}),
            &Inventory::empty(),
        );
        assert_eq!(v.decision, Decision::Approve, "approver {author:?}");
    }
}

/// Canonical equivalence, compatibility forms and full case folding: NFC and NFD
/// `josé`, `ß` and `SS`, the Kelvin sign and `k`, final sigma, ligatures.
#[test]
fn spellings_of_one_person_are_one_person() {
    for (member, author, approver) in [
        ("jos\u{e9}", "jose\u{301}", "JOS\u{c9}"),
        ("jose\u{301}", "jos\u{e9}", "Jose\u{301}"),
        ("straße", "STRASSE", "Strasse"),
        ("kai", "\u{212a}ai", "KAI"), // KELVIN SIGN
        ("σίσυφος", "ΣΊΣΥΦΟΣ", "σίσυφοσ"),
        ("fiona", "ﬁona", "FIONA"), // ligature fi
    ] {
        let p = policy(&format!(
            "policy \"p\"\ngroup g = [\"{member}\", \"zed\"]\ndefault approve 1 from g\n"
        ));
        // The author under another spelling: never counts.
        let v = eval(
            &p,
            json!({"author": author, "approvals": [{"by": approver}]}),
            &Inventory::empty(),
        );
        assert_eq!(
            v.decision,
            Decision::Approve,
            "{member:?}/{author:?}/{approver:?}"
        );
        assert_eq!(v.ignored_approvals[0].why, "author");
        // Someone else: the member, under another spelling, fills the seat.
        let v = eval(
            &p,
            json!({"author": "zed", "approvals": [{"by": approver}]}),
            &Inventory::empty(),
        );
        assert_eq!(
            v.decision,
            Decision::Deploy,
            "{member:?}/{approver:?}: {v:?}"
        );
        // Two spellings of one approver are one approval.
        let v = eval(
            &p,
            json!({"author": "x", "approvals": [{"by": approver}, {"by": author}]}),
            &Inventory::empty(),
        );
        assert_eq!(v.approvals[0].have, 1);
        assert_eq!(v.ignored_approvals[0].why, "duplicate");
    }
}

/// Reports show the canonical form: `approved_by` and `ignored` name `dave`, however
/// the change spelled him.
#[test]
fn reports_show_the_canonical_form() {
    let p = policy(SECURITY);
    let v = eval(
        &p,
        json!({"author": "ERIN", "approvals": ["DAVE ", {"by": "Erin"}]}),
        &Inventory::empty(),
    );
    assert_eq!(v.decision, Decision::Deploy);
    assert_eq!(v.approvals[0].approved_by, vec!["dave"]);
    assert_eq!(v.ignored_approvals[0].by, "erin");
    let change = Change::from_json(json!({"author": "ERIN", "approvals": ["DAVE "]})).unwrap();
    assert_eq!(change.author(), Some("erin"));
    assert_eq!(change.approvals()[0].by, "dave");
}

/// A name holding a control, format or invisible character is an input error:
/// the change is denied with a located message (and the command line refuses it).
#[test]
fn hidden_characters_in_names_are_input_errors() {
    let p = policy(SECURITY);
    for hidden in [
        "\u{200b}",
        "\u{200c}",
        "\u{200d}",
        "\u{2060}",
        "\u{feff}",
        "\u{202e}",
        "\u{202a}",
        "\u{2066}",
        "\u{2069}",
        "\u{200e}",
        "\u{61c}",
        "\u{ad}",
        "\u{34f}",
        "\u{fe0f}",
        "\u{e0001}",
        "\u{115f}",
        "\u{3164}",
        "\u{1b}",
        "\u{7f}",
        "\u{85}",
        "\u{9b}",
        "\n",
        "\t",
        "\r",
        "\u{0}",
        "\u{2028}",
        "\u{2029}",
        "\u{e000}",
    ] {
        for (change, field) in [
            (
                json!({"author": format!("dave{hidden}"), "approvals": [{"by": "erin"}]}),
                "`change.author`",
            ),
            (
                json!({"author": "x", "approvals": [{"by": format!("da{hidden}ve")}]}),
                "`change.approvals[0].by`",
            ),
            (
                json!({"author": "x", "approvals": [format!("{hidden}dave")]}),
                "`change.approvals[0]`",
            ),
        ] {
            let c = Change::from_json(change.clone()).unwrap();
            assert_eq!(c.input_errors().len(), 1, "{change}");
            let v = p.evaluate(&c, &Inventory::empty(), at());
            assert_eq!(v.decision, Decision::Deny, "{hidden:?}: {change}");
            let message = &v.errors[0].message;
            assert!(message.starts_with(field), "{message}");
            assert!(message.contains("U+"), "{message}");
        }
    }
    // Empty names are errors too.
    let c = Change::from_json(json!({"author": "  ", "approvals": [{"by": "dave"}]})).unwrap();
    assert_eq!(
        p.evaluate(&c, &Inventory::empty(), at()).decision,
        Decision::Deny
    );
}

/// Group members: a hidden character is a check error with a span; two members
/// that are one person are a diagnostic.
#[test]
fn group_members_are_canonical_and_distinct() {
    // Written as they are, hidden characters are refused in the policy text itself
    // (`changegate::invisible_character` / `text_direction_codepoint`); written as
    // escapes (`\t`, `\n`, `\r`), the member name holds them and `hidden_member` applies.
    for hidden in ["\u{200b}", "\u{202e}", "\u{1b}", "\u{feff}", "\u{ad}"] {
        let src = format!("policy \"p\"\ngroup g = [\"dave{hidden}\"]\ndefault approve 1 from g\n");
        let err = Policy::parse(&src, "p.gate").expect_err(&format!("{hidden:?} refused"));
        let d = err
            .iter()
            .find(|d| {
                [
                    "changegate::hidden_member",
                    "changegate::invisible_character",
                    "changegate::text_direction_codepoint",
                ]
                .contains(&d.code)
            })
            .unwrap_or_else(|| panic!("{hidden:?}: {}", err.render_plain()));
        assert!(!d.labels.is_empty(), "a span for {hidden:?}");
    }
    for escape in ["\\t", "\\n", "\\r"] {
        let src = format!("policy \"p\"\ngroup g = [\"dave{escape}\"]\ndefault approve 1 from g\n");
        let err = Policy::parse(&src, "p.gate").expect_err(&format!("{escape} refused"));
        let d = err
            .iter()
            .find(|d| d.code == "changegate::hidden_member")
            .unwrap_or_else(|| panic!("{escape}: {}", err.render_plain()));
        assert!(!d.labels.is_empty(), "a span for {escape}");
    }
    for (a, b) in [
        ("Dave", "dave"),
        ("jos\u{e9}", "jose\u{301}"),
        ("ｅｒｉｎ", "erin"),
    ] {
        let p = policy(&format!(
            "policy \"p\"\ngroup g = [\"{a}\", \"{b}\", \"x\"]\ndefault approve 2 from g\n"
        ));
        let dup = p
            .warnings()
            .iter()
            .find(|d| d.code == "changegate::duplicate_member")
            .unwrap_or_else(|| panic!("{a:?} and {b:?}"));
        assert!(dup.message.contains("the same person"), "{}", dup.message);
        // One seat, not two, for the two spellings.
        let v = eval(
            &p,
            json!({"author": "y", "approvals": [a, b]}),
            &Inventory::empty(),
        );
        assert_eq!(v.approvals[0].have, 1);
    }
}

// ---- revisions ------------------------------------------------------------------

/// An approval counts only when both sides carry the same revision or neither does.
#[test]
fn approvals_count_only_for_the_changes_revision() {
    let p = policy(SECURITY);
    for (change_rev, approval_rev, counts) in [
        (Some("abc"), None, false),
        (None, Some("old"), false),
        (Some("abc"), Some("old"), false),
        (Some("abc"), Some("abc"), true),
        (None, None, true),
    ] {
        let mut approval = json!({"by": "dave"});
        if let Some(r) = approval_rev {
            approval["revision"] = json!(r);
        }
        let mut change = json!({"author": "mallory", "approvals": [approval]});
        if let Some(r) = change_rev {
            change["revision"] = json!(r);
        }
        let v = eval(&p, change.clone(), &Inventory::empty());
        if counts {
            assert_eq!(v.decision, Decision::Deploy, "{change}");
        } else {
            assert_eq!(v.decision, Decision::Approve, "{change}");
            assert_eq!(v.ignored_approvals[0].why, "stale", "{change}");
        }
    }
    // A numeric revision is the same revision as its text.
    let v = eval(
        &p,
        json!({"author": "m", "revision": 7, "approvals": [{"by": "dave", "revision": "7"}]}),
        &Inventory::empty(),
    );
    assert_eq!(v.decision, Decision::Deploy);
}

// ---- targets ---------------------------------------------------------------------

const INVENTORY: &str = r#"{
  "sites": { "NYC": { "timezone": "America/New_York" } },
  "devices": {
    "core-1": { "site": "NYC", "role": "core", "depends_on": ["edge-1"] },
    "edge-1": { "site": "NYC", "role": "edge" }
  }
}"#;

fn inventory() -> Inventory {
    Inventory::parse(
        INVENTORY,
        changegate::input::Format::Json,
        "inventory.json",
        &changegate::Limits::default(),
    )
    .unwrap()
}

/// Ways to make `targets` unusable for a policy that reads the topology.
fn bad_targets() -> Vec<Value> {
    vec![
        json!(["core-l"]),
        json!(["core-1", "nope"]),
        json!("core-1"),
        json!([1]),
        json!(null),
        json!([["core-1"]]),
        json!([""]),
        json!(["  "]),
        json!([{"name": "core-1"}]),
        json!(["core-1", null]),
        json!({"core-1": true}),
        json!(true),
    ]
}

fn with_targets(targets: &Value) -> Value {
    let mut change = json!({"id": "C", "kind": "bgp", "author": "x"});
    if !targets.is_null() {
        change["targets"] = targets.clone();
    }
    change
}

/// `has(blast.roles)` made a typo'd target read as "no roles", and the change
/// deployed. Now the targets are checked first and the change is denied.
#[test]
fn has_never_hides_a_topology_error() {
    let p = policy(
        r#"policy "p"
group cab = ["frank"]
rule "core needs the CAB" {
  when has(blast.roles) and "core" in blast.roles
  then approve 1 from cab
}
default deploy
"#,
    );
    assert!(p.reads_topology());
    for targets in bad_targets() {
        let v = eval(&p, with_targets(&targets), &inventory());
        assert_eq!(v.decision, Decision::Deny, "targets {targets}: {v:?}");
        assert_eq!(
            v.errors[0].rule,
            Some(changegate::verdict::ErrorSource::Targets),
            "{targets}"
        );
        assert!(v.matched.is_empty() && !v.default_applied, "{targets}");
    }
    // Valid targets: the rule reads the blast radius.
    let v = eval(&p, with_targets(&json!(["edge-1"])), &inventory());
    assert_eq!(v.decision, Decision::Approve, "{v:?}");
    // `has` of a field no device has is plain `false`, not an error.
    let p = policy(
        r#"policy "p"
rule "r" { when has(blast.colour) then deny "has colour" }
default deploy
"#,
    );
    let v = eval(&p, with_targets(&json!(["edge-1"])), &inventory());
    assert_eq!(v.decision, Decision::Deploy, "{v:?}");
}

/// A freeze guarded by `has(blast…)` was skipped for a bad target.
#[test]
fn a_freeze_guarded_by_has_is_not_skipped() {
    let p = policy(
        r#"policy "p"
freeze core_freeze = 2026-11-20 00:00 .. 2026-12-01 00:00 in "UTC" when has(blast.roles) and "core" in blast.roles
default deploy
"#,
    );
    for targets in bad_targets() {
        let v = eval(&p, with_targets(&targets), &inventory());
        assert_eq!(v.decision, Decision::Deny, "targets {targets}: {v:?}");
    }
    let v = eval(&p, with_targets(&json!(["edge-1"])), &inventory());
    assert_eq!(v.decision, Decision::Wait, "{v:?}");
}

/// A policy that reads the topology with no inventory: an error that says `-i`.
#[test]
fn a_missing_inventory_is_an_error_for_a_topology_policy() {
    for src in [
        "policy \"p\"\nrule \"r\" { when count blast.devices > 5 then deny \"big\" }\ndefault deploy\n",
        "policy \"p\"\nrule \"r\" { when \"core\" in targets.roles then deny \"core\" }\ndefault deploy\n",
        "policy \"p\"\nwindow w = daily 09:00-17:00 local\nrule \"r\" { when change.kind == \"other\" then deploy during w }\ndefault deploy\n",
    ] {
        let p = policy(src);
        assert!(p.reads_topology(), "{src}");
        let v = eval(&p, with_targets(&json!(["edge-1"])), &Inventory::empty());
        assert_eq!(v.decision, Decision::Deny, "{src}");
        assert!(v.errors[0].message.contains("`-i"), "{}", v.errors[0].message);
        for targets in bad_targets() {
            let v = eval(&p, with_targets(&targets), &inventory());
            assert_eq!(v.decision, Decision::Deny, "{src} {targets}");
        }
    }
}

/// A policy that does not read the topology does not look at `targets`: its verdict
/// cannot depend on them (documented in docs/language.md).
#[test]
fn a_policy_without_topology_ignores_targets() {
    let p = policy("policy \"p\"\ndefault deploy\n");
    assert!(!p.reads_topology());
    for targets in bad_targets() {
        let v = eval(&p, with_targets(&targets), &Inventory::empty());
        assert_eq!(v.decision, Decision::Deploy, "{targets}");
    }
}

// ---- durations and text ------------------------------------------------------------

/// Runways print exactly: a 4h1s change was "4h runway".
#[test]
fn runways_print_exactly() {
    let p = policy(
        r#"policy "p"
window night = daily 01:00-05:00 in "UTC"
default deploy during night
"#,
    );
    let v = eval(&p, json!({"duration": "4h0m1s"}), &Inventory::empty());
    let text = v.reasons.join("\n");
    assert!(text.contains("4h0m1s runway"), "{text}");
    let v = eval(&p, json!({"duration": "16d"}), &Inventory::empty());
    let text = v.reasons.join("\n");
    assert!(text.contains("16d runway"), "{text}");
}

/// `format_duration` writes what `parse_duration` reads back.
#[test]
fn durations_round_trip() {
    use changegate::time::{format_duration, parse_duration};
    for (secs, text) in [
        (1, "1s"),
        (59, "59s"),
        (60, "1m"),
        (90, "1m30s"),
        (3_600, "1h"),
        (3_601, "1h0m1s"),
        (14_401, "4h0m1s"),
        (5_400, "1h30m"),
        (86_400, "1d"),
        (86_460, "1d0h1m"),
        (90_061, "1d1h1m1s"),
        (16 * 86_400, "16d"),
        (366 * 86_400, "366d"),
    ] {
        assert_eq!(format_duration(secs), text);
        assert_eq!(parse_duration(text), Ok(secs));
    }
    assert_eq!(format_duration(0), "0s");
}

/// A 16-day freeze printed as `384h00m` in the calendar.
#[test]
fn calendar_lengths_print_exactly() {
    let p = policy(
        r#"policy "p"
freeze long = 2026-12-01 00:00 .. 2026-12-17 00:00 in "UTC"
window short = daily 01:00-02:30 in "UTC"
default deploy during short
"#,
    );
    let from = "2026-11-30T00:00:00Z"
        .parse::<DateTime<Utc>>()
        .unwrap()
        .timestamp();
    let text = p
        .calendar(&Inventory::empty(), from, from + 30 * 86_400)
        .to_text();
    assert!(text.contains("   16d\n"), "{text}");
    assert!(text.contains("   1h30m\n"), "{text}");
    assert!(!text.contains("384h"), "{text}");
}

/// `for 1h1h` was read as 2h though durations are "each unit once, largest first".
#[test]
fn window_durations_follow_the_unit_grammar() {
    for d in ["1h1h", "30m1h", "1d1d", "1m1h", "1h1d", "2h30m15m"] {
        let src = format!(
            "policy \"p\"\nwindow w = sat 23:00 for {d} in \"UTC\"\ndefault deploy during w\n"
        );
        let err = Policy::parse(&src, "p.gate").expect_err(d);
        assert!(
            err.iter().any(|e| e.code == "changegate::duration_units"),
            "{d}: {}",
            err.render_plain()
        );
    }
    // One-time windows and freezes read the same grammar.
    for src in [
        "policy \"p\"\nwindow w = 2026-12-05 22:00 for 1h1h in \"UTC\"\ndefault deploy during w\n",
        "policy \"p\"\nfreeze f = 2026-12-05 22:00 for 30m2h in \"UTC\"\ndefault deploy\n",
        "policy \"p\"\nfreeze f = sat 22:00 for 2h2h in \"UTC\"\ndefault deploy\n",
    ] {
        let err = Policy::parse(src, "p.gate").expect_err(src);
        assert!(
            err.iter().any(|e| e.code == "changegate::duration_units"),
            "{src}: {}",
            err.render_plain()
        );
    }
    for d in ["1d12h", "1h30m", "90m", "6h", "2d"] {
        policy(&format!(
            "policy \"p\"\nwindow w = sat 23:00 for {d} in \"UTC\"\ndefault deploy during w\n"
        ));
    }
}

/// A change `id` holding ANSI escapes could print `DEPLOY` over `APPROVE`.
#[test]
fn text_output_escapes_terminal_controls() {
    let p = policy(SECURITY);
    let evil = "CHG-1\r\u{1b}[1A\u{1b}[2KDEPLOY  the change may go now\u{9b}2K\u{202e}";
    let v = eval(
        &p,
        json!({"id": evil, "author": "x", "duration": format!("\u{1b}]0;{evil}")}),
        &Inventory::empty(),
    );
    assert_eq!(v.decision, Decision::Deny);
    let text = v.to_text();
    for c in ['\u{1b}', '\r', '\u{9b}', '\u{202e}'] {
        assert!(!text.contains(c), "{c:?} in {text:?}");
    }
    assert!(text.starts_with("DENY"), "{text}");
    assert!(text.contains("CHG-1\\u{d}\\u{1b}[1A"), "{text}");
    // The JSON keeps the id as given.
    assert_eq!(v.change.as_deref(), Some(evil));
}

// ---- coverage ----------------------------------------------------------------------

/// Seats in overlapping groups are a matching: the first approver moves to the
/// group only they can fill so the second fits too, and the work stays near-linear.
#[test]
fn overlapping_groups_match_people_to_seats() {
    let p = policy(
        "policy \"p\"\ngroup a = [\"p\", \"q\"]\ngroup b = [\"p\", \"r\"]\ndefault approve 1 from a, approve 1 from b\n",
    );
    let v = eval(
        &p,
        json!({"author": "x", "approvals": ["p", "q"]}),
        &Inventory::empty(),
    );
    assert_eq!(v.decision, Decision::Deploy, "{v:?}");
    assert_eq!(v.approvals[0].approved_by, vec!["q"]);
    assert_eq!(v.approvals[1].approved_by, vec!["p"]);
    // The author cannot be matched, so `b` can still be met by `r` alone.
    let v = eval(
        &p,
        json!({"author": "p", "approvals": ["q"]}),
        &Inventory::empty(),
    );
    assert_eq!(v.decision, Decision::Approve, "{v:?}");
    // Large overlapping groups: 20,000 approvers for 6 seats.
    let n = 20_000;
    let a: Vec<String> = (0..n).map(|i| format!("\"p{i}\"")).collect();
    let b: Vec<String> = (n / 2..n + n / 2).map(|i| format!("\"p{i}\"")).collect();
    let p = policy(&format!(
        "policy \"p\"\ngroup a = [{}]\ngroup b = [{}]\ndefault approve 3 from a, approve 3 from b\n",
        a.join(", "),
        b.join(", ")
    ));
    let approvals: Vec<String> = (0..n).rev().map(|i| format!("p{i}")).collect();
    let started = std::time::Instant::now();
    let v = eval(
        &p,
        json!({"author": "x", "approvals": approvals}),
        &Inventory::empty(),
    );
    assert_eq!(v.decision, Decision::Deploy);
    assert!(started.elapsed().as_secs() < 5, "{:?}", started.elapsed());
}
