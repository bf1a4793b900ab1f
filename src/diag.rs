//! Diagnostics: what is wrong with a policy, where, and how to fix it.
//!
//! Every stage reports [`Diagnostic`]s, each with a stable code
//! (`changegate::unknown_group`), a lowercase message, labelled spans and a `help`
//! line. They render through miette (human) or as JSON objects (machines).

use std::fmt;
use std::sync::Arc;

use miette::{LabeledSpan, MietteError, MietteSpanContents, SourceSpan, SpanContents};
use serde::Serialize;

pub use crate::syntax::ast::Span;

/// A source file: its name as the user gave it and its text.
///
/// The text is held normalized (see `syntax::text`): no leading byte-order mark and
/// every line terminator (CR, CRLF, NEL, U+2028, U+2029, VT, FF) as `\n`, so line
/// numbers are the lines an editor shows and every lexer sees one kind of line break.
#[derive(Debug, Clone)]
pub struct SourceFile {
    name: Arc<str>,
    text: Arc<str>,
    /// The text as given, when normalizing changed it (for the policy digest).
    original: Option<Arc<str>>,
    /// Byte offset of each line's start, for `line_col` in O(log n).
    line_starts: Arc<[usize]>,
    /// Whether every line ends in `\n` alone (no `\r` anywhere), so that
    /// `line_starts` numbers lines as miette does.
    lf_only: bool,
    /// The text as diagnostics quote it, when it holds characters that could control
    /// a terminal ([`crate::terminal::shown`]: same byte offsets).
    shown: Option<Arc<str>>,
}

impl SourceFile {
    /// A source named `name` (usually its path) with `text`.
    pub fn new(name: &str, original: &str) -> SourceFile {
        let normalized = crate::syntax::text::normalize(original);
        let changed = matches!(normalized, std::borrow::Cow::Owned(_));
        let text: &str = &normalized;
        let line_starts = crate::line_index::line_starts(text);
        let lf_only = !text.contains('\r');
        SourceFile {
            name: Arc::from(name),
            text: Arc::from(text),
            original: changed.then(|| Arc::from(original)),
            line_starts,
            lf_only,
            shown: crate::terminal::shown(text).map(Arc::from),
        }
    }

    /// The file's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The file's text, normalized (see [`SourceFile`]).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The file's text exactly as given (what `policy.sha256` covers).
    pub fn original(&self) -> &str {
        self.original.as_deref().unwrap_or(&self.text)
    }

    /// One-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        crate::line_index::line_col_at(&self.text, &self.line_starts, offset)
    }

    /// `file:line:col` of a byte offset.
    pub fn location(&self, offset: usize) -> String {
        let (line, col) = self.line_col(offset);
        format!("{}:{}:{}", self.name, line, col)
    }
}

