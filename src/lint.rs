//! Warnings about policies that check but are likely wrong.

use chrono::{NaiveDate, TimeZone, Utc};

use crate::diag::SourceFile;
use crate::diag::{Diagnostic, ToDiagnostic};
use crate::ir::{CExpr, CKind, FreezeDef, OutcomeDef, RuleDef, WindowDef, ZoneDef};
use crate::syntax::{CmpOp, Span};
use crate::time::{
    self, Complement, IntervalStream, Shape, Union, WindowStream, ZonedWindow, Zones,
};
use crate::value::Value;
use rustc_hash::FxHashMap;

/// The warnings of `docs/lints.md`: one variant per message, the code on the variant.
/// `unused_group`, `unused_window` and `duplicate_member` are found while checking
/// names; the rest by the lints below, on the first call to `Policy::warnings`.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub(crate) enum Lint {
    /// A group no outcome asks for.
    #[error("group `{name}` is never used")]
    #[diagnostic(
        code(changegate::unused_group),
        severity(Warning),
        help("use it in an `approve … from` outcome, or remove it")
    )]
    UnusedGroup {
        name: String,
        #[label("declared here")]
        span: Span,
    },
    /// A window no `during` names.
    #[error("window `{name}` is never used")]
    #[diagnostic(
        code(changegate::unused_window),
        severity(Warning),
        help("name it in a `during` clause, or remove it")
    )]
    UnusedWindow {
        name: String,
        #[label("declared here")]
        span: Span,
    },
    /// A person listed twice in one group (`first` is the first spelling).
    #[error("{}", duplicate_member(member, first, person, group))]
    #[diagnostic(
        code(changegate::duplicate_member),
        severity(Warning),
        help("remove the second mention: a person fills at most one seat")
    )]
    DuplicateMember {
        member: String,
        first: String,
        person: String,
        group: String,
        #[label("listed again")]
        span: Span,
    },
    /// A window every opening of which falls inside a freeze.
    #[error("window `{window}` is never open outside the freezes")]
    #[diagnostic(
        code(changegate::never_open),
        severity(Warning),
        help("every opening of this window falls inside a freeze, so a change waiting for it never goes")
    )]
    AlwaysFrozen {
        window: String,
        #[label("always frozen")]
        span: Span,
    },
    /// Windows named together that are never all open at once (`who`: `rule "…"` or
    /// `the default`).
    #[error("{who} can never go: {why}")]
    #[diagnostic(
        code(changegate::never_open),
        severity(Warning),
        help(
            "a change may go only while every window it names is open; pick windows that overlap"
        )
    )]
    WindowsNeverLineUp {
        who: String,
        why: String,
        #[label("its windows never line up")]
        span: Span,
    },
    /// A rule whose condition contradicts itself.
    #[error("rule {rule:?} can never match: {why}")]
    #[diagnostic(
        code(changegate::never_matches),
        severity(Warning),
        help("fix the comparison, or remove the rule")
    )]
    NeverMatches {
        rule: String,
        why: String,
        #[label("contradictory condition")]
        span: Span,
    },
    /// A rule another asks for as much as whenever it matches.
    #[error("rule {rule:?} can never change a verdict")]
    #[diagnostic(
        code(changegate::dominated_rule),
        severity(Warning),
        help("remove the rule, or make it ask for something the other does not")
    )]
    DominatedRule {
        rule: String,
        #[label("whenever this matches…")]
        span: Span,
        #[label("…this matches too, and asks for as much or more")]
        by: Span,
    },
    /// A rule that only says `deploy` when the default deploys too.
    #[error("rule {rule:?} only says `deploy`, which the default already gives")]
    #[diagnostic(
        code(changegate::redundant_deploy),
        severity(Warning),
        help("remove the rule, or give it windows or conditions that matter")
    )]
    RedundantDeploy {
        rule: String,
        #[label("redundant")]
        span: Span,
        #[label("the default deploys")]
        default: Span,
    },
}

impl ToDiagnostic for Lint {
    const CODES: &'static [&'static str] = &[
        "changegate::unused_group",
        "changegate::unused_window",
        "changegate::duplicate_member",
        "changegate::never_open",
        "changegate::never_matches",
        "changegate::dominated_rule",
        "changegate::redundant_deploy",
    ];
}

