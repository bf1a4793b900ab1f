//! Rule indexing: evaluation looks only at rules that can match.
//!
//! A rule whose condition starts with tests such as `change.kind == "firewall"` or
//! `"urgent" in change.labels` is filed under those literal strings. At evaluation the
//! change's values at those paths are looked up, so only the rules filed under them
//! are evaluated — the rest are known to be false.
//!
//! Skipping a rule must never hide an error (fail closed): `and` evaluates left to
//! right, and a test before the indexed one could fail on a missing field. So an
//! index is only trusted when every test up to the indexed ones provably evaluates
//! without error for this change (its *guards*: the paths they read hold values of
//! the literal's type). When a guard fails, every rule of that group is evaluated
//! in full, errors and all.

use rustc_hash::FxHashMap;

use crate::ir::{CExpr, CKind, RuleDef};
use crate::syntax::{CmpOp, Root};
use crate::value::{Type, Value};

/// Key slot used when a group indexes on one atom only.
const NONE: u32 = u32::MAX;

/// At most this many indexed tests per rule.
const MAX_ATOMS: usize = 2;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum AtomKind {
    /// `change.p == "s"`
    Eq,
    /// `"s" in change.p`
    Member,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Atom {
    path: Vec<String>,
    kind: AtomKind,
}

/// A type requirement on a change path that makes a test error-free.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Guard {
    path: Vec<String>,
    req: Req,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Req {
    Is(Type),
    ListOf(Type),
}

#[derive(Debug)]
struct Group {
    atoms: Vec<Atom>,
    guards: Vec<Guard>,
    rules: Vec<u32>,
    table: FxHashMap<[u32; 2], Vec<u32>>,
}

/// The compiled index over a policy's rules.
#[derive(Debug, Default)]
pub(crate) struct RuleIndex {
    groups: Vec<Group>,
    /// Rules with no indexable test: always evaluated.
    always: Vec<u32>,
    syms: FxHashMap<Box<str>, u32>,
}

impl RuleIndex {
    pub(crate) fn build(rules: &[RuleDef]) -> RuleIndex {
        let mut index = RuleIndex::default();
        let mut by_signature: FxHashMap<(Vec<Atom>, Vec<Guard>), usize> = FxHashMap::default();
        for (i, rule) in rules.iter().enumerate() {
            let i = u32::try_from(i).unwrap_or(u32::MAX);
            let (atoms, guards) = analyse(&rule.cond);
            if atoms.is_empty() {
                index.always.push(i);
                continue;
            }
            let mut key = [NONE; 2];
            for (slot, (_, s)) in key.iter_mut().zip(&atoms) {
                *slot = match index.syms.get(s.as_str()) {
                    Some(&k) => k,
                    None => {
                        let next = u32::try_from(index.syms.len()).unwrap_or(NONE);
                        index.syms.insert(s.as_str().into(), next);
                        next
                    }
                };
            }
            let signature: (Vec<Atom>, Vec<Guard>) =
                (atoms.into_iter().map(|(a, _)| a).collect(), guards);
            let g = match by_signature.get(&signature) {
                Some(&g) => g,
                None => {
                    index.groups.push(Group {
                        atoms: signature.0.clone(),
                        guards: signature.1.clone(),
                        rules: Vec::new(),
                        table: FxHashMap::default(),
                    });
                    by_signature.insert(signature, index.groups.len() - 1);
                    index.groups.len() - 1
                }
            };
            if let Some(group) = index.groups.get_mut(g) {
                group.rules.push(i);
                group.table.entry(key).or_default().push(i);
            }
        }
        index
    }

    /// The rules that may match `change`, ascending and without duplicates, into `out`.
    pub(crate) fn candidates(&self, change: &Value, out: &mut Vec<u32>) {
        out.clear();
        out.extend_from_slice(&self.always);
        for g in &self.groups {
            if !g.guards.iter().all(|guard| holds(guard, change)) {
                out.extend_from_slice(&g.rules);
                continue;
            }
            let keys: Vec<Vec<u32>> = g.atoms.iter().map(|a| self.keys(a, change)).collect();
            let combos: usize = keys.iter().map(Vec::len).product();
            if combos > g.rules.len() {
                out.extend_from_slice(&g.rules);
                continue;
            }
            match keys.as_slice() {
                [k1] => {
                    for &a in k1 {
                        if let Some(rs) = g.table.get(&[a, NONE]) {
                            out.extend_from_slice(rs);
                        }
                    }
                }
                [k1, k2] => {
                    for &a in k1 {
                        for &b in k2 {
                            if let Some(rs) = g.table.get(&[a, b]) {
                                out.extend_from_slice(rs);
                            }
                        }
                    }
                }
                _ => out.extend_from_slice(&g.rules),
            }
        }
        out.sort_unstable();
        out.dedup();
    }

    fn keys(&self, atom: &Atom, change: &Value) -> Vec<u32> {
        let mut keys = Vec::new();
        match (atom.kind, lookup(change, &atom.path)) {
            (AtomKind::Eq, Some(Value::Str(s))) => keys.extend(self.syms.get(s.as_str())),
            (AtomKind::Member, Some(Value::List(items))) => {
                for item in items {
                    if let Value::Str(s) = item {
                        if let Some(&k) = self.syms.get(s.as_str()) {
                            keys.push(k);
                        }
                    }
                }
                // Sort and deduplicate: linear-logarithmic in the list, not quadratic.
                keys.sort_unstable();
                keys.dedup();
            }
            _ => {}
        }
        keys
    }
}

fn lookup<'v>(change: &'v Value, path: &[String]) -> Option<&'v Value> {
    path.iter().try_fold(change, |v, f| v.get(f))
}

