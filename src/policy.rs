//! The compiled policy: checked, resolved and indexed, ready to evaluate many times.

use std::path::Path;

use crate::diag::{Diagnostic, Diagnostics, SourceFile, ToDiagnostic};
use crate::digest::FileDigest;
use crate::index::RuleIndex;
use crate::limits::Limits;
use crate::syntax::{Root, Span};

// The checked policy's parts live in `ir`, below every stage that reads them.
use crate::compile::Compiled;
use crate::ir::Checked;
pub(crate) use crate::ir::{FreezeDef, GroupDef, OutcomeDef, RuleDef, WindowDef, ZoneDef};

/// A checked, compiled policy. Compile once, evaluate many times; `Send + Sync`.
///
/// ```
/// let policy = changegate::Policy::parse(r#"
///     policy "starter"
///     group ops = ["alice", "bob"]
///     rule "docs ship themselves" {
///       when all change.files match "docs/**"
///       then deploy
///     }
///     default approve 1 from ops
/// "#, "starter.gate").unwrap();
/// assert_eq!(policy.name(), "starter");
/// ```
#[derive(Debug)]
pub struct Policy {
    pub(crate) name: String,
    pub(crate) sha256: String,
    /// Each source file's sha256, by path relative to the root file's folder.
    pub(crate) file_digests: std::sync::Arc<[FileDigest]>,
    pub(crate) files: Vec<SourceFile>,
    pub(crate) groups: Vec<GroupDef>,
    pub(crate) windows: Vec<WindowDef>,
    pub(crate) freezes: Vec<FreezeDef>,
    pub(crate) rules: Vec<RuleDef>,
    pub(crate) default: OutcomeDef,
    pub(crate) default_location: String,
    pub(crate) default_span: Span,
    /// The distinct `blast.x` / `targets.x` fields conditions read, by slot.
    pub(crate) blast_fields: Vec<(Root, String)>,
    pub(crate) index: RuleIndex,
    /// Warnings found while checking names, groups and windows.
    pub(crate) check_warnings: Vec<Diagnostic>,
    /// `check_warnings` and the lints' warnings, computed on first use: the lints are
    /// `check`'s work and never run on the way to an evaluation.
    pub(crate) warnings: std::sync::OnceLock<Vec<Diagnostic>>,
    /// Whether conditions or windows read the topology (`blast.*`, `targets.*`,
    /// `local` windows): then the change's targets are checked against the inventory
    /// before anything is evaluated.
    pub(crate) reads_topology: bool,
    /// Person -> the groups (indices) they belong to.
    pub(crate) member_of: rustc_hash::FxHashMap<String, Vec<usize>>,
    /// Whether no person is in two groups (approvals then need no matching).
    pub(crate) disjoint: bool,
    /// The change's declared fields (`schema { … }`), if any.
    pub(crate) schema: Option<Vec<crate::syntax::SchemaField>>,
    /// Top-level change fields the conditions read, with where.
    pub(crate) change_fields: Vec<(String, String)>,
    /// How many distinct `change.…` paths the conditions read (the path cache's size).
    pub(crate) change_path_count: usize,
}

impl Policy {
    /// Parses and checks a policy from source text; `name` is used in diagnostics
    /// and locations (usually the file's path). A policy that imports other files
    /// needs [`Policy::from_file`] or [`Policy::parse_with_loader`].
    pub fn parse(source: &str, name: &str) -> Result<Policy, Diagnostics> {
        Policy::parse_with_loader(source, name, &Limits::default(), &|path: &Path| {
            Err(std::io::Error::new(
                std::io::ErrorKind::Unsupported,
                format!(
                    "cannot import `{}` from a policy given as text; load it with `Policy::from_file`",
                    path.display()
                ),
            ))
        })
    }

