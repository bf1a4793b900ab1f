//! A hand-written reader for the commonest item, `rule "…" [advisory] { when … then … }`.
//!
//! Rules are nearly all of a large policy, and pest spends most of a big compile on
//! them. This reader follows the same grammar (`grammar/changegate.pest`: the rule,
//! expression and outcome productions, tried in the same order, with the same
//! trivia between tokens and none inside atomic tokens) and builds the same AST with
//! the same spans. It only ever *declines*: on anything it does not accept exactly —
//! a syntax error, an escape in a string, a number out of range, a list or nesting
//! past a limit — it returns `None` and the item goes to pest, which parses it (or
//! reports the error) as it always did. The test suite checks that both readers give
//! identical items, spans included, over every policy in the repository and over
//! random rules.

use super::ast::{
    CmpOp, Expr, ExprKind, Ident, Item, Lit, Outcome, OutcomeItem, Path, Quantifier, Root, Rule,
    Span, Str,
};
use super::parser::KEYWORDS;
use crate::limits::Limits;

/// Reads the `rule` item that starts at byte `at` of `src` (with no trivia before
/// it); returns the item and the byte just after its closing brace, or `None` to
/// leave the item to pest.
pub(super) fn rule_item(src: &str, at: usize, limits: &Limits) -> Option<(Item, usize)> {
    let mut r = Reader {
        src,
        bytes: src.as_bytes(),
        pos: at,
        limits,
    };
    let item = r.rule()?;
    Some((item, r.pos))
}

struct Reader<'a> {
    src: &'a str,
    bytes: &'a [u8],
    pos: usize,
    limits: &'a Limits,
}

fn is_ident_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

