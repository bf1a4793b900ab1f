//! The conventions of a command line: `--version`, completions, a man page,
//! `--quiet`, `-` for standard input, batches from standard input, limit flags only
//! where they act, and a directory walker that survives symlink loops and honours
//! `.gitignore`.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::common::{changegate, text, Temp};

const AT: &str = "2026-11-26T10:00:00Z";
const POLICY: &str = "policy \"c\"\n\ngroup ops = [\"alice\", \"bob\"]\n\nrule \"docs\" {\n  when change.kind == \"docs\"\n  then deploy\n}\n\ndefault approve 1 from ops\n";

/// Runs changegate in `dir` with `stdin`; kills it after 30 s (a hang is a failure).
fn run(dir: &Path, args: &[&str], stdin: &str) -> Output {
    let mut child = changegate()
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    let _ = input.write_all(stdin.as_bytes());
    drop(input);
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("changegate {args:?} hangs");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

#[test]
fn version_names_the_commit_and_the_zone_data() {
    let out = run(Path::new("."), &["--version"], "");
    let v = text(&out.stdout);
    let re = regex::Regex::new(
        r"^changegate \d+\.\d+\.\d+ \(commit ([0-9a-f]{12}|unknown), zone data \d{4}[a-z]\)\n$",
    )
    .unwrap();
    assert!(re.is_match(&v), "{v:?}");
}

#[test]
fn completions_and_man_page() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = run(Path::new("."), &["completions", shell], "");
        assert_eq!(out.status.code(), Some(0), "{shell}");
        let script = text(&out.stdout);
        assert!(
            script.contains("evaluate") && script.contains("format"),
            "{shell}: {script}"
        );
    }
    if Command::new("bash").arg("-c").arg("true").status().is_ok() {
        let out = run(Path::new("."), &["completions", "bash"], "");
        let t = Temp::new("conventions");
        let script = t.file("c.bash", &text(&out.stdout));
        let ok = Command::new("bash")
            .arg("-n")
            .arg(&script)
            .status()
            .unwrap();
        assert!(ok.success(), "the bash completion script parses");
    }
    let out = run(Path::new("."), &["man"], "");
    assert_eq!(out.status.code(), Some(0));
    let page = text(&out.stdout);
    assert!(page.contains(".TH changegate 1"), "{page}");
    assert!(
        page.contains(".TH changegate-evaluate 1"),
        "a section per subcommand"
    );
    assert!(page.contains("zone data"), "the version is in the page");
}

