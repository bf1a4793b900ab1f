//! Text to AST. The pest grammar lives in `grammar/changegate.pest`; pest's pairs
//! never leave this module.
//!
//! The file is parsed one item at a time: after a syntax error the parser skips to
//! the next line that starts an item, so one run reports every broken item.

use pest::error::{ErrorVariant, InputLocation};
use pest::iterators::{Pair, Pairs};
use pest::Parser;

use super::ast::*;
use super::error::SyntaxError;
use super::keyword::Keyword;
use super::pieces::Piece;
use crate::diag::{Diagnostic, SourceFile};
use crate::limits::Limits;

#[derive(pest_derive::Parser)]
#[grammar = "../grammar/changegate.pest"]
struct Grammar;

use crate::limits::HARD_MAX_DEPTH;

/// `limits` with `max_depth` no higher than [`HARD_MAX_DEPTH`].
fn capped(limits: &Limits) -> std::borrow::Cow<'_, Limits> {
    if limits.max_depth <= HARD_MAX_DEPTH {
        std::borrow::Cow::Borrowed(limits)
    } else {
        std::borrow::Cow::Owned(Limits {
            max_depth: HARD_MAX_DEPTH,
            ..limits.clone()
        })
    }
}

/// Stack for parsing: pest and the AST conversion recurse once per nesting level,
/// and debug builds use large frames, so parsing runs on a thread of its own with
/// room for [`Limits::max_depth`] levels whatever the caller's stack.
const PARSE_STACK_BYTES: usize = 256 << 20;

/// At most this many forbidden-character diagnostics per file.
const MAX_FORBIDDEN_REPORTS: usize = 16;

/// A diagnostic for each bidirectional control or invisible character in the file
/// (the first [`MAX_FORBIDDEN_REPORTS`]), wherever it sits: what a reviewer sees
/// must be what is evaluated.
fn forbidden_characters(file: &SourceFile) -> Vec<Diagnostic> {
    use super::text::{forbidden, Forbidden, Place};
    let mut found = forbidden(file.text());
    let mut out: Vec<Diagnostic> = found
        .by_ref()
        .take(MAX_FORBIDDEN_REPORTS)
        .map(|(at, c, kind, place)| {
            let cp = format!("U+{:04X}", u32::from(c));
            let place = match place {
                Place::Code => "the policy",
                Place::Literal => "a string literal",
                Place::Comment => "a comment",
            };
            let span = Span::new(at, at + c.len_utf8());
            match kind {
                Forbidden::Bidi => SyntaxError::TextDirection {
                    codepoint: cp.clone(),
                    place,
                }
                .into_diagnostic(file)
                .label(
                    span,
                    "this character changes the order in which the text around it is shown",
                )
                .help(format!(
                    "delete the `{cp}` character: what a reviewer reads must be what is evaluated"
                )),
                Forbidden::Invisible => SyntaxError::InvisibleCharacter {
                    codepoint: cp.clone(),
                    place,
                }
                .into_diagnostic(file)
                .label(span, "this character is not shown by editors or terminals")
                .help(format!(
                    "delete the `{cp}` character: what a reviewer reads must be what is evaluated"
                )),
            }
        })
        .collect();
    let more = found.count();
    if more > 0 {
        if let Some(last) = out.pop() {
            out.push(last.help(format!(
                "delete these characters; {more} more like them follow in this file"
            )));
        }
    }
    out
}

/// Parses a whole file. Returns the items that parsed and a diagnostic for each
/// problem; the tree is only meaningful when there are no errors.
pub(crate) fn parse_file(file: &SourceFile, limits: &Limits) -> (File, Vec<Diagnostic>) {
    on_big_stack(|| parse_file_here(file, limits)).unwrap_or_else(|| {
        (
            File::default(),
            vec![SyntaxError::Internal
                .into_diagnostic(file)
                .help("as a workaround, simplify the most deeply nested condition")],
        )
    })
}

/// Runs `f` on a thread with [`PARSE_STACK_BYTES`] of stack (inline if no thread can
/// be started); `None` if it panicked.
fn on_big_stack<T: Send>(f: impl FnOnce() -> T + Send) -> Option<T> {
    std::thread::scope(|s| {
        match std::thread::Builder::new()
            .name("changegate-parse".into())
            .stack_size(PARSE_STACK_BYTES)
            .spawn_scoped(s, f)
        {
            Ok(handle) => handle.join().ok(),
            Err(_) => None,
        }
    })
}

