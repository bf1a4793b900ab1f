//! The `changegate diff` command: arguments, loading both policies (one possibly from
//! a git revision), replaying the history, printing the report.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use clap::{Args, ValueEnum};

use super::history::{Entry, History, PolicyHint};
use super::{Collector, DiffFormat, Difference, Names};
use crate::cli::limit_args::AllLimits;
use crate::cli::output::{render, EXIT_BAD_INPUT};
use changegate::Inventory;
use changegate::Limits;
use changegate::Policy;

/// Exit code when some change is decided differently.
pub(crate) const EXIT_DIFFERS: u8 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Args)]
pub(crate) struct DiffArgs {
    /// The old policy, then the new one: files, or folders whose `*.gate` files are
    /// paired by name. With `--base`, one path names both: the old is that path at
    /// the revision, the new the path as it is now.
    #[arg(required = true, num_args = 1..=2, value_name = "POLICY")]
    policies: Vec<PathBuf>,
    /// Read the old policy (and its imports) from this git revision of the current
    /// repository, e.g. `origin/main`.
    #[arg(long, value_name = "REV")]
    base: Option<String>,
    /// The history: a decision log, JSON Lines of changes each with an `at`, a
    /// `changegate test` file (`*.test.yaml`), or a folder of test files.
    #[arg(long, value_name = "FILE")]
    history: PathBuf,
    /// The inventory for every change (a test file's own inventory is used otherwise).
    #[arg(short, long, value_name = "INVENTORY")]
    inventory: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Most changes shown per transition (default: all for text and json, 10 for markdown).
    #[arg(long, value_name = "N")]
    limit: Option<usize>,
    #[command(flatten)]
    limits: AllLimits,
}

