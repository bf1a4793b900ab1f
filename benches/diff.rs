//! `changegate diff` over a large decision log: prints its figures.
//!
//! Writes a decision log of N records (the `--record` line format: the record's
//! fields, the change, the whole verdict; each line chained to the one before by its
//! SHA-256) to a temporary file, then times the real `changegate diff` process over
//! it, `policies/netops.gate` against a variant with one more rule and a narrower
//! weeknight window, with the peak RSS from `/usr/bin/time` when it is there. Runs
//! 100,000 and 1,000,000 records (`CHANGEGATE_BENCH_N` overrides the larger), so the
//! two peak RSS figures show whether memory grows with the history.
//!
//! `cargo bench --bench diff`

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use changegate::{Change, Inventory, Policy};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The template changes: every rule of netops.gate is reached by one of them.
fn templates() -> Vec<Value> {
    let base = |kind: &str, targets: &[&str], files: &[&str], approvals: &[&str]| {
        json!({
            "kind": kind, "author": "mallory", "targets": targets, "labels": [],
            "files": files, "rollback_plan": true, "approvals": approvals,
            "duration": "30m", "revision": "abc123"
        })
    };
    let mut emergency = base("config", &["acc-fra-1"], &["configs/x.conf"], &["alice"]);
    emergency["labels"] = json!(["emergency"]);
    let mut no_rollback = base("bgp", &["edge-nyc-1"], &["routing/x.conf"], &[]);
    no_rollback["rollback_plan"] = json!(false);
    vec![
        base(
            "firewall",
            &["fw-nyc-1"],
            &["firewall/acl-edge.conf"],
            &["dave", "erin", "frank"],
        ),
        base(
            "firewall",
            &["fw-nyc-1"],
            &["firewall/acl-edge.conf"],
            &["dave"],
        ),
        base("docs", &[], &["docs/readme.md"], &[]),
        base(
            "config",
            &["acc-fra-1"],
            &["configs/access.conf"],
            &["alice"],
        ),
        base(
            "routing",
            &["edge-nyc-1"],
            &["routing/bgp.conf"],
            &["bob", "frank"],
        ),
        base("bulk", &["acc-fra-1"], &["configs/bulk.csv"], &["bob"]),
        base(
            "migration",
            &["acc-fra-1"],
            &["storage/plan.md"],
            &["frank", "bob"],
        ),
        emergency,
        no_rollback,
    ]
}

/// Writes `n` chained decision records to `path`.
fn write_log(path: &Path, n: usize) -> u64 {
    let policy = Policy::from_file(root().join("policies/netops.gate")).unwrap();
    let inventory = Inventory::from_file(root().join("policies/netops.inventory.json")).unwrap();
    let templates = templates();
    let file = std::fs::File::create(path).unwrap();
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    // A year of changes, one every ~31 seconds, cycling through the templates; the
    // verdict of each (template, hour of the week) is computed once.
    let start = 1_764_547_200i64; // 2025-12-01T00:00:00Z
    let mut verdicts: std::collections::HashMap<(usize, i64), Value> = Default::default();
    let mut prev: Option<String> = None;
    let mut bytes = 0u64;
    for i in 0..n {
        let t = start + (i as i64) * 31_536_000 / n as i64;
        let k = i % templates.len();
        let mut change = templates[k].clone();
        change["id"] = json!(format!("CHG-{i}"));
        let at = chrono::DateTime::from_timestamp(t, 0).unwrap();
        let hour = t / 3600;
        let verdict = verdicts
            .entry((k, hour))
            .or_insert_with(|| {
                let c = Change::from_json(change.clone()).unwrap();
                serde_json::to_value(policy.evaluate(&c, &inventory, at)).unwrap()
            })
            .clone();
        let at_text = at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
        let record = json!({
            "record": 1,
            "prev": prev,
            "decision_id": format!("{:016x}", i as u64 * 0x9e37_79b9_7f4a_7c15),
            "changegate": "0.1.0",
            "zone_data": "2025b",
            "at": at_text,
            "inputs": { "policy": { "policies/netops.gate": policy.sha256() },
                        "change": format!("{:064x}", i), "inventory": "0" },
            "change": change,
            "inventory": "policies/netops.inventory.json",
            "verdict": verdict,
        });
        let line = record.to_string();
        prev = Some(
            Sha256::digest(line.as_bytes())
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect(),
        );
        out.write_all(line.as_bytes()).unwrap();
        out.write_all(b"\n").unwrap();
        bytes += line.len() as u64 + 1;
        if verdicts.len() > 100_000 {
            verdicts.clear();
        }
    }
    out.flush().unwrap();
    bytes
}

fn variant(dir: &Path) -> PathBuf {
    let text = std::fs::read_to_string(root().join("policies/netops.gate"))
        .unwrap()
        .replace("mon..thu 22:00-04:00", "mon..thu 23:00-04:00")
        + "\nrule \"bulk pushes need the CAB\" {\n  when change.kind == \"bulk\"\n  then approve 1 from cab\n}\n";
    let path = dir.join("netops-variant.gate");
    std::fs::write(&path, text).unwrap();
    path
}

fn run(log: &Path, new: &Path, records: usize, bytes: u64) {
    let bin = env!("CARGO_BIN_EXE_changegate");
    let time = Path::new("/usr/bin/time");
    let mut cmd = if time.exists() {
        let mut c = Command::new(time);
        c.arg("-v").arg(bin);
        c
    } else {
        Command::new(bin)
    };
    cmd.current_dir(root()).args([
        "diff",
        "policies/netops.gate",
        new.to_str().unwrap(),
        "--history",
        log.to_str().unwrap(),
        "-i",
        "policies/netops.inventory.json",
        "--format",
        "markdown",
    ]);
    let started = Instant::now();
    let out = cmd.output().unwrap();
    let secs = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(3), "{stderr}\n{stdout}");
    let rss = stderr
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .map(|kb| format!("{:.1} MB", kb.trim().parse::<f64>().unwrap_or(0.0) / 1024.0))
        .unwrap_or_else(|| "(no /usr/bin/time)".into());
    let summary = stdout.lines().next().unwrap_or("");
    println!(
        "diff of {records} records ({:.0} MB of log): {secs:.2} s wall, {:.2} µs per record, peak RSS {rss}",
        bytes as f64 / 1e6,
        secs * 1e6 / records as f64
    );
    println!("  {summary}");
    let counts: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("| ") && l.contains(" → ") && !l.contains("CHG-"))
        .collect();
    for c in counts {
        println!("  {c}");
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` passes nothing useful.
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let big: usize = std::env::var("CHANGEGATE_BENCH_N")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::env::temp_dir().join(format!("changegate-bench-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let new = variant(&dir);
    for n in [big / 10, big] {
        let log = dir.join(format!("log-{n}.jsonl"));
        let started = Instant::now();
        let bytes = write_log(&log, n);
        println!(
            "wrote {n} records in {:.1} s",
            started.elapsed().as_secs_f64()
        );
        run(&log, &new, n, bytes);
        let _ = std::fs::remove_file(&log);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
