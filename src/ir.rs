//! The checked policy as data: what `check` hands on, with every name resolved to an
//! index and every condition typed and lowered. `compile`'s rule index and `lint`
//! read it; [`crate::policy::Policy`] is assembled from it once. Nothing here calls
//! a stage: the pipeline only points down (`check` -> `ir` <- `index`, `lint`,
//! `policy`).

use chrono_tz::Tz;

use crate::compile::CExpr;
use crate::diag::{Diagnostic, SourceFile};
use crate::syntax::{Root, SchemaField, Span};
use crate::time::Shape;

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
    /// The distinct `blast.x` / `targets.x` fields conditions read, by slot.
    pub blast_fields: Vec<(Root, String)>,
    /// The change's declared fields (`schema { … }`), if any.
    pub schema: Option<Vec<SchemaField>>,
    /// Top-level change fields the conditions read, with where.
    pub change_fields: Vec<(String, String)>,
    /// How many distinct `change.…` paths the conditions read.
    pub change_path_count: usize,
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

#[cfg(test)]
mod tests {
    /// The middle end's modules import one another only downwards: no cycle among
    /// them (a reference `crate::x` outside comments counts as an import of `x`).
    #[test]
    fn the_pipeline_has_no_import_cycle() {
        const MODULES: [&str; 11] = [
            "digest", "ir", "compile", "index", "lint", "check", "policy", "eval", "verdict",
            "record", "topology",
        ];
        let deps: Vec<Vec<usize>> = MODULES
            .iter()
            .map(|m| {
                let path = format!("{}/src/{m}.rs", env!("CARGO_MANIFEST_DIR"));
                let text = std::fs::read_to_string(path).unwrap();
                let code: String = text
                    .lines()
                    .filter(|l| !l.trim_start().starts_with("//"))
                    .collect::<Vec<_>>()
                    .join("\n");
                (0..MODULES.len())
                    .filter(|&j| {
                        MODULES[j] != *m
                            && (code.contains(&format!("crate::{}::", MODULES[j]))
                                || code.contains(&format!("crate::{};", MODULES[j])))
                    })
                    .collect()
            })
            .collect();
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
}
