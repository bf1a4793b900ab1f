//! changegate: a policy language and evaluator that decides whether an
//! infrastructure change may deploy now, needs approval, must wait for a window,
//! or must not go at all.
//!
//! A policy is compiled once ([`Policy::parse`] or [`Policy::from_file`]) and then
//! evaluates any number of changes. [`Policy::evaluate`] is pure: the instant is an
//! argument, nothing is read from the clock or the file system, and the same inputs
//! always give the same [`Verdict`].
//!
//! ```
//! // chrono comes re-exported: an embedder needs no dependency of its own for it.
//! use changegate::chrono::{DateTime, Utc};
//! use changegate::{Change, Decision, Policy};
//!
//! let policy = Policy::parse(r#"
//!     policy "netops"
//!
//!     group security = ["dave", "erin"]
//!     window weeknights = mon..thu 22:00-04:00 in "America/New_York"
//!
//!     rule "firewall changes: two from security, at night" {
//!       when change.kind == "firewall"
//!       then approve 2 from security during weeknights
//!     }
//!
//!     default deploy
//! "#, "netops.gate")?;
//!
//! // Field by field; `Change::from_json` of the same object gives the same change.
//! let change = Change::builder("CHG-1042")
//!     .kind("firewall")
//!     .author("mallory")
//!     .approval("dave")
//!     .approval("mallory")
//!     .build();
//!
//! // Thursday 2026-11-26, 05:00 in New York.
//! let at: DateTime<Utc> = "2026-11-26T10:00:00Z".parse()?;
//! // No rule reads the topology, so no inventory is given (`&inventory` otherwise).
//! let verdict = policy.evaluate(&change, None, at);
//!
//! assert_eq!(verdict.decision, Decision::Approve);
//! assert!(!verdict.is_error()); // the policy decided, nothing failed
//! assert_eq!(verdict.approvals[0].have, 1); // the author's own approval never counts
//! assert_eq!(verdict.window.next_open.as_deref(), Some("2026-11-26T22:00:00-05:00"));
//! assert_eq!(verdict.earliest.as_deref(), Some("2026-11-27T03:00:00Z"));
//!
//! // Matched rules carry a stable id (their place in the policy), not only a name.
//! let rule = policy.rule(verdict.matched[0].id).ok_or("no such rule")?;
//! assert_eq!(rule.name, "firewall changes: two from security, at night");
//! assert_eq!(rule.location, "netops.gate:7:5");
//!
//! // A change that cannot be evaluated is denied, and says it was an error.
//! let broken = Change::builder("CHG-1043").duration("soon").build();
//! let verdict = policy.evaluate(&broken, None, at);
//! assert_eq!(verdict.decision, Decision::Deny);
//! assert!(verdict.is_error());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # The public API
//!
//! | Item | What it is |
//! |---|---|
//! | [`Policy`] | a compiled policy: [`Policy::parse`], [`Policy::from_file`], [`Policy::evaluate`], [`Policy::decide`] (the decision alone, cheaper), [`Policy::explain`], [`Policy::calendar`] |
//! | [`Change`], [`ChangeBuilder`], [`Approval`] | the change asking to deploy, from JSON or built field by field |
//! | [`Inventory`], [`Blast`] | devices, sites and dependencies; the blast radius ([`topology`] has its errors) |
//! | [`Verdict`], [`Decision`] | the answer ([`Verdict::is_error`] tells a failed evaluation from a `deny`); [`verdict`] holds its parts (approvals, window, freeze, errors) |
//! | [`RuleId`], [`RuleInfo`] | a matched rule's stable id and what [`Policy::rule`] says of it |
//! | [`chrono`] | re-exported: [`Policy::evaluate`] takes a `chrono::DateTime<Utc>` |
//! | [`Diagnostics`], [`Diagnostic`], [`SourceFile`] | why a policy does not compile, located; [`diag`] |
//! | [`Limits`] | the bounds on every input ([`limits`]) |
//! | [`Value`], [`Type`] | change and inventory values |
//! | [`Exercised`] | what one evaluation exercised ([`Policy::evaluate_covering`]), for coverage |
//! | [`explain`] | the step-by-step trace of an evaluation (`changegate evaluate --explain`) |
//! | [`calendar`] | a policy's windows and freezes over a period, and when a change can start |
//! | [`fmt`], [`source`] | formatting a policy's text ([`fmt::format_source`]: text in, text out); reading policy files, telling modules |
//! | [`record`] | decision records and the audit log: append, verify, replay |
//! | [`review`] | approvals read from GitHub and GitLab review responses |
//! | [`input`] | reading JSON, YAML and TOML documents within limits |
//! | [`people`] | the canonical form in which names compare |
//! | [`terminal`] | escaping input for text output, so it never controls the terminal |
//! | [`time`] | `--at` instants and durations: reading and writing them |
//!
//! The stages, one module each and private but for their results: `syntax`
//! (grammar and AST), `check` (names, imports, windows, types), `compile` and `index`
//! (the evaluation form), `eval`, [`time`] (windows and freezes; public are only
//! instants and durations), [`topology`] (inventory and blast radius) and
//! [`verdict`]. Nothing here touches the clock or the terminal; files are read
//! only where a function takes a path ([`Policy::from_file`], [`input::read_file`],
//! [`record`]). The `changegate` command line is the binary's own module tree
//! (`src/cli/`), built with the default `cli` feature; without default features the
//! library builds without clap and the terminal crates. Only a build with
//! `--cfg fuzzing` (what `cargo fuzz` does) has one more module, `fuzzing`: the
//! unindexed evaluation and the syntax tree's round trip that the fuzz targets
//! check against.

pub mod calendar;
pub mod change;
mod check;
mod check_error;
mod compile;
pub mod diag;
mod digest;
mod eval;
pub mod explain;
pub mod fmt;
#[cfg(fuzzing)]
pub mod fuzzing;
mod index;
pub mod input;
mod ir;
pub mod limits;
mod line_index;
mod lint;
pub mod people;
mod policy;
pub mod record;
pub mod review;
mod rule_id;
pub mod source;
mod syntax;
pub mod terminal;
pub mod time;
pub mod topology;
mod value;
pub mod verdict;

pub use change::{Approval, Change, ChangeBuilder};
/// The `chrono` crate changegate is built with: [`Policy::evaluate`] takes a
/// `chrono::DateTime<Utc>`, so an embedder needs no `chrono` dependency of its own.
pub use chrono;
pub use diag::{Diagnostic, Diagnostics, SourceFile};
pub use eval::Exercised;
pub use limits::Limits;
pub use policy::Policy;
pub use rule_id::{RuleId, RuleInfo};
pub use topology::{Blast, Inventory};
pub use value::{Type, Value};
pub use verdict::{Decision, Verdict};

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests {
    /// A compiled policy is shared across threads.
    #[test]
    fn policy_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<crate::Policy>();
        assert_send_sync::<crate::Inventory>();
        assert_send_sync::<crate::Verdict>();
    }
}