/// Runs `changegate diff`: exit 0 when nothing differs, 3 when something does, 1 on
/// bad input.
pub(crate) fn run(args: &DiffArgs) -> u8 {
    let limits = args.limits.limits();
    let (old_path, new_path) = match (args.policies.as_slice(), &args.base) {
        ([one], Some(_)) => (one, one),
        ([old, new], _) => (old, new),
        _ => {
            eprintln!("error: give two policies (OLD NEW), or one policy with `--base REV`");
            return EXIT_BAD_INPUT;
        }
    };
    let pairs = match pairs(old_path, new_path, args.base.as_deref(), &limits) {
        Ok(p) => p,
        Err(e) => {
            eprint!("{e}");
            return EXIT_BAD_INPUT;
        }
    };
    let common = match &args.inventory {
        Some(p) => match Inventory::from_file_with(p, &limits) {
            Ok(i) => Some(i),
            Err(e) => {
                eprint!("{}", render(&e));
                return EXIT_BAD_INPUT;
            }
        },
        None => None,
    };
    let history = match History::open(&args.history, &limits) {
        Ok(h) => h,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let limit = match (args.limit, args.format) {
        (Some(n), _) => Some(n),
        (None, Format::Markdown) => Some(10),
        (None, _) => None,
    };
    let report = match replay(&pairs, history, common.as_ref(), limit, &limits) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    if report.replayed == 0 {
        // Nothing was compared: that is not "nothing differs".
        eprintln!(
            "error: `{}` holds no change to replay",
            args.history.display()
        );
        return EXIT_BAD_INPUT;
    }
    if !print_report(&report, args, old_path, new_path) {
        return EXIT_BAD_INPUT;
    }
    if report.differing > 0 {
        EXIT_DIFFERS
    } else {
        0
    }
}

/// Prints the report in `args.format`, naming the old and new policies as given;
/// false (the error printed) when it cannot be written.
fn print_report(report: &super::Report, args: &DiffArgs, old_path: &Path, new_path: &Path) -> bool {
    let old_name = match &args.base {
        Some(rev) => format!("{rev}:{}", old_path.display()),
        None => old_path.display().to_string(),
    };
    let new_name = new_path.display().to_string();
    let format = match args.format {
        Format::Text => DiffFormat::Text,
        Format::Json => DiffFormat::Json,
        Format::Markdown => DiffFormat::Markdown,
    };
    let names = Names {
        old: &old_name,
        new: &new_name,
    };
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    if let Err(e) = report
        .write(format, &names, &mut out)
        .and_then(|()| out.flush())
    {
        eprintln!("error: cannot write the report: {e}");
        return false;
    }
    true
}

/// One policy in its old and new version.
pub(crate) struct Pair {
    /// The new version's path, as given.
    name: String,
    /// Its file name, to match a test file's policy in a folder diff.
    file: Option<std::ffi::OsString>,
    old: Policy,
    new: Policy,
}

/// The policies to compare: two files, or the `*.gate` files directly inside two
/// folders paired by name (with `--base`, the old folder as it is at the revision).
fn pairs(old: &Path, new: &Path, base: Option<&str>, limits: &Limits) -> Result<Vec<Pair>, String> {
    let folders = new.is_dir() || (base.is_none() && old.is_dir());
    if !folders {
        return Ok(vec![Pair {
            name: new.display().to_string(),
            file: None,
            old: load_old(old, base, limits)?,
            new: load(new, limits)?,
        }]);
    }
    if !old.is_dir() && base.is_none() {
        return Err(format!(
            "error: `{}` is a folder but `{}` is not: give two files or two folders\n",
            new.display(),
            old.display()
        ));
    }
    let new_names = gate_files(new)?;
    let old_names = match base {
        Some(rev) => gate_files_at(rev, old)?,
        None => gate_files(old)?,
    };
    let mut out = Vec::new();
    for name in &new_names {
        if !old_names.contains(name) {
            eprintln!(
                "note: `{}` is new: there is no old version to compare it with",
                new.join(name).display()
            );
            continue;
        }
        out.push(Pair {
            name: new.join(name).display().to_string(),
            file: Some(name.clone()),
            old: load_old(&old.join(name), base, limits)?,
            new: load(&new.join(name), limits)?,
        });
    }
    for name in old_names.iter().filter(|n| !new_names.contains(n)) {
        eprintln!(
            "note: `{}` was removed: its changes are not compared",
            old.join(name).display()
        );
    }
    if out.is_empty() {
        return Err(format!(
            "error: no policy (`*.gate`) is in both `{}` and `{}`\n",
            old.display(),
            new.display()
        ));
    }
    Ok(out)
}

/// The names of the `*.gate` files directly inside `dir`, sorted.
fn gate_files(dir: &Path) -> Result<Vec<std::ffi::OsString>, String> {
    let mut names: Vec<std::ffi::OsString> = std::fs::read_dir(dir)
        .map_err(|e| format!("error: cannot read `{}`: {e}\n", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x == "gate"))
        .filter_map(|p| p.file_name().map(std::ffi::OsStr::to_os_string))
        .collect();
    names.sort();
    Ok(names)
}

/// The names of the `*.gate` files directly inside `dir` at git revision `rev`, sorted.
fn gate_files_at(rev: &str, dir: &Path) -> Result<Vec<std::ffi::OsString>, String> {
    let listing = git(&[
        "ls-tree",
        "--name-only",
        rev,
        &format!("./{}/", dir.display()),
    ])
    .map_err(|e| format!("error: {e}\n"))?;
    let mut names: Vec<std::ffi::OsString> = listing
        .lines()
        .filter(|l| l.ends_with(".gate"))
        .filter_map(|l| Path::new(l).file_name().map(std::ffi::OsStr::to_os_string))
        .collect();
    names.sort();
    Ok(names)
}

/// The old policy at `path`: as it is at revision `base`, or as it is now.
fn load_old(path: &Path, base: Option<&str>, limits: &Limits) -> Result<Policy, String> {
    match base {
        Some(rev) => load_at_revision(rev, path, limits),
        None => load(path, limits),
    }
}

/// Whether `entry` belongs to `pair`: always when two files are compared; in a
/// folder diff, a test case to the policy its test file names, a decision record to
/// the policy of the recorded name, a plain change to every policy.
fn belongs(pair: &Pair, hint: &PolicyHint) -> bool {
    let Some(file) = &pair.file else {
        return true;
    };
    match hint {
        PolicyHint::Any => true,
        PolicyHint::File(p) => p.file_name() == Some(file.as_os_str()),
        PolicyHint::Name(n) => pair.new.name() == n || pair.old.name() == n,
    }
}

/// Replays `history` under each pair of policies. The first unreadable entry stops
/// the replay with its error (a diff over part of a history would mislead).
pub(crate) fn replay(
    pairs: &[Pair],
    history: History,
    common: Option<&Inventory>,
    limit: Option<usize>,
    limits: &Limits,
) -> Result<super::Report, String> {
    let mut collector = Collector::new(limit).map_err(|e| format!("temporary file: {e}"))?;
    let empty = Inventory::empty();
    // A test file's inventories, each loaded once.
    let mut inventories: BTreeMap<PathBuf, Inventory> = BTreeMap::new();
    let folders = pairs.iter().any(|p| p.file.is_some());
    if history.is_lines() {
        replay_lines(
            pairs,
            history,
            common.unwrap_or(&empty),
            folders,
            &mut collector,
        )?;
    } else {
        for entry in history {
            let entry = entry?;
            let inventory = match (common, &entry.inventory) {
                (Some(i), _) => i,
                (None, Some(path)) => {
                    if !inventories.contains_key(path) {
                        let inv = Inventory::from_file_with(path, limits)
                            .map_err(|e| format!("{}: {e}", path.display()))?;
                        inventories.insert(path.clone(), inv);
                    }
                    inventories.get(path).unwrap_or(&empty)
                }
                (None, None) => &empty,
            };
            let mut found = Vec::new();
            let replayed = diff_entry(pairs, &entry, inventory, folders, &mut found);
            collect(&mut collector, replayed, found)?;
        }
    }
    collector
        .finish()
        .map_err(|e| format!("temporary file: {e}"))
}

/// Counts `replayed` evaluations and adds their differences `found`, in order.
fn collect(collector: &mut Collector, replayed: u64, found: Vec<Difference>) -> Result<(), String> {
    collector.replayed += replayed;
    for d in found {
        collector
            .add(d)
            .map_err(|e| format!("temporary file: {e}"))?;
    }
    Ok(())
}

/// Evaluates one entry under every pair it belongs to; pushes the differences and
/// returns how many evaluations (pairs) it took part in.
fn diff_entry(
    pairs: &[Pair],
    entry: &Entry,
    inventory: &Inventory,
    folders: bool,
    out: &mut Vec<Difference>,
) -> u64 {
    let mut replayed = 0;
    for pair in pairs.iter().filter(|p| belongs(p, &entry.policy)) {
        replayed += 1;
        let Some((o, n, v)) =
            super::compare(&pair.old, &pair.new, &entry.change, inventory, entry.at)
        else {
            continue;
        };
        out.push(Difference {
            change: entry.label.clone(),
            source: if folders {
                format!("{}, under {}", entry.source, pair.name)
            } else {
                entry.source.clone()
            },
            at: v.at,
            old: o,
            new: n,
        });
    }
    replayed
}

/// What a worker made of one batch: evaluations, and the differences in order.
type BatchResult = Result<(u64, Vec<Difference>), String>;

/// A JSON Lines history on every core: this thread reads batches of raw lines, the
/// workers each parse and evaluate whole batches (so what a thread allocates, it
/// frees), and the results are put back in history order before they are
/// collected. Every channel is bounded, so memory stays constant however long the
/// history; the first bad line stops everything with its error.
fn replay_lines(
    pairs: &[Pair],
    mut history: History,
    inventory: &Inventory,
    folders: bool,
    collector: &mut Collector,
) -> Result<(), String> {
    const BATCH: usize = 512;
    let workers = std::thread::available_parallelism()
        .map(std::num::NonZeroUsize::get)
        .unwrap_or(1)
        .clamp(1, 8);
    let name = history.name().to_owned();
    let limits = history.document_limits().clone();
    std::thread::scope(|scope| -> Result<(), String> {
        let (work_tx, work_rx) =
            std::sync::mpsc::sync_channel::<(u64, super::history::RawBatch)>(workers * 2);
        let work_rx = std::sync::Arc::new(std::sync::Mutex::new(work_rx));
        let (done_tx, done_rx) = std::sync::mpsc::sync_channel::<(u64, BatchResult)>(workers * 2);
        for _ in 0..workers {
            let work_rx = std::sync::Arc::clone(&work_rx);
            let done_tx = done_tx.clone();
            let lines = Lines {
                pairs,
                name: &name,
                limits: &limits,
                inventory,
                folders,
            };
            scope.spawn(move || loop {
                let next = match work_rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                let Ok((seq, batch)) = next else { return };
                if done_tx.send((seq, lines.replay(&batch))).is_err() {
                    return;
                }
            });
        }
        drop(done_tx);
        // The reader: batches of raw lines, numbered.
        let reader = scope.spawn(move || -> Result<(), String> {
            let mut seq = 0u64;
            while let Some(batch) = history.read_batch(BATCH) {
                let batch = batch?;
                if work_tx.send((seq, batch)).is_err() {
                    return Ok(());
                }
                seq += 1;
            }
            Ok(())
        });
        collect_in_order(done_rx, collector)?;
        match reader.join() {
            Ok(r) => r,
            Err(_) => Err("the history reader stopped unexpectedly".into()),
        }
    })
}

/// What a worker of [`replay_lines`] needs to replay a batch of lines.
#[derive(Clone, Copy)]
struct Lines<'a> {
    pairs: &'a [Pair],
    /// The history's name, to locate errors.
    name: &'a str,
    limits: &'a Limits,
    inventory: &'a Inventory,
    folders: bool,
}