    /// Reads, parses and checks the policy at `path` and everything it imports.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Policy, Diagnostics> {
        Policy::from_file_with_limits(path, &Limits::default())
    }

    /// [`Policy::from_file`] with explicit limits.
    pub fn from_file_with_limits(
        path: impl AsRef<Path>,
        limits: &Limits,
    ) -> Result<Policy, Diagnostics> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let source = match crate::check::read_source(path, limits, crate::input::FileKinds::Any) {
            Ok(s) => s,
            Err(message) => {
                let file = SourceFile::new(&name, "");
                let e = crate::check_error::CheckError::Io { message };
                return Err(Diagnostics(vec![e.to_diagnostic(&file)]));
            }
        };
        Policy::parse_with_loader(&source, &name, limits, &|p: &Path| {
            crate::check::read_source(p, limits, crate::input::FileKinds::Regular)
                .map_err(std::io::Error::other)
        })
    }

    /// Parses and checks `source`, reading imports through `loader` (paths are
    /// resolved relative to the importing file's name).
    pub fn parse_with_loader(
        source: &str,
        name: &str,
        limits: &Limits,
        loader: &dyn Fn(&Path) -> std::io::Result<String>,
    ) -> Result<Policy, Diagnostics> {
        let mut checked = crate::check::check(source, name, limits, loader)?;
        let compiled = crate::compile::compile(&mut checked);
        Ok(Policy::assemble(checked, compiled))
    }

    /// The policy, built once from `check`'s output and `compile`'s (the slots'
    /// layout and the rule index): the digests of its files, and who belongs to
    /// which group.
    fn assemble(c: Checked, compiled: Compiled) -> Policy {
        let file_digests: std::sync::Arc<[FileDigest]> =
            crate::digest::file_digests(c.files.iter().map(|f| (f.name(), f.original()))).into();
        let sha256 = crate::digest::policy_digest(&file_digests);
        let mut member_of: rustc_hash::FxHashMap<String, Vec<usize>> =
            rustc_hash::FxHashMap::default();
        for (gi, g) in c.groups.iter().enumerate() {
            for m in &g.members {
                member_of.entry(m.clone()).or_default().push(gi);
            }
        }
        let disjoint = member_of.values().all(|gs| gs.len() == 1);
        let reads_topology =
            !compiled.blast_fields.is_empty() || c.windows.iter().any(|w| w.zone == ZoneDef::Local);
        Policy {
            reads_topology,
            member_of,
            disjoint,
            name: c.name,
            sha256,
            file_digests,
            files: c.files,
            groups: c.groups,
            windows: c.windows,
            freezes: c.freezes,
            rules: c.rules,
            default: c.default,
            default_location: c.default_location,
            default_span: c.default_span,
            blast_fields: compiled.blast_fields,
            schema: c.schema,
            change_fields: c.change_fields,
            change_path_count: compiled.change_path_count,
            index: compiled.index,
            check_warnings: c.warnings,
            warnings: std::sync::OnceLock::new(),
        }
    }

    /// The policy's name (`policy "…"`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// SHA-256 of the policy's source files with their paths: the sha256 of the
    /// `sha256sum`-style manifest of [`Policy::file_digests`] (see
    /// `record::policy_digest`), so text moved between a file and its import,
    /// or a file renamed, changes it.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The sha256 of each source file, root first, then imports in load order, by path
    /// relative to the root file's folder.
    pub fn file_digests(&self) -> &[FileDigest] {
        &self.file_digests
    }

    /// Warnings found while checking (unused groups, windows that never open, …).
    ///
    /// The lints behind some of them (`docs/lints.md`) run on the first call, not
    /// when the policy is compiled: evaluating never pays for them.
    pub fn warnings(&self) -> &[Diagnostic] {
        self.warnings.get_or_init(|| {
            let mut all = self.check_warnings.clone();
            // The lints (`docs/lints.md`) are quadratic in the number of windows and
            // freezes, so `changegate check` runs them and evaluation never does.
            all.extend(crate::lint::all(&crate::lint::Subject {
                files: &self.files,
                windows: &self.windows,
                freezes: &self.freezes,
                rules: &self.rules,
                default: &self.default,
                default_span: self.default_span,
            }));
            all
        })
    }

    /// Whether the lints have run (by a call to [`Policy::warnings`]). For the tests
    /// below, which show evaluation never runs them.
    #[cfg(test)]
    pub(crate) fn lints_ran(&self) -> bool {
        self.warnings.get().is_some()
    }

    /// Whether the policy reads the topology (`blast.*`, `targets.*` or a `local`
    /// window), so that every evaluation checks the change's targets against the
    /// inventory first.
    pub fn reads_topology(&self) -> bool {
        self.reads_topology
    }

    /// The names of the rules, in source order.
    pub fn rule_names(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.name.as_str())
    }

    /// The names of the windows, in source order.
    pub fn window_names(&self) -> impl Iterator<Item = &str> {
        self.windows.iter().map(|w| w.name.as_str())
    }

    /// The names of the freezes, in source order.
    pub fn freeze_names(&self) -> impl Iterator<Item = &str> {
        self.freezes.iter().map(|f| f.name.as_str())
    }

    /// The change fields the policy declares in its `schema { … }` block, in source
    /// order; none without one.
    pub fn schema_fields(&self) -> impl Iterator<Item = &str> {
        self.schema.iter().flatten().map(|f| f.name.as_str())
    }

    /// The top-level `change.*` fields the conditions read, each with the
    /// `file:line:col` of its first use.
    pub fn change_fields(&self) -> &[(String, String)] {
        &self.change_fields
    }

    /// The source files: the root first, then imports in load order.
    pub fn files(&self) -> &[SourceFile] {
        &self.files
    }
}