/// `duplicate_member`'s message: the same spelling twice, or two spellings of one
/// person.
fn duplicate_member(member: &str, first: &str, person: &str, group: &str) -> String {
    if first == member {
        format!("`{member}` is listed twice in group `{group}`")
    } else {
        format!("`{member}` and `{first}` are the same person (`{person}`) in group `{group}`")
    }
}

/// What the lints read: the checked policy's data (never a stage that builds it).
pub(crate) struct Subject<'a> {
    pub files: &'a [SourceFile],
    pub windows: &'a [WindowDef],
    pub freezes: &'a [FreezeDef],
    pub rules: &'a [RuleDef],
    pub default: &'a OutcomeDef,
    pub default_span: Span,
}

/// Every lint's warnings (`docs/lints.md`).
pub(crate) fn all(policy: &Subject<'_>) -> Vec<Diagnostic> {
    let mut d = never_open(policy);
    d.extend(rules(policy));
    d
}

/// Where the check-time search for openings starts when no date anchors it: Monday
/// 2026-01-05, 00:00 UTC. Weekly windows repeat, so any year serves.
fn reference_start() -> i64 {
    NaiveDate::from_ymd_opt(2026, 1, 5)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(0, |d| Utc.from_utc_datetime(&d).timestamp())
}

/// Windows that can never open: a window wholly inside unconditional freezes, and
/// windows named together (by one rule or the default) that are never open at once.
/// Searched over [`time::HORIZON_DAYS`] from the window's own start (one-time
/// windows) or from 2026-01-05. `local` windows depend on the inventory and are
/// not checked here.
fn never_open(policy: &Subject<'_>) -> Vec<Diagnostic> {
    let mut tables = Zones::new();
    let streams: Vec<Option<WindowStream>> = policy
        .windows
        .iter()
        .map(|w| match w.zone {
            ZoneDef::Fixed(tz) => {
                WindowStream::with_zones(&ZonedWindow::new(w.shape, tz), &mut tables).ok()
            }
            ZoneDef::Local => None,
        })
        .collect();
    let freezes: Vec<WindowStream> = policy
        .freezes
        .iter()
        .filter(|f| f.when.is_none())
        .filter_map(|f| {
            WindowStream::with_zones(&ZonedWindow::new(f.shape, f.tz), &mut tables).ok()
        })
        .collect();
    let mut out = always_frozen(policy, &streams, &freezes);
    out.extend(never_line_up(policy, &streams));
    out
}

/// Where the search for window `i`'s openings starts: a one-time window's own start,
/// else [`reference_start`].
fn search_start(policy: &Subject<'_>, streams: &[Option<WindowStream>], i: usize) -> i64 {
    match (
        policy.windows.get(i),
        streams.get(i).and_then(Option::as_ref),
    ) {
        (Some(w), Some(s)) if matches!(w.shape, Shape::Once { .. }) => s
            .next_interval(i64::MIN / 2)
            .map_or_else(reference_start, |iv| iv.start),
        _ => reference_start(),
    }
}

/// [`Lint::AlwaysFrozen`]: each window (with a stream) that is never open outside the
/// unconditional `freezes`.
fn always_frozen(
    policy: &Subject<'_>,
    streams: &[Option<WindowStream>],
    freezes: &[WindowStream],
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let freeze_refs: Vec<&dyn IntervalStream> =
        freezes.iter().map(|f| f as &dyn IntervalStream).collect();
    let union = Union::new(&freeze_refs);
    let free = Complement::new(&union);
    for (i, w) in policy.windows.iter().enumerate() {
        let Some(stream) = streams.get(i).and_then(Option::as_ref) else {
            continue;
        };
        if freezes.is_empty() {
            continue;
        }
        let from = search_start(policy, streams, i);
        let limit = from.saturating_add(time::HORIZON_DAYS * time::DAY_SECS);
        if time::earliest(&[stream, &free], from, 0, limit).is_none() {
            if let Some(file) = policy.files.get(w.file) {
                let lint = Lint::AlwaysFrozen {
                    window: w.name.clone(),
                    span: w.span,
                };
                out.push(lint.to_diagnostic(file));
            }
        }
    }
    out
}

/// [`Lint::WindowsNeverLineUp`]: each rule (then the default) that names two or more
/// windows (all with streams) that are never all open at once.
fn never_line_up(policy: &Subject<'_>, streams: &[Option<WindowStream>]) -> Vec<Diagnostic> {
    // (windows, span, rule name or None for the default)
    let mut outcomes: Vec<(&[usize], crate::syntax::Span, Option<&str>)> = policy
        .rules
        .iter()
        .map(|r| (r.outcome.windows.as_slice(), r.span, Some(r.name.as_str())))
        .collect();
    outcomes.push((policy.default.windows.as_slice(), policy.default_span, None));
    outcomes
        .into_iter()
        .filter_map(|(windows, span, name)| never_line_up_in(policy, streams, windows, span, name))
        .collect()
}