/// miette's own reading of a span scans the text from its start to the span, which
/// costs the whole file for every label of every diagnostic. This starts the same
/// scan a line above the first context line instead (the result is the same: the
/// scan keeps only the lines just before the span), then puts the offsets and line
/// numbers back in the whole file's terms.
impl miette::SourceCode for SourceFile {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        // Quoted as shown: a control or bidi character in the file never reaches
        // the terminal (same byte offsets, so the spans stay right).
        let text: &str = self.shown.as_deref().unwrap_or(&self.text);
        let bytes = text.as_bytes();
        let base_line = if self.lf_only {
            // Zero-based line of the span's start, less the context lines above it
            // and one more (miette looks at the line end just before an empty span).
            let line = self.line_starts.partition_point(|&s| s <= span.offset());
            line.saturating_sub(1)
                .saturating_sub(context_lines_before)
                .saturating_sub(1)
        } else {
            0
        };
        let base = self.line_starts.get(base_line).copied().unwrap_or(0);
        let base = if base <= span.offset() { base } else { 0 };
        let base_line = if base == 0 { 0 } else { base_line };
        // Long lines are quoted only around the span (see `excerpt_bounds`).
        let (from, to, len) = excerpt_bounds(
            text,
            span.offset(),
            span.len(),
            (context_lines_before, context_lines_after),
        );
        // Only when the byte budget, not the line count, cut the window.
        let long_line = |from: usize| {
            !self
                .text
                .as_bytes()
                .get(from..(from + EXCERPT_BYTES).min(bytes.len()))
                .is_some_and(|b| b.contains(&b'\n'))
        };
        let cut = (span.len() > EXCERPT_BYTES && long_line(span.offset()))
            || (from > base && !matches!(text.as_bytes().get(from.wrapping_sub(1)), Some(b'\n')))
            || (to < bytes.len() && !matches!(text.as_bytes().get(to), Some(b'\n')));
        if cut {
            let text = text.get(from..to).unwrap_or("");
            let (line, column) = self.line_col(from);
            let contents = read_window(
                &self.name,
                text,
                (from, line - 1, column - 1),
                &SourceSpan::new(span.offset().into(), len),
                context_lines_before,
                context_lines_after,
            )?;
            return Ok(Box::new(contents));
        }
        let within = SourceSpan::new((span.offset() - base).into(), span.len());
        let inner = bytes.get(base..).unwrap_or_default().read_span(
            &within,
            context_lines_before,
            context_lines_after,
        )?;
        let found = inner.span();
        let contents = MietteSpanContents::new_named(
            self.name.to_string(),
            inner.data(),
            SourceSpan::new((found.offset() + base).into(), found.len()),
            inner.line() + base_line,
            inner.column(),
            inner.line_count() + base_line,
        )
        .with_language("changegate");
        Ok(Box::new(contents))
    }
}

/// At most this many bytes are quoted on each side of a diagnostic's span, and of
/// the span itself: a document or policy of one long line is quoted in part, never
/// whole.
pub(crate) const EXCERPT_BYTES: usize = 240;

/// The part of `text` a diagnostic at `offset` (`len` bytes) quotes: `(from, to,
/// len)`, with `len` cut to [`EXCERPT_BYTES`]. Whole lines when they are short.
pub(crate) fn excerpt_bounds(
    text: &str,
    offset: usize,
    len: usize,
    (before, after): (usize, usize),
) -> (usize, usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let len = len.min(EXCERPT_BYTES).min(text.len() - offset);
    let end = ceil_char_boundary(text, offset + len);
    let bytes = text.as_bytes();
    // Up to a few lines back and on, within the byte budget each side.
    let lo = offset.saturating_sub(EXCERPT_BYTES);
    let mut from = offset;
    let mut lines = 0;
    while from > lo {
        if bytes.get(from - 1) == Some(&b'\n') {
            lines += 1;
            if lines > before + 1 {
                break;
            }
        }
        from -= 1;
    }
    let from = if from == lo && lo > 0 {
        ceil_char_boundary(text, lo)
    } else {
        from
    };
    let hi = (end + EXCERPT_BYTES).min(text.len());
    let mut to = end;
    let mut lines = 0;
    while to < hi {
        if bytes.get(to) == Some(&b'\n') {
            lines += 1;
            if lines > after + 1 {
                break;
            }
        }
        to += 1;
    }
    let to = floor_char_boundary(text, to);
    (from, to, end - offset)
}

/// A part of a text, quoted with the whole text's offsets and line numbers.
#[derive(Debug, Clone)]
pub(crate) struct Excerpt {
    name: String,
    text: String,
    /// Byte offset of `text` in the whole text.
    offset: usize,
    /// Zero-based line and column of `text`'s start in the whole text.
    line: usize,
    column: usize,
}

