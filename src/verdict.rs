//! The gate verdict: what the gate decided and why, as the JSON contract and as text.

use std::fmt::Write as _;

use serde::Serialize;

use crate::terminal::{escape as esc, join};

/// The gate's decision, most restrictive first: `deny` > `approve` > `wait` > `deploy`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// The change may go now.
    Deploy,
    /// Outside its windows or frozen: it may go later (see `earliest`).
    Wait,
    /// Approvals are missing.
    Approve,
    /// It must not go: a rule denies it, an error occurred, or approvals can never be met.
    Deny,
}

impl Decision {
    /// The decision's name (`deploy`).
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Deploy => "deploy",
            Decision::Approve => "approve",
            Decision::Wait => "wait",
            Decision::Deny => "deny",
        }
    }

    /// Ranks restrictiveness: `deploy` 0 < `wait` 1 < `approve` 2 < `deny` 3.
    pub fn severity(self) -> u8 {
        // The variants are declared in this order, which the derived `Ord` uses too.
        self as u8
    }
}

/// The policy a verdict came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct PolicyRef {
    /// `policy "…"`.
    pub name: String,
    /// SHA-256 of the policy's source files.
    pub sha256: String,
}

/// A rule whose condition held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Matched {
    /// The rule's name.
    pub rule: String,
    /// `file:line:col` of the rule.
    pub location: String,
    /// The rule's id in the policy ([`crate::Policy::rule`]); not part of the JSON.
    #[serde(skip)]
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub id: crate::RuleId,
}

/// An approval that did not count, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Ignored {
    /// Who approved.
    pub by: String,
    /// `author`, `stale`, `unknown`, `duplicate` or `not needed`.
    #[cfg_attr(feature = "schema", schemars(with = "String"))]
    pub why: IgnoreReason,
    /// Where the approval came from (`change`, `github`, `gitlab`), when it says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Why an approval did not count; serialized as its name (`not needed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum IgnoreReason {
    /// The change's author approved it.
    Author,
    /// The approval is for another revision of the change.
    Stale,
    /// The person approved earlier already.
    Duplicate,
    /// The person is in no group.
    Unknown,
    /// The person is in none of the groups asked for.
    NotNeeded,
}

impl IgnoreReason {
    /// The reason's name, as in the verdict (`not needed`).
    pub fn as_str(self) -> &'static str {
        match self {
            IgnoreReason::Author => "author",
            IgnoreReason::Stale => "stale",
            IgnoreReason::Duplicate => "duplicate",
            IgnoreReason::Unknown => "unknown",
            IgnoreReason::NotNeeded => "not needed",
        }
    }
}

// The name is written in one place, `as_str`; serde and `Display` use it.
impl Serialize for IgnoreReason {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl std::fmt::Display for IgnoreReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for IgnoreReason {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for IgnoreReason {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// The state of one group's approvals.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct ApprovalStatus {
    /// The group.
    pub group: String,
    /// How many of its members must approve.
    pub required: u32,
    /// How many seats are filled.
    pub have: u32,
    /// Who fills them.
    pub approved_by: Vec<String>,
    /// Approvals by members of this group that did not count, and the author's own.
    pub ignored: Vec<Ignored>,
    /// Where each of `approved_by` came from (`change`, `github`, `gitlab`), in the
    /// same order; present only when the approvals say where they came from.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
}

/// The state of the change's windows (freezes aside).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct WindowStatus {
    /// Whether every window is open now (for the runway).
    pub open: bool,
    /// The windows named by matched rules.
    pub names: Vec<String>,
    /// When closed: when they next open together; null when open or never.
    pub next_open: Option<String>,
    /// When open: when the first of them closes; null when closed.
    pub closes: Option<String>,
    /// For `local` windows: the sites whose zones constrained them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sites: Vec<String>,
}

/// The freezes blocking the change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct FreezeStatus {
    /// Their names.
    pub names: Vec<String>,
    /// When they stop blocking; null when not within the horizon.
    pub until: Option<String>,
}

/// What an advisory rule would have required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Advisory {
    /// The rule's name.
    pub rule: String,
    /// `file:line:col` of the rule.
    pub location: String,
    /// Its outcome, as written in the policy.
    pub would: String,
}

/// An error that made the verdict `deny`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct EvalError {
    /// Where it happened: the rule, freeze or window, or the change itself. The
    /// verdict JSON has it as a string ([`ErrorSource`]'s `Display`).
    #[cfg_attr(
        feature = "schema",
        schemars(
            with = "Option<String>",
            description = "Where it happened: the rule's name, `freeze NAME`, `window NAME`, or `change`, `schema` or `targets` for the change itself."
        )
    )]
    pub rule: Option<ErrorSource>,
    /// `file:line:col` of the failing expression, when there is one.
    pub location: Option<String>,
    /// What went wrong.
    pub message: String,
}

