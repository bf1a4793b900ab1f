//! Decision records: the digests of a verdict's inputs, its `decision_id`, the audit
//! log (JSON Lines, chained by `prev`), and the two checks an auditor runs on it:
//! [`verify`] (is every record intact and the chain unbroken?) and [`replay`] (does
//! each recorded change still get the same verdict?).
//!
//! The line format is fixed (`docs/audit.md`): one JSON object per line, keys in the
//! order of [`Record`]'s fields, written compactly by `serde_json`.

use std::fmt;
use std::io::{BufRead, Read, Seek, SeekFrom, Write};
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::change::Change;
use crate::policy::Policy;
use crate::topology::Inventory;
use crate::verdict::Verdict;

// The digests moved down to a leaf module (`crate::digest`) so that `check`,
// `topology` and `verdict` need not import the audit log; their public paths stay.
use crate::digest::decision_id;
pub(crate) use crate::digest::{sha256_hex, ZONE_DATA};
pub use crate::digest::{FileDigest, Inputs};

/// The changegate version that writes verdicts and records.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The inputs of a verdict of `policy` on `change` with `inventory`.
pub(crate) fn inputs(policy: &Policy, change: &Change, inventory: &Inventory) -> Inputs {
    Inputs::new(
        policy.file_digests.clone(),
        change.shared_value(),
        inventory.sha256().map(str::to_owned),
    )
}

/// One line of the audit log. Serializes to exactly the line changegate writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Record {
    /// The record's number in its log, from 1.
    pub record: u64,
    /// The sha256 of the previous line's bytes (without its `\n`); null for the first.
    pub prev: Option<String>,
    /// The verdict's `decision_id`.
    pub decision_id: String,
    /// The changegate version that decided.
    pub changegate: String,
    /// The IANA time zone database release it used.
    pub zone_data: String,
    /// The instant evaluated, RFC 3339 UTC (`verdict.at`).
    pub at: String,
    /// The digests (`verdict.inputs`).
    pub inputs: serde_json::Value,
    /// The change as evaluated (approvals read from a review system included), as JSON.
    pub change: serde_json::Value,
    /// The inventory's path as given, or null.
    pub inventory: Option<String>,
    /// The whole verdict.
    pub verdict: serde_json::Value,
}

impl Record {
    /// The record of `verdict`, computed from `change` with `inventory`. `record` and
    /// `prev` are set when it is appended ([`append`]).
    pub fn new(verdict: &Verdict, change: &Change, inventory: &Inventory) -> Record {
        Record {
            record: 0,
            prev: None,
            decision_id: verdict.decision_id().into_owned(),
            changegate: verdict.changegate.clone(),
            zone_data: ZONE_DATA.to_owned(),
            at: verdict.at.clone(),
            inputs: serde_json::to_value(&verdict.inputs).unwrap_or_default(),
            change: change.value().to_json(),
            inventory: inventory.name().map(str::to_owned),
            verdict: serde_json::to_value(verdict).unwrap_or_default(),
        }
    }

    /// The record as its log line, without the `\n`.
    pub fn to_line(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Why a record could not be appended.
#[derive(Debug)]
pub enum AppendError {
    /// The log could not be opened, locked, read or written.
    Io(std::io::Error),
    /// The log's last line has no `\n`: a write was cut short, or the log was truncated.
    Incomplete,
    /// The log's last line is not a decision record.
    NotARecord(String),
}

impl fmt::Display for AppendError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AppendError::Io(e) => write!(f, "{e}"),
            AppendError::Incomplete => write!(
                f,
                "its last line is incomplete (a write was cut short, or the log was truncated); \
                 nothing was appended: run `changegate audit verify` on it and repair it first"
            ),
            AppendError::NotARecord(why) => write!(
                f,
                "its last line is not a decision record ({why}); nothing was appended: \
                 run `changegate audit verify` on it"
            ),
        }
    }
}

impl std::error::Error for AppendError {}

impl From<std::io::Error> for AppendError {
    fn from(e: std::io::Error) -> AppendError {
        AppendError::Io(e)
    }
}

