//! `changegate fmt`: one canonical layout, comments kept where they were.
//!
//! The layout is the syntax tree's canonical printing (the crate-private `syntax`
//! module) plus:
//! - comments: a comment on its own line stays before the item (or rule line) it
//!   preceded; a comment at the end of a line stays at the end of that line;
//! - blank lines: one between items where the source had at least one, and always
//!   around rules and between items of different kinds; never two in a row;
//! - consecutive declarations of one kind (groups, windows, freezes) align their `=`;
//! - a rule condition that would make its line longer than 100 characters is broken
//!   before each top-level `and` / `or`.
//!
//! Formatting is idempotent: formatting formatted output changes nothing.

use crate::diag::{Diagnostics, SourceFile};
use crate::limits::Limits;
use crate::syntax::pieces::{pieces, Piece};
use crate::syntax::{self, Expr, ExprKind, Item};

/// Longest line the formatter aims for.
const WIDTH: usize = 100;

/// A comment in the source.
#[derive(Debug, Clone)]
struct Comment {
    start: usize,
    text: String,
    /// Whether code precedes it on its line.
    trailing: bool,
}

/// Every `#` comment outside string literals.
fn comments(src: &str) -> Vec<Comment> {
    let mut out = Vec::new();
    let mut line_has_code = false;
    for (piece, start, end) in pieces(src) {
        match piece {
            Piece::Comment => out.push(Comment {
                start,
                text: src.get(start..end).unwrap_or("#").trim_end().to_owned(),
                trailing: line_has_code,
            }),
            Piece::Code(b'\n') => line_has_code = false,
            Piece::Code(b' ' | b'\t' | b'\r') => {}
            Piece::Code(_) | Piece::Str => line_has_code = true,
        }
    }
    out
}

/// Formats a policy's source. Syntax errors are returned as diagnostics; the
/// policy does not need to pass `check`.
pub fn format_source(source: &str, name: &str, limits: &Limits) -> Result<String, Diagnostics> {
    let file = SourceFile::new(name, source);
    let (ast, diags) = syntax::parse_file(&file, limits);
    if diags.iter().any(|d| d.is_error()) {
        return Err(Diagnostics(diags));
    }
    Ok(Formatter::new(file.text()).file(&ast.items))
}

struct Formatter<'s> {
    src: &'s str,
    comments: Vec<Comment>,
    next: usize,
    out: String,
}

impl<'s> Formatter<'s> {
    fn new(src: &'s str) -> Formatter<'s> {
        Formatter {
            src,
            comments: comments(src),
            next: 0,
            out: String::new(),
        }
    }

    /// Comments that start before `pos`, not yet written.
    fn take_before(&mut self, pos: usize) -> Vec<Comment> {
        let mut taken = Vec::new();
        while let Some(c) = self.comments.get(self.next) {
            if c.start >= pos {
                break;
            }
            taken.push(c.clone());
            self.next += 1;
        }
        taken
    }

    /// Whether the source has a blank line between `a` and `b`.
    fn blank_between(&self, a: usize, b: usize) -> bool {
        blank_line_in(self.src.get(a.min(b)..b).unwrap_or(""))
    }

    fn blank(&mut self) {
        if !self.out.is_empty() && !self.out.ends_with("\n\n") {
            self.out.push('\n');
        }
    }

    fn file(mut self, items: &[Item]) -> String {
        let widths = align_widths(items, self.src);
        let mut prev: Option<&Item> = None;
        for (i, item) in items.iter().enumerate() {
            let span = item.span();
            let before = self.take_before(span.start);
            let prev_end = prev.map_or(0, |p| p.span().end);
            // Trailing comments of the previous item's last line.
            let (trailing, own): (Vec<Comment>, Vec<Comment>) = before.into_iter().partition(|c| {
                c.trailing
                    && prev.is_some()
                    && !self.src.get(prev_end..c.start).unwrap_or("").contains('\n')
            });
            for c in trailing {
                self.attach_trailing(&c.text);
            }
            if let Some(p) = prev {
                let first_own = own.first().map_or(span.start, |c| c.start);
                if self.blank_between(prev_end, first_own) || syntax::needs_blank_line(p, item) {
                    self.blank();
                }
            }
            let mut last = own.first().map(|c| c.start);
            for c in &own {
                if let Some(l) = last {
                    if self.blank_between(l, c.start) {
                        self.blank();
                    }
                }
                self.out.push_str(&c.text);
                self.out.push('\n');
                last = Some(c.start);
            }
            if let Some(l) = last {
                if self.blank_between(l, span.start) {
                    self.blank();
                }
            }
            self.item(item, widths.get(i).copied().unwrap_or(0));
            prev = Some(item);
        }
        let end = prev.map_or(0, |p| p.span().end);
        let rest = self.take_before(usize::MAX);
        for c in rest {
            if c.trailing && !self.src.get(end..c.start).unwrap_or("").contains('\n') {
                self.attach_trailing(&c.text);
            } else {
                if self.blank_between(end, c.start) {
                    self.blank();
                }
                self.out.push_str(&c.text);
                self.out.push('\n');
            }
        }
        if self.out.is_empty() {
            return String::new();
        }
        while self.out.ends_with("\n\n") {
            self.out.pop();
        }
        self.out
    }

    /// Appends a comment to the last written line.
    fn attach_trailing(&mut self, text: &str) {
        if self.out.ends_with('\n') {
            self.out.pop();
        }
        self.out.push_str("  ");
        self.out.push_str(text);
        self.out.push('\n');
    }

    fn item(&mut self, item: &Item, align: usize) {
        match item {
            Item::Rule(r) => {
                let head = format!(
                    "rule {}{} {{",
                    r.name,
                    if r.advisory { " advisory" } else { "" }
                );
                self.out.push_str(&head);
                self.out.push('\n');
                // Comments inside the rule: before `when`'s condition ends go above
                // the `when` line (own-line) or after it (trailing).
                let inner = self.take_before(r.when.span.end);
                self.trailing_or_own(&inner, r.span.start, "  ");
                self.out
                    .push_str(&format!("  when {}\n", condition(&r.when, 7)));
                let between = self.take_before(r.then.span.start);
                self.trailing_or_own(&between, r.when.span.end, "  ");
                self.out.push_str(&format!("  then {}\n", r.then));
                let inside = self.take_before(r.span.end.saturating_sub(1));
                self.trailing_or_own(&inside, r.then.span.end, "  ");
                self.out.push_str("}\n");
            }
            Item::Group(g) => {
                let line = item.to_string();
                self.out
                    .push_str(&pad_name(&line, "group ", &g.name.name, align));
                self.out.push('\n');
            }
            Item::Window(w) => {
                let line = item.to_string();
                self.out
                    .push_str(&pad_name(&line, "window ", &w.name.name, align));
                self.out.push('\n');
            }
            Item::Freeze(f) => {
                let line = item.to_string();
                self.out
                    .push_str(&pad_name(&line, "freeze ", &f.name.name, align));
                self.out.push('\n');
            }
            _ => {
                self.out.push_str(&item.to_string());
                self.out.push('\n');
            }
        }
    }

    /// Comments on the line where `after` ends trail that line; the rest go on their
    /// own lines.
    fn trailing_or_own(&mut self, comments: &[Comment], after: usize, indent: &str) {
        for c in comments {
            let same_line = !self.src.get(after..c.start).unwrap_or("\n").contains('\n');
            if same_line {
                self.attach_trailing(&c.text);
            } else {
                self.out.push_str(indent);
                self.out.push_str(&c.text);
                self.out.push('\n');
            }
        }
    }
}

/// A condition, broken before top-level `and`/`or` when its line would be too long.
/// `prefix` is the width of what precedes it on the line.
fn condition(e: &Expr, prefix: usize) -> String {
    let flat = e.to_string();
    if prefix + flat.len() <= WIDTH {
        return flat;
    }
    let (parts, op) = match &e.kind {
        ExprKind::Or(parts) => (parts, "or"),
        ExprKind::And(parts) => (parts, "and"),
        _ => return flat,
    };
    let mut out = String::new();
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push_str("\n    ");
            out.push_str(op);
            out.push(' ');
        }
        // Parts print with the parentheses the source had, so nesting is kept.
        out.push_str(&p.to_string());
    }
    out
}

