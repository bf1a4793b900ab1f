//! Evaluation: policy + change + inventory + instant -> verdict. Pure: no I/O, no
//! clock, no global state; the same inputs give the same verdict, byte for byte.

use std::cell::OnceCell;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use crate::change::Change;
use crate::ir::{CExpr, CKind, PathRef};
use crate::policy::{OutcomeDef, Policy, RuleDef};
use crate::syntax::{CmpOp, Quantifier, Root};
use crate::time;
use crate::topology::Inventory;
use crate::value::{Type, Value};
use crate::verdict::*;

mod approvals;
mod windows;

use approvals::Seats;
use windows::TimeState;

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

    /// The decision [`Policy::evaluate`] would give, and only that: the verdict's
    /// reasons, locations and names are never built, so this is the cheaper call for
    /// a caller that only gates on the answer. Always equal to
    /// `self.evaluate(change, inventory, at).decision`.
    ///
    /// ```
    /// use changegate::{Change, Decision, Policy};
    /// let policy = Policy::parse("policy \"p\"\ndefault deploy\n", "p.gate")?;
    /// let at = "2026-11-26T10:00:00Z".parse()?;
    /// assert_eq!(policy.decide(&Change::builder("CHG-1").build(), None, at), Decision::Deploy);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn decide<'i>(
        &self,
        change: &Change,
        inventory: impl Into<Option<&'i Inventory>>,
        at: DateTime<Utc>,
    ) -> Decision {
        let inventory = inventory.into().unwrap_or_else(|| empty_inventory());
        Ctx::new(self, change, inventory).assess(at).decision
    }

    /// [`Policy::evaluate`] without the rule index: every rule is evaluated. The
    /// reference the test suite checks the index against; not for production use.
    #[cfg(any(test, fuzzing))]
    pub(crate) fn evaluate_unindexed(
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

/// What the matched rules (or the default, when none matched) ask for, combined
/// independent of their order.
struct Asked {
    default_applied: bool,
    denied: bool,
    break_glass: bool,
    /// Why, so far: the denials.
    reasons: Vec<String>,
    /// (group, count): for each group the largest count asked, by group.
    required: Vec<(usize, u32)>,
    /// The windows named, sorted, each once.
    window_ids: Vec<usize>,
}

impl Asked {
    fn of(policy: &Policy, matched_rules: &[(u32, &RuleDef)], errors: &[EvalError]) -> Asked {
        // When a rule failed, nobody knows whether it would have matched: the verdict
        // is `deny` for the error, and the default does not apply.
        let rule_failed = errors
            .iter()
            .any(|e| !matches!(e.rule, Some(ErrorSource::Change)));
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
        Asked {
            default_applied,
            denied,
            break_glass,
            reasons,
            required,
            window_ids,
        }
    }
}

/// The decision: `deny` on a denial or an error, else `approve` while approvals are
/// missing, else `wait` until the earliest instant (unless break glass), else
/// `deploy`.
fn decide(
    denied: bool,
    errors: &[EvalError],
    missing: bool,
    break_glass: bool,
    earliest: Option<i64>,
    at: i64,
) -> Decision {
    if denied || !errors.is_empty() {
        Decision::Deny
    } else if missing {
        Decision::Approve
    } else if !break_glass && earliest != Some(at) {
        Decision::Wait
    } else {
        Decision::Deploy
    }
}

/// The parts of a verdict that evaluation decided, before it is assembled.
struct Decided<'p> {
    decision: Decision,
    matched_rules: Vec<(u32, &'p RuleDef)>,
    default_applied: bool,
    approvals: Vec<ApprovalStatus>,
    ignored_approvals: Vec<Ignored>,
    window: WindowStatus,
    freeze: Option<FreezeStatus>,
    break_glass: bool,
    lifted: Vec<String>,
    advisory: Vec<Advisory>,
    earliest: Option<i64>,
    reasons: Vec<String>,
    errors: Vec<EvalError>,
}

/// What [`Ctx::assess`] found: the decision and what the verdict is built from.
struct Assessed<'p> {
    decision: Decision,
    errors: Vec<EvalError>,
    matched_rules: Vec<(u32, &'p RuleDef)>,
    advisory: Vec<Advisory>,
    asked: Asked,
    seats: Seats,
    time: TimeState,
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
        let Assessed {
            decision,
            errors,
            matched_rules,
            advisory,
            asked,
            seats,
            mut time,
        } = self.assess(at);
        let at_secs = at.timestamp();
        let Asked {
            default_applied,
            break_glass,
            mut reasons,
            ..
        } = asked;
        let lifted = self.last_reasons(
            &mut reasons,
            &errors,
            break_glass,
            default_applied,
            &mut time,
        );
        let earliest = match decision {
            Decision::Deny => None,
            _ if break_glass => Some(at_secs),
            _ => time.earliest,
        };
        self.verdict(
            at,
            Decided {
                decision,
                matched_rules,
                default_applied,
                approvals: seats.statuses,
                ignored_approvals: seats.ignored,
                window: time.window,
                freeze: time.freeze,
                break_glass,
                lifted,
                advisory,
                earliest,
                reasons,
                errors,
            },
        )
    }

    /// Everything the decision rests on, and the decision: the topology, the matched
    /// rules, the approvals as seats and the time. [`Ctx::run`] goes on to the
    /// verdict; [`Policy::decide`] stops here.
    fn assess(&self, at: DateTime<Utc>) -> Assessed<'a> {
        let at_secs = at.timestamp();
        let mut errors = self.input_errors();

        // The topology, before any rule or freeze: a policy that reads it never
        // evaluates against targets it cannot place.
        let topology_ok = self.check_topology(&mut errors);

        let (matched_rules, advisory) = self.match_rules(topology_ok, &mut errors);
        let mut asked = Asked::of(self.policy, &matched_rules, &errors);

        // Approvals as seats.
        let mut seats = self.seats(&asked.required);
        asked.reasons.append(&mut seats.reasons);
        if !seats.never.is_empty() {
            asked.denied = true;
            asked.reasons.append(&mut seats.never);
        }

        // Time: windows named by the matched rules, and the freezes that apply.
        let time = self.time(&asked.window_ids, at_secs, topology_ok, &mut errors);

        let decision = decide(
            asked.denied,
            &errors,
            seats.missing,
            asked.break_glass,
            time.earliest,
            at_secs,
        );
        Assessed {
            decision,
            errors,
            matched_rules,
            advisory,
            asked,
            seats,
            time,
        }
    }

    /// The reasons that come last, in order: the count of errors first, then why
    /// the time is not now (or that break glass lifts it), then the default. Returns
    /// the freezes break glass lifted.
    fn last_reasons(
        &self,
        reasons: &mut Vec<String>,
        errors: &[EvalError],
        break_glass: bool,
        default_applied: bool,
        time: &mut TimeState,
    ) -> Vec<String> {
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
                self.policy.default_location
            ));
        }
        lifted
    }

    /// The errors in the change itself: its own problems, and where it disagrees
    /// with the schema.
    fn input_errors(&self) -> Vec<EvalError> {
        let mut errors: Vec<EvalError> = self
            .change
            .problems
            .iter()
            .map(|p| EvalError {
                rule: Some(ErrorSource::Change),
                location: None,
                message: p.clone(),
            })
            .collect();

        // The schema, when declared, holds for the change's own fields too.
        if let Some(schema) = &self.policy.schema {
            for message in schema_errors(schema, &self.change.value) {
                errors.push(EvalError {
                    rule: Some(ErrorSource::Schema),
                    location: None,
                    message,
                });
            }
        }
        errors
    }

    /// The rules that match (by index), and the advisory rules whose condition held
    /// or failed; a failing rule's error goes to `errors`.
    fn match_rules(
        &self,
        topology_ok: bool,
        errors: &mut Vec<EvalError>,
    ) -> (Vec<(u32, &'a RuleDef)>, Vec<Advisory>) {
        let policy = self.policy;
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
                Err(f) => errors.push(self.error(ErrorSource::Rule(rule.name.clone()), f)),
            }
        }
        (matched_rules, advisory)
    }

    /// The verdict, assembled from what was decided.
    fn verdict(&self, at: DateTime<Utc>, d: Decided<'_>) -> Verdict {
        let policy = self.policy;
        let blast = self
            .blast
            .get()
            .and_then(|b| b.as_ref().ok())
            .and_then(|(_, s)| s.clone());
        Verdict {
            decision: d.decision,
            change: self.change.id.clone(),
            at: time::format_rfc3339_utc(at.timestamp()).unwrap_or_else(|| at.to_rfc3339()),
            policy: PolicyRef {
                name: policy.name.clone(),
                sha256: policy.sha256.clone(),
            },
            matched: d
                .matched_rules
                .iter()
                .map(|&(i, r)| Matched {
                    rule: r.name.clone(),
                    location: r.location.clone(),
                    id: crate::RuleId::at(i as usize),
                })
                .collect(),
            default_applied: d.default_applied,
            approvals: d.approvals,
            ignored_approvals: d.ignored_approvals,
            window: d.window,
            freeze: d.freeze,
            break_glass: d.break_glass,
            lifted: d.lifted,
            advisory: d.advisory,
            earliest: d.earliest.and_then(time::format_rfc3339_utc),
            reasons: d.reasons,
            errors: d.errors,
            blast,
            decision_id: String::new(),
            changegate: crate::record::VERSION.to_owned(),
            inputs: crate::record::inputs(policy, self.change, self.inventory),
            schema: crate::verdict::VERDICT_SCHEMA,
            inventory_name: self.inventory.name_arc(),
        }
    }

    fn error(&self, source: ErrorSource, f: Fault) -> EvalError {
        let location = self
            .policy
            .files
            .get(f.expr_file as usize)
            .map(|file| file.location(f.expr_start));
        EvalError {
            rule: Some(source),
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
        // The first field is the blast field, which `start` is the value of.
        Ok(p.fields.iter().skip(1).try_fold(start, |v, f| v.get(f)))
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
                    rule: Some(ErrorSource::Targets),
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
        CmpOp::In => member(l, r, re, whole),
        CmpOp::Eq | CmpOp::Ne => {
            if l.type_of() != r.type_of() {
                return Err(mismatch());
            }
            let same = equal(l, r);
            Ok(if op == CmpOp::Eq { same } else { !same })
        }
        CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
            let Some(ord) = ordering(l, r) else {
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

/// `l in r`: whether the list `r` holds `l` (an error when `r` is no list or holds
/// items of another type).
fn member(l: V<'_>, r: V<'_>, re: &CExpr, whole: &CExpr) -> Result<bool, Fault> {
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

/// `l == r`, of values of one type.
fn equal(l: V<'_>, r: V<'_>) -> bool {
    match r {
        V::Ref(v) => eq(l, v),
        V::Int(i) => {
            matches!(l, V::Int(j) if i == j) || matches!(l, V::Ref(Value::Int(j)) if i == *j)
        }
        V::Bool(b) => {
            matches!(l, V::Bool(c) if b == c) || matches!(l, V::Ref(Value::Bool(c)) if b == *c)
        }
    }
}

/// How `l` and `r` order: strings as strings, integers as integers; `None` for
/// anything else.
fn ordering(l: V<'_>, r: V<'_>) -> Option<std::cmp::Ordering> {
    match (l, r) {
        (V::Ref(Value::Str(a)), V::Ref(Value::Str(b))) => Some(a.cmp(b)),
        _ => match (int(l), int(r)) {
            (Some(a), Some(b)) => Some(a.cmp(&b)),
            _ => None,
        },
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
