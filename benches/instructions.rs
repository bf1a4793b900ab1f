//! Fixed-work evaluation runs, for counting instructions: unlike criterion's timed
//! loops, every run does exactly the same work, so `valgrind --tool=callgrind`
//! gives the same count whatever else the machine is doing (see docs/performance.md).
//!
//! `cargo bench --bench instructions` prints the wall time per evaluation of each
//! case; `cargo bench --bench instructions -- CASE` runs one (`w1000`, `firewall`,
//! `lists1000`; `decide1000` is `w1000` through `Policy::decide`; `compile1000` and
//! `compile10000` compile W(N) from its text). To
//! count instructions spent in evaluation (or compiling) alone:
//!
//! ```sh
//! cargo bench --bench instructions --no-run
//! valgrind --tool=callgrind --toggle-collect='*evaluate_once*' \
//!     target/release/deps/instructions-<hash> firewall
//! valgrind --tool=callgrind --toggle-collect='*compile_once*' \
//!     target/release/deps/instructions-<hash> compile10000
//! ```

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

#[path = "common/growing.rs"]
mod growing;

#[path = "compare/src/workload.rs"]
#[allow(dead_code, unused_imports, unreachable_pub, clippy::all)]
mod workload;

use std::hint::black_box;
use std::time::Instant;

use changegate::{Change, Inventory, Policy};

const CASES: [&str; 6] = [
    "w1000",
    "decide1000",
    "firewall",
    "lists1000",
    "compile1000",
    "compile10000",
];

fn main() {
    let chosen: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    for case in CASES {
        if chosen.is_empty() || chosen.iter().any(|c| c == case) {
            let (runs, elapsed) = run(case);
            let per = elapsed.as_secs_f64() * 1e6 / runs as f64;
            println!("{case:<12} {runs:>6} runs  {per:>10.2} µs each");
        }
    }
}

/// One evaluation, never inlined, so that callgrind can count exactly its
/// instructions (`--toggle-collect`); the verdict is dropped inside.
#[inline(never)]
fn evaluate_once(
    policy: &Policy,
    change: &Change,
    inventory: &Inventory,
    at: chrono::DateTime<chrono::Utc>,
) {
    black_box(policy.evaluate(black_box(change), inventory, at));
}

/// One decision alone ([`Policy::decide`]), never inlined (see [`evaluate_once`]).
#[inline(never)]
fn decide_once(
    policy: &Policy,
    change: &Change,
    inventory: &Inventory,
    at: chrono::DateTime<chrono::Utc>,
) {
    black_box(policy.decide(black_box(change), inventory, at));
}

/// One compile of a policy's text, never inlined (see [`evaluate_once`]).
#[inline(never)]
fn compile_once(text: &str) {
    black_box(Policy::parse(black_box(text), "w.gate").unwrap());
}

/// Evaluates one case a fixed number of times; returns the count and the time taken.
fn run(case: &str) -> (usize, std::time::Duration) {
    let at = "2026-11-26T10:00:00Z".parse().unwrap();
    let none = Inventory::empty();
    match case {
        "compile1000" | "compile10000" => {
            let n = if case == "compile1000" { 1000 } else { 10000 };
            let text = workload::gate(&workload::Workload::new(n).rules);
            let runs = if n == 1000 { 20 } else { 5 };
            let start = Instant::now();
            for _ in 0..runs {
                compile_once(&text);
            }
            (runs, start.elapsed())
        }
        "w1000" | "decide1000" => {
            let w = workload::Workload::new(1000);
            let policy = Policy::parse(&workload::gate(&w.rules), "w.gate").unwrap();
            let changes: Vec<Change> = w
                .requests
                .iter()
                .map(|r| {
                    Change::from_json(serde_json::from_str(&workload::request_json(r)).unwrap())
                        .unwrap()
                })
                .collect();
            let runs = 20_000;
            let start = Instant::now();
            for i in 0..runs {
                let change = &changes[i % changes.len()];
                if case == "w1000" {
                    evaluate_once(&policy, change, &none, at);
                } else {
                    decide_once(&policy, change, &none, at);
                }
            }
            (runs, start.elapsed())
        }
        "firewall" => {
            let policy = Policy::from_file("policies/netops.gate").unwrap();
            let inventory = Inventory::from_file("policies/netops.inventory.json").unwrap();
            let text = std::fs::read_to_string("policies/changes/firewall-acl.json").unwrap();
            let change = Change::from_json(serde_json::from_str(&text).unwrap()).unwrap();
            let runs = 20_000;
            let start = Instant::now();
            for _ in 0..runs {
                evaluate_once(&policy, &change, &inventory, at);
            }
            (runs, start.elapsed())
        }
        _ => {
            let policy = growing::policy();
            let change = growing::change(1000);
            let runs = 1_000;
            let start = Instant::now();
            for _ in 0..runs {
                evaluate_once(&policy, &change, &none, at);
            }
            (runs, start.elapsed())
        }
    }
}