/// [`never_line_up`] for one outcome: its `windows`, its `span`, and the rule's name
/// (`None` for the default).
fn never_line_up_in(
    policy: &Subject<'_>,
    streams: &[Option<WindowStream>],
    windows: &[usize],
    span: Span,
    name: Option<&str>,
) -> Option<Diagnostic> {
    if windows.len() < 2 {
        return None;
    }
    let refs: Vec<&dyn IntervalStream> = windows
        .iter()
        .filter_map(|&w| streams.get(w).and_then(Option::as_ref))
        .map(|s| s as &dyn IntervalStream)
        .collect();
    if refs.len() != windows.len() {
        return None;
    }
    let from = windows
        .iter()
        .map(|&w| search_start(policy, streams, w))
        .min()
        .unwrap_or_else(reference_start);
    let limit = from.saturating_add(time::HORIZON_DAYS * time::DAY_SECS);
    if time::earliest(&refs, from, 0, limit).is_some() {
        return None;
    }
    let names: Vec<String> = windows
        .iter()
        .filter_map(|&w| policy.windows.get(w).map(|d| format!("`{}`", d.name)))
        .collect();
    let why = match time::why_no_opening(&refs, from, 0, limit) {
        Some(time::NoOpening::NeverOverlap(a, b)) => format!(
            "{} and {} are never open at the same time",
            names.get(a).map_or("?", String::as_str),
            names.get(b).map_or("?", String::as_str)
        ),
        _ => format!("{} are never all open at once", names.join(", ")),
    };
    let who = match name {
        Some(rule) => format!("rule {rule:?}"),
        None => "the default".to_owned(),
    };
    let file = policy.files.first()?;
    Some(Lint::WindowsNeverLineUp { who, why, span }.to_diagnostic(file))
}

/// What the conjuncts of a condition say about one path.
#[derive(Default)]
struct Facts<'a> {
    lo: Option<i64>,
    hi: Option<i64>,
    eq: Option<&'a str>,
    ne: Vec<&'a str>,
    absent: bool,
    read: bool,
}

/// The top-level conjuncts of a condition.
fn conjuncts(e: &CExpr) -> &[CExpr] {
    match &e.kind {
        CKind::And(parts) => parts,
        _ => std::slice::from_ref(e),
    }
}

fn path_key(e: &CExpr) -> Option<&str> {
    match &e.kind {
        CKind::Path(p) => Some(p.text.as_str()),
        _ => None,
    }
}

/// Why a conjunction can never be true, if it provably cannot.
fn contradiction(cond: &CExpr) -> Option<String> {
    let mut facts: std::collections::BTreeMap<&str, Facts<'_>> = std::collections::BTreeMap::new();
    for c in conjuncts(cond) {
        match &c.kind {
            CKind::Cmp(op, l, r) => {
                let (path, value, op) = match (path_key(l), &r.kind, path_key(r), &l.kind) {
                    (Some(p), CKind::Const(v), _, _) => (p, v, *op),
                    (None, _, Some(p), CKind::Const(v)) => (p, v, flip(*op)),
                    _ => continue,
                };
                let f = facts.entry(path).or_default();
                f.read = true;
                match (op, value) {
                    (CmpOp::Eq, Value::Str(s)) => match f.eq {
                        Some(prev) if prev != s.as_str() => {
                            return Some(format!("`{path}` must be both {prev:?} and {s:?}"))
                        }
                        _ => f.eq = Some(s.as_str()),
                    },
                    (CmpOp::Ne, Value::Str(s)) => f.ne.push(s.as_str()),
                    (CmpOp::Eq, Value::Int(i)) => {
                        f.lo = Some(f.lo.map_or(*i, |lo| lo.max(*i)));
                        f.hi = Some(f.hi.map_or(*i, |hi| hi.min(*i)));
                    }
                    (CmpOp::Gt, Value::Int(i)) => {
                        f.lo =
                            Some(f.lo.map_or(i.saturating_add(1), |lo| lo.max(i.saturating_add(1))))
                    }
                    (CmpOp::Ge, Value::Int(i)) => f.lo = Some(f.lo.map_or(*i, |lo| lo.max(*i))),
                    (CmpOp::Lt, Value::Int(i)) => {
                        f.hi =
                            Some(f.hi.map_or(i.saturating_sub(1), |hi| hi.min(i.saturating_sub(1))))
                    }
                    (CmpOp::Le, Value::Int(i)) => f.hi = Some(f.hi.map_or(*i, |hi| hi.min(*i))),
                    _ => {}
                }
            }
            CKind::Not(inner) => {
                if let CKind::Has(p) = &inner.kind {
                    facts.entry(p.text.as_str()).or_default().absent = true;
                }
            }
            CKind::Path(p) => facts.entry(p.text.as_str()).or_default().read = true,
            _ => {}
        }
    }
    for (path, f) in &facts {
        if let (Some(lo), Some(hi)) = (f.lo, f.hi) {
            if lo > hi {
                return Some(format!(
                    "no integer `{path}` is at least {lo} and at most {hi}"
                ));
            }
        }
        if let Some(eq) = &f.eq {
            if f.ne.contains(eq) {
                return Some(format!("`{path}` must both equal and differ from {eq:?}"));
            }
        }
        if f.absent && f.read {
            return Some(format!(
                "`{path}` must be missing, yet the condition reads it"
            ));
        }
    }
    None
}

