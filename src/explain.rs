//! `evaluate --explain`: why a verdict is what it is. A trace of every rule (its
//! condition with the values it saw), what each matched rule contributed, and why
//! each window is open or closed at the instant.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::change::Change;
use crate::eval::{compare, describe_outcome, Ctx, Fault, V};
use crate::ir::{CExpr, CKind};
use crate::policy::{Policy, ZoneDef};
use crate::time::{self, IntervalStream, WindowStream, ZonedWindow};
use crate::topology::Inventory;
use crate::verdict::Verdict;

/// One step of a condition's evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Step {
    /// Nesting level, 0 for the whole condition.
    pub depth: usize,
    /// The (sub)expression as written.
    pub expr: String,
    /// The operands it compared, when it is a comparison: `"firewall" == "firewall"`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub saw: Option<String>,
    /// Its value (`true`, `false`, a value), `error: …`, or `skipped` (short-circuit).
    pub value: String,
}

/// How one rule fared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleTrace {
    /// The rule.
    pub rule: String,
    /// Where it is.
    pub location: String,
    /// Whether it is advisory.
    pub advisory: bool,
    /// `matched`, `not matched` or `error`.
    pub result: &'static str,
    /// Its condition, step by step.
    pub steps: Vec<Step>,
    /// What it contributes when matched.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contributes: Option<String>,
}

/// Why a window (or freeze) is open or closed at the instant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimeTrace {
    /// `window` or `freeze`.
    pub kind: &'static str,
    /// Its name, with the site for `local` windows.
    pub name: String,
    /// Whether it is open (window) or active (freeze) at the instant.
    pub open: bool,
    /// The explanation, in the zone's own time.
    pub why: String,
}

/// The whole explanation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// Every rule, in source order.
    pub rules: Vec<RuleTrace>,
    /// Every window and freeze.
    pub time: Vec<TimeTrace>,
}

impl Policy {
    /// Evaluates like [`Policy::evaluate`] and explains every rule, window and freeze.
    pub fn explain(
        &self,
        change: &Change,
        inventory: &Inventory,
        at: DateTime<Utc>,
    ) -> (Verdict, Explanation) {
        let verdict = self.evaluate(change, inventory, at);
        let cx = Ctx::new(self, change, inventory);
        let rules = self
            .rules
            .iter()
            .map(|rule| {
                let mut steps = Vec::new();
                let result = match trace(&cx, &rule.cond, 0, &mut steps) {
                    Ok(V::Bool(true) | V::Ref(crate::value::Value::Bool(true))) => "matched",
                    Ok(_) => "not matched",
                    Err(_) => "error",
                };
                RuleTrace {
                    rule: rule.name.clone(),
                    location: rule.location.clone(),
                    advisory: rule.advisory,
                    result,
                    steps,
                    contributes: (result == "matched")
                        .then(|| describe_outcome(self, &rule.outcome)),
                }
            })
            .collect();
        let t = at.timestamp();
        let mut times = Vec::new();
        for w in &self.windows {
            let zones: Vec<(String, chrono_tz::Tz)> = match w.zone {
                ZoneDef::Fixed(tz) => vec![(w.name.clone(), tz)],
                ZoneDef::Local => match cx.site_zones() {
                    Ok(sites) => sites
                        .into_iter()
                        .map(|(site, tz)| (format!("{} at {site}", w.name), tz))
                        .collect(),
                    Err(e) => {
                        times.push(TimeTrace {
                            kind: "window",
                            name: w.name.clone(),
                            open: false,
                            why: format!("cannot be placed: {e}"),
                        });
                        Vec::new()
                    }
                },
            };
            for (name, tz) in zones {
                times.push(time_trace("window", name, w.shape, tz, t));
            }
        }
        for f in &self.freezes {
            let mut tr = time_trace("freeze", f.name.clone(), f.shape, f.tz, t);
            if let Some(cond) = &f.when {
                match cx.truth(cond) {
                    Ok(true) => tr.why.push_str("; applies to this change"),
                    Ok(false) => {
                        tr.why
                            .push_str("; does not apply to this change (its `when` is false)");
                        tr.open = false;
                    }
                    Err(e) => tr
                        .why
                        .push_str(&format!("; its `when` failed: {}", e.message)),
                }
            }
            times.push(tr);
        }
        (verdict, Explanation { rules, time: times })
    }
}

