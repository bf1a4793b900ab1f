//! The `changegate` command line: a thin shell over the library. This is the only
//! module that reads files, the clock, standard input or the terminal.

use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use chrono::{DateTime, Utc};
use clap::{Args, FromArgMatches, Parser, Subcommand, ValueEnum};

use changegate::diag::Diagnostics;
use changegate::input::{self, Format};
use changegate::Change;
use changegate::Inventory;
use changegate::Limits;
use changegate::Policy;
use changegate::Verdict;

mod calendar;
mod diff;
mod limit_args;
mod meta;
mod output;
mod report;
mod schema;
mod testing;
mod walk;
use limit_args::AllLimits;
use limit_args::{BlastLimits, CheckLimits, FmtLimits};
use output::{exit_code, render, stdout, EXIT_BAD_INPUT};
use walk::collect_files;

/// The exit codes, for `--help` (the README has the same table).
const EXIT_CODES: &str = "Exit codes:
  0   evaluate: deploy; other commands: success
  10  evaluate: approve (approvals are missing)
  11  evaluate: wait (outside its windows, or frozen)
  12  evaluate: deny
  1   bad input (no verdict), check errors, failing tests, `fmt --check` differences
  2   usage error (unknown flag, missing argument)";

/// changegate: decides whether an infrastructure change may deploy now, needs
/// approval, must wait for a change window, or must not go at all.
#[derive(Debug, Parser)]
#[command(name = "changegate", version, about, long_about = None, after_help = EXIT_CODES)]
pub(crate) struct Cli {
    /// Print nothing on standard output (the exit code and the diagnostics on
    /// standard error stay).
    #[arg(short, long, global = true)]
    quiet: bool,
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
    /// Prints a shell completion script (e.g. `changegate completions bash > /etc/bash_completion.d/changegate`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Prints the man page (roff; `changegate man | man -l -`).
    Man,
    /// Prints the JSON Schema of a document: change, inventory, test (a test file) or verdict.
    Schema {
        /// The document.
        #[arg(value_parser = clap::builder::PossibleValuesParser::new(crate::cli::schema::NAMES))]
        name: String,
    },
    /// Replays a history under two policies and shows what they decide differently: exit 0 nothing differs, 3 something does, 1 bad input.
    Diff(crate::cli::diff::command::DiffArgs),
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
    limits: AllLimits,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TestFormat {
    Text,
    Json,
    Junit,
    /// GitHub Actions annotations for failing cases, after the text report.
    Github,
}

/// Formats of `evaluate`'s verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EvaluateFormat {
    /// For people.
    Text,
    /// The JSON contract.
    Json,
    /// GitHub-flavoured Markdown, for a job summary or a merge-request comment.
    Markdown,
    /// GitHub Actions annotations (workflow commands), after the text verdict.
    Github,
}

/// Formats of `check`'s diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum CheckFormat {
    /// Rendered with source excerpts, on stderr.
    Human,
    /// One JSON object per line, on stderr.
    Json,
    /// One SARIF 2.1.0 log on stdout.
    Sarif,
    /// GitHub Actions annotations on stdout.
    Github,
    /// A GitLab code-quality report on stdout.
    Gitlab,
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

