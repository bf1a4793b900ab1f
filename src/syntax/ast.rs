//! The abstract syntax tree of one policy file.
//!
//! Every node carries a [`Span`] into its file's source; spans are ignored by
//! equality, so two trees parsed from differently formatted sources compare equal
//! when they mean the same thing.

use std::fmt;

/// A byte range in a source file.
///
/// Two spans always compare equal, whatever bytes they cover, so that the syntax
/// trees holding them compare by meaning; compare `start` and `end` to compare places
/// (a [`crate::diag::Label`]'s, say).
#[derive(Clone, Copy, Default)]
pub struct Span {
    /// First byte.
    pub start: usize,
    /// One past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Span {
        Span { start, end }
    }

    /// The span's length in bytes.
    pub fn len(&self) -> usize {
        self.end.saturating_sub(self.start)
    }

    /// Whether the span covers no byte.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl PartialEq for Span {
    fn eq(&self, _: &Span) -> bool {
        true
    }
}

impl Eq for Span {}

impl fmt::Debug for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}..{}", self.start, self.end)
    }
}

impl From<Span> for miette::SourceSpan {
    fn from(s: Span) -> miette::SourceSpan {
        (s.start, s.len()).into()
    }
}

/// A parsed policy file: its items in source order.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct File {
    /// The top-level items.
    pub(crate) items: Vec<Item>,
}

/// A name declared or referenced in a policy (`netops`, `weeknights`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Ident {
    /// The name.
    pub(crate) name: String,
    /// Where it is written.
    pub(crate) span: Span,
}

/// A string literal, unescaped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Str {
    /// The string's value.
    pub(crate) value: String,
    /// Where it is written, quotes included.
    pub(crate) span: Span,
}

/// A top-level item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    /// `policy "name"`
    Policy(Str, Span),
    /// `import "path.gate"`
    Import(Str, Span),
    /// `schema { kind: string, … }`
    Schema(Schema),
    /// `group name = ["a", "b"]`
    Group(Group),
    /// `window name = …`
    Window(WindowDecl),
    /// `freeze name = … [when …]`
    Freeze(FreezeDecl),
    /// `rule "name" [advisory] { when … then … }`
    Rule(Rule),
    /// `default …`
    Default(Outcome, Span),
}

impl Item {
    /// The item's whole span.
    pub(crate) fn span(&self) -> Span {
        match self {
            Item::Policy(_, s) | Item::Import(_, s) | Item::Default(_, s) => *s,
            Item::Group(g) => g.span,
            Item::Schema(s) => s.span,
            Item::Window(w) => w.span,
            Item::Freeze(f) => f.span,
            Item::Rule(r) => r.span,
        }
    }
}

/// `schema { kind: string, risk: int, labels: list<string>, ticket?: string }`
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Schema {
    /// The declared fields, in order.
    pub(crate) fields: Vec<SchemaField>,
    /// The whole declaration.
    pub(crate) span: Span,
}

/// One field of a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SchemaField {
    /// The field's name.
    pub(crate) name: String,
    /// Whether it may be missing (`ticket?: string`).
    pub(crate) optional: bool,
    /// Its type.
    pub(crate) ty: FieldType,
    /// Where it is declared.
    pub(crate) span: Span,
}

/// A field's type in a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FieldType {
    /// `string`
    Str,
    /// `int`
    Int,
    /// `bool`
    Bool,
    /// `object`: any fields inside
    Object,
    /// `any`: not checked
    Any,
    /// `list<T>`
    List(Box<FieldType>),
}

impl std::fmt::Display for FieldType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FieldType::Str => f.write_str("string"),
            FieldType::Int => f.write_str("int"),
            FieldType::Bool => f.write_str("bool"),
            FieldType::Object => f.write_str("object"),
            FieldType::Any => f.write_str("any"),
            FieldType::List(t) => write!(f, "list<{t}>"),
        }
    }
}

/// `group netops = ["alice", "bob"]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Group {
    /// The group's name.
    pub(crate) name: Ident,
    /// Its members, as written.
    pub(crate) members: Vec<Str>,
    /// The whole declaration.
    pub(crate) span: Span,
}

