//! The bad-input corpus in `tests/bad/`, run through the real binary.
//!
//! `tests/bad/expected.txt` lists each file with the command that reads it and the
//! exit code the CLI gives: `check` for policies, `change` for
//! `evaluate -p tests/bad/ok.gate -c FILE --at 2026-11-26T10:00:00Z`, and
//! `inventory` for the same with `-c tests/bad/ok.json -i FILE`. For every file:
//! never a panic (exit 101 or "panicked"), never exit 0 (`deploy`) for a bad
//! change, the expected exit code, and its stderr diagnostic as an insta snapshot
//! (`tests/snapshots/integration__bad__*.snap`). Big inputs are generated here, not committed.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const AT: &str = "2026-11-26T10:00:00Z";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn run(args: &[&str]) -> Run {
    run_in(args, Path::new(env!("CARGO_MANIFEST_DIR")))
}

/// Runs the binary in `dir` (generated inputs are named relative to their folder, so
/// diagnostics, and where miette wraps them, do not depend on the checkout's path).
fn run_in(args: &[&str], dir: &Path) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_changegate"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run changegate");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn args_for<'a>(kind: &str, path: &'a str) -> Vec<&'a str> {
    match kind {
        "check" => vec!["check", path],
        "change" => vec![
            "evaluate",
            "-p",
            "tests/bad/ok.gate",
            "-c",
            path,
            "--at",
            AT,
        ],
        "inventory" => vec![
            "evaluate",
            "-p",
            "tests/bad/ok.gate",
            "-c",
            "tests/bad/ok.json",
            "-i",
            path,
            "--at",
            AT,
        ],
        other => panic!("unknown kind {other}"),
    }
}

/// The invariants every bad input must keep, whatever its expected code.
fn assert_sane(kind: &str, what: &str, r: &Run) {
    assert!(
        r.code != 101 && !r.stderr.contains("panicked"),
        "{what} panicked:\n{}",
        r.stderr
    );
    assert!(r.code >= 0, "{what} was killed by a signal");
    if kind == "change" {
        assert!(
            r.code != 0 && !r.stdout.contains("DEPLOY"),
            "{what}: a bad change must never deploy:\n{}",
            r.stdout
        );
    }
    if r.code != 0 {
        assert!(
            !r.stderr.trim().is_empty() || !r.stdout.trim().is_empty(),
            "{what}: failed silently"
        );
    }
}

fn snapshot_name(path: &str) -> String {
    path.trim_start_matches("tests/bad/").replace('/', "__")
}

