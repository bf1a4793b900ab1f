//! Side-by-side benchmark of changegate, Cedar and regorus on workload W(N)
//! (`WORKLOAD.md` §7). See `docs/performance.md`.
//!
//! ```text
//! cargo run --profile bench-compare -p compare -- [--secs S] [--n 10,100,1000,10000] [--engine native,changegate,cedar,regorus,regorus-rvm]
//! ```
//!
//! The parent process runs one child process per engine and N (re-executing itself with
//! `--child ENGINE N`) so that peak RSS is per engine and N; each child prints one JSON
//! line of figures, and the parent prints the table and one ratio line per N.

#[path = "workload.rs"]
mod workload;

mod engines;

use std::collections::BTreeMap;
use std::hint::black_box;
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use serde_json::json;

use engines::{Engine, Loaded};

/// All engines, in table order.
const ENGINES: [&str; 5] = ["native", "changegate", "cedar", "regorus", "regorus-rvm"];

/// The engines that a ratio line compares with changegate.
const RATIO_ENGINES: [&str; 3] = ["cedar", "regorus", "regorus-rvm"];

fn usage() -> ! {
    eprintln!(
        "usage: compare [--secs S] [--n 10,100,1000,10000] [--engine {}]\n       compare --child ENGINE N [--secs S]",
        ENGINES.join(",")
    );
    std::process::exit(2)
}

fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let mut secs = 2.0f64;
    let mut ns: Vec<usize> = workload::SIZES.to_vec();
    let mut engines: Vec<String> = ENGINES.iter().map(|s| s.to_string()).collect();
    let mut child: Option<(String, usize)> = None;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--secs" => {
                secs = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_else(|| usage())
            }
            "--n" => {
                ns = args
                    .next()
                    .unwrap_or_else(|| usage())
                    .split(',')
                    .map(|s| s.trim().parse().unwrap_or_else(|_| usage()))
                    .collect()
            }
            "--engine" => {
                engines = args
                    .next()
                    .unwrap_or_else(|| usage())
                    .split(',')
                    .map(|s| s.trim().to_string())
                    .collect();
                for e in &engines {
                    if !ENGINES.contains(&e.as_str()) {
                        eprintln!("unknown engine {e:?}");
                        usage();
                    }
                }
            }
            "--child" => {
                let e = args.next().unwrap_or_else(|| usage());
                let n = args
                    .next()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or_else(|| usage());
                child = Some((e, n));
            }
            "-h" | "--help" => usage(),
            _ => usage(),
        }
    }
    let secs = Duration::from_secs_f64(secs);
    match child {
        Some((engine, n)) => run_child(&engine, n, secs),
        None => run_parent(&engines, &ns, secs),
    }
}

// ---------------------------------------------------------------------------------
// Parent: one child per engine and N, then the table and the ratio lines.

