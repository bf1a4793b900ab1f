//! `changegate test`: policy test cases (a change and an instant -> the expected
//! verdict), run offline, with rule/window/freeze coverage.
//!
//! A test file sits next to its policy: `netops.gate` and `netops.test.yaml` (or
//! `.test.yml`, `.test.toml`):
//!
//! ```yaml
//! policy: netops.gate                  # optional: default is the file's stem + .gate
//! inventory: netops.inventory.json     # optional default for every case
//! cases:
//!   - name: firewall change waits for security and the night
//!     at: 2026-11-26T10:00:00Z
//!     change: changes/firewall-acl.json  # a path, or the change inline as a map
//!     expect:
//!       decision: approve
//!       missing: { security: 1 }         # approvals still missing, per group
//!       reasons: ["outside window weeknights"]   # each must appear in some reason
//!       next_open: 2026-11-26T22:00:00-05:00
//!       earliest: 2026-11-27T03:00:00Z
//! ```
//!
//! Paths are relative to the test file.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use changegate::input;
use changegate::Change;
use changegate::Inventory;
use changegate::Limits;
use changegate::Policy;
use changegate::{Decision, Verdict};

/// A test file (YAML or TOML): the policy it tests, an optional inventory, and its
/// cases.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "changegate test file")]
struct FileSpec {
    /// The policy, relative to the test file (default: the file's name without `.test`).
    policy: Option<String>,
    /// An inventory for every case, relative to the test file.
    inventory: Option<String>,
    /// The cases.
    cases: Vec<CaseSpec>,
}

/// One case: a change at an instant, and what the verdict must say.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct CaseSpec {
    /// The case's name.
    name: String,
    /// The instant to evaluate at, RFC 3339.
    at: String,
    /// The change: inline, or a file name relative to the test file.
    change: serde_json::Value,
    /// This case's inventory, instead of the file's.
    inventory: Option<String>,
    /// What the verdict must say.
    expect: Expect,
}

/// What a case expects; every field but `decision` is optional.
#[derive(Debug, Clone, Deserialize, Serialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct Expect {
    /// The decision.
    pub(crate) decision: Decision,
    /// Each must be a substring of some reason in the verdict.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) reasons: Option<Vec<String>>,
    /// Approvals still missing per group (groups not listed must be complete).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) missing: Option<BTreeMap<String, u32>>,
    /// The names of the matched rules, in any order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) matched: Option<Vec<String>>,
    /// `window.next_open` (`null` for none).
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) next_open: Option<Option<String>>,
    /// `earliest` (`null` for none).
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) earliest: Option<Option<String>>,
    /// `break_glass`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) break_glass: Option<bool>,
    /// `window.closes` (`null` for none).
    #[serde(
        default,
        deserialize_with = "some",
        skip_serializing_if = "Option::is_none"
    )]
    pub(crate) closes: Option<Option<String>>,
    /// `window.open`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) window_open: Option<bool>,
    /// The names of the freezes that block, in any order (`[]`: none blocks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) freeze: Option<Vec<String>>,
    /// The freezes lifted by break glass, in any order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) lifted: Option<Vec<String>>,
    /// The advisory rules reported, in any order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) advisory: Option<Vec<String>>,
    /// Every approval that did not count, in any order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) ignored_approvals: Option<Vec<IgnoredExpect>>,
    /// Each must be a substring of some evaluation error (`[]`: no errors).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) errors: Option<Vec<String>>,
    /// The exit code `changegate evaluate` gives: 0, 10, 11 or 12.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) exit_code: Option<i32>,
}

/// An approval that did not count: who, and why (`author`, `stale`, …).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(deny_unknown_fields)]
pub(crate) struct IgnoredExpect {
    /// Who approved.
    pub(crate) by: String,
    /// Why it did not count.
    pub(crate) why: String,
}

/// Compares two lists as sets, pushing a failure when they differ; returns the
/// actual list, sorted, for the diff.
fn same_names(
    field: &str,
    want: &[String],
    got: Vec<String>,
    failures: &mut Vec<String>,
) -> Vec<String> {
    let mut want = want.to_vec();
    want.sort();
    let mut got = got;
    got.sort();
    if want != got {
        failures.push(format!(
            "{field}: expected [{}], got [{}]",
            want.join(", "),
            got.join(", ")
        ));
    }
    got
}

/// The JSON Schema of a test file.
pub(crate) fn file_schema() -> schemars::Schema {
    schemars::schema_for!(FileSpec)
}

