//! Conditions, type-checked and resolved into the IR's form ([`CExpr`]): literals
//! become values, globs are compiled, field paths are split, and every node keeps
//! the span an error should point at. Every type error is reported here, in
//! `check`; `compile` only lays out the paths' slots and never reports.

use globset::GlobBuilder;

use crate::check_error::CheckError;
use crate::diag::{Diagnostic, SourceFile, ToDiagnostic};
use crate::ir::{CExpr, CKind, Glob, PathRef};
use crate::syntax::{
    CmpOp, Expr, ExprKind, FieldType, Lit, Path, Quantifier, Root, SchemaField, Span,
};
use crate::value::Value;

/// What is known of an expression's type before evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum SType {
    Bool,
    Int,
    Str,
    List(Box<SType>),
    /// Read from input: known only at evaluation.
    Any,
}

impl SType {
    fn describe(&self) -> String {
        match self {
            SType::Bool => "a boolean".into(),
            SType::Int => "an integer".into(),
            SType::Str => "a string".into(),
            SType::List(e) if **e == SType::Any => "a list".into(),
            SType::List(e) => format!("a list of {}", e.plural()),
            SType::Any => "a value".into(),
        }
    }

    fn plural(&self) -> &'static str {
        match self {
            SType::Bool => "booleans",
            SType::Int => "integers",
            SType::Str => "strings",
            SType::List(_) => "lists",
            SType::Any => "values",
        }
    }

    fn compatible(&self, other: &SType) -> bool {
        match (self, other) {
            (SType::Any, _) | (_, SType::Any) => true,
            (SType::List(a), SType::List(b)) => a.compatible(b),
            (a, b) => a == b,
        }
    }

    fn element(&self) -> Option<SType> {
        match self {
            SType::List(e) => Some((**e).clone()),
            SType::Any => Some(SType::Any),
            _ => None,
        }
    }
}

/// The blast fields whose types are known.
fn blast_type(field: &str) -> SType {
    match field {
        "devices" | "sites" | "roles" => SType::List(Box::new(SType::Str)),
        "depth" => SType::Int,
        _ => SType::List(Box::new(SType::Any)),
    }
}

/// Types and resolves the conditions of one file, collecting diagnostics; also
/// notes the change fields the policy reads.
pub(super) struct Typer<'a> {
    pub(super) file: &'a SourceFile,
    pub(super) file_index: u16,
    pub(super) diags: &'a mut Vec<Diagnostic>,
    /// The change's declared fields, when the policy has a schema.
    pub(super) schema: Option<&'a [SchemaField]>,
    /// The change fields the conditions read, across the whole policy.
    pub(super) reads: &'a mut ChangeFields,
}

/// The top-level change fields a policy's conditions read, each once, with where
/// (`file:line:col`) first; a hash set keeps this linear in the number of paths.
#[derive(Debug, Default)]
pub(super) struct ChangeFields {
    pub(super) fields: Vec<(String, String)>,
    seen: rustc_hash::FxHashSet<String>,
}

/// The static type of a declared field.
fn field_stype(t: &FieldType) -> SType {
    match t {
        FieldType::Str => SType::Str,
        FieldType::Int => SType::Int,
        FieldType::Bool => SType::Bool,
        FieldType::Object | FieldType::Any => SType::Any,
        FieldType::List(e) => SType::List(Box::new(field_stype(e))),
    }
}

