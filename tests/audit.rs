//! Decision records and the audit log: `evaluate --record`, `audit verify`,
//! `audit replay`, with the real binary (and the library functions behind them).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::common::{temp_path, text, BIN};

/// A temporary folder holding a copy of `policies/`, removed when dropped.
struct Temp(PathBuf);

impl Temp {
    fn new() -> Temp {
        let dir = temp_path("audit");
        let _ = std::fs::remove_dir_all(&dir);
        copy_dir(Path::new("policies"), &dir.join("policies"));
        Temp(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    /// Runs changegate in the folder.
    fn run(&self, args: &[&str]) -> Output {
        Command::new(BIN)
            .args(args)
            .current_dir(&self.0)
            .output()
            .expect("run changegate")
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

fn sha256(b: &[u8]) -> String {
    format!("{:x}", Sha256::digest(b))
}

const STARTER: &str = "policies/starter.gate";
const AT: &str = "2026-11-26T10:00:00Z";

/// A few changes for the starter policy, one JSON per line.
fn starter_changes(n: usize, tag: &str) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{}\n",
                json!({"id": format!("CHG-{tag}-{i}"), "author": "alice", "files": [format!("src/{i}.rs")],
                       "risk": i % 5, "approvals": ["bob", "carol"]})
            )
        })
        .collect()
}

/// A log of `n` records made by the binary (batch mode).
fn log_of(t: &Temp, n: usize) -> PathBuf {
    std::fs::write(t.path("changes.jsonl"), starter_changes(n, "A")).unwrap();
    let out = t.run(&[
        "evaluate",
        "-p",
        STARTER,
        "-c",
        "changes.jsonl",
        "--at",
        AT,
        "--format",
        "json",
        "--record",
        "log.jsonl",
    ]);
    assert!(
        out.status.code().is_some_and(|c| c != 1),
        "{}",
        text(&out.stderr)
    );
    // Each verdict printed is the one recorded, with its id and digests.
    let log = std::fs::read(t.path("log.jsonl")).unwrap();
    let printed: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(printed.len(), n);
    for (v, l) in printed.iter().zip(lines(&log)) {
        let r: Value = serde_json::from_slice(&l).unwrap();
        assert_eq!(&r["verdict"], v);
        assert_eq!(v["decision_id"].as_str().map(str::len), Some(64));
        assert!(v["inputs"]["policy"]["starter.gate"].is_string(), "{v}");
    }
    t.path("log.jsonl")
}

fn verify_bytes(bytes: &[u8], anchor: Option<&str>) -> Result<u64, (u64, String)> {
    changegate::record::verify(bytes, anchor)
        .map(|v| v.records)
        .map_err(|b| (b.line, b.problem))
}

fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

