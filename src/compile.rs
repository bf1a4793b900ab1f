//! The checked policy in evaluation form: every path a condition reads gets its
//! slot in what one evaluation keeps (the cache of `change.…` paths, the blast
//! table), and the rules are indexed ([`RuleIndex`]). Nothing here reports: what
//! could be wrong with a policy, `check` has found.

use rustc_hash::FxHashMap;

use crate::index::RuleIndex;
use crate::ir::{CExpr, CKind, Checked, PathRef};
use crate::syntax::Root;

/// What `compile` makes of a checked policy, besides the slots it writes into the
/// conditions' paths.
#[derive(Debug)]
pub(crate) struct Compiled {
    /// The distinct `blast.x` / `targets.x` fields conditions read, by slot.
    pub blast_fields: Vec<(Root, String)>,
    /// How many distinct `change.…` paths the conditions read (the path cache's size).
    pub change_path_count: usize,
    /// Which rules can match a change, found without evaluating them all.
    pub index: RuleIndex,
}

/// Lays out the slots of every path in `c`'s conditions, and indexes its rules.
pub(crate) fn compile(c: &mut Checked) -> Compiled {
    let mut slots = Slots::default();
    // In the order `check` read the conditions: the freezes' (as declared), then
    // the rules'.
    for f in &mut c.freezes {
        if let Some(when) = &mut f.when {
            slots.expr(when);
        }
    }
    for r in &mut c.rules {
        slots.expr(&mut r.cond);
    }
    Compiled {
        blast_fields: slots.blast_fields,
        change_path_count: slots.change_path_slots.len(),
        index: RuleIndex::build(&c.rules),
    }
}

/// The slots given so far, each distinct item once, with hash indexes so that the
/// layout stays linear in the number of paths.
#[derive(Default)]
struct Slots {
    /// The distinct `blast.x` / `targets.x` fields, by slot.
    blast_fields: Vec<(Root, String)>,
    blast_slots: FxHashMap<(Root, String), usize>,
    /// Each distinct `change.…` path's slot.
    change_path_slots: FxHashMap<Vec<String>, usize>,
}

impl Slots {
    /// Gives the paths of `e` their slots, left to right.
    fn expr(&mut self, e: &mut CExpr) {
        match &mut e.kind {
            CKind::Const(_) => {}
            CKind::Path(p) | CKind::Has(p) => self.path(p),
            CKind::Not(inner)
            | CKind::Count(inner)
            | CKind::Sum(inner)
            | CKind::Match(inner, _)
            | CKind::QuantMatch(_, inner, _) => self.expr(inner),
            CKind::And(parts) | CKind::Or(parts) => {
                for p in parts {
                    self.expr(p);
                }
            }
            CKind::Cmp(_, l, r) | CKind::Quant(_, l, _, r) => {
                self.expr(l);
                self.expr(r);
            }
        }
    }

    /// A `change.…` path's slot in the path cache (each distinct path is read from
    /// the change once per evaluation), or a `blast.x…` / `targets.x…` path's slot
    /// in the blast table (one per distinct root and field).
    fn path(&mut self, p: &mut PathRef) {
        p.slot = match p.root {
            Root::Change => {
                let next = self.change_path_slots.len();
                *self
                    .change_path_slots
                    .entry(p.fields.clone())
                    .or_insert(next)
            }
            Root::Blast | Root::Targets => {
                let key = (p.root, p.fields.first().cloned().unwrap_or_default());
                let blast_fields = &mut self.blast_fields;
                *self.blast_slots.entry(key.clone()).or_insert_with(|| {
                    blast_fields.push(key);
                    blast_fields.len() - 1
                })
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use crate::ir::{CExpr, CKind};
    use crate::syntax::Root;

    /// Each path's slot, left to right.
    fn slots(e: &CExpr, out: &mut Vec<(String, usize)>) {
        match &e.kind {
            CKind::Path(p) | CKind::Has(p) => out.push((p.text.clone(), p.slot)),
            CKind::Cmp(_, l, r) | CKind::Quant(_, l, _, r) => {
                slots(l, out);
                slots(r, out);
            }
            CKind::And(parts) | CKind::Or(parts) => parts.iter().for_each(|p| slots(p, out)),
            CKind::Not(i) | CKind::Count(i) | CKind::Sum(i) | CKind::Match(i, _) => slots(i, out),
            CKind::QuantMatch(_, i, _) => slots(i, out),
            CKind::Const(_) => {}
        }
    }

    #[test]
    fn slots_are_given_in_the_order_conditions_are_read() {
        let policy = crate::Policy::parse(
            r#"policy "p"
rule "r" {
  when change.a == "x" and "core" in targets.roles and count blast.devices.x > 1
  then deploy
}
freeze f = fri 12:00-23:59 in "UTC" when change.b.c == "y" and "edge" in blast.devices
rule "s" {
  when has(change.b.c) and change.a != "z" and "core" in blast.roles
  then deploy
}
default deploy
"#,
            "p.gate",
        )
        .unwrap();
        // The freezes' conditions are read first, then the rules', in order.
        assert_eq!(
            policy.blast_fields,
            [
                (Root::Blast, "devices".to_owned()),
                (Root::Targets, "roles".to_owned()),
                (Root::Blast, "roles".to_owned()),
            ]
        );
        assert_eq!(policy.change_path_count, 2);
        let mut seen = Vec::new();
        for f in &policy.freezes {
            slots(f.when.as_ref().unwrap(), &mut seen);
        }
        for r in &policy.rules {
            slots(&r.cond, &mut seen);
        }
        let expected = [
            ("change.b.c", 0),
            ("blast.devices", 0),
            ("change.a", 1),
            ("targets.roles", 1),
            ("blast.devices.x", 0),
            ("change.b.c", 0),
            ("change.a", 1),
            ("blast.roles", 2),
        ];
        let expected: Vec<(String, usize)> =
            expected.iter().map(|&(t, s)| (t.to_owned(), s)).collect();
        assert_eq!(seen, expected);
    }
}