/// Distinguishes a field given as `null` (`Some(None)`) from an absent one (`None`).
fn some<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

/// The result of one case.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct CaseReport {
    /// The case's name.
    pub(crate) name: String,
    /// Whether every expectation held.
    pub(crate) passed: bool,
    /// What did not hold, one line each.
    pub(crate) failures: Vec<String>,
    /// Expected and actual, side by side, for a diff.
    #[serde(skip)]
    pub(crate) expected_text: String,
    #[serde(skip)]
    actual_text: String,
    /// How long the case took (reading its files and evaluating), for JUnit's `time`.
    #[serde(skip)]
    pub(crate) elapsed: std::time::Duration,
    /// The line of the test file where the case starts (1 when it cannot be told),
    /// for annotations.
    #[serde(skip)]
    pub(crate) line: usize,
}

/// Coverage of one policy by its cases.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Coverage {
    /// Rule name -> whether some case matched it (advisory rules: reported it).
    pub(crate) rules: BTreeMap<String, bool>,
    /// Window name -> whether some case's verdict named it.
    pub(crate) windows: BTreeMap<String, bool>,
    /// Freeze name -> whether it was active for some case (blocking, or lifted by break glass).
    pub(crate) freezes: BTreeMap<String, bool>,
}

impl Coverage {
    /// Covered and total items (rules, windows and freezes together).
    pub(crate) fn counts(&self) -> (usize, usize) {
        let all = self
            .rules
            .values()
            .chain(self.windows.values())
            .chain(self.freezes.values());
        let (mut covered, mut total) = (0, 0);
        for &c in all {
            total += 1;
            if c {
                covered += 1;
            }
        }
        (covered, total)
    }

    /// Exact percentage (100 when there is nothing to cover).
    pub(crate) fn percent(&self) -> f64 {
        let (c, t) = self.counts();
        if t == 0 {
            100.0
        } else {
            c as f64 * 100.0 / t as f64
        }
    }
}

/// The results of one test file.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FileReport {
    /// The test file.
    pub(crate) file: String,
    /// The policy it tests.
    pub(crate) policy: String,
    /// One report per case, in order.
    pub(crate) cases: Vec<CaseReport>,
    /// Coverage of the policy by these cases.
    pub(crate) coverage: Coverage,
    /// A problem that stopped the file from running (unreadable, policy errors…).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) error: Option<String>,
    /// Likely mistakes: fields the policy reads that no case's change has.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) warnings: Vec<String>,
}

impl FileReport {
    fn broken(file: &Path, policy: String, error: String) -> FileReport {
        FileReport {
            file: file.display().to_string(),
            policy,
            cases: Vec::new(),
            coverage: Coverage::default(),
            error: Some(error),
            warnings: Vec::new(),
        }
    }
}

/// Formats a percentage without ever rounding up: 99.96 is `99.9`, never `100.0`.
pub(crate) fn floor_percent(p: f64) -> String {
    let tenths = (p * 10.0).floor() / 10.0;
    format!("{tenths:.1}")
}

/// Runs every case of the test file at `path`.
#[cfg(test)]
pub(crate) fn run_file(path: &Path, limits: &Limits) -> FileReport {
    run_file_matching(path, limits, None)
}

/// A test file's contents and the line each case starts on.
type ReadSpec = Result<(FileSpec, Vec<usize>), String>;

/// Reads and parses the test file at `path`, within the document limits.
fn read_file_spec(path: &Path, limits: &Limits) -> ReadSpec {
    let (value, text) = input::read_file_with_text(path, limits).map_err(|e| e.to_string())?;
    let spec = spec_of(value, &path.display().to_string())?;
    let lines = input::Format::from_path(path)
        .map(|format| case_lines(&text, format, spec.cases.len()))
        .unwrap_or_default();
    Ok((spec, lines))
}

/// Reads and parses a test file (YAML, or JSON) from standard input.
fn read_stdin_spec(limits: &Limits) -> ReadSpec {
    let bytes = crate::cli::read_stdin(limits.max_input_bytes, "the test file")?;
    let format = crate::cli::sniff(&bytes);
    let text = input::check_bytes(&bytes, "<stdin>", limits).map_err(|e| e.to_string())?;
    let value = input::parse_named(text, format, "<stdin>", limits).map_err(|e| e.to_string())?;
    let spec = spec_of(value, "<stdin>")?;
    let lines = case_lines(text, format, spec.cases.len());
    Ok((spec, lines))
}