fn holds(guard: &Guard, change: &Value) -> bool {
    match (guard.req, lookup(change, &guard.path)) {
        (Req::Is(t), Some(v)) => v.type_of() == t,
        (Req::ListOf(t), Some(Value::List(items))) => items.iter().all(|v| v.type_of() == t),
        _ => false,
    }
}

fn change_path(e: &CExpr) -> Option<&[String]> {
    match &e.kind {
        CKind::Path(p) if p.root == Root::Change => Some(&p.fields),
        _ => None,
    }
}

fn constant(e: &CExpr) -> Option<&Value> {
    match &e.kind {
        CKind::Const(v) => Some(v),
        _ => None,
    }
}

/// What one conjunct tells the index.
enum Conjunct {
    /// An indexable test, with its guard.
    Atom(Atom, String, Guard),
    /// A test that cannot error once its guard holds.
    Guarded(Guard),
    /// A test that never errors.
    Safe,
    /// Anything else: indexing stops here.
    Opaque,
}

fn classify(e: &CExpr) -> Conjunct {
    match &e.kind {
        CKind::Has(_) => Conjunct::Safe,
        CKind::Const(Value::Bool(_)) => Conjunct::Safe,
        CKind::Cmp(op, l, r) => {
            let pc = change_path(l).zip(constant(r)).or_else(|| {
                if *op == CmpOp::In {
                    None
                } else {
                    change_path(r).zip(constant(l))
                }
            });
            match op {
                CmpOp::In => {
                    let (Some(v), Some(p)) = (constant(l), change_path(r)) else {
                        return Conjunct::Opaque;
                    };
                    let guard = Guard {
                        path: p.to_vec(),
                        req: Req::ListOf(v.type_of()),
                    };
                    match v {
                        Value::Str(s) => Conjunct::Atom(
                            Atom {
                                path: p.to_vec(),
                                kind: AtomKind::Member,
                            },
                            s.clone(),
                            guard,
                        ),
                        _ => Conjunct::Guarded(guard),
                    }
                }
                CmpOp::Match => Conjunct::Opaque,
                _ => {
                    let Some((p, v)) = pc else {
                        return Conjunct::Opaque;
                    };
                    if !matches!(v, Value::Str(_) | Value::Int(_) | Value::Bool(_)) {
                        return Conjunct::Opaque;
                    }
                    let guard = Guard {
                        path: p.to_vec(),
                        req: Req::Is(v.type_of()),
                    };
                    match (op, v) {
                        (CmpOp::Eq, Value::Str(s)) => Conjunct::Atom(
                            Atom {
                                path: p.to_vec(),
                                kind: AtomKind::Eq,
                            },
                            s.clone(),
                            guard,
                        ),
                        _ => Conjunct::Guarded(guard),
                    }
                }
            }
        }
        _ => Conjunct::Opaque,
    }
}

/// The indexed tests of a condition (with their literal strings) and the guards
/// that make skipping it safe.
fn analyse(cond: &CExpr) -> (Vec<(Atom, String)>, Vec<Guard>) {
    let parts: &[CExpr] = match &cond.kind {
        CKind::And(parts) => parts,
        _ => std::slice::from_ref(cond),
    };
    let mut atoms = Vec::new();
    let mut guards: Vec<Guard> = Vec::new();
    let mut pending: Vec<Guard> = Vec::new();
    for part in parts {
        if atoms.len() == MAX_ATOMS {
            break;
        }
        match classify(part) {
            Conjunct::Atom(atom, s, guard) => {
                if atoms
                    .iter()
                    .any(|(a, _): &(Atom, String)| a.path == atom.path)
                {
                    // A second test on the same path adds nothing to the key.
                    pending.push(guard);
                    continue;
                }
                pending.push(guard);
                guards.append(&mut pending);
                atoms.push((atom, s));
            }
            Conjunct::Guarded(guard) => pending.push(guard),
            Conjunct::Safe => {}
            Conjunct::Opaque => break,
        }
    }
    guards.sort_by(|a, b| a.path.cmp(&b.path).then_with(|| a.req.cmp(&b.req)));
    guards.dedup();
    (atoms, guards)
}