/// Where an evaluation error happened ([`EvalError::rule`]). The verdict JSON writes
/// it as a string, as it always has: `change`, `schema`, `targets`, the rule's name,
/// `freeze NAME` or `window NAME`. Evaluation tells them apart by variant, so a rule
/// named `change` is still a rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorSource {
    /// The change itself: a field of the wrong type, an unreadable duration.
    Change,
    /// The change disagrees with the policy's `schema`.
    Schema,
    /// The change's targets cannot be placed in the inventory.
    Targets,
    /// A rule's condition failed: the rule's name.
    Rule(String),
    /// A freeze's `when` failed: the freeze's name.
    Freeze(String),
    /// A window cannot be placed (say, in an unknown zone): the window's name.
    Window(String),
}

impl std::fmt::Display for ErrorSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ErrorSource::Change => f.write_str("change"),
            ErrorSource::Schema => f.write_str("schema"),
            ErrorSource::Targets => f.write_str("targets"),
            ErrorSource::Rule(name) => f.write_str(name),
            ErrorSource::Freeze(name) => write!(f, "freeze {name}"),
            ErrorSource::Window(name) => write!(f, "window {name}"),
        }
    }
}

impl Serialize for ErrorSource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

/// The blast radius, summarised.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct BlastSummary {
    /// How many devices.
    pub devices: usize,
    /// Which sites.
    pub sites: Vec<String>,
    /// Which roles.
    pub roles: Vec<String>,
    /// The longest dependency distance from a target.
    pub depth: i64,
    /// The path from a target to the furthest device.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub path: Vec<String>,
}

/// The gate verdict for one change at one instant. Serializes to the JSON contract.
// `decision_id` is worked out when the verdict is serialized (or asked for with
// `Verdict::decision_id`), not by evaluation: hashing the whole verdict costs more
// than evaluating it, and a caller that wants only the decision should not pay for it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
pub struct Verdict {
    /// `deploy`, `approve`, `wait` or `deny`.
    pub decision: Decision,
    /// The change's `id`.
    pub change: Option<String>,
    /// The instant evaluated, RFC 3339 UTC.
    pub at: String,
    /// The policy.
    pub policy: PolicyRef,
    /// Every non-advisory rule whose condition held, in source order.
    pub matched: Vec<Matched>,
    /// Whether no rule matched and the `default` applied.
    pub default_applied: bool,
    /// Every group asked for, with its seats.
    pub approvals: Vec<ApprovalStatus>,
    /// Every approval that did not count, with why (`author`, `stale`, `duplicate`,
    /// `unknown`: in no group of the policy, `not needed`: in no group asked for).
    #[cfg_attr(feature = "schema", serde(skip_serializing_if = "Vec::is_empty"))]
    pub ignored_approvals: Vec<Ignored>,
    /// The windows named by matched rules.
    pub window: WindowStatus,
    /// The freezes that block, or null.
    pub freeze: Option<FreezeStatus>,
    /// Whether a matched rule broke glass (freezes and windows lifted; review after).
    pub break_glass: bool,
    /// The freezes that would have blocked but were lifted by break glass.
    #[cfg_attr(feature = "schema", serde(skip_serializing_if = "Vec::is_empty"))]
    pub lifted: Vec<String>,
    /// What advisory rules would have required.
    pub advisory: Vec<Advisory>,
    /// The first instant at which the change could go if the humans said yes; null
    /// for `deny` or when there is none within the horizon.
    pub earliest: Option<String>,
    /// Why, in words.
    pub reasons: Vec<String>,
    /// Evaluation errors (each makes the decision `deny`).
    pub errors: Vec<EvalError>,
    /// The blast radius, when the policy read it.
    #[cfg_attr(feature = "schema", serde(skip_serializing_if = "Option::is_none"))]
    pub blast: Option<BlastSummary>,
    /// The decision's id: derived from the verdict, the zone data and the inventory's
    /// path (see `docs/audit.md`); the same inputs always give the same id.
    // Empty until worked out: read it with `Verdict::decision_id()`.
    pub decision_id: String,
    /// The changegate version that decided.
    pub changegate: String,
    /// The sha256 of each policy file (by path), of the change and of the inventory.
    pub inputs: crate::digest::Inputs,
    /// The version of this format ([`VERDICT_SCHEMA`]), bumped when the contract
    /// changes incompatibly; last, so the fields before it keep their places.
    pub schema: u32,
    /// The inventory's path, which the `decision_id` covers (not serialized).
    #[cfg_attr(feature = "schema", schemars(skip))]
    pub(crate) inventory_name: Option<std::sync::Arc<str>>,
}

