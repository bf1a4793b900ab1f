//! The published JSON Schemas (docs/schemas/) are the ones the code generates, and
//! every example document in the repository validates against its schema, checked
//! by an independent validator (Python's `jsonschema`, installed by `.ci/run`).
//! After changing a documented type, regenerate the files:
//! `for n in change inventory test verdict; do changegate schema $n > docs/schemas/$n.schema.json; done`.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{json, Value};

use crate::common::root;

const AT: &str = "2026-11-26T10:00:00Z";

fn changegate(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_changegate"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

/// The names `changegate schema` takes (`changegate schema nothing` is refused below).
const NAMES: [&str; 4] = ["change", "inventory", "test", "verdict"];

fn generated(name: &str) -> String {
    let out = changegate(&["schema", name]);
    assert_eq!(out.status.code(), Some(0));
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn published_schemas_are_the_generated_ones() {
    for name in NAMES {
        let path = root().join(format!("docs/schemas/{name}.schema.json"));
        let published = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            published == generated(name),
            "{} is stale: regenerate it with `changegate schema {name} > docs/schemas/{name}.schema.json`",
            path.display()
        );
    }
    assert_eq!(changegate(&["schema", "nothing"]).status.code(), Some(2));
}

/// Reads JSON, YAML or TOML by extension into JSON.
fn document(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    match path.extension().and_then(|e| e.to_str()) {
        Some("json") => serde_json::from_str(&text).unwrap(),
        Some("yaml" | "yml") => serde_saphyr::from_str(&text).unwrap(),
        Some("toml") => toml::from_str(&text).unwrap(),
        other => panic!("{}: unknown format {other:?}", path.display()),
    }
}

fn files(dir: &str, keep: &dyn Fn(&str) -> bool) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(root().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file() && keep(&p.file_name().unwrap().to_string_lossy()))
        .collect();
    out.sort();
    out
}

/// Validates each (schema name, label, document); returns the errors, one a line.
fn validate(docs: &[(&str, String, Value)]) -> String {
    let mut schemas = serde_json::Map::new();
    for name in NAMES {
        schemas.insert(
            name.to_owned(),
            serde_json::from_str(&generated(name)).unwrap(),
        );
    }
    let docs: Vec<Value> = docs.iter().map(|(s, l, d)| json!([s, l, d])).collect();
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let input = std::env::temp_dir().join(format!(
        "changegate-schemas-{}-{}.json",
        std::process::id(),
        NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    ));
    std::fs::write(
        &input,
        json!({ "schemas": schemas, "docs": docs }).to_string(),
    )
    .unwrap();
    let out = Command::new("python3")
        .arg("-c")
        .arg(
            r#"
import json, sys, jsonschema
data = json.load(open(sys.argv[1]))
for name, schema in data["schemas"].items():
    jsonschema.validators.validator_for(schema).check_schema(schema)
for name, label, doc in data["docs"]:
    schema = data["schemas"][name.replace("bad ", "")]
    for e in jsonschema.validators.validator_for(schema)(schema).iter_errors(doc):
        print(f"{label}: {list(e.absolute_path)}: {e.message}")
"#,
        )
        .arg(&input)
        .output()
        .expect("python3 with jsonschema (the independent validator)");
    let _ = std::fs::remove_file(&input);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn every_example_validates() {
    let mut docs: Vec<(&str, String, Value)> = Vec::new();
    let label = |p: &Path| p.strip_prefix(root()).unwrap().display().to_string();
    let changes = files("policies/changes", &|_| true);
    assert!(changes.len() >= 5);
    for p in &changes {
        docs.push(("change", label(p), document(p)));
        // Its verdict, against the example network policy.
        let out = changegate(&[
            "evaluate",
            "-p",
            "policies/netops.gate",
            "-c",
            p.to_str().unwrap(),
            "-i",
            "policies/netops.inventory.json",
            "--at",
            AT,
            "--format",
            "json",
        ]);
        let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(verdict["schema"], 1, "{verdict}");
        docs.push(("verdict", format!("verdict of {}", label(p)), verdict));
    }
    for dir in std::fs::read_dir(root().join("tests/cases")).unwrap() {
        let dir = dir.unwrap().path();
        let change = dir.join("change.json");
        // `change_bad_*` cases are malformed on purpose: the schema must refuse them.
        let bad = dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("change_bad_");
        if change.exists() {
            let name = if bad { "bad change" } else { "change" };
            docs.push((name, label(&change), document(&change)));
        }
    }
    for p in files("policies", &|n| n.contains(".inventory.")) {
        docs.push(("inventory", label(&p), document(&p)));
    }
    let tests = files("policies", &|n| n.contains(".test."));
    assert!(tests.len() >= 5);
    for p in tests {
        docs.push(("test", label(&p), document(&p)));
    }
    let errors = validate(&docs);
    let (bad, errors): (Vec<&str>, Vec<&str>) =
        errors.lines().partition(|l| l.contains("/change_bad_"));
    assert!(
        errors.is_empty(),
        "examples that do not validate:\n{}",
        errors.join("\n")
    );
    let malformed = docs.iter().filter(|d| d.0 == "bad change").count();
    assert!(malformed >= 2);
    for (_, label, _) in docs.iter().filter(|d| d.0 == "bad change") {
        assert!(
            bad.iter().any(|l| l.starts_with(&format!("{label}:"))),
            "{label} validates"
        );
    }
}

#[test]
fn the_schemas_refuse_what_changegate_refuses() {
    let docs = vec![
        (
            "change",
            "approvals not a list".to_owned(),
            json!({ "id": "C", "approvals": 5 }),
        ),
        (
            "change",
            "duration not text".to_owned(),
            json!({ "duration": 45 }),
        ),
        (
            "inventory",
            "unknown top-level key".to_owned(),
            json!({ "device": {} }),
        ),
        (
            "inventory",
            "site without a zone".to_owned(),
            json!({ "sites": { "NYC": {} } }),
        ),
        (
            "test",
            "case without expect".to_owned(),
            json!({ "cases": [{ "name": "x", "at": AT, "change": {} }] }),
        ),
        (
            "test",
            "unknown expectation".to_owned(),
            json!({ "cases": [{ "name": "x", "at": AT, "change": {}, "expect": { "decision": "deploy", "decisoin": 1 } }] }),
        ),
        (
            "verdict",
            "unknown decision".to_owned(),
            json!({ "decision": "maybe" }),
        ),
    ];
    let errors = validate(&docs);
    for (_, label, _) in &docs {
        assert!(
            errors.contains(&format!("{label}:")),
            "{label} should not validate:\n{errors}"
        );
    }
}
