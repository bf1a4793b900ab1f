//! A fixed set of policies against an arbitrary change (JSON or YAML) and a fixed or
//! arbitrary inventory (JSON or YAML), at an arbitrary instant from year 1 to 9999,
//! with document limits drawn from the input. Never a panic; never `deploy` with
//! errors; the rule index agrees with a full scan.
//!
//! Layout: 8 bytes of instant, a policy byte, an inventory byte, a flags byte (bit 0:
//! the change is YAML; bit 1: the inventory follows the change after a NUL byte;
//! bit 2: that inventory is YAML), a limits byte (0: the defaults), then the text.
#![no_main]

use std::sync::OnceLock;

use changegate::input::{parse_bytes, Format};
use changegate::{Change, Decision, Inventory, Limits, Policy};
use chrono::DateTime;
use libfuzzer_sys::fuzz_target;

/// 0001-01-01T00:00:00Z and 9999-12-31T23:59:59Z.
const FIRST: i64 = -62_135_596_800;
const LAST: i64 = 253_402_300_799;

const POLICIES: &[(&str, &str)] = &[
    ("netops.gate", include_str!("../../policies/netops.gate")),
    ("mixed.gate", include_str!("../seeds/mixed.gate")),
    (
        "runway.gate",
        include_str!("../../tests/cases/runway_fits/policy.gate"),
    ),
    (
        "freeze.gate",
        include_str!("../../tests/cases/freeze_when_applying/policy.gate"),
    ),
    (
        "sum.gate",
        include_str!("../../tests/cases/count_and_sum/policy.gate"),
    ),
    (
        "seats.gate",
        include_str!("../../tests/cases/seats_three_from_three_people/policy.gate"),
    ),
    (
        "local.gate",
        include_str!("../../tests/cases/local_window_sites_never_overlap/policy.gate"),
    ),
];

const INVENTORIES: &[&str] = &[
    include_str!("../../policies/netops.inventory.json"),
    include_str!("../../tests/cases/local_window_all_sites/inventory.json"),
];

struct Fixed {
    policies: Vec<Policy>,
    inventories: Vec<Inventory>,
}

fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| Fixed {
        policies: POLICIES
            .iter()
            .map(|(name, src)| Policy::parse(src, name).expect("fixed policy checks"))
            .collect(),
        inventories: std::iter::once(Inventory::empty())
            .chain(INVENTORIES.iter().map(|src| {
                Inventory::parse(src, Format::Json, "inv.json", &Limits::default())
                    .expect("fixed inventory loads")
            }))
            .collect(),
    })
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let (head, text) = data.split_at(12);
    let mut raw = [0u8; 8];
    raw.copy_from_slice(&head[..8]);
    let span = (LAST - FIRST + 1) as u64;
    let at = FIRST + (u64::from_le_bytes(raw) % span) as i64;
    let at = DateTime::from_timestamp(at, 0).expect("year 1..9999 is in range");
    let fixed = fixed();
    let policy = &fixed.policies[usize::from(head[8]) % fixed.policies.len()];
    let inventory = &fixed.inventories[usize::from(head[9]) % fixed.inventories.len()];

    let flags = head[10];
    let limits = match head[11] {
        0 => Limits::default(),
        n => Limits {
            // Up to 510 levels: past the hard cap of 256 too.
            max_depth: usize::from(n) * 2,
            max_list_len: 1 + usize::from(n) * 7,
            max_string_len: 1 + usize::from(n) * 31,
            max_alias_events: 1 + usize::from(n) * 97,
            ..Limits::default()
        },
    };
    let yaml = |yes: bool| if yes { Format::Yaml } else { Format::Json };
    let (change_text, fuzzed_inventory) = if flags & 2 != 0 {
        match text.iter().position(|&b| b == 0) {
            Some(i) => (&text[..i], Some(&text[i + 1..])),
            None => (text, None),
        }
    } else {
        (text, None)
    };
    let own;
    let inventory = match fuzzed_inventory {
        Some(bytes) => {
            let Ok(inv_text) = std::str::from_utf8(bytes) else {
                return;
            };
            let Ok(inv) = Inventory::parse(inv_text, yaml(flags & 4 != 0), "inv", &limits) else {
                return;
            };
            own = inv;
            &own
        }
        None => inventory,
    };
    let Ok(value) = parse_bytes(change_text, yaml(flags & 1 != 0), "change", &limits) else {
        return;
    };
    let Ok(change) = Change::from_value(value) else {
        return;
    };
    let verdict = policy.evaluate(&change, inventory, at);
    if !verdict.errors.is_empty() {
        assert_ne!(
            verdict.decision,
            Decision::Deploy,
            "deploy despite errors: {verdict:?}"
        );
    }
    let json = verdict.to_json();
    let _ = verdict.to_text();
    let full = changegate::fuzzing::evaluate_unindexed(policy, &change, inventory, at);
    assert_eq!(json, full.to_json(), "the index disagrees with a full scan");
});