fn parse_file_here(file: &SourceFile, limits: &Limits) -> (File, Vec<Diagnostic>) {
    let limits = &*capped(limits);
    let src = file.text();
    let mut diags = Vec::new();
    if src.len() > limits.max_source_bytes {
        diags.push(
            SyntaxError::TooLarge {
                bytes: src.len(),
                limit: limits.max_source_bytes,
            }
            .into_diagnostic(file)
            .help("split the policy into modules, or raise the limit"),
        );
        return (File::default(), diags);
    }
    diags.extend(forbidden_characters(file));
    if !diags.is_empty() {
        return (File::default(), diags);
    }
    if let Some(d) = check_nesting(file, limits.max_depth) {
        diags.push(d);
        return (File::default(), diags);
    }

    // Large files are cut at item boundaries and the pieces parsed in parallel; the
    // results are joined in order, so the outcome is the same as one pass.
    let chunks = chunk_bounds(src);
    let mut parts: Vec<(Vec<Item>, Vec<Diagnostic>)> = if chunks.len() <= 1 {
        vec![parse_range(file, limits, 0, src.len())]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = chunks
                .iter()
                .map(|&(a, b)| {
                    std::thread::Builder::new()
                        .stack_size(PARSE_STACK_BYTES)
                        .spawn_scoped(s, move || parse_range(file, limits, a, b))
                })
                .collect();
            handles
                .into_iter()
                .zip(&chunks)
                .map(|(h, &(a, b))| {
                    h.ok()
                        .and_then(|h| h.join().ok())
                        .unwrap_or_else(|| parse_range(file, limits, a, b))
                })
                .collect()
        })
    };
    let mut items = Vec::new();
    for (part_items, part_diags) in parts.drain(..) {
        items.extend(part_items);
        diags.extend(part_diags);
    }
    if items.len() > limits.max_items {
        let span = items
            .get(limits.max_items)
            .map_or(Span::default(), Item::span);
        items.truncate(limits.max_items);
        diags.push(
            SyntaxError::TooManyItems {
                limit: limits.max_items,
            }
            .into_diagnostic(file)
            .label(span, "this one is over the limit")
            .help("raise the limit"),
        );
    }
    (File { items }, diags)
}

/// Files smaller than this are parsed in one piece.
const PARALLEL_MIN_BYTES: usize = 256 << 10;

/// Cuts `src` into up to one piece per core, each starting at a line that starts
/// an item (an item keyword in column 0, which can only begin an item: strings
/// cannot span lines and keywords cannot appear mid-expression).
fn chunk_bounds(src: &str) -> Vec<(usize, usize)> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if src.len() < PARALLEL_MIN_BYTES || threads < 2 {
        return vec![(0, src.len())];
    }
    let mut cuts = vec![0];
    for k in 1..threads {
        let target = src.len() * k / threads;
        let from = cuts.last().copied().unwrap_or(0).max(target);
        if let Some(cut) = item_line_at_or_after(src, from) {
            if cut > cuts.last().copied().unwrap_or(0) && cut < src.len() {
                cuts.push(cut);
            }
        }
    }
    cuts.push(src.len());
    cuts.windows(2)
        .filter_map(|w| match w {
            [a, b] => Some((*a, *b)),
            _ => None,
        })
        .collect()
}

/// The first line start at or after `from` whose first word is an item keyword.
fn item_line_at_or_after(src: &str, from: usize) -> Option<usize> {
    let bytes = src.as_bytes();
    let mut i = from;
    loop {
        let nl = src.get(i..)?.find('\n')?;
        i += nl + 1;
        let rest = src.get(i..)?;
        for kw in Keyword::items().map(Keyword::spelling) {
            if rest.starts_with(kw)
                && !bytes
                    .get(i + kw.len())
                    .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
            {
                return Some(i);
            }
        }
    }
}

/// Parses the items in `src[start..end]`, which starts at an item (or trivia), a
/// batch of items at a time (`items` in the grammar): pest's set-up is paid once per
/// batch, and its token queue holds a batch, not the whole file, which keeps the peak
/// memory of compiling a large policy low. A batch ends before an item that does not
/// parse; that item is then parsed alone for its error, and parsing resumes at the
/// next line that starts an item.
fn parse_range(
    file: &SourceFile,
    limits: &Limits,
    start: usize,
    end: usize,
) -> (Vec<Item>, Vec<Diagnostic>) {
    let src = file.text();
    let mut items = Vec::new();
    let mut diags = Vec::new();
    let mut offset = skip_trivia(src, start);
    while offset < end && items.len() <= limits.max_items {
        let rest = src.get(offset..end).unwrap_or("");
        match Grammar::parse(Rule::items, rest) {
            Ok(pairs) => {
                let mut batch_end = offset;
                let mut cx = Convert {
                    file,
                    base: offset,
                    diags: &mut diags,
                    limits,
                };
                for pair in pairs {
                    // Past the item limit, read no further (the batch may hold more
                    // items): what follows would only add diagnostics about items the
                    // limit refuses anyway.
                    if items.len() > limits.max_items {
                        break;
                    }
                    batch_end = offset + pair.as_span().end();
                    if let Some(item) = cx.item(pair) {
                        items.push(item);
                    }
                }
                if batch_end == offset {
                    break;
                }
                offset = skip_trivia(src, batch_end);
            }
            Err(err) => {
                diags.push(syntax_error(file, offset, &err));
                offset = next_item_start(src, offset).min(end);
            }
        }
    }
    (items, diags)
}