impl Reader<'_> {
    fn byte(&self, i: usize) -> Option<u8> {
        self.bytes.get(i).copied()
    }

    /// Whether a line break starts at byte `i`: the grammar's `line_break` (LF, CR,
    /// VT, FF, NEL, U+2028, U+2029). `SourceFile` text only ever holds LF, but the
    /// reader agrees with the grammar on raw text too.
    fn line_break_at(&self, i: usize) -> bool {
        super::pieces::line_break_at(self.bytes, i)
    }

    /// Skips white space and comments (the grammar's implicit trivia). A multi-byte
    /// line break stops the skip, and the item goes to pest.
    fn trivia(&mut self) {
        while let Some(b) = self.byte(self.pos) {
            match b {
                b' ' | b'\t' | b'\r' | b'\n' | 0x0B | 0x0C => self.pos += 1,
                b'#' => {
                    while self.byte(self.pos).is_some() && !self.line_break_at(self.pos) {
                        self.pos += 1;
                    }
                }
                _ => break,
            }
        }
    }

    /// Whether keyword `kw` comes next (after trivia), not followed by an identifier
    /// character; does not move.
    fn at_keyword(&mut self, kw: &str) -> bool {
        self.trivia();
        self.bytes
            .get(self.pos..)
            .is_some_and(|rest| rest.starts_with(kw.as_bytes()))
            && !self.byte(self.pos + kw.len()).is_some_and(is_ident_char)
    }

    /// Reads keyword `kw`.
    fn keyword(&mut self, kw: &str) -> Option<Span> {
        if !self.at_keyword(kw) {
            return None;
        }
        let start = self.pos;
        self.pos += kw.len();
        Some(Span::new(start, self.pos))
    }

    /// Reads punctuation `p` (after trivia).
    fn punct(&mut self, p: &str) -> Option<Span> {
        self.trivia();
        if !self
            .bytes
            .get(self.pos..)
            .is_some_and(|rest| rest.starts_with(p.as_bytes()))
        {
            return None;
        }
        let start = self.pos;
        self.pos += p.len();
        Some(Span::new(start, self.pos))
    }

    /// A `name` at the current position (no trivia skipped): a letter or `_`, then
    /// letters, digits and `_`.
    fn name_here(&mut self) -> Option<(usize, usize)> {
        let start = self.pos;
        if !self
            .byte(start)
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        {
            return None;
        }
        let mut end = start + 1;
        while self.byte(end).is_some_and(is_ident_char) {
            end += 1;
        }
        self.pos = end;
        Some((start, end))
    }

    /// An identifier: a name that is not a keyword.
    fn ident(&mut self) -> Option<Ident> {
        self.trivia();
        let save = self.pos;
        let (start, end) = self.name_here()?;
        let name = self.src.get(start..end)?;
        if KEYWORDS.contains(&name) {
            self.pos = save;
            return None;
        }
        Some(Ident {
            name: name.to_owned(),
            span: Span::new(start, end),
        })
    }

    /// A string literal at the current position (no trivia skipped). Declines on
    /// escapes (pest's path reports bad ones) and on strings over the length limit.
    fn string_here(&mut self) -> Option<Str> {
        let start = self.pos;
        if self.byte(start) != Some(b'"') {
            return None;
        }
        let mut i = start + 1;
        loop {
            match self.byte(i)? {
                b'"' => break,
                b'\\' => return None,
                _ if self.line_break_at(i) => return None,
                _ => i += 1,
            }
        }
        let raw = self.src.get(start + 1..i)?;
        if raw.len() > self.limits.max_string_len {
            return None;
        }
        self.pos = i + 1;
        Some(Str {
            value: raw.to_owned(),
            span: Span::new(start, self.pos),
        })
    }

    fn string(&mut self) -> Option<Str> {
        self.trivia();
        self.string_here()
    }

    /// An `integer` token at the current position: `-`? digits, not followed by an
    /// identifier character.
    fn integer_here(&mut self) -> Option<(&str, Span)> {
        let start = self.pos;
        let mut i = start;
        if self.byte(i) == Some(b'-') {
            i += 1;
        }
        let digits = i;
        while self.byte(i).is_some_and(|b| b.is_ascii_digit()) {
            i += 1;
        }
        if i == digits || self.byte(i).is_some_and(is_ident_char) {
            return None;
        }
        self.pos = i;
        Some((self.src.get(start..i)?, Span::new(start, i)))
    }

    fn rule(&mut self) -> Option<Item> {
        let start = self.keyword("rule")?.start;
        let name = self.string()?;
        let advisory = self.keyword("advisory").is_some();
        self.punct("{")?;
        self.keyword("when")?;
        let when = self.expr(0)?;
        self.keyword("then")?;
        let then = self.outcome()?;
        let end = self.punct("}")?.end;
        Some(Item::Rule(Rule {
            name,
            advisory,
            when,
            then,
            span: Span::new(start, end),
        }))
    }

    // ---- outcomes -------------------------------------------------------------

    fn outcome(&mut self) -> Option<Outcome> {
        let first = self.outcome_item()?;
        let start = first.span().start;
        let mut items = vec![first];
        loop {
            let save = self.pos;
            if self.punct(",").is_some() {
                items.push(self.outcome_item()?);
            } else if self.at_keyword("during") {
                items.push(self.during()?);
            } else {
                self.pos = save;
                break;
            }
        }
        let end = items.last().map_or(start, |i| i.span().end);
        Some(Outcome {
            items,
            span: Span::new(start, end),
        })
    }

    fn outcome_item(&mut self) -> Option<OutcomeItem> {
        if let Some(span) = self.keyword("deploy") {
            return Some(OutcomeItem::Deploy(span));
        }
        if let Some(kw) = self.keyword("approve") {
            self.trivia();
            let (digits, _) = self.integer_here()?;
            let count = digits.parse::<u64>().ok()?;
            self.keyword("from")?;
            let group = self.ident()?;
            let span = Span::new(kw.start, group.span.end);
            return Some(OutcomeItem::Approve { count, group, span });
        }
        if let Some(kw) = self.keyword("deny") {
            let reason = self.string()?;
            let span = Span::new(kw.start, reason.span.end);
            return Some(OutcomeItem::Deny(reason, span));
        }
        if let Some(kw) = self.keyword("break") {
            let glass = self.keyword("glass")?;
            return Some(OutcomeItem::BreakGlass(Span::new(kw.start, glass.end)));
        }
        if self.at_keyword("during") {
            return self.during();
        }
        None
    }

    fn during(&mut self) -> Option<OutcomeItem> {
        let kw = self.keyword("during")?;
        let mut names = vec![self.ident()?];
        loop {
            // `, name` continues the list; `, approve …` starts the next item.
            let save = self.pos;
            if self.punct(",").is_none() {
                break;
            }
            match self.ident() {
                Some(name) => names.push(name),
                None => {
                    self.pos = save;
                    break;
                }
            }
        }
        let end = names.last().map_or(kw.end, |n| n.span.end);
        Some(OutcomeItem::During(names, Span::new(kw.start, end)))
    }

    // ---- expressions ------------------------------------------------------------
    //
    // `depth` counts at least the layers the pest path counts, so whenever this
    // reader accepts, the pest path would not have hit the depth limit either.

    fn deeper(&self, depth: usize) -> Option<usize> {
        (depth < self.limits.max_depth).then_some(depth + 1)
    }

    fn expr(&mut self, depth: usize) -> Option<Expr> {
        let depth = self.deeper(depth)?;
        let mut parts = vec![self.and_expr(depth)?];
        while self.keyword("or").is_some() {
            parts.push(self.and_expr(depth)?);
        }
        Some(chain(parts, ExprKind::Or))
    }

    fn and_expr(&mut self, depth: usize) -> Option<Expr> {
        let depth = self.deeper(depth)?;
        let mut parts = vec![self.not_expr(depth)?];
        while self.keyword("and").is_some() {
            parts.push(self.not_expr(depth)?);
        }
        Some(chain(parts, ExprKind::And))
    }

    fn not_expr(&mut self, depth: usize) -> Option<Expr> {
        let mut nots = Vec::new();
        let mut depth = depth;
        while let Some(kw) = self.keyword("not") {
            nots.push(kw.start);
            depth = self.deeper(depth)?;
        }
        let mut e = self.cmp_expr(depth)?;
        for start in nots.into_iter().rev() {
            e = Expr {
                span: Span::new(start, e.span.end),
                kind: ExprKind::Not(Box::new(e)),
            };
        }
        Some(e)
    }

    fn cmp_expr(&mut self, depth: usize) -> Option<Expr> {
        let quant = if self.at_keyword("any") {
            Some(Quantifier::Any)
        } else if self.at_keyword("all") {
            Some(Quantifier::All)
        } else {
            None
        };
        if let Some(quant) = quant {
            let start = self.pos;
            self.pos += 3;
            let inner = self.deeper(depth)?;
            let list = self.operand(inner)?;
            let op = self.cmp_op()?;
            let rhs = self.operand(inner)?;
            let span = Span::new(start, rhs.span.end);
            return Some(Expr {
                kind: ExprKind::Quant(quant, Box::new(list), op, Box::new(rhs)),
                span,
            });
        }
        // One layer deeper whether or not a comparison follows: at least what the
        // pest path counts.
        let inner = self.deeper(depth)?;
        let lhs = self.operand(inner)?;
        let Some(op) = self.cmp_op() else {
            return Some(lhs);
        };
        let rhs = self.operand(inner)?;
        let span = Span::new(lhs.span.start, rhs.span.end);
        Some(Expr {
            kind: ExprKind::Compare(op, Box::new(lhs), Box::new(rhs)),
            span,
        })
    }

    fn cmp_op(&mut self) -> Option<CmpOp> {
        let save = self.pos;
        for (text, op) in [
            ("==", CmpOp::Eq),
            ("!=", CmpOp::Ne),
            ("<=", CmpOp::Le),
            (">=", CmpOp::Ge),
            ("<", CmpOp::Lt),
            (">", CmpOp::Gt),
        ] {
            if self.punct(text).is_some() {
                return Some(op);
            }
        }
        if self.keyword("in").is_some() {
            return Some(CmpOp::In);
        }
        if self.keyword("match").is_some() {
            return Some(CmpOp::Match);
        }
        self.pos = save;
        None
    }

    fn operand(&mut self, depth: usize) -> Option<Expr> {
        let mut aggs = Vec::new();
        let mut depth = depth;
        loop {
            let is_count = if self.at_keyword("count") {
                true
            } else if self.at_keyword("sum") {
                false
            } else {
                break;
            };
            aggs.push((self.pos, is_count));
            self.pos += if is_count { 5 } else { 3 };
            depth = self.deeper(depth)?;
        }
        let e = self.primary(depth)?;
        Some(super::parser::wrap_aggregates(aggs, e))
    }

    fn primary(&mut self, depth: usize) -> Option<Expr> {
        self.trivia();
        let start = self.pos;
        if let Some(path) = self.path_here() {
            return Some(Expr {
                kind: ExprKind::Path(path),
                span: Span::new(start, self.pos),
            });
        }
        if let Some(lit) = self.literal_here() {
            return Some(Expr {
                kind: ExprKind::Lit(lit),
                span: Span::new(start, self.pos),
            });
        }
        if self.keyword("has").is_some() {
            self.punct("(")?;
            self.trivia();
            let path = self.path_here()?;
            let end = self.punct(")")?.end;
            return Some(Expr {
                kind: ExprKind::Has(path),
                span: Span::new(start, end),
            });
        }
        if self.punct("[").is_some() {
            let mut items = Vec::new();
            self.trivia();
            if let Some(first) = self.literal_here() {
                items.push(first);
                loop {
                    if self.punct(",").is_none() {
                        break;
                    }
                    self.trivia();
                    match self.literal_here() {
                        Some(lit) => items.push(lit),
                        // A trailing comma.
                        None => break,
                    }
                }
            }
            let end = self.punct("]")?.end;
            if items.len() > self.limits.max_list_len {
                return None;
            }
            return Some(Expr {
                kind: ExprKind::List(items),
                span: Span::new(start, end),
            });
        }
        if self.punct("(").is_some() {
            let inner = self.expr(self.deeper(depth)?)?;
            let end = self.punct(")")?.end;
            return Some(Expr {
                kind: ExprKind::Paren(Box::new(inner)),
                span: Span::new(start, end),
            });
        }
        None
    }

    /// A path at the current position: a root, then one or more `.segment` with
    /// nothing between (the grammar's path is atomic).
    fn path_here(&mut self) -> Option<Path> {
        let save = self.pos;
        let (start, end) = self.name_here()?;
        let root = match self.src.get(start..end)? {
            "change" => Root::Change,
            "blast" => Root::Blast,
            "targets" => Root::Targets,
            _ => {
                self.pos = save;
                return None;
            }
        };
        let mut fields = Vec::new();
        while self.byte(self.pos) == Some(b'.') {
            // `.segment`, or the path ends before the dot.
            let dot = self.pos;
            self.pos += 1;
            let segment = if self.byte(self.pos) == Some(b'"') {
                self.string_here().map(|s| s.value)
            } else {
                self.name_here()
                    .and_then(|(s, e)| self.src.get(s..e))
                    .map(str::to_owned)
            };
            match segment {
                Some(segment) => fields.push(segment),
                None => {
                    self.pos = dot;
                    break;
                }
            }
        }
        if fields.is_empty() {
            self.pos = save;
            return None;
        }
        Some(Path { root, fields })
    }

    /// A literal at the current position: a string, an integer or a boolean.
    fn literal_here(&mut self) -> Option<Lit> {
        match self.byte(self.pos)? {
            b'"' => Some(Lit::Str(self.string_here()?.value)),
            b'-' | b'0'..=b'9' => {
                let save = self.pos;
                let value = self.integer_here()?.0.parse::<i64>().ok();
                if value.is_none() {
                    self.pos = save;
                }
                value.map(Lit::Int)
            }
            _ => {
                for (word, value) in [("true", true), ("false", false)] {
                    if self.at_keyword(word) {
                        self.pos += word.len();
                        return Some(Lit::Bool(value));
                    }
                }
                None
            }
        }
    }
}