/// Evaluation never pays for `check`'s lints (the trust boundary, docs/language.md).
#[cfg(test)]
mod tests {
    use crate::{Change, Decision, Inventory, Policy, Verdict};
    use serde_json::{json, Value};

    fn policy(src: &str) -> Policy {
        Policy::parse(src, "trust.gate").unwrap_or_else(|d| panic!("{}", d.render_plain()))
    }

    fn eval(p: &Policy, change: Value, inventory: &Inventory) -> Verdict {
        let at = "2026-11-26T10:00:00Z".parse().unwrap();
        p.evaluate(&Change::from_json(change).unwrap(), inventory, at)
    }

    /// The `never_open` lint is quadratic in windows and freezes: 1,000 + 1,000 took
    /// 21-29 s on every evaluation. Compiling and evaluating never run the lints; only
    /// `Policy::warnings` (what `changegate check` prints) does.
    #[test]
    fn evaluation_never_runs_the_lints() {
        let mut src = String::from("policy \"big\"\n");
        for i in 0..1_000 {
            src.push_str(&format!(
                "window w{i} = daily {:02}:{:02}-{:02}:{:02} in \"UTC\"\n",
                i % 24,
                i % 60,
                (i + 1) % 24,
                i % 60
            ));
            src.push_str(&format!(
                "freeze f{i} = 2027-{:02}-{:02} 00:00 .. 2027-{:02}-{:02} 06:00 in \"UTC\"\n",
                i % 12 + 1,
                i % 28 + 1,
                i % 12 + 1,
                i % 28 + 1
            ));
        }
        src.push_str("rule \"r\" { when change.kind == \"db\" then deploy during w0, w1 }\n");
        src.push_str("default deploy\n");
        let started = std::time::Instant::now();
        let p = policy(&src);
        let v = eval(&p, json!({"kind": "db"}), &Inventory::empty());
        let v2 = eval(&p, json!({"kind": "web"}), &Inventory::empty());
        let took = started.elapsed();
        assert!(!p.lints_ran(), "compiling or evaluating ran the lints");
        assert_ne!(v.decision, Decision::Deny, "{v:?}");
        assert_eq!(v2.decision, Decision::Deploy);
        // Generous, for a debug build on a busy machine; the assertion above is the proof.
        assert!(took.as_secs() < 5, "compile + 2 evaluations took {took:?}");
        // `check` still gets every warning.
        let _ = p.warnings();
        assert!(p.lints_ran());
    }

    /// `check` output is the same: the lints' warnings are still among the warnings.
    #[test]
    fn check_still_reports_the_lints() {
        let p = policy(
            r#"policy "p"
    window never = 2026-01-01 00:00 .. 2026-01-02 00:00 in "UTC"
    freeze wide = 2025-12-31 00:00 .. 2026-01-03 00:00 in "UTC"
    rule "r" { when change.kind == "db" then deploy during never }
    default deploy
    "#,
        );
        assert!(!p.lints_ran());
        let codes: Vec<&str> = p.warnings().iter().map(|w| w.code).collect();
        assert!(codes.iter().any(|c| c.contains("never_open")), "{codes:?}");
    }
}
