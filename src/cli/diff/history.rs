//! Reading a history of changes, one at a time: a decision log (`--record` lines), a
//! JSON Lines file of changes each with its `at`, or a `changegate test` file.

use std::io::BufRead;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Deserialize;

use changegate::input::{self, Format};
use changegate::Change;
use changegate::Limits;
use changegate::Value;

/// One change of the history, with the instant it is evaluated at.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The change's id, or its test case's name, or `line N`.
    pub(crate) label: String,
    /// Where it was read: `FILE:LINE`, or `FILE: case NAME`.
    pub(crate) source: String,
    /// The instant.
    pub(crate) at: DateTime<Utc>,
    /// The change.
    pub(crate) change: Change,
    /// For a test case: the inventory its file or case names (resolved).
    pub(crate) inventory: Option<PathBuf>,
    /// Which policy the change was decided under, when the history says.
    pub(crate) policy: PolicyHint,
}

/// Which policy an entry of the history belongs to (for diffs of folders).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PolicyHint {
    /// The history does not say: a plain change.
    Any,
    /// A test case: the policy file its test file names.
    File(PathBuf),
    /// A decision record: the name (`policy "…"`) its verdict records.
    Name(String),
}

/// A history, read lazily.
pub(crate) struct History {
    name: String,
    kind: Kind,
    limits: Limits,
}

enum Kind {
    Lines {
        reader: Box<dyn BufRead + Send>,
        number: usize,
        line: Vec<u8>,
    },
    Cases {
        dir: PathBuf,
        policy: PathBuf,
        inventory: Option<String>,
        cases: std::vec::IntoIter<CaseSpec>,
    },
    /// A folder of test files, one after the other.
    Files {
        files: std::vec::IntoIter<PathBuf>,
        current: Option<Box<History>>,
        limits: Limits,
    },
}

#[derive(Debug, Deserialize)]
struct FileSpec {
    #[serde(default)]
    policy: Option<String>,
    #[serde(default)]
    inventory: Option<String>,
    cases: Vec<CaseSpec>,
}

#[derive(Debug, Deserialize)]
struct CaseSpec {
    name: String,
    at: String,
    change: serde_json::Value,
    #[serde(default)]
    inventory: Option<String>,
}

/// Whether `path` names a `changegate test` file.
pub(crate) fn is_test_file(path: &Path) -> bool {
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
    [".test.yaml", ".test.yml", ".test.toml"]
        .iter()
        .any(|s| name.ends_with(s))
}

