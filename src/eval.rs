//! Evaluation: policy + change + inventory + instant -> verdict. Pure: no I/O, no
//! clock, no global state; the same inputs give the same verdict, byte for byte.

use std::cell::OnceCell;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::change::Change;
use crate::compile::{CExpr, CKind, PathRef};
use crate::policy::{OutcomeDef, Policy, ZoneDef};
use crate::syntax::{CmpOp, Quantifier, Root};
use crate::time::{self, IntervalStream, WindowStream, ZonedWindow, Zones};
use crate::topology::Inventory;
use crate::value::{Type, Value};
use crate::verdict::*;

/// An error while evaluating one expression.
pub(crate) struct Fault {
    pub(crate) message: String,
    expr_file: u16,
    expr_start: usize,
}

/// A value during evaluation: borrowed from the change, the policy or the blast
/// table, or computed.
#[derive(Clone, Copy)]
pub(crate) enum V<'a> {
    Ref(&'a Value),
    Int(i64),
    Bool(bool),
}

impl V<'_> {
    /// The value as the policy language writes it.
    pub(crate) fn show(&self) -> String {
        match self {
            V::Ref(v) => v.to_string(),
            V::Int(i) => i.to_string(),
            V::Bool(b) => b.to_string(),
        }
    }

    fn type_of(&self) -> Type {
        match self {
            V::Ref(v) => v.type_of(),
            V::Int(_) => Type::Int,
            V::Bool(_) => Type::Bool,
        }
    }
}

type BlastTable = Result<(Vec<Option<Value>>, Option<BlastSummary>), String>;

pub(crate) struct Ctx<'a> {
    pub(crate) policy: &'a Policy,
    pub(crate) change: &'a Change,
    pub(crate) inventory: &'a Inventory,
    blast: OnceCell<BlastTable>,
    /// Each `change.…` path, resolved at its first read.
    paths: Vec<OnceCell<Option<&'a Value>>>,
    indexed: bool,
    /// What evaluated to a boolean, for `changegate test`'s coverage.
    coverage: std::cell::RefCell<Evaluated>,
}

/// The rules and freezes whose conditions evaluated to a boolean (not an error) in
/// one evaluation, by index.
#[derive(Debug, Default)]
pub(crate) struct Evaluated {
    /// Rules (advisory or not) whose condition was `true`.
    pub(crate) rules_true: Vec<usize>,
    /// Freezes whose `when` was `true`, or that have none.
    pub(crate) freezes_applied: Vec<usize>,
}

impl Policy {
    /// Evaluates `change` at `at` against this policy and `inventory`: pure, no
    /// I/O, no clock. Never panics; any error makes the decision `deny`.
    ///
    /// `inventory` is `&inventory` or, for a policy that reads no topology, `None`,
    /// which evaluates exactly as [`Inventory::empty`] does.
    pub fn evaluate<'i>(
        &self,
        change: &Change,
        inventory: impl Into<Option<&'i Inventory>>,
        at: DateTime<Utc>,
    ) -> Verdict {
        let inventory = inventory.into().unwrap_or_else(|| empty_inventory());
        Ctx::new(self, change, inventory).run(at)
    }

    /// [`Policy::evaluate`] without the rule index: every rule is evaluated. The
    /// reference the test suite checks the index against; not for production use.
    #[doc(hidden)]
    pub fn evaluate_unindexed(
        &self,
        change: &Change,
        inventory: &Inventory,
        at: DateTime<Utc>,
    ) -> Verdict {
        let mut cx = Ctx::new(self, change, inventory);
        cx.indexed = false;
        cx.run(at)
    }

    /// [`Policy::evaluate`], also telling which conditions evaluated to `true`: what
    /// a test runner counts as covered (`changegate test --coverage`).
    pub fn evaluate_covering(
        &self,
        change: &Change,
        inventory: &Inventory,
        at: DateTime<Utc>,
    ) -> (Verdict, Exercised<'_>) {
        let cx = Ctx::new(self, change, inventory);
        let verdict = cx.run(at);
        let evaluated = cx.coverage.take();
        let exercised = Exercised {
            rules: evaluated
                .rules_true
                .iter()
                .filter_map(|&i| self.rules.get(i))
                .map(|r| r.name.as_str())
                .collect(),
            freezes: evaluated
                .freezes_applied
                .iter()
                .filter_map(|&i| self.freezes.get(i))
                .map(|f| f.name.as_str())
                .collect(),
        };
        (verdict, exercised)
    }
}

/// The inventory `None` stands for, built once.
fn empty_inventory() -> &'static Inventory {
    static EMPTY: std::sync::LazyLock<Inventory> = std::sync::LazyLock::new(Inventory::empty);
    &EMPTY
}

/// What one evaluation exercised ([`Policy::evaluate_covering`]). A condition that
/// failed with an error exercised nothing, whatever the verdict reports.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Exercised<'p> {
    /// The rules (advisory or not) whose condition was `true`.
    pub rules: Vec<&'p str>,
    /// The freezes whose `when` was `true`, or that have none.
    pub freezes: Vec<&'p str>,
}

