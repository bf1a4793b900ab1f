//! The checked policy as data: what `check` hands on, with every name resolved to an
//! index and every condition typed and lowered ([`CExpr`]). `compile` lays out the
//! conditions' slots and indexes the rules, `lint` reads it, and
//! [`crate::policy::Policy`] is assembled from it once. Nothing here calls a stage:
//! the pipeline only points down (`check` -> `ir` <- `compile`, `index`, `lint`,
//! `policy`, `eval`).

use chrono_tz::Tz;
use globset::GlobMatcher;

use crate::diag::{Diagnostic, SourceFile};
use crate::syntax::{CmpOp, Quantifier, Root, SchemaField, Span};
use crate::time::Shape;
use crate::value::Value;

/// `check`'s output: everything a policy is built from.
#[derive(Debug)]
pub(crate) struct Checked {
    /// The policy's name (`policy "…"`).
    pub name: String,
    /// The source files: the root first, then imports in load order.
    pub files: Vec<SourceFile>,
    pub groups: Vec<GroupDef>,
    pub windows: Vec<WindowDef>,
    pub freezes: Vec<FreezeDef>,
    pub rules: Vec<RuleDef>,
    pub default: OutcomeDef,
    pub default_location: String,
    pub default_span: Span,
    /// The change's declared fields (`schema { … }`), if any.
    pub schema: Option<Vec<SchemaField>>,
    /// Top-level change fields the conditions read, with where.
    pub change_fields: Vec<(String, String)>,
    /// The warnings found while checking (never errors: those fail the check).
    pub warnings: Vec<Diagnostic>,
}

#[derive(Debug, Clone)]
pub(crate) struct GroupDef {
    pub name: String,
    pub members: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ZoneDef {
    Fixed(Tz),
    /// Each target device's site zone.
    Local,
}

#[derive(Debug, Clone)]
pub(crate) struct WindowDef {
    pub name: String,
    pub shape: Shape,
    pub zone: ZoneDef,
    pub location: String,
    /// The file (index into `files`) and span of the declaration.
    pub file: usize,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub(crate) struct FreezeDef {
    pub name: String,
    pub shape: Shape,
    pub tz: Tz,
    pub when: Option<CExpr>,
    pub location: String,
    pub file: usize,
    pub span: Span,
}

#[derive(Debug, Clone)]
pub(crate) struct RuleDef {
    pub name: String,
    pub location: String,
    pub advisory: bool,
    pub cond: CExpr,
    pub outcome: OutcomeDef,
    /// The rule's span in the root file.
    pub span: Span,
}

/// What a rule or the default contributes, with names resolved to indices.
#[derive(Debug, Clone, Default)]
pub(crate) struct OutcomeDef {
    pub deploy: bool,
    /// (group index, count), at most one entry per group.
    pub approvals: Vec<(usize, u32)>,
    pub deny: Option<String>,
    pub break_glass: bool,
    /// Window indices.
    pub windows: Vec<usize>,
}

/// A checked condition: literals are values, globs are compiled, field paths are
/// split, and every node keeps the span an error should point at.
#[derive(Debug, Clone)]
pub(crate) struct CExpr {
    pub kind: CKind,
    pub span: Span,
    /// Which file of the policy the span is in.
    pub file: u16,
}

#[derive(Debug, Clone)]
pub(crate) enum CKind {
    Const(Value),
    Path(Box<PathRef>),
    Has(Box<PathRef>),
    Not(Box<CExpr>),
    And(Vec<CExpr>),
    Or(Vec<CExpr>),
    Cmp(CmpOp, Box<CExpr>, Box<CExpr>),
    Match(Box<CExpr>, Box<Glob>),
    Quant(Quantifier, Box<CExpr>, CmpOp, Box<CExpr>),
    QuantMatch(Quantifier, Box<CExpr>, Box<Glob>),
    Count(Box<CExpr>),
    Sum(Box<CExpr>),
}

/// A compiled glob.
#[derive(Debug, Clone)]
pub(crate) struct Glob {
    pub matcher: GlobMatcher,
}

/// A resolved field path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PathRef {
    pub root: Root,
    /// The fields after the root, as written: for `blast.x…` / `targets.x…` the
    /// first is the blast field `x`, whose value `slot` stands for.
    pub fields: Vec<String>,
    /// Laid out by `compile` (0 until then): for `change.…`, the slot in the
    /// evaluation's path cache; for `blast.x` / `targets.x`, the slot in the
    /// evaluation's blast table.
    pub slot: usize,
    /// The path as written (`change.kind`), for messages.
    pub text: String,
}

#[cfg(test)]
mod tests {
    /// The middle end's modules import one another only downwards: no cycle among
    /// them (a reference `crate::x` outside comments counts as an import of `x`). A
    /// module is its file `src/x.rs` and every file under `src/x/`.
    #[test]
    fn the_pipeline_has_no_import_cycle() {
        const MODULES: [&str; 11] = [
            "digest", "ir", "compile", "index", "lint", "check", "policy", "eval", "verdict",
            "record", "topology",
        ];
        let deps: Vec<Vec<usize>> = MODULES
            .iter()
            .map(|m| {
                let code: String = module_files(m)
                    .iter()
                    .map(|path| std::fs::read_to_string(path).unwrap())
                    .flat_map(|text| {
                        text.lines()
                            .filter(|l| !l.trim_start().starts_with("//"))
                            .map(|l| format!("{l}\n"))
                            .collect::<Vec<_>>()
                    })
                    .collect();
                (0..MODULES.len())
                    .filter(|&j| {
                        MODULES[j] != *m
                            && (code.contains(&format!("crate::{}::", MODULES[j]))
                                || code.contains(&format!("crate::{};", MODULES[j])))
                    })
                    .collect()
            })
            .collect();
        // The submodules are read: `check`'s type checker is one.
        assert!(module_files("check")
            .iter()
            .any(|p| p.ends_with("check/typing.rs")));
        // Depth-first search; state 1 = on the stack, 2 = done.
        fn visit(i: usize, deps: &[Vec<usize>], state: &mut [u8], path: &mut Vec<usize>) {
            path.push(i);
            state[i] = 1;
            for &j in &deps[i] {
                assert!(
                    state[j] != 1,
                    "import cycle: {:?} -> {}",
                    path.iter().map(|&k| MODULES[k]).collect::<Vec<_>>(),
                    MODULES[j]
                );
                if state[j] == 0 {
                    visit(j, deps, state, path);
                }
            }
            state[i] = 2;
            path.pop();
        }
        let mut state = vec![0u8; MODULES.len()];
        for i in 0..MODULES.len() {
            if state[i] == 0 {
                visit(i, &deps, &mut state, &mut Vec::new());
            }
        }
    }

    /// The files of module `m`: `src/m.rs`, then those under `src/m/`, sorted.
    fn module_files(m: &str) -> Vec<std::path::PathBuf> {
        let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        let mut dirs = vec![src.join(m)];
        while let Some(dir) = dirs.pop() {
            let Ok(entries) = std::fs::read_dir(&dir) else {
                continue;
            };
            for entry in entries {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    files.push(path);
                }
            }
        }
        files.sort();
        files.insert(0, src.join(format!("{m}.rs")));
        files
    }
}
