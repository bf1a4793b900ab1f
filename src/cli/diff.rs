//! `changegate diff OLD NEW --history FILE`: replays recorded changes under two
//! versions of a policy and reports every change the two decide differently.
//!
//! A history is read one line (or one test case) at a time, so memory does not grow
//! with it: each change is evaluated at its own instant under both policies, only the
//! differences are kept, and those beyond `--limit` per transition are only counted
//! (with no limit they go to a temporary file and are read back once, group by
//! group, when the report is printed).

pub(crate) mod command;
pub(crate) mod history;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, Write};

use serde::{Deserialize, Serialize};

use changegate::Change;
use changegate::Inventory;
use changegate::Policy;
use changegate::{Decision, Verdict};

/// What one policy decided about one change, reduced to what `diff` compares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Side {
    /// The decision.
    pub(crate) decision: Decision,
    /// The rules that matched (`default` when the default applied).
    pub(crate) rules: Vec<String>,
    /// Approvals still missing, per group.
    pub(crate) missing: BTreeMap<String, u32>,
    /// The windows the matched rules name.
    pub(crate) windows: Vec<String>,
    /// The freezes that block it.
    pub(crate) freezes: Vec<String>,
    /// The verdict's `earliest`.
    pub(crate) earliest: Option<String>,
    /// What this side has that the other has not: rules matched only here
    /// (`+ rule "…"`), windows or freezes only here, evaluation errors.
    pub(crate) cause: Vec<String>,
}

impl Side {
    fn of(v: &Verdict) -> Side {
        let mut rules: Vec<String> = v.matched.iter().map(|m| m.rule.clone()).collect();
        if v.default_applied {
            rules.push("default".into());
        }
        let missing = v
            .approvals
            .iter()
            .filter(|a| a.have < a.required)
            .map(|a| (a.group.clone(), a.required - a.have))
            .collect();
        Side {
            decision: v.decision,
            rules,
            missing,
            windows: v.window.names.clone(),
            freezes: v
                .freeze
                .as_ref()
                .map(|f| f.names.clone())
                .unwrap_or_default(),
            earliest: v.earliest.clone(),
            cause: v
                .errors
                .iter()
                .map(|e| format!("error: {}", e.message))
                .collect(),
        }
    }

    /// The fields `diff` compares: decision, missing approvals, windows, `earliest`.
    fn same_outcome(&self, other: &Side) -> bool {
        self.decision == other.decision
            && self.missing == other.missing
            && self.windows == other.windows
            && self.earliest == other.earliest
    }
}

/// Fills each side's `cause` with what it has and the other has not.
fn causes(old: &mut Side, new: &mut Side) {
    fn only(mine: &[String], theirs: &[String], what: &str, out: &mut Vec<String>) {
        for x in mine {
            if !theirs.contains(x) {
                out.push(match what {
                    "rule" if x == "default" => "the default applies".to_owned(),
                    "rule" => format!("rule {x:?} matches"),
                    "freeze" => format!("freeze {x:?} blocks"),
                    _ => format!("{what} {x:?}"),
                });
            }
        }
    }
    let mut o = Vec::new();
    let mut n = Vec::new();
    only(&old.rules, &new.rules, "rule", &mut o);
    only(&new.rules, &old.rules, "rule", &mut n);
    only(&old.windows, &new.windows, "window", &mut o);
    only(&new.windows, &old.windows, "window", &mut n);
    only(&old.freezes, &new.freezes, "freeze", &mut o);
    only(&new.freezes, &old.freezes, "freeze", &mut n);
    if o.is_empty() && n.is_empty() && old.cause.is_empty() && new.cause.is_empty() {
        // The same rules matched: their outcomes, or the windows' times, changed.
        let same = "the same rules match; their outcome, windows or freezes changed".to_owned();
        o.push(same.clone());
        n.push(same);
    }
    o.append(&mut old.cause);
    n.append(&mut new.cause);
    old.cause = o;
    new.cause = n;
}