impl Typer<'_> {
    /// Reports `e`, about this file.
    fn report(&mut self, e: CheckError) {
        self.diags.push(e.to_diagnostic(self.file));
    }

    fn node(&self, kind: CKind, span: Span) -> CExpr {
        CExpr {
            kind,
            span,
            file: self.file_index,
        }
    }

    /// Types and resolves a condition, which must be boolean.
    pub(super) fn condition(&mut self, e: &Expr) -> Option<CExpr> {
        let (c, t) = self.expr(e)?;
        if !t.compatible(&SType::Bool) {
            self.report(CheckError::NotACondition {
                ty: t.describe(),
                span: e.span,
            });
            return None;
        }
        Some(c)
    }

    fn expr(&mut self, e: &Expr) -> Option<(CExpr, SType)> {
        let span = e.span;
        match &e.kind {
            ExprKind::Lit(l) => {
                let (v, t) = lit(l);
                Some((self.node(CKind::Const(v), span), t))
            }
            ExprKind::List(items) => self.list(items, span),
            ExprKind::Path(p) => {
                let (r, t) = self.path(p, span)?;
                Some((self.node(CKind::Path(Box::new(r)), span), t))
            }
            ExprKind::Has(p) => {
                let (r, _) = self.path(p, span)?;
                Some((self.node(CKind::Has(Box::new(r)), span), SType::Bool))
            }
            ExprKind::Paren(inner) => self.expr(inner),
            ExprKind::Not(inner) => {
                let (c, t) = self.expr(inner)?;
                self.expect_bool(&t, inner.span, "not")?;
                Some((self.node(CKind::Not(Box::new(c)), span), SType::Bool))
            }
            ExprKind::And(parts) => self.connective(parts, span, true),
            ExprKind::Or(parts) => self.connective(parts, span, false),
            ExprKind::Compare(op, l, r) => self.compare(*op, l, r, span),
            ExprKind::Quant(q, list, op, rhs) => self.quantified(*q, list, *op, rhs, span),
            ExprKind::Count(inner) => {
                let (c, t) = self.expr(inner)?;
                if t.element().is_none() {
                    self.report(CheckError::CountNeedsList {
                        ty: t.describe(),
                        span: inner.span,
                    });
                    return None;
                }
                Some((self.node(CKind::Count(Box::new(c)), span), SType::Int))
            }
            ExprKind::Sum(inner) => {
                let (c, t) = self.expr(inner)?;
                match t.element() {
                    Some(SType::Int | SType::Any) => {}
                    _ => {
                        self.report(CheckError::SumNeedsIntegers {
                            ty: t.describe(),
                            span: inner.span,
                        });
                        return None;
                    }
                }
                Some((self.node(CKind::Sum(Box::new(c)), span), SType::Int))
            }
        }
    }

    /// `l OP r`, or `l match "GLOB"`.
    fn compare(&mut self, op: CmpOp, l: &Expr, r: &Expr, span: Span) -> Option<(CExpr, SType)> {
        let (lc, lt) = self.expr(l)?;
        if op == CmpOp::Match {
            self.expect_string_operand(&lt, l.span)?;
            let glob = self.glob(r)?;
            return Some((
                self.node(CKind::Match(Box::new(lc), Box::new(glob)), span),
                SType::Bool,
            ));
        }
        let (rc, rt) = self.expr(r)?;
        self.check_cmp(op, &lt, &rt, l.span, r.span)?;
        self.check_name_literal(&lc, &rc)?;
        self.check_name_literal(&rc, &lc)?;
        Some((
            self.node(CKind::Cmp(op, Box::new(lc), Box::new(rc)), span),
            SType::Bool,
        ))
    }

    /// `any LIST OP rhs` / `all LIST OP rhs`, or with `match "GLOB"`.
    fn quantified(
        &mut self,
        q: Quantifier,
        list: &Expr,
        op: CmpOp,
        rhs: &Expr,
        span: Span,
    ) -> Option<(CExpr, SType)> {
        let (lc, lt) = self.expr(list)?;
        let Some(elem) = lt.element() else {
            self.report(CheckError::QuantifierNeedsList {
                quant: quant_word(q),
                ty: lt.describe(),
                span: list.span,
            });
            return None;
        };
        if op == CmpOp::Match {
            self.expect_string_operand(&elem, list.span)?;
            let glob = self.glob(rhs)?;
            return Some((
                self.node(CKind::QuantMatch(q, Box::new(lc), Box::new(glob)), span),
                SType::Bool,
            ));
        }
        let (rc, rt) = self.expr(rhs)?;
        self.check_cmp(op, &elem, &rt, list.span, rhs.span)?;
        Some((
            self.node(CKind::Quant(q, Box::new(lc), op, Box::new(rc)), span),
            SType::Bool,
        ))
    }

    /// A list literal, whose items must share one type.
    fn list(&mut self, items: &[Lit], span: Span) -> Option<(CExpr, SType)> {
        let mut elem = None::<SType>;
        let mut values = Vec::with_capacity(items.len());
        for l in items {
            let (v, t) = lit(l);
            if let Some(prev) = &elem {
                if *prev != t {
                    self.report(CheckError::MixedList {
                        first: prev.plural(),
                        then: t.plural(),
                        span,
                    });
                    return None;
                }
            }
            elem = Some(t);
            values.push(v);
        }
        let t = SType::List(Box::new(elem.unwrap_or(SType::Any)));
        Some((self.node(CKind::Const(Value::List(values)), span), t))
    }

    /// `a and b …` (`is_and`) or `a or b …`: every part typed (so each part's
    /// errors are reported), and each must be boolean.
    fn connective(&mut self, parts: &[Expr], span: Span, is_and: bool) -> Option<(CExpr, SType)> {
        let mut out = Vec::with_capacity(parts.len());
        let mut ok = true;
        for p in parts {
            match self.expr(p) {
                Some((c, t)) => {
                    if self
                        .expect_bool(&t, p.span, if is_and { "and" } else { "or" })
                        .is_none()
                    {
                        ok = false;
                    }
                    out.push(c);
                }
                None => ok = false,
            }
        }
        if !ok {
            return None;
        }
        let kind = if is_and {
            CKind::And(out)
        } else {
            CKind::Or(out)
        };
        Some((self.node(kind, span), SType::Bool))
    }

    fn expect_bool(&mut self, t: &SType, span: Span, op: &'static str) -> Option<()> {
        if t.compatible(&SType::Bool) {
            return Some(());
        }
        self.report(CheckError::NotABoolean {
            op,
            ty: t.describe(),
            span,
        });
        None
    }

    fn expect_string_operand(&mut self, t: &SType, span: Span) -> Option<()> {
        if t.compatible(&SType::Str) {
            return Some(());
        }
        self.report(CheckError::MatchNeedsString {
            ty: t.describe(),
            span,
        });
        None
    }

    fn glob(&mut self, r: &Expr) -> Option<Glob> {
        let inner = match &r.kind {
            ExprKind::Paren(e) => e.as_ref(),
            _ => r,
        };
        let ExprKind::Lit(Lit::Str(pattern)) = &inner.kind else {
            self.report(CheckError::GlobNotLiteral { span: r.span });
            return None;
        };
        match GlobBuilder::new(pattern)
            .literal_separator(true)
            .backslash_escape(true)
            .build()
        {
            Ok(g) => Some(Glob {
                matcher: g.compile_matcher(),
            }),
            Err(err) => {
                self.report(CheckError::BadGlob {
                    pattern: pattern.clone(),
                    why: err.kind().to_string(),
                    span: r.span,
                });
                None
            }
        }
    }

    /// Conditions see `change.author` in its canonical form ([`crate::people`]), so a
    /// name written in another spelling could never equal it: `change.author ==
    /// "Mallory"` would silently never match. Such a literal is an error.
    fn check_name_literal(&mut self, path: &CExpr, other: &CExpr) -> Option<()> {
        let CKind::Path(p) = &path.kind else {
            return Some(());
        };
        if p.root != Root::Change || p.fields.as_slice() != ["author"] {
            return Some(());
        }
        let CKind::Const(v) = &other.kind else {
            return Some(());
        };
        let names: Vec<&str> = match v {
            Value::Str(s) => vec![s.as_str()],
            Value::List(items) => items
                .iter()
                .filter_map(|i| match i {
                    Value::Str(s) => Some(s.as_str()),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for name in names {
            let e = match crate::people::canonical(name) {
                Ok(c) if c == name => continue,
                Ok(canonical) => CheckError::NoncanonicalName {
                    name: crate::terminal::escape(name).to_string(),
                    canonical,
                    span: other.span,
                },
                Err(e) => CheckError::NotAPerson {
                    why: e.to_string(),
                    span: other.span,
                },
            };
            self.report(e);
            return None;
        }
        Some(())
    }

    fn check_cmp(&mut self, op: CmpOp, lt: &SType, rt: &SType, ls: Span, rs: Span) -> Option<()> {
        let both = Span::new(ls.start, rs.end);
        match op {
            CmpOp::Eq | CmpOp::Ne => {
                if !lt.compatible(rt) {
                    self.report(CheckError::NeverEqual {
                        op: op.as_str(),
                        left: lt.describe(),
                        right: rt.describe(),
                        span: both,
                    });
                    return None;
                }
            }
            CmpOp::Lt | CmpOp::Le | CmpOp::Gt | CmpOp::Ge => {
                for (t, s) in [(lt, ls), (rt, rs)] {
                    if !matches!(t, SType::Int | SType::Str | SType::Any) {
                        self.report(CheckError::CannotOrder {
                            op: op.as_str(),
                            what: t.plural(),
                            span: s,
                        });
                        return None;
                    }
                }
                if !lt.compatible(rt) {
                    self.report(CheckError::OrderMismatch {
                        op: op.as_str(),
                        left: lt.describe(),
                        right: rt.describe(),
                        span: both,
                    });
                    return None;
                }
            }
            CmpOp::In => match rt.element() {
                None => {
                    self.report(CheckError::InNeedsList {
                        ty: rt.describe(),
                        span: rs,
                    });
                    return None;
                }
                Some(elem) => {
                    if !lt.compatible(&elem) {
                        self.report(CheckError::NeverIn {
                            item: lt.describe(),
                            list: rt.describe(),
                            span: both,
                        });
                        return None;
                    }
                }
            },
            CmpOp::Match => {}
        }
        Some(())
    }

    fn path(&mut self, p: &Path, span: Span) -> Option<(PathRef, SType)> {
        match p.root {
            Root::Change => self.change_path(p, span),
            Root::Blast | Root::Targets => Some(blast_path(p)),
        }
    }

    /// A `change.…` path: noted as read, and typed by the schema if there is one.
    fn change_path(&mut self, p: &Path, span: Span) -> Option<(PathRef, SType)> {
        let first = p.fields.first().cloned().unwrap_or_default();
        if self.reads.seen.insert(first.clone()) {
            self.reads
                .fields
                .push((first.clone(), self.file.location(span.start)));
        }
        let t = match self.schema {
            None => SType::Any,
            Some(fields) => self.schema_type(fields, p, first, span)?,
        };
        Some((path_ref(p), t))
    }

    /// The type the schema gives `change.FIRST…`, or `None` (reported) when it
    /// declares no such field or the field has no fields.
    fn schema_type(
        &mut self,
        fields: &[SchemaField],
        p: &Path,
        first: String,
        span: Span,
    ) -> Option<SType> {
        let Some(decl) = fields.iter().find(|f| f.name == first) else {
            let names = fields.iter().map(|f| f.name.as_str());
            let help = match crate::diag::did_you_mean(&first, names) {
                Some(s) => {
                    format!("did you mean `change.{s}`? Otherwise declare the field in the schema")
                }
                None => "declare the field in the policy's `schema { … }`".into(),
            };
            self.report(CheckError::UnknownField {
                field: first,
                help,
                span,
            });
            return None;
        };
        let nested = p.fields.len() > 1;
        if nested && !matches!(decl.ty, FieldType::Object | FieldType::Any) {
            self.report(CheckError::NoFields {
                field: first,
                ty: decl.ty.to_string(),
                span,
            });
            return None;
        }
        Some(if nested {
            SType::Any
        } else {
            field_stype(&decl.ty)
        })
    }
}

/// A `blast.x…` or `targets.x…` path: its type is known for the blast's own fields.
fn blast_path(p: &Path) -> (PathRef, SType) {
    let field = p.fields.first().map_or("", String::as_str);
    let t = if p.fields.len() > 1 {
        SType::Any
    } else {
        blast_type(field)
    };
    (path_ref(p), t)
}

/// A path as the IR holds it, its slot not yet laid out.
fn path_ref(p: &Path) -> PathRef {
    PathRef {
        root: p.root,
        fields: p.fields.clone(),
        slot: 0,
        text: p.to_string(),
    }
}

fn quant_word(q: Quantifier) -> &'static str {
    match q {
        Quantifier::Any => "any",
        Quantifier::All => "all",
    }
}

fn lit(l: &Lit) -> (Value, SType) {
    match l {
        Lit::Str(s) => (Value::Str(s.clone()), SType::Str),
        Lit::Int(i) => (Value::Int(*i), SType::Int),
        Lit::Bool(b) => (Value::Bool(*b), SType::Bool),
    }
}