/// A verdict's fields in the contract's order, with `decision_id` given.
pub(crate) struct WithId<'a>(pub(crate) &'a Verdict, pub(crate) &'a str);

impl Serialize for WithId<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let v = self.0;
        let mut st = s.serialize_struct("Verdict", 21)?;
        st.serialize_field("decision", &v.decision)?;
        st.serialize_field("change", &v.change)?;
        st.serialize_field("at", &v.at)?;
        st.serialize_field("policy", &v.policy)?;
        st.serialize_field("matched", &v.matched)?;
        st.serialize_field("default_applied", &v.default_applied)?;
        st.serialize_field("approvals", &v.approvals)?;
        if !v.ignored_approvals.is_empty() {
            st.serialize_field("ignored_approvals", &v.ignored_approvals)?;
        }
        st.serialize_field("window", &v.window)?;
        st.serialize_field("freeze", &v.freeze)?;
        st.serialize_field("break_glass", &v.break_glass)?;
        if !v.lifted.is_empty() {
            st.serialize_field("lifted", &v.lifted)?;
        }
        st.serialize_field("advisory", &v.advisory)?;
        st.serialize_field("earliest", &v.earliest)?;
        st.serialize_field("reasons", &v.reasons)?;
        st.serialize_field("errors", &v.errors)?;
        if v.blast.is_some() {
            st.serialize_field("blast", &v.blast)?;
        }
        st.serialize_field("decision_id", self.1)?;
        st.serialize_field("changegate", &v.changegate)?;
        st.serialize_field("inputs", &v.inputs)?;
        st.serialize_field("schema", &v.schema)?;
        st.end()
    }
}

impl Serialize for Verdict {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        WithId(self, &self.decision_id()).serialize(s)
    }
}

/// The verdict format's version, `"schema"` in every verdict. Fields may be added
/// without a bump; removing, renaming or retyping one bumps it.
pub const VERDICT_SCHEMA: u32 = 1;

impl Verdict {
    /// Whether evaluation failed (an error in the change, the inventory or a rule):
    /// the decision is then `deny` for the error, not because the policy said so.
    /// [`Verdict::errors`] says what failed.
    pub fn is_error(&self) -> bool {
        !self.errors.is_empty()
    }