/// The last line of `file` (without its `\n`), or `None` for an empty file.
fn last_line(file: &mut std::fs::File) -> Result<Option<Vec<u8>>, AppendError> {
    let len = file.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok(None);
    }
    let mut last = [0u8; 1];
    file.seek(SeekFrom::End(-1))?;
    file.read_exact(&mut last)?;
    if last != [b'\n'] {
        return Err(AppendError::Incomplete);
    }
    // Scan back from before the final `\n` for the previous one, a chunk at a time.
    const CHUNK: u64 = 64 * 1024;
    let end = len - 1;
    let mut start = end;
    let mut tail: Vec<u8> = Vec::new();
    while start > 0 {
        let from = start.saturating_sub(CHUNK);
        let mut buf = vec![0u8; usize::try_from(start - from).unwrap_or(0)];
        file.seek(SeekFrom::Start(from))?;
        file.read_exact(&mut buf)?;
        if let Some(pos) = buf.iter().rposition(|&b| b == b'\n') {
            let mut line = buf.split_off(pos + 1);
            line.extend_from_slice(&tail);
            return Ok(Some(line));
        }
        buf.extend_from_slice(&tail);
        tail = buf;
        start = from;
    }
    Ok(Some(tail))
}

/// Appends `record` to the log at `path` (created if missing): under an exclusive lock
/// on the file, reads the last record to set `record.record` and `record.prev`, then
/// writes the whole line and its `\n` in one `write_all` and syncs it. Refuses a log
/// whose last line is incomplete. Returns the new head (the sha256 of the line).
pub fn append(path: &Path, record: &mut Record) -> Result<String, AppendError> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .append(true)
        .create(true)
        .open(path)?;
    file.lock()?;
    let result = append_locked(&mut file, record);
    let _ = file.unlock();
    result
}

fn append_locked(file: &mut std::fs::File, record: &mut Record) -> Result<String, AppendError> {
    match last_line(file)? {
        None => {
            record.record = 1;
            record.prev = None;
        }
        Some(line) => {
            let parsed: serde_json::Value = serde_json::from_slice(&line)
                .map_err(|e| AppendError::NotARecord(format!("not JSON: {e}")))?;
            let n = parsed
                .get("record")
                .and_then(serde_json::Value::as_u64)
                .ok_or_else(|| AppendError::NotARecord("no `record` number".into()))?;
            record.record = n.saturating_add(1);
            record.prev = Some(sha256_hex(&line));
        }
    }
    let mut line = record.to_line();
    let head = sha256_hex(line.as_bytes());
    line.push('\n');
    file.write_all(line.as_bytes())?;
    file.sync_data()?;
    Ok(head)
}

/// A log that passed [`verify`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    /// How many records it holds.
    pub records: u64,
    /// The sha256 of its last line: the value to anchor elsewhere; `None` when empty.
    pub head: Option<String>,
    /// The record whose line hash is the anchored head given to [`verify`], if any.
    pub anchor: Option<u64>,
}

/// The first problem [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Broken {
    /// The one-based line.
    pub line: u64,
    /// The record number the line should hold.
    pub record: u64,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {} (record {}): {}",
            self.line, self.record, self.problem
        )
    }
}

impl std::error::Error for Broken {}

/// The longest line [`verify`] and [`replay`] read: four times the default input
/// limit, more than any record of a change within it.
const MAX_LINE: u64 = 256 * 1024 * 1024;

/// Reads the log's next line into `line` (without its `\n`), at most [`MAX_LINE`]
/// bytes of it, and counts it in `n`: `Ok(false)` at the end of the log; an error
/// for a line that cannot be read, is too long or has no newline (a truncated log).
fn next_line(log: &mut impl BufRead, line: &mut Vec<u8>, n: &mut u64) -> Result<bool, Broken> {
    line.clear();
    let read = log
        .take(MAX_LINE + 1)
        .read_until(b'\n', line)
        .map_err(|e| Broken {
            line: *n + 1,
            record: *n + 1,
            problem: format!("cannot read the log: {e}"),
        })?;
    if read == 0 {
        return Ok(false);
    }
    *n += 1;
    let broken = |problem: String| Broken {
        line: *n,
        record: *n,
        problem,
    };
    if line.len() as u64 > MAX_LINE {
        return Err(broken(format!(
            "the line is longer than {MAX_LINE} bytes: not a record changegate wrote"
        )));
    }
    if line.pop() != Some(b'\n') {
        return Err(broken(
            "the line is incomplete (no newline at its end): the log was truncated or a write was cut short".into(),
        ));
    }
    Ok(true)
}