fn time_trace(
    kind: &'static str,
    name: String,
    shape: time::Shape,
    tz: chrono_tz::Tz,
    t: i64,
) -> TimeTrace {
    let human = |x: i64| time::format_human(x, tz).unwrap_or_else(|| x.to_string());
    let (open, why) = match WindowStream::new(&ZonedWindow::new(shape, tz))
        .ok()
        .and_then(|s| s.next_interval(t))
    {
        Some(iv) if iv.start <= t => (
            true,
            format!(
                "{} since {}, until {}",
                if kind == "freeze" { "active" } else { "open" },
                human(iv.start),
                human(iv.end)
            ),
        ),
        Some(iv) => (
            false,
            format!(
                "{} now ({}); next {} {}, until {}",
                if kind == "freeze" {
                    "not active"
                } else {
                    "closed"
                },
                human(t),
                if kind == "freeze" { "from" } else { "opens" },
                human(iv.start),
                human(iv.end)
            ),
        ),
        None => (
            false,
            format!(
                "{} now, and never again",
                if kind == "freeze" {
                    "not active"
                } else {
                    "closed"
                }
            ),
        ),
    };
    TimeTrace {
        kind,
        name,
        open,
        why,
    }
}

/// The expression as written in its file.
fn text<'p>(cx: &Ctx<'p>, e: &CExpr) -> &'p str {
    cx.policy
        .files
        .get(e.file as usize)
        .and_then(|f| f.text().get(e.span.start..e.span.end))
        .unwrap_or("?")
}

fn show(r: &Result<V<'_>, Fault>) -> String {
    match r {
        Ok(v) => v.show(),
        Err(f) => format!("error: {}", f.message),
    }
}

/// Evaluates `e` like the evaluator does, recording each step (parent before children).
fn trace<'a>(
    cx: &'a Ctx<'a>,
    e: &'a CExpr,
    depth: usize,
    out: &mut Vec<Step>,
) -> Result<V<'a>, Fault> {
    let slot = out.len();
    out.push(Step {
        depth,
        expr: text(cx, e).to_owned(),
        saw: None,
        value: String::new(),
    });
    let result = match &e.kind {
        CKind::And(parts) | CKind::Or(parts) => {
            let is_and = matches!(e.kind, CKind::And(_));
            let mut outcome = Ok(V::Bool(is_and));
            let mut done = false;
            for p in parts {
                if done {
                    out.push(Step {
                        depth: depth + 1,
                        expr: text(cx, p).to_owned(),
                        saw: None,
                        value: "skipped".into(),
                    });
                    continue;
                }
                match trace(cx, p, depth + 1, out) {
                    Ok(v) => {
                        let b =
                            matches!(v, V::Bool(true) | V::Ref(crate::value::Value::Bool(true)));
                        if b != is_and {
                            outcome = Ok(V::Bool(b));
                            done = true;
                        }
                    }
                    Err(f) => {
                        outcome = Err(f);
                        done = true;
                    }
                }
            }
            // The evaluator's own answer (also checks types exactly as it does).
            match outcome {
                Ok(_) => cx.eval(e),
                Err(f) => Err(f),
            }
        }
        CKind::Not(inner) => {
            let _ = trace(cx, inner, depth + 1, out);
            cx.eval(e)
        }
        CKind::Cmp(op, l, r) => {
            let lv = cx.eval(l);
            let rv = cx.eval(r);
            if let (Ok(a), Ok(b)) = (&lv, &rv) {
                if let Some(step) = out.get_mut(slot) {
                    step.saw = Some(format!("{} {} {}", a.show(), op.as_str(), b.show()));
                }
                compare(*op, *a, *b, l, r, e).map(V::Bool)
            } else {
                cx.eval(e)
            }
        }
        _ => cx.eval(e),
    };
    if let Some(step) = out.get_mut(slot) {
        step.value = show(&result);
    }
    result
}

impl Explanation {
    /// The explanation for people.
    pub fn to_text(&self) -> String {
        use crate::terminal::escape as esc;
        let mut out = String::from("\nexplain:\n");
        for r in &self.rules {
            let _ = writeln!(
                out,
                "  rule \"{}\"{} ({}): {}",
                esc(&r.rule),
                if r.advisory { " [advisory]" } else { "" },
                esc(&r.location),
                r.result
            );
            for s in &r.steps {
                let indent = "  ".repeat(s.depth + 2);
                match &s.saw {
                    Some(saw) => {
                        let _ = writeln!(
                            out,
                            "{indent}{}  ->  {}  ->  {}",
                            esc(&s.expr),
                            esc(saw),
                            esc(&s.value)
                        );
                    }
                    None => {
                        let _ = writeln!(out, "{indent}{}  ->  {}", esc(&s.expr), esc(&s.value));
                    }
                }
            }
            if let Some(c) = &r.contributes {
                let _ = writeln!(out, "    contributes: {}", esc(c));
            }
        }
        for t in &self.time {
            let _ = writeln!(out, "  {} {}: {}", t.kind, esc(&t.name), esc(&t.why));
        }
        out
    }
}