fn run_parent(engines: &[String], ns: &[usize], secs: Duration) -> ExitCode {
    let exe = std::env::current_exe().expect("current_exe");
    let mut results: BTreeMap<(usize, String), serde_json::Value> = BTreeMap::new();
    let mut failed = false;
    for &n in ns {
        let mut digests: Vec<(String, String)> = Vec::new();
        for e in engines {
            eprintln!("== {e}, N={n}");
            let out = Command::new(&exe)
                .args([
                    "--child",
                    e,
                    &n.to_string(),
                    "--secs",
                    &secs.as_secs_f64().to_string(),
                ])
                .stderr(std::process::Stdio::inherit())
                .output()
                .expect("spawn child");
            let text = String::from_utf8_lossy(&out.stdout);
            let line = text.lines().last().unwrap_or("");
            if !out.status.success() {
                eprintln!("!! {e}, N={n}: child FAILED ({})", out.status);
                failed = true;
                results.insert((n, e.clone()), json!({"status": "failed"}));
                continue;
            }
            let v: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|err| {
                panic!("{e}, N={n}: bad child output {line:?}: {err}");
            });
            eprintln!("   {v}");
            if let Some(d) = v["digest"].as_str() {
                digests.push((e.clone(), d.to_string()));
            }
            results.insert((n, e.clone()), v);
        }
        // Every child already checked itself against expected_N; check once more that all
        // engines gave the same matched sets and verdicts, request by request.
        if let Some((e0, d0)) = digests.first() {
            for (e, d) in &digests[1..] {
                if d != d0 {
                    eprintln!("!! N={n}: {e} and {e0} disagree (verdict digests {d} vs {d0})");
                    failed = true;
                }
            }
        }
    }
    print_table(engines, ns, &results, secs);
    if failed {
        eprintln!("FAILED: some engine did not run or disagreed with the expected verdicts");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn fmt_num(x: f64) -> String {
    if x >= 1000.0 {
        format!("{x:.0}")
    } else if x >= 100.0 {
        format!("{x:.1}")
    } else if x >= 1.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

fn print_table(
    engines: &[String],
    ns: &[usize],
    results: &BTreeMap<(usize, String), serde_json::Value>,
    secs: Duration,
) {
    println!(
        "\nW(N), 1000 requests; latency per request in µs (e2e = build request + evaluate + extract verdict), \
         median and p99 over all passes; throughput single-thread; --secs {}\n",
        secs.as_secs_f64()
    );
    println!("| engine | N | compile ms (median) | e2e median µs | e2e p99 µs | eval median µs | req/s | peak RSS MiB |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for &n in ns {
        for e in engines {
            let Some(v) = results.get(&(n, e.clone())) else {
                continue;
            };
            match v["status"].as_str() {
                Some("ok") => {
                    let f = |k: &str| v[k].as_f64().unwrap_or(f64::NAN);
                    println!(
                        "| {e} | {n} | {} | {} | {} | {} | {:.0} | {:.1} |",
                        fmt_num(f("compile_ms")),
                        fmt_num(f("e2e_median_us")),
                        fmt_num(f("e2e_p99_us")),
                        fmt_num(f("eval_median_us")),
                        f("throughput_rps"),
                        f("peak_rss_kib") / 1024.0,
                    );
                }
                Some(s) => {
                    let why = v["reason"].as_str().unwrap_or("");
                    println!("| {e} | {n} | {s}: {why} | | | | | |");
                }
                None => println!("| {e} | {n} | ? | | | | | |"),
            }
        }
    }
    println!();
    let median = |n: usize, e: &str| -> Option<f64> {
        let v = results.get(&(n, e.to_string()))?;
        (v["status"] == "ok")
            .then(|| v["e2e_median_us"].as_f64())
            .flatten()
    };
    for &n in ns {
        let base = median(n, "changegate");
        let parts: Vec<String> = RATIO_ENGINES
            .iter()
            .filter(|e| engines.iter().any(|x| x == *e))
            .map(|e| match (median(n, e), base) {
                (Some(x), Some(b)) if b > 0.0 => format!("{e}/changegate = {:.1}x", x / b),
                _ => format!("{e}/changegate = n/a"),
            })
            .collect();
        if !parts.is_empty() {
            println!("N={n}: {}", parts.join(", "));
        }
    }
}

// ---------------------------------------------------------------------------------
// Child: one engine, one N (WORKLOAD §7).

fn run_child(engine: &str, n: usize, secs: Duration) -> ExitCode {
    // 1. Load (untimed): the texts of §6, generated in memory byte for byte as `gen`
    //    writes them, then parsed as a harness reading the files would.
    let w = workload::Workload::new(n);
    let loaded = Loaded::new(&w);
    let result = match engine {
        "native" => measure::<engines::native::Native>(&loaded, secs),
        "cedar" => measure::<engines::cedar::Cedar>(&loaded, secs),
        "regorus" => measure::<engines::rego::Regorus>(&loaded, secs),
        "regorus-rvm" => measure::<engines::rego::RegorusRvm>(&loaded, secs),
        "changegate" => measure::<engines::changegate::Changegate>(&loaded, secs),
        _ => usage(),
    };
    let mut v = result;
    v["engine"] = json!(engine);
    v["n"] = json!(n);
    v["peak_rss_kib"] = json!(peak_rss_kib());
    println!("{v}");
    ExitCode::SUCCESS
}

/// `VmHWM` of this process, KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|s| s.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn median_ns(xs: &mut [u64]) -> u64 {
    xs.sort_unstable();
    xs[(xs.len() - 1) / 2]
}

/// Nearest-rank p99 of sorted samples: index ⌈0.99·n⌉−1.
fn p99_sorted(xs: &[u64]) -> u64 {
    let idx = ((xs.len() as f64) * 0.99).ceil() as usize;
    xs[idx.max(1) - 1]
}

fn us(ns: u64) -> f64 {
    ns as f64 / 1000.0
}

/// Compile, check, and measure one engine (§7 steps 2–5).
pub(crate) fn measure<E: Engine>(w: &Loaded, secs: Duration) -> serde_json::Value {
    // 2. Compile, from scratch each time: ≥3 runs, until 1 s or 10 runs; the median.
    let mut compile_ns = Vec::new();
    let mut total = Duration::ZERO;
    let mut engine = loop {
        let t = Instant::now();
        let compiled = E::compile(w);
        let dt = t.elapsed();
        let e = match compiled {
            Ok(e) => e,
            Err(reason) => {
                eprintln!("   {}: cannot compile N={}: {reason}", E::NAME, w.n);
                let short: String = reason
                    .lines()
                    .next()
                    .unwrap_or("")
                    .chars()
                    .take(120)
                    .collect();
                return json!({"status": "unsupported", "reason": short});
            }
        };
        compile_ns.push(dt.as_nanos() as u64);
        total += dt;
        let runs = compile_ns.len();
        if runs >= 10 || (runs >= 3 && total >= Duration::from_secs(1)) {
            break e;
        }
        drop(e);
    };
    let compile_runs = compile_ns.len();
    let compile_med = median_ns(&mut compile_ns);

    // 3. Correctness and warm-up: every request once, against expected_N.
    let mut digest = Fnv::new();
    for (j, req) in w.requests.iter().enumerate() {
        let q = engine.prep(req);
        let o = engine.eval(req, q);
        let mut v = engine.post(o);
        v.matched.sort_unstable();
        let (want_m, want_f) = &w.expected[j];
        let got_f = v.fin.canonical();
        if &v.matched != want_m || &got_f != want_f {
            eprintln!(
                "!! {} N={} request {j}: got matched {:?} final {got_f}, expected matched {:?} final {want_f}",
                E::NAME,
                w.n,
                v.matched,
                want_m
            );
            std::process::exit(1);
        }
        digest.add(&format!("{j}:{:?}:{got_f}\n", v.matched));
    }

    // 4. Latency passes: ≥3 passes and until ≥secs (max 100 passes).
    let (mut prep, mut eval, mut post) = (Vec::new(), Vec::new(), Vec::new());
    let start = Instant::now();
    let mut passes = 0;
    while passes < 3 || (start.elapsed() < secs && passes < 100) {
        for req in &w.requests {
            let t0 = Instant::now();
            let q = engine.prep(req);
            let t1 = Instant::now();
            let o = engine.eval(req, q);
            let t2 = Instant::now();
            let v = engine.post(o);
            let t3 = Instant::now();
            black_box(v);
            prep.push((t1 - t0).as_nanos() as u32);
            eval.push((t2 - t1).as_nanos() as u32);
            post.push((t3 - t2).as_nanos() as u32);
        }
        passes += 1;
    }
    let mut e2e: Vec<u64> = (0..prep.len())
        .map(|i| prep[i] as u64 + eval[i] as u64 + post[i] as u64)
        .collect();
    let to64 = |xs: &[u32]| xs.iter().map(|&x| x as u64).collect::<Vec<u64>>();
    let (mut prep, mut eval, mut post) = (to64(&prep), to64(&eval), to64(&post));
    let samples = e2e.len();
    let e2e_med = median_ns(&mut e2e);
    let e2e_p99 = p99_sorted(&e2e);
    let eval_med = median_ns(&mut eval);
    let eval_p99 = p99_sorted(&eval);
    let prep_med = median_ns(&mut prep);
    let post_med = median_ns(&mut post);

    // 5. Throughput: whole passes timed as a block, ≥3 passes and ≥secs.
    let mut tp_passes = 0u64;
    let mut tp_time = Duration::ZERO;
    while tp_passes < 3 || tp_time < secs {
        let t = Instant::now();
        for req in &w.requests {
            let q = engine.prep(req);
            let o = engine.eval(req, q);
            black_box(engine.post(o));
        }
        tp_time += t.elapsed();
        tp_passes += 1;
    }
    let rps = (tp_passes as f64 * w.requests.len() as f64) / tp_time.as_secs_f64();

    json!({
        "status": "ok",
        "compile_ms": compile_med as f64 / 1e6,
        "compile_runs": compile_runs,
        "prep_median_us": us(prep_med),
        "eval_median_us": us(eval_med),
        "eval_p99_us": us(eval_p99),
        "post_median_us": us(post_med),
        "e2e_median_us": us(e2e_med),
        "e2e_p99_us": us(e2e_p99),
        "latency_passes": passes,
        "samples": samples,
        "throughput_rps": rps,
        "throughput_passes": tp_passes,
        "digest": format!("{:016x}", digest.0),
    })
}

/// FNV-1a, to compare the verdicts of the engines across processes.
struct Fnv(u64);

impl Fnv {
    fn new() -> Self {
        Fnv(0xcbf29ce484222325)
    }
    fn add(&mut self, s: &str) {
        for b in s.bytes() {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x100000001b3);
        }
    }
}
