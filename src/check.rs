//! Analysis: loads imports, resolves names, validates windows and outcomes, types
//! conditions, and hands on the policy as data ([`Checked`]). Every problem is collected, so
//! one run of `changegate check` reports them all.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::compile::Lowerer;
use crate::diag::{did_you_mean, Diagnostic, Diagnostics, SourceFile, ToDiagnostic};
use crate::ir::{Checked, FreezeDef, GroupDef, OutcomeDef, RuleDef, WindowDef, ZoneDef};
use crate::limits::Limits;
use crate::lint::Lint;
use crate::syntax::{self, *};
use crate::time::{Days, End, OnceEnd, Shape};

/// Longest duration a window may have.
const MAX_DURATION_SECS: i64 = 366 * 86_400;

/// Reads a policy file as UTF-8, within the size limit (enforced while reading).
/// An import must be a regular file (`kinds`): a FIFO nobody writes would block.
pub(crate) fn read_source(
    path: &Path,
    limits: &Limits,
    kinds: crate::input::FileKinds,
) -> Result<String, String> {
    crate::input::read_text(path, limits.max_source_bytes, kinds)
}

struct Module {
    file: SourceFile,
    ast: syntax::File,
}

/// Loads the root and its imports and checks everything: `check`'s output is the
/// policy as data ([`Checked`]), with the warnings found on the way.
pub(crate) fn check(
    source: &str,
    name: &str,
    limits: &Limits,
    loader: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<Checked, Diagnostics> {
    let mut diags = Vec::new();
    let modules = load_modules(source, name, limits, loader, &mut diags);
    if diags.iter().any(Diagnostic::is_error) {
        return Err(Diagnostics(diags));
    }
    let mut b = Builder {
        modules: &modules,
        diags,
        limits,
        reads: crate::compile::Reads::default(),
        fallback: modules
            .first()
            .map_or_else(|| SourceFile::new(name, source), |m| m.file.clone()),
        schema: None,
    };
    let checked = b.build();
    let diags = b.diags;
    match checked {
        // The lints are not run here: they are `check`'s work, done on the first
        // call to `Policy::warnings`, never on the way to an evaluation.
        Some(mut c) if !diags.iter().any(Diagnostic::is_error) => {
            c.warnings = diags;
            Ok(c)
        }
        _ => Err(Diagnostics(diags)),
    }
}

fn load_modules(
    source: &str,
    name: &str,
    limits: &Limits,
    loader: &dyn Fn(&Path) -> std::io::Result<String>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Module> {
    let mut modules = Vec::new();
    let mut graph: DiGraph<usize, Span> = DiGraph::new();
    let mut by_path: HashMap<PathBuf, NodeIndex> = HashMap::default();
    let root = SourceFile::new(name, source);
    let (ast, d) = syntax::parse_file(&root, limits);
    diags.extend(d);
    by_path.insert(normalize(Path::new(name)), graph.add_node(0));
    modules.push(Module { file: root, ast });
    let mut depth_of = vec![0usize];

    let mut next = 0;
    while next < modules.len() {
        let current = next;
        next += 1;
        let imports: Vec<(Str, Span)> = modules
            .get(current)
            .map(|m| {
                m.ast
                    .items
                    .iter()
                    .filter_map(|i| match i {
                        Item::Import(p, s) => Some((p.clone(), *s)),
                        _ => None,
                    })
                    .collect()
            })
            .unwrap_or_default();
        let Some(from) = modules.get(current).map(|m| m.file.clone()) else {
            continue;
        };
        let from_node = NodeIndex::new(current);
        let depth = depth_of.get(current).copied().unwrap_or(0) + 1;
        for (target, span) in imports {
            let base = Path::new(from.name()).parent().unwrap_or(Path::new(""));
            let path = normalize(&base.join(&target.value));
            if let Some(&node) = by_path.get(&path) {
                graph.add_edge(from_node, node, span);
                continue;
            }
            if depth > limits.max_import_depth {
                diags.push(
                    Diagnostic::error(
                        "changegate::import_depth",
                        &from,
                        format!("imports nest deeper than the limit of {}", limits.max_import_depth),
                    )
                    .label(target.span, "one import too many")
                    .help("flatten the chain of imports, or raise the limit with `--max-import-depth`"),
                );
                continue;
            }
            match loader(&path) {
                Ok(text) => {
                    let file = SourceFile::new(&path.display().to_string(), &text);
                    let (ast, d) = syntax::parse_file(&file, limits);
                    diags.extend(d);
                    let node = graph.add_node(modules.len());
                    by_path.insert(path, node);
                    graph.add_edge(from_node, node, span);
                    modules.push(Module { file, ast });
                    depth_of.push(depth);
                }
                Err(err) => diags.push(
                    Diagnostic::error(
                        "changegate::import_not_found",
                        &from,
                        format!("cannot import `{}`: {err}", target.value),
                    )
                    .label(target.span, "imported here")
                    .help("import paths are relative to the importing file"),
                ),
            }
        }
    }

    for scc in petgraph::algo::tarjan_scc(&graph) {
        let is_cycle = scc.len() > 1
            || scc
                .first()
                .is_some_and(|&n| graph.find_edge(n, n).is_some());
        if !is_cycle {
            continue;
        }
        // Walk the cycle from its first file, so the message reads a -> b -> a.
        let start = scc
            .iter()
            .min_by_key(|n| n.index())
            .copied()
            .unwrap_or_default();
        let mut path = vec![start];
        let mut cur = start;
        for _ in 0..scc.len() {
            use petgraph::visit::EdgeRef;
            let mut targets: Vec<NodeIndex> = graph
                .edges(cur)
                .map(|e| e.target())
                .filter(|t| scc.contains(t))
                .collect();
            targets.sort_by_key(|t| t.index());
            let next = targets
                .iter()
                .find(|t| !path.contains(t))
                .or_else(|| targets.iter().find(|t| **t == start));
            match next {
                Some(&n) if n == start => break,
                Some(&n) => {
                    path.push(n);
                    cur = n;
                }
                None => break,
            }
        }
        path.push(start);
        let names: Vec<String> = path
            .iter()
            .filter_map(|n| {
                modules
                    .get(n.index())
                    .map(|m| format!("`{}`", m.file.name()))
            })
            .collect();
        let mut cycle_edges = Vec::new();
        for &n in &scc {
            for e in graph.edges(n) {
                use petgraph::visit::EdgeRef;
                if scc.contains(&e.target()) {
                    cycle_edges.push((n.index(), *e.weight(), e.target().index()));
                }
            }
        }
        cycle_edges.sort_by_key(|(from, span, _)| (*from, span.start));
        let mut first: Option<Diagnostic> = None;
        for (from, span, to) in cycle_edges {
            let (Some(fm), Some(tm)) = (modules.get(from), modules.get(to)) else {
                continue;
            };
            let d = Diagnostic::error(
                "changegate::import_cycle",
                &fm.file,
                format!("`{}` imports `{}`", fm.file.name(), tm.file.name()),
            )
            .label(span, "this import is part of the cycle");
            first = Some(match first {
                None => Diagnostic {
                    message: format!("imports form a cycle: {}", names.join(" -> ")),
                    help: Some(
                        "move what the files share into a module that imports neither".into(),
                    ),
                    ..d
                },
                Some(f) => f.with_related(d),
            });
        }
        diags.extend(first);
    }
    modules
}

/// Removes `.` and resolves `..` lexically, so one file imported by two paths is
/// loaded once.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

struct Builder<'a> {
    modules: &'a [Module],
    diags: Vec<Diagnostic>,
    limits: &'a Limits,
    /// What the conditions read (blast fields, change fields and paths).
    reads: crate::compile::Reads,
    fallback: SourceFile,
    schema: Option<Vec<SchemaField>>,
}

/// Where a name was declared: file index and span.
#[derive(Clone, Copy)]
struct Decl {
    file: usize,
    span: Span,
    index: usize,
}

impl Builder<'_> {
    fn file(&self, i: usize) -> &SourceFile {
        // `i` always comes from enumerating `modules`; the fallback is never used.
        self.modules.get(i).map_or(&self.fallback, |m| &m.file)
    }

    fn location(&self, file: usize, span: Span) -> String {
        self.file(file).location(span.start)
    }

    /// Checks every module and returns the policy's data, or `None` when an error
    /// left nothing to build (the errors are in `self.diags`).
    fn build(&mut self) -> Option<Checked> {
        let modules = self.modules;
        let root = &modules.first()?.file;
        self.misplaced_items();
        let name = self.policy_name(root);
        // The schema, before any condition is typed against it.
        self.schema(root);
        let names = self.declarations();
        let r = self.root_items(root, &names);
        self.unused(&names, &r.used_groups, &r.used_windows);
        self.diags
            .sort_by_key(|d| (d.file.name().to_owned(), d.offset().unwrap_or(0)));

        let (default, default_location, default_span) = r.default?;
        let name = name?;
        Some(Checked {
            name,
            files: modules.iter().map(|m| m.file.clone()).collect(),
            groups: names.groups,
            windows: names.windows,
            freezes: names.freezes,
            rules: r.rules,
            default,
            default_location,
            default_span,
            blast_fields: std::mem::take(&mut self.reads.blast_fields),
            schema: self.schema.take(),
            change_fields: std::mem::take(&mut self.reads.change_fields),
            change_path_count: self.reads.change_paths.len(),
            warnings: Vec::new(),
        })
    }

    /// Policy header, rules, schema and default live in the root file only.
    fn misplaced_items(&mut self) {
        let modules = self.modules;
        for (fi, m) in modules.iter().enumerate() {
            for item in &m.ast.items {
                let misplaced = match item {
                    Item::Policy(..) | Item::Rule(_) | Item::Default(..) | Item::Schema(_) => {
                        fi > 0
                    }
                    _ => false,
                };
                if misplaced {
                    self.diags.push(
                        Diagnostic::error(
                            "changegate::module_item",
                            &m.file,
                            "an imported file can only hold imports, groups, windows and freezes",
                        )
                        .label(item.span(), "not allowed in a module")
                        .help(
                            "move the policy header, schema, rules and default into the importing policy",
                        ),
                    );
                }
            }
        }
    }

    /// The policy's name, from its one `policy "…"` header.
    fn policy_name(&mut self, root: &SourceFile) -> Option<String> {
        let mut policy_name: Option<(String, Span)> = None;
        for item in &self.modules.first()?.ast.items {
            if let Item::Policy(name, span) = item {
                if let Some((_, first)) = &policy_name {
                    self.diags.push(
                        Diagnostic::error(
                            "changegate::duplicate_name",
                            root,
                            "the policy is named twice",
                        )
                        .label(*span, "second `policy` header")
                        .label(*first, "first named here")
                        .help("keep one `policy \"name\"` line"),
                    );
                } else {
                    policy_name = Some((name.value.clone(), *span));
                }
            }
        }
        if policy_name.is_none() {
            self.diags.push(
                Diagnostic::error("changegate::missing_policy", root, "the policy has no name")
                    .label(Span::new(0, 0), "expected `policy \"…\"` here")
                    .help("start the file with `policy \"my-team-production\"`"),
            );
        }

        policy_name.map(|(name, _)| name)
    }

    /// The root's one `schema { … }`, if any, into `self.schema`.
    fn schema(&mut self, root: &SourceFile) {
        let Some(first) = self.modules.first() else {
            return;
        };
        for item in &first.ast.items {
            if let Item::Schema(s) = item {
                if self.schema.is_some() {
                    self.diags.push(
                        Diagnostic::error(
                            "changegate::duplicate_name",
                            root,
                            "the policy declares two schemas",
                        )
                        .label(s.span, "second schema")
                        .help("merge the fields into one `schema { … }`"),
                    );
                    continue;
                }
                let mut seen: Vec<&str> = Vec::new();
                for f in &s.fields {
                    if seen.contains(&f.name.as_str()) {
                        self.diags.push(
                            Diagnostic::error(
                                "changegate::duplicate_name",
                                root,
                                format!("field `{}` is declared twice in the schema", f.name),
                            )
                            .label(f.span, "declared again")
                            .help("keep one declaration of each field"),
                        );
                    }
                    seen.push(&f.name);
                }
                self.schema = Some(s.fields.clone());
            }
        }
    }

    /// The groups, windows and freezes declared across all modules.
    fn declarations(&mut self) -> Names {
        let mut d = Names::default();
        for (fi, m) in self.modules.iter().enumerate() {
            for item in &m.ast.items {
                match item {
                    Item::Group(g) => self.declare_group(fi, g, &mut d),
                    Item::Window(w) => self.declare_window(fi, w, &mut d),
                    Item::Freeze(z) => self.declare_freeze(fi, z, &mut d),
                    _ => {}
                }
            }
        }
        d
    }

    fn declare_group(&mut self, fi: usize, g: &Group, d: &mut Names) {
        if self.duplicate("group", &g.name, fi, &d.group_decls) {
            return;
        }
        if let Some(members) = self.group(fi, g) {
            d.group_decls.insert(
                g.name.name.clone(),
                Decl {
                    file: fi,
                    span: g.name.span,
                    index: d.groups.len(),
                },
            );
            d.groups.push(GroupDef {
                name: g.name.name.clone(),
                members,
            });
        } else {
            d.broken_groups.insert(g.name.name.clone());
        }
    }

    fn declare_window(&mut self, fi: usize, w: &WindowDecl, d: &mut Names) {
        if self.duplicate("window", &w.name, fi, &d.window_decls)
            || self.duplicate_other(&w.name, fi, &d.freeze_decls, "freeze")
        {
            return;
        }
        if let Some((shape, zone)) = self.window_spec(fi, &w.spec, true) {
            d.window_decls.insert(
                w.name.name.clone(),
                Decl {
                    file: fi,
                    span: w.name.span,
                    index: d.windows.len(),
                },
            );
            d.windows.push(WindowDef {
                name: w.name.name.clone(),
                shape,
                zone,
                location: self.location(fi, w.span),
                file: fi,
                span: w.span,
            });
        } else {
            d.broken_windows.insert(w.name.name.clone());
        }
    }

    fn declare_freeze(&mut self, fi: usize, z: &FreezeDecl, d: &mut Names) {
        if self.duplicate("freeze", &z.name, fi, &d.freeze_decls)
            || self.duplicate_other(&z.name, fi, &d.window_decls, "window")
        {
            return;
        }
        let spec = self.window_spec(fi, &z.spec, false);
        let when = z.when.as_ref().and_then(|e| self.condition(fi, e));
        if z.when.is_some() && when.is_none() {
            return;
        }
        if let Some((shape, ZoneDef::Fixed(tz))) = spec {
            d.freeze_decls.insert(
                z.name.name.clone(),
                Decl {
                    file: fi,
                    span: z.name.span,
                    index: d.freezes.len(),
                },
            );
            d.freezes.push(FreezeDef {
                name: z.name.name.clone(),
                shape,
                tz,
                when,
                location: self.location(fi, z.span),
                file: fi,
                span: z.span,
            });
        }
    }

    /// The rules and the default, in the root, noting which groups and windows
    /// they use.
    fn root_items(&mut self, root: &SourceFile, names: &Names) -> RootItems {
        let mut out = RootItems {
            rules: Vec::new(),
            default: None,
            used_groups: vec![false; names.groups.len()],
            used_windows: vec![false; names.windows.len()],
        };
        let Some(root_items) = self.modules.first() else {
            return out;
        };
        let mut rule_names: HashMap<&str, Span> = HashMap::default();
        let mut default_span: Option<Span> = None;
        for item in &root_items.ast.items {
            match item {
                Item::Rule(r) => {
                    if let Some(first) = rule_names.get(r.name.value.as_str()) {
                        self.diags.push(
                            Diagnostic::error(
                                "changegate::duplicate_name",
                                root,
                                format!("two rules are named `{}`", r.name.value),
                            )
                            .label(r.name.span, "second rule with this name")
                            .label(*first, "first defined here")
                            .help("rule names identify rules in verdicts and audits; give each rule its own name"),
                        );
                        continue;
                    }
                    rule_names.insert(&r.name.value, r.name.span);
                    let cond = self.condition(0, &r.when);
                    let outcome =
                        self.outcome(&r.then, names, &mut out.used_groups, &mut out.used_windows);
                    if let (Some(cond), Some(outcome)) = (cond, outcome) {
                        out.rules.push(RuleDef {
                            name: r.name.value.clone(),
                            location: self.location(0, r.span),
                            advisory: r.advisory,
                            cond,
                            outcome,
                            span: r.span,
                        });
                    }
                }
                Item::Default(o, span) => {
                    if let Some(first) = default_span {
                        self.diags.push(
                            Diagnostic::error(
                                "changegate::duplicate_default",
                                root,
                                "the policy has two `default` outcomes",
                            )
                            .label(*span, "second default")
                            .label(first, "first default")
                            .help("keep one `default`: it applies when no rule matches"),
                        );
                        continue;
                    }
                    default_span = Some(*span);
                    if let Some(o) =
                        self.outcome(o, names, &mut out.used_groups, &mut out.used_windows)
                    {
                        out.default = Some((o, self.location(0, *span), *span));
                    }
                }
                _ => {}
            }
        }
        if default_span.is_none() {
            // At the end of the last item: a label after the final line break is not shown.
            let end = root.text().trim_end().len();
            self.diags.push(
                Diagnostic::error(
                    "changegate::missing_default",
                    root,
                    "the policy has no `default` outcome",
                )
                .label(
                    Span::new(end, end),
                    "expected `default …` by the end of the file",
                )
                .help("add what applies when no rule matches, e.g. `default approve 1 from ops`"),
            );
        }

        out
    }

    /// Unused declarations are warnings.
    fn unused(&mut self, names: &Names, used_groups: &[bool], used_windows: &[bool]) {
        for (name, decl) in &names.group_decls {
            if !used_groups.get(decl.index).copied().unwrap_or(true) {
                let lint = Lint::UnusedGroup {
                    name: name.clone(),
                    span: decl.span,
                };
                let d = lint.to_diagnostic(self.file(decl.file));
                self.diags.push(d);
            }
        }
        for (name, decl) in &names.window_decls {
            if !used_windows.get(decl.index).copied().unwrap_or(true) {
                let lint = Lint::UnusedWindow {
                    name: name.clone(),
                    span: decl.span,
                };
                let d = lint.to_diagnostic(self.file(decl.file));
                self.diags.push(d);
            }
        }
    }

    fn duplicate(
        &mut self,
        what: &str,
        name: &Ident,
        fi: usize,
        decls: &HashMap<String, Decl>,
    ) -> bool {
        let Some(first) = decls.get(&name.name) else {
            return false;
        };
        let file = self.file(fi).clone();
        let mut d = Diagnostic::error(
            "changegate::duplicate_name",
            &file,
            format!("{what} `{}` is defined twice", name.name),
        )
        .label(name.span, "defined again here")
        .help(format!("rename one of the two {what}s, or remove one"));
        if first.file == fi {
            d = d.label(first.span, "first defined here");
        } else {
            let other = self.file(first.file).clone();
            d = d.with_related(
                Diagnostic::error(
                    "changegate::duplicate_name",
                    &other,
                    format!(
                        "{what} `{}` is first defined in `{}`",
                        name.name,
                        other.name()
                    ),
                )
                .label(first.span, "first defined here"),
            );
        }
        self.diags.push(d);
        true
    }

    fn duplicate_other(
        &mut self,
        name: &Ident,
        fi: usize,
        decls: &HashMap<String, Decl>,
        other: &str,
    ) -> bool {
        let Some(first) = decls.get(&name.name) else {
            return false;
        };
        let file = self.file(fi).clone();
        let first_loc = self.location(first.file, first.span);
        self.diags.push(
            Diagnostic::error(
                "changegate::duplicate_name",
                &file,
                format!(
                    "`{}` is already the name of a {other} ({first_loc})",
                    name.name
                ),
            )
            .label(name.span, "defined again here")
            .help("windows and freezes share one namespace; rename one of them"),
        );
        true
    }

    fn group(&mut self, fi: usize, g: &Group) -> Option<Vec<String>> {
        let file = self.file(fi).clone();
        if g.members.is_empty() {
            self.diags.push(
                Diagnostic::error(
                    "changegate::empty_group",
                    &file,
                    format!("group `{}` has no members", g.name.name),
                )
                .label(g.span, "empty group")
                .help("list the people who may approve, e.g. `[\"alice\", \"bob\"]`"),
            );
            return None;
        }
        let mut members: Vec<String> = Vec::with_capacity(g.members.len());
        // Canonical name -> how it was first written (a set keeps this linear).
        let mut seen: HashMap<String, &String> = HashMap::default();
        for m in &g.members {
            let name = match crate::people::canonical(&m.value) {
                Ok(name) => name,
                Err(crate::people::NameError::Empty) => {
                    self.diags.push(
                        Diagnostic::error(
                            "changegate::empty_member",
                            &file,
                            "a group member's name is empty",
                        )
                        .label(m.span, "empty name")
                        .help("write the person's user name"),
                    );
                    return None;
                }
                Err(e) => {
                    self.diags.push(
                        Diagnostic::error(
                            "changegate::hidden_member",
                            &file,
                            format!(
                                "a member of group `{}` is not a usable name: {e}",
                                g.name.name
                            ),
                        )
                        .label(m.span, "hidden character")
                        .help("names may not hold control, format or invisible characters"),
                    );
                    return None;
                }
            };
            if let Some(first) = seen.get(&name) {
                let lint = Lint::DuplicateMember {
                    member: m.value.clone(),
                    first: (*first).clone(),
                    person: name.clone(),
                    group: g.name.name.clone(),
                    span: m.span,
                };
                self.diags.push(lint.to_diagnostic(&file));
                continue;
            }
            seen.insert(name.clone(), &m.value);
            members.push(name);
        }
        Some(members)
    }

    fn condition(&mut self, fi: usize, e: &Expr) -> Option<crate::compile::CExpr> {
        let file = self.file(fi).clone();
        let mut lowerer = Lowerer {
            file: &file,
            file_index: u16::try_from(fi).unwrap_or(u16::MAX),
            diags: &mut self.diags,
            schema: self.schema.as_deref(),
            reads: &mut self.reads,
        };
        lowerer.condition(e)
    }

    fn window_spec(
        &mut self,
        fi: usize,
        spec: &WindowSpec,
        allow_local: bool,
    ) -> Option<(Shape, ZoneDef)> {
        let file = self.file(fi).clone();
        let zone = match &spec.zone {
            ZoneSpec::Local(span) => {
                if !allow_local {
                    self.diags.push(
                        Diagnostic::error(
                            "changegate::local_freeze",
                            &file,
                            "a freeze needs a time zone",
                        )
                        .label(*span, "`local` is only for windows")
                        .help("write `in \"Area/City\"`, e.g. `in \"UTC\"`"),
                    );
                    None
                } else {
                    Some(ZoneDef::Local)
                }
            }
            ZoneSpec::Named(z) => match z.value.parse::<Tz>() {
                Ok(tz) => Some(ZoneDef::Fixed(tz)),
                Err(_) => {
                    let names = chrono_tz::TZ_VARIANTS.iter().map(|t| t.name());
                    let help = match did_you_mean(&z.value, names) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "use an IANA zone name such as `Europe/Berlin` or `UTC`".into(),
                    };
                    self.diags.push(
                        Diagnostic::error(
                            "changegate::unknown_zone",
                            &file,
                            format!("unknown time zone `{}`", z.value),
                        )
                        .label(z.span, "not an IANA time zone")
                        .help(help),
                    );
                    None
                }
            },
        };
        let shape = match &spec.shape {
            ShapeSpec::Weekly { days, time } => {
                let days = match days {
                    DaysSpec::Daily(_) => Days::all(),
                    DaysSpec::List(items) => {
                        let mut d = Days::empty();
                        for item in items {
                            let from = chrono_day(item.from);
                            d = match item.to {
                                Some(to) => Days::from_bits(
                                    d.bits() | Days::range(from, chrono_day(to)).bits(),
                                ),
                                None => d.with(from),
                            };
                        }
                        d
                    }
                };
                match time {
                    TimeSpec::Range { start, end } => {
                        let s = self.time(&file, start);
                        let e = self.time(&file, end);
                        Some(Shape::Weekly {
                            days,
                            start: s?,
                            end: End::Wall(e?),
                        })
                    }
                    TimeSpec::For { start, duration } => {
                        let s = self.time(&file, start);
                        let d = self.duration(&file, duration);
                        Some(Shape::Weekly {
                            days,
                            start: s?,
                            end: End::Elapsed(d?),
                        })
                    }
                }
            }
            ShapeSpec::Once { start, end } => {
                let s = self.datetime(&file, start);
                match end {
                    OnceEndSpec::At(e) => {
                        let e_dt = self.datetime(&file, e);
                        let (s, e_dt) = (s?, e_dt?);
                        if e_dt <= s {
                            let (message, label) = if e_dt == s {
                                (
                                    "this window ends when it starts, so it is never open",
                                    "zero length",
                                )
                            } else {
                                (
                                    "this window ends before it starts, so it is never open",
                                    "ends before it starts",
                                )
                            };
                            self.diags.push(
                                Diagnostic::error("changegate::empty_window", &file, message)
                                    .label(Span::new(start.span.start, e.span.end), label)
                                    .help("the end (after `..`) must be later than the start"),
                            );
                            return None;
                        }
                        if (e_dt - s).num_seconds() > MAX_DURATION_SECS {
                            self.diags.push(
                                Diagnostic::error(
                                    "changegate::too_long",
                                    &file,
                                    "this window lasts more than 366 days",
                                )
                                .label(Span::new(start.span.start, e.span.end), "too long")
                                .help("split it into shorter windows"),
                            );
                            return None;
                        }
                        Some(Shape::Once {
                            start: s,
                            end: OnceEnd::Wall(e_dt),
                        })
                    }
                    OnceEndSpec::For(d) => {
                        let d = self.duration(&file, d);
                        Some(Shape::Once {
                            start: s?,
                            end: OnceEnd::Elapsed(d?),
                        })
                    }
                }
            }
        };
        Some((shape?, zone?))
    }

    fn time(&mut self, file: &SourceFile, t: &TimeLit) -> Option<u16> {
        if t.hour > 23 || t.minute > 59 {
            let help = if t.hour == 24 && t.minute == 0 {
                "write `00:00`: an end at or before the start crosses midnight".to_owned()
            } else {
                "times run from `00:00` to `23:59`".to_owned()
            };
            self.diags.push(
                Diagnostic::error(
                    "changegate::bad_time",
                    file,
                    format!("`{:02}:{:02}` is not a time of day", t.hour, t.minute),
                )
                .label(t.span, "impossible time")
                .help(help),
            );
            return None;
        }
        u16::try_from(t.hour * 60 + t.minute).ok()
    }

    fn datetime(&mut self, file: &SourceFile, d: &DateTimeLit) -> Option<chrono::NaiveDateTime> {
        let time = self.time(file, &d.time);
        let Some(date) = NaiveDate::from_ymd_opt(d.year, d.month, d.day) else {
            self.diags.push(
                Diagnostic::error(
                    "changegate::bad_date",
                    file,
                    format!("`{:04}-{:02}-{:02}` is not a date", d.year, d.month, d.day),
                )
                .label(d.span, "impossible date")
                .help("write a real calendar date as `YYYY-MM-DD`"),
            );
            return None;
        };
        let time = time?;
        let t = NaiveTime::from_hms_opt(u32::from(time / 60), u32::from(time % 60), 0)?;
        Some(date.and_time(t))
    }

    fn duration(&mut self, file: &SourceFile, d: &DurationLit) -> Option<i64> {
        // One duration grammar (`docs/time.md`): the text as written is read again by
        // `time::parse_duration`, which holds each unit to at most once and largest
        // first, so `1h1h` and `30m1h` are refused here however the parser summed them.
        let text = file.text().get(d.span.start..d.span.end).unwrap_or("");
        if let Err(crate::time::DurationError::UnitOrder(_)) = crate::time::parse_duration(text) {
            self.diags.push(
                Diagnostic::error(
                    "changegate::duration_units",
                    file,
                    format!("the duration `{text}` repeats a unit or puts a smaller unit first"),
                )
                .label(d.span, "each unit at most once, largest first")
                .help(
                    "write the units from the largest to the smallest, each once: `1d12h`, `1h30m`",
                ),
            );
            return None;
        }
        if d.seconds <= 0 {
            self.diags.push(
                Diagnostic::error(
                    "changegate::empty_window",
                    file,
                    "a window of zero length is never open",
                )
                .label(d.span, "zero duration")
                .help("give a positive duration, e.g. `6h` or `90m`"),
            );
            return None;
        }
        if d.seconds > MAX_DURATION_SECS {
            self.diags.push(
                Diagnostic::error(
                    "changegate::too_long",
                    file,
                    "a window may last at most 366 days",
                )
                .label(d.span, "too long")
                .help("shorten the duration"),
            );
            return None;
        }
        Some(d.seconds)
    }

    fn outcome(
        &mut self,
        o: &Outcome,
        names: &Names,
        used_groups: &mut [bool],
        used_windows: &mut [bool],
    ) -> Option<OutcomeDef> {
        let file = self.file(0).clone();
        let mut out = OutcomeDef::default();
        let mut ok = true;
        let mut deny_span = None;
        let mut deploy_span = None;
        let mut approve_span = None;
        let mut action = false;
        for item in &o.items {
            match item {
                OutcomeItem::Deploy(s) => {
                    out.deploy = true;
                    deploy_span = Some(*s);
                    action = true;
                }
                OutcomeItem::BreakGlass(_) => {
                    out.break_glass = true;
                    action = true;
                }
                OutcomeItem::Deny(reason, s) => {
                    out.deny = Some(reason.value.clone());
                    deny_span = Some(*s);
                    action = true;
                }
                OutcomeItem::Approve { count, group, span } => {
                    action = true;
                    approve_span = Some(*span);
                    let Some(decl) = names.group_decls.get(&group.name) else {
                        ok = false;
                        if names.broken_groups.contains(&group.name) {
                            continue;
                        }
                        let help = match did_you_mean(
                            &group.name,
                            names.group_decls.keys().map(String::as_str),
                        ) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => "declare it with `group NAME = [\"alice\", …]`".into(),
                        };
                        self.diags.push(
                            Diagnostic::error(
                                "changegate::unknown_group",
                                &file,
                                format!("unknown group `{}`", group.name),
                            )
                            .label(group.span, "no group has this name")
                            .help(help),
                        );
                        ok = false;
                        continue;
                    };
                    if let Some(u) = used_groups.get_mut(decl.index) {
                        *u = true;
                    }
                    let size = names.groups.get(decl.index).map_or(0, |g| g.members.len());
                    if *count == 0 {
                        self.diags.push(
                            Diagnostic::error(
                                "changegate::bad_count",
                                &file,
                                "`approve 0` asks for nobody",
                            )
                            .label(*span, "zero approvals")
                            .help("ask for at least 1, or use `deploy`"),
                        );
                        ok = false;
                        continue;
                    }
                    if *count > size as u64 {
                        self.diags.push(
                            Diagnostic::error(
                                "changegate::impossible_approval",
                                &file,
                                format!(
                                    "`approve {count} from {}` can never be met: the group has {size} member{}",
                                    group.name,
                                    if size == 1 { "" } else { "s" }
                                ),
                            )
                            .label(*span, "more people than the group has")
                            .help(format!("ask for at most {size}, or add members to `{}`", group.name)),
                        );
                        ok = false;
                        continue;
                    }
                    let count = u32::try_from(*count).unwrap_or(u32::MAX);
                    match out.approvals.iter_mut().find(|(g, _)| *g == decl.index) {
                        Some((_, c)) => *c = (*c).max(count),
                        None => out.approvals.push((decl.index, count)),
                    }
                }
                OutcomeItem::During(ws, _) => {
                    for w in ws {
                        match names.window_decls.get(&w.name) {
                            Some(decl) => {
                                if let Some(u) = used_windows.get_mut(decl.index) {
                                    *u = true;
                                }
                                // Deduplicated once the outcome is read.
                                out.windows.push(decl.index);
                            }
                            None if names.broken_windows.contains(&w.name) => ok = false,
                            None => {
                                let help = if names.freeze_decls.contains_key(&w.name) {
                                    format!("`{}` is a freeze: freezes apply by themselves and are not named in `during`", w.name)
                                } else {
                                    match did_you_mean(
                                        &w.name,
                                        names.window_decls.keys().map(String::as_str),
                                    ) {
                                        Some(s) => format!("did you mean `{s}`?"),
                                        None => "declare it with `window NAME = …`".into(),
                                    }
                                };
                                self.diags.push(
                                    Diagnostic::error(
                                        "changegate::unknown_window",
                                        &file,
                                        format!("unknown window `{}`", w.name),
                                    )
                                    .label(w.span, "no window has this name")
                                    .help(help),
                                );
                                ok = false;
                            }
                        }
                    }
                }
            }
        }
        if !action {
            self.diags.push(
                Diagnostic::error(
                    "changegate::no_action",
                    &file,
                    "`during` needs an outcome to apply to",
                )
                .label(o.span, "only a window")
                .help("write `deploy during …` or `approve N from GROUP during …`"),
            );
            ok = false;
        }
        if let Some(ds) = deny_span {
            if out.break_glass {
                self.diags.push(
                    Diagnostic::error(
                        "changegate::deny_with_break_glass",
                        &file,
                        "`deny` cannot be combined with `break glass`",
                    )
                    .label(ds, "denies")
                    .help("a denied change never goes, so breaking glass means nothing; keep one of them"),
                );
                ok = false;
            } else if o.items.len() > 1 {
                self.diags.push(
                    Diagnostic::error(
                        "changegate::deny_combined",
                        &file,
                        "`deny` stands alone in an outcome",
                    )
                    .label(ds, "denies")
                    .help("a denied change never goes, so approvals and windows beside `deny` mean nothing; remove them"),
                );
                ok = false;
            }
        }
        if let (Some(ds), Some(aps)) = (deploy_span, approve_span) {
            self.diags.push(
                Diagnostic::error(
                    "changegate::deploy_with_approve",
                    &file,
                    "`deploy` cannot be combined with `approve`",
                )
                .label(ds, "asks for no approval")
                .label(aps, "asks for approval")
                .help("`approve` already lets the change go once approved; remove `deploy`"),
            );
            ok = false;
        }
        let _ = self.limits;
        // A window named twice counts once, in the order first named (a set keeps
        // this linear for long `during` lists).
        let mut seen: HashSet<usize> = HashSet::default();
        out.windows.retain(|w| seen.insert(*w));
        ok.then_some(out)
    }
}