impl History {
    /// Opens `path`: a test file is read whole (test files are small); anything else
    /// is read as JSON Lines, one line at a time.
    pub(crate) fn open(path: &Path, limits: &Limits) -> Result<History, String> {
        let name = path.display().to_string();
        if path.is_dir() {
            let mut files: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| format!("cannot read `{name}`: {e}"))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| is_test_file(p))
                .collect();
            files.sort();
            if files.is_empty() {
                return Err(format!(
                    "`{name}` holds no test files (`*.test.yaml`, `*.test.yml`, `*.test.toml`) to use as history"
                ));
            }
            return Ok(History {
                name,
                kind: Kind::Files {
                    files: files.into_iter(),
                    current: None,
                    limits: limits.clone(),
                },
                limits: limits.clone(),
            });
        }
        if is_test_file(path) {
            let spec: FileSpec = input::read_file(path, limits)
                .map_err(|e| e.to_string())
                .and_then(|v| {
                    serde_json::from_value(v.to_json()).map_err(|e| format!("{name}: {e}"))
                })?;
            let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
            let file_name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let stem = file_name.split(".test.").next().unwrap_or(file_name);
            let policy = spec
                .policy
                .as_ref()
                .map_or_else(|| dir.join(format!("{stem}.gate")), |p| dir.join(p));
            return Ok(History {
                name,
                kind: Kind::Cases {
                    policy,
                    dir,
                    inventory: spec.inventory,
                    cases: spec.cases.into_iter(),
                },
                limits: limits.clone(),
            });
        }
        let file = std::fs::File::open(path).map_err(|e| format!("cannot read `{name}`: {e}"))?;
        Ok(History::from_reader(
            name,
            Box::new(std::io::BufReader::with_capacity(1 << 16, file)),
            limits,
        ))
    }

    /// A JSON Lines history from any reader, named `name` in messages.
    pub(crate) fn from_reader(
        name: String,
        reader: Box<dyn BufRead + Send>,
        limits: &Limits,
    ) -> History {
        History {
            name,
            kind: Kind::Lines {
                reader,
                number: 0,
                line: Vec::new(),
            },
            limits: limits.clone(),
        }
    }

    fn next_line(&mut self) -> Option<Result<Entry, String>> {
        let Kind::Lines {
            reader,
            number,
            line,
        } = &mut self.kind
        else {
            return None;
        };
        loop {
            line.clear();
            match read_bounded(reader.as_mut(), line, self.limits.max_input_bytes) {
                Ok(0) => return None,
                Ok(_) => {}
                Err(e) => {
                    return Some(Err(format!(
                        "{}:{}: {e}",
                        self.name,
                        number.saturating_add(1)
                    )))
                }
            }
            *number += 1;
            if line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            let source = format!("{}:{number}", self.name);
            return Some(line_entry(line, &source, *number, &self.limits));
        }
    }

    /// Whether this is a JSON Lines history (read in batches with [`History::read_batch`]).
    pub(crate) fn is_lines(&self) -> bool {
        matches!(self.kind, Kind::Lines { .. })
    }

    /// The history's name, as in messages.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The document limits lines are read with.
    pub(crate) fn document_limits(&self) -> &Limits {
        &self.limits
    }

    /// Reads up to `n` non-blank lines of a JSON Lines history into one buffer, not
    /// parsed yet (see [`parse_line`]); `None` at the end.
    pub(crate) fn read_batch(&mut self, n: usize) -> Option<Result<RawBatch, String>> {
        let Kind::Lines { reader, number, .. } = &mut self.kind else {
            return None;
        };
        let mut batch = RawBatch {
            buf: Vec::with_capacity(n.saturating_mul(512)),
            lines: Vec::with_capacity(n),
        };
        while batch.lines.len() < n {
            let start = batch.buf.len();
            match read_bounded(reader.as_mut(), &mut batch.buf, self.limits.max_input_bytes) {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => {
                    return Some(Err(format!(
                        "{}:{}: {e}",
                        self.name,
                        number.saturating_add(1)
                    )))
                }
            }
            *number += 1;
            if batch
                .buf
                .get(start..)
                .unwrap_or_default()
                .iter()
                .all(u8::is_ascii_whitespace)
            {
                batch.buf.truncate(start);
                continue;
            }
            batch.lines.push((start, batch.buf.len(), *number));
        }
        if batch.lines.is_empty() {
            None
        } else {
            Some(Ok(batch))
        }
    }

    fn next_case(&mut self) -> Option<Result<Entry, String>> {
        let Kind::Cases {
            dir,
            policy,
            inventory,
            cases,
        } = &mut self.kind
        else {
            return None;
        };
        let case = cases.next()?;
        let source = self.name.clone();
        let result = (|| {
            let at = parse_instant(&case.at)?;
            let value = match case.change {
                serde_json::Value::String(file) => {
                    input::read_file(&dir.join(file), &self.limits).map_err(|e| e.to_string())?
                }
                inline => Value::from_json(inline),
            };
            let change = Change::from_value(value).map_err(|e| e.to_string())?;
            Ok(Entry {
                label: case.name.clone(),
                source: source.clone(),
                at,
                change,
                inventory: case
                    .inventory
                    .as_ref()
                    .or(inventory.as_ref())
                    .map(|p| dir.join(p)),
                policy: PolicyHint::File(policy.clone()),
            })
        })();
        Some(result.map_err(|e: String| format!("{source}: case {:?}: {e}", case.name)))
    }
}

impl Iterator for History {
    type Item = Result<Entry, String>;

    fn next(&mut self) -> Option<Self::Item> {
        match &mut self.kind {
            Kind::Lines { .. } => self.next_line(),
            Kind::Cases { .. } => self.next_case(),
            Kind::Files {
                files,
                current,
                limits,
            } => loop {
                if let Some(h) = current {
                    if let Some(entry) = h.next() {
                        return Some(entry);
                    }
                }
                let file = files.next()?;
                match History::open(&file, limits) {
                    Ok(h) => *current = Some(Box::new(h)),
                    Err(e) => return Some(Err(e)),
                }
            },
        }
    }
}

/// Lines of a JSON Lines history, read but not parsed: one buffer, and each line's
/// range in it and line number.
pub(crate) struct RawBatch {
    pub(crate) buf: Vec<u8>,
    pub(crate) lines: Vec<(usize, usize, usize)>,
}

/// Parses line `number` of the history named `name`.
pub(crate) fn parse_line(
    line: &[u8],
    name: &str,
    number: usize,
    limits: &Limits,
) -> Result<Entry, String> {
    line_entry(line, &format!("{name}:{number}"), number, limits)
}

/// Reads one line (up to and including `\n`), refusing one longer than `max`.
fn read_bounded(reader: &mut dyn BufRead, line: &mut Vec<u8>, max: usize) -> Result<usize, String> {
    let mut total = 0usize;
    loop {
        let buf = reader.fill_buf().map_err(|e| format!("cannot read: {e}"))?;
        if buf.is_empty() {
            return Ok(total);
        }
        let (take, done) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (buf.len(), false),
        };
        if total.saturating_add(take) > max.saturating_add(1) {
            return Err(format!("a line is longer than the limit of {max} bytes"));
        }
        line.extend_from_slice(buf.get(..take).unwrap_or_default());
        reader.consume(take);
        total += take;
        if done {
            return Ok(total);
        }
    }
}