/// The keys of a record line, in order.
const KEYS: [&str; 10] = [
    "record",
    "prev",
    "decision_id",
    "changegate",
    "zone_data",
    "at",
    "inputs",
    "change",
    "inventory",
    "verdict",
];

/// Checks one line on its own: it is a record in the form changegate writes, and its
/// `decision_id` and digests match its content. `Err` says what is wrong.
fn check_line(line: &[u8]) -> Result<Record, String> {
    let value: serde_json::Value =
        serde_json::from_slice(line).map_err(|e| format!("not a JSON record: {e}"))?;
    let Some(obj) = value.as_object() else {
        return Err("not a JSON object".into());
    };
    let keys: Vec<&str> = obj.keys().map(String::as_str).collect();
    if keys != KEYS {
        return Err(format!(
            "its fields are {keys:?}, not the record's {KEYS:?}: it was changed"
        ));
    }
    if serde_json::to_vec(&value).map_err(|e| e.to_string())? != line {
        return Err("it is not in the exact form changegate writes: it was changed".into());
    }
    let rec: Record = serde_json::from_value(value).map_err(|e| format!("not a record: {e}"))?;
    let verdict = rec
        .verdict
        .as_object()
        .ok_or("its `verdict` is not an object")?;
    for (field, want) in [
        (
            "decision_id",
            serde_json::Value::from(rec.decision_id.clone()),
        ),
        (
            "changegate",
            serde_json::Value::from(rec.changegate.clone()),
        ),
        ("at", serde_json::Value::from(rec.at.clone())),
        ("inputs", rec.inputs.clone()),
    ] {
        if verdict.get(field) != Some(&want) {
            return Err(format!(
                "its `{field}` differs from its verdict's: it was changed"
            ));
        }
    }
    let change = serde_json::to_vec(&rec.change).map_err(|e| e.to_string())?;
    if rec.inputs.get("change").and_then(serde_json::Value::as_str) != Some(&sha256_hex(&change)) {
        return Err(
            "its `change` does not match the digest `inputs.change`: it was changed".into(),
        );
    }
    let mut blank = rec.verdict.clone();
    if let Some(m) = blank.as_object_mut() {
        m.insert("decision_id".into(), serde_json::Value::from(""));
    }
    let id = decision_id(&rec.zone_data, rec.inventory.as_deref(), &blank);
    if id != rec.decision_id {
        return Err("its content does not match its `decision_id`: the record was changed".into());
    }
    Ok(rec)
}

/// Verifies a log: every line is a complete record in the form changegate writes, its
/// `decision_id` and digests match its content, records are numbered 1, 2, 3, … and
/// each `prev` is the sha256 of the line before. With `anchor` (a head hash kept
/// elsewhere), that hash must also be the hash of one of its lines, so records removed
/// from the end are found too. Stops at the first problem.
pub fn verify(log: impl BufRead, anchor: Option<&str>) -> Result<Verified, Broken> {
    let mut log = log;
    let mut prev: Option<String> = None;
    let mut n: u64 = 0;
    let mut found_anchor = None;
    let mut line = Vec::new();
    while next_line(&mut log, &mut line, &mut n)? {
        let broken = |problem: String| Broken {
            line: n,
            record: n,
            problem,
        };
        let rec = check_line(&line).map_err(broken)?;
        if rec.record != n {
            let why = if rec.record > n {
                format!(
                    "it holds record {}: record {n}{} removed, or records were reordered",
                    rec.record,
                    if rec.record > n + 1 {
                        " and after were"
                    } else {
                        " was"
                    }
                )
            } else {
                format!(
                    "it holds record {}: a record was inserted here, or records were reordered",
                    rec.record
                )
            };
            return Err(broken(why));
        }
        if rec.prev != prev {
            return Err(broken(match (&rec.prev, &prev) {
                (None, _) => "its `prev` is null, but it is not the first record: records before it were replaced".into(),
                (Some(_), None) => "it is the first line, but its `prev` names a record before it: records before it were removed".into(),
                _ => "its `prev` is not the sha256 of the line before: that line was replaced, or this one was moved here".into(),
            }));
        }
        let hash = sha256_hex(&line);
        if anchor == Some(hash.as_str()) {
            found_anchor = Some(n);
        }
        prev = Some(hash);
    }
    if let Some(a) = anchor {
        if found_anchor.is_none() {
            return Err(Broken {
                line: n,
                record: n,
                problem: format!(
                    "the log ends here, and no line has the anchored head {a}: records were removed from its end, or it was rewritten"
                ),
            });
        }
    }
    Ok(Verified {
        records: n,
        head: prev,
        anchor: found_anchor,
    })
}