impl Excerpt {
    /// The name of the quoted text.
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// `whole[from..to]`, named `name`.
    pub(crate) fn new(name: &str, whole: &str, from: usize, to: usize) -> Excerpt {
        let before = whole.get(..from).unwrap_or("");
        let line = before.bytes().filter(|&b| b == b'\n').count();
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count());
        Excerpt {
            name: name.to_owned(),
            // Quoted as shown: no control or bidi character reaches the terminal.
            text: {
                let text = whole.get(from..to).unwrap_or("");
                crate::terminal::shown(text).unwrap_or_else(|| text.to_owned())
            },
            offset: from,
            line,
            column,
        }
    }

    /// The excerpt around `offset` (`len` bytes) of `whole`, and the span cut to it.
    pub(crate) fn around(
        name: &str,
        whole: &str,
        offset: usize,
        len: usize,
    ) -> (Excerpt, SourceSpan) {
        let (from, to, len) = excerpt_bounds(whole, offset, len, (3, 3));
        let offset = floor_char_boundary(whole, offset.min(whole.len()));
        (
            Excerpt::new(name, whole, from, to),
            SourceSpan::new(offset.into(), len),
        )
    }
}

impl miette::SourceCode for Excerpt {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        context_lines_before: usize,
        context_lines_after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let contents = read_window(
            &self.name,
            &self.text,
            (self.offset, self.line, self.column),
            span,
            context_lines_before,
            context_lines_after,
        )?;
        Ok(Box::new(contents))
    }
}

/// miette's reading of `span` (whole-text offsets) in `window`, a part of a text
/// that starts at `(offset, line, column)` (zero-based) of the whole; the result is
/// in the whole text's terms.
fn read_window<'a>(
    name: &str,
    window: &'a str,
    (offset, line, column): (usize, usize, usize),
    span: &SourceSpan,
    before: usize,
    after: usize,
) -> Result<MietteSpanContents<'a>, MietteError> {
    let start = span.offset().saturating_sub(offset).min(window.len());
    let len = span.len().min(window.len() - start);
    let inner = miette::SourceCode::read_span(
        window.as_bytes(),
        &SourceSpan::new(start.into(), len),
        before,
        after,
    )?;
    let found = inner.span();
    let col = if inner.line() == 0 {
        inner.column() + column
    } else {
        inner.column()
    };
    Ok(MietteSpanContents::new_named(
        name.to_owned(),
        inner.data(),
        SourceSpan::new((found.offset() + offset).into(), found.len()),
        inner.line() + line,
        col,
        inner.line_count() + line,
    )
    .with_language("changegate"))
}

fn ceil_char_boundary(s: &str, mut i: usize) -> usize {
    while i < s.len() && !s.is_char_boundary(i) {
        i += 1;
    }
    i.min(s.len())
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The policy is rejected.
    Error,
    /// The policy works but something is likely wrong (an error with `--deny-warnings`).
    Warning,
}

/// A label on a span of the diagnostic's file.
#[derive(Debug, Clone)]
pub struct Label {
    /// What is labelled.
    pub span: Span,
    /// What to say there.
    pub text: Option<String>,
}

/// One problem found in a policy.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    /// Stable code, such as `changegate::unknown_group`.
    pub code: &'static str,
    /// Error or warning.
    pub severity: Severity,
    /// What is wrong: lowercase, no final period, user input in backticks.
    pub message: String,
    /// How to fix it.
    pub help: Option<String>,
    /// The file it is about.
    pub file: SourceFile,
    /// Labelled spans in that file; the first is the primary one.
    pub labels: Vec<Label>,
    /// Further diagnostics, e.g. the other definition of a duplicate in another file.
    pub related: Vec<Diagnostic>,
    /// The limit reached, for a limit error: a front end names its own setting for
    /// it. The library's help for a limit error names no setting and ends in "raise
    /// the limit", so that a front end can add how (the command line appends
    /// "with `--max-depth`" and the like); a library user has the [`Limits`] field
    /// from [`Limit::field`].
    ///
    /// [`Limits`]: crate::Limits
    /// [`Limit::field`]: crate::limits::Limit::field
    pub limit: Option<crate::limits::Limit>,
}

