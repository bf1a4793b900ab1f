//! The canonical source form of the AST: `parse(print(ast)) == ast`.

use std::fmt::{self, Display, Formatter, Write};

use super::ast::*;

/// Writes `s` as a string literal.
pub(crate) fn write_str_lit(f: &mut impl Write, s: &str) -> fmt::Result {
    f.write_char('"')?;
    for c in s.chars() {
        match c {
            '"' => f.write_str("\\\"")?,
            '\\' => f.write_str("\\\\")?,
            '\n' => f.write_str("\\n")?,
            '\t' => f.write_str("\\t")?,
            '\r' => f.write_str("\\r")?,
            c => f.write_char(c)?,
        }
    }
    f.write_char('"')
}

impl Display for Str {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write_str_lit(f, &self.value)
    }
}

impl Display for Ident {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl Display for File {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut prev: Option<&Item> = None;
        for item in &self.items {
            if let Some(p) = prev {
                if needs_blank_line(p, item) {
                    f.write_char('\n')?;
                }
            }
            writeln!(f, "{item}")?;
            prev = Some(item);
        }
        Ok(())
    }
}

/// Declarations of one kind stay together; rules and other kinds get a blank line.
pub(crate) fn needs_blank_line(prev: &Item, next: &Item) -> bool {
    let kind = |i: &Item| match i {
        Item::Policy(..) => 0,
        Item::Import(..) => 1,
        Item::Schema(_) => 7,
        Item::Group(_) => 2,
        Item::Window(_) => 3,
        Item::Freeze(_) => 4,
        Item::Rule(_) => 5,
        Item::Default(..) => 6,
    };
    kind(prev) != kind(next) || matches!(next, Item::Rule(_))
}

impl Display for Item {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Item::Policy(name, _) => write!(f, "policy {name}"),
            Item::Import(path, _) => write!(f, "import {path}"),
            Item::Schema(s) => {
                f.write_str("schema {\n")?;
                for field in &s.fields {
                    f.write_str("  ")?;
                    if Path::is_bare(&field.name) {
                        f.write_str(&field.name)?;
                    } else {
                        write_str_lit(f, &field.name)?;
                    }
                    if field.optional {
                        f.write_char('?')?;
                    }
                    writeln!(f, ": {},", field.ty)?;
                }
                f.write_char('}')
            }
            Item::Group(g) => {
                write!(f, "group {} = [", g.name)?;
                for (i, m) in g.members.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{m}")?;
                }
                f.write_char(']')
            }
            Item::Window(w) => write!(f, "window {} = {}", w.name, w.spec),
            Item::Freeze(z) => {
                write!(f, "freeze {} = {}", z.name, z.spec)?;
                if let Some(when) = &z.when {
                    write!(f, " when {when}")?;
                }
                Ok(())
            }
            Item::Rule(r) => {
                write!(f, "rule {}", r.name)?;
                if r.advisory {
                    f.write_str(" advisory")?;
                }
                write!(f, " {{\n  when {}\n  then {}\n}}", r.when, r.then)
            }
            Item::Default(o, _) => write!(f, "default {o}"),
        }
    }
}

impl Display for WindowSpec {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.shape {
            ShapeSpec::Weekly { days, time } => {
                match days {
                    DaysSpec::Daily(_) => f.write_str("daily")?,
                    DaysSpec::List(items) => {
                        for (i, d) in items.iter().enumerate() {
                            if i > 0 {
                                f.write_char(',')?;
                            }
                            f.write_str(d.from.keyword())?;
                            if let Some(to) = d.to {
                                write!(f, "..{}", to.keyword())?;
                            }
                        }
                    }
                }
                match time {
                    TimeSpec::Range { start, end } => write!(f, " {start}-{end}")?,
                    TimeSpec::For { start, duration } => write!(f, " {start} for {duration}")?,
                }
            }
            ShapeSpec::Once { start, end } => {
                write!(f, "{start}")?;
                match end {
                    OnceEndSpec::At(end) => write!(f, " .. {end}")?,
                    OnceEndSpec::For(d) => write!(f, " for {d}")?,
                }
            }
        }
        match &self.zone {
            ZoneSpec::Named(z) => write!(f, " in {z}"),
            ZoneSpec::Local(_) => f.write_str(" local"),
        }
    }
}

impl Display for TimeLit {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{:02}:{:02}", self.hour, self.minute)
    }
}