    /// The decision's id (see `docs/audit.md`): the one the verdict carries, or,
    /// when evaluation left it to be worked out, the sha256 of the verdict.
    pub fn decision_id(&self) -> std::borrow::Cow<'_, str> {
        if self.decision_id.is_empty() {
            std::borrow::Cow::Owned(crate::digest::decision_id(
                crate::digest::ZONE_DATA,
                self.inventory_name.as_deref(),
                &WithId(self, ""),
            ))
        } else {
            std::borrow::Cow::Borrowed(&self.decision_id)
        }
    }

    /// The verdict as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The verdict as pretty JSON.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
    }

    /// The verdict for people: the decision first, then what blocks it and what
    /// would unblock it. `human_times` holds the human forms of `next_open` etc.
    ///
    /// Every input-derived string (ids, names, reasons, messages) is escaped with
    /// [`crate::terminal::escape`]: input never controls the terminal.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        self.text_head(&mut out);
        self.text_errors(&mut out);
        self.text_matched(&mut out);
        self.text_approvals(&mut out);
        self.text_windows(&mut out);
        self.text_blast(&mut out);
        self.text_advisory(&mut out);
        match (&self.earliest, self.decision) {
            (_, Decision::Deny) => {}
            (Some(t), _) => {
                let _ = writeln!(out, "\nearliest: {}", esc(t));
            }
            (None, _) => {
                let _ = writeln!(out, "\nearliest: no opening within the horizon");
            }
        }
        out
    }

    /// [`Verdict::to_text`]'s headline, the change and policy, and `why:`.
    fn text_head(&self, out: &mut String) {
        let headline = match self.decision {
            Decision::Deploy => "DEPLOY  the change may go now",
            Decision::Approve => "APPROVE  approvals are missing",
            Decision::Wait => "WAIT  outside its windows or frozen",
            Decision::Deny => "DENY  the change must not go",
        };
        let _ = writeln!(out, "{headline}");
        let _ = writeln!(
            out,
            "  change {} against policy {} at {}",
            esc(self.change.as_deref().unwrap_or("(no id)")),
            esc(&self.policy.name),
            esc(&self.at)
        );
        if !self.reasons.is_empty() {
            let _ = writeln!(out, "\nwhy:");
            for r in &self.reasons {
                let _ = writeln!(out, "  - {}", esc(r));
            }
        }
    }

    /// [`Verdict::to_text`]'s `errors:`, each with its rule and location.
    fn text_errors(&self, out: &mut String) {
        if self.errors.is_empty() {
            return;
        }
        let _ = writeln!(out, "\nerrors:");
        for e in &self.errors {
            let _ = write!(out, "  - {}", esc(&e.message));
            if let Some(rule) = &e.rule {
                let _ = write!(out, " (in {}", esc(&rule.to_string()));
                if let Some(loc) = &e.location {
                    let _ = write!(out, " at {}", esc(loc));
                }
                out.push(')');
            }
            out.push('\n');
        }
    }

    /// [`Verdict::to_text`]'s `matched:`: the rules, or the default.
    fn text_matched(&self, out: &mut String) {
        if self.matched.is_empty() && !self.default_applied {
            return;
        }
        let _ = writeln!(out, "\nmatched:");
        for m in &self.matched {
            let _ = writeln!(out, "  - {}  ({})", esc(&m.rule), esc(&m.location));
        }
        if self.default_applied {
            let _ = writeln!(out, "  - no rule matched: the default applies");
        }
    }

    /// [`Verdict::to_text`]'s `approvals:`, a line per group.
    fn text_approvals(&self, out: &mut String) {
        if self.approvals.is_empty() {
            return;
        }
        let _ = writeln!(out, "\napprovals:");
        for a in &self.approvals {
            let _ = write!(out, "  - {}: {}/{}", esc(&a.group), a.have, a.required);
            if !a.approved_by.is_empty() {
                let _ = write!(out, " (have: {})", join(&a.approved_by, ", "));
            }
            for i in &a.ignored {
                let _ = write!(out, "; ignored {} ({})", esc(&i.by), esc(i.why.as_str()));
            }
            out.push('\n');
        }
    }

    /// [`Verdict::to_text`]'s windows, freeze and break glass.
    fn text_windows(&self, out: &mut String) {
        if !self.window.names.is_empty() {
            let _ = writeln!(
                out,
                "\nwindows {}: {}",
                join(&self.window.names, ", "),
                if self.window.open { "open" } else { "closed" }
            );
            if let Some(t) = &self.window.closes {
                let _ = writeln!(out, "  closes {}", esc(t));
            }
            if let Some(t) = &self.window.next_open {
                let _ = writeln!(out, "  next opens {}", esc(t));
            }
        }
        if let Some(f) = &self.freeze {
            let _ = writeln!(
                out,
                "\nfrozen by {} until {}",
                join(&f.names, ", "),
                esc(f.until.as_deref().unwrap_or("beyond the horizon"))
            );
        }
        if self.break_glass {
            let _ = writeln!(
                out,
                "\nbreak glass: freezes and windows are lifted; this change will be reviewed"
            );
        }
    }

    /// [`Verdict::to_text`]'s blast radius.
    fn text_blast(&self, out: &mut String) {
        let Some(b) = &self.blast else {
            return;
        };
        // An empty list reads "no sites", not "sites ,".
        let named = |what: &str, l: &[String]| {
            if l.is_empty() {
                format!("no {what}")
            } else {
                format!("{what} {}", join(l, ", "))
            }
        };
        let _ = writeln!(
            out,
            "\nblast radius: {} device{}, {}, {}, depth {}",
            b.devices,
            if b.devices == 1 { "" } else { "s" },
            named("sites", &b.sites),
            named("roles", &b.roles),
            b.depth
        );
        if b.path.len() > 1 {
            let _ = writeln!(out, "  furthest: {}", join(&b.path, " <- "));
        }
    }

    /// [`Verdict::to_text`]'s advisory rules.
    fn text_advisory(&self, out: &mut String) {
        if self.advisory.is_empty() {
            return;
        }
        let _ = writeln!(out, "\nadvisory (not enforced):");
        for a in &self.advisory {
            let _ = writeln!(
                out,
                "  - {} would require: {}  ({})",
                esc(&a.rule),
                esc(&a.would),
                esc(&a.location)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `as_str` and `severity` agree with serde's names and the derived order.
    #[test]
    fn names_and_order_agree_with_the_derives() {
        let all = [
            Decision::Deploy,
            Decision::Wait,
            Decision::Approve,
            Decision::Deny,
        ];
        for d in all {
            assert_eq!(serde_json::to_value(d).unwrap(), d.as_str());
        }
        assert!(all
            .windows(2)
            .all(|w| w[0] < w[1] && w[0].severity() < w[1].severity()));
        assert_eq!(
            serde_json::to_value(IgnoreReason::NotNeeded).unwrap(),
            "not needed"
        );
    }
}