/// One verdict field that no longer reproduces.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FieldDiff {
    /// Its path in the verdict: `decision`, `approvals[0].have`.
    pub field: String,
    /// What the record says (absent: null).
    pub recorded: serde_json::Value,
    /// What evaluating again gives (absent: null).
    pub now: serde_json::Value,
}

/// The replay of one record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replayed {
    /// The record number.
    pub record: u64,
    /// Its line.
    pub line: u64,
    /// The change's id.
    pub change: Option<String>,
    /// The recorded instant.
    pub at: String,
    /// Whether it reproduces: no digest differs and no field differs.
    pub reproduces: bool,
    /// Inputs whose digest differs from the record's, or that are missing, in words.
    pub digests: Vec<String>,
    /// The verdict fields that differ (all but `decision_id`, `changegate`, `inputs`
    /// and `policy.sha256`, which the digests cover).
    pub fields: Vec<FieldDiff>,
    /// Notes that do not fail the replay (another changegate or zone data version).
    pub notes: Vec<String>,
}

/// The verdict fields replay does not compare field by field: `decision_id` (derived
/// from everything else, the version included), `changegate` (a newer changegate may
/// replay an older log: the version difference is a note), and the digests `inputs`
/// and `policy.sha256` (compared file by file as [`Replayed::digests`]).
const NOT_COMPARED: [&str; 3] = ["decision_id", "changegate", "inputs"];

fn diff(
    path: &str,
    recorded: &serde_json::Value,
    now: &serde_json::Value,
    out: &mut Vec<FieldDiff>,
) {
    use serde_json::Value as J;
    match (recorded, now) {
        (J::Object(a), J::Object(b)) => {
            for (k, av) in a {
                if path.is_empty() && NOT_COMPARED.contains(&k.as_str()) {
                    continue;
                }
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if p == "policy.sha256" {
                    continue;
                }
                diff(&p, av, b.get(k).unwrap_or(&J::Null), out);
            }
            for (k, bv) in b {
                let skipped = path.is_empty() && NOT_COMPARED.contains(&k.as_str());
                if !a.contains_key(k) && !skipped {
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    out.push(FieldDiff {
                        field: p,
                        recorded: J::Null,
                        now: bv.clone(),
                    });
                }
            }
        }
        (J::Array(a), J::Array(b)) if a.len() == b.len() => {
            for (i, (av, bv)) in a.iter().zip(b).enumerate() {
                diff(&format!("{path}[{i}]"), av, bv, out);
            }
        }
        (a, b) if a == b => {}
        (a, b) => out.push(FieldDiff {
            field: path.to_owned(),
            recorded: a.clone(),
            now: b.clone(),
        }),
    }
}

/// The per-file digests of a record (`inputs.policy`), as (path, sha256).
fn recorded_files(inputs: &serde_json::Value) -> Vec<(String, String)> {
    inputs
        .get("policy")
        .and_then(serde_json::Value::as_object)
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_owned()))
                .collect()
        })
        .unwrap_or_default()
}

fn policy_mismatch(recorded: &[(String, String)], given: &[FileDigest]) -> Vec<String> {
    let mut out = Vec::new();
    for (path, sha) in recorded {
        match given.iter().find(|f| &f.path == path) {
            None => out.push(format!(
                "policy file `{path}`: recorded {sha}, not among the files given"
            )),
            Some(f) if &f.sha256 != sha => out.push(format!(
                "policy file `{path}`: recorded {sha}, given {}",
                f.sha256
            )),
            Some(_) => {}
        }
    }
    for f in given {
        if !recorded.iter().any(|(p, _)| p == &f.path) {
            out.push(format!(
                "policy file `{}`: given ({}), not in the record",
                f.path, f.sha256
            ));
        }
    }
    out
}

