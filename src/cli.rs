//! The `changegate` command line: a thin shell over the library. This is the only
//! module that reads files, the clock, standard input or the terminal.

use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::change::Change;
use crate::diag::Diagnostics;
use crate::input::{self, Format};
use crate::limits::Limits;
use crate::policy::Policy;
use crate::topology::Inventory;
use crate::verdict::Verdict;

/// Exit code for inputs that cannot be read or parsed at all.
pub const EXIT_BAD_INPUT: u8 = 1;

/// changegate: decides whether an infrastructure change may deploy now, needs
/// approval, must wait for a change window, or must not go at all.
#[derive(Debug, Parser)]
#[command(name = "changegate", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Evaluates a change against a policy: exit 0 deploy, 10 approve, 11 wait, 12 deny, 1 bad input.
    Evaluate(EvaluateArgs),
    /// Parses and checks policies: exit 0 when clean, 1 on errors.
    Check(CheckArgs),
    /// Prints the blast radius of targets: exit 0, or 1 for an unknown target.
    Blast(BlastArgs),
    /// Prints the calendar: every opening of each window and freeze in a period.
    Windows(WindowsArgs),
    /// Formats policies in the canonical layout (in place, or `--check`).
    Fmt(FmtArgs),
    /// Runs policy test files (`*.test.yaml`, `*.test.toml`): exit 0 all pass, 1 any fail.
    Test(TestArgs),
    /// Replays a history under two policies and shows what they decide differently: exit 0 nothing differs, 3 something does, 1 bad input.
    Diff(crate::diff::command::DiffArgs),
    /// Checks a decision log (`audit verify LOG`) or evaluates its changes again (`audit replay LOG`).
    Audit(AuditArgs),
}

#[derive(Debug, Args)]
struct AuditArgs {
    #[command(subcommand)]
    command: AuditCommand,
}

#[derive(Debug, Subcommand)]
enum AuditCommand {
    /// Checks every record and the chain: exit 0 and the head hash, or 1 naming the first bad line.
    Verify(VerifyArgs),
    /// Evaluates each recorded change again at its instant: exit 0 when every verdict reproduces, 1 otherwise.
    Replay(ReplayArgs),
}

#[derive(Debug, Args)]
struct VerifyArgs {
    /// The decision log (written by `evaluate --record`).
    #[arg(value_name = "LOG")]
    log: PathBuf,
    /// A head hash kept elsewhere (a ticket, a commit): it must be the hash of one of the log's lines.
    #[arg(long, value_name = "SHA256")]
    head: Option<String>,
}