/// `window weeknights = mon..thu 22:00-04:00 in "America/New_York"`
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WindowDecl {
    /// The window's name.
    pub(crate) name: Ident,
    /// When it is open.
    pub(crate) spec: WindowSpec,
    /// The whole declaration.
    pub(crate) span: Span,
}

/// `freeze year_end = … [when <condition>]`
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FreezeDecl {
    /// The freeze's name.
    pub(crate) name: Ident,
    /// When it is active.
    pub(crate) spec: WindowSpec,
    /// Which changes it applies to (all when absent).
    pub(crate) when: Option<Expr>,
    /// The whole declaration.
    pub(crate) span: Span,
}

/// When a window is open or a freeze active, and in which zone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct WindowSpec {
    /// The recurrence or the one-time range.
    pub(crate) shape: ShapeSpec,
    /// The zone its wall-clock times are in.
    pub(crate) zone: ZoneSpec,
    /// The whole specification.
    pub(crate) span: Span,
}

/// The time part of a window specification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ShapeSpec {
    /// `mon..thu 22:00-04:00`, `daily 02:00 for 3h`
    Weekly {
        /// The days on which it starts.
        days: DaysSpec,
        /// Its start and end (or duration).
        time: TimeSpec,
    },
    /// `2026-12-05 22:00 .. 2026-12-06 06:00` or `2026-12-05 22:00 for 8h`
    Once {
        /// When it starts.
        start: DateTimeLit,
        /// When it ends.
        end: OnceEndSpec,
    },
}

/// The days a weekly window starts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DaysSpec {
    /// `daily`
    Daily(Span),
    /// `mon..thu`, `mon,wed,fri`, `mon..wed,sat`
    List(Vec<DayItem>),
}

/// A day or a range of days (`fri..mon` wraps over the weekend).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DayItem {
    /// The first day.
    pub(crate) from: Weekday,
    /// The last day of a range.
    pub(crate) to: Option<Weekday>,
    /// Where it is written.
    pub(crate) span: Span,
}

/// A day of the week, Monday first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Weekday {
    /// `mon`
    Mon,
    /// `tue`
    Tue,
    /// `wed`
    Wed,
    /// `thu`
    Thu,
    /// `fri`
    Fri,
    /// `sat`
    Sat,
    /// `sun`
    Sun,
}

impl Weekday {
    /// All days, Monday first.
    pub(crate) const ALL: [Weekday; 7] = [
        Weekday::Mon,
        Weekday::Tue,
        Weekday::Wed,
        Weekday::Thu,
        Weekday::Fri,
        Weekday::Sat,
        Weekday::Sun,
    ];

    /// The keyword (`mon`).
    pub(crate) fn keyword(self) -> &'static str {
        match self {
            Weekday::Mon => "mon",
            Weekday::Tue => "tue",
            Weekday::Wed => "wed",
            Weekday::Thu => "thu",
            Weekday::Fri => "fri",
            Weekday::Sat => "sat",
            Weekday::Sun => "sun",
        }
    }
}

/// A weekly window's times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TimeSpec {
    /// `22:00-04:00`: an end not after the start crosses midnight.
    Range {
        /// Opens at.
        start: TimeLit,
        /// Closes at.
        end: TimeLit,
    },
    /// `23:00 for 6h`: elapsed time from the start.
    For {
        /// Opens at.
        start: TimeLit,
        /// For how long.
        duration: DurationLit,
    },
}

/// The end of a one-time window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OnceEndSpec {
    /// `.. 2026-12-06 06:00`
    At(DateTimeLit),
    /// `for 8h`
    For(DurationLit),
}

/// A wall-clock time as written (`22:00`); validated by the checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TimeLit {
    /// Hour as written.
    pub(crate) hour: u32,
    /// Minute as written.
    pub(crate) minute: u32,
    /// Where it is written.
    pub(crate) span: Span,
}

/// A calendar date and wall-clock time as written; validated by the checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DateTimeLit {
    /// Year.
    pub(crate) year: i32,
    /// Month, as written.
    pub(crate) month: u32,
    /// Day of month, as written.
    pub(crate) day: u32,
    /// The time of day.
    pub(crate) time: TimeLit,
    /// Where it is written.
    pub(crate) span: Span,
}