fn spec_of(value: changegate::Value, name: &str) -> Result<FileSpec, String> {
    serde_json::from_value(value.to_json()).map_err(|e| format!("{name}: {e}"))
}

/// The line each of `count` cases starts on in the test file's text.
fn case_lines(text: &str, format: input::Format, count: usize) -> Vec<usize> {
    (0..count)
        .map(|i| {
            input::position(
                text,
                format,
                &[input::Step::Key("cases"), input::Step::Item(i)],
            )
            .map_or(1, |(line, _)| line)
        })
        .collect()
}

/// [`run_file`], running only the cases whose name contains `pattern` (all when
/// `None`).
pub(crate) fn run_file_matching(path: &Path, limits: &Limits, pattern: Option<&str>) -> FileReport {
    // `-`: the test file on standard input; its paths are relative to the current
    // folder and it must name its policy (there is no file name to take it from).
    let stdin = path.as_os_str() == "-";
    let (shown, dir) = if stdin {
        (Path::new("<stdin>"), Path::new(""))
    } else {
        (path, path.parent().unwrap_or(Path::new("")))
    };
    let default_policy = (!stdin).then(|| {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let stem = name.split(".test.").next().unwrap_or(name);
        dir.join(format!("{stem}.gate"))
    });
    let default_name = default_policy
        .as_ref()
        .map_or_else(|| "<none>".to_owned(), |p| p.display().to_string());
    let read = if stdin {
        read_stdin_spec(limits)
    } else {
        read_file_spec(path, limits)
    };
    let (spec, lines) = match read {
        Ok(r) => r,
        Err(e) => return FileReport::broken(shown, default_name, e),
    };
    let policy_path = match (spec.policy.as_ref(), default_policy) {
        (Some(p), _) => dir.join(p),
        (None, Some(p)) => p,
        (None, None) => {
            return FileReport::broken(
                shown,
                default_name,
                "a test file on standard input must name its policy (`policy: FILE`, relative to the current folder)".to_owned(),
            )
        }
    };
    let policy_name = policy_path.display().to_string();
    let policy = match Policy::from_file_with_limits(&policy_path, limits) {
        Ok(p) => p,
        Err(d) => {
            let text = crate::cli::limit_args::name_flags(d).render_plain();
            return FileReport::broken(path, policy_name, text);
        }
    };
    // Each inventory is loaded once, however many cases use it.
    let mut inventories: BTreeMap<PathBuf, Result<Inventory, String>> = BTreeMap::new();
    for p in spec
        .cases
        .iter()
        .filter_map(|c| c.inventory.as_ref())
        .chain(spec.inventory.as_ref())
    {
        let full = dir.join(p);
        inventories.entry(full).or_insert_with_key(|full| {
            Inventory::from_file_with(full, limits).map_err(|e| format!("{}: {e}", full.display()))
        });
    }

    let mut coverage = Coverage {
        rules: policy.rule_names().map(|r| (r.to_owned(), false)).collect(),
        windows: policy
            .window_names()
            .map(|w| (w.to_owned(), false))
            .collect(),
        freezes: policy
            .freeze_names()
            .map(|f| (f.to_owned(), false))
            .collect(),
    };
    let mut cases = Vec::new();
    let mut seen_fields: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for (index, case) in spec
        .cases
        .iter()
        .enumerate()
        .filter(|(_, c)| pattern.is_none_or(|p| c.name.contains(p)))
    {
        let inv_key = case
            .inventory
            .as_ref()
            .or(spec.inventory.as_ref())
            .map(|p| dir.join(p));
        let started = std::time::Instant::now();
        let result = (|| -> Result<(Verdict, changegate::Exercised<'_>), String> {
            let at = chrono::DateTime::parse_from_rfc3339(&case.at)
                .map_err(|e| format!("`at` {:?} is not an RFC 3339 instant: {e}", case.at))?
                .to_utc();
            let value = match &case.change {
                serde_json::Value::String(file) => {
                    input::read_file(&dir.join(file), limits).map_err(|e| e.to_string())?
                }
                inline => changegate::Value::from_json(inline.clone()),
            };
            if let changegate::Value::Map(m) = &value {
                seen_fields.extend(m.keys().cloned());
            }
            let change = Change::from_value(value).map_err(|e| e.to_string())?;
            let empty = Inventory::empty();
            let inventory = match inv_key {
                Some(k) => match inventories.get(&k) {
                    Some(Ok(i)) => i,
                    Some(Err(e)) => return Err(e.clone()),
                    None => &empty,
                },
                None => &empty,
            };
            Ok(policy.evaluate_covering(&change, inventory, at))
        })();
        let report = match result {
            Ok((verdict, exercised)) => {
                // Covered means exercised: a condition that only ever failed with an
                // error covers nothing, whatever the verdict reports.
                for r in &exercised.rules {
                    coverage.rules.insert((*r).to_owned(), true);
                }
                for w in &verdict.window.names {
                    coverage.windows.insert(w.clone(), true);
                }
                let applied = &exercised.freezes;
                for f in verdict
                    .freeze
                    .iter()
                    .flat_map(|f| f.names.iter())
                    .chain(&verdict.lifted)
                    .filter(|f| applied.contains(&f.as_str()))
                {
                    coverage.freezes.insert(f.clone(), true);
                }
                judge(&case.name, &case.expect, &verdict)
            }
            Err(e) => CaseReport {
                name: case.name.clone(),
                passed: false,
                failures: vec![e],
                expected_text: String::new(),
                actual_text: String::new(),
                elapsed: std::time::Duration::ZERO,
                line: 1,
            },
        };
        cases.push(CaseReport {
            elapsed: started.elapsed(),
            line: lines.get(index).copied().unwrap_or(1),
            ..report
        });
    }
    // A field the policy reads that no case ever sets is likely a typo (or untested).
    let declared: Vec<&str> = policy.schema_fields().collect();
    let warnings = policy
        .change_fields()
        .iter()
        .filter(|(f, _)| !seen_fields.contains(f) && !declared.contains(&f.as_str()))
        .map(|(f, at)| {
            let hint = changegate::diag::did_you_mean(f, seen_fields.iter().map(String::as_str))
                .map(|s| format!(" (did you mean `change.{s}`?)"))
                .unwrap_or_default();
            format!(
                "`change.{f}` (read at {at}) appears in no test case and no schema: a typo, or an untested field{hint}"
            )
        })
        .collect();
    FileReport {
        file: shown.display().to_string(),
        policy: policy_name,
        cases,
        coverage,
        error: None,
        warnings,
    }
}