#[derive(Debug, Args)]
struct ReplayArgs {
    /// The decision log (written by `evaluate --record`).
    #[arg(value_name = "LOG")]
    log: PathBuf,
    /// The policies to replay with (each record uses the one with its policy's name).
    #[arg(short, long, value_name = "POLICY", required = true)]
    policy: Vec<PathBuf>,
    /// The inventories to replay with (each record uses the one with its recorded digest).
    #[arg(short, long, value_name = "INVENTORY")]
    inventory: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TestFormat {
    Text,
    Json,
    Junit,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ErrorFormat {
    Human,
    Json,
}

/// Limits on inputs; the defaults are documented in `docs/hardening.md`.
#[derive(Debug, Args)]
pub(crate) struct LimitArgs {
    /// Largest policy file, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_source_bytes)]
    max_policy_bytes: usize,
    /// Deepest nesting of expressions, lists and objects.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_depth)]
    max_depth: usize,
    /// Most items (rules, groups, windows, …) in one policy file.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_items)]
    max_rules: usize,
    /// Longest string, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_string_len)]
    max_string_len: usize,
    /// Longest list.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_list_len)]
    max_list_len: usize,
    /// Deepest chain of imports.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_import_depth)]
    max_import_depth: usize,
    /// Largest change or inventory file, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_input_bytes)]
    max_input_bytes: usize,
}

impl LimitArgs {
    pub(crate) fn limits(&self) -> Limits {
        Limits {
            max_source_bytes: self.max_policy_bytes,
            max_depth: self.max_depth,
            max_items: self.max_rules,
            max_string_len: self.max_string_len,
            max_list_len: self.max_list_len,
            max_import_depth: self.max_import_depth,
            max_input_bytes: self.max_input_bytes,
        }
    }
}

#[derive(Debug, Args)]
struct EvaluateArgs {
    /// The policy file.
    #[arg(short, long, value_name = "POLICY")]
    policy: PathBuf,
    /// The change: JSON or YAML (`-` for standard input), or JSON Lines (`.jsonl`) for a batch.
    #[arg(short, long, value_name = "CHANGE")]
    change: PathBuf,
    /// The inventory: JSON, YAML or TOML.
    #[arg(short, long, value_name = "INVENTORY")]
    inventory: Option<PathBuf>,
    /// The instant to evaluate at, RFC 3339 (default: now).
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    /// Also explain every rule (the values its condition saw) and every window and freeze.
    #[arg(long)]
    explain: bool,
    /// Take the approvals from a review system instead of the change: `github:FILE` (`gh api repos/O/R/pulls/N/reviews --paginate`) or `gitlab:FILE` (`glab api projects/ID/merge_requests/IID/approvals`, with the merge request).
    #[arg(long, value_name = "SYSTEM:FILE")]
    reviews: Option<String>,
    /// With `--reviews`: keep the change's own approvals too (their `source` is `change`).
    #[arg(long, requires = "reviews")]
    keep_change_approvals: bool,
    /// Append a decision record of each verdict to this log (JSON Lines, chained; created if missing).
    #[arg(long, value_name = "LOG")]
    record: Option<PathBuf>,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Policy files.
    #[arg(required = true, value_name = "POLICY")]
    policies: Vec<PathBuf>,
    /// How to print diagnostics.
    #[arg(long, value_enum, default_value_t = ErrorFormat::Human)]
    error_format: ErrorFormat,
    /// Treat warnings as errors.
    #[arg(long)]
    deny_warnings: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Debug, Args)]
struct WindowsArgs {
    /// The policy file.
    #[arg(short, long, value_name = "POLICY")]
    policy: PathBuf,
    /// An inventory, to place `local` windows at each site.
    #[arg(short, long, value_name = "INVENTORY")]
    inventory: Option<PathBuf>,
    /// Start of the period, RFC 3339 (default: now).
    #[arg(long, value_name = "TIME")]
    from: Option<String>,
    /// Length of the period in days.
    #[arg(long, value_name = "N", default_value_t = 14, value_parser = clap::value_parser!(u32).range(1..=400))]
    days: u32,
    /// A change: list the intervals in which it may start (its windows at its sites, its freezes, its runway).
    #[arg(short, long, value_name = "CHANGE")]
    change: Option<PathBuf>,
    /// Output format: text, json, ics (RFC 5545) or html (one self-contained page).
    #[arg(long, value_enum, default_value_t = CalendarFormat::Text)]
    format: CalendarFormat,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CalendarFormat {
    Text,
    Json,
    Ics,
    Html,
}

#[derive(Debug, Args)]
struct TestArgs {
    /// Test files or folders (searched for `*.test.yaml`, `*.test.yml`, `*.test.toml`); default: the current folder.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TestFormat::Text)]
    format: TestFormat,
    /// Report which rules, windows and freezes the cases exercise.
    #[arg(long)]
    coverage: bool,
    /// Fail when a policy's coverage (rules, windows and freezes together) is below this percentage.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    min_coverage: Option<f64>,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Debug, Args)]
struct FmtArgs {
    /// Policy files or folders (searched for `*.gate`); default: the current folder.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Change nothing: print a diff and exit 1 if any file is not formatted.
    #[arg(long)]
    check: bool,
    #[command(flatten)]
    limits: LimitArgs,
}

#[derive(Debug, Args)]
struct BlastArgs {
    /// The inventory: JSON, YAML or TOML.
    #[arg(short, long, value_name = "INVENTORY")]
    inventory: PathBuf,
    /// The devices the change touches.
    #[arg(required = true, value_name = "TARGET")]
    targets: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    #[command(flatten)]
    limits: LimitArgs,
}

/// A percentage from 0 to 100: `NaN`, infinities and numbers outside the range are
/// refused (a `NaN` minimum would pass any coverage).
fn parse_percent(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(p) if (0.0..=100.0).contains(&p) => Ok(p),
        Ok(_) => Err(format!("`{text}` is not a percentage from 0 to 100")),
        Err(e) => Err(format!("`{text}` is not a number: {e}")),
    }
}

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Evaluate(args) => evaluate(&args),
        Command::Check(args) => check(&args),
        Command::Blast(args) => blast(&args),
        Command::Windows(args) => windows(&args),
        Command::Fmt(args) => fmt(&args),
        Command::Test(args) => test(&args),
        Command::Audit(args) => match &args.command {
            AuditCommand::Verify(a) => audit_verify(a),
            AuditCommand::Replay(a) => audit_replay(a),
        },
        Command::Diff(args) => crate::diff::command::run(&args),
    };
    ExitCode::from(code)
}