/// An `and`/`or` chain: the single part itself, or the flat list spanning all parts.
fn chain(mut parts: Vec<Expr>, kind: fn(Vec<Expr>) -> ExprKind) -> Expr {
    if parts.len() == 1 {
        if let Some(only) = parts.pop() {
            return only;
        }
    }
    let start = parts.first().map_or(0, |p| p.span.start);
    let end = parts.last().map_or(0, |p| p.span.end);
    Expr {
        kind: kind(parts),
        span: Span::new(start, end),
    }
}

#[cfg(test)]
mod tests {
    //! The hand-written reader against pest: over every policy text in the
    //! repository, over random rules, and over random damage to them, the items (spans
    //! included, compared through `Debug`) and the diagnostics must be identical.

    use super::super::parser::parse_items;
    use crate::diag::SourceFile;
    use crate::limits::Limits;
    use proptest::prelude::*;

    /// Both readers' results on `text`, as comparable strings.
    fn both(text: &str, limits: &Limits) -> (String, String) {
        let file = SourceFile::new("t.gate", text);
        let show = |parsed: Option<(super::super::ast::File, Vec<crate::diag::Diagnostic>)>| {
            let Some((file, diags)) = parsed else {
                return "the parser panicked".to_owned();
            };
            let diags: Vec<String> = diags.iter().map(|d| format!("{d:?}")).collect();
            format!("{:#?}\n{diags:#?}", file.items)
        };
        (
            show(parse_items(&file, limits, false)),
            show(parse_items(&file, limits, true)),
        )
    }

