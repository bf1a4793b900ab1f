//! Snapshot tests of rendered diagnostics: each `tests/diagnostics/NAME.gate` is a
//! small broken policy, and `tests/snapshots/integration__diagnostics__NAME.snap` is what
//! `changegate check` shows for it (miette's report, without colour).
//!
//! A new case is one `.gate` file. Accept new or changed snapshots with
//! `INSTA_UPDATE=always cargo test --test integration diagnostics::` (or `cargo insta review`),
//! then read each one: the label must sit on the right span.

use std::path::{Path, PathBuf};

use changegate::Policy;

fn cases() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/diagnostics");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/diagnostics exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "gate"))
        .collect();
    files.sort();
    files
}

#[test]
fn there_are_enough_cases() {
    assert!(cases().len() >= 30, "only {} cases", cases().len());
}

#[test]
fn diagnostics_match_snapshots() {
    let only = std::env::var("CASE").ok();
    for path in cases() {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 file name")
            .to_owned();
        if only.as_deref().is_some_and(|o| o != stem) {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("readable case");
        let name = format!("tests/diagnostics/{stem}.gate");
        let diags = match Policy::parse(&text, &name) {
            Ok(_) => panic!("{name}: the policy was accepted, but every case must be broken"),
            Err(d) => d,
        };
        assert!(diags.has_errors(), "{name}: no error among the diagnostics");
        let rendered = diags.render_plain();
        assert!(!rendered.trim().is_empty(), "{name}: empty rendering");
        insta::with_settings!({
            description => text.clone(),
            omit_expression => true,
            prepend_module_to_snapshot => true,
        }, {
            insta::assert_snapshot!(stem, rendered);
        });
    }
}

/// Lints: `tests/lints/NAME.gate` checks (warnings do not reject a policy) and its
/// first line `# warning: CODE` names a warning that must be among its diagnostics;
/// the rendered warnings are snapshots too.
#[test]
fn lints_warn_with_their_codes() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/lints");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("tests/lints exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "gate"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "only {} lint cases", files.len());
    for path in files {
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .expect("UTF-8 name")
            .to_owned();
        let text = std::fs::read_to_string(&path).expect("readable case");
        let code = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# warning: "))
            .unwrap_or_else(|| panic!("{stem}: first line must be `# warning: CODE`"))
            .trim()
            .to_owned();
        let name = format!("tests/lints/{stem}.gate");
        let policy = Policy::parse(&text, &name)
            .unwrap_or_else(|d| panic!("{name}: rejected:\n{}", d.render_plain()));
        let warnings = changegate::Diagnostics(policy.warnings().to_vec());
        assert!(
            warnings.iter().any(|d| d.code == code && !d.is_error()),
            "{name}: no `{code}` warning among {:?}",
            warnings.iter().map(|d| d.code).collect::<Vec<_>>()
        );
        insta::with_settings!({
            description => text.clone(),
            omit_expression => true,
            prepend_module_to_snapshot => true,
        }, {
            insta::assert_snapshot!(format!("lint_{stem}"), warnings.render_plain());
        });
    }
}
