//! Snapshots of the text verdict (`evaluate`'s default output) for every example
//! change in `policies/changes/`, against the example network policy at the guide's
//! instant, so any change to what people read is seen in review. Update with
//! `INSTA_UPDATE=always cargo test --test integration verdict_text::` and read the diff.

use changegate::{Change, Inventory, Policy};

const AT: &str = "2026-11-26T10:00:00Z";

#[test]
fn text_verdict_of_each_example_change() {
    let policy = Policy::from_file("policies/netops.gate").unwrap();
    let inventory = Inventory::from_file("policies/netops.inventory.json").unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(AT).unwrap().to_utc();
    let mut names: Vec<String> = std::fs::read_dir("policies/changes")
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 5, "{names:?}");
    for name in names {
        let path = std::path::PathBuf::from("policies/changes").join(&name);
        let value = changegate::input::read_file(&path, &Default::default()).unwrap();
        let change = Change::from_value(value).unwrap();
        let text = policy.evaluate(&change, &inventory, at).to_text();
        insta::assert_snapshot!(name.clone(), text);
    }
}

/// An empty blast radius reads "no sites", never "sites ,"; and one path arrow.
#[test]
fn empty_lists_and_paths_read_well() {
    let policy = Policy::parse(
        "policy \"b\"\nrule \"r\" { when count blast.devices > 0 then deploy }\ndefault deploy\n",
        "b.gate",
    )
    .unwrap();
    let inventory = Inventory::parse(
        r#"{"devices":{"a":{},"b":{"depends_on":["a"]}}}"#,
        changegate::input::Format::Json,
        "i.json",
        &Default::default(),
    )
    .unwrap();
    let change = Change::from_json(serde_json::json!({ "targets": ["a"] })).unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(AT).unwrap().to_utc();
    let text = policy.evaluate(&change, &inventory, at).to_text();
    assert!(
        text.contains("blast radius: 2 devices, no sites, no roles, depth 1"),
        "{text}"
    );
    assert!(text.contains("furthest: a <- b"), "{text}");
    let blast = inventory.blast(&["a"]).unwrap().to_string();
    assert!(blast.contains("sites:   (none)"), "{blast}");
    assert!(blast.contains("furthest: a <- b"), "{blast}");
    // Several suggestions: one question.
    let err = inventory.blast(&["aa", "bb"]).unwrap_err();
    let help = miette::Diagnostic::help(&err).unwrap().to_string();
    assert_eq!(help, "did you mean `a` for `aa`, `b` for `bb`?");
}