/// One change decided differently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Difference {
    /// The change's id, or where it was read (`history.jsonl:12`, a test case's name).
    pub(crate) change: String,
    /// Where in the history it was read.
    pub(crate) source: String,
    /// The instant it was evaluated at, RFC 3339 UTC.
    pub(crate) at: String,
    /// Under the old policy.
    pub(crate) old: Side,
    /// Under the new policy.
    pub(crate) new: Side,
}

/// Evaluates `change` at `at` under both policies; `Some` when they differ.
pub(crate) fn compare(
    old: &Policy,
    new: &Policy,
    change: &Change,
    inventory: &Inventory,
    at: chrono::DateTime<chrono::Utc>,
) -> Option<(Side, Side, Verdict)> {
    let a = old.evaluate(change, inventory, at);
    let b = new.evaluate(change, inventory, at);
    let mut sa = Side::of(&a);
    let mut sb = Side::of(&b);
    if sa.same_outcome(&sb) {
        return None;
    }
    causes(&mut sa, &mut sb);
    Some((sa, sb, b))
}

/// One transition (`deploy -> approve`) and the changes that made it.
#[derive(Debug, Clone, Default)]
struct Group {
    count: u64,
    examples: Vec<Difference>,
}

/// Collects differences in constant memory.
pub(crate) struct Collector {
    limit: Option<usize>,
    groups: BTreeMap<(Decision, Decision), Group>,
    spill: Option<Spill>,
    /// Changes replayed.
    pub(crate) replayed: u64,
}

struct Spill {
    path: std::path::PathBuf,
    out: std::io::BufWriter<std::fs::File>,
}

impl Drop for Spill {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

fn decision_index(d: Decision) -> u8 {
    d.severity()
}

impl Collector {
    /// Keeps at most `limit` examples per transition in memory; with `None`, every
    /// difference is written to a temporary file and read back when rendering.
    pub(crate) fn new(limit: Option<usize>) -> std::io::Result<Collector> {
        let spill = match limit {
            Some(_) => None,
            None => {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.subsec_nanos())
                    .unwrap_or(0);
                let path = std::env::temp_dir().join(format!(
                    "changegate-diff-{}-{nanos}.jsonl",
                    std::process::id()
                ));
                let file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(&path)?;
                Some(Spill {
                    path,
                    out: std::io::BufWriter::new(file),
                })
            }
        };
        Ok(Collector {
            limit,
            groups: BTreeMap::new(),
            spill,
            replayed: 0,
        })
    }

    /// Adds one difference.
    pub(crate) fn add(&mut self, d: Difference) -> std::io::Result<()> {
        let key = (d.old.decision, d.new.decision);
        let group = self.groups.entry(key).or_default();
        group.count += 1;
        match (&mut self.spill, self.limit) {
            (Some(spill), _) => {
                write!(
                    spill.out,
                    "{}{}\t",
                    decision_index(key.0),
                    decision_index(key.1)
                )?;
                serde_json::to_writer(&mut spill.out, &d)?;
                writeln!(spill.out)?;
            }
            (None, Some(limit)) if group.examples.len() < limit => group.examples.push(d),
            _ => {}
        }
        Ok(())
    }

    /// Finishes collecting: the report, with each group's examples in history order.
    pub(crate) fn finish(mut self) -> std::io::Result<Report> {
        if let Some(spill) = &mut self.spill {
            spill.out.flush()?;
        }
        let mut groups: Vec<ReportGroup> = std::mem::take(&mut self.groups)
            .into_iter()
            .map(|((from, to), g)| ReportGroup {
                from,
                to,
                count: g.count,
                examples: g.examples,
            })
            .collect();
        // The largest groups first; ties in decision order.
        groups.sort_by(|a, b| {
            b.count
                .cmp(&a.count)
                .then((a.from, a.to).cmp(&(b.from, b.to)))
        });
        let differing = groups.iter().map(|g| g.count).sum();
        Ok(Report {
            replayed: self.replayed,
            differing,
            groups,
            spill: self.spill.take(),
            limit: self.limit,
        })
    }
}