    fn files(dir: &std::path::Path, out: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                files(&path, out);
            } else if let Ok(text) = std::fs::read_to_string(&path) {
                match path.extension().and_then(|e| e.to_str()) {
                    Some("gate") => out.push(text),
                    Some("md") => {
                        // The ```gate blocks of the docs.
                        let mut block: Option<String> = None;
                        for line in text.lines() {
                            match &mut block {
                                None if line.starts_with("```gate") => block = Some(String::new()),
                                Some(b) if line.starts_with("```") => {
                                    out.push(std::mem::take(b));
                                    block = None;
                                }
                                Some(b) => {
                                    b.push_str(line);
                                    b.push('\n');
                                }
                                None => {}
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
    }

    #[test]
    fn every_policy_in_the_repository_reads_the_same() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut texts = Vec::new();
        for dir in ["policies", "tests", "docs"] {
            files(&root.join(dir), &mut texts);
        }
        if let Ok(readme) = std::fs::read_to_string(root.join("README.md")) {
            texts.push(readme);
        }
        assert!(texts.len() > 100, "found only {} texts", texts.len());
        let limits = Limits::default();
        let mut taken = 0;
        for text in &texts {
            let (pest, fast) = both(text, &limits);
            assert_eq!(pest, fast, "in:\n{text}");
            // How many rules the hand-written reader takes (not declines).
            for (at, _) in text.match_indices("rule \"") {
                taken += usize::from(super::rule_item(text, at, &limits).is_some());
            }
        }
        assert!(taken > 200, "the reader took only {taken} rules");
        // With tight limits the reader must leave the same items to pest's errors.
        let tight = Limits {
            max_depth: 3,
            max_string_len: 4,
            max_list_len: 2,
            ..Limits::default()
        };
        for text in &texts {
            let (pest, fast) = both(text, &tight);
            assert_eq!(pest, fast, "with tight limits, in:\n{text}");
        }
    }

    fn name() -> impl Strategy<Value = String> {
        prop_oneof![
            Just("kind".to_owned()),
            Just("risk".to_owned()),
            Just("labels".to_owned()),
            Just("in".to_owned()),
            Just("\"x-ticket\"".to_owned()),
            Just("_a1".to_owned()),
        ]
    }

    fn primary() -> impl Strategy<Value = String> {
        let path = (
            prop_oneof![Just("change"), Just("blast"), Just("targets")],
            proptest::collection::vec(name(), 1..3),
        )
            .prop_map(|(root, fields)| format!("{root}.{}", fields.join(".")))
            .boxed();
        let lit = prop_oneof![
            Just("\"k1\"".to_owned()),
            Just("\"\"".to_owned()),
            Just("\"é ü\"".to_owned()),
            (-20i64..20).prop_map(|i| i.to_string()),
            Just("9223372036854775808".to_owned()),
            Just("true".to_owned()),
            Just("false".to_owned()),
        ]
        .boxed();
        prop_oneof![
            3 => path.clone(),
            2 => lit.clone(),
            1 => path.prop_map(|p| format!("has({p})")),
            1 => proptest::collection::vec(lit, 0..4).prop_map(|l| format!("[{}]", l.join(", "))),
        ]
    }

    fn expr() -> impl Strategy<Value = String> {
        let op = prop_oneof![
            Just("=="),
            Just("!="),
            Just("<"),
            Just("<="),
            Just(">"),
            Just(">="),
            Just(" in "),
            Just(" match ")
        ];
        let operand = (
            prop_oneof![Just(""), Just("count "), Just("sum "), Just("count sum ")],
            primary(),
        )
            .prop_map(|(a, p)| format!("{a}{p}"))
            .boxed();
        let cmp = prop_oneof![
            operand.clone(),
            (operand.clone(), op.clone(), operand.clone())
                .prop_map(|(a, o, b)| format!("{a} {o} {b}")),
            (
                prop_oneof![Just("any"), Just("all")],
                operand.clone(),
                op,
                operand
            )
                .prop_map(|(q, a, o, b)| format!("{q} {a} {o} {b}")),
        ];
        cmp.prop_recursive(3, 12, 3, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 2..4).prop_map(|v| v.join(" and ")),
                proptest::collection::vec(inner.clone(), 2..4).prop_map(|v| v.join(" or\n  ")),
                inner.clone().prop_map(|e| format!("not {e}")),
                inner.prop_map(|e| format!("( {e} ) # note\n")),
            ]
        })
    }