/// Whether `gap` holds a line with nothing but white space between two line breaks.
fn blank_line_in(gap: &str) -> bool {
    let segments: Vec<&str> = gap.split('\n').collect();
    segments.len() > 2
        && segments
            .get(1..segments.len() - 1)
            .is_some_and(|inner| inner.iter().any(|s| s.trim().is_empty()))
}

/// For each item, the width its name is padded to: the longest name in its run of
/// consecutive declarations of the same kind (a blank line or another kind ends a run).
fn align_widths(items: &[Item], src: &str) -> Vec<usize> {
    let key = |i: &Item| -> Option<(u8, usize)> {
        match i {
            Item::Group(g) => Some((0, g.name.name.len())),
            Item::Window(w) => Some((1, w.name.name.len())),
            Item::Freeze(f) => Some((2, f.name.name.len())),
            _ => None,
        }
    };
    let mut widths = vec![0; items.len()];
    let mut run_start = 0;
    for i in 0..=items.len() {
        let ends_run = match (i.checked_sub(1).and_then(|p| items.get(p)), items.get(i)) {
            (Some(prev), Some(cur)) => {
                let gap = src.get(prev.span().end..cur.span().start).unwrap_or("");
                key(prev).map(|k| k.0) != key(cur).map(|k| k.0)
                    || key(cur).is_none()
                    || blank_line_in(gap)
            }
            _ => true,
        };
        if ends_run && i > run_start {
            let width = items
                .get(run_start..i)
                .unwrap_or(&[])
                .iter()
                .filter_map(|it| key(it).map(|k| k.1))
                .max()
                .unwrap_or(0);
            for w in widths.get_mut(run_start..i).unwrap_or(&mut []) {
                *w = width;
            }
            run_start = i;
        }
    }
    widths
}

fn pad_name(line: &str, keyword: &str, name: &str, width: usize) -> String {
    let head = format!("{keyword}{name}");
    match line.strip_prefix(&head) {
        Some(rest) if width > name.len() => {
            format!("{head}{}{rest}", " ".repeat(width - name.len()))
        }
        _ => line.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use crate::syntax::{parse_file, File};
    use crate::{Limits, SourceFile};

    fn ast(src: &str) -> File {
        let (ast, diags) = parse_file(&SourceFile::new("t.gate", src), &Limits::default());
        assert!(diags.is_empty(), "{diags:?}");
        ast
    }

    /// Formatting the formatter's snapshot sources (`tests/fmt/*.gate`, whose output
    /// tests/tooling.rs pins) gives the same syntax tree, spans aside.
    #[test]
    fn formatting_the_snapshot_sources_keeps_their_meaning() {
        let mut dir: Vec<_> = std::fs::read_dir("tests/fmt")
            .expect("tests/fmt")
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "gate"))
            .collect();
        dir.sort();
        assert!(dir.len() >= 2);
        for path in dir {
            let src = std::fs::read_to_string(&path).expect("readable");
            let once = super::format_source(&src, "t.gate", &Limits::default()).expect("formats");
            assert_eq!(
                ast(&once),
                ast(&src),
                "{}: formatting changed the policy",
                path.display()
            );
        }
    }
}
