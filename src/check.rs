//! Analysis: loads imports, resolves names, validates windows and outcomes, types
//! conditions, and hands on the policy as data ([`Checked`]). Every problem is collected, so
//! one run of `changegate check` reports them all.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::path::{Path, PathBuf};

use chrono::{NaiveDate, NaiveTime};
use chrono_tz::Tz;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::check_error::CheckError;
use crate::diag::{did_you_mean, Diagnostic, Diagnostics, SourceFile, ToDiagnostic};
use crate::ir::{Checked, FreezeDef, GroupDef, OutcomeDef, RuleDef, WindowDef, ZoneDef};
use crate::limits::Limits;
use crate::lint::Lint;
use crate::syntax::{self, *};
use crate::time::{Days, End, OnceEnd, Shape};

mod typing;

use typing::{ChangeFields, Typer};

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
        change_fields: ChangeFields::default(),
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

/// The import graph while loading: a node per module (its index in `modules`), an
/// edge per import, labelled with the import's span.
struct Loading {
    modules: Vec<Module>,
    graph: DiGraph<usize, Span>,
    by_path: HashMap<PathBuf, NodeIndex>,
    /// How deep in the chain of imports each module is (the root is 0).
    depth_of: Vec<usize>,
}

/// Parses the root and every file it imports, breadth first, then reports the
/// import cycles.
fn load_modules(
    source: &str,
    name: &str,
    limits: &Limits,
    loader: &dyn Fn(&Path) -> std::io::Result<String>,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Module> {
    let root = SourceFile::new(name, source);
    let (ast, d) = syntax::parse_file(&root, limits);
    diags.extend(d);
    let mut l = Loading {
        modules: vec![Module { file: root, ast }],
        graph: DiGraph::new(),
        by_path: HashMap::default(),
        depth_of: vec![0],
    };
    let root_node = l.graph.add_node(0);
    l.by_path.insert(normalize(Path::new(name)), root_node);
    let mut next = 0;
    while next < l.modules.len() {
        l.load_imports_of(next, limits, loader, diags);
        next += 1;
    }
    for scc in petgraph::algo::tarjan_scc(&l.graph) {
        diags.extend(l.cycle_error(&scc));
    }
    l.modules
}

impl Loading {
    /// Loads what module `current` imports (each file once), adding the edges.
    fn load_imports_of(
        &mut self,
        current: usize,
        limits: &Limits,
        loader: &dyn Fn(&Path) -> std::io::Result<String>,
        diags: &mut Vec<Diagnostic>,
    ) {
        let Some(m) = self.modules.get(current) else {
            return;
        };
        let imports: Vec<(Str, Span)> = m
            .ast
            .items
            .iter()
            .filter_map(|i| match i {
                Item::Import(p, s) => Some((p.clone(), *s)),
                _ => None,
            })
            .collect();
        let from = m.file.clone();
        let from_node = NodeIndex::new(current);
        let depth = self.depth_of.get(current).copied().unwrap_or(0) + 1;
        for (target, span) in imports {
            let base = Path::new(from.name()).parent().unwrap_or(Path::new(""));
            let path = normalize(&base.join(&target.value));
            if let Some(&node) = self.by_path.get(&path) {
                self.graph.add_edge(from_node, node, span);
                continue;
            }
            if depth > limits.max_import_depth {
                let e = CheckError::ImportDepth {
                    max: limits.max_import_depth,
                    span: target.span,
                };
                diags.push(e.to_diagnostic(&from));
                continue;
            }
            match loader(&path) {
                Ok(text) => {
                    let file = SourceFile::new(&path.display().to_string(), &text);
                    let (ast, d) = syntax::parse_file(&file, limits);
                    diags.extend(d);
                    let node = self.graph.add_node(self.modules.len());
                    self.by_path.insert(path, node);
                    self.graph.add_edge(from_node, node, span);
                    self.modules.push(Module { file, ast });
                    self.depth_of.push(depth);
                }
                Err(err) => {
                    let e = CheckError::ImportNotFound {
                        path: target.value.clone(),
                        error: err.to_string(),
                        span: target.span,
                    };
                    diags.push(e.to_diagnostic(&from));
                }
            }
        }
    }

    /// The error for a strongly connected component of the import graph, if it is a
    /// cycle: the cycle as a path of files, with each import in it as a related
    /// diagnostic.
    fn cycle_error(&self, scc: &[NodeIndex]) -> Option<Diagnostic> {
        let graph = &self.graph;
        let is_cycle = scc.len() > 1
            || scc
                .first()
                .is_some_and(|&n| graph.find_edge(n, n).is_some());
        if !is_cycle {
            return None;
        }
        let names: Vec<String> = cycle_path(graph, scc)
            .iter()
            .filter_map(|n| {
                self.modules
                    .get(n.index())
                    .map(|m| format!("`{}`", m.file.name()))
            })
            .collect();
        let mut cycle_edges = Vec::new();
        for &n in scc {
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
            let (Some(fm), Some(tm)) = (self.modules.get(from), self.modules.get(to)) else {
                continue;
            };
            first = Some(match first {
                None => CheckError::ImportCycle {
                    cycle: names.join(" -> "),
                    span,
                }
                .to_diagnostic(&fm.file),
                Some(f) => f.with_related(
                    CheckError::ImportInCycle {
                        from: fm.file.name().to_owned(),
                        to: tm.file.name().to_owned(),
                        span,
                    }
                    .to_diagnostic(&fm.file),
                ),
            });
        }
        first
    }
}

/// A cycle through `scc` from its first file back to it, so that the message reads
/// a -> b -> a.
fn cycle_path(graph: &DiGraph<usize, Span>, scc: &[NodeIndex]) -> Vec<NodeIndex> {
    use petgraph::visit::EdgeRef;
    let start = scc
        .iter()
        .min_by_key(|n| n.index())
        .copied()
        .unwrap_or_default();
    let mut path = vec![start];
    let mut cur = start;
    for _ in 0..scc.len() {
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
    path
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
    /// The change fields the conditions read.
    change_fields: ChangeFields,
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

    /// Reports `e`, about `file`.
    fn report(&mut self, file: &SourceFile, e: CheckError) {
        self.diags.push(e.to_diagnostic(file));
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
            schema: self.schema.take(),
            change_fields: std::mem::take(&mut self.change_fields.fields),
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
                    let e = CheckError::ModuleItem { span: item.span() };
                    self.report(&m.file, e);
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
                    let e = CheckError::PolicyNamedTwice {
                        span: *span,
                        first: *first,
                    };
                    self.report(root, e);
                } else {
                    policy_name = Some((name.value.clone(), *span));
                }
            }
        }
        if policy_name.is_none() {
            let e = CheckError::MissingPolicy {
                span: Span::new(0, 0),
            };
            self.report(root, e);
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
                    self.report(root, CheckError::TwoSchemas { span: s.span });
                    continue;
                }
                let mut seen: Vec<&str> = Vec::new();
                for f in &s.fields {
                    if seen.contains(&f.name.as_str()) {
                        let e = CheckError::FieldDeclaredTwice {
                            name: f.name.clone(),
                            span: f.span,
                        };
                        self.report(root, e);
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
                        let e = CheckError::RuleNamedTwice {
                            name: r.name.value.clone(),
                            span: r.name.span,
                            first: *first,
                        };
                        self.report(root, e);
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
                        let e = CheckError::DuplicateDefault { span: *span, first };
                        self.report(root, e);
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
            let e = CheckError::MissingDefault {
                span: Span::new(end, end),
            };
            self.report(root, e);
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
        what: &'static str,
        name: &Ident,
        fi: usize,
        decls: &HashMap<String, Decl>,
    ) -> bool {
        let Some(first) = decls.get(&name.name) else {
            return false;
        };
        let same_file = first.file == fi;
        let d = CheckError::DefinedTwice {
            what,
            name: name.name.clone(),
            span: name.span,
            first: same_file.then_some(first.span),
        }
        .to_diagnostic(self.file(fi));
        let d = if same_file {
            d
        } else {
            let other = self.file(first.file);
            d.with_related(
                CheckError::FirstDefinedIn {
                    what,
                    name: name.name.clone(),
                    file: other.name().to_owned(),
                    span: first.span,
                }
                .to_diagnostic(other),
            )
        };
        self.diags.push(d);
        true
    }

    fn duplicate_other(
        &mut self,
        name: &Ident,
        fi: usize,
        decls: &HashMap<String, Decl>,
        other: &'static str,
    ) -> bool {
        let Some(first) = decls.get(&name.name) else {
            return false;
        };
        let file = self.file(fi).clone();
        let e = CheckError::NameTaken {
            name: name.name.clone(),
            other,
            first: self.location(first.file, first.span),
            span: name.span,
        };
        self.report(&file, e);
        true
    }

    fn group(&mut self, fi: usize, g: &Group) -> Option<Vec<String>> {
        let file = self.file(fi).clone();
        if g.members.is_empty() {
            let e = CheckError::EmptyGroup {
                name: g.name.name.clone(),
                span: g.span,
            };
            self.report(&file, e);
            return None;
        }
        let mut members: Vec<String> = Vec::with_capacity(g.members.len());
        // Canonical name -> how it was first written (a set keeps this linear).
        let mut seen: HashMap<String, &String> = HashMap::default();
        for m in &g.members {
            let name = match crate::people::canonical(&m.value) {
                Ok(name) => name,
                Err(crate::people::NameError::Empty) => {
                    self.report(&file, CheckError::EmptyMember { span: m.span });
                    return None;
                }
                Err(e) => {
                    let e = CheckError::HiddenMember {
                        group: g.name.name.clone(),
                        why: e.to_string(),
                        span: m.span,
                    };
                    self.report(&file, e);
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

    fn condition(&mut self, fi: usize, e: &Expr) -> Option<crate::ir::CExpr> {
        let file = self.file(fi).clone();
        let mut typer = Typer {
            file: &file,
            file_index: u16::try_from(fi).unwrap_or(u16::MAX),
            diags: &mut self.diags,
            schema: self.schema.as_deref(),
            reads: &mut self.change_fields,
        };
        typer.condition(e)
    }

    fn window_spec(
        &mut self,
        fi: usize,
        spec: &WindowSpec,
        allow_local: bool,
    ) -> Option<(Shape, ZoneDef)> {
        let file = self.file(fi).clone();
        let zone = self.zone(&file, &spec.zone, allow_local);
        let shape = match &spec.shape {
            ShapeSpec::Weekly { days, time } => self.weekly(&file, days, time),
            ShapeSpec::Once { start, end } => self.once(&file, start, end),
        };
        Some((shape?, zone?))
    }

    /// A window's zone: `local` (windows only) or an IANA zone.
    fn zone(&mut self, file: &SourceFile, zone: &ZoneSpec, allow_local: bool) -> Option<ZoneDef> {
        match zone {
            ZoneSpec::Local(_) if allow_local => Some(ZoneDef::Local),
            ZoneSpec::Local(span) => {
                self.report(file, CheckError::LocalFreeze { span: *span });
                None
            }
            ZoneSpec::Named(z) => match z.value.parse::<Tz>() {
                Ok(tz) => Some(ZoneDef::Fixed(tz)),
                Err(_) => {
                    let names = chrono_tz::TZ_VARIANTS.iter().map(|t| t.name());
                    let help = match did_you_mean(&z.value, names) {
                        Some(s) => format!("did you mean `{s}`?"),
                        None => "use an IANA zone name such as `Europe/Berlin` or `UTC`".into(),
                    };
                    let e = CheckError::UnknownZone {
                        zone: z.value.clone(),
                        help,
                        span: z.span,
                    };
                    self.report(file, e);
                    None
                }
            },
        }
    }

    /// A weekly shape: on `days`, from a time to a time or for a duration.
    fn weekly(&mut self, file: &SourceFile, days: &DaysSpec, time: &TimeSpec) -> Option<Shape> {
        let days = match days {
            DaysSpec::Daily(_) => Days::all(),
            DaysSpec::List(items) => items.iter().fold(Days::empty(), |d, item| {
                let from = chrono_day(item.from);
                match item.to {
                    Some(to) => {
                        Days::from_bits(d.bits() | Days::range(from, chrono_day(to)).bits())
                    }
                    None => d.with(from),
                }
            }),
        };
        match time {
            TimeSpec::Range { start, end } => {
                let s = self.time(file, start);
                let e = self.time(file, end);
                Some(Shape::Weekly {
                    days,
                    start: s?,
                    end: End::Wall(e?),
                })
            }
            TimeSpec::For { start, duration } => {
                let s = self.time(file, start);
                let d = self.duration(file, duration);
                Some(Shape::Weekly {
                    days,
                    start: s?,
                    end: End::Elapsed(d?),
                })
            }
        }
    }

    /// A one-time shape: from a date and time to another, or for a duration.
    fn once(&mut self, file: &SourceFile, start: &DateTimeLit, end: &OnceEndSpec) -> Option<Shape> {
        let s = self.datetime(file, start);
        match end {
            OnceEndSpec::At(e) => {
                let e_dt = self.datetime(file, e);
                let (s, e_dt) = (s?, e_dt?);
                let span = Span::new(start.span.start, e.span.end);
                if e_dt <= s {
                    let e = if e_dt == s {
                        CheckError::EndsWhenItStarts { span }
                    } else {
                        CheckError::EndsBeforeItStarts { span }
                    };
                    self.report(file, e);
                    return None;
                }
                if (e_dt - s).num_seconds() > MAX_DURATION_SECS {
                    self.report(file, CheckError::WindowTooLong { span });
                    return None;
                }
                Some(Shape::Once {
                    start: s,
                    end: OnceEnd::Wall(e_dt),
                })
            }
            OnceEndSpec::For(d) => {
                let d = self.duration(file, d);
                Some(Shape::Once {
                    start: s?,
                    end: OnceEnd::Elapsed(d?),
                })
            }
        }
    }

    fn time(&mut self, file: &SourceFile, t: &TimeLit) -> Option<u16> {
        if t.hour > 23 || t.minute > 59 {
            let help = if t.hour == 24 && t.minute == 0 {
                "write `00:00`: an end at or before the start crosses midnight".to_owned()
            } else {
                "times run from `00:00` to `23:59`".to_owned()
            };
            let e = CheckError::BadTime {
                hour: t.hour,
                minute: t.minute,
                help,
                span: t.span,
            };
            self.report(file, e);
            return None;
        }
        u16::try_from(t.hour * 60 + t.minute).ok()
    }

    fn datetime(&mut self, file: &SourceFile, d: &DateTimeLit) -> Option<chrono::NaiveDateTime> {
        let time = self.time(file, &d.time);
        let Some(date) = NaiveDate::from_ymd_opt(d.year, d.month, d.day) else {
            let e = CheckError::BadDate {
                year: d.year,
                month: d.month,
                day: d.day,
                span: d.span,
            };
            self.report(file, e);
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
            let e = CheckError::DurationUnits {
                text: text.to_owned(),
                span: d.span,
            };
            self.report(file, e);
            return None;
        }
        if d.seconds <= 0 {
            self.report(file, CheckError::ZeroDuration { span: d.span });
            return None;
        }
        if d.seconds > MAX_DURATION_SECS {
            self.report(file, CheckError::DurationTooLong { span: d.span });
            return None;
        }
        Some(d.seconds)
    }

    /// An outcome's data, or `None` when it is invalid (reported); marks the groups
    /// and windows it uses.
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
        let mut spans = OutcomeSpans::default();
        for item in &o.items {
            match item {
                OutcomeItem::Deploy(s) => {
                    out.deploy = true;
                    spans.deploy = Some(*s);
                    spans.action = true;
                }
                OutcomeItem::BreakGlass(_) => {
                    out.break_glass = true;
                    spans.action = true;
                }
                OutcomeItem::Deny(reason, s) => {
                    out.deny = Some(reason.value.clone());
                    spans.deny = Some(*s);
                    spans.action = true;
                }
                OutcomeItem::Approve { count, group, span } => {
                    spans.action = true;
                    spans.approve = Some(*span);
                    let approval = self.approval(&file, names, used_groups, *count, group, *span);
                    let Some((group, count)) = approval else {
                        ok = false;
                        continue;
                    };
                    match out.approvals.iter_mut().find(|(g, _)| *g == group) {
                        Some((_, c)) => *c = (*c).max(count),
                        None => out.approvals.push((group, count)),
                    }
                }
                OutcomeItem::During(ws, _) => {
                    for w in ws {
                        match self.during(&file, names, used_windows, w) {
                            // Deduplicated once the outcome is read.
                            Some(index) => out.windows.push(index),
                            None => ok = false,
                        }
                    }
                }
            }
        }
        ok &= self.combination(&file, o, &out, &spans);
        // A window named twice counts once, in the order first named (a set keeps
        // this linear for long `during` lists).
        let mut seen: HashSet<usize> = HashSet::default();
        out.windows.retain(|w| seen.insert(*w));
        ok.then_some(out)
    }

    /// `approve COUNT from GROUP`: the group's index and the count, or `None` when
    /// either is wrong (reported, unless the group itself was).
    fn approval(
        &mut self,
        file: &SourceFile,
        names: &Names,
        used_groups: &mut [bool],
        count: u64,
        group: &Ident,
        span: Span,
    ) -> Option<(usize, u32)> {
        let Some(decl) = names.group_decls.get(&group.name) else {
            if names.broken_groups.contains(&group.name) {
                return None;
            }
            let help = match did_you_mean(&group.name, names.group_decls.keys().map(String::as_str))
            {
                Some(s) => format!("did you mean `{s}`?"),
                None => "declare it with `group NAME = [\"alice\", …]`".into(),
            };
            let e = CheckError::UnknownGroup {
                name: group.name.clone(),
                help,
                span: group.span,
            };
            self.report(file, e);
            return None;
        };
        if let Some(u) = used_groups.get_mut(decl.index) {
            *u = true;
        }
        let size = names.groups.get(decl.index).map_or(0, |g| g.members.len());
        if count == 0 {
            self.report(file, CheckError::ZeroApprovals { span });
            return None;
        }
        if count > size as u64 {
            let e = CheckError::ImpossibleApproval {
                count,
                group: group.name.clone(),
                size,
                span,
            };
            self.report(file, e);
            return None;
        }
        Some((decl.index, u32::try_from(count).unwrap_or(u32::MAX)))
    }

    /// A window named in `during`: its index, or `None` when it is unknown
    /// (reported, unless the window itself was).
    fn during(
        &mut self,
        file: &SourceFile,
        names: &Names,
        used_windows: &mut [bool],
        w: &Ident,
    ) -> Option<usize> {
        if let Some(decl) = names.window_decls.get(&w.name) {
            if let Some(u) = used_windows.get_mut(decl.index) {
                *u = true;
            }
            return Some(decl.index);
        }
        if names.broken_windows.contains(&w.name) {
            return None;
        }
        let help = if names.freeze_decls.contains_key(&w.name) {
            format!(
                "`{}` is a freeze: freezes apply by themselves and are not named in `during`",
                w.name
            )
        } else {
            match did_you_mean(&w.name, names.window_decls.keys().map(String::as_str)) {
                Some(s) => format!("did you mean `{s}`?"),
                None => "declare it with `window NAME = …`".into(),
            }
        };
        let e = CheckError::UnknownWindow {
            name: w.name.clone(),
            help,
            span: w.span,
        };
        self.report(file, e);
        None
    }

    /// Whether the outcome's parts go together (reporting each that does not): an
    /// action besides `during`, `deny` alone, not `deploy` with `approve`.
    fn combination(
        &mut self,
        file: &SourceFile,
        o: &Outcome,
        out: &OutcomeDef,
        spans: &OutcomeSpans,
    ) -> bool {
        let mut ok = true;
        if !spans.action {
            self.report(file, CheckError::NoAction { span: o.span });
            ok = false;
        }
        if let Some(span) = spans.deny {
            if out.break_glass {
                self.report(file, CheckError::DenyWithBreakGlass { span });
                ok = false;
            } else if o.items.len() > 1 {
                self.report(file, CheckError::DenyCombined { span });
                ok = false;
            }
        }
        if let (Some(span), Some(approve)) = (spans.deploy, spans.approve) {
            self.report(file, CheckError::DeployWithApprove { span, approve });
            ok = false;
        }
        ok
    }
}

/// Where an outcome says what, for the checks of how its parts combine.
#[derive(Default)]
struct OutcomeSpans {
    /// Whether it holds anything besides `during`.
    action: bool,
    deny: Option<Span>,
    deploy: Option<Span>,
    approve: Option<Span>,
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