/// Replays one record (already checked by [`check_line`]).
fn replay_one(rec: &Record, line: u64, policies: &[Policy], inventories: &[Inventory]) -> Replayed {
    let mut out = Replayed {
        record: rec.record,
        line,
        change: rec
            .verdict
            .get("change")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned),
        at: rec.at.clone(),
        reproduces: false,
        digests: Vec::new(),
        fields: Vec::new(),
        notes: version_notes(rec),
    };
    if let Some(now) = evaluate_again(rec, policies, inventories, &mut out.digests) {
        diff("", &rec.verdict, &now, &mut out.fields);
        out.reproduces = out.digests.is_empty() && out.fields.is_empty();
    }
    out
}

/// The notes on a record made by another changegate or with other zone data.
fn version_notes(rec: &Record) -> Vec<String> {
    let mut notes = Vec::new();
    if rec.changegate != VERSION {
        notes.push(format!(
            "recorded by changegate {}, replayed by {VERSION}",
            rec.changegate
        ));
    }
    if rec.zone_data != ZONE_DATA {
        notes.push(format!(
            "recorded with zone data {}, replayed with {ZONE_DATA}",
            rec.zone_data
        ));
    }
    notes
}

/// The record's change evaluated again, as verdict JSON; `None` when it cannot be
/// (the reason is in `digests`). Digest differences go to `digests` either way.
fn evaluate_again(
    rec: &Record,
    policies: &[Policy],
    inventories: &[Inventory],
    digests: &mut Vec<String>,
) -> Option<serde_json::Value> {
    let policy = recorded_policy(rec, policies, digests)?;
    let empty = Inventory::empty();
    let inventory = recorded_inventory(rec, inventories, &empty, digests)?;
    let (change, at) = recorded_change_at(rec, digests)?;
    let verdict = policy.evaluate(&change, inventory, at);
    if verdict.inputs.change()
        != rec
            .inputs
            .get("change")
            .and_then(serde_json::Value::as_str)
            .unwrap_or("")
    {
        digests.push("change: the recorded change no longer has its recorded digest".into());
    }
    Some(serde_json::to_value(&verdict).unwrap_or_default())
}

/// The policy named in the record among `policies`: the one whose files have the
/// recorded digests, else the first of that name (its differences go to `digests`).
fn recorded_policy<'p>(
    rec: &Record,
    policies: &'p [Policy],
    digests: &mut Vec<String>,
) -> Option<&'p Policy> {
    let name = rec
        .verdict
        .get("policy")
        .and_then(|p| p.get("name"))
        .and_then(serde_json::Value::as_str)
        .unwrap_or("");
    let files = recorded_files(&rec.inputs);
    let candidates: Vec<&Policy> = policies.iter().filter(|p| p.name() == name).collect();
    let policy = candidates
        .iter()
        .find(|p| policy_mismatch(&files, &p.file_digests).is_empty())
        .or(candidates.first())
        .copied();
    let Some(policy) = policy else {
        digests.push(format!(
            "no policy named \"{name}\" was given (give it with -p)"
        ));
        return None;
    };
    digests.extend(policy_mismatch(&files, &policy.file_digests));
    Some(policy)
}

/// The inventory with the recorded digest among `inventories` (`empty` when the record
/// has none), else the first given (the difference goes to `digests`); `None` when
/// the record has one and none is given.
fn recorded_inventory<'i>(
    rec: &Record,
    inventories: &'i [Inventory],
    empty: &'i Inventory,
    digests: &mut Vec<String>,
) -> Option<&'i Inventory> {
    let Some(sha) = rec
        .inputs
        .get("inventory")
        .and_then(serde_json::Value::as_str)
    else {
        return Some(empty);
    };
    if let Some(i) = inventories.iter().find(|i| i.sha256() == Some(sha)) {
        return Some(i);
    }
    match inventories.first() {
        Some(i) => {
            digests.push(format!(
                "inventory: recorded {sha}, given {}",
                i.sha256().unwrap_or("none")
            ));
            Some(i)
        }
        None => {
            digests.push(format!(
                "inventory: recorded {sha} ({}), none given (give it with -i)",
                rec.inventory.as_deref().unwrap_or("no path")
            ));
            None
        }
    }
}