/// Whether stderr gets colour: a terminal, and `NO_COLOR` unset or empty.
fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Renders a miette diagnostic for people.
pub fn render(diag: &dyn miette::Diagnostic) -> String {
    let theme = if color() {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    if handler.render_report(&mut out, diag).is_err() {
        out = diag.to_string();
    }
    out
}

/// Most diagnostics rendered for people per file; JSON output has them all.
const MAX_HUMAN_DIAGNOSTICS: usize = 100;

fn eprint_diags(diags: &Diagnostics, format: ErrorFormat) {
    let mut err = std::io::stderr().lock();
    let shown = match format {
        ErrorFormat::Human => MAX_HUMAN_DIAGNOSTICS,
        ErrorFormat::Json => usize::MAX,
    };
    if diags.len() > shown {
        let _ = writeln!(
            err,
            "showing the first {shown} of {} diagnostics (use `--error-format json` for all)",
            diags.len()
        );
    }
    // Errors first: they are what must be fixed.
    let mut ordered: Vec<&crate::diag::Diagnostic> =
        diags.iter().filter(|d| d.is_error()).collect();
    ordered.extend(diags.iter().filter(|d| !d.is_error()));
    for d in ordered.into_iter().take(shown) {
        let _ = match format {
            ErrorFormat::Human => write!(err, "{}", render(d)),
            ErrorFormat::Json => writeln!(
                err,
                "{}",
                serde_json::to_string(&d.to_json()).unwrap_or_default()
            ),
        };
    }
}

fn parse_at(at: Option<&str>) -> Result<DateTime<Utc>, String> {
    let Some(text) = at else {
        return Ok(Utc::now());
    };
    let secs = crate::time::parse_at(text).map_err(|e| format!("invalid `--at` {text:?}: {e}"))?;
    DateTime::from_timestamp(secs, 0)
        .ok_or_else(|| format!("invalid `--at` {text:?}: out of range"))
}

fn load_policy(path: &Path, limits: &Limits, format: ErrorFormat) -> Option<Policy> {
    match Policy::from_file_with_limits(path, limits) {
        Ok(p) => Some(p),
        Err(diags) => {
            eprint_diags(&diags, format);
            None
        }
    }
}

fn load_inventory(path: Option<&Path>, limits: &Limits) -> Option<Inventory> {
    let Some(path) = path else {
        return Some(Inventory::empty());
    };
    match Inventory::from_file_with(path, &limits.documents()) {
        Ok(i) => Some(i),
        Err(e) => {
            eprint!("{}", render(&e));
            None
        }
    }
}

/// Reads a change document (file or `-`), returning it or printing a diagnostic.
fn load_change(path: &Path, limits: &Limits) -> Option<Change> {
    let il = limits.documents();
    let value = if path == Path::new("-") {
        let bytes = match input::read_bounded_from(std::io::stdin().lock(), il.max_bytes) {
            Ok(bytes) => bytes,
            Err(input::ReadError::TooLarge) => {
                eprintln!(
                    "error: the change on standard input holds more than the limit of {} bytes",
                    il.max_bytes
                );
                return None;
            }
            Err(e) => {
                eprintln!("error: cannot read the change from standard input: {e:?}");
                return None;
            }
        };
        let trimmed = bytes.iter().find(|b| !b.is_ascii_whitespace());
        let format = if matches!(trimmed, Some(b'{') | Some(b'[')) {
            Format::Json
        } else {
            Format::Yaml
        };
        input::parse_bytes(&bytes, format, "<stdin>", &il)
    } else {
        input::read_file(path, &il)
    };
    match value {
        Ok(v) => match Change::from_value(v) {
            Ok(c) if !c.input_errors().is_empty() => {
                for e in c.input_errors() {
                    eprintln!("error: {}: {}", path.display(), crate::terminal::escape(e));
                }
                None
            }
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!("error: {}: {e}", path.display());
                None
            }
        },
        Err(e) => {
            eprint!("{}", render(&e));
            None
        }
    }
}