/// The outcome of a diff, ready to render.
pub(crate) struct Report {
    /// Changes replayed.
    pub(crate) replayed: u64,
    /// Changes decided differently.
    pub(crate) differing: u64,
    groups: Vec<ReportGroup>,
    spill: Option<Spill>,
    limit: Option<usize>,
}

struct ReportGroup {
    from: Decision,
    to: Decision,
    count: u64,
    examples: Vec<Difference>,
}

/// How the report is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DiffFormat {
    /// For people at a terminal.
    Text,
    /// For machines.
    Json,
    /// For a merge-request comment.
    Markdown,
}

/// The two policies, named in the report.
pub(crate) struct Names<'a> {
    /// The old policy: how it was given (`main:policies/netops.gate`).
    pub(crate) old: &'a str,
    /// The new policy.
    pub(crate) new: &'a str,
}

impl Report {
    /// Calls `each` with every example of `group` (index into the groups), in
    /// history order: from memory, or read back from the temporary file.
    fn examples(
        &self,
        group: usize,
        each: &mut dyn FnMut(&Difference) -> std::io::Result<()>,
    ) -> std::io::Result<()> {
        let Some(g) = self.groups.get(group) else {
            return Ok(());
        };
        match &self.spill {
            None => {
                for d in &g.examples {
                    each(d)?;
                }
            }
            Some(spill) => {
                let tag = format!("{}{}\t", decision_index(g.from), decision_index(g.to));
                let reader = std::io::BufReader::new(std::fs::File::open(&spill.path)?);
                for line in reader.lines() {
                    let line = line?;
                    if let Some(json) = line.strip_prefix(&tag) {
                        let d: Difference = serde_json::from_str(json)
                            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
                        each(&d)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Writes the report in `format`.
    pub(crate) fn write(
        &self,
        format: DiffFormat,
        names: &Names<'_>,
        out: &mut dyn Write,
    ) -> std::io::Result<()> {
        match format {
            DiffFormat::Text => self.write_text(names, out),
            DiffFormat::Json => self.write_json(names, out),
            DiffFormat::Markdown => self.write_markdown(names, out),
        }
    }

    fn write_text(&self, names: &Names<'_>, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "{} -> {}: {} of {} changes decided differently",
            esc(names.old),
            esc(names.new),
            self.differing,
            self.replayed
        )?;
        for g in &self.groups {
            writeln!(
                out,
                "  {} -> {}: {}",
                g.from.as_str(),
                g.to.as_str(),
                g.count
            )?;
        }
        for (i, g) in self.groups.iter().enumerate() {
            writeln!(
                out,
                "\n{} -> {} ({})",
                g.from.as_str(),
                g.to.as_str(),
                g.count
            )?;
            let mut shown = 0u64;
            self.examples(i, &mut |d| {
                shown += 1;
                writeln!(out, "  {} at {} ({})", esc(&d.change), d.at, esc(&d.source))?;
                writeln!(out, "    old: {}", side_text(&d.old))?;
                writeln!(out, "    new: {}", side_text(&d.new))?;
                Ok(())
            })?;
            if shown < g.count {
                writeln!(out, "  … and {} more", g.count - shown)?;
            }
        }
        Ok(())
    }

    fn write_json(&self, names: &Names<'_>, out: &mut dyn Write) -> std::io::Result<()> {
        let head = serde_json::json!({
            "old": names.old,
            "new": names.new,
            "replayed": self.replayed,
            "differing": self.differing,
        });
        let head = serde_json::to_string_pretty(&head)?;
        // The head without its closing brace, then the groups, streamed.
        let head = head.trim_end().trim_end_matches('}').trim_end();
        write!(out, "{head},\n  \"groups\": [")?;
        for (i, g) in self.groups.iter().enumerate() {
            if i > 0 {
                write!(out, ",")?;
            }
            write!(
                out,
                "\n    {{\"from\": \"{}\", \"to\": \"{}\", \"count\": {}, \"changes\": [",
                g.from.as_str(),
                g.to.as_str(),
                g.count
            )?;
            let mut first = true;
            self.examples(i, &mut |d| {
                if !first {
                    write!(out, ",")?;
                }
                first = false;
                write!(out, "\n      ")?;
                serde_json::to_writer(&mut *out, d)?;
                Ok(())
            })?;
            write!(out, "{}]}}", if first { "" } else { "\n    " })?;
        }
        writeln!(
            out,
            "{}]\n}}",
            if self.groups.is_empty() { "" } else { "\n  " }
        )?;
        Ok(())
    }

    fn write_markdown(&self, names: &Names<'_>, out: &mut dyn Write) -> std::io::Result<()> {
        writeln!(
            out,
            "### changegate diff: {} of {} changes decided differently\n",
            self.differing, self.replayed
        )?;
        writeln!(out, "`{}` → `{}`\n", md_code(names.old), md_code(names.new))?;
        if self.groups.is_empty() {
            writeln!(out, "No recorded change would be decided differently.")?;
            return Ok(());
        }
        writeln!(out, "| transition | changes |\n|---|---:|")?;
        for g in &self.groups {
            writeln!(
                out,
                "| {} → {} | {} |",
                g.from.as_str(),
                g.to.as_str(),
                g.count
            )?;
        }
        for (i, g) in self.groups.iter().enumerate() {
            let shown = self.limit.map_or(g.count, |l| g.count.min(l as u64));
            let showing = if shown < g.count {
                format!(" (showing {shown})")
            } else {
                String::new()
            };
            writeln!(
                out,
                "\n<details><summary>{} → {}: {}{showing}</summary>\n",
                g.from.as_str(),
                g.to.as_str(),
                g.count,
            )?;
            writeln!(out, "| change | at | old | new |\n|---|---|---|---|")?;
            self.examples(i, &mut |d| {
                writeln!(
                    out,
                    "| {} | {} | {} | {} |",
                    md_cell(&d.change),
                    d.at,
                    md_cell(&side_text(&d.old)),
                    md_cell(&side_text(&d.new))
                )
            })?;
            writeln!(out, "\n</details>")?;
        }
        Ok(())
    }
}

/// One side in words: `approve (missing cab 1) during weeknights, earliest …; + rule "…"`.
fn side_text(s: &Side) -> String {
    let mut t = s.decision.as_str().to_owned();
    if !s.missing.is_empty() {
        let m: Vec<String> = s.missing.iter().map(|(g, n)| format!("{g} {n}")).collect();
        let _ = write!(t, " (missing {})", m.join(", "));
    }
    if !s.windows.is_empty() {
        let _ = write!(t, " during {}", s.windows.join(", "));
    }
    match &s.earliest {
        Some(e) => {
            let _ = write!(t, ", earliest {e}");
        }
        None => t.push_str(", no earliest"),
    }
    if !s.cause.is_empty() {
        let _ = write!(t, "; because {}", s.cause.join("; "));
    }
    esc(&t)
}

// Control characters as `\n`, `\u{1b}`, bidi and invisible characters as
// `\u{202e}`: input never controls the terminal.
use changegate::terminal::escape_default as esc;

/// Text for a markdown table cell: no line breaks, `|` escaped, HTML neutralised.
fn md_cell(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in esc(s).chars() {
        match c {
            '|' => out.push_str("\\|"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '`' => out.push_str("\\`"),
            '*' | '_' | '[' | ']' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// Text inside a markdown code span: no backticks, no line breaks.
fn md_code(s: &str) -> String {
    esc(s).replace('`', "'")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        assert_eq!(md_cell("a|b\n<x>"), "a\\|b\\\\n&lt;x&gt;");
    }

    #[test]
    fn bidi_and_invisible_characters_are_escaped() {
        assert_eq!(
            esc("a\u{202e}b\u{200b}c\u{1b}"),
            "a\\u{202e}b\\u{200b}c\\u{1b}"
        );
    }
}