fn parse_instant(text: &str) -> Result<DateTime<Utc>, String> {
    let secs = changegate::time::parse_at(text)
        .map_err(|e| format!("`at` {text:?} is not an RFC 3339 instant: {e}"))?;
    DateTime::from_timestamp(secs, 0).ok_or_else(|| format!("`at` {text:?} is out of range"))
}

/// The parts of a decision record `diff` reads; the rest (the verdict, mostly) is
/// skipped without building it.
#[derive(Deserialize)]
struct RecordHead<'a> {
    record: Option<serde::de::IgnoredAny>,
    at: Option<serde_json::Value>,
    #[serde(borrow)]
    change: Option<&'a serde_json::value::RawValue>,
    verdict: Option<VerdictHead>,
}

#[derive(Deserialize)]
struct VerdictHead {
    policy: Option<PolicyHead>,
}

#[derive(Deserialize)]
struct PolicyHead {
    name: Option<String>,
}

/// A decision record, read fast: the line is checked as JSON (and a duplicate
/// top-level field refused), and only the change goes through the document reader.
fn record_entry(
    head: RecordHead<'_>,
    source: &str,
    number: usize,
    limits: &Limits,
) -> Result<Entry, String> {
    let at = match head.at {
        Some(serde_json::Value::String(s)) => {
            parse_instant(&s).map_err(|e| format!("{source}: {e}"))?
        }
        Some(_) => return Err(format!("{source}: `at` is not an RFC 3339 string")),
        None => return Err(format!("{source}: the record has no `at`")),
    };
    let raw = head
        .change
        .ok_or_else(|| format!("{source}: the record has no `change`"))?;
    let value = input::parse_bytes(raw.get().as_bytes(), Format::Json, source, limits)
        .map_err(|e| format!("{source}: the record's `change`: {e}"))?;
    if !matches!(value, Value::Map(_)) {
        return Err(format!(
            "{source}: the record's `change` is {}, not an object",
            value.type_of().with_article()
        ));
    }
    let change = Change::from_value(value).map_err(|e| format!("{source}: {e}"))?;
    let label = change
        .id()
        .map_or_else(|| format!("line {number}"), str::to_owned);
    let policy = match head.verdict.and_then(|v| v.policy).and_then(|p| p.name) {
        Some(name) => PolicyHint::Name(name),
        None => PolicyHint::Any,
    };
    Ok(Entry {
        label,
        source: source.to_owned(),
        at,
        change,
        inventory: None,
        policy,
    })
}

/// One line: a decision record (`{"record": …, "at": …, "change": {…}, …}`) or a
/// change with an extra top-level `at`, which is removed before evaluation.
fn line_entry(line: &[u8], source: &str, number: usize, limits: &Limits) -> Result<Entry, String> {
    // A record is recognised by its `record` and `verdict` fields; anything that
    // does not read as one (a plain change, or a line that is not JSON) goes
    // through the document reader whole, which reports its errors with a place.
    if let Ok(head) = serde_json::from_slice::<RecordHead<'_>>(line) {
        if head.record.is_some() && head.verdict.is_some() {
            return record_entry(head, source, number, limits);
        }
    }
    let value = input::parse_bytes(line, Format::Json, source, limits)
        .map_err(|e| format!("{source}: {e} (column {})", e.column()))?;
    let Value::Map(mut map) = value else {
        return Err(format!(
            "{source}: a history line is a decision record or a change object, not {}",
            value.type_of().with_article()
        ));
    };
    let is_record = map.contains_key("record") && map.contains_key("verdict");
    let policy = match map
        .get("verdict")
        .and_then(|v| v.get("policy"))
        .and_then(|p| p.get("name"))
    {
        Some(Value::Str(name)) if is_record => PolicyHint::Name(name.clone()),
        _ => PolicyHint::Any,
    };
    let at = match map.remove("at") {
        Some(Value::Str(s)) => parse_instant(&s).map_err(|e| format!("{source}: {e}"))?,
        Some(other) => {
            return Err(format!(
                "{source}: `at` is {}, not an RFC 3339 string",
                other.type_of().with_article()
            ))
        }
        None => {
            return Err(format!(
                "{source}: the line has no `at`: each change in a history needs the instant it is evaluated at"
            ))
        }
    };
    let change_value = if is_record {
        match map.remove("change") {
            Some(v @ Value::Map(_)) => v,
            Some(other) => {
                return Err(format!(
                    "{source}: the record's `change` is {}, not an object",
                    other.type_of().with_article()
                ))
            }
            None => return Err(format!("{source}: the record has no `change`")),
        }
    } else {
        Value::Map(map)
    };
    let change = Change::from_value(change_value).map_err(|e| format!("{source}: {e}"))?;
    let label = change
        .id()
        .map_or_else(|| format!("line {number}"), str::to_owned);
    Ok(Entry {
        label,
        source: source.to_owned(),
        at,
        change,
        inventory: None,
        policy,
    })
}