impl<'a> Ctx<'a> {
    /// A context for evaluating conditions of `policy` on `change`.
    pub(crate) fn new(policy: &'a Policy, change: &'a Change, inventory: &'a Inventory) -> Ctx<'a> {
        Ctx {
            policy,
            change,
            inventory,
            blast: OnceCell::new(),
            paths: std::iter::repeat_with(OnceCell::new)
                .take(policy.change_path_count)
                .collect(),
            indexed: true,
            coverage: std::cell::RefCell::default(),
        }
    }

    fn run(&self, at: DateTime<Utc>) -> Verdict {
        let policy = self.policy;
        let at_secs = at.timestamp();
        let mut errors: Vec<EvalError> = self
            .change
            .problems
            .iter()
            .map(|p| EvalError {
                rule: Some("change".into()),
                location: None,
                message: p.clone(),
            })
            .collect();

        // The schema, when declared, holds for the change's own fields too.
        if let Some(schema) = &policy.schema {
            for message in schema_errors(schema, &self.change.value) {
                errors.push(EvalError {
                    rule: Some("schema".into()),
                    location: None,
                    message,
                });
            }
        }

        // The topology, before any rule or freeze: a policy that reads it never
        // evaluates against targets it cannot place.
        let topology_ok = self.check_topology(&mut errors);

        // Rules: only the index's candidates can match.
        let mut candidates = Vec::new();
        if !topology_ok {
            // Nothing is evaluated: the error is the verdict.
        } else if self.indexed {
            policy.index.candidates(&self.change.value, &mut candidates);
        } else {
            candidates.extend(0..u32::try_from(policy.rules.len()).unwrap_or(u32::MAX));
        }
        let mut matched_rules = Vec::new();
        let mut advisory = Vec::new();
        for &i in &candidates {
            let Some(rule) = policy.rules.get(i as usize) else {
                continue;
            };
            let result = self.truth(&rule.cond);
            if matches!(result, Ok(true)) {
                self.coverage.borrow_mut().rules_true.push(i as usize);
            }
            match result {
                Ok(true) if rule.advisory => advisory.push(Advisory {
                    rule: rule.name.clone(),
                    location: rule.location.clone(),
                    would: describe_outcome(policy, &rule.outcome),
                }),
                Ok(true) => matched_rules.push((i, rule)),
                Ok(false) => {}
                Err(f) if rule.advisory => advisory.push(Advisory {
                    rule: rule.name.clone(),
                    location: rule.location.clone(),
                    would: format!("nothing: its condition failed: {}", f.message),
                }),
                Err(f) => errors.push(self.error(Some(&rule.name), f)),
            }
        }

        // Combine, independent of order.
        // When a rule failed, nobody knows whether it would have matched: the verdict
        // is `deny` for the error, and the default does not apply.
        let rule_failed = errors.iter().any(|e| e.rule.as_deref() != Some("change"));
        let default_applied = matched_rules.is_empty() && !rule_failed;
        let outcomes: Vec<&OutcomeDef> = if default_applied {
            vec![&policy.default]
        } else {
            matched_rules.iter().map(|(_, r)| &r.outcome).collect()
        };
        let mut reasons = Vec::new();
        let mut denied = false;
        for (k, o) in outcomes.iter().enumerate() {
            if let Some(reason) = &o.deny {
                denied = true;
                match matched_rules.get(k) {
                    Some((_, r)) if !default_applied => {
                        reasons.push(format!("denied by rule \"{}\": {reason}", r.name))
                    }
                    _ => reasons.push(format!("denied by the default: {reason}")),
                }
            }
        }
        let break_glass = outcomes.iter().any(|o| o.break_glass);
        // Sort and merge rather than search: linear-logarithmic in what the matched
        // rules name, however many there are.
        let mut required: Vec<(usize, u32)> = outcomes
            .iter()
            .flat_map(|o| o.approvals.iter().copied())
            .collect();
        // For each group the largest count: sorted by group, largest first, keep the first.
        required.sort_unstable_by(|a, b| a.0.cmp(&b.0).then(b.1.cmp(&a.1)));
        required.dedup_by_key(|(g, _)| *g);
        let mut window_ids: Vec<usize> = outcomes
            .iter()
            .flat_map(|o| o.windows.iter().copied())
            .collect();
        window_ids.sort_unstable();
        window_ids.dedup();

        // Approvals as seats.
        let seats = self.seats(&required);
        let missing = seats.missing;
        reasons.extend(seats.reasons);
        if !seats.never.is_empty() {
            denied = true;
            reasons.extend(seats.never);
        }

        // Time: windows named by the matched rules, and the freezes that apply.
        let time = self.time(&window_ids, at_secs, topology_ok, &mut errors);

        let decision = if denied || !errors.is_empty() {
            Decision::Deny
        } else if missing {
            Decision::Approve
        } else if !break_glass && time.earliest != Some(at_secs) {
            Decision::Wait
        } else {
            Decision::Deploy
        };
        if !errors.is_empty() {
            reasons.insert(
                0,
                format!(
                    "{} evaluation error{}: a change is never let through on an error",
                    errors.len(),
                    if errors.len() == 1 { "" } else { "s" }
                ),
            );
        }
        let mut time = time;
        let mut lifted = Vec::new();
        if !break_glass {
            reasons.append(&mut time.reasons);
        } else if time.blocked {
            // Lifted: a freeze no longer blocks, and the verdict says so.
            lifted = time.freeze.take().map(|f| f.names).unwrap_or_default();
            reasons.push("break glass: freezes and windows are lifted for this change".into());
        }
        if default_applied {
            reasons.push(format!(
                "no rule matched: the default applies ({})",
                policy.default_location
            ));
        }
        let earliest = match decision {
            Decision::Deny => None,
            _ if break_glass => Some(at_secs),
            _ => time.earliest,
        };
        let blast = self
            .blast
            .get()
            .and_then(|b| b.as_ref().ok())
            .and_then(|(_, s)| s.clone());
        Verdict {
            decision,
            change: self.change.id.clone(),
            at: time::format_rfc3339_utc(at_secs).unwrap_or_else(|| at.to_rfc3339()),
            policy: PolicyRef {
                name: policy.name.clone(),
                sha256: policy.sha256.clone(),
            },
            matched: matched_rules
                .iter()
                .map(|&(i, r)| Matched {
                    rule: r.name.clone(),
                    location: r.location.clone(),
                    id: crate::RuleId::at(i as usize),
                })
                .collect(),
            default_applied,
            approvals: seats.statuses,
            ignored_approvals: seats.ignored,
            window: time.window,
            freeze: time.freeze,
            break_glass,
            lifted,
            advisory,
            earliest: earliest.and_then(time::format_rfc3339_utc),
            reasons,
            errors,
            blast,
            decision_id: String::new(),
            changegate: crate::record::VERSION.to_owned(),
            inputs: crate::record::inputs(policy, self.change, self.inventory),
            schema: crate::verdict::VERDICT_SCHEMA,
            inventory_name: self.inventory.name_arc(),
        }
    }

    fn error(&self, rule: Option<&str>, f: Fault) -> EvalError {
        let location = self
            .policy
            .files
            .get(f.expr_file as usize)
            .map(|file| file.location(f.expr_start));
        EvalError {
            rule: rule.map(str::to_owned),
            location,
            message: f.message,
        }
    }

    // ---- conditions -------------------------------------------------------------

    fn fault(e: &CExpr, message: String) -> Fault {
        Fault {
            message,
            expr_file: e.file,
            expr_start: e.span.start,
        }
    }

    pub(crate) fn truth(&self, e: &'a CExpr) -> Result<bool, Fault> {
        match self.eval(e)? {
            V::Bool(b) => Ok(b),
            V::Ref(Value::Bool(b)) => Ok(*b),
            other => Err(Self::fault(
                e,
                format!(
                    "{} is {}, not true or false",
                    describe(e),
                    other.type_of().with_article()
                ),
            )),
        }
    }

    pub(crate) fn eval(&self, e: &'a CExpr) -> Result<V<'_>, Fault> {
        match &e.kind {
            CKind::Const(v) => Ok(V::Ref(v)),
            CKind::Path(p) => match self.resolve(p, e)? {
                Some(Value::Null) | None => Err(Self::fault(e, format!("`{}` is missing", p.text))),
                Some(v) => Ok(V::Ref(v)),
            },
            CKind::Has(p) => {
                // `has` asks whether a field exists, never whether the topology can be
                // read: a bad blast radius is an error, not `false`.
                if matches!(p.root, Root::Blast | Root::Targets) {
                    if let Err(m) = self.blast_table() {
                        return Err(Self::fault(e, m.clone()));
                    }
                }
                Ok(V::Bool(!matches!(
                    self.resolve(p, e),
                    Ok(None | Some(Value::Null)) | Err(_)
                )))
            }
            CKind::Not(inner) => Ok(V::Bool(!self.truth(inner)?)),
            CKind::And(parts) => {
                for p in parts {
                    if !self.truth(p)? {
                        return Ok(V::Bool(false));
                    }
                }
                Ok(V::Bool(true))
            }
            CKind::Or(parts) => {
                for p in parts {
                    if self.truth(p)? {
                        return Ok(V::Bool(true));
                    }
                }
                Ok(V::Bool(false))
            }
            CKind::Cmp(op, l, r) => {
                let lv = self.eval(l)?;
                let rv = self.eval(r)?;
                Ok(V::Bool(compare(*op, lv, rv, l, r, e)?))
            }
            CKind::Match(l, glob) => {
                let lv = self.eval(l)?;
                match lv {
                    V::Ref(Value::Str(s)) => Ok(V::Bool(glob.matcher.is_match(s))),
                    other => Err(Self::fault(
                        l,
                        format!(
                            "{} is {}, but `match` needs a string",
                            describe(l),
                            other.type_of().with_article()
                        ),
                    )),
                }
            }
            CKind::Quant(q, list, op, rhs) => {
                let items = self.list(list)?;
                let rv = self.eval(rhs)?;
                for item in items {
                    let hit = compare_as(*op, V::Ref(item), rv, (list, Side::Element), rhs, e)?;
                    match q {
                        Quantifier::Any if hit => return Ok(V::Bool(true)),
                        Quantifier::All if !hit => return Ok(V::Bool(false)),
                        _ => {}
                    }
                }
                Ok(V::Bool(*q == Quantifier::All))
            }
            CKind::QuantMatch(q, list, glob) => {
                let items = self.list(list)?;
                for item in items {
                    let Value::Str(s) = item else {
                        return Err(Self::fault(
                            list,
                            format!(
                                "{} holds {}, but `match` needs strings",
                                describe(list),
                                item.type_of().with_article()
                            ),
                        ));
                    };
                    let hit = glob.matcher.is_match(s);
                    match q {
                        Quantifier::Any if hit => return Ok(V::Bool(true)),
                        Quantifier::All if !hit => return Ok(V::Bool(false)),
                        _ => {}
                    }
                }
                Ok(V::Bool(*q == Quantifier::All))
            }
            CKind::Count(inner) => {
                let items = self.list(inner)?;
                Ok(V::Int(i64::try_from(items.len()).unwrap_or(i64::MAX)))
            }
            CKind::Sum(inner) => {
                let items = self.list(inner)?;
                let mut total: i64 = 0;
                for item in items {
                    let Value::Int(i) = item else {
                        return Err(Self::fault(
                            inner,
                            format!(
                                "{} holds {}, but `sum` adds integers",
                                describe(inner),
                                item.type_of().with_article()
                            ),
                        ));
                    };
                    total = total.checked_add(*i).ok_or_else(|| {
                        Self::fault(inner, format!("the sum of {} overflows", describe(inner)))
                    })?;
                }
                Ok(V::Int(total))
            }
        }
    }

    fn list(&self, e: &'a CExpr) -> Result<&[Value], Fault> {
        match self.eval(e)? {
            V::Ref(Value::List(items)) => Ok(items),
            other => Err(Self::fault(
                e,
                format!(
                    "{} is {}, not a list",
                    describe(e),
                    other.type_of().with_article()
                ),
            )),
        }
    }

    /// The value at a path: `Ok(None)` when missing.
    fn resolve(&self, p: &'a PathRef, e: &CExpr) -> Result<Option<&Value>, Fault> {
        let start: &Value = match p.root {
            Root::Change => {
                let value: &Value = &self.change.value;
                let find = || p.fields.iter().try_fold(value, |v, f| v.get(f));
                return Ok(match self.paths.get(p.slot) {
                    Some(cell) => *cell.get_or_init(find),
                    None => find(),
                });
            }
            Root::Blast | Root::Targets => {
                let (table, _) = self
                    .blast_table()
                    .as_ref()
                    .map_err(|m| Self::fault(e, m.clone()))?;
                match table.get(p.slot).and_then(Option::as_ref) {
                    Some(v) => v,
                    None => {
                        let field = self
                            .policy
                            .blast_fields
                            .get(p.slot)
                            .map_or("", |(_, f)| f.as_str());
                        return Err(Self::fault(
                            e,
                            format!(
                                "no device in the inventory has a field `{field}`, so `{}` cannot be read",
                                p.text
                            ),
                        ));
                    }
                }
            }
        };
        Ok(p.fields.iter().try_fold(start, |v, f| v.get(f)))
    }

    /// For a policy that reads the topology: whether the change's targets are a
    /// valid list of devices of the inventory, and so a blast radius exists. When
    /// not, the error is pushed and nothing else is evaluated.
    fn check_topology(&self, errors: &mut Vec<EvalError>) -> bool {
        if !self.policy.reads_topology {
            return true;
        }
        let problem = if self.inventory.is_empty() {
            Err(
                "the policy reads the topology (`blast.*`, `targets.*` or a `local` window), \
                 but the inventory is missing or has no devices: pass one with `-i INVENTORY`"
                    .to_owned(),
            )
        } else {
            self.blast_table()
                .as_ref()
                .map(|_| ())
                .map_err(Clone::clone)
        };
        match problem {
            Ok(()) => true,
            Err(message) => {
                errors.push(EvalError {
                    rule: Some("targets".into()),
                    location: None,
                    message,
                });
                false
            }
        }
    }

    fn targets(&self) -> Result<Vec<&str>, String> {
        match self.change.value.get("targets") {
            Some(Value::List(items)) => items
                .iter()
                .enumerate()
                .map(|(i, t)| match t {
                    Value::Str(s) if s.trim().is_empty() => Err(format!(
                        "`change.targets[{i}]` is an empty name, not a device"
                    )),
                    Value::Str(s) => Ok(s.as_str()),
                    other => Err(format!(
                        "`change.targets[{i}]` is {}, not a device name",
                        other.type_of().with_article()
                    )),
                })
                .collect(),
            None | Some(Value::Null) => Err("`change.targets` is missing: the blast radius needs the devices the change touches".into()),
            Some(other) => Err(format!(
                "`change.targets` is {}, not a list of device names",
                other.type_of().with_article()
            )),
        }
    }

    fn blast_table(&self) -> &BlastTable {
        self.blast.get_or_init(|| {
            let targets = self.targets()?;
            let blast = self.inventory.blast(&targets).map_err(|e| e.to_string())?;
            let needs_targets = self
                .policy
                .blast_fields
                .iter()
                .any(|(root, _)| *root == Root::Targets);
            let only = if needs_targets {
                Some(
                    self.inventory
                        .targets_only(&targets)
                        .map_err(|e| e.to_string())?,
                )
            } else {
                None
            };
            let table = self
                .policy
                .blast_fields
                .iter()
                .map(|(root, field)| match root {
                    Root::Targets => only.as_ref().and_then(|b| b.field(field)),
                    _ => blast.field(field),
                })
                .collect();
            let summary = BlastSummary {
                devices: blast.devices.len(),
                sites: blast.sites.clone(),
                roles: blast.roles.clone(),
                depth: i64::try_from(blast.depth).unwrap_or(i64::MAX),
                path: blast.path.clone(),
            };
            Ok((table, Some(summary)))
        })
    }

    // ---- approvals ---------------------------------------------------------------

    fn seats(&self, required: &[(usize, u32)]) -> Seats {
        let policy = self.policy;
        let change = self.change;
        let author = change.author.as_deref();
        let mut seats = Seats::default();
        if required.is_empty() {
            return seats;
        }
        // Which approvals count, in the order given.
        // Names are canonical (`crate::people`): one spelling per person.
        let mut counted: Vec<&str> = Vec::new();
        let mut counted_set: rustc_hash::FxHashSet<&str> = rustc_hash::FxHashSet::default();
        let mut ignored_for: Vec<(&str, IgnoreReason)> = Vec::new();
        // Where each counted and each ignored approval came from, when they say.
        let mut counted_source: Vec<Option<&str>> = Vec::new();
        let mut ignored_source: Vec<Option<&str>> = Vec::new();
        let sourced = change.approvals.iter().any(|a| a.source.is_some());
        for a in &change.approvals {
            let by = a.by.as_str();
            let groups = policy.member_of.get(by);
            let why = if Some(by) == author {
                Some(IgnoreReason::Author)
            } else if a.revision != change.revision {
                // For another revision, or a revision on one side only: either way
                // not an approval of what would deploy.
                Some(IgnoreReason::Stale)
            } else if counted_set.contains(by) {
                Some(IgnoreReason::Duplicate)
            } else if groups.is_none() {
                Some(IgnoreReason::Unknown)
            } else if !groups
                .is_some_and(|gs| gs.iter().any(|g| required.iter().any(|(rg, _)| rg == g)))
            {
                Some(IgnoreReason::NotNeeded)
            } else {
                None
            };
            let source = sourced.then(|| a.source.as_deref().unwrap_or("change"));
            match why {
                Some(w) => {
                    ignored_for.push((by, w));
                    ignored_source.push(source);
                }
                None => {
                    counted_set.insert(by);
                    counted.push(by);
                    counted_source.push(source);
                }
            }
        }
        let source_of = |k: usize| ignored_source.get(k).copied().flatten().map(str::to_owned);
        seats.ignored = ignored_for
            .iter()
            .enumerate()
            .map(|(k, &(by, why))| Ignored {
                by: by.to_owned(),
                why,
                source: source_of(k),
            })
            .collect();

        // Fill seats: each counted person at most one seat, in a group they belong to.
        let filled = fill(policy, required, &counted);
        // Could the seats ever be filled? Every member but the author approving.
        let mut everyone: Vec<&str> = Vec::new();
        let mut everyone_set: rustc_hash::FxHashSet<&str> = rustc_hash::FxHashSet::default();
        for &(g, _) in required {
            if let Some(group) = policy.groups.get(g) {
                for m in &group.members {
                    if Some(m.as_str()) != author && everyone_set.insert(m.as_str()) {
                        everyone.push(m);
                    }
                }
            }
        }
        let possible = fill(policy, required, &everyone);

        for (k, &(g, n)) in required.iter().enumerate() {
            let Some(group) = policy.groups.get(g) else {
                continue;
            };
            let by: Vec<String> = filled.get(k).cloned().unwrap_or_default();
            let have = u32::try_from(by.len()).unwrap_or(u32::MAX);
            let could = possible.get(k).map_or(0, Vec::len);
            let ignored: Vec<Ignored> = ignored_for
                .iter()
                .enumerate()
                .filter(|(_, (who, why))| {
                    *why == IgnoreReason::Author
                        || (!matches!(why, IgnoreReason::Unknown | IgnoreReason::NotNeeded)
                            && policy.member_of.get(*who).is_some_and(|gs| gs.contains(&g)))
                })
                .map(|(k, (who, why))| Ignored {
                    by: (*who).to_owned(),
                    why: *why,
                    source: source_of(k),
                })
                .collect();
            let sources: Vec<String> = if sourced {
                by.iter()
                    .map(|b| {
                        counted
                            .iter()
                            .position(|c| c == b)
                            .and_then(|k| counted_source.get(k).copied().flatten())
                            .unwrap_or("change")
                            .to_owned()
                    })
                    .collect()
            } else {
                Vec::new()
            };
            if (could as u64) < u64::from(n) {
                let author_note = match author {
                    Some(a) if group.members.iter().any(|m| m == a) => {
                        format!(" (the author `{a}` cannot approve their own change)")
                    }
                    _ => String::new(),
                };
                seats.never.push(format!(
                    "approval from {} can never be met: {n} needed, but at most {could} eligible {} left for it{author_note}",
                    group.name,
                    if could == 1 { "person is" } else { "people are" },
                ));
            } else if have < n {
                seats.missing = true;
                let missing = n - have;
                let mut reason = format!(
                    "needs {missing} more approval{} from {}",
                    if missing == 1 { "" } else { "s" },
                    group.name
                );
                if !by.is_empty() {
                    reason.push_str(&format!(" (have: {})", by.join(", ")));
                }
                seats.reasons.push(reason);
            }
            seats.statuses.push(ApprovalStatus {
                group: group.name.clone(),
                required: n,
                have,
                approved_by: by,
                ignored,
                sources,
            });
        }
        seats
    }

    // ---- time --------------------------------------------------------------------

    fn time(
        &self,
        window_ids: &[usize],
        at: i64,
        topology_ok: bool,
        errors: &mut Vec<EvalError>,
    ) -> TimeState {
        let policy = self.policy;
        let names: Vec<String> = window_ids
            .iter()
            .filter_map(|&w| policy.windows.get(w).map(|d| d.name.clone()))
            .collect();
        let mut state = TimeState {
            earliest: Some(at),
            window: WindowStatus {
                open: true,
                names: names.clone(),
                next_open: None,
                closes: None,
                sites: Vec::new(),
            },
            freeze: None,
            reasons: Vec::new(),
            blocked: false,
        };
        // Freezes that apply to this change.
        let mut freeze_ids = Vec::new();
        // With the topology in error nothing is evaluated, freezes included: the
        // verdict is already `deny`.
        let freezes = if topology_ok {
            &policy.freezes[..]
        } else {
            &[]
        };
        for (i, f) in freezes.iter().enumerate() {
            let applies = match &f.when {
                None => {
                    self.coverage.borrow_mut().freezes_applied.push(i);
                    true
                }
                Some(cond) => match self.truth(cond) {
                    Ok(b) => {
                        if b {
                            self.coverage.borrow_mut().freezes_applied.push(i);
                        }
                        b
                    }
                    Err(fault) => {
                        let mut e = self.error(Some(&format!("freeze {}", f.name)), fault);
                        e.location = e.location.or_else(|| Some(f.location.clone()));
                        errors.push(e);
                        true
                    }
                },
            };
            if applies {
                freeze_ids.push(i);
            }
        }
        if window_ids.is_empty() && freeze_ids.is_empty() {
            return state;
        }

        // Window streams: one per fixed window, one per (local window, site zone).
        let mut unplaced = false;
        let mut tables = Zones::new();
        let mut streams: Vec<WindowStream> = Vec::new();
        let mut stream_names: Vec<String> = Vec::new();
        let mut zones: Vec<Tz> = Vec::new();
        let mut sites: Vec<String> = Vec::new();
        let mut site_set: rustc_hash::FxHashSet<String> = rustc_hash::FxHashSet::default();
        for &w in window_ids {
            let Some(def) = policy.windows.get(w) else {
                continue;
            };
            match def.zone {
                ZoneDef::Fixed(tz) => {
                    if let Ok(s) =
                        WindowStream::with_zones(&ZonedWindow::new(def.shape, tz), &mut tables)
                    {
                        streams.push(s);
                        stream_names.push(def.name.clone());
                        zones.push(tz);
                    }
                }
                ZoneDef::Local => match self.site_zones() {
                    Ok(site_zones) => {
                        let mut seen: rustc_hash::FxHashSet<Tz> = rustc_hash::FxHashSet::default();
                        for (site, tz) in site_zones {
                            if site_set.insert(site.clone()) {
                                sites.push(site.clone());
                            }
                            if !seen.insert(tz) {
                                continue;
                            }
                            if let Ok(s) = WindowStream::with_zones(
                                &ZonedWindow::new(def.shape, tz),
                                &mut tables,
                            ) {
                                streams.push(s);
                                stream_names.push(format!(
                                    "{} (at {site}, {})",
                                    def.name,
                                    tz.name()
                                ));
                                zones.push(tz);
                            }
                        }
                    }
                    Err(message) => {
                        // A window that cannot be placed is not open (fail closed).
                        unplaced = true;
                        errors.push(EvalError {
                            rule: Some(format!("window {}", def.name)),
                            location: Some(def.location.clone()),
                            message,
                        })
                    }
                },
            }
        }
        sites.sort();
        let mut freeze_streams: Vec<WindowStream> = Vec::new();
        let mut freeze_names: Vec<String> = Vec::new();
        for &i in &freeze_ids {
            if let Some(f) = policy.freezes.get(i) {
                if let Ok(s) =
                    WindowStream::with_zones(&ZonedWindow::new(f.shape, f.tz), &mut tables)
                {
                    freeze_streams.push(s);
                    freeze_names.push(f.name.clone());
                }
            }
        }
        let w_refs: Vec<&dyn IntervalStream> =
            streams.iter().map(|s| s as &dyn IntervalStream).collect();
        let f_refs: Vec<&dyn IntervalStream> = freeze_streams
            .iter()
            .map(|s| s as &dyn IntervalStream)
            .collect();
        let runway = self.change.duration.unwrap_or(0);
        let a = time::assess(&w_refs, &f_refs, at, runway);

        // Times are shown in the windows' zone when they share one, else in UTC.
        let zone = match zones.split_first() {
            Some((first, rest)) if rest.iter().all(|z| z == first) => Some(*first),
            _ => None,
        };
        let fmt = |t: i64| match zone {
            Some(tz) => time::format_rfc3339(t, tz),
            None => time::format_rfc3339_utc(t),
        };
        state.window.open = a.windows_open && !unplaced;
        state.window.closes = a.closes.and_then(fmt);
        state.window.next_open = a.next_open.and_then(fmt);
        state.window.sites = sites;
        state.earliest = a.earliest;
        let runway_note = if runway > 0 {
            format!(" for the change's {} runway", format_duration(runway))
        } else {
            String::new()
        };
        if !names.is_empty() && !a.windows_open {
            let list = names.join(", ");
            let plural = if names.len() == 1 {
                "window"
            } else {
                "windows"
            };
            match a.next_open {
                Some(t) => {
                    let human = zone
                        .and_then(|tz| time::format_human(t, tz))
                        .or_else(|| time::format_rfc3339_utc(t))
                        .unwrap_or_default();
                    state.reasons.push(format!(
                        "outside {plural} {list}{runway_note}: waits for the next opening, {human}"
                    ));
                }
                None => {
                    let limit = at.saturating_add(time::HORIZON_DAYS * time::DAY_SECS);
                    let why = match time::why_no_opening(&w_refs, at, runway, limit) {
                        Some(time::NoOpening::Never(i)) => format!(
                            "{} never opens{runway_note}",
                            stream_names.get(i).map_or("a window", String::as_str)
                        ),
                        Some(time::NoOpening::NeverOverlap(i, j)) => format!(
                            "{} and {} are never open at the same time{runway_note}",
                            stream_names.get(i).map_or("a window", String::as_str),
                            stream_names.get(j).map_or("another", String::as_str)
                        ),
                        _ => format!("{plural} {list} are never all open at once{runway_note}"),
                    };
                    state.reasons.push(format!(
                        "outside {plural} {list}, and no opening within {} days: {why}",
                        time::HORIZON_DAYS
                    ));
                }
            }
            state.blocked = true;
        }
        if !a.blocking.is_empty() {
            // The freezes that block now, and those that take over before the change
            // is free (a freeze followed by a weekend freeze, say): follow the chain,
            // each time to the freeze that holds the change longest.
            let mut chain: Vec<usize> = a.blocking.clone();
            if let Some(until) = a.freeze_until {
                let mut t = at;
                for _ in 0..64 {
                    if t >= until {
                        break;
                    }
                    let next = freeze_streams
                        .iter()
                        .enumerate()
                        .filter_map(|(i, s)| s.next_interval(t).map(|iv| (i, iv)))
                        .filter(|(_, iv)| iv.start < t.saturating_add(runway.max(1)))
                        .max_by_key(|(_, iv)| iv.end);
                    let Some((i, iv)) = next else { break };
                    if !chain.contains(&i) {
                        chain.push(i);
                    }
                    if iv.end <= t {
                        break;
                    }
                    t = iv.end;
                }
            }
            let names: Vec<String> = chain
                .iter()
                .filter_map(|&i| freeze_names.get(i).cloned())
                .collect();
            let until = a.freeze_until.and_then(time::format_rfc3339_utc);
            let frozen_now = a
                .blocking
                .iter()
                .filter_map(|&i| freeze_streams.get(i))
                .any(|s| s.next_interval(at).is_some_and(|iv| iv.start <= at));
            state.reasons.push(match &until {
                Some(t) if !frozen_now => format!(
                    "{} begins before the change's {} runway ends; it may start from {t}",
                    names.join(", "),
                    format_duration(runway)
                ),
                Some(t) => format!("frozen by {} until {t}", names.join(", ")),
                None => format!(
                    "frozen by {} beyond the {}-day horizon",
                    names.join(", "),
                    time::HORIZON_DAYS
                ),
            });
            state.freeze = Some(FreezeStatus { names, until });
            state.blocked = true;
        }
        if state.blocked && a.earliest.is_none() && a.next_open.is_some() {
            state.reasons.push(format!(
                "no instant within {} days is both inside the windows and outside every freeze",
                time::HORIZON_DAYS
            ));
        }
        state
    }

    /// The distinct (site, zone) of the change's targets, for `local` windows.
    pub(crate) fn site_zones(&self) -> Result<Vec<(String, Tz)>, String> {
        let targets = self.targets()?;
        let mut out: Vec<(String, Tz)> = Vec::new();
        let mut seen: rustc_hash::FxHashSet<&str> = rustc_hash::FxHashSet::default();
        for t in targets {
            match self.inventory.device_zone(t) {
                Some((site, tz)) => {
                    if seen.insert(site) {
                        out.push((site.to_owned(), tz));
                    }
                }
                None => {
                    return Err(if self.inventory.contains(t) {
                        format!("device `{t}` has no site with a time zone, so a `local` window cannot be placed")
                    } else {
                        format!("unknown device `{t}`: a `local` window needs each target's site from the inventory")
                    })
                }
            }
        }
        if out.is_empty() {
            return Err(
                "the change has no targets, so a `local` window has no site to follow".into(),
            );
        }
        Ok(out)
    }
}

#[derive(Default)]
struct Seats {
    statuses: Vec<ApprovalStatus>,
    ignored: Vec<Ignored>,
    reasons: Vec<String>,
    never: Vec<String>,
    missing: bool,
}

struct TimeState {
    earliest: Option<i64>,
    window: WindowStatus,
    freeze: Option<FreezeStatus>,
    reasons: Vec<String>,
    blocked: bool,
}

/// Fills `required` seats from `people` by maximum bipartite matching; returns,
/// per required group, who fills its seats (in the order of `people`).
fn fill(policy: &Policy, required: &[(usize, u32)], people: &[&str]) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = vec![Vec::new(); required.len()];
    if policy.disjoint {
        // No one is in two groups: each group fills its seats on its own.
        for (k, &(g, n)) in required.iter().enumerate() {
            for p in people {
                let member = policy.member_of.get(*p).is_some_and(|gs| gs.contains(&g));
                if let Some(slot) = out.get_mut(k) {
                    if member && slot.len() < n as usize {
                        slot.push((*p).to_owned());
                    }
                }
            }
        }
        return out;
    }
    // Groups overlap: a bipartite matching of people to groups with capacities, by
    // augmenting paths, one person at a time in the order given. An augmenting path
    // only moves people between groups, never drops one, so earlier approvals are
    // always kept; the search stops once every seat is filled. Each attempt is a
    // breadth-first search over the required groups: O(seats x groups per person),
    // so the whole is O(people x seats x groups per person), with no cubic step.
    let capacity: Vec<usize> = required.iter().map(|&(_, n)| n as usize).collect();
    let total: usize = capacity.iter().sum();
    // For each person, the required groups (by position in `required`) they are in.
    let groups_of: Vec<Vec<usize>> = people
        .iter()
        .map(|p| {
            policy.member_of.get(*p).map_or_else(Vec::new, |gs| {
                gs.iter()
                    .filter_map(|g| required.binary_search_by_key(g, |&(rg, _)| rg).ok())
                    .collect()
            })
        })
        .collect();
    let mut assigned: Vec<Vec<usize>> = vec![Vec::new(); required.len()];
    let mut filled = 0usize;
    // `via[k]`: the person who would take a seat in group `k`, and the group they
    // would leave for it (`None` for the person being placed).
    let mut via: Vec<Option<(usize, Option<usize>)>> = vec![None; required.len()];
    let mut queue: Vec<usize> = Vec::with_capacity(required.len());
    for (pi, ks) in groups_of.iter().enumerate() {
        if filled >= total {
            break;
        }
        via.iter_mut().for_each(|v| *v = None);
        queue.clear();
        for &k in ks {
            if let Some(slot @ None) = via.get_mut(k) {
                *slot = Some((pi, None));
                queue.push(k);
            }
        }
        let mut head = 0;
        let mut free = None;
        while let Some(&k) = queue.get(head) {
            head += 1;
            let (Some(seats), Some(&cap)) = (assigned.get(k), capacity.get(k)) else {
                continue;
            };
            if seats.len() < cap {
                free = Some(k);
                break;
            }
            for &q in seats {
                for &k2 in groups_of.get(q).map_or(&[][..], Vec::as_slice) {
                    if let Some(slot @ None) = via.get_mut(k2) {
                        *slot = Some((q, Some(k)));
                        queue.push(k2);
                    }
                }
            }
        }
        // Augment: each person on the path moves into the group that reached them.
        let mut at = free;
        while let Some(k) = at {
            let Some(Some((x, from))) = via.get(k).copied() else {
                break;
            };
            if let Some(seats) = assigned.get_mut(k) {
                seats.push(x);
            }
            if let Some(kf) = from {
                if let Some(seats) = assigned.get_mut(kf) {
                    seats.retain(|&y| y != x);
                }
            }
            at = from;
        }
        if free.is_some() {
            filled += 1;
        }
    }
    for (k, seats) in assigned.iter_mut().enumerate() {
        seats.sort_unstable();
        if let Some(slot) = out.get_mut(k) {
            slot.extend(
                seats
                    .iter()
                    .filter_map(|&i| people.get(i))
                    .map(|p| (*p).to_owned()),
            );
        }
    }
    out
}

/// Which side of a comparison is an element of a list (in `any`/`all`), for messages.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Value,
    Element,
}