impl Diagnostic {
    /// An error with `code` and `message` in `file`.
    pub fn error(code: &'static str, file: &SourceFile, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: Severity::Error,
            message: message.into(),
            help: None,
            file: file.clone(),
            labels: Vec::new(),
            related: Vec::new(),
            limit: None,
        }
    }

    /// Adds a labelled span.
    pub fn label(mut self, span: Span, text: impl Into<String>) -> Diagnostic {
        self.labels.push(Label {
            span,
            text: Some(text.into()),
        });
        self
    }

    /// Adds a help line.
    pub fn help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Notes the limit this diagnostic reports reaching.
    pub fn with_limit(mut self, limit: crate::limits::Limit) -> Diagnostic {
        self.limit = Some(limit);
        self
    }

    /// Adds a related diagnostic.
    pub fn with_related(mut self, related: Diagnostic) -> Diagnostic {
        self.related.push(related);
        self
    }

    /// Whether this is an error (not a warning).
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// The primary span's offset, if any.
    pub fn offset(&self) -> Option<usize> {
        self.labels.first().map(|l| l.span.start)
    }

    /// The primary position, one-based `(line, column)`; `(1, 1)` without a span.
    pub fn line_col(&self) -> (usize, usize) {
        self.offset().map_or((1, 1), |o| self.file.line_col(o))
    }

    /// The machine-readable form used by `--error-format json`.
    pub fn to_json(&self) -> DiagnosticJson {
        let (line, column) = self.line_col();
        DiagnosticJson {
            code: self.code,
            severity: self.severity,
            file: self.file.name().to_owned(),
            line,
            column,
            message: self.message.clone(),
            help: self.help.clone(),
            related: self.related.iter().map(Diagnostic::to_json).collect(),
        }
    }
}

/// A stage's typed diagnostics as the crate's [`Diagnostic`]: implemented by each
/// stage's enum (`thiserror::Error` + `miette::Diagnostic`, one variant per code, the
/// code on the variant), which names every code it has in [`ToDiagnostic::CODES`].
/// The code, severity, message (`#[error]`), help and labels (in field order, the
/// first one primary) all come from the enum's derives, so rendering and JSON are
/// exactly those of a hand-built [`Diagnostic`].
pub(crate) trait ToDiagnostic: miette::Diagnostic + Sized {
    /// Every code this type's variants carry, each once.
    const CODES: &'static [&'static str];

    /// The limit this diagnostic reports reaching, if any ([`Diagnostic::limit`]).
    fn limit(&self) -> Option<crate::limits::Limit> {
        None
    }

    /// This diagnostic, about `file`.
    fn to_diagnostic(&self, file: &SourceFile) -> Diagnostic {
        let code = miette::Diagnostic::code(self).map(|c| c.to_string());
        // A code is `&'static str` in [`Diagnostic`]: take it from `CODES` (a
        // variant's code missing there fails the stage's own test).
        let code = Self::CODES
            .iter()
            .copied()
            .find(|c| code.as_deref() == Some(*c))
            .unwrap_or("changegate::internal");
        let severity = match miette::Diagnostic::severity(self) {
            Some(miette::Severity::Warning | miette::Severity::Advice) => Severity::Warning,
            _ => Severity::Error,
        };
        let labels = miette::Diagnostic::labels(self)
            .map(|ls| {
                ls.map(|l| Label {
                    span: Span::new(l.offset(), l.offset() + l.len()),
                    text: l.label().map(str::to_owned),
                })
                .collect()
            })
            .unwrap_or_default();
        Diagnostic {
            code,
            severity,
            message: self.to_string(),
            help: miette::Diagnostic::help(self).map(|h| h.to_string()),
            file: file.clone(),
            labels,
            related: Vec::new(),
            limit: self.limit(),
        }
    }
}

/// A diagnostic as one JSON object.
#[derive(Debug, Clone, Serialize)]
pub struct DiagnosticJson {
    /// Stable code.
    pub code: &'static str,
    /// `error` or `warning`.
    pub severity: Severity,
    /// The file's name.
    pub file: String,
    /// One-based line.
    pub line: usize,
    /// One-based column.
    pub column: usize,
    /// The message.
    pub message: String,
    /// The advice, if any.
    pub help: Option<String>,
    /// Related diagnostics (e.g. the other definition).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<DiagnosticJson>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display + 'a>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.file)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            return None;
        }
        Some(Box::new(self.labels.iter().enumerate().map(|(i, l)| {
            let span: SourceSpan = l.span.into();
            if i == 0 {
                LabeledSpan::new_primary_with_span(l.text.clone(), span)
            } else {
                LabeledSpan::new_with_span(l.text.clone(), span)
            }
        })))
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            return None;
        }
        Some(Box::new(
            self.related.iter().map(|d| d as &dyn miette::Diagnostic),
        ))
    }
}