/// The declarations across all modules, and where each name was declared.
#[derive(Default)]
struct Names {
    groups: Vec<GroupDef>,
    windows: Vec<WindowDef>,
    freezes: Vec<FreezeDef>,
    group_decls: HashMap<String, Decl>,
    window_decls: HashMap<String, Decl>,
    freeze_decls: HashMap<String, Decl>,
    /// Declared but invalid (already reported): naming them later is not an
    /// "unknown" name, so it gets no second, misleading diagnostic.
    broken_groups: HashSet<String>,
    broken_windows: HashSet<String>,
}

/// The root's rules and default, and which declarations they use.
struct RootItems {
    rules: Vec<RuleDef>,
    default: Option<(OutcomeDef, String, Span)>,
    used_groups: Vec<bool>,
    used_windows: Vec<bool>,
}

fn chrono_day(d: Weekday) -> chrono::Weekday {
    match d {
        Weekday::Mon => chrono::Weekday::Mon,
        Weekday::Tue => chrono::Weekday::Tue,
        Weekday::Wed => chrono::Weekday::Wed,
        Weekday::Thu => chrono::Weekday::Thu,
        Weekday::Fri => chrono::Weekday::Fri,
        Weekday::Sat => chrono::Weekday::Sat,
        Weekday::Sun => chrono::Weekday::Sun,
    }
}
