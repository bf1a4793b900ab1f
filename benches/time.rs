//! `earliest` over sets of 1, 3 and 10 windows, 10 windows × 50 site zones, and two
//! searches that find nothing within the horizon.
//!
//! Each iteration answers the same 8 queries (instants spread over 2026, a 45 minute
//! runway), building the streams afresh for each query (sharing one [`Zones`]) as an
//! evaluation does; divide
//! the reported time by 8 for the cost of one query. Before that it prints, for each
//! set, the spread of single queries over a year (DST changes included).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

// The window machinery is private to the library: the bench compiles the library's
// own `src/time` into itself, so it measures the very code an evaluation runs.
#[path = "../src/time/mod.rs"]
#[allow(dead_code, unreachable_pub, unused_imports)]
mod time;

use chrono::Weekday;
use chrono_tz::Tz;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use time::{earliest, Days, End, IntervalStream, Shape, WindowStream, ZonedWindow, Zones};

const RUNWAY: i64 = 45 * 60;
const HORIZON: i64 = 400 * 86_400;

fn wall(days: Days, start: u16, end: u16) -> Shape {
    Shape::Weekly {
        days,
        start,
        end: End::Wall(end),
    }
}

fn elapsed(days: Days, start: u16, secs: i64) -> Shape {
    Shape::Weekly {
        days,
        start,
        end: End::Elapsed(secs),
    }
}

/// Ten windows that are all open on Wednesday to Friday, 00:00-05:00 local time.
fn shapes() -> Vec<Shape> {
    use Weekday::*;
    let h = |h: u16| h * 60;
    vec![
        wall(Days::all(), h(22), h(6)),
        wall(Days::range(Mon, Fri), h(20), h(7)),
        elapsed(Days::all(), h(23), 7 * 3600),
        wall(Days::range(Mon, Thu), h(21), h(5)),
        wall(Days::range(Sun, Thu), h(23) + 30, h(5) + 30),
        wall(Days::all(), 0, h(5)),
        wall(Days::range(Mon, Fri), 0, 0),
        elapsed(Days::all(), 0, 6 * 3600),
        wall(Days::range(Tue, Thu), h(22) + 30, h(5) + 30),
        wall(Days::all(), h(18), h(8)),
    ]
}

const SITES: [&str; 50] = [
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Madrid",
    "Europe/Paris",
    "Europe/Brussels",
    "Europe/Amsterdam",
    "Europe/Luxembourg",
    "Europe/Berlin",
    "Europe/Zurich",
    "Europe/Vienna",
    "Europe/Rome",
    "Europe/Prague",
    "Europe/Warsaw",
    "Europe/Budapest",
    "Europe/Stockholm",
    "Europe/Oslo",
    "Europe/Copenhagen",
    "Europe/Helsinki",
    "Europe/Tallinn",
    "Europe/Riga",
    "Europe/Vilnius",
    "Europe/Athens",
    "Europe/Bucharest",
    "Europe/Sofia",
    "Europe/Kyiv",
    "Europe/Istanbul",
    "Europe/Moscow",
    "Europe/Minsk",
    "Europe/Belgrade",
    "Europe/Zagreb",
    "Europe/Ljubljana",
    "Europe/Bratislava",
    "Europe/Sarajevo",
    "Europe/Skopje",
    "Europe/Tirane",
    "Europe/Podgorica",
    "Europe/Malta",
    "Europe/Monaco",
    "Europe/Andorra",
    "Europe/Gibraltar",
    "Europe/Chisinau",
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Africa/Lagos",
    "Africa/Casablanca",
    "Asia/Jerusalem",
    "Asia/Beirut",
    "Atlantic/Reykjavik",
    "Atlantic/Canary",
];

fn zone(name: &str) -> Tz {
    name.parse().unwrap_or(Tz::UTC)
}

/// Eight query instants over 2026 at assorted hours.
fn queries() -> Vec<i64> {
    let jan1 = 1_767_225_600; // 2026-01-01T00:00:00Z
    (0..8).map(|k| jan1 + k * 45 * 86_400 + k * 7_919).collect()
}