fn print_verdict(v: &Verdict, format: OutputFormat) {
    let mut out = std::io::stdout().lock();
    let _ = match format {
        OutputFormat::Json => writeln!(out, "{}", v.to_json_pretty()),
        OutputFormat::Text => write!(out, "{}", v.to_text()),
    };
}

fn evaluate(args: &EvaluateArgs) -> u8 {
    let limits = args.limits.limits();
    let at = match parse_at(args.at.as_deref()) {
        Ok(at) => at,
        Err(e) => {
            eprintln!("error: {e}\n  help: write an RFC 3339 instant such as `2026-11-26T10:00:00Z` or `2026-11-26T05:00:00-05:00`");
            return EXIT_BAD_INPUT;
        }
    };
    let Some(policy) = load_policy(&args.policy, &limits, ErrorFormat::Human) else {
        return EXIT_BAD_INPUT;
    };
    let Some(inventory) = load_inventory(args.inventory.as_deref(), &limits) else {
        return EXIT_BAD_INPUT;
    };
    if args.change.extension().is_some_and(|e| e == "jsonl") {
        if args.reviews.is_some() {
            eprintln!("error: `--reviews` holds the reviews of one pull or merge request, so it cannot apply to a batch (`.jsonl`) of changes\n  help: evaluate each change on its own with its own `--reviews`");
            return EXIT_BAD_INPUT;
        }
        return evaluate_batch(args, &policy, &inventory, at, &limits);
    }
    let Some(change) = load_change(&args.change, &limits) else {
        return EXIT_BAD_INPUT;
    };
    let reviews = match &args.reviews {
        None => None,
        Some(spec) => match load_reviews(spec, &change, &limits) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("error: {e}");
                return EXIT_BAD_INPUT;
            }
        },
    };
    let change = match effective_change(change, reviews.as_deref(), args.keep_change_approvals) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {}: {e}", args.change.display());
            return EXIT_BAD_INPUT;
        }
    };
    let (verdict, explanation) = if args.explain {
        let (v, e) = policy.explain(&change, &inventory, at);
        (v, Some(e))
    } else {
        (policy.evaluate(&change, &inventory, at), None)
    };
    if let Some(log) = &args.record {
        if !append_record(log, &verdict, &change, &inventory) {
            return EXIT_BAD_INPUT;
        }
    }
    match explanation {
        Some(explanation) => {
            let mut out = std::io::stdout().lock();
            let _ = match args.format {
                OutputFormat::Json => {
                    let mut v = serde_json::to_value(&verdict).unwrap_or_default();
                    if let serde_json::Value::Object(m) = &mut v {
                        m.insert(
                            "explain".into(),
                            serde_json::to_value(&explanation).unwrap_or_default(),
                        );
                    }
                    writeln!(
                        out,
                        "{}",
                        serde_json::to_string_pretty(&v).unwrap_or_default()
                    )
                }
                OutputFormat::Text => {
                    write!(out, "{}{}", verdict.to_text(), explanation.to_text())
                }
            };
        }
        None => print_verdict(&verdict, args.format),
    }
    u8::try_from(verdict.decision.exit_code()).unwrap_or(EXIT_BAD_INPUT)
}

