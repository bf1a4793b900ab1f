//! The growing-lists case shared by `benches/policy.rs` and `benches/instructions.rs`:
//! one policy whose conditions walk whole lists (a glob over every file, a membership
//! test, a count and a sum), and changes whose lists have `len` elements.

use changegate::{Change, Policy};

/// The policy every growing-lists bench evaluates.
pub(crate) fn policy() -> Policy {
    Policy::parse(
        r#"policy "growing"
group ops = ["a", "b"]
rule "docs" {
  when all change.files match "docs/**" and not ("urgent" in change.labels)
  then deploy
}
rule "big" {
  when count change.files > 5 and sum change.sizes > 100 and any change.labels == "wide"
  then approve 1 from ops
}
default approve 1 from ops
"#,
        "growing.gate",
    )
    .unwrap()
}

/// A change whose `files`, `labels` and `sizes` each have `len` elements.
pub(crate) fn change(len: usize) -> Change {
    let files: Vec<String> = (0..len).map(|i| format!("docs/page{i}.md")).collect();
    let labels: Vec<String> = (0..len).map(|i| format!("label{i}")).collect();
    let sizes: Vec<i64> = (0..len as i64).collect();
    Change::from_json(serde_json::json!({
        "files": files, "labels": labels, "sizes": sizes
    }))
    .unwrap()
}