/// Skips white space and comments: the grammar's own trivia (`trivia`), so what
/// the parser skips between items is exactly what pest skips between tokens.
fn skip_trivia(src: &str, i: usize) -> usize {
    let rest = src.get(i..).unwrap_or("");
    let skipped = Grammar::parse(Rule::trivia, rest)
        .ok()
        .and_then(|mut pairs| pairs.next())
        .map_or(0, |pair| pair.as_span().end());
    i + skipped
}

/// Moves `end` back over trailing white space and comments: pest includes the
/// trivia it skipped before a failed optional part in a pair's span.
fn trim_trivia_end(src: &str, start: usize, mut end: usize) -> usize {
    let bytes = src.as_bytes();
    // Trivia that pest skipped ends in white space (a comment is followed by its line
    // break) or at the end of the text, so a span that ends in neither has none: most
    // spans end at a token.
    if end < bytes.len()
        && !bytes
            .get(end.wrapping_sub(1))
            .is_some_and(u8::is_ascii_whitespace)
    {
        return end;
    }
    loop {
        while end > start && bytes.get(end - 1).is_some_and(u8::is_ascii_whitespace) {
            end -= 1;
        }
        // A comment runs to the end of its line, so only a span that now ends at a
        // line break (or the end of the text) can end in one: most spans end mid-line.
        if end < bytes.len() && !super::pieces::line_break_at(bytes, end) {
            return end;
        }
        let line_start = src
            .get(start..end)
            .and_then(|s| s.rfind('\n'))
            .map_or(start, |i| start + i + 1);
        let mut in_string = false;
        let mut comment = None;
        let mut i = line_start;
        while i < end {
            match bytes.get(i) {
                Some(b'\\') if in_string => i += 1,
                Some(b'"') => in_string = !in_string,
                Some(b'#') if !in_string => {
                    comment = Some(i);
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        match comment {
            Some(c) if c < end => end = c,
            _ => return end,
        }
    }
}

/// The start of the next line (after `from`) whose first word is an item keyword.
fn next_item_start(src: &str, from: usize) -> usize {
    let mut i = from;
    loop {
        let Some(nl) = src.get(i..).and_then(|s| s.find('\n')) else {
            return src.len();
        };
        i += nl + 1;
        let line = src.get(i..).unwrap_or("");
        let trimmed = line.trim_start_matches([' ', '\t']);
        let word: String = trimmed
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if Keyword::starts_item_word(&word) {
            return i + (line.len() - trimmed.len());
        }
    }
}

/// Rejects nesting of `(` and `[` deeper than `max`, before pest (which recurses) sees it.
fn check_nesting(file: &SourceFile, max: usize) -> Option<Diagnostic> {
    // Nesting cannot go deeper than the number of opening brackets in the file, and
    // counting bytes is much cheaper than splitting the file into pieces.
    let opening = file
        .text()
        .bytes()
        .filter(|&b| b == b'(' || b == b'[')
        .count();
    if opening <= max {
        return None;
    }
    let mut depth = 0usize;
    for (piece, i, _) in super::pieces::pieces(file.text()) {
        match piece {
            Piece::Code(b'(' | b'[') => {
                depth += 1;
                if depth > max {
                    return Some(
                        SyntaxError::TooDeepBrackets { limit: max }
                            .into_diagnostic(file)
                            .label(Span::new(i, i + 1), "this one is too deep")
                            .help("split the condition into simpler parts, or raise the limit"),
                    );
                }
            }
            Piece::Code(b')' | b']') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    None
}

/// How an error's "expected …" list names what a grammar rule matches. A keyword's
/// token rule (`kw_when`), and a rule named after its keyword (`during`,
/// `policy_decl`), are named by the keyword itself ([`keyword_of`]); the others are
/// described here.
fn friendly(rule: &Rule) -> &'static str {
    match rule {
        Rule::lbrace => "`{`",
        Rule::rbrace => "`}`",
        Rule::string | Rule::inner => "a string in double quotes",
        Rule::string_list => "a list of strings like `[\"alice\", \"bob\"]`",
        Rule::ident | Rule::name => "a name",
        Rule::window_spec | Rule::weekly | Rule::days | Rule::day_item | Rule::day => {
            "days (`mon..fri`, `sat,sun`, `daily`) or a date (`2026-12-05 22:00`)"
        }
        Rule::once_range | Rule::once_for | Rule::datetime | Rule::date => {
            "a date and time like `2026-12-05 22:00`"
        }
        Rule::time_range | Rule::time_for | Rule::time => "a time like `22:00`",
        Rule::duration => "a duration like `6h`, `90m` or `1d12h`",
        Rule::zone => "a zone: `in \"Area/City\"` or `local`",
        Rule::outcome | Rule::deploy | Rule::approve | Rule::deny | Rule::break_glass => {
            "an outcome (`deploy`, `approve N from GROUP`, `deny \"reason\"`, `break glass`)"
        }
        Rule::expr
        | Rule::and_expr
        | Rule::not_expr
        | Rule::cmp_expr
        | Rule::operand
        | Rule::paren
        | Rule::list
        | Rule::has_call
        | Rule::quant
        | Rule::quantifier => "an expression",
        Rule::path | Rule::root => "a field path like `change.kind`",
        Rule::segment => "a field name",
        Rule::cmp_op => "an operator",
        Rule::not_op => Keyword::Not.quoted(),
        Rule::kw_count | Rule::kw_sum | Rule::agg_op => "`count` or `sum`",
        Rule::integer => "an integer",
        Rule::boolean => "`true` or `false`",
        Rule::keyword => "a keyword",
        Rule::schema_field => "a field like `ticket: string`",
        Rule::optional_mark => "`?`",
        Rule::colon => "`:`",
        Rule::type_expr | Rule::type_name | Rule::list_type => {
            "a type (`string`, `int`, `bool`, `object`, `any` or `list<TYPE>`)"
        }
        _ => keyword_of(rule).map_or("something else", Keyword::quoted),
    }
}

/// The keyword a grammar rule is named after: `kw_WORD`, `WORD_decl` or `WORD`
/// itself (pest names the `Rule` variants after the grammar's rules).
fn keyword_of(rule: &Rule) -> Option<Keyword> {
    let name = format!("{rule:?}");
    let word = name
        .strip_prefix("kw_")
        .or_else(|| name.strip_suffix("_decl"))
        .unwrap_or(&name);
    Keyword::from_word(word)
}

fn syntax_error(file: &SourceFile, base: usize, err: &pest::error::Error<Rule>) -> Diagnostic {
    let pos = base
        + match err.location {
            InputLocation::Pos(p) => p,
            InputLocation::Span((s, _)) => s,
        };
    let src = file.text();
    let found = token_at(src, pos);
    let mut expected: Vec<&'static str> = match &err.variant {
        ErrorVariant::ParsingError { positives, .. } => positives.iter().map(friendly).collect(),
        ErrorVariant::CustomError { .. } => Vec::new(),
    };
    expected.sort_unstable();
    expected.dedup();
    let expected = match expected.as_slice() {
        [] => "something else".to_owned(),
        [one] => (*one).to_owned(),
        [init @ .., last] => format!("{} or {}", init.join(", "), last),
    };
    let found_text = if found.is_empty() {
        "the end of the file".to_owned()
    } else {
        format!("`{found}`")
    };
    let at_item_start = skip_trivia(src, base) == pos;
    if found == "\"" && unterminated_string(src, pos) {
        let line_end = src
            .get(pos..)
            .and_then(|s| s.find('\n'))
            .map_or(src.len(), |i| pos + i);
        return SyntaxError::UnterminatedString
            .into_diagnostic(file)
            .label(Span::new(pos, line_end), "this string has no closing `\"`")
            .help("close the string with `\"` on the same line; write a line break as `\\n`");
    }
    let error = if at_item_start {
        SyntaxError::ExpectedItem { found: found_text }
    } else {
        SyntaxError::Unexpected {
            expected: expected.clone(),
            found: found_text,
        }
    };
    let mut d = error
        .into_diagnostic(file)
        .label(Span::new(pos, pos + found.len()), "unexpected here");
    let keyword = Keyword::from_word(found).is_some();
    let help = if keyword && expected.contains("a name") {
        format!("`{found}` is a keyword and cannot be used as a name; choose another name")
    } else if found == "=" && expected.contains("operator") {
        "compare with `==`".to_owned()
    } else if found == "&&" || found == "&" {
        "write `and`".to_owned()
    } else if found == "||" || found == "|" {
        "write `or`".to_owned()
    } else if found == "!" {
        "write `not`, or `!=` to compare".to_owned()
    } else if found == "'" || found.starts_with('\'') {
        "strings are written in double quotes".to_owned()
    } else if at_item_start {
        "every item starts with its keyword; check for a missing `}` or a stray word above"
            .to_owned()
    } else if Keyword::starts_item_word(found) {
        format!("`{found}` starts the next item, so the item above is unfinished: write {expected} before it")
    } else {
        format!("write {expected} here")
    };
    d = d.help(help);
    d
}

/// Whether the string literal opening at `pos` runs into the end of its line.
fn unterminated_string(src: &str, pos: usize) -> bool {
    let bytes = src.as_bytes();
    let mut i = pos + 1;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'\\' => i += 2,
            b'"' => return false,
            b'\n' => return true,
            _ => i += 1,
        }
    }
    true
}

/// The token at `pos`, for messages: a word, a number, or one character.
fn token_at(src: &str, pos: usize) -> &str {
    let rest = src.get(pos..).unwrap_or("");
    let word_len = rest
        .char_indices()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_' || *c == ':')
        .last()
        .map_or(0, |(i, c)| i + c.len_utf8());
    if word_len > 0 {
        return rest.get(..word_len.min(40)).unwrap_or("");
    }
    for op in ["==", "!=", "<=", ">=", "&&", "||", ".."] {
        if rest.starts_with(op) {
            return op;
        }
    }
    rest.chars()
        .next()
        .map_or("", |c| rest.get(..c.len_utf8()).unwrap_or(""))
}

struct Convert<'a> {
    file: &'a SourceFile,
    base: usize,
    diags: &'a mut Vec<Diagnostic>,
    limits: &'a Limits,
}