/// Two RFC 3339 texts name the same instant (`…T09:00:00Z` is `…T10:00:00+01:00`);
/// text that does not parse compares as text.
fn same_instant(a: Option<&str>, b: Option<&str>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => match (
            chrono::DateTime::parse_from_rfc3339(a),
            chrono::DateTime::parse_from_rfc3339(b),
        ) {
            (Ok(x), Ok(y)) => x == y,
            _ => a == b,
        },
        (None, None) => true,
        _ => false,
    }
}

fn or_none(t: Option<&str>) -> &str {
    t.unwrap_or("none")
}

fn judge(name: &str, expect: &Expect, v: &Verdict) -> CaseReport {
    let mut failures = Vec::new();
    let mut actual = Expect {
        decision: v.decision,
        reasons: None,
        missing: None,
        matched: None,
        next_open: None,
        earliest: None,
        break_glass: None,
        closes: None,
        window_open: None,
        freeze: None,
        lifted: None,
        advisory: None,
        ignored_approvals: None,
        errors: None,
        exit_code: None,
    };
    if v.decision != expect.decision {
        failures.push(format!(
            "decision: expected {}, got {}",
            expect.decision.as_str(),
            v.decision.as_str()
        ));
    }
    if let Some(reasons) = &expect.reasons {
        for r in reasons {
            if !v.reasons.iter().any(|a| a.contains(r.as_str())) {
                failures.push(format!("reasons: no reason contains {r:?}"));
            }
        }
        actual.reasons = Some(v.reasons.clone());
    }
    if let Some(missing) = &expect.missing {
        let got: BTreeMap<String, u32> = v
            .approvals
            .iter()
            .filter(|a| a.have < a.required)
            .map(|a| (a.group.clone(), a.required - a.have))
            .collect();
        if &got != missing {
            let show = |m: &BTreeMap<String, u32>| {
                if m.is_empty() {
                    "none".to_owned()
                } else {
                    let parts: Vec<String> =
                        m.iter().map(|(g, n)| format!("{n} from {g}")).collect();
                    parts.join(", ")
                }
            };
            failures.push(format!(
                "missing approvals: expected {}, got {}",
                show(missing),
                show(&got)
            ));
        }
        actual.missing = Some(got);
    }
    if let Some(matched) = &expect.matched {
        let mut want = matched.clone();
        want.sort();
        let mut got: Vec<String> = v.matched.iter().map(|m| m.rule.clone()).collect();
        got.sort();
        if want != got {
            failures.push(format!(
                "matched: expected [{}], got [{}]",
                want.join(", "),
                got.join(", ")
            ));
        }
        actual.matched = Some(got);
    }
    if let Some(next) = &expect.next_open {
        if !same_instant(next.as_deref(), v.window.next_open.as_deref()) {
            failures.push(format!(
                "next_open: expected {}, got {}",
                or_none(next.as_deref()),
                or_none(v.window.next_open.as_deref())
            ));
        }
        actual.next_open = Some(v.window.next_open.clone());
    }
    if let Some(earliest) = &expect.earliest {
        if !same_instant(earliest.as_deref(), v.earliest.as_deref()) {
            failures.push(format!(
                "earliest: expected {}, got {}",
                or_none(earliest.as_deref()),
                or_none(v.earliest.as_deref())
            ));
        }
        actual.earliest = Some(v.earliest.clone());
    }
    if let Some(bg) = expect.break_glass {
        if bg != v.break_glass {
            failures.push(format!("break_glass: expected {bg}, got {}", v.break_glass));
        }
        actual.break_glass = Some(v.break_glass);
    }
    if let Some(closes) = &expect.closes {
        if !same_instant(closes.as_deref(), v.window.closes.as_deref()) {
            failures.push(format!(
                "closes: expected {}, got {}",
                or_none(closes.as_deref()),
                or_none(v.window.closes.as_deref())
            ));
        }
        actual.closes = Some(v.window.closes.clone());
    }
    if let Some(open) = expect.window_open {
        if open != v.window.open {
            failures.push(format!(
                "window_open: expected {open}, got {}",
                v.window.open
            ));
        }
        actual.window_open = Some(v.window.open);
    }
    if let Some(want) = &expect.freeze {
        let got = v
            .freeze
            .as_ref()
            .map(|f| f.names.clone())
            .unwrap_or_default();
        actual.freeze = Some(same_names("freeze", want, got, &mut failures));
    }
    if let Some(want) = &expect.lifted {
        actual.lifted = Some(same_names("lifted", want, v.lifted.clone(), &mut failures));
    }
    if let Some(want) = &expect.advisory {
        let got = v.advisory.iter().map(|a| a.rule.clone()).collect();
        actual.advisory = Some(same_names("advisory", want, got, &mut failures));
    }
    if let Some(want) = &expect.ignored_approvals {
        let show = |l: &[IgnoredExpect]| {
            let parts: Vec<String> = l.iter().map(|i| format!("{} ({})", i.by, i.why)).collect();
            parts.join(", ")
        };
        let mut want = want.clone();
        want.sort();
        let mut got: Vec<IgnoredExpect> = v
            .ignored_approvals
            .iter()
            .map(|i| IgnoredExpect {
                by: i.by.clone(),
                why: i.why.as_str().to_owned(),
            })
            .collect();
        got.sort();
        if want != got {
            failures.push(format!(
                "ignored_approvals: expected [{}], got [{}]",
                show(&want),
                show(&got)
            ));
        }
        actual.ignored_approvals = Some(got);
    }
    if let Some(want) = &expect.errors {
        let got: Vec<String> = v.errors.iter().map(|e| e.message.clone()).collect();
        if want.is_empty() && !got.is_empty() {
            failures.push(format!("errors: expected none, got {}", got.len()));
        }
        for w in want {
            if !got.iter().any(|g| g.contains(w.as_str())) {
                failures.push(format!("errors: no error contains {w:?}"));
            }
        }
        actual.errors = Some(got);
    }
    if let Some(code) = expect.exit_code {
        let got = i32::from(crate::cli::output::exit_code(v.decision));
        if code != got {
            failures.push(format!("exit_code: expected {code}, got {got}"));
        }
        actual.exit_code = Some(got);
    }
    if !failures.is_empty() {
        // Errors explain most surprises: show them.
        for e in &v.errors {
            failures.push(format!("(evaluation error: {})", e.message));
        }
    }
    CaseReport {
        name: name.to_owned(),
        passed: failures.is_empty(),
        failures,
        expected_text: serde_json::to_string_pretty(expect).unwrap_or_default() + "\n",
        actual_text: serde_json::to_string_pretty(&actual).unwrap_or_default() + "\n",
        elapsed: std::time::Duration::ZERO,
        line: 1,
    }
}