pub(crate) fn compare(
    op: CmpOp,
    l: V<'_>,
    r: V<'_>,
    le: &CExpr,
    re: &CExpr,
    whole: &CExpr,
) -> Result<bool, Fault> {
    compare_as(op, l, r, (le, Side::Value), re, whole)
}

fn compare_as(
    op: CmpOp,
    l: V<'_>,
    r: V<'_>,
    (le, side): (&CExpr, Side),
    re: &CExpr,
    whole: &CExpr,
) -> Result<bool, Fault> {
    let describe_l = || match side {
        Side::Value => describe(le),
        Side::Element => format!("an element of {}", describe(le)),
    };
    let mismatch = || {
        Ctx::fault(
            whole,
            format!(
                "`{}` compares {} ({}) with {} ({}); changegate never converts types",
                op.as_str(),
                l.type_of().with_article(),
                describe_l(),
                r.type_of().with_article(),
                describe(re)
            ),
        )
    };
    let fraction = |e: &CExpr| {
        Ctx::fault(
            e,
            format!(
                "{} is a number with a fraction; conditions compare whole numbers only",
                describe(e)
            ),
        )
    };
    if l.type_of() == Type::Float {
        return Err(Ctx::fault(
            le,
            format!(
                "{} is a number with a fraction; conditions compare whole numbers only",
                describe_l()
            ),
        ));
    }
    if r.type_of() == Type::Float && op != CmpOp::In {
        return Err(fraction(re));
    }
    match op {
        CmpOp::In => {
            let items = match r {
                V::Ref(Value::List(items)) => items,
                _ => {
                    return Err(Ctx::fault(
                        re,
                        format!(
                            "{} is {}, not a list",
                            describe(re),
                            r.type_of().with_article()
                        ),
                    ))
                }
            };
            let lt = l.type_of();
            let mut found = false;
            for item in items {
                if item.type_of() != lt {
                    return Err(Ctx::fault(
                        whole,
                        format!(
                            "`in` looks for {} in {}, which holds {}",
                            lt.with_article(),
                            describe(re),
                            item.type_of().with_article()
                        ),
                    ));
                }
                if !found && eq(l, item) {
                    found = true;
                }
            }
            Ok(found)
        }
        CmpOp::Eq | CmpOp::Ne => {
            if l.type_of() != r.type_of() {
                return Err(mismatch());
            }
            let same = match r {
                V::Ref(v) => eq(l, v),
                V::Int(i) => {
                    matches!(l, V::Int(j) if i == j)
                        || matches!(l, V::Ref(Value::Int(j)) if i == *j)
                }
                V::Bool(b) => {
                    matches!(l, V::Bool(c) if b == c)
                        || matches!(l, V::Ref(Value::Bool(c)) if b == *c)
                }
            };
            Ok(if op == CmpOp::Eq { same } else { !same })
        }
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
            let ord = match (l, r) {
                (V::Ref(Value::Str(a)), V::Ref(Value::Str(b))) => a.cmp(b),
                _ => match (int(l), int(r)) {
                    (Some(a), Some(b)) => a.cmp(&b),
                    _ => {
                        if l.type_of() != r.type_of() {
                            return Err(mismatch());
                        }
                        return Err(Ctx::fault(
                            whole,
                            format!(
                                "`{}` orders integers or strings, not {}",
                                op.as_str(),
                                l.type_of().with_article()
                            ),
                        ));
                    }
                },
            };
            Ok(match op {
                CmpOp::Lt => ord.is_lt(),
                CmpOp::Le => ord.is_le(),
                CmpOp::Gt => ord.is_gt(),
                _ => ord.is_ge(),
            })
        }
        CmpOp::Match => Err(mismatch()),
    }
}