impl Lines<'_> {
    /// Parses and evaluates every line of `batch`; the first bad line is the result.
    fn replay(&self, batch: &super::history::RawBatch) -> BatchResult {
        let mut replayed = 0;
        let mut found = Vec::new();
        for &(start, end, number) in &batch.lines {
            let line = batch.buf.get(start..end).unwrap_or_default();
            let entry = super::history::parse_line(line, self.name, number, self.limits)?;
            replayed += diff_entry(self.pairs, &entry, self.inventory, self.folders, &mut found);
        }
        Ok((replayed, found))
    }
}

/// Collects the workers' results in batch order; at most the batches in flight wait.
/// The first error stops the collection with it.
fn collect_in_order(
    done: std::sync::mpsc::Receiver<(u64, BatchResult)>,
    collector: &mut Collector,
) -> Result<(), String> {
    let mut waiting: BTreeMap<u64, BatchResult> = BTreeMap::new();
    let mut next = 0u64;
    for (seq, result) in done.iter() {
        waiting.insert(seq, result);
        while let Some(result) = waiting.remove(&next) {
            let (replayed, found) = result?;
            collect(collector, replayed, found)?;
            next += 1;
        }
    }
    Ok(())
}

/// A policy file as it is now.
fn load(path: &Path, limits: &Limits) -> Result<Policy, String> {
    Policy::from_file_with_limits(path, limits).map_err(rendered)
}