/// The text report, in the style of `cargo test`.
pub(crate) fn render_text(reports: &[FileReport], show_coverage: bool) -> String {
    use changegate::terminal::escape as esc;
    let mut out = String::new();
    let mut failed: Vec<(&FileReport, &CaseReport)> = Vec::new();
    let (mut passed_n, mut failed_n) = (0, 0);
    for r in reports {
        let _ = writeln!(
            out,
            "\nrunning {} cases from {} (policy {})",
            r.cases.len(),
            esc(&r.file),
            esc(&r.policy)
        );
        if let Some(e) = &r.error {
            let _ = writeln!(out, "error: {}", esc(e));
            failed_n += 1;
        }
        for c in &r.cases {
            let _ = writeln!(
                out,
                "test {} ... {}",
                esc(&c.name),
                if c.passed { "ok" } else { "FAILED" }
            );
            if c.passed {
                passed_n += 1;
            } else {
                failed_n += 1;
                failed.push((r, c));
            }
        }
        for w in &r.warnings {
            let _ = writeln!(out, "warning: {}", esc(w));
        }
        if show_coverage {
            out.push_str(&render_coverage(r));
        }
    }
    if !failed.is_empty() {
        let _ = writeln!(out, "\nfailures:");
        for (r, c) in &failed {
            let _ = writeln!(out, "\n---- {}: {} ----", esc(&r.file), esc(&c.name));
            for f in &c.failures {
                let _ = writeln!(out, "  {}", esc(f));
            }
            if !c.expected_text.is_empty() {
                let diff = similar::TextDiff::from_lines(&c.expected_text, &c.actual_text);
                let diff = diff
                    .unified_diff()
                    .context_radius(3)
                    .header("expected", "actual")
                    .to_string();
                out.push_str(&changegate::terminal::escape_lines(&diff));
            }
        }
    }
    let _ = writeln!(
        out,
        "\ntest result: {}. {passed_n} passed; {failed_n} failed",
        if failed_n == 0 { "ok" } else { "FAILED" }
    );
    out
}