impl Display for DateTimeLit {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:04}-{:02}-{:02} {}",
            self.year, self.month, self.day, self.time
        )
    }
}

impl Display for DurationLit {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let mut s = self.seconds.max(0);
        let days = s / 86_400;
        s %= 86_400;
        let hours = s / 3_600;
        s %= 3_600;
        let minutes = s / 60;
        if days > 0 {
            write!(f, "{days}d")?;
        }
        if hours > 0 {
            write!(f, "{hours}h")?;
        }
        if minutes > 0 || (days == 0 && hours == 0) {
            write!(f, "{minutes}m")?;
        }
        Ok(())
    }
}

impl Display for Outcome {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        for (i, item) in self.items.iter().enumerate() {
            if i > 0 {
                // `during` reads as a clause of what precedes it; other items are a list.
                f.write_str(if matches!(item, OutcomeItem::During(..)) {
                    " "
                } else {
                    ", "
                })?;
            }
            match item {
                OutcomeItem::Deploy(_) => f.write_str("deploy")?,
                OutcomeItem::Approve { count, group, .. } => {
                    write!(f, "approve {count} from {group}")?
                }
                OutcomeItem::Deny(reason, _) => write!(f, "deny {reason}")?,
                OutcomeItem::BreakGlass(_) => f.write_str("break glass")?,
                OutcomeItem::During(names, _) => {
                    f.write_str("during ")?;
                    for (j, n) in names.iter().enumerate() {
                        if j > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{n}")?;
                    }
                }
            }
        }
        Ok(())
    }
}

impl Display for Lit {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Lit::Str(s) => write_str_lit(f, s),
            Lit::Int(i) => write!(f, "{i}"),
            Lit::Bool(b) => write!(f, "{b}"),
        }
    }
}

impl Display for Path {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        f.write_str(self.root.as_str())?;
        for field in &self.fields {
            f.write_char('.')?;
            if Path::is_bare(field) {
                f.write_str(field)?;
            } else {
                write_str_lit(f, field)?;
            }
        }
        Ok(())
    }
}

/// Binding strength, loosest first.
fn level(e: &Expr) -> u8 {
    match &e.kind {
        ExprKind::Or(_) => 1,
        ExprKind::And(_) => 2,
        ExprKind::Not(_) => 3,
        ExprKind::Compare(..) | ExprKind::Quant(..) => 4,
        ExprKind::Count(_) | ExprKind::Sum(_) => 5,
        _ => 6,
    }
}

fn write_at(f: &mut Formatter<'_>, e: &Expr, min: u8) -> fmt::Result {
    if level(e) < min {
        write!(f, "({e})")
    } else {
        write!(f, "{e}")
    }
}

impl Display for Expr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ExprKind::Lit(l) => write!(f, "{l}"),
            ExprKind::List(items) => {
                f.write_char('[')?;
                for (i, l) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{l}")?;
                }
                f.write_char(']')
            }
            ExprKind::Path(p) => write!(f, "{p}"),
            ExprKind::Has(p) => write!(f, "has({p})"),
            ExprKind::Not(e) => {
                f.write_str("not ")?;
                write_at(f, e, 3)
            }
            ExprKind::And(parts) | ExprKind::Or(parts) => {
                let (sep, min) = if matches!(self.kind, ExprKind::And(_)) {
                    (" and ", 3)
                } else {
                    (" or ", 2)
                };
                for (i, p) in parts.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sep)?;
                    }
                    write_at(f, p, min)?;
                }
                Ok(())
            }
            ExprKind::Compare(op, l, r) => {
                write_at(f, l, 5)?;
                write!(f, " {} ", op.as_str())?;
                write_at(f, r, 5)
            }
            ExprKind::Quant(q, list, op, rhs) => {
                f.write_str(match q {
                    Quantifier::Any => "any ",
                    Quantifier::All => "all ",
                })?;
                write_at(f, list, 5)?;
                write!(f, " {} ", op.as_str())?;
                write_at(f, rhs, 5)
            }
            ExprKind::Count(e) => {
                f.write_str("count ")?;
                write_at(f, e, 5)
            }
            ExprKind::Sum(e) => {
                f.write_str("sum ")?;
                write_at(f, e, 5)
            }
            ExprKind::Paren(e) => write!(f, "({e})"),
        }
    }
}