/// Reads `--reviews SYSTEM:FILE` for `change`, which must name the revision deployed.
fn load_reviews(
    spec: &str,
    change: &Change,
    limits: &Limits,
) -> Result<Vec<crate::review::ReviewApproval>, String> {
    let (provider, file) = crate::review::parse_spec(spec)?;
    match change.value().get("revision") {
        Some(crate::value::Value::Str(r)) if !r.is_empty() => {}
        Some(crate::value::Value::Int(_)) => {}
        _ => {
            return Err(format!(
                "`--reviews {spec}` needs the change's `revision` (the commit being deployed): without it an approval of an older commit could not be told from one of this commit"
            ))
        }
    }
    let path = Path::new(file);
    let len = std::fs::metadata(path)
        .map_err(|e| format!("cannot read `{file}`: {e}"))?
        .len();
    if usize::try_from(len).map_or(true, |l| l > limits.max_input_bytes) {
        return Err(format!(
            "`{file}` is {len} bytes, over the limit of {} (`--max-input-bytes`)",
            limits.max_input_bytes
        ));
    }
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read `{file}`: {e}"))?;
    crate::review::read(provider, &bytes, file).map_err(|e| e.to_string())
}

/// The change as evaluated ([`crate::review::apply`]), with a note when the change's
/// own approvals are dropped.
fn effective_change(
    change: Change,
    reviews: Option<&[crate::review::ReviewApproval]>,
    keep: bool,
) -> Result<Change, String> {
    let (change, dropped) =
        crate::review::apply(change, reviews, keep).map_err(|e| e.to_string())?;
    if dropped > 0 {
        eprintln!(
            "note: the change's own {dropped} approval{} replaced by those from the review system (`--keep-change-approvals` keeps them)",
            if dropped == 1 { " is" } else { "s are" }
        );
    }
    Ok(change)
}

/// Appends the record of `verdict`; prints the error and returns false on failure.
fn append_record(log: &Path, verdict: &Verdict, change: &Change, inventory: &Inventory) -> bool {
    let mut record = crate::record::Record::new(verdict, change, inventory);
    match crate::record::append(log, &mut record) {
        Ok(_) => true,
        Err(e) => {
            eprintln!(
                "error: cannot append the decision record to `{}`: {e}",
                log.display()
            );
            false
        }
    }
}

fn audit_verify(args: &VerifyArgs) -> u8 {
    let file = match std::fs::File::open(&args.log) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", args.log.display());
            return EXIT_BAD_INPUT;
        }
    };
    let head = args.head.as_deref().map(str::to_ascii_lowercase);
    match crate::record::verify(std::io::BufReader::new(file), head.as_deref()) {
        Ok(v) => {
            if let Some(h) = &v.head {
                println!("{h}");
            }
            let anchored = match v.anchor {
                Some(n) => format!("; the anchored head is record {n}"),
                None => String::new(),
            };
            eprintln!(
                "ok: {} record{}, every one intact and the chain unbroken{anchored}",
                v.records,
                if v.records == 1 { "" } else { "s" }
            );
            0
        }
        Err(b) => {
            eprintln!("error: {}:{}: {b}", args.log.display(), b.line);
            EXIT_BAD_INPUT
        }
    }
}