    fn outcome() -> impl Strategy<Value = String> {
        let item = prop_oneof![
            Just("deploy".to_owned()),
            (0u8..4).prop_map(|n| format!("approve {n} from ops")),
            Just("approve -1 from ops".to_owned()),
            Just("deny \"no\"".to_owned()),
            Just("break glass".to_owned()),
            Just("during nights, weekends".to_owned()),
            Just("during nights".to_owned()),
        ];
        proptest::collection::vec(item, 1..4).prop_map(|v| v.join(", "))
    }

    fn rule() -> impl Strategy<Value = String> {
        (
            prop_oneof![Just(""), Just(" advisory")],
            expr(),
            outcome(),
            prop_oneof![Just(" "), Just("\n  "), Just("  # c\n  ")],
        )
            .prop_map(|(adv, e, o, ws)| {
                format!("rule \"r\"{adv} {{{ws}when {e}{ws}then {o}{ws}}}\n")
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

        #[test]
        fn random_rules_read_the_same(r in rule()) {
            let (pest, fast) = both(&r, &Limits::default());
            prop_assert_eq!(pest, fast, "in:\n{}", r);
        }

        #[test]
        fn damaged_rules_read_the_same(
            r in rule(),
            at in any::<proptest::sample::Index>(),
            cut in 0usize..4,
            insert in prop_oneof![
                Just(""), Just(" "), Just("\""), Just("("), Just(")"), Just(","), Just("\\"),
                Just("and"), Just("x"), Just("."), Just("\n"), Just("#"), Just("1"), Just("-"),
                Just("}"), Just("not "), Just("during"), Just("approve"),
            ],
        ) {
            let mut at = at.index(r.len());
            while !r.is_char_boundary(at) {
                at -= 1;
            }
            let mut end = (at + cut).min(r.len());
            while !r.is_char_boundary(end) {
                end += 1;
            }
            let text = format!("{}{}{}", &r[..at], insert, &r[end..]);
            let (pest, fast) = both(&text, &Limits::default());
            prop_assert_eq!(pest, fast, "in:\n{}", text);
        }
    }
}