impl Convert<'_> {
    fn span(&self, pair: &Pair<'_, Rule>) -> Span {
        self.trimmed(pair.as_span())
    }

    /// A pest span in file offsets, without the trivia pest may include at its end.
    fn trimmed(&self, s: pest::Span<'_>) -> Span {
        let start = self.base + s.start();
        Span::new(
            start,
            trim_trivia_end(self.file.text(), start, self.base + s.end()),
        )
    }

    fn err(&mut self, error: SyntaxError, span: Span, label: &str, help: &str) {
        self.diags.push(
            error
                .into_diagnostic(self.file)
                .label(span, label)
                .help(help),
        );
    }

    fn item(&mut self, pair: Pair<'_, Rule>) -> Option<Item> {
        let span = self.span(&pair);
        let rule = pair.as_rule();
        let mut inner = pair.into_inner();
        match rule {
            Rule::policy_decl => {
                inner.next();
                Some(Item::Policy(self.string(inner.next()?)?, span))
            }
            Rule::schema_decl => self.schema(inner, span),
            Rule::import_decl => {
                inner.next();
                Some(Item::Import(self.string(inner.next()?)?, span))
            }
            Rule::group_decl => self.group(inner, span),
            Rule::window_decl => {
                inner.next();
                let name = self.ident(inner.next()?);
                let spec = self.window_spec(inner.next()?)?;
                Some(Item::Window(WindowDecl { name, spec, span }))
            }
            Rule::freeze_decl => {
                inner.next();
                let name = self.ident(inner.next()?);
                let spec = self.window_spec(inner.next()?)?;
                let when = match inner.next() {
                    Some(_kw) => Some(self.expr(inner.next()?, 0)?),
                    None => None,
                };
                Some(Item::Freeze(FreezeDecl {
                    name,
                    spec,
                    when,
                    span,
                }))
            }
            Rule::rule_decl => self.rule(inner, span),
            Rule::default_decl => {
                inner.next();
                Some(Item::Default(self.outcome(inner.next()?)?, span))
            }
            _ => None,
        }
    }

    /// `schema { FIELD?: TYPE, … }`, from the pairs after its keyword.
    fn schema(&mut self, inner: Pairs<'_, Rule>, span: Span) -> Option<Item> {
        let mut fields = Vec::new();
        for p in inner.filter(|p| p.as_rule() == Rule::schema_field) {
            fields.push(self.schema_field(p)?);
        }
        Some(Item::Schema(Schema { fields, span }))
    }

    fn schema_field(&mut self, pair: Pair<'_, Rule>) -> Option<SchemaField> {
        let span = self.span(&pair);
        let mut parts = pair.into_inner();
        let seg = parts.next()?.into_inner().next()?;
        let name = if seg.as_rule() == Rule::string {
            self.string(seg)?.value
        } else {
            seg.as_str().to_owned()
        };
        let mut next = parts.next()?;
        let optional = next.as_rule() == Rule::optional_mark;
        if optional {
            next = parts.next()?;
        }
        if next.as_rule() == Rule::colon {
            next = parts.next()?;
        }
        Some(SchemaField {
            name,
            optional,
            ty: field_type(next)?,
            span,
        })
    }

    /// Whether a list of `len` elements at `span` (a group's members, a list literal)
    /// is within `Limits::max_list_len`; reports it when it is not.
    fn list_fits(&mut self, len: usize, span: Span) -> bool {
        let limit = self.limits.max_list_len;
        if len > limit {
            self.err(
                SyntaxError::TooLongList { len, limit },
                span,
                "too long",
                "shorten it, or raise the limit",
            );
        }
        len <= limit
    }

    /// `group NAME = ["…", …]`, from the pairs from its keyword on.
    fn group(&mut self, mut inner: Pairs<'_, Rule>, span: Span) -> Option<Item> {
        inner.next();
        let name = self.ident(inner.next()?);
        let list = inner.next()?;
        let list_span = self.span(&list);
        let mut members = Vec::new();
        for p in list.into_inner() {
            members.push(self.string(p)?);
        }
        if !self.list_fits(members.len(), list_span) {
            return None;
        }
        Some(Item::Group(Group {
            name,
            members,
            span,
        }))
    }

    /// `rule "NAME" advisory? { when EXPR then OUTCOME }`, from the pairs from its
    /// keyword on.
    fn rule(&mut self, mut inner: Pairs<'_, Rule>, span: Span) -> Option<Item> {
        inner.next();
        let name = self.string(inner.next()?)?;
        let mut next = inner.next()?;
        let advisory = next.as_rule() == Rule::advisory;
        if advisory {
            next = inner.next()?;
        }
        debug_assert_eq!(next.as_rule(), Rule::lbrace);
        inner.next(); // when
        let when = self.expr(inner.next()?, 0)?;
        inner.next(); // then
        let then = self.outcome(inner.next()?)?;
        Some(Item::Rule(Rule_ {
            name,
            advisory,
            when,
            then,
            span,
        }))
    }

    fn ident(&self, pair: Pair<'_, Rule>) -> Ident {
        Ident {
            name: pair.as_str().to_owned(),
            span: self.span(&pair),
        }
    }

    fn string(&mut self, pair: Pair<'_, Rule>) -> Option<Str> {
        let span = self.span(&pair);
        let raw = pair.into_inner().next().map_or("", |p| p.as_str());
        if raw.len() > self.limits.max_string_len {
            self.err(
                SyntaxError::TooLongString {
                    len: raw.len(),
                    limit: self.limits.max_string_len,
                },
                span,
                "too long",
                "shorten it, or raise the limit",
            );
            return None;
        }
        let mut value = String::with_capacity(raw.len());
        let mut chars = raw.char_indices();
        while let Some((i, c)) = chars.next() {
            if c != '\\' {
                value.push(c);
                continue;
            }
            match chars.next() {
                Some((_, '"')) => value.push('"'),
                Some((_, '\\')) => value.push('\\'),
                Some((_, 'n')) => value.push('\n'),
                Some((_, 't')) => value.push('\t'),
                Some((_, 'r')) => value.push('\r'),
                other => {
                    let at = span.start + 1 + i;
                    let len = 1 + other.map_or(0, |(_, c)| c.len_utf8());
                    self.err(
                        SyntaxError::BadEscape {
                            escape: raw.get(i..i + len).unwrap_or("\\").to_owned(),
                        },
                        Span::new(at, at + len),
                        "not an escape",
                        "the escapes are `\\\"`, `\\\\`, `\\n`, `\\t` and `\\r`",
                    );
                    return None;
                }
            }
        }
        Some(Str { value, span })
    }

    fn window_spec(&mut self, pair: Pair<'_, Rule>) -> Option<WindowSpec> {
        let span = self.span(&pair);
        let mut inner = pair.into_inner();
        let shape_pair = inner.next()?;
        let zone_pair = inner.next()?;
        let shape = match shape_pair.as_rule() {
            Rule::once_range => {
                let mut p = shape_pair.into_inner();
                let start = self.datetime(p.next()?)?;
                let end = self.datetime(p.next()?)?;
                ShapeSpec::Once {
                    start,
                    end: OnceEndSpec::At(end),
                }
            }
            Rule::once_for => {
                let mut p = shape_pair.into_inner();
                let start = self.datetime(p.next()?)?;
                p.next(); // for
                let d = self.duration(p.next()?);
                ShapeSpec::Once {
                    start,
                    end: OnceEndSpec::For(d),
                }
            }
            _ => self.weekly(shape_pair)?,
        };
        let zone = {
            let zspan = self.span(&zone_pair);
            let mut z = zone_pair.into_inner();
            let first = z.next()?;
            match first.as_rule() {
                Rule::kw_local => ZoneSpec::Local(zspan),
                _ => ZoneSpec::Named(self.string(z.next()?)?),
            }
        };
        Some(WindowSpec { shape, zone, span })
    }

    /// `DAYS TIME-TIME` or `DAYS TIME for DURATION`.
    fn weekly(&mut self, pair: Pair<'_, Rule>) -> Option<ShapeSpec> {
        let mut p = pair.into_inner();
        let days = self.days(p.next()?)?;
        let t = p.next()?;
        let time = match t.as_rule() {
            Rule::time_range => {
                let mut tt = t.into_inner();
                let start = self.time(tt.next()?);
                let end = self.time(tt.next()?);
                TimeSpec::Range { start, end }
            }
            _ => {
                let mut tt = t.into_inner();
                let start = self.time(tt.next()?);
                tt.next(); // for
                let duration = self.duration(tt.next()?);
                TimeSpec::For { start, duration }
            }
        };
        Some(ShapeSpec::Weekly { days, time })
    }

    /// `daily`, or days and day ranges: `mon..fri`, `sat,sun`.
    fn days(&mut self, pair: Pair<'_, Rule>) -> Option<DaysSpec> {
        let span = self.span(&pair);
        let mut items = Vec::new();
        for d in pair.into_inner() {
            if d.as_rule() == Rule::kw_daily {
                return Some(DaysSpec::Daily(span));
            }
            let dspan = self.span(&d);
            let mut dd = d.into_inner();
            let from = weekday(dd.next()?.as_str())?;
            let to = match dd.next() {
                Some(t) => Some(weekday(t.as_str())?),
                None => None,
            };
            items.push(DayItem {
                from,
                to,
                span: dspan,
            });
        }
        Some(DaysSpec::List(items))
    }

    fn time(&self, pair: Pair<'_, Rule>) -> TimeLit {
        let span = self.span(&pair);
        let (h, m) = pair.as_str().split_once(':').unwrap_or(("99", "99"));
        TimeLit {
            hour: h.parse().unwrap_or(99),
            minute: m.parse().unwrap_or(99),
            span,
        }
    }

    fn datetime(&mut self, pair: Pair<'_, Rule>) -> Option<DateTimeLit> {
        let span = self.span(&pair);
        let mut p = pair.into_inner();
        let date = p.next()?;
        let time = self.time(p.next()?);
        let mut parts = date.as_str().split('-');
        let year = parts.next()?.parse().ok()?;
        let month = parts.next()?.parse().ok()?;
        let day = parts.next()?.parse().ok()?;
        Some(DateTimeLit {
            year,
            month,
            day,
            time,
            span,
        })
    }

    fn duration(&self, pair: Pair<'_, Rule>) -> DurationLit {
        let span = self.span(&pair);
        DurationLit {
            // The grammar only lets digits and `d`/`h`/`m` through, so only an
            // overflow fails; it reads as the longest duration, as it always has.
            seconds: crate::time::parse_duration_token(pair.as_str()).unwrap_or(i64::MAX),
            span,
        }
    }

    fn outcome(&mut self, pair: Pair<'_, Rule>) -> Option<Outcome> {
        let span = self.span(&pair);
        let mut items = Vec::new();
        for p in pair.into_inner() {
            let ispan = self.span(&p);
            let rule = p.as_rule();
            let mut inner = p.into_inner();
            let item = match rule {
                Rule::deploy => OutcomeItem::Deploy(ispan),
                Rule::approve => {
                    inner.next();
                    let n = inner.next()?;
                    let nspan = self.span(&n);
                    let count = match n.as_str().parse::<u64>() {
                        Ok(c) => c,
                        Err(_) => {
                            self.err(
                                SyntaxError::BadCount {
                                    text: n.as_str().to_owned(),
                                },
                                nspan,
                                "not a count",
                                "write a whole number from 1 up to the group's size",
                            );
                            return None;
                        }
                    };
                    inner.next();
                    let group = self.ident(inner.next()?);
                    OutcomeItem::Approve {
                        count,
                        group,
                        span: ispan,
                    }
                }
                Rule::deny => {
                    inner.next();
                    OutcomeItem::Deny(self.string(inner.next()?)?, ispan)
                }
                Rule::break_glass => OutcomeItem::BreakGlass(ispan),
                Rule::during => {
                    inner.next();
                    let names = inner.map(|i| self.ident(i)).collect();
                    OutcomeItem::During(names, ispan)
                }
                _ => continue,
            };
            items.push(item);
        }
        Some(Outcome { items, span })
    }

    fn too_deep(&mut self, span: Span) {
        self.err(
            SyntaxError::TooDeepExpression {
                limit: self.limits.max_depth,
            },
            span,
            "too deep",
            "split the condition into simpler parts, or raise the limit",
        );
    }

    fn expr(&mut self, pair: Pair<'_, Rule>, depth: usize) -> Option<Expr> {
        // Most layers of the precedence chain pass their one child through; only the
        // layers that become nodes need their span.
        let pest_span = pair.as_span();
        let span = |cx: &Self| cx.trimmed(pest_span);
        if depth > self.limits.max_depth {
            self.too_deep(span(self));
            return None;
        }
        match pair.as_rule() {
            Rule::expr | Rule::and_expr => {
                let is_or = pair.as_rule() == Rule::expr;
                let inner: Vec<_> = pair
                    .into_inner()
                    .filter(|p| !matches!(p.as_rule(), Rule::kw_or | Rule::kw_and))
                    .collect();
                // Only layers that become AST nodes count towards the depth.
                let child_depth = if inner.len() > 1 { depth + 1 } else { depth };
                let mut parts = Vec::with_capacity(inner.len());
                for p in inner {
                    parts.push(self.expr(p, child_depth)?);
                }
                if parts.len() == 1 {
                    return parts.pop();
                }
                let kind = if is_or {
                    ExprKind::Or(parts)
                } else {
                    ExprKind::And(parts)
                };
                Some(Expr {
                    kind,
                    span: span(self),
                })
            }
            Rule::not_expr => {
                let mut nots = Vec::new();
                let mut body = None;
                for p in pair.into_inner() {
                    if p.as_rule() == Rule::not_op {
                        nots.push(self.span(&p).start);
                    } else {
                        body = Some(p);
                    }
                }
                if depth + nots.len() > self.limits.max_depth {
                    self.too_deep(span(self));
                    return None;
                }
                let mut e = self.expr(body?, depth + nots.len())?;
                for start in nots.into_iter().rev() {
                    e = Expr {
                        span: Span::new(start, e.span.end),
                        kind: ExprKind::Not(Box::new(e)),
                    };
                }
                Some(e)
            }
            Rule::cmp_expr => {
                let mut inner = pair.into_inner();
                let first = inner.next()?;
                if first.as_rule() == Rule::quant {
                    let mut q = first.into_inner();
                    let quant = match q.next()?.into_inner().next()?.as_rule() {
                        Rule::kw_any => Quantifier::Any,
                        _ => Quantifier::All,
                    };
                    let list = self.expr(q.next()?, depth + 1)?;
                    let op = cmp_op(q.next()?.as_str());
                    let rhs = self.expr(q.next()?, depth + 1)?;
                    return Some(Expr {
                        kind: ExprKind::Quant(quant, Box::new(list), op, Box::new(rhs)),
                        span: span(self),
                    });
                }
                let Some(op) = inner.next() else {
                    return self.expr(first, depth);
                };
                let lhs = self.expr(first, depth + 1)?;
                match Some(op) {
                    None => Some(lhs),
                    Some(op) => {
                        let op = cmp_op(op.as_str());
                        let rhs = self.expr(inner.next()?, depth + 1)?;
                        Some(Expr {
                            kind: ExprKind::Compare(op, Box::new(lhs), Box::new(rhs)),
                            span: span(self),
                        })
                    }
                }
            }
            Rule::operand => {
                let mut aggs = Vec::new();
                let mut body = None;
                for p in pair.into_inner() {
                    if p.as_rule() == Rule::agg_op {
                        let is_count = p.as_str().starts_with('c');
                        aggs.push((self.span(&p).start, is_count));
                    } else {
                        body = Some(p);
                    }
                }
                if depth + aggs.len() > self.limits.max_depth {
                    self.too_deep(span(self));
                    return None;
                }
                let e = self.expr(body?, depth + aggs.len())?;
                Some(wrap_aggregates(aggs, e))
            }
            Rule::paren => {
                let inner = self.expr(pair.into_inner().next()?, depth + 1)?;
                Some(Expr {
                    kind: ExprKind::Paren(Box::new(inner)),
                    span: span(self),
                })
            }
            Rule::has_call => {
                let mut inner = pair.into_inner();
                inner.next();
                let path = self.path(inner.next()?)?;
                Some(Expr {
                    kind: ExprKind::Has(path),
                    span: span(self),
                })
            }
            Rule::path => {
                let path = self.path(pair)?;
                Some(Expr {
                    kind: ExprKind::Path(path),
                    span: span(self),
                })
            }
            Rule::list => {
                let mut items = Vec::new();
                for p in pair.into_inner() {
                    items.push(self.lit(p)?);
                }
                if !self.list_fits(items.len(), span(self)) {
                    return None;
                }
                Some(Expr {
                    kind: ExprKind::List(items),
                    span: span(self),
                })
            }
            Rule::string | Rule::integer | Rule::boolean => Some(Expr {
                kind: ExprKind::Lit(self.lit(pair)?),
                span: span(self),
            }),
            _ => None,
        }
    }

    fn lit(&mut self, pair: Pair<'_, Rule>) -> Option<Lit> {
        let span = self.span(&pair);
        match pair.as_rule() {
            Rule::string => Some(Lit::Str(self.string(pair)?.value)),
            Rule::boolean => Some(Lit::Bool(pair.as_str() == "true")),
            Rule::integer => match pair.as_str().parse::<i64>() {
                Ok(i) => Some(Lit::Int(i)),
                Err(_) => {
                    self.err(
                        SyntaxError::BadInteger {
                            text: pair.as_str().to_owned(),
                        },
                        span,
                        "too large",
                        "integers range from -9223372036854775808 to 9223372036854775807",
                    );
                    None
                }
            },
            _ => None,
        }
    }

    fn path(&mut self, pair: Pair<'_, Rule>) -> Option<Path> {
        let mut inner = pair.into_inner();
        let root = match inner.next()?.as_str() {
            "change" => Root::Change,
            "blast" => Root::Blast,
            _ => Root::Targets,
        };
        let mut fields = Vec::new();
        for seg in inner {
            let p = seg.into_inner().next()?;
            if p.as_rule() == Rule::string {
                fields.push(self.string(p)?.value);
            } else {
                fields.push(p.as_str().to_owned());
            }
        }
        Some(Path { root, fields })
    }
}