fn audit_replay(args: &ReplayArgs) -> u8 {
    let limits = args.limits.limits();
    let mut policies = Vec::new();
    for p in &args.policy {
        let Some(policy) = load_policy(p, &limits, ErrorFormat::Human) else {
            return EXIT_BAD_INPUT;
        };
        policies.push(policy);
    }
    let mut inventories = Vec::new();
    for i in &args.inventory {
        let Some(inventory) = load_inventory(Some(i), &limits) else {
            return EXIT_BAD_INPUT;
        };
        inventories.push(inventory);
    }
    let open = || std::fs::File::open(&args.log).map(std::io::BufReader::new);
    let verified = open()
        .map_err(|e| e.to_string())
        .and_then(|f| crate::record::verify(f, None).map_err(|b| format!("{}: {b}", b.line)));
    if let Err(e) = verified {
        eprintln!(
            "error: {}:{e}
  help: replay needs an intact log; `changegate audit verify` names the first bad line",
            args.log.display()
        );
        return EXIT_BAD_INPUT;
    }
    let replay = match open().map_err(|e| e.to_string()).and_then(|f| {
        crate::record::replay(f, &policies, &inventories).map_err(|b| format!("{}: {b}", b.line))
    }) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {}:{e}", args.log.display());
            return EXIT_BAD_INPUT;
        }
    };
    let mut out = std::io::stdout().lock();
    let _ = match args.format {
        OutputFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&replay).unwrap_or_default()
        ),
        OutputFormat::Text => write!(out, "{}", replay.to_text()),
    };
    if replay.failed.is_empty() {
        0
    } else {
        EXIT_BAD_INPUT
    }
}

/// One change per line; one verdict per line (JSON) in the same order. Streams, so
/// memory does not grow with the file. Exits with the most restrictive code, and 1
/// if any line could not be read.
fn evaluate_batch(
    args: &EvaluateArgs,
    policy: &Policy,
    inventory: &Inventory,
    at: DateTime<Utc>,
    limits: &Limits,
) -> u8 {
    let file = match std::fs::File::open(&args.change) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", args.change.display());
            return EXIT_BAD_INPUT;
        }
    };
    let il = limits.documents();
    let name = args.change.display().to_string();
    let mut reader = std::io::BufReader::new(file);
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    let mut worst: Option<crate::verdict::Decision> = None;
    let mut bad = false;
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        line.clear();
        // One line at most the size limit (and its line break): a line that never
        // ends (`/dev/zero`) stops at the limit.
        let cap = u64::try_from(il.max_bytes)
            .unwrap_or(u64::MAX)
            .saturating_add(2);
        match std::io::Read::take(&mut reader, cap).read_until(b'\n', &mut line) {
            Ok(0) => break,
            Ok(_) if line.len() > il.max_bytes.saturating_add(1) => {
                eprintln!(
                    "error: `{name}`: line {} holds more than the limit of {} bytes",
                    number + 1,
                    il.max_bytes
                );
                bad = true;
                break;
            }
            Ok(_) => {}
            Err(e) => {
                eprintln!("error: cannot read `{name}`: {e}");
                bad = true;
                break;
            }
        }
        number += 1;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let parsed = input::parse_bytes(&line, Format::Json, &format!("{name}:{number}"), &il)
            .map_err(|e| e.to_string())
            .and_then(|v| Change::from_value(v).map_err(|e| e.to_string()))
            .and_then(|c| match c.input_errors() {
                // A name that cannot stand for a person: refused like unreadable input.
                [] => Ok(c),
                errors => Err(errors.join("; ")),
            })
            .and_then(|c| effective_change(c, None, false));
        match parsed {
            Ok(change) => {
                let v = policy.evaluate(&change, inventory, at);
                if let Some(log) = &args.record {
                    if !append_record(log, &v, &change, inventory) {
                        bad = true;
                        break;
                    }
                }
                worst = Some(worst.map_or(v.decision, |w| {
                    if v.decision.severity() > w.severity() {
                        v.decision
                    } else {
                        w
                    }
                }));
                let _ = match args.format {
                    // Straight into the output buffer: no string per verdict.
                    OutputFormat::Json => match serde_json::to_writer(&mut out, &v) {
                        Ok(()) => writeln!(out),
                        Err(e) => writeln!(out, "{{\"error\":\"{e}\"}}"),
                    },
                    OutputFormat::Text => writeln!(out, "{}", v.to_text()),
                };
            }
            Err(e) => {
                bad = true;
                let _ = writeln!(out, "{}", serde_json::json!({"line": number, "error": e}));
            }
        }
    }
    let _ = out.flush();
    if bad {
        return EXIT_BAD_INPUT;
    }
    match worst {
        Some(d) => u8::try_from(d.exit_code()).unwrap_or(EXIT_BAD_INPUT),
        None => {
            // No verdict is not a `deploy`: an empty batch gates nothing.
            eprintln!("error: `{name}` holds no change: a batch needs one JSON object per line");
            EXIT_BAD_INPUT
        }
    }
}