#[test]
fn quiet_prints_nothing_and_keeps_the_exit_code() {
    let t = Temp::new("conventions");
    t.file("p.gate", POLICY);
    t.file("c.json", r#"{"id":"C","kind":"code"}"#);
    let out = run(
        &t.0,
        &["-q", "evaluate", "-p", "p.gate", "-c", "c.json", "--at", AT],
        "",
    );
    assert_eq!(out.status.code(), Some(10));
    assert!(out.stdout.is_empty(), "{}", text(&out.stdout));
    let out = run(
        &t.0,
        &[
            "evaluate",
            "--quiet",
            "-p",
            "missing.gate",
            "-c",
            "c.json",
            "--at",
            AT,
        ],
        "",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(!out.stderr.is_empty(), "diagnostics stay on stderr");
}

#[test]
fn dash_reads_standard_input() {
    let t = Temp::new("conventions");
    t.file("p.gate", POLICY);
    t.file("c.json", r#"{"id":"C","kind":"docs"}"#);
    t.file(
        "inv.json",
        r#"{"devices":{"a":{},"b":{"depends_on":["a"]}}}"#,
    );
    let verdict = |args: &[&str], stdin: &str| {
        let mut all = vec!["evaluate", "--at", AT, "--format", "json"];
        all.extend(args);
        run(&t.0, &all, stdin)
    };
    // The policy, the change, the inventory: each can come from stdin.
    let out = verdict(&["-p", "-", "-c", "c.json"], POLICY);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = verdict(&["-p", "p.gate", "-c", "-"], "kind: docs\nid: Y\n");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = verdict(
        &["-p", "p.gate", "-c", "c.json", "-i", "-"],
        "devices: { a: {} }\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    // Only one of them.
    let out = verdict(&["-p", "-", "-c", "-"], POLICY);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("only one of"),
        "{}",
        text(&out.stderr)
    );
    // A policy on stdin cannot import: said clearly.
    let out = verdict(
        &["-p", "-", "-c", "c.json"],
        "policy \"x\"\nimport \"shared.gate\"\ndefault deploy\n",
    );
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("cannot import `shared.gate`") && err.contains("give the policy as a file"),
        "{err}"
    );
    // windows too, one stdin at a time.
    let out = run(
        &t.0,
        &["windows", "-p", "-", "--from", AT, "--days", "1"],
        POLICY,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let out = run(
        &t.0,
        &["windows", "-p", "-", "-i", "-", "--from", AT],
        POLICY,
    );
    assert_eq!(out.status.code(), Some(1));
    // blast, check and fmt.
    let out = run(
        &t.0,
        &["blast", "-i", "-", "a"],
        r#"{"devices":{"a":{},"b":{"depends_on":["a"]}}}"#,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("2 devices"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(run(&t.0, &["check", "-"], POLICY).status.code(), Some(0));
    assert_eq!(
        run(&t.0, &["check", "-"], "policy \"x\"\n").status.code(),
        Some(1)
    );
    let out = run(&t.0, &["fmt", "-"], "policy \"c\"\ndefault   deploy\n");
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(text(&out.stdout), "policy \"c\"\n\ndefault deploy\n");
    let out = run(
        &t.0,
        &["fmt", "--check", "-"],
        "policy \"c\"\ndefault   deploy\n",
    );
    assert_eq!(out.status.code(), Some(1), "a difference");
    assert!(
        text(&out.stdout).contains("+default deploy"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn a_batch_from_standard_input() {
    let t = Temp::new("conventions");
    t.file("p.gate", POLICY);
    let lines = "{\"id\":\"A\",\"kind\":\"docs\"}\n{\"id\":\"B\",\"kind\":\"code\"}\n";
    let out = run(
        &t.0,
        &[
            "evaluate", "--batch", "-p", "p.gate", "-c", "-", "--at", AT, "--format", "json",
        ],
        lines,
    );
    assert_eq!(
        out.status.code(),
        Some(10),
        "the most restrictive: {}",
        text(&out.stderr)
    );
    let verdicts: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(verdicts.len(), 2);
    assert_eq!(verdicts[0]["decision"], "deploy");
    assert_eq!(verdicts[1]["change"], "B");

    // A line longer than the input limit is refused (exit 1) and the next still runs.
    let long = format!(
        "{{\"id\":\"{}\"}}\n{{\"id\":\"C\",\"kind\":\"docs\"}}\n",
        "x".repeat(5000)
    );
    let out = run(
        &t.0,
        &[
            "evaluate",
            "--batch",
            "--max-input-bytes",
            "1000",
            "-p",
            "p.gate",
            "-c",
            "-",
            "--at",
            AT,
            "--format",
            "json",
        ],
        &long,
    );
    assert_eq!(out.status.code(), Some(1));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(
        lines[0]["error"]
            .as_str()
            .unwrap()
            .contains("longer than the limit"),
        "{lines:?}"
    );
    assert_eq!(lines[1]["change"], "C");
}

#[test]
fn limit_flags_only_where_they_act() {
    let help = text(&run(Path::new("."), &["evaluate", "--help"], "").stdout);
    assert!(help.contains("Limits:"), "{help}");
    let limits = &help[help.find("Limits:").unwrap()..];
    for flag in [
        "--max-policy-bytes",
        "--max-depth",
        "--max-rules",
        "--max-string-len",
        "--max-list-len",
        "--max-import-depth",
        "--max-input-bytes",
    ] {
        assert!(limits.contains(flag), "evaluate {flag}");
    }
    // Flags a command does not use are usage errors (exit 2), not silently ignored.
    for (cmd, flag) in [
        ("blast", "--max-policy-bytes"),
        ("fmt", "--max-input-bytes"),
        ("fmt", "--max-import-depth"),
        ("check", "--max-input-bytes"),
    ] {
        let out = run(Path::new("."), &[cmd, flag, "1", "x"], "");
        assert_eq!(
            out.status.code(),
            Some(2),
            "{cmd} {flag}: {}",
            text(&out.stderr)
        );
    }
}

#[cfg(unix)]
#[test]
fn the_walker_survives_symlink_loops_and_honours_gitignore() {
    let t = Temp::new("conventions");
    t.file("p/a/ok.gate", POLICY);
    t.file("p/a/ok.test.yaml", "policy: ok.gate\ncases:\n  - name: docs\n    at: 2026-11-26T10:00:00Z\n    change: { kind: docs }\n    expect: { decision: deploy }\n");
    // Two links back up: walking them naively never ends.
    std::os::unix::fs::symlink("..", t.0.join("p/a/up")).unwrap();
    std::os::unix::fs::symlink("../..", t.0.join("p/a/up2")).unwrap();
    // Ignored by .gitignore: a broken policy and a failing test.
    t.file("p/.gitignore", "scratch/\n");
    t.file("p/scratch/broken.gate", "not a policy");
    t.file(
        "p/scratch/bad.test.yaml",
        "policy: nowhere.gate\ncases: []\n",
    );
    for args in [
        &["fmt", "--check", "p"][..],
        &["check", "p"],
        &["test", "p"],
    ] {
        let out = run(&t.0, args, "");
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
        assert!(
            text(&out.stderr).contains("loop"),
            "{args:?} reports the loop: {}",
            text(&out.stderr)
        );
    }
    let out = run(&t.0, &["test", "p", "--format", "json"], "");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["files"].as_array().unwrap().len(),
        1,
        "one test file, walked once: {v}"
    );
}