/// Wraps `e` in the `count`/`sum` operators before it, given as `(start, is_count)`
/// in source order: the last one applies first.
fn wrap_aggregates(aggs: Vec<(usize, bool)>, mut e: Expr) -> Expr {
    for (start, is_count) in aggs.into_iter().rev() {
        let inner = Box::new(e);
        let span = Span::new(start, inner.span.end);
        e = Expr {
            kind: if is_count {
                ExprKind::Count(inner)
            } else {
                ExprKind::Sum(inner)
            },
            span,
        };
    }
    e
}

// `Rule` is both pest's enum and our AST type; the AST one is re-exported under this name.
use super::ast::Rule as Rule_;

fn field_type(pair: Pair<'_, Rule>) -> Option<FieldType> {
    let inner = pair.into_inner().next()?;
    match inner.as_rule() {
        Rule::list_type => Some(FieldType::List(Box::new(field_type(
            inner.into_inner().next()?,
        )?))),
        _ => Some(match inner.as_str() {
            "string" => FieldType::Str,
            "int" => FieldType::Int,
            "bool" => FieldType::Bool,
            "object" => FieldType::Object,
            _ => FieldType::Any,
        }),
    }
}

fn weekday(s: &str) -> Option<Weekday> {
    Weekday::ALL.into_iter().find(|d| d.keyword() == s)
}

fn cmp_op(s: &str) -> CmpOp {
    match s {
        "==" => CmpOp::Eq,
        "!=" => CmpOp::Ne,
        "<" => CmpOp::Lt,
        "<=" => CmpOp::Le,
        ">" => CmpOp::Gt,
        ">=" => CmpOp::Ge,
        "in" => CmpOp::In,
        _ => CmpOp::Match,
    }
}