fn check(args: &CheckArgs) -> u8 {
    let limits = args.limits.limits();
    let mut failed = false;
    for path in &args.policies {
        match Policy::from_file_with_limits(path, &limits) {
            Ok(policy) => {
                let warnings = Diagnostics(policy.warnings().to_vec());
                if !warnings.is_empty() {
                    eprint_diags(&warnings, args.error_format);
                    if args.deny_warnings {
                        failed = true;
                    }
                }
            }
            Err(diags) => {
                eprint_diags(&diags, args.error_format);
                failed = true;
            }
        }
    }
    if failed {
        EXIT_BAD_INPUT
    } else {
        0
    }
}

fn windows(args: &WindowsArgs) -> u8 {
    let limits = args.limits.limits();
    let from = match parse_at(args.from.as_deref()) {
        Ok(at) => at.timestamp(),
        Err(e) => {
            eprintln!("error: {}", e.replace("`--at`", "`--from`"));
            return EXIT_BAD_INPUT;
        }
    };
    let Some(policy) = load_policy(&args.policy, &limits, ErrorFormat::Human) else {
        return EXIT_BAD_INPUT;
    };
    let Some(inventory) = load_inventory(args.inventory.as_deref(), &limits) else {
        return EXIT_BAD_INPUT;
    };
    let to = from.saturating_add(i64::from(args.days) * crate::time::DAY_SECS);
    let calendar = policy.calendar(&inventory, from, to);
    let change = match &args.change {
        Some(path) => match load_change(path, &limits) {
            Some(c) => Some(policy.change_calendar(&c, &inventory, from, to)),
            None => return EXIT_BAD_INPUT,
        },
        None => None,
    };
    let mut out = std::io::stdout().lock();
    let _ = match (args.format, &change) {
        (CalendarFormat::Json, None) => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&calendar).unwrap_or_default()
        ),
        (CalendarFormat::Text, None) => write!(out, "{}", calendar.to_text()),
        (CalendarFormat::Json, Some(c)) => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(c).unwrap_or_default()
        ),
        (CalendarFormat::Text, Some(c)) => write!(out, "{}", c.to_text()),
        (CalendarFormat::Ics, None) => write!(
            out,
            "{}",
            crate::calendar::ics::policy_calendar(policy.name(), &calendar)
        ),
        (CalendarFormat::Ics, Some(c)) => write!(
            out,
            "{}",
            crate::calendar::ics::change_calendar(c, &calendar)
        ),
        (CalendarFormat::Html, c) => write!(
            out,
            "{}",
            crate::calendar::html::page(policy.name(), &calendar, c.as_ref())
        ),
    };
    0
}

/// Files named by `paths` (those ending in `suffix`, or any file named explicitly when
/// `suffix` is `.gate`), folders searched recursively for files ending in `suffix`.
fn collect_files(paths: &[PathBuf], suffix: &str) -> Vec<PathBuf> {
    fn walk(dir: &Path, suffix: &str, out: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut entries: Vec<PathBuf> = entries.filter_map(Result::ok).map(|e| e.path()).collect();
        entries.sort();
        for p in entries {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if name.starts_with('.') || name == "target" {
                continue;
            }
            if p.is_dir() {
                walk(&p, suffix, out);
            } else if name.ends_with(suffix) {
                out.push(p);
            }
        }
    }
    let defaults = [PathBuf::from(".")];
    let paths = if paths.is_empty() {
        &defaults[..]
    } else {
        paths
    };
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, suffix, &mut out);
        } else if suffix == ".gate" || p.to_string_lossy().ends_with(suffix) {
            out.push(p.clone());
        }
    }
    out
}