#[derive(Debug, Args)]
struct EvaluateArgs {
    /// The policy file (`-` for standard input, when it has no imports).
    #[arg(short, long, value_name = "POLICY")]
    policy: PathBuf,
    /// The change: JSON or YAML (`-` for standard input), or JSON Lines (`.jsonl`) for a batch.
    #[arg(short, long, value_name = "CHANGE")]
    change: PathBuf,
    /// The inventory: JSON, YAML or TOML (`-` for standard input: JSON or YAML).
    #[arg(short, long, value_name = "INVENTORY")]
    inventory: Option<PathBuf>,
    /// Read the change as JSON Lines, one change per line, one verdict per line
    /// (implied by a `.jsonl` file; `-c - --batch` reads a batch from standard input).
    #[arg(long)]
    batch: bool,
    /// The instant to evaluate at, RFC 3339 (default: now).
    #[arg(long, value_name = "TIME")]
    at: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = EvaluateFormat::Text)]
    format: EvaluateFormat,
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
    limits: AllLimits,
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Policy files or folders (searched for `*.gate`); `-` for standard input.
    #[arg(required = true, value_name = "PATH")]
    policies: Vec<PathBuf>,
    /// How to print diagnostics (`--error-format` is the older name).
    #[arg(long, alias = "error-format", value_enum, default_value_t = CheckFormat::Human)]
    format: CheckFormat,
    /// Treat warnings as errors.
    #[arg(long)]
    deny_warnings: bool,
    #[command(flatten)]
    limits: CheckLimits,
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
    limits: AllLimits,
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
    /// `-` reads one test file (YAML or JSON) from standard input; it must name its `policy`.
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = TestFormat::Text)]
    format: TestFormat,
    /// Report which rules, windows and freezes the cases exercise.
    #[arg(long)]
    coverage: bool,
    /// Run only the cases whose name contains PATTERN.
    #[arg(long, value_name = "PATTERN")]
    run: Option<String>,
    /// Fail when a policy's coverage (rules, windows and freezes together) is below this percentage.
    #[arg(long, value_name = "PERCENT", value_parser = parse_percent)]
    min_coverage: Option<f64>,
    #[command(flatten)]
    limits: AllLimits,
}

#[derive(Debug, Args)]
struct FmtArgs {
    /// Policy files or folders (searched for `*.gate`); default: the current folder.
    /// `-` formats standard input to standard output (for editors).
    #[arg(value_name = "PATH")]
    paths: Vec<PathBuf>,
    /// Change nothing: print a diff and exit 1 if any file is not formatted.
    #[arg(long)]
    check: bool,
    #[command(flatten)]
    limits: FmtLimits,
}

#[derive(Debug, Args)]
struct BlastArgs {
    /// The inventory: JSON, YAML or TOML (`-` for standard input: JSON or YAML).
    #[arg(short, long, value_name = "INVENTORY")]
    inventory: PathBuf,
    /// The devices the change touches.
    #[arg(required = true, value_name = "TARGET")]
    targets: Vec<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    format: OutputFormat,
    #[command(flatten)]
    limits: BlastLimits,
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
pub(crate) fn main() -> ExitCode {
    let matches = meta::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    output::QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
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
        Command::Diff(args) => crate::cli::diff::command::run(&args),
        Command::Completions { shell } => meta::completions(shell),
        Command::Man => meta::man(),
        Command::Schema { name } => match crate::cli::schema::schema(&name) {
            Some(schema) => {
                let text = serde_json::to_string_pretty(&schema).unwrap_or_default();
                let _ = writeln!(stdout(), "{text}");
                0
            }
            None => EXIT_BAD_INPUT,
        },
    };
    ExitCode::from(code)
}

/// Whether a path names standard input.
fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == "-"
}

/// Reads standard input whole, refusing more than `max` bytes (read at most one
/// byte past it, so a stream without end cannot exhaust memory).
pub(crate) fn read_stdin(max: usize, what: &str) -> Result<Vec<u8>, String> {
    let mut bytes = Vec::new();
    let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    std::io::Read::read_to_end(
        &mut std::io::Read::take(std::io::stdin().lock(), limit),
        &mut bytes,
    )
    .map_err(|e| format!("cannot read {what} from standard input: {e}"))?;
    if bytes.len() > max {
        return Err(format!(
            "{what} on standard input is larger than the limit of {max} bytes"
        ));
    }
    Ok(bytes)
}