fn run(windows: &[ZonedWindow], queries: &[i64]) -> usize {
    let mut found = 0;
    for &at in queries {
        let mut zones = Zones::new();
        let mut streams: Vec<WindowStream> = Vec::with_capacity(windows.len());
        streams.extend(
            windows
                .iter()
                .filter_map(|w| WindowStream::with_zones(w, &mut zones).ok()),
        );
        let refs: Vec<&dyn IntervalStream> =
            streams.iter().map(|s| s as &dyn IntervalStream).collect();
        if earliest(&refs, at, RUNWAY, at + HORIZON).is_some() {
            found += 1;
        }
    }
    found
}

/// Single queries every 3 hours through 2026, each timed as the best of 3 runs (so
/// that a busy machine does not inflate the figure); prints the median, the 99th
/// percentile and the slowest.
fn sweep(name: &str, windows: &[ZonedWindow]) {
    let jan1 = 1_767_225_600; // 2026-01-01T00:00:00Z
    let mut times: Vec<(u128, i64)> = (0..365 * 8)
        .map(|k| {
            let at = jan1 + k * 3 * 3600;
            let best = (0..3)
                .map(|_| {
                    let t0 = std::time::Instant::now();
                    black_box(run(windows, &[at]));
                    t0.elapsed().as_nanos()
                })
                .min()
                .unwrap();
            (best, at)
        })
        .collect();
    times.sort_unstable();
    let us = |ns: u128| ns as f64 / 1000.0;
    let (max, at) = times[times.len() - 1];
    println!(
        "{name}, one query every 3 h through 2026: median {:.1} µs, p99 {:.1} µs, max {:.1} µs (at {})",
        us(times[times.len() / 2].0),
        us(times[times.len() * 99 / 100].0),
        us(max),
        time::format_rfc3339_utc(at).unwrap_or_default(),
    );
}

fn bench(c: &mut Criterion) {
    let shapes = shapes();
    let europe = [
        "Europe/London",
        "Europe/Berlin",
        "Europe/Paris",
        "Europe/Lisbon",
    ];
    let mixed: Vec<ZonedWindow> = shapes
        .iter()
        .zip(europe.iter().cycle())
        .map(|(s, z)| ZonedWindow::new(*s, zone(z)))
        .collect();
    let weeknights = ZonedWindow::new(
        wall(Days::range(Weekday::Mon, Weekday::Thu), 22 * 60, 4 * 60),
        Tz::America__New_York,
    );
    let sites: Vec<ZonedWindow> = shapes
        .iter()
        .flat_map(|s| SITES.iter().map(|z| ZonedWindow::new(*s, zone(z))))
        .collect();
    // Searches that find nothing and so look through the whole horizon: two weekly
    // windows that never overlap, and one `local` window over the 50 sites whose
    // 01:00-02:00 never comes at the same instant everywhere (UTC-1 to UTC+3).
    let disjoint = vec![
        ZonedWindow::new(wall(Days::empty().with(Weekday::Mon), 60, 120), Tz::UTC),
        ZonedWindow::new(wall(Days::empty().with(Weekday::Tue), 60, 120), Tz::UTC),
    ];
    let apart: Vec<ZonedWindow> = SITES
        .iter()
        .map(|z| ZonedWindow::new(wall(Days::all(), 60, 120), zone(z)))
        .collect();
    let queries = queries();
    let cases: [(&str, Vec<ZonedWindow>); 6] = [
        ("1 window", vec![weeknights]),
        ("3 windows", mixed.get(..3).unwrap_or_default().to_vec()),
        ("10 windows", mixed.clone()),
        ("10 windows x 50 sites", sites),
        ("2 windows that never overlap", disjoint),
        ("1 window x 50 sites, never all open", apart),
    ];
    // The very first query of the process: no zone's transitions sampled yet.
    if let Some((name, windows)) = cases.get(3) {
        let t0 = std::time::Instant::now();
        black_box(run(windows, &queries[..1]));
        println!(
            "{name}, first query of the process (cold zone data): {:.1} µs",
            t0.elapsed().as_nanos() as f64 / 1000.0
        );
    }
    for (name, windows) in cases.iter().take(4) {
        sweep(name, windows);
    }
    let mut group = c.benchmark_group("earliest");
    group.throughput(Throughput::Elements(queries.len() as u64));
    for (name, windows) in &cases {
        let hits = run(windows, &queries);
        println!(
            "{name}: {} streams, {hits}/{} queries find an opening",
            windows.len(),
            queries.len()
        );
        group.bench_function(*name, |b| {
            b.iter(|| run(black_box(windows), black_box(&queries)))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