/// The recorded change and instant, read again; `None` (the reason in `digests`) when
/// either cannot be.
fn recorded_change_at(
    rec: &Record,
    digests: &mut Vec<String>,
) -> Option<(Change, chrono::DateTime<chrono::Utc>)> {
    let change = match Change::from_json(rec.change.clone()) {
        Ok(c) => c,
        Err(e) => {
            digests.push(format!("the recorded change cannot be read: {e}"));
            return None;
        }
    };
    let at = match chrono::DateTime::parse_from_rfc3339(&rec.at) {
        Ok(t) => t.with_timezone(&chrono::Utc),
        Err(e) => {
            digests.push(format!(
                "the recorded instant `{}` cannot be read: {e}",
                rec.at
            ));
            return None;
        }
    };
    Some((change, at))
}

/// The result of [`replay`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Replay {
    /// How many records were replayed.
    pub records: u64,
    /// How many reproduce.
    pub reproduced: u64,
    /// Every record that does not reproduce, in log order.
    pub failed: Vec<Replayed>,
}

/// Replays every record of a log: evaluates its change again at its instant against
/// the policy among `policies` named as in the record (the one whose files have the
/// recorded digests, when several are) and the inventory among `inventories` with the
/// recorded digest (none when the record has none). Checks each line as [`verify`]
/// does (not the chain: run [`verify`] for that) and stops at a bad line.
pub fn replay(
    log: impl BufRead,
    policies: &[Policy],
    inventories: &[Inventory],
) -> Result<Replay, Broken> {
    let mut out = Replay {
        records: 0,
        reproduced: 0,
        failed: Vec::new(),
    };
    let mut log = log;
    let mut line = Vec::new();
    let mut n: u64 = 0;
    while next_line(&mut log, &mut line, &mut n)? {
        let broken = |problem: String| Broken {
            line: n,
            record: n,
            problem,
        };
        let rec = check_line(&line).map_err(broken)?;
        out.records += 1;
        let r = replay_one(&rec, n, policies, inventories);
        if r.reproduces {
            out.reproduced += 1;
        } else {
            out.failed.push(r);
        }
    }
    Ok(out)
}

impl Replay {
    /// The replay for people: each record that does not reproduce, with why.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        for r in &self.failed {
            let _ = writeln!(
                out,
                "record {} (line {}): change {} at {} does not reproduce",
                r.record,
                r.line,
                r.change.as_deref().unwrap_or("(no id)"),
                r.at
            );
            for d in &r.digests {
                let _ = writeln!(out, "  digest: {d}");
            }
            for f in &r.fields {
                let _ = writeln!(out, "  {}: recorded {}, now {}", f.field, f.recorded, f.now);
            }
            for n in &r.notes {
                let _ = writeln!(out, "  note: {n}");
            }
        }
        let _ = writeln!(
            out,
            "replayed {} record{}: {} reproduce{}, {} do{} not",
            self.records,
            if self.records == 1 { "" } else { "s" },
            self.reproduced,
            if self.reproduced == 1 { "s" } else { "" },
            self.failed.len(),
            if self.failed.len() == 1 { "es" } else { "" },
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digest::file_digests;
    use crate::digest::policy_digest;

    #[test]
    fn paths_are_relative_to_the_root_folder() {
        let d = file_digests(
            [
                ("policies/netops.gate", "a"),
                ("policies/shared/people.gate", "b"),
                ("lib/x.gate", "c"),
            ]
            .into_iter(),
        );
        let paths: Vec<&str> = d.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(
            paths,
            ["netops.gate", "shared/people.gate", "../lib/x.gate"]
        );
    }

    #[test]
    fn a_manifest_path_with_a_newline_cannot_forge_a_second_file() {
        let a = [FileDigest {
            path: format!("x\n{}  y", sha256_hex(b"2")),
            sha256: sha256_hex(b"1"),
        }];
        let b = [
            FileDigest {
                path: "x".into(),
                sha256: sha256_hex(b"1"),
            },
            FileDigest {
                path: "y".into(),
                sha256: sha256_hex(b"2"),
            },
        ];
        assert_ne!(policy_digest(&a), policy_digest(&b));
    }
}