/// JSON when the document starts with `{` or `[`, else YAML.
pub(crate) fn sniff(bytes: &[u8]) -> Format {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{' | b'[') => Format::Json,
        _ => Format::Yaml,
    }
}

/// Policy source from standard input, as UTF-8 text.
fn read_stdin_policy(limits: &Limits) -> Result<String, String> {
    let bytes = read_stdin(limits.max_source_bytes, "the policy")?;
    String::from_utf8(bytes).map_err(|_| "the policy on standard input is not UTF-8".to_owned())
}

/// A policy given on standard input has no folder, so its imports cannot resolve.
fn no_imports_from_stdin(path: &Path) -> std::io::Result<String> {
    Err(std::io::Error::other(format!(
        "`-` reads the policy from standard input, which has no folder to import `{}` from; give the policy as a file",
        path.display()
    )))
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
    let mut ordered: Vec<&changegate::diag::Diagnostic> =
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
    let secs =
        changegate::time::parse_at(text).map_err(|e| format!("invalid `--at` {text:?}: {e}"))?;
    DateTime::from_timestamp(secs, 0)
        .ok_or_else(|| format!("invalid `--at` {text:?}: out of range"))
}

fn load_policy(path: &Path, limits: &Limits, format: ErrorFormat) -> Option<Policy> {
    let loaded = if is_stdin(path) {
        match read_stdin_policy(limits) {
            Ok(source) => {
                Policy::parse_with_loader(&source, "<stdin>", limits, &no_imports_from_stdin)
            }
            Err(e) => {
                eprintln!("error: {e}");
                return None;
            }
        }
    } else {
        Policy::from_file_with_limits(path, limits)
    };
    match loaded {
        Ok(p) => Some(p),
        Err(diags) => {
            eprint_diags(&limit_args::name_flags(diags), format);
            None
        }
    }
}

fn load_inventory(path: Option<&Path>, limits: &Limits) -> Option<Inventory> {
    let Some(path) = path else {
        return Some(Inventory::empty());
    };
    let loaded = if is_stdin(path) {
        let bytes = match read_stdin(limits.max_input_bytes, "the inventory") {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: {e}");
                return None;
            }
        };
        input::check_bytes(&bytes, "<stdin>", limits)
            .map_err(changegate::topology::InventoryError::from)
            .and_then(|text| Inventory::parse(text, sniff(&bytes), "<stdin>", limits))
    } else {
        Inventory::from_file_with(path, limits)
    };
    match loaded {
        Ok(i) => Some(i),
        Err(e) => {
            eprint!("{}", render(&e));
            None
        }
    }
}