#[test]
fn the_ok_inputs_are_ok() {
    assert_eq!(run(&["check", "tests/bad/ok.gate"]).code, 0);
    let r = run(&[
        "evaluate",
        "-p",
        "tests/bad/ok.gate",
        "-c",
        "tests/bad/ok.json",
        "--at",
        AT,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
}

#[test]
fn corpus() {
    let manifest =
        std::fs::read_to_string("tests/bad/expected.txt").expect("tests/bad/expected.txt");
    let mut listed = Vec::new();
    let mut failures = Vec::new();
    for line in manifest
        .lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
    {
        let parts: Vec<&str> = line.split_whitespace().collect();
        let [kind, file, code] = parts[..] else {
            panic!("bad manifest line {line:?}");
        };
        let path = format!("tests/bad/{file}");
        listed.push(PathBuf::from(&path));
        let expected: i32 = code.parse().expect("exit code");
        let r = run(&args_for(kind, &path));
        assert_sane(kind, &path, &r);
        if r.code != expected {
            failures.push(format!(
                "{path}: exit {} (expected {expected})\n{}",
                r.code, r.stderr
            ));
        }
        insta::assert_snapshot!(snapshot_name(&path), r.stderr, &format!("{kind} {path}"));
    }
    // Every file in the corpus is listed, and there are enough of them.
    let mut on_disk = Vec::new();
    for dir in ["policies", "changes", "inventories"] {
        for entry in std::fs::read_dir(Path::new("tests/bad").join(dir)).expect("corpus dir") {
            on_disk.push(entry.expect("entry").path());
        }
    }
    on_disk.sort();
    listed.sort();
    assert_eq!(
        on_disk, listed,
        "tests/bad/expected.txt must list every corpus file"
    );
    assert!(listed.len() >= 60);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// A directory for generated inputs, and a function that hides it in stderr.
fn generated_dir() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("bad-generated");
    std::fs::create_dir_all(&dir).expect("dir");
    dir
}

fn generated(kind: &str, name: &str, bytes: &[u8], extra: &[&str], expected: i32) {
    let dir = generated_dir();
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write");
    let root = env!("CARGO_MANIFEST_DIR");
    let mut args: Vec<String> = args_for(kind, name)
        .into_iter()
        .map(|a| {
            if a.starts_with("tests/bad/") {
                format!("{root}/{a}")
            } else {
                a.to_owned()
            }
        })
        .collect();
    args.extend(extra.iter().map(|a| (*a).to_owned()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run_in(&args, &dir);
    let what = format!("generated {name}");
    assert_sane(kind, &what, &r);
    assert_eq!(r.code, expected, "{what}:\n{}", r.stderr);
    let stderr = r.stderr.replace(root, "<root>");
    // Diagnostics quote the offending line whole, which for these inputs is
    // megabytes long: the snapshot keeps the start of each line and its length.
    let stderr: String = stderr
        .lines()
        .map(|l| {
            if l.chars().count() > 120 {
                let head: String = l.chars().take(120).collect();
                format!("{head}… ({} bytes)\n", l.len())
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    insta::assert_snapshot!(format!("generated__{name}"), stderr, &what);
}

#[test]
fn big_generated_inputs() {
    // A million open brackets: refused without recursing.
    generated(
        "change",
        "deep-million.json",
        "[".repeat(1_000_000).as_bytes(),
        &[],
        1,
    );
    let mut yaml = String::from("id: x\nv: ");
    yaml.push_str(&"[".repeat(100_000));
    generated("change", "deep-100k.yaml", yaml.as_bytes(), &[], 1);
    generated(
        "check",
        "deep-million.gate",
        format!(
            "policy \"p\"\nrule \"r\" {{ when {} }}",
            "(".repeat(1_000_000)
        )
        .as_bytes(),
        &[],
        1,
    );
    generated(
        "check",
        "not-chain.gate",
        format!(
            "policy \"p\"\ndefault deploy\nrule \"r\" {{ when {}change.ok then deploy }}",
            "not ".repeat(200_000)
        )
        .as_bytes(),
        &[],
        1,
    );
    // A string of 1 MiB (the limit is 64 KiB) and a list of 200,000 items (limit 100,000).
    let long = format!("{{\"id\": \"{}\"}}", "x".repeat(1 << 20));
    generated("change", "long-string.json", long.as_bytes(), &[], 1);
    let list = format!("{{\"files\": [{}0]}}", "0,".repeat(200_000));
    generated("change", "long-list.json", list.as_bytes(), &[], 1);
    // 2,000 rules against --max-rules 1000.
    let mut many = String::from("policy \"p\"\n");
    for i in 0..2_000 {
        many.push_str(&format!(
            "rule \"r{i}\" {{ when change.n == {i} then deploy }}\n"
        ));
    }
    many.push_str("default deploy\n");
    generated(
        "check",
        "many-rules.gate",
        many.as_bytes(),
        &["--max-rules", "1000"],
        1,
    );
    // A policy over 16 MiB (the default limit), refused before it is read.
    let big = format!("policy \"p\"\ndefault deploy\n{}", "#".repeat(16 << 20));
    generated("check", "huge.gate", big.as_bytes(), &[], 1);
    // An inventory over --max-input-bytes.
    let inv = format!(
        "{{\"devices\": {{\"r1\": {{\"note\": \"{}\"}}}}}}",
        "n".repeat(5_000)
    );
    generated(
        "inventory",
        "big-inventory.json",
        inv.as_bytes(),
        &["--max-input-bytes", "4096"],
        1,
    );
}

/// Files over 256 KiB are parsed in pieces cut at item boundaries, in parallel.
/// Syntax errors in a big file must be found where they are, each once, and a big
/// file that is fine must check, whatever the cuts.
#[test]
fn big_policy_parsed_in_pieces_reports_every_error_once() {
    let mut src = String::from("policy \"big\"\ngroup ops = [\"alice\", \"bob\"]\n");
    let mut line = 3;
    let mut broken = Vec::new();
    for i in 0..6_000 {
        if i % 997 == 500 {
            // A rule with a broken condition, spread over lines like real ones.
            src.push_str(&format!(
                "rule \"r{i}\" {{\n  when change.n == == {i}\n  then deploy\n}}\n"
            ));
            broken.push(line);
        } else {
            src.push_str(&format!(
                "rule \"r{i}\" {{\n  when change.n == {i}\n  then approve 1 from ops\n}}\n"
            ));
        }
        line += 4;
    }
    src.push_str("default approve 1 from ops\n");
    assert!(src.len() > 256 << 10, "big enough to be cut: {}", src.len());

    let err = changegate::Policy::parse(&src, "big.gate").expect_err("broken rules");
    let mut lines: Vec<usize> = err
        .iter()
        .filter(|d| d.is_error())
        .map(|d| d.line_col().0)
        .collect();
    lines.sort_unstable();
    let mut expected: Vec<usize> = broken.iter().map(|l| l + 1).collect();
    expected.sort_unstable();
    assert_eq!(lines, expected, "{}", err.render_plain());

    let fixed = src.replace("== ==", "==");
    let policy = changegate::Policy::parse(&fixed, "big.gate").expect("the fixed file checks");
    assert_eq!(policy.rule_names().count(), 6_000);
}
