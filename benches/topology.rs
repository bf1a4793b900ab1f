//! Inventory load and blast-radius times for 1k, 10k and 100k devices across 500
//! sites.
//!
//! The generated network is a ten-way tree (each device depends on its parent and,
//! for every third device, on its parent's next sibling too), so the devices below a
//! first-level device number about a tenth of the whole: 11k of 100k.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::time::Duration;

use changegate::input::Format;
use changegate::topology::Inventory;
use changegate::Limits;
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use serde_json::{json, Map, Value};

const SITES: usize = 500;
const ZONES: [&str; 5] = [
    "America/New_York",
    "Europe/London",
    "Asia/Kolkata",
    "Australia/Sydney",
    "UTC",
];

fn name(i: usize) -> String {
    format!("dev-{i:06}")
}

/// A deterministic inventory of `n` devices, as JSON text.
fn inventory_json(n: usize) -> String {
    let sites: Map<String, Value> = (0..SITES)
        .map(|s| {
            (
                format!("site-{s:03}"),
                json!({ "timezone": ZONES[s % ZONES.len()] }),
            )
        })
        .collect();
    let devices: Map<String, Value> = (0..n)
        .map(|i| {
            let mut depends = Vec::new();
            if i > 0 {
                let parent = (i - 1) / 10;
                depends.push(name(parent));
                // The parent's next sibling, when it has one in the same family.
                if i % 3 == 0 && parent >= 1 && parent % 10 != 0 {
                    depends.push(name(parent + 1));
                }
            }
            let role = match i {
                0..=10 => "core",
                11..=110 => "distribution",
                111..=1110 => "aggregation",
                _ => "access",
            };
            let device = json!({
                "site": format!("site-{:03}", i % SITES),
                "role": role,
                "depends_on": depends,
                "customers": (i % 50) as i64,
            });
            (name(i), device)
        })
        .collect();
    json!({ "sites": sites, "devices": devices }).to_string()
}

/// Parses once, so that a bench never measures an error path.
fn check(text: &str, format: Format) {
    if let Err(e) = Inventory::parse(text, format, "bench", &limits()) {
        panic!("{:?}", miette::Report::new(e));
    }
}

fn limits() -> Limits {
    Limits {
        max_input_bytes: 64 * 1024 * 1024,
        ..Limits::default()
    }
}

fn load(c: &mut Criterion) {
    let mut group = c.benchmark_group("load");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    for n in [1_000, 10_000, 100_000] {
        let json = inventory_json(n);
        check(&json, Format::Json);
        group.throughput(Throughput::Bytes(json.len() as u64));
        group.bench_with_input(BenchmarkId::new("json", n), &json, |b, text| {
            b.iter(|| Inventory::parse(black_box(text), Format::Json, "bench", &limits()))
        });
        if n == 10_000 {
            // The same inventory as YAML and TOML, to compare the parsers.
            let value: Value = serde_json::from_str(&json).unwrap_or(Value::Null);
            let yaml = serde_saphyr::to_string(&value).unwrap_or_default();
            check(&yaml, Format::Yaml);
            group.throughput(Throughput::Bytes(yaml.len() as u64));
            group.bench_with_input(BenchmarkId::new("yaml", n), &yaml, |b, text| {
                b.iter(|| Inventory::parse(black_box(text), Format::Yaml, "bench", &limits()))
            });
            let toml = toml::to_string(&value).unwrap_or_default();
            check(&toml, Format::Toml);
            group.throughput(Throughput::Bytes(toml.len() as u64));
            group.bench_with_input(BenchmarkId::new("toml", n), &toml, |b, text| {
                b.iter(|| Inventory::parse(black_box(text), Format::Toml, "bench", &limits()))
            });
        }
    }
    group.finish();
}

fn blast(c: &mut Criterion) {
    let mut group = c.benchmark_group("blast");
    group
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for n in [1_000, 10_000, 100_000] {
        let inventory = match Inventory::parse(&inventory_json(n), Format::Json, "bench", &limits())
        {
            Ok(inventory) => inventory,
            Err(e) => panic!("{:?}", miette::Report::new(e)),
        };
        // A first-level device: about a tenth of the network below it.
        let wide = name(1);
        let size = inventory.blast(&[&wide]).map_or(0, |b| b.devices.len());
        eprintln!("blast of {wide} in {n} devices: {size} devices");
        group.bench_with_input(BenchmarkId::new("tenth", n), &wide, |b, target| {
            b.iter(|| inventory.blast(black_box(&[target.as_str()])))
        });
        // A leaf: the radius is the target alone.
        let leaf = name(n - 1);
        group.bench_with_input(BenchmarkId::new("leaf", n), &leaf, |b, target| {
            b.iter(|| inventory.blast(black_box(&[target.as_str()])))
        });
    }
    group.finish();
}

criterion_group!(benches, load, blast);
criterion_main!(benches);