#[test]
fn a_record_is_the_verdict_with_its_digests_and_the_change() {
    let t = Temp::new();
    let out = t.run(&[
        "evaluate",
        "-p",
        "policies/netops.gate",
        "-i",
        "policies/netops.inventory.json",
        "-c",
        "policies/changes/firewall-acl.json",
        "--at",
        AT,
        "--format",
        "json",
        "--record",
        "log.jsonl",
    ]);
    assert_eq!(out.status.code(), Some(10), "{}", text(&out.stderr));
    let verdict: Value = serde_json::from_slice(&out.stdout).unwrap();
    let log = std::fs::read(t.path("log.jsonl")).unwrap();
    assert!(log.ends_with(b"\n") && lines(&log).len() == 1);
    let record: serde_json::Map<String, Value> = serde_json::from_slice(&log).unwrap();
    let keys: Vec<&str> = record.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "record",
            "prev",
            "decision_id",
            "changegate",
            "zone_data",
            "at",
            "inputs",
            "change",
            "inventory",
            "verdict"
        ]
    );
    assert_eq!(record["record"], 1);
    assert_eq!(record["prev"], Value::Null);
    assert_eq!(
        record["verdict"], verdict,
        "the record holds the verdict printed"
    );
    assert_eq!(record["decision_id"], verdict["decision_id"]);
    assert_eq!(verdict["changegate"], env!("CARGO_PKG_VERSION"));
    assert_eq!(record["zone_data"], chrono_tz::IANA_TZDB_VERSION);
    assert_eq!(record["inventory"], "policies/netops.inventory.json");
    assert_eq!(record["change"]["id"], "CHG-1042");
    // Each digest is reproducible with sha256sum.
    let inputs = &verdict["inputs"];
    assert_eq!(
        inputs["policy"],
        json!({"netops.gate": sha256(&std::fs::read("policies/netops.gate").unwrap())})
    );
    assert_eq!(
        inputs["inventory"],
        sha256(&std::fs::read("policies/netops.inventory.json").unwrap())
    );
    assert_eq!(
        inputs["change"],
        sha256(serde_json::to_string(&record["change"]).unwrap().as_bytes())
    );
    let manifest = format!(
        "{}  netops.gate\n",
        inputs["policy"]["netops.gate"].as_str().unwrap()
    );
    assert_eq!(verdict["policy"]["sha256"], sha256(manifest.as_bytes()));
    // The same inputs give the same bytes, decision id included.
    let again = t.run(&[
        "evaluate",
        "-p",
        "policies/netops.gate",
        "-i",
        "policies/netops.inventory.json",
        "-c",
        "policies/changes/firewall-acl.json",
        "--at",
        AT,
        "--format",
        "json",
    ]);
    assert_eq!(again.stdout, out.stdout);
    // Another instant is another decision.
    let later = t.run(&[
        "evaluate",
        "-p",
        "policies/netops.gate",
        "-i",
        "policies/netops.inventory.json",
        "-c",
        "policies/changes/firewall-acl.json",
        "--at",
        "2026-11-26T10:00:01Z",
        "--format",
        "json",
    ]);
    let later: Value = serde_json::from_slice(&later.stdout).unwrap();
    assert_ne!(later["decision_id"], verdict["decision_id"]);
}

#[test]
fn batch_mode_records_one_chained_line_per_verdict() {
    let t = Temp::new();
    let log = log_of(&t, 5);
    let bytes = std::fs::read(&log).unwrap();
    let ls = lines(&bytes);
    assert_eq!(ls.len(), 5);
    for (i, l) in ls.iter().enumerate() {
        let r: Value = serde_json::from_slice(l).unwrap();
        assert_eq!(r["record"], i + 1);
        let prev = if i == 0 {
            Value::Null
        } else {
            Value::from(sha256(ls[i - 1].strip_suffix(b"\n").unwrap()))
        };
        assert_eq!(r["prev"], prev);
        assert_eq!(r["verdict"]["change"], format!("CHG-A-{i}"));
    }
    let out = t.run(&["audit", "verify", "log.jsonl"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout).trim(),
        sha256(ls[4].strip_suffix(b"\n").unwrap()),
        "verify prints the head hash"
    );
    assert!(text(&out.stderr).contains("5 records"));
}