/// Every diagnostic, its limits named by their flags, rendered one after another.
fn rendered(diags: changegate::Diagnostics) -> String {
    let mut out = String::new();
    for d in crate::cli::limit_args::name_flags(diags).iter() {
        out.push_str(&render(d));
    }
    out
}

/// Loads the policy at `path` as it is in git revision `rev` of the repository the
/// current directory is in, imports included (each read with `git show REV:PATH`).
pub(crate) fn load_at_revision(rev: &str, path: &Path, limits: &Limits) -> Result<Policy, String> {
    if rev.starts_with('-') || rev.contains(':') || rev.is_empty() {
        return Err(format!(
            "error: `--base {rev:?}` is not a revision (a branch, tag or commit)\n"
        ));
    }
    let show = |p: &Path| -> std::io::Result<String> { git_show(rev, p, limits) };
    let source = show(path).map_err(|e| format!("error: {e}\n"))?;
    let name = path.display().to_string();
    Policy::parse_with_loader(&source, &name, limits, &show).map_err(rendered)
}

fn git_show(rev: &str, path: &Path, limits: &Limits) -> std::io::Result<String> {
    let spec = if path.is_absolute() {
        let top = git(&["rev-parse", "--show-toplevel"])?;
        let rel = path.strip_prefix(top.trim_end()).map_err(|_| {
            std::io::Error::other(format!("`{}` is outside the repository", path.display()))
        })?;
        format!("{rev}:{}", rel.display())
    } else {
        format!("{rev}:./{}", path.display())
    };
    let text = git(&["show", &spec])?;
    if text.len() > limits.max_source_bytes {
        return Err(std::io::Error::other(format!(
            "`{spec}` is larger than the limit of {} bytes",
            limits.max_source_bytes
        )));
    }
    Ok(text)
}

fn git(args: &[&str]) -> std::io::Result<String> {
    let out = Command::new("git")
        .args(args)
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| std::io::Error::other(format!("cannot run git: {e}")))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let first: String = stderr
            .lines()
            .next()
            .unwrap_or("")
            .chars()
            .take(300)
            .collect();
        return Err(std::io::Error::other(format!(
            "`git {}` failed: {first}",
            args.join(" ")
        )));
    }
    String::from_utf8(out.stdout).map_err(|_| {
        std::io::Error::other(format!(
            "`git {}` printed text that is not UTF-8",
            args.join(" ")
        ))
    })
}