/// Reads a change document (file or `-`), returning it or printing a diagnostic.
fn load_change(path: &Path, limits: &Limits) -> Option<Change> {
    let value = if is_stdin(path) {
        let bytes = match read_stdin(limits.max_input_bytes, "the change") {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: {e}");
                return None;
            }
        };
        input::parse_bytes(&bytes, sniff(&bytes), "<stdin>", limits)
    } else {
        input::read_file(path, limits)
    };
    match value {
        Ok(v) => match Change::from_value(v) {
            Ok(c) if !c.input_errors().is_empty() => {
                for e in c.input_errors() {
                    eprintln!(
                        "error: {}: {}",
                        path.display(),
                        changegate::terminal::escape(e)
                    );
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

/// A verdict in `format`; JSON is pretty unless `compact` (one line, for a batch).
fn verdict_text(v: &Verdict, format: EvaluateFormat, compact: bool) -> String {
    match format {
        EvaluateFormat::Json if compact => v.to_json() + "\n",
        EvaluateFormat::Json => v.to_json_pretty() + "\n",
        EvaluateFormat::Text => v.to_text(),
        EvaluateFormat::Markdown => crate::cli::report::markdown::verdict(v),
        EvaluateFormat::Github => v.to_text() + &crate::cli::report::github::verdict(v),
    }
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
    let stdins = [
        Some(&args.policy),
        Some(&args.change),
        args.inventory.as_ref(),
    ]
    .into_iter()
    .flatten()
    .filter(|p| is_stdin(p))
    .count();
    if stdins > 1 {
        eprintln!("error: only one of `-p`, `-c` and `-i` can be `-` (standard input)");
        return EXIT_BAD_INPUT;
    }
    let Some(policy) = load_policy(&args.policy, &limits, ErrorFormat::Human) else {
        return EXIT_BAD_INPUT;
    };
    let Some(inventory) = load_inventory(args.inventory.as_deref(), &limits) else {
        return EXIT_BAD_INPUT;
    };
    if args.batch || args.change.extension().is_some_and(|e| e == "jsonl") {
        if args.reviews.is_some() {
            eprintln!("error: `--reviews` holds the reviews of one pull or merge request, so it cannot apply to a batch of changes\n  help: evaluate each change on its own with its own `--reviews`");
            return EXIT_BAD_INPUT;
        }
        return evaluate_batch(args, &policy, &inventory, at, &limits);
    }
    let Some(change) = load_evaluated_change(args, &limits) else {
        return EXIT_BAD_INPUT;
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
    print_evaluation(&verdict, explanation.as_ref(), args.format);
    exit_code(verdict.decision)
}

/// The change of `evaluate -c`, with the approvals of `--reviews` applied; `None`
/// (the error printed) when it cannot be read.
fn load_evaluated_change(args: &EvaluateArgs, limits: &Limits) -> Option<Change> {
    let change = load_change(&args.change, limits)?;
    let reviews = match &args.reviews {
        None => None,
        Some(spec) => match load_reviews(spec, &change, limits) {
            Ok(r) => Some(r),
            Err(e) => {
                eprintln!("error: {e}");
                return None;
            }
        },
    };
    match effective_change(change, reviews.as_deref(), args.keep_change_approvals) {
        Ok(c) => Some(c),
        Err(e) => {
            eprintln!("error: {}: {e}", args.change.display());
            None
        }
    }
}

/// Prints the verdict of `evaluate` in `format`, with the explanation of `--explain`.
fn print_evaluation(
    verdict: &Verdict,
    explanation: Option<&changegate::explain::Explanation>,
    format: EvaluateFormat,
) {
    let mut out = stdout();
    let _ = match (explanation, format) {
        (Some(explanation), EvaluateFormat::Json) => {
            let mut v = serde_json::to_value(verdict).unwrap_or_default();
            if let serde_json::Value::Object(m) = &mut v {
                m.insert(
                    "explain".into(),
                    serde_json::to_value(explanation).unwrap_or_default(),
                );
            }
            writeln!(
                out,
                "{}",
                serde_json::to_string_pretty(&v).unwrap_or_default()
            )
        }
        (Some(explanation), EvaluateFormat::Markdown) => write!(
            out,
            "{}<details><summary>explanation</summary>\n\n```text\n{}```\n\n</details>\n",
            crate::cli::report::markdown::verdict(verdict),
            explanation.to_text().replace("```", "'''")
        ),
        (Some(explanation), format @ (EvaluateFormat::Text | EvaluateFormat::Github)) => write!(
            out,
            "{}{}",
            verdict_text(verdict, format, false),
            explanation.to_text()
        ),
        (None, format) => write!(out, "{}", verdict_text(verdict, format, false)),
    };
}

/// Reads `--reviews SYSTEM:FILE` for `change`, which must name the revision deployed.
fn load_reviews(
    spec: &str,
    change: &Change,
    limits: &Limits,
) -> Result<Vec<changegate::review::ReviewApproval>, String> {
    let (provider, file) = changegate::review::parse_spec(spec)?;
    match change.value().get("revision") {
        Some(changegate::Value::Str(r)) if !r.is_empty() => {}
        Some(changegate::Value::Int(_)) => {}
        _ => {
            return Err(format!(
                "`--reviews {spec}` needs the change's `revision` (the commit being deployed): without it an approval of an older commit could not be told from one of this commit"
            ))
        }
    }
    // Read within the limit whatever the file is (a device or FIFO included).
    let bytes = match input::read_bounded(
        Path::new(file),
        limits.max_input_bytes,
        input::FileKinds::Any,
    ) {
        Ok(b) => b,
        Err(input::ReadError::TooLarge) => {
            return Err(format!(
                "`{file}` holds more than the limit of {} bytes (`{}`)",
                limits.max_input_bytes,
                limit_args::flag(changegate::limits::Limit::InputBytes).unwrap_or_default()
            ))
        }
        Err(input::ReadError::Io(e)) => return Err(format!("cannot read `{file}`: {e}")),
        Err(input::ReadError::NotAllowed(kind)) => {
            return Err(format!("`{file}` is {kind}, not a file of reviews"))
        }
    };
    changegate::review::read(provider, &bytes, file).map_err(|e| e.to_string())
}

/// The change as evaluated ([`changegate::review::apply`]), with a note when the change's
/// own approvals are dropped.
fn effective_change(
    change: Change,
    reviews: Option<&[changegate::review::ReviewApproval]>,
    keep: bool,
) -> Result<Change, String> {
    let (change, dropped) =
        changegate::review::apply(change, reviews, keep).map_err(|e| e.to_string())?;
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
    let mut record = changegate::record::Record::new(verdict, change, inventory);
    match changegate::record::append(log, &mut record) {
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
    match changegate::record::verify(std::io::BufReader::new(file), head.as_deref()) {
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
        .and_then(|f| changegate::record::verify(f, None).map_err(|b| format!("{}: {b}", b.line)));
    if let Err(e) = verified {
        eprintln!(
            "error: {}:{e}
  help: replay needs an intact log; `changegate audit verify` names the first bad line",
            args.log.display()
        );
        return EXIT_BAD_INPUT;
    }
    let replay = match open().map_err(|e| e.to_string()).and_then(|f| {
        changegate::record::replay(f, &policies, &inventories)
            .map_err(|b| format!("{}: {b}", b.line))
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
    let Some(mut reader) = open_batch(&args.change) else {
        return EXIT_BAD_INPUT;
    };
    let name = if is_stdin(&args.change) {
        "<stdin>".to_owned()
    } else {
        args.change.display().to_string()
    };
    let mut out = std::io::BufWriter::new(stdout());
    let mut worst: Option<changegate::Decision> = None;
    let mut bad = false;
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        match next_batch_line(&mut reader, &mut line, &mut number, limits, &name, &mut out) {
            BatchLine::Read => {}
            BatchLine::End => break,
            BatchLine::TooLong => {
                bad = true;
                continue;
            }
            BatchLine::Stop => {
                bad = true;
                break;
            }
        }
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match batch_change(&line, &format!("{name}:{number}"), limits) {
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
                write_batch_verdict(&mut out, &v, args.format);
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
        Some(d) => exit_code(d),
        None => {
            // No verdict is not a `deploy`: an empty batch gates nothing.
            eprintln!("error: `{name}` holds no change: a batch needs one JSON object per line");
            EXIT_BAD_INPUT
        }
    }
}

/// What [`next_batch_line`] read.
enum BatchLine {
    /// A line, in the buffer.
    Read,
    /// The end of the input.
    End,
    /// A line longer than the limit, refused in the output and skipped.
    TooLong,
    /// An error (printed) that stops the batch.
    Stop,
}

/// Reads the next line of a batch into `line` and counts it in `number`. A line is
/// one change: it may not outgrow the input limit, so a stream without newlines
/// (`/dev/zero`) cannot exhaust memory; a longer line is refused (in `out`) and
/// skipped a bounded piece at a time.
fn next_batch_line(
    reader: &mut dyn BufRead,
    line: &mut Vec<u8>,
    number: &mut usize,
    limits: &Limits,
    name: &str,
    out: &mut impl Write,
) -> BatchLine {
    line.clear();
    let cap = u64::try_from(limits.max_input_bytes)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    match std::io::Read::take(&mut *reader, cap).read_until(b'\n', line) {
        Ok(0) => return BatchLine::End,
        Ok(_) => {}
        Err(e) => {
            eprintln!("error: cannot read `{name}`: {e}");
            return BatchLine::Stop;
        }
    }
    *number += 1;
    if line.len() <= limits.max_input_bytes || line.last() == Some(&b'\n') {
        return BatchLine::Read;
    }
    let e = format!(
        "line is longer than the limit of {} bytes",
        limits.max_input_bytes
    );
    let _ = writeln!(out, "{}", serde_json::json!({"line": *number, "error": e}));
    // At most 16 limits' worth: a stream that never ends a line (`/dev/zero`) stops
    // the batch instead of being read for ever.
    let budget = limits.max_input_bytes.max(1).saturating_mul(16);
    if skip_rest_of_line(reader, line, cap, budget) {
        return BatchLine::TooLong;
    }
    eprintln!(
        "error: `{name}`: line {number} does not end within {budget} bytes; the batch stops here"
    );
    BatchLine::Stop
}

/// The batch file (or standard input), buffered; `None` (the error printed) when it
/// cannot be opened.
fn open_batch(path: &Path) -> Option<Box<dyn BufRead>> {
    if is_stdin(path) {
        return Some(Box::new(std::io::stdin().lock()));
    }
    match std::fs::File::open(path) {
        Ok(f) => Some(Box::new(std::io::BufReader::new(f))),
        Err(e) => {
            eprintln!("error: cannot read `{}`: {e}", path.display());
            None
        }
    }
}

/// Skips the rest of a too-long line, `cap` bytes at a time: true when the line (or
/// the input) ended, false when more than `budget` bytes went by first.
fn skip_rest_of_line(
    reader: &mut dyn BufRead,
    line: &mut Vec<u8>,
    cap: u64,
    budget: usize,
) -> bool {
    let mut skipped = 0usize;
    loop {
        line.clear();
        match std::io::Read::take(&mut *reader, cap).read_until(b'\n', line) {
            Ok(0) | Err(_) => return true,
            Ok(_) if line.last() == Some(&b'\n') => return true,
            Ok(n) => {
                skipped = skipped.saturating_add(n);
                if skipped > budget {
                    return false;
                }
            }
        }
    }
}

/// One line of a batch as the change evaluated (`at` locates errors).
fn batch_change(line: &[u8], at: &str, limits: &Limits) -> Result<Change, String> {
    input::parse_bytes(line, Format::Json, at, limits)
        .map_err(|e| e.to_string())
        .and_then(|v| Change::from_value(v).map_err(|e| e.to_string()))
        .and_then(|c| match c.input_errors() {
            // A name that cannot stand for a person: refused like unreadable input.
            [] => Ok(c),
            errors => Err(errors.join("; ")),
        })
        .and_then(|c| effective_change(c, None, false))
}

/// One verdict of a batch, on a line of its own.
fn write_batch_verdict(out: &mut impl Write, v: &Verdict, format: EvaluateFormat) {
    let _ = match format {
        // Straight into the output buffer: no string per verdict.
        EvaluateFormat::Json => match serde_json::to_writer(&mut *out, v) {
            Ok(()) => writeln!(out),
            Err(e) => writeln!(out, "{{\"error\":\"{e}\"}}"),
        },
        other => writeln!(out, "{}", verdict_text(v, other, true)),
    };
}

fn check(args: &CheckArgs) -> u8 {
    let limits = args.limits.limits();
    let mut failed = false;
    // The report formats are one document for all files, on stdout.
    let mut report: Vec<changegate::diag::DiagnosticJson> = Vec::new();
    let stream = match args.format {
        CheckFormat::Human => Some(ErrorFormat::Human),
        CheckFormat::Json => Some(ErrorFormat::Json),
        CheckFormat::Sarif | CheckFormat::Github | CheckFormat::Gitlab => None,
    };
    // In a folder, modules (files without `policy`, rules or default) are checked
    // through the policies that import them, not on their own.
    if args.policies.iter().filter(|p| is_stdin(p)).count() > 1 {
        eprintln!("error: standard input (`-`) can be given once");
        return EXIT_BAD_INPUT;
    }
    let mut files = collect_files(&args.policies, ".gate");
    files.retain(|f| args.policies.contains(f) || !is_module(f, &limits));
    if files.is_empty() {
        eprintln!("error: no policy files (`*.gate`) found");
        return EXIT_BAD_INPUT;
    }
    for path in &files {
        let loaded = if is_stdin(path) {
            read_stdin_policy(&limits)
                .map_err(|e| {
                    let file = changegate::diag::SourceFile::new("<stdin>", "");
                    Diagnostics(vec![changegate::diag::Diagnostic::error(
                        "changegate::io",
                        &file,
                        e,
                    )])
                })
                .and_then(|source| {
                    Policy::parse_with_loader(&source, "<stdin>", &limits, &no_imports_from_stdin)
                })
        } else {
            Policy::from_file_with_limits(path, &limits)
        };
        let diags = limit_args::name_flags(match loaded {
            Ok(policy) => {
                if args.deny_warnings && !policy.warnings().is_empty() {
                    failed = true;
                }
                Diagnostics(policy.warnings().to_vec())
            }
            Err(diags) => {
                failed = true;
                diags
            }
        });
        match stream {
            Some(format) if !diags.is_empty() => eprint_diags(&diags, format),
            Some(_) => {}
            None => report.extend(diags.iter().map(changegate::diag::Diagnostic::to_json)),
        }
    }
    let mut out = stdout();
    let _ = match args.format {
        CheckFormat::Human | CheckFormat::Json => Ok(()),
        CheckFormat::Github => write!(out, "{}", crate::cli::report::github::diagnostics(&report)),
        CheckFormat::Sarif => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&crate::cli::report::sarif::diagnostics(&report))
                .unwrap_or_default()
        ),
        CheckFormat::Gitlab => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&crate::cli::report::gitlab::diagnostics(&report))
                .unwrap_or_default()
        ),
    };
    if failed {
        EXIT_BAD_INPUT
    } else {
        0
    }
}

/// Whether a policy file is a module: it parses and has no `policy`, rule or default.
fn is_module(path: &Path, limits: &Limits) -> bool {
    let Ok(source) = changegate::source::read(path, limits) else {
        return false;
    };
    changegate::source::is_module(&source, &path.display().to_string(), limits)
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
    if is_stdin(&args.policy) && args.inventory.as_deref().is_some_and(is_stdin) {
        eprintln!("error: only one of `-p` and `-i` can be `-` (standard input)");
        return EXIT_BAD_INPUT;
    }
    let Some(policy) = load_policy(&args.policy, &limits, ErrorFormat::Human) else {
        return EXIT_BAD_INPUT;
    };
    let Some(inventory) = load_inventory(args.inventory.as_deref(), &limits) else {
        return EXIT_BAD_INPUT;
    };
    let to = from.saturating_add(i64::from(args.days) * changegate::time::DAY_SECS);
    let calendar = policy.calendar(&inventory, from, to);
    let change = match &args.change {
        Some(path) => match load_change(path, &limits) {
            Some(c) => Some(policy.change_calendar(&c, &inventory, from, to)),
            None => return EXIT_BAD_INPUT,
        },
        None => None,
    };
    let mut out = stdout();
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
            crate::cli::calendar::ics::policy_calendar(policy.name(), &calendar)
        ),
        (CalendarFormat::Ics, Some(c)) => write!(
            out,
            "{}",
            crate::cli::calendar::ics::change_calendar(c, &calendar)
        ),
        (CalendarFormat::Html, c) => write!(
            out,
            "{}",
            crate::cli::calendar::html::page(policy.name(), &calendar, c.as_ref())
        ),
    };
    0
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
    let reports: Vec<crate::cli::testing::FileReport> = files
        .iter()
        .map(|f| crate::cli::testing::run_file_matching(f, &limits, args.run.as_deref()))
        .collect();
    if let Some(pattern) = &args.run {
        if reports
            .iter()
            .all(|r| r.error.is_none() && r.cases.is_empty())
        {
            eprintln!("error: no test case's name contains {pattern:?}");
            return EXIT_BAD_INPUT;
        }
    }
    let show_coverage = args.coverage || args.min_coverage.is_some();
    let mut out = stdout();
    let _ = match args.format {
        TestFormat::Text => write!(
            out,
            "{}",
            crate::cli::testing::render_text(&reports, show_coverage)
        ),
        TestFormat::Json => writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&serde_json::json!({ "files": reports }))
                .unwrap_or_default()
        ),
        TestFormat::Junit => write!(out, "{}", crate::cli::report::junit::tests(&reports)),
        TestFormat::Github => write!(
            out,
            "{}{}",
            crate::cli::testing::render_text(&reports, show_coverage),
            crate::cli::report::github::tests(&reports)
        ),
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
                    changegate::terminal::escape(&r.policy),
                    crate::cli::testing::floor_percent(pct)
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
    if args.paths.iter().filter(|p| is_stdin(p)).count() > 1 {
        eprintln!("error: standard input (`-`) can be given once");
        return EXIT_BAD_INPUT;
    }
    for path in collect_files(&args.paths, ".gate") {
        let stdin = is_stdin(&path);
        let name = if stdin {
            "<stdin>".to_owned()
        } else {
            path.display().to_string()
        };
        let read = if stdin {
            read_stdin_policy(&limits)
        } else {
            changegate::source::read(&path, &limits)
        };
        let source = match read {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {e}");
                failed = true;
                continue;
            }
        };
        let formatted = match changegate::fmt::format_source(&source, &name, &limits) {
            Ok(f) => f,
            Err(diags) => {
                eprint_diags(&limit_args::name_flags(diags), ErrorFormat::Human);
                failed = true;
                continue;
            }
        };
        if stdin && !args.check {
            // For editors: the formatted text, changed or not, on stdout.
            let _ = write!(stdout(), "{formatted}");
            continue;
        }
        if formatted == source {
            continue;
        }
        if args.check {
            failed = true;
            let diff = similar::TextDiff::from_lines(&source, &formatted);
            let mut out = stdout();
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
            let mut out = stdout();
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