#[test]
fn editing_any_byte_of_a_record_fails_at_its_line() {
    let t = Temp::new();
    let bytes = std::fs::read(log_of(&t, 4)).unwrap();
    assert_eq!(verify_bytes(&bytes, None), Ok(4));
    let ls = lines(&bytes);
    let mut checked = 0;
    for target in [0usize, 1, 3] {
        let start: usize = ls[..target].iter().map(Vec::len).sum();
        for i in 0..ls[target].len() - 1 {
            let mut edited = bytes.clone();
            edited[start + i] = if edited[start + i] == b'0' {
                b'1'
            } else {
                b'0'
            };
            match verify_bytes(&edited, None) {
                Err((line, _)) => assert_eq!(
                    line,
                    target as u64 + 1,
                    "byte {i} of line {}: {}",
                    target + 1,
                    text(&edited[start..start + ls[target].len()])
                ),
                Ok(_) => panic!(
                    "editing byte {i} of line {} went unnoticed: {}",
                    target + 1,
                    text(&edited[start..start + ls[target].len()])
                ),
            }
            checked += 1;
        }
    }
    assert!(checked > 1000, "only {checked} edits tried");
    // The CLI names the file, the line and the record.
    let mut edited = bytes.clone();
    let at = ls[0].len() + 40;
    edited[at] = b'X';
    std::fs::write(t.path("edited.jsonl"), &edited).unwrap();
    let out = t.run(&["audit", "verify", "edited.jsonl"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(err.contains("edited.jsonl:2: line 2 (record 2)"), "{err}");
}

#[test]
fn a_removed_record_fails_at_its_line() {
    let t = Temp::new();
    let bytes = std::fs::read(log_of(&t, 4)).unwrap();
    let ls = lines(&bytes);
    for removed in 0..3 {
        let mut kept = ls.clone();
        kept.remove(removed);
        let (line, why) = verify_bytes(&kept.concat(), None).unwrap_err();
        assert_eq!(line, removed as u64 + 1, "{why}");
        assert!(why.contains("removed"), "{why}");
    }
    // Removing the last record leaves a shorter, valid chain: only the anchored head
    // (kept elsewhere) shows that records are missing.
    let head = sha256(ls[3].strip_suffix(b"\n").unwrap());
    let shorter = ls[..3].concat();
    assert_eq!(verify_bytes(&shorter, None), Ok(3));
    let (line, why) = verify_bytes(&shorter, Some(&head)).unwrap_err();
    assert_eq!(line, 3, "{why}");
    assert!(why.contains("anchored head"), "{why}");
    assert_eq!(verify_bytes(&bytes, Some(&head)), Ok(4));
    // An older anchor is still in a log that has grown since.
    let older = sha256(ls[1].strip_suffix(b"\n").unwrap());
    assert_eq!(
        changegate::record::verify(bytes.as_slice(), Some(&older))
            .unwrap()
            .anchor,
        Some(2)
    );
    std::fs::write(t.path("short.jsonl"), &shorter).unwrap();
    let out = t.run(&["audit", "verify", "short.jsonl", "--head", &head]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("short.jsonl:3"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn swapped_records_fail_at_the_first_of_them() {
    let t = Temp::new();
    let bytes = std::fs::read(log_of(&t, 4)).unwrap();
    let mut ls = lines(&bytes);
    ls.swap(1, 2);
    let (line, why) = verify_bytes(&ls.concat(), None).unwrap_err();
    assert_eq!(line, 2, "{why}");
    assert!(why.contains("reordered"), "{why}");
}

#[test]
fn an_inserted_record_fails_at_its_line() {
    let t = Temp::new();
    let bytes = std::fs::read(log_of(&t, 4)).unwrap();
    let mut ls = lines(&bytes);
    let copy = ls[1].clone();
    ls.insert(3, copy);
    let (line, why) = verify_bytes(&ls.concat(), None).unwrap_err();
    assert_eq!(line, 4, "{why}");
    assert!(why.contains("inserted"), "{why}");
}

#[test]
fn a_truncated_log_fails_at_its_last_line_and_takes_no_more_records() {
    let t = Temp::new();
    let log = log_of(&t, 3);
    let bytes = std::fs::read(&log).unwrap();
    let ls = lines(&bytes);
    for cut in [1, 2, ls[2].len() / 2, ls[2].len() - 1] {
        let truncated = &bytes[..bytes.len() - cut];
        let (line, why) = verify_bytes(truncated, None).unwrap_err();
        assert_eq!(line, 3, "cut {cut}: {why}");
    }
    let (line, why) = verify_bytes(&bytes[..bytes.len() - 1], None).unwrap_err();
    assert_eq!(line, 3);
    assert!(why.contains("incomplete"), "{why}");
    // Appending to it is refused, and the log is left as it was.
    let truncated = bytes[..bytes.len() - 10].to_vec();
    std::fs::write(&log, &truncated).unwrap();
    let out = t.run(&[
        "evaluate",
        "-p",
        STARTER,
        "-c",
        "policies/changes/docs-typo.yaml",
        "--at",
        AT,
        "--record",
        "log.jsonl",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("incomplete") && err.contains("log.jsonl"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "no verdict without its record");
    assert_eq!(std::fs::read(&log).unwrap(), truncated);
}

#[test]
fn two_processes_appending_at_once_keep_one_chain() {
    let t = Temp::new();
    const EACH: usize = 60;
    std::fs::write(t.path("a.jsonl"), starter_changes(EACH, "A")).unwrap();
    std::fs::write(t.path("b.jsonl"), starter_changes(EACH, "B")).unwrap();
    let spawn = |batch: &str| {
        Command::new(BIN)
            .args([
                "evaluate",
                "-p",
                STARTER,
                "-c",
                batch,
                "--at",
                AT,
                "--format",
                "json",
                "--record",
                "log.jsonl",
            ])
            .current_dir(&t.0)
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let mut a = spawn("a.jsonl");
    let mut b = spawn("b.jsonl");
    assert_ne!(a.wait().unwrap().code(), Some(1));
    assert_ne!(b.wait().unwrap().code(), Some(1));
    let bytes = std::fs::read(t.path("log.jsonl")).unwrap();
    assert_eq!(verify_bytes(&bytes, None), Ok(2 * EACH as u64));
    let ids: std::collections::BTreeSet<String> = lines(&bytes)
        .iter()
        .map(|l| {
            let r: Value = serde_json::from_slice(l).unwrap();
            r["verdict"]["change"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 2 * EACH, "every verdict recorded once");
}

/// Every case of the example policies' test files, as (policy, inventory, at, change).
fn example_cases() -> Vec<(String, Option<String>, String, Value)> {
    let mut out = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir("policies")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".test.yaml"))
        .collect();
    files.sort();
    for file in files {
        let spec = changegate::input::read_file(&file, &changegate::Limits::default())
            .unwrap()
            .to_json();
        let stem = file
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".test.yaml", "");
        let policy = match spec.get("policy").and_then(Value::as_str) {
            Some(p) => format!("policies/{p}"),
            None => format!("policies/{stem}.gate"),
        };
        let file_inventory = spec.get("inventory").and_then(Value::as_str);
        for case in spec["cases"].as_array().unwrap() {
            let change = match &case["change"] {
                Value::String(path) => changegate::input::read_file(
                    &Path::new("policies").join(path),
                    &changegate::Limits::default(),
                )
                .unwrap()
                .to_json(),
                inline => inline.clone(),
            };
            let inventory = case
                .get("inventory")
                .and_then(Value::as_str)
                .or(file_inventory)
                .map(|i| format!("policies/{i}"));
            out.push((
                policy.clone(),
                inventory,
                case["at"].as_str().unwrap().to_owned(),
                change,
            ));
        }
    }
    out
}

fn record_case(t: &Temp, n: usize, case: &(String, Option<String>, String, Value)) {
    let (policy, inventory, at, change) = case;
    let name = format!("change-{n}.json");
    std::fs::write(t.path(&name), change.to_string()).unwrap();
    let mut args = vec![
        "evaluate",
        "-p",
        policy,
        "-c",
        &name,
        "--at",
        at,
        "--record",
        "log.jsonl",
    ];
    if let Some(i) = inventory {
        args.extend(["-i", i]);
    }
    let out = t.run(&args);
    assert_ne!(
        out.status.code(),
        Some(1),
        "{policy} {at}: {}",
        text(&out.stderr)
    );
}

fn replay_args() -> Vec<String> {
    let mut args: Vec<String> = ["audit", "replay", "log.jsonl", "--format", "json"]
        .map(String::from)
        .to_vec();
    for p in ["campus", "netops", "security", "starter", "wan"] {
        args.extend(["-p".into(), format!("policies/{p}.gate")]);
    }
    for i in [
        "campus.inventory.yaml",
        "netops.inventory.json",
        "wan.inventory.json",
    ] {
        args.extend(["-i".into(), format!("policies/{i}")]);
    }
    args
}

#[test]
fn replay_reproduces_the_example_cases_and_flags_an_edited_policy() {
    let t = Temp::new();
    let cases = example_cases();
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    for (n, case) in cases.iter().enumerate() {
        record_case(&t, n, case);
    }
    let args = replay_args();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = t.run(&args);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", text(&out.stdout), text(&out.stderr)));
    assert_eq!(out.status.code(), Some(0), "{report:#}");
    assert_eq!(report["records"], cases.len());
    assert_eq!(report["reproduced"], cases.len());

    // A record made under an edited starter policy (two reviewers became three), then
    // the policy put back: replay flags that record, with the digest and the fields.
    let original = std::fs::read_to_string(t.path(STARTER)).unwrap();
    assert!(original.contains("approve 2 from team"));
    std::fs::write(
        t.path(STARTER),
        original.replace("approve 2 from team", "approve 3 from team"),
    )
    .unwrap();
    let risky = (
        STARTER.to_owned(),
        None,
        "2026-11-26T10:00:00Z".to_owned(),
        json!({"id": "CHG-EDITED", "author": "alice", "risk": 4, "files": ["src/x.rs"], "approvals": ["bob", "carol"]}),
    );
    record_case(&t, 999, &risky);
    std::fs::write(t.path(STARTER), &original).unwrap();
    let out = t.run(&args);
    assert_eq!(out.status.code(), Some(1));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let failed = report["failed"].as_array().unwrap();
    assert_eq!(failed.len(), 1, "{report:#}");
    let f = &failed[0];
    assert_eq!(f["record"], cases.len() + 1);
    assert_eq!(f["change"], "CHG-EDITED");
    assert!(
        f["digests"][0]
            .as_str()
            .unwrap()
            .starts_with("policy file `starter.gate`: recorded"),
        "{f:#}"
    );
    let fields: Vec<&str> = f["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["field"].as_str().unwrap())
        .collect();
    assert!(fields.contains(&"approvals[0].required"), "{fields:?}");
    assert!(fields.contains(&"decision"), "{fields:?}");
    // In words too.
    let text_out = t.run(
        &args[..args.len()]
            .iter()
            .filter(|a| **a != "--format" && **a != "json")
            .copied()
            .collect::<Vec<_>>(),
    );
    let words = text(&text_out.stdout);
    assert!(words.contains("record "), "{words}");
    assert!(words.contains("does not reproduce"), "{words}");
    assert!(
        words.contains("approvals[0].required: recorded 3, now 2"),
        "{words}"
    );
}

#[test]
fn replay_without_the_recorded_inventory_or_policy_says_so() {
    let t = Temp::new();
    let out = t.run(&[
        "evaluate",
        "-p",
        "policies/netops.gate",
        "-i",
        "policies/netops.inventory.json",
        "-c",
        "policies/changes/firewall-acl.json",
        "--at",
        AT,
        "--record",
        "log.jsonl",
    ]);
    assert_eq!(out.status.code(), Some(10));
    let no_inv = t.run(&["audit", "replay", "log.jsonl", "-p", "policies/netops.gate"]);
    assert_eq!(no_inv.status.code(), Some(1));
    assert!(
        text(&no_inv.stdout).contains("none given (give it with -i)"),
        "{}",
        text(&no_inv.stdout)
    );
    let other = t.run(&["audit", "replay", "log.jsonl", "-p", STARTER]);
    assert_eq!(other.status.code(), Some(1));
    assert!(
        text(&other.stdout).contains("no policy named \"netops-production\""),
        "{}",
        text(&other.stdout)
    );
    let wrong_inv = t.run(&[
        "audit",
        "replay",
        "log.jsonl",
        "-p",
        "policies/netops.gate",
        "-i",
        "policies/wan.inventory.json",
    ]);
    assert_eq!(wrong_inv.status.code(), Some(1));
    assert!(
        text(&wrong_inv.stdout).contains("inventory: recorded"),
        "{}",
        text(&wrong_inv.stdout)
    );
    // A broken log is not replayed.
    let mut bytes = std::fs::read(t.path("log.jsonl")).unwrap();
    bytes[30] ^= 1;
    std::fs::write(t.path("log.jsonl"), bytes).unwrap();
    let broken = t.run(&[
        "audit",
        "replay",
        "log.jsonl",
        "-p",
        "policies/netops.gate",
        "-i",
        "policies/netops.inventory.json",
    ]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(
        text(&broken.stderr).contains("log.jsonl:1"),
        "{}",
        text(&broken.stderr)
    );
}

#[test]
fn records_keep_the_approvals_read_from_reviews() {
    let t = Temp::new();
    let root = std::env::current_dir().unwrap();
    let fixtures = root.join("tests/fixtures/reviews");
    let policy = fixtures.join("policy.gate");
    let change = fixtures.join("change.json");
    let reviews = format!(
        "github:{}",
        fixtures.join("github/two-pages.json").display()
    );
    let out = t.run(&[
        "evaluate",
        "-p",
        policy.to_str().unwrap(),
        "-c",
        change.to_str().unwrap(),
        "--at",
        AT,
        "--reviews",
        &reviews,
        "--record",
        "log.jsonl",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let r: Value = serde_json::from_slice(&std::fs::read(t.path("log.jsonl")).unwrap()).unwrap();
    let by: Vec<&str> = r["change"]["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["by"].as_str().unwrap())
        .collect();
    assert_eq!(
        by,
        ["mallory", "carol", "dave", "erin"],
        "the change as evaluated"
    );
    assert_eq!(r["change"]["approvals"][2]["source"], "github");
    let replay = t.run(&[
        "audit",
        "replay",
        "log.jsonl",
        "-p",
        policy.to_str().unwrap(),
    ]);
    assert_eq!(replay.status.code(), Some(0), "{}", text(&replay.stdout));
}

/// The `sh,run` blocks of `docs/audit.md`, in order.
fn doc_blocks() -> Vec<(usize, String)> {
    let doc = std::fs::read_to_string("docs/audit.md").unwrap();
    let mut out = Vec::new();
    let mut open: Option<(usize, String, String)> = None;
    for (i, line) in doc.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut open {
            None => {
                if trimmed.starts_with("```sh,run") {
                    let indent = line[..line.len() - trimmed.len()].to_owned();
                    open = Some((i + 1, indent, String::new()));
                }
            }
            Some((start, indent, body)) => {
                if trimmed == "```" {
                    out.push((*start, std::mem::take(body)));
                    open = None;
                } else {
                    body.push_str(line.strip_prefix(indent.as_str()).unwrap_or(line));
                    body.push('\n');
                }
            }
        }
    }
    out
}

#[test]
fn the_audit_chapter_commands_run() {
    let t = Temp::new();
    let bin_dir = Path::new(BIN).parent().unwrap();
    let path = format!(
        "{}:{}",
        bin_dir.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let blocks = doc_blocks();
    assert!(blocks.len() >= 5, "only {} sh,run blocks", blocks.len());
    for (line, script) in &blocks {
        let out = Command::new("sh")
            .args(["-eu", "-c", script])
            .env("PATH", &path)
            .current_dir(&t.0)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "docs/audit.md:{line}: {:?}\n{script}\nstdout:\n{}\nstderr:\n{}",
            out.status,
            text(&out.stdout),
            text(&out.stderr)
        );
    }
    // What the chapter says the steps give.
    let head = std::fs::read_to_string(t.path("head.txt")).unwrap();
    let log = std::fs::read(t.path("decisions.jsonl")).unwrap();
    assert_eq!(
        head.trim(),
        sha256(lines(&log)[1].strip_suffix(b"\n").unwrap())
    );
    let replay = std::fs::read_to_string(t.path("replay.txt")).unwrap();
    assert!(
        replay.ends_with("replayed 2 records: 0 reproduce, 2 do not\n"),
        "{replay}"
    );
    let doc = std::fs::read_to_string("docs/audit.md").unwrap();
    for l in replay
        .lines()
        .filter(|l| !l.contains("digest:") && !l.contains("reasons:"))
    {
        assert!(
            doc.contains(l),
            "docs/audit.md does not show the line {l:?}"
        );
    }
}
