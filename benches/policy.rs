//! Benchmarks of the policy pipeline: parse + check, compile at scale, evaluate, and
//! the heap a compiled policy holds. `cargo bench --bench policy`; figures are
//! printed (criterion's report and a heap table), never asserted.

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

use std::alloc::{GlobalAlloc, Layout, System};
use std::hint::black_box;
use std::sync::atomic::{AtomicUsize, Ordering};

use changegate::{Change, Inventory, Policy};
use criterion::{criterion_group, criterion_main, Criterion};

/// Counts live heap bytes and their peak, to report a compiled policy's footprint.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn at() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339("2026-11-26T10:00:00Z")
        .unwrap()
        .to_utc()
}

fn mib(bytes: usize) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The heap a compiled W(N) policy keeps, and the peak while compiling it.
fn heap_table() {
    println!("\ncompiled policy heap (source text excluded)");
    println!(
        "{:>7}  {:>12}  {:>14}",
        "rules", "live MiB", "compile peak MiB"
    );
    for n in [1000, 10000] {
        let text = workload::gate(&workload::rules(n));
        let before = LIVE.load(Ordering::Relaxed);
        PEAK.store(before, Ordering::Relaxed);
        let policy = Policy::parse(&text, "w.gate").unwrap();
        let live = LIVE.load(Ordering::Relaxed) - before;
        let peak = PEAK.load(Ordering::Relaxed) - before;
        // The compiled policy keeps a copy of its source for diagnostics.
        let source = text.len();
        println!(
            "{n:>7}  {:>12.2}  {:>14.2}",
            mib(live.saturating_sub(source)),
            mib(peak)
        );
        drop(black_box(policy));
    }
    println!();
}

fn benches(c: &mut Criterion) {
    heap_table();

    let netops = std::fs::read_to_string("policies/netops.gate").unwrap();
    c.bench_function("parse+check netops.gate", |b| {
        b.iter(|| Policy::parse(black_box(&netops), "netops.gate").unwrap())
    });

    let mut compile = c.benchmark_group("compile W(N)");
    compile.sample_size(10);
    for n in [1000, 10000] {
        let text = workload::gate(&workload::rules(n));
        compile.bench_function(format!("N={n}"), |b| {
            b.iter(|| Policy::parse(black_box(&text), "w.gate").unwrap())
        });
    }
    compile.finish();

    let policy = Policy::from_file("policies/netops.gate").unwrap();
    let inventory = Inventory::from_file("policies/netops.inventory.json").unwrap();
    let change_text = std::fs::read_to_string("policies/changes/firewall-acl.json").unwrap();
    let change = Change::from_json(serde_json::from_str(&change_text).unwrap()).unwrap();
    c.bench_function(
        "evaluate netops firewall change (windows, blast, seats)",
        |b| b.iter(|| policy.evaluate(black_box(&change), &inventory, at())),
    );

    let mut eval = c.benchmark_group("evaluate W(N), 1000 requests round robin");
    for n in [1000, 10000] {
        let w = workload::Workload::new(n);
        let policy = Policy::parse(&workload::gate(&w.rules), "w.gate").unwrap();
        let changes: Vec<Change> = w
            .requests
            .iter()
            .map(|r| {
                Change::from_json(serde_json::from_str(&workload::request_json(r)).unwrap())
                    .unwrap()
            })
            .collect();
        let mut i = 0;
        eval.bench_function(format!("N={n}"), |b| {
            b.iter(|| {
                i = (i + 1) % changes.len();
                policy.evaluate(black_box(&changes[i]), &Inventory::empty(), at())
            })
        });
    }
    eval.finish();

    // Evaluation time grows linearly with the input: the same policy against changes
    // whose lists grow tenfold each step (quantifiers, `in`, `count`, `sum`).
    let growing = growing::policy();
    let mut grow = c.benchmark_group("evaluate with growing lists");
    for len in [10usize, 100, 1000, 10000] {
        let change = growing::change(len);
        grow.bench_function(format!("{len} elements"), |b| {
            b.iter(|| growing.evaluate(black_box(&change), &Inventory::empty(), at()))
        });
    }
    grow.finish();
}

criterion_group!(policy_benches, benches);
criterion_main!(policy_benches);