/// All the problems found in a policy, errors and warnings, in source order.
#[derive(Debug, Clone, Default)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Whether any is an error.
    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    /// The diagnostics.
    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// How many.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Renders every diagnostic as miette's report, without colour (feature `fancy`,
    /// which `cli` brings).
    #[cfg(feature = "fancy")]
    pub fn render_plain(&self) -> String {
        let handler =
            miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
                .with_width(100);
        let mut out = String::new();
        for d in &self.0 {
            // Rendering into a String cannot fail.
            let _ = handler.render_report(&mut out, d);
        }
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let errors = self.0.iter().filter(|d| d.is_error()).count();
        match self.0.iter().find(|d| d.is_error()) {
            Some(first) if errors == 1 => write!(f, "{}: {}", first.file.name(), first.message),
            Some(first) => write!(
                f,
                "{}: {} (and {} more errors)",
                first.file.name(),
                first.message,
                errors - 1
            ),
            None => write!(f, "{} warnings", self.0.len()),
        }
    }
}

impl std::error::Error for Diagnostics {}

impl miette::Diagnostic for Diagnostics {
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        Some(Box::new(
            self.0.iter().map(|d| d as &dyn miette::Diagnostic),
        ))
    }
}

/// Suggests the closest candidate to `name`, for "did you mean" help.
pub fn did_you_mean<'a>(
    name: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(name, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod read_span_tests {
    use super::SourceFile;
    use miette::{SourceCode, SourceSpan};

    /// Reading a span from a `SourceFile` gives what miette's reading of the whole
    /// text gives, for every span of a few texts and every amount of context.
    #[test]
    fn matches_miettes_own_reading() {
        let long: String = (0..40)
            .map(|i| format!("line {i}\n{}", "\n".repeat(i % 3)))
            .collect();
        let texts = [
            "policy \"p\"\n\nrule \"a\" {\n  when change.kind == \"x\"\n  then deploy\n}\n",
            "one line, no newline",
            "\n\n\nx\n\n",
            "a\r\nb\r\nc\rd\n",
            "é ü\nzwei\ndrei",
            long.as_str(),
        ];
        let mut compared = 0;
        for text in texts {
            let file = SourceFile::new("t.gate", text);
            // The file holds the normalized text (`\r\n` and `\r` as `\n`).
            let text = file.text();
            for start in 0..=text.len() {
                for len in [0, 1, 2, 7, 30] {
                    let span = SourceSpan::new(start.into(), len);
                    for (before, after) in [(0, 0), (1, 1), (2, 3), (5, 0)] {
                        let ours = file.read_span(&span, before, after);
                        let theirs = text.as_bytes().read_span(&span, before, after);
                        match (ours, theirs) {
                            (Ok(a), Ok(b)) => {
                                assert_eq!(
                                    a.data(),
                                    b.data(),
                                    "{text:?} {span:?} {before} {after}"
                                );
                                assert_eq!(
                                    a.span(),
                                    b.span(),
                                    "{text:?} {span:?} {before} {after}"
                                );
                                assert_eq!(
                                    a.line(),
                                    b.line(),
                                    "{text:?} {span:?} {before} {after}"
                                );
                                assert_eq!(a.column(), b.column(), "{text:?} {span:?}");
                                assert_eq!(a.line_count(), b.line_count(), "{text:?} {span:?}");
                                assert_eq!(a.name(), Some("t.gate"));
                                compared += 1;
                            }
                            (Err(_), Err(_)) => {}
                            (a, b) => {
                                panic!("{text:?} {span:?}: {:?} vs {:?}", a.is_ok(), b.is_ok())
                            }
                        }
                    }
                }
            }
        }
        assert!(compared > 500, "{compared}");
    }
}