fn test(args: &TestArgs) -> u8 {
    let limits = args.limits.limits();
    let mut files = Vec::new();
    for suffix in [".test.yaml", ".test.yml", ".test.toml"] {
        files.extend(collect_files(&args.paths, suffix));
    }
    // Explicit files are collected once per suffix; keep each once.
    files.sort();
    files.dedup();
    if files.is_empty() {
        eprintln!("error: no test files (`*.test.yaml`, `*.test.yml`, `*.test.toml`) found");
        return EXIT_BAD_INPUT;
    }
    let reports: Vec<crate::testing::FileReport> = files
        .iter()
        .map(|f| crate::testing::run_file(f, &limits))
        .collect();
    let show_coverage = args.coverage || args.min_coverage.is_some();
    let mut out = std::io::stdout().lock();
    let _ = match args.format {
        TestFormat::Text => write!(
            out,
            "{}",
            crate::testing::render_text(&reports, show_coverage)
        ),
        TestFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "files": reports }))
                .unwrap_or_default()
        ),
        TestFormat::Junit => write!(out, "{}", crate::testing::render_junit(&reports)),
    };
    let all_passed = reports
        .iter()
        .all(|r| r.error.is_none() && r.cases.iter().all(|c| c.passed));
    let mut covered = true;
    if let Some(min) = args.min_coverage {
        // Checked here too for library callers of `Cli`; clap already refuses it.
        if !(0.0..=100.0).contains(&min) {
            eprintln!("error: `--min-coverage` must be a percentage from 0 to 100, not {min}");
            return EXIT_BAD_INPUT;
        }
        for r in &reports {
            let pct = r.coverage.percent();
            if pct < min {
                covered = false;
                eprintln!(
                    "error: coverage of {} is {}%, below the minimum of {min}%",
                    crate::terminal::escape(&r.policy),
                    crate::testing::floor_percent(pct)
                );
            }
        }
    }
    if all_passed && covered {
        0
    } else {
        EXIT_BAD_INPUT
    }
}

fn fmt(args: &FmtArgs) -> u8 {
    let limits = args.limits.limits();
    let mut failed = false;
    for path in collect_files(&args.paths, ".gate") {
        let name = path.display().to_string();
        let source = match crate::check::read_source(&path, &limits, crate::input::FileKinds::Any) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
                continue;
            }
        };
        let formatted = match crate::fmt::format_source(&source, &name, &limits) {
            Ok(f) => f,
            Err(diags) => {
                eprint_diags(&diags, ErrorFormat::Human);
                failed = true;
                continue;
            }
        };
        if formatted == source {
            continue;
        }
        if args.check {
            failed = true;
            let diff = similar::TextDiff::from_lines(&source, &formatted);
            let mut out = std::io::stdout().lock();
            let _ = write!(
                out,
                "{}",
                diff.unified_diff()
                    .context_radius(2)
                    .header(&name, &format!("{name} (formatted)"))
            );
        } else if let Err(e) = std::fs::write(&path, formatted) {
            eprintln!("error: cannot write `{name}`: {e}");
            failed = true;
        }
    }
    if failed {
        EXIT_BAD_INPUT
    } else {
        0
    }
}

fn blast(args: &BlastArgs) -> u8 {
    let limits = args.limits.limits();
    let Some(inventory) = load_inventory(Some(&args.inventory), &limits) else {
        return EXIT_BAD_INPUT;
    };
    let targets: Vec<&str> = args.targets.iter().map(String::as_str).collect();
    match inventory.blast(&targets) {
        Ok(b) => {
            let mut out = std::io::stdout().lock();
            let _ = match args.format {
                OutputFormat::Json => writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&b).unwrap_or_default()
                ),
                OutputFormat::Text => writeln!(out, "{b}"),
            };
            0
        }
        Err(e) => {
            eprint!("{}", render(&e));
            EXIT_BAD_INPUT
        }
    }
}