fn render_coverage(r: &FileReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\ncoverage of {}:",
        changegate::terminal::escape(&r.policy)
    );
    for (what, map) in [
        ("rules", &r.coverage.rules),
        ("windows", &r.coverage.windows),
        ("freezes", &r.coverage.freezes),
    ] {
        let covered = map.values().filter(|c| **c).count();
        let total = map.len();
        let pct = if total == 0 {
            100.0
        } else {
            covered as f64 * 100.0 / total as f64
        };
        let _ = write!(
            out,
            "  {what:<8} {covered}/{total} ({}%)",
            floor_percent(pct)
        );
        let missing: Vec<&str> = map
            .iter()
            .filter(|(_, c)| !**c)
            .map(|(n, _)| n.as_str())
            .collect();
        if !missing.is_empty() {
            let _ = write!(
                out,
                "  not exercised: {}",
                changegate::terminal::join(&missing, ", ")
            );
        }
        out.push('\n');
    }
    let (c, t) = r.coverage.counts();
    let _ = writeln!(
        out,
        "  total    {c}/{t} ({}%)",
        floor_percent(r.coverage.percent())
    );
    out
}

#[cfg(test)]
mod tests {
    // From tests/trust.rs: the runner is the binary's, so its test is too.
    /// An advisory rule or a `when` freeze whose condition only ever errored counted
    /// as covered.
    #[test]
    fn coverage_counts_only_evaluated_conditions() {
        let dir = std::env::temp_dir().join(format!("changegate-trust-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("p.gate"),
            r#"policy "p"
    freeze risky = 2026-11-20 00:00 .. 2026-12-01 00:00 in "UTC" when change.risk > 3
    rule "watch" advisory { when change.risk > 5 then deny "risky" }
    rule "ok" { when change.kind == "docs" then deploy }
    default deploy
    "#,
        )
        .unwrap();
        std::fs::write(
            dir.join("p.test.yaml"),
            r#"cases:
      - name: no risk given
        at: "2026-11-26T10:00:00Z"
        change: { kind: docs }
        expect: { decision: deny }
    "#,
        )
        .unwrap();
        let report = super::run_file(&dir.join("p.test.yaml"), &Default::default());
        assert!(report.cases[0].passed, "{:?}", report.cases[0]);
        assert!(report.coverage.rules["ok"]);
        assert!(!report.coverage.rules["watch"], "{:?}", report.coverage);
        assert!(!report.coverage.freezes["risky"], "{:?}", report.coverage);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