fn int(v: V<'_>) -> Option<i64> {
    match v {
        V::Int(i) | V::Ref(&Value::Int(i)) => Some(i),
        _ => None,
    }
}

fn eq(l: V<'_>, r: &Value) -> bool {
    match l {
        V::Ref(v) => v == r,
        V::Int(i) => matches!(r, Value::Int(j) if i == *j),
        V::Bool(b) => matches!(r, Value::Bool(c) if b == *c),
    }
}

/// How an expression is named in messages: its path, or "this value".
fn describe(e: &CExpr) -> String {
    match &e.kind {
        CKind::Path(p) => format!("`{}`", p.text),
        CKind::Const(v) => format!("`{v}`"),
        CKind::Count(_) => "the count".into(),
        CKind::Sum(_) => "the sum".into(),
        _ => "the value".into(),
    }
}

/// An outcome in the policy's own words, for advisory reports.
pub(crate) fn describe_outcome(policy: &Policy, o: &OutcomeDef) -> String {
    let mut parts = Vec::new();
    if let Some(r) = &o.deny {
        parts.push(format!("deny {r:?}"));
    }
    if o.deploy {
        parts.push("deploy".into());
    }
    for &(g, n) in &o.approvals {
        if let Some(group) = policy.groups.get(g) {
            parts.push(format!("approve {n} from {}", group.name));
        }
    }
    if o.break_glass {
        parts.push("break glass".into());
    }
    let mut s = parts.join(", ");
    if !o.windows.is_empty() {
        let names: Vec<&str> = o
            .windows
            .iter()
            .filter_map(|&w| policy.windows.get(w).map(|d| d.name.as_str()))
            .collect();
        s.push_str(&format!(" during {}", names.join(", ")));
    }
    s
}

