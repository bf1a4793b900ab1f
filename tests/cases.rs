//! Data-driven verdict cases: `tests/cases/<name>/` holds `policy.gate`, a change
//! (`change.json` or `change.yaml`), `at` (an RFC 3339 instant), optionally
//! `inventory.json`, and `expected.json`: a subset of the verdict JSON that must
//! match exactly (objects compare key by key, lists and scalars exactly).
//!
//! A new case is files, not code. `CASE=name cargo test --test integration cases::` runs one.

use crate::common::subset;
use std::path::Path;

use changegate::{Change, Inventory, Policy};
use serde_json::Value;

fn run_case(dir: &Path) -> Result<(), String> {
    let policy_path = dir.join("policy.gate");
    let policy = Policy::from_file(&policy_path).map_err(|d| d.render_plain())?;
    let change_path = ["change.json", "change.yaml"]
        .iter()
        .map(|n| dir.join(n))
        .find(|p| p.exists())
        .ok_or("no change.json or change.yaml")?;
    let value = changegate::input::read_file(&change_path, &Default::default())
        .map_err(|e| e.to_string())?;
    let change = Change::from_value(value).map_err(|e| e.to_string())?;
    let inventory = match dir.join("inventory.json") {
        p if p.exists() => Inventory::from_file(&p).map_err(|e| e.to_string())?,
        _ => Inventory::empty(),
    };
    let at_text = std::fs::read_to_string(dir.join("at")).map_err(|e| e.to_string())?;
    let at = chrono::DateTime::parse_from_rfc3339(at_text.trim())
        .map_err(|e| e.to_string())?
        .with_timezone(&chrono::Utc);
    let verdict = policy.evaluate(&change, &inventory, at);
    let actual: Value = serde_json::from_str(&verdict.to_json()).map_err(|e| e.to_string())?;
    let expected: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.join("expected.json")).map_err(|e| e.to_string())?,
    )
    .map_err(|e| format!("expected.json: {e}"))?;
    let mut errors = Vec::new();
    subset(&expected, &actual, "verdict", &mut errors);
    if errors.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\nfull verdict:\n{}",
            errors.join("\n"),
            verdict.to_json_pretty()
        ))
    }
}

#[test]
fn verdict_cases() {
    // Relative, so that locations in verdicts are too (cargo runs tests in the package root).
    let root = Path::new("tests/cases");
    let only = std::env::var("CASE").ok();
    let mut dirs: Vec<_> = std::fs::read_dir(root)
        .expect("tests/cases exists")
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut failures = Vec::new();
    let mut ran = 0;
    for dir in &dirs {
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or("?");
        if only.as_deref().is_some_and(|o| o != name) {
            continue;
        }
        ran += 1;
        if let Err(e) = run_case(dir) {
            failures.push(format!("case {name}:\n{e}"));
        }
    }
    assert!(ran > 0, "no case ran");
    assert!(
        failures.is_empty(),
        "{} of {ran} cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    if only.is_none() {
        assert!(ran >= 40, "expected at least 40 cases, found {ran}");
    }
}