/// A duration such as `6h`, `90m` or `1d12h`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct DurationLit {
    /// Its length in seconds (saturating; the checker rejects absurd values).
    pub(crate) seconds: i64,
    /// Where it is written.
    pub(crate) span: Span,
}

/// The zone of a window's wall-clock times.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ZoneSpec {
    /// `in "Europe/Berlin"`
    Named(Str),
    /// `local`: each target device's site zone.
    Local(Span),
}

/// `rule "name" [advisory] { when … then … }`
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    /// The rule's name.
    pub(crate) name: Str,
    /// Whether it only reports (never decides).
    pub(crate) advisory: bool,
    /// Its condition.
    pub(crate) when: Expr,
    /// What it contributes when the condition holds.
    pub(crate) then: Outcome,
    /// The whole rule.
    pub(crate) span: Span,
}

/// What a rule (or the default) contributes: a comma-separated list of items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Outcome {
    /// The items in source order.
    pub(crate) items: Vec<OutcomeItem>,
    /// The whole outcome.
    pub(crate) span: Span,
}

/// One item of an outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OutcomeItem {
    /// `deploy`
    Deploy(Span),
    /// `approve 2 from security`
    Approve {
        /// How many people.
        count: u64,
        /// From which group.
        group: Ident,
        /// The whole item.
        span: Span,
    },
    /// `deny "reason"`
    Deny(Str, Span),
    /// `break glass`
    BreakGlass(Span),
    /// `during weeknights, sunday`
    During(Vec<Ident>, Span),
}

/// An expression with its span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Expr {
    /// What it is.
    pub(crate) kind: ExprKind,
    /// Where it is written.
    pub(crate) span: Span,
}

/// The expression forms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ExprKind {
    /// `"text"`, `42`, `true`
    Lit(Lit),
    /// `["a", "b"]`
    List(Vec<Lit>),
    /// `change.kind`, `blast.roles`
    Path(Path),
    /// `has(change.field)`
    Has(Path),
    /// `not e`
    Not(Box<Expr>),
    /// `a and b and c` (flat)
    And(Vec<Expr>),
    /// `a or b or c` (flat)
    Or(Vec<Expr>),
    /// `a == b`, `a in b`, `a match "glob"`
    Compare(CmpOp, Box<Expr>, Box<Expr>),
    /// `any change.files match "docs/**"`: the operator applies to each element.
    Quant(Quantifier, Box<Expr>, CmpOp, Box<Expr>),
    /// `count e`
    Count(Box<Expr>),
    /// `sum e`
    Sum(Box<Expr>),
    /// `( e )`, kept so that printing can preserve the author's grouping
    Paren(Box<Expr>),
}

/// A literal value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Lit {
    /// A string.
    Str(String),
    /// An integer.
    Int(i64),
    /// A boolean.
    Bool(bool),
}

/// The comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum CmpOp {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `in`
    In,
    /// `match`
    Match,
}

impl CmpOp {
    /// The operator as written.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
            CmpOp::In => "in",
            CmpOp::Match => "match",
        }
    }
}

/// `any` or `all`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Quantifier {
    /// `any`: true when some element satisfies the comparison (false for an empty list).
    Any,
    /// `all`: true when every element does (true for an empty list).
    All,
}

/// Where a field path starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Root {
    /// `change.…`: the change input.
    Change,
    /// `blast.…`: the blast radius of the change's targets.
    Blast,
    /// `targets.…`: the same fields over the targets alone.
    Targets,
}

impl Root {
    /// The keyword.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Root::Change => "change",
            Root::Blast => "blast",
            Root::Targets => "targets",
        }
    }
}

/// A field path such as `change.approvals` or `change."x-ticket"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Path {
    /// Its root.
    pub(crate) root: Root,
    /// The field names after the root.
    pub(crate) fields: Vec<String>,
}

impl Path {
    /// Whether a field name can be written bare (`kind`) rather than quoted.
    pub(crate) fn is_bare(field: &str) -> bool {
        let mut chars = field.chars();
        matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
    }
}