fn flip(op: CmpOp) -> CmpOp {
    match op {
        CmpOp::Lt => CmpOp::Gt,
        CmpOp::Le => CmpOp::Ge,
        CmpOp::Gt => CmpOp::Lt,
        CmpOp::Ge => CmpOp::Le,
        other => other,
    }
}

/// The conjuncts of a condition as written (white space normalized), each as a
/// number from `intern`, sorted and without repeats: for comparing conditions.
fn conjunct_ids(
    policy: &Subject<'_>,
    cond: &CExpr,
    intern: &mut FxHashMap<String, u32>,
    scratch: &mut String,
) -> Vec<u32> {
    let file = policy.files.get(cond.file as usize);
    let mut v: Vec<u32> = conjuncts(cond)
        .iter()
        .map(|c| {
            scratch.clear();
            let text = file
                .and_then(|f| f.text().get(c.span.start..c.span.end))
                .unwrap_or_default();
            for (k, word) in text.split_whitespace().enumerate() {
                if k > 0 {
                    scratch.push(' ');
                }
                scratch.push_str(word);
            }
            if let Some(&id) = intern.get(scratch.as_str()) {
                return id;
            }
            let id = u32::try_from(intern.len()).unwrap_or(u32::MAX);
            intern.insert(scratch.clone(), id);
            id
        })
        .collect();
    v.sort_unstable();
    v.dedup();
    v
}

/// Calls `f` with each non-empty subset of a (sorted) conjunct list, each sorted,
/// until `f` returns something; for long conjunctions only the single conjuncts and
/// the whole, to stay cheap.
fn find_subset<T>(items: &[u32], mut f: impl FnMut(&[u32]) -> Option<T>) -> Option<T> {
    if items.len() > 8 {
        return items
            .iter()
            .find_map(|c| f(std::slice::from_ref(c)))
            .or_else(|| f(items));
    }
    let mut subset: Vec<u32> = Vec::with_capacity(items.len());
    (1u32..(1 << items.len())).find_map(|mask| {
        subset.clear();
        subset.extend(
            items
                .iter()
                .enumerate()
                .filter(|(k, _)| mask & (1 << k) != 0)
                .map(|(_, c)| *c),
        );
        f(&subset)
    })
}

/// Whether `a`'s contribution can never add to `b`'s.
fn contained(a: &OutcomeDef, b: &OutcomeDef) -> bool {
    if b.deny.is_some() {
        return true;
    }
    a.deny.is_none()
        && (!a.break_glass || b.break_glass)
        && a.windows.iter().all(|w| b.windows.contains(w))
        && a.approvals
            .iter()
            .all(|(g, n)| b.approvals.iter().any(|(bg, bn)| bg == g && bn >= n))
}