/// Where the change disagrees with the declared schema.
fn schema_errors(schema: &[crate::syntax::SchemaField], change: &Value) -> Vec<String> {
    use crate::syntax::FieldType;
    fn fits(t: &FieldType, v: &Value) -> bool {
        match (t, v) {
            (FieldType::Any, _) => true,
            (FieldType::Str, Value::Str(_))
            | (FieldType::Int, Value::Int(_))
            | (FieldType::Bool, Value::Bool(_))
            | (FieldType::Object, Value::Map(_)) => true,
            (FieldType::List(e), Value::List(items)) => items.iter().all(|i| fits(e, i)),
            _ => false,
        }
    }
    let mut out = Vec::new();
    for f in schema {
        match change.get(&f.name) {
            None | Some(Value::Null) if !f.optional => out.push(format!(
                "`change.{}` is missing, but the schema requires it (declare it `{}?: {}` if it may be)",
                f.name, f.name, f.ty
            )),
            None | Some(Value::Null) => {}
            Some(v) if !fits(&f.ty, v) => out.push(format!(
                "`change.{}` is {}, but the schema declares `{}`",
                f.name,
                v.type_of().with_article(),
                f.ty
            )),
            Some(_) => {}
        }
    }
    out
}

/// `5400` -> `1h30m`, `14401` -> `4h0m1s`: exact ([`time::format_duration`]).
fn format_duration(secs: i64) -> String {
    time::format_duration(secs)
}
