//! Modules: `import` resolves relative to the importing file, loads each file once,
//! shares groups, windows and freezes, and reports cycles, clashes and missing files
//! with diagnostics (snapshots) that point at every import involved.

use changegate::{Change, Decision, Inventory, Policy};
use sha2::{Digest, Sha256};

fn rejected(root: &str) -> String {
    match Policy::from_file(root) {
        Ok(_) => panic!("{root}: accepted"),
        Err(d) => {
            assert!(d.has_errors());
            d.render_plain()
        }
    }
}

#[test]
fn imports_share_declarations_and_load_each_file_once() {
    let policy = Policy::from_file("tests/modules/ok/root.gate")
        .unwrap_or_else(|d| panic!("{}", d.render_plain()));
    let files: Vec<&str> = policy.files().iter().map(|f| f.name()).collect();
    assert_eq!(
        files,
        [
            "tests/modules/ok/root.gate",
            "tests/modules/ok/lib/people.gate",
            "tests/modules/ok/lib/time.gate"
        ]
    );
    assert_eq!(policy.window_names().collect::<Vec<_>>(), ["night"]);
    assert_eq!(policy.freeze_names().collect::<Vec<_>>(), ["holidays"]);
    // The digest covers every file with its path (relative to the root's folder),
    // root first, in load order: the sha256 of a `sha256sum`-style manifest.
    let mut manifest = String::new();
    for (f, rel) in files
        .iter()
        .zip(["root.gate", "lib/people.gate", "lib/time.gate"])
    {
        let sum = Sha256::digest(std::fs::read(f).unwrap());
        manifest.push_str(&format!("{sum:x}  {rel}\n"));
    }
    assert_eq!(
        policy.sha256(),
        format!("{:x}", Sha256::digest(manifest.as_bytes()))
    );
    let paths: Vec<&str> = policy
        .file_digests()
        .iter()
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(paths, ["root.gate", "lib/people.gate", "lib/time.gate"]);
    // The imported freeze applies: Christmas Day is frozen.
    let change =
        Change::from_json(serde_json::json!({"kind": "night", "approvals": ["alice"]})).unwrap();
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-25T02:00:00+01:00")
        .unwrap()
        .to_utc();
    let v = policy.evaluate(&change, &Inventory::empty(), at);
    assert_eq!(v.decision, Decision::Wait);
    assert_eq!(v.freeze.unwrap().names, ["holidays"]);
}

#[test]
fn an_import_cycle_shows_the_whole_cycle() {
    let text = rejected("tests/modules/cycle/root.gate");
    assert!(text.contains("imports form a cycle"), "{text}");
    insta::assert_snapshot!("import_cycle", text);
}

#[test]
fn a_name_defined_in_two_modules_points_at_both() {
    let text = rejected("tests/modules/clash/root.gate");
    assert!(text.contains("group `ops` is defined twice"), "{text}");
    assert!(text.contains("one.gate"), "{text}");
    assert!(text.contains("two.gate"), "{text}");
    insta::assert_snapshot!("import_clash", text);
}

#[test]
fn a_missing_import_is_reported_at_the_import() {
    let text = rejected("tests/modules/missing/root.gate");
    insta::assert_snapshot!("import_missing", text);
}

#[test]
fn modules_hold_no_rules() {
    let text = rejected("tests/modules/rules_in_module/root.gate");
    assert!(
        text.contains("an imported file can only hold imports, groups, windows and freezes"),
        "{text}"
    );
}

#[test]
fn a_policy_given_as_text_cannot_import() {
    let err = Policy::parse(
        "policy \"p\"\nimport \"x.gate\"\ngroup g = [\"a\"]\ndefault approve 1 from g\n",
        "p.gate",
    )
    .unwrap_err();
    assert!(
        err.render_plain().contains("cannot import"),
        "{}",
        err.render_plain()
    );
}

/// Text moved between a file and its import leaves the concatenated bytes the same;
/// the digest must still change, since it hashes each file with its path.
#[test]
fn moving_text_between_a_file_and_its_import_changes_the_digest() {
    let build = |root: &str, module: &str| {
        let module = module.to_owned();
        Policy::parse_with_loader(
            root,
            "root.gate",
            &changegate::Limits::default(),
            &move |_| Ok(module.clone()),
        )
        .unwrap_or_else(|d| panic!("{}", d.render_plain()))
    };
    let head = "policy \"p\"\nimport \"m.gate\"\ndefault deploy\n";
    let ops = "group ops = [\"a\"]\n";
    let sec = "group sec = [\"b\"]\n";
    let a = build(&format!("{head}{ops}"), sec);
    let b = build(head, &format!("{ops}{sec}"));
    let concat = |p: &Policy| p.files().iter().map(|f| f.text()).collect::<String>();
    assert_eq!(
        concat(&a),
        concat(&b),
        "the same bytes, cut at another place"
    );
    assert_ne!(a.sha256(), b.sha256());
}