/// Rules that can never match, rules that can never change a verdict, and `deploy`
/// rules the default already gives.
fn rules(policy: &Subject<'_>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let Some(root) = policy.files.first() else {
        return out;
    };
    for r in policy.rules {
        if let Some(why) = contradiction(&r.cond) {
            let lint = Lint::NeverMatches {
                rule: r.name.clone(),
                why,
                span: r.cond.span,
            };
            out.push(lint.to_diagnostic(root));
        }
    }
    let mut intern = FxHashMap::default();
    let mut scratch = String::new();
    let texts: Vec<Vec<u32>> = policy
        .rules
        .iter()
        .map(|r| conjunct_ids(policy, &r.cond, &mut intern, &mut scratch))
        .collect();
    // Rules by their set of conjuncts: a rule whose conjuncts are a subset of A's
    // matches whenever A does. Looking up A's subsets keeps this linear in the
    // number of rules.
    let mut by_set: FxHashMap<&[u32], Vec<usize>> = FxHashMap::default();
    for (j, t) in texts.iter().enumerate() {
        if policy.rules.get(j).is_some_and(|r| !r.advisory) {
            by_set.entry(t.as_slice()).or_default().push(j);
        }
    }
    for (i, a) in policy.rules.iter().enumerate() {
        if a.advisory {
            continue;
        }
        let Some(ta) = texts.get(i) else { continue };
        let dominator = find_subset(ta, |subset| {
            let js = by_set.get(subset)?;
            js.iter().copied().find(|&j| {
                let Some(b) = policy.rules.get(j) else {
                    return false;
                };
                j != i
                    && contained(&a.outcome, &b.outcome)
                    // Of two identical rules, report only the later one.
                    && !(subset.len() == ta.len() && contained(&b.outcome, &a.outcome) && j > i)
            })
        });
        if let Some(b) = dominator.and_then(|j| policy.rules.get(j)) {
            let lint = Lint::DominatedRule {
                rule: a.name.clone(),
                span: a.span,
                by: b.span,
            };
            out.push(lint.to_diagnostic(root));
        }
        let pure_deploy = |o: &OutcomeDef| {
            o.deploy
                && o.approvals.is_empty()
                && o.windows.is_empty()
                && !o.break_glass
                && o.deny.is_none()
        };
        if pure_deploy(&a.outcome) && pure_deploy(policy.default) {
            let lint = Lint::RedundantDeploy {
                rule: a.name.clone(),
                span: a.span,
                default: policy.default_span,
            };
            out.push(lint.to_diagnostic(root));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One value of every variant (a new variant must be added here: the match
    /// below does not compile without it).
    fn every_lint() -> Vec<Lint> {
        let s = Span::new(0, 0);
        let t = String::new;
        let all = vec![
            Lint::UnusedGroup { name: t(), span: s },
            Lint::UnusedWindow { name: t(), span: s },
            Lint::DuplicateMember {
                member: t(),
                first: t(),
                person: t(),
                group: t(),
                span: s,
            },
            Lint::AlwaysFrozen {
                window: t(),
                span: s,
            },
            Lint::WindowsNeverLineUp {
                who: t(),
                why: t(),
                span: s,
            },
            Lint::NeverMatches {
                rule: t(),
                why: t(),
                span: s,
            },
            Lint::DominatedRule {
                rule: t(),
                span: s,
                by: s,
            },
            Lint::RedundantDeploy {
                rule: t(),
                span: s,
                default: s,
            },
        ];
        for l in &all {
            match l {
                Lint::UnusedGroup { .. }
                | Lint::UnusedWindow { .. }
                | Lint::DuplicateMember { .. }
                | Lint::AlwaysFrozen { .. }
                | Lint::WindowsNeverLineUp { .. }
                | Lint::NeverMatches { .. }
                | Lint::DominatedRule { .. }
                | Lint::RedundantDeploy { .. } => {}
            }
        }
        all
    }

    /// `Lint::CODES` is exactly the variants' codes, each once, and every lint is a
    /// warning.
    #[test]
    fn codes_are_the_variants_codes() {
        let mut codes: Vec<String> = every_lint()
            .iter()
            .map(|l| miette::Diagnostic::code(l).map(|c| c.to_string()).unwrap())
            .collect();
        codes.dedup();
        assert_eq!(codes, Lint::CODES);
        let file = SourceFile::new("x.gate", "");
        assert!(every_lint()
            .iter()
            .all(|l| !l.to_diagnostic(&file).is_error()));
    }

    /// docs/lints.md's table lists exactly the lints' codes, in the same order.
    #[test]
    fn docs_list_every_lint() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/lints.md")).unwrap();
        let listed: Vec<&str> = doc
            .lines()
            .filter_map(|l| l.strip_prefix("| [`"))
            .filter_map(|l| l.split('`').next())
            .collect();
        assert_eq!(listed, Lint::CODES);
    }
}
