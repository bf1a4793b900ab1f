//! The errors of the check stage (imports, names, windows, outcomes, condition
//! types) as data: one variant per message, the code on the variant, each shown with
//! a policy (or part of one) that triggers it. A leaf module, so that `check`,
//! `compile` and `policy` all build their errors from it without importing one
//! another.

use crate::diag::ToDiagnostic;
use crate::limits::Limit;
use crate::syntax::Span;

/// What `check` (with the lowering of conditions) finds wrong in a policy. Several
/// variants share a code when their messages differ; [`ToDiagnostic::CODES`] names
/// each code once, in the order of `docs/language.md`'s table.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub(crate) enum CheckError {
    /// The policy file cannot be read: `changegate check missing.gate`.
    #[error("{message}")]
    #[diagnostic(
        code(changegate::io),
        help("check the path and that the file is readable UTF-8 text")
    )]
    Io { message: String },

    /// `group ops = ["ann"]` with no `policy "…"` header.
    #[error("the policy has no name")]
    #[diagnostic(
        code(changegate::missing_policy),
        help("start the file with `policy \"my-team-production\"`")
    )]
    MissingPolicy {
        #[label("expected `policy \"…\"` here")]
        span: Span,
    },

    /// `policy "p"` with no `default …` line.
    #[error("the policy has no `default` outcome")]
    #[diagnostic(
        code(changegate::missing_default),
        help("add what applies when no rule matches, e.g. `default approve 1 from ops`")
    )]
    MissingDefault {
        #[label("expected `default …` by the end of the file")]
        span: Span,
    },

    /// `default deploy` written twice.
    #[error("the policy has two `default` outcomes")]
    #[diagnostic(
        code(changegate::duplicate_default),
        help("keep one `default`: it applies when no rule matches")
    )]
    DuplicateDefault {
        #[label("second default")]
        span: Span,
        #[label("first default")]
        first: Span,
    },

    /// `policy "a"` and later `policy "b"` in one file.
    #[error("the policy is named twice")]
    #[diagnostic(
        code(changegate::duplicate_name),
        help("keep one `policy \"name\"` line")
    )]
    PolicyNamedTwice {
        #[label("second `policy` header")]
        span: Span,
        #[label("first named here")]
        first: Span,
    },

    /// `schema { risk: int }` and another `schema { … }`.
    #[error("the policy declares two schemas")]
    #[diagnostic(
        code(changegate::duplicate_name),
        help("merge the fields into one `schema {{ … }}`")
    )]
    TwoSchemas {
        #[label("second schema")]
        span: Span,
    },

    /// `schema { risk: int, risk: str }`.
    #[error("field `{name}` is declared twice in the schema")]
    #[diagnostic(
        code(changegate::duplicate_name),
        help("keep one declaration of each field")
    )]
    FieldDeclaredTwice {
        name: String,
        #[label("declared again")]
        span: Span,
    },

    /// `rule "r" { … }` and another `rule "r" { … }`.
    #[error("two rules are named `{name}`")]
    #[diagnostic(
        code(changegate::duplicate_name),
        help("rule names identify rules in verdicts and audits; give each rule its own name")
    )]
    RuleNamedTwice {
        name: String,
        #[label("second rule with this name")]
        span: Span,
        #[label("first defined here")]
        first: Span,
    },

    /// `group ops = ["ann"]` twice (`what` is `group`, `window` or `freeze`); `first`
    /// when the first is in the same file, else a [`CheckError::FirstDefinedIn`]
    /// goes with it.
    #[error("{what} `{name}` is defined twice")]
    #[diagnostic(
        code(changegate::duplicate_name),
        help("rename one of the two {what}s, or remove one")
    )]
    DefinedTwice {
        what: &'static str,
        name: String,
        #[label("defined again here")]
        span: Span,
        #[label("first defined here")]
        first: Option<Span>,
    },

    /// Where a name defined twice (in two files) was first defined.
    #[error("{what} `{name}` is first defined in `{file}`")]
    #[diagnostic(code(changegate::duplicate_name))]
    FirstDefinedIn {
        what: &'static str,
        name: String,
        file: String,
        #[label("first defined here")]
        span: Span,
    },

    /// `window quiet = …` and `freeze quiet = …` (`first` is where the other one
    /// is, `file:line:col`).
    #[error("`{name}` is already the name of a {other} ({first})")]
    #[diagnostic(
        code(changegate::duplicate_name),
        help("windows and freezes share one namespace; rename one of them")
    )]
    NameTaken {
        name: String,
        other: &'static str,
        first: String,
        #[label("defined again here")]
        span: Span,
    },

    /// `rule "r" { … }` in an imported file.
    #[error("an imported file can only hold imports, groups, windows and freezes")]
    #[diagnostic(
        code(changegate::module_item),
        help("move the policy header, schema, rules and default into the importing policy")
    )]
    ModuleItem {
        #[label("not allowed in a module")]
        span: Span,
    },

    /// `import "nowhere.gate"`.
    #[error("cannot import `{path}`: {error}")]
    #[diagnostic(
        code(changegate::import_not_found),
        help("import paths are relative to the importing file")
    )]
    ImportNotFound {
        path: String,
        error: String,
        #[label("imported here")]
        span: Span,
    },

    /// `import "b.gate"` in `a.gate` and `import "a.gate"` in `b.gate` (`cycle`:
    /// `` `a.gate` -> `b.gate` -> `a.gate` ``); each import of the cycle follows as a
    /// [`CheckError::ImportInCycle`].
    #[error("imports form a cycle: {cycle}")]
    #[diagnostic(
        code(changegate::import_cycle),
        help("move what the files share into a module that imports neither")
    )]
    ImportCycle {
        cycle: String,
        #[label("this import is part of the cycle")]
        span: Span,
    },

    /// One import of a cycle (see [`CheckError::ImportCycle`]).
    #[error("`{from}` imports `{to}`")]
    #[diagnostic(code(changegate::import_cycle))]
    ImportInCycle {
        from: String,
        to: String,
        #[label("this import is part of the cycle")]
        span: Span,
    },

    /// A chain of 17 imports (`a.gate` imports `b.gate` imports …), one more than
    /// `Limits::max_import_depth`.
    #[error("imports nest deeper than the limit of {max}")]
    #[diagnostic(
        code(changegate::import_depth),
        // The diagnostic carries `Limit::ImportDepth`: a front end names its own
        // setting after "raise the limit" (the command line its flag).
        help("flatten the chain of imports, or raise the limit")
    )]
    ImportDepth {
        max: usize,
        #[label("one import too many")]
        span: Span,
    },

    /// `group nobody = []`.
    #[error("group `{name}` has no members")]
    #[diagnostic(
        code(changegate::empty_group),
        help("list the people who may approve, e.g. `[\"alice\", \"bob\"]`")
    )]
    EmptyGroup {
        name: String,
        #[label("empty group")]
        span: Span,
    },

    /// `group ops = ["ann", " "]`.
    #[error("a group member's name is empty")]
    #[diagnostic(code(changegate::empty_member), help("write the person's user name"))]
    EmptyMember {
        #[label("empty name")]
        span: Span,
    },

    /// `group ops = ["ann\t"]` (`why` says which character).
    #[error("a member of group `{group}` is not a usable name: {why}")]
    #[diagnostic(
        code(changegate::hidden_member),
        help("names may not hold control, format or invisible characters")
    )]
    HiddenMember {
        group: String,
        why: String,
        #[label("hidden character")]
        span: Span,
    },

    /// `when change.author == "Mallory"` (`name` escaped for printing, `canonical`
    /// its canonical form).
    #[error("`{name}` is compared with `change.author`, which is read in canonical form")]
    #[diagnostic(
        code(changegate::noncanonical_name),
        help("write the name as `{canonical}` (trimmed, NFKC, case-folded)")
    )]
    NoncanonicalName {
        name: String,
        canonical: String,
        #[label("not the canonical spelling")]
        span: Span,
    },

    /// `when change.author == "ann\u{200b}"`.
    #[error("this name cannot stand for a person: {why}")]
    #[diagnostic(
        code(changegate::noncanonical_name),
        help("write the name without hidden characters")
    )]
    NotAPerson {
        why: String,
        #[label("not the canonical spelling")]
        span: Span,
    },

    /// `in "Europe/Berln"` (`help`: a "did you mean" or how zones are named).
    #[error("unknown time zone `{zone}`")]
    #[diagnostic(code(changegate::unknown_zone))]
    UnknownZone {
        zone: String,
        #[help]
        help: String,
        #[label("not an IANA time zone")]
        span: Span,
    },

    /// `freeze f = daily 00:00-06:00 local`.
    #[error("a freeze needs a time zone")]
    #[diagnostic(
        code(changegate::local_freeze),
        help("write `in \"Area/City\"`, e.g. `in \"UTC\"`")
    )]
    LocalFreeze {
        #[label("`local` is only for windows")]
        span: Span,
    },

    /// `daily 22:00-24:00` (`help` tells `24:00` from other impossible times).
    #[error("`{hour:02}:{minute:02}` is not a time of day")]
    #[diagnostic(code(changegate::bad_time))]
    BadTime {
        hour: u32,
        minute: u32,
        #[help]
        help: String,
        #[label("impossible time")]
        span: Span,
    },

    /// `2026-02-30 10:00 .. 2026-03-01 10:00`.
    #[error("`{year:04}-{month:02}-{day:02}` is not a date")]
    #[diagnostic(
        code(changegate::bad_date),
        help("write a real calendar date as `YYYY-MM-DD`")
    )]
    BadDate {
        year: i32,
        month: u32,
        day: u32,
        #[label("impossible date")]
        span: Span,
    },

    /// `sat 23:00 for 1h1h`.
    #[error("the duration `{text}` repeats a unit or puts a smaller unit first")]
    #[diagnostic(
        code(changegate::duration_units),
        help("write the units from the largest to the smallest, each once: `1d12h`, `1h30m`")
    )]
    DurationUnits {
        text: String,
        #[label("each unit at most once, largest first")]
        span: Span,
    },

    /// `2026-03-01 10:00 .. 2026-03-01 10:00`.
    #[error("this window ends when it starts, so it is never open")]
    #[diagnostic(
        code(changegate::empty_window),
        help("the end (after `..`) must be later than the start")
    )]
    EndsWhenItStarts {
        #[label("zero length")]
        span: Span,
    },

    /// `2026-03-01 10:00 .. 2026-02-01 10:00`.
    #[error("this window ends before it starts, so it is never open")]
    #[diagnostic(
        code(changegate::empty_window),
        help("the end (after `..`) must be later than the start")
    )]
    EndsBeforeItStarts {
        #[label("ends before it starts")]
        span: Span,
    },

    /// `daily 10:00 for 0m`.
    #[error("a window of zero length is never open")]
    #[diagnostic(
        code(changegate::empty_window),
        help("give a positive duration, e.g. `6h` or `90m`")
    )]
    ZeroDuration {
        #[label("zero duration")]
        span: Span,
    },

    /// `2026-01-01 00:00 .. 2027-06-01 00:00`.
    #[error("this window lasts more than 366 days")]
    #[diagnostic(code(changegate::too_long), help("split it into shorter windows"))]
    WindowTooLong {
        #[label("too long")]
        span: Span,
    },

    /// `window w = daily 00:00 for 400d in "UTC"`.
    #[error("a window may last at most 366 days")]
    #[diagnostic(code(changegate::too_long), help("shorten the duration"))]
    DurationTooLong {
        #[label("too long")]
        span: Span,
    },

    /// `approve 1 from secruity` (`help`: a "did you mean" or how to declare one).
    #[error("unknown group `{name}`")]
    #[diagnostic(code(changegate::unknown_group))]
    UnknownGroup {
        name: String,
        #[help]
        help: String,
        #[label("no group has this name")]
        span: Span,
    },

    /// `deploy during weeknight` (`help`: a "did you mean", or that it is a freeze).
    #[error("unknown window `{name}`")]
    #[diagnostic(code(changegate::unknown_window))]
    UnknownWindow {
        name: String,
        #[help]
        help: String,
        #[label("no window has this name")]
        span: Span,
    },

    /// `approve 0 from netops`.
    #[error("`approve 0` asks for nobody")]
    #[diagnostic(
        code(changegate::bad_count),
        help("ask for at least 1, or use `deploy`")
    )]
    ZeroApprovals {
        #[label("zero approvals")]
        span: Span,
    },

    /// `approve 3 from security` when `security` has two members.
    #[error(
        "`approve {count} from {group}` can never be met: the group has {size} member{}",
        if *size == 1 { "" } else { "s" }
    )]
    #[diagnostic(
        code(changegate::impossible_approval),
        help("ask for at most {size}, or add members to `{group}`")
    )]
    ImpossibleApproval {
        count: u64,
        group: String,
        size: usize,
        #[label("more people than the group has")]
        span: Span,
    },

    /// `then during weeknights`.
    #[error("`during` needs an outcome to apply to")]
    #[diagnostic(
        code(changegate::no_action),
        help("write `deploy during …` or `approve N from GROUP during …`")
    )]
    NoAction {
        #[label("only a window")]
        span: Span,
    },

    /// `then deny "x", during weeknights`.
    #[error("`deny` stands alone in an outcome")]
    #[diagnostic(
        code(changegate::deny_combined),
        help("a denied change never goes, so approvals and windows beside `deny` mean nothing; remove them")
    )]
    DenyCombined {
        #[label("denies")]
        span: Span,
    },

    /// `then deny "x", break glass`.
    #[error("`deny` cannot be combined with `break glass`")]
    #[diagnostic(
        code(changegate::deny_with_break_glass),
        help("a denied change never goes, so breaking glass means nothing; keep one of them")
    )]
    DenyWithBreakGlass {
        #[label("denies")]
        span: Span,
    },

    /// `then deploy, approve 1 from netops`.
    #[error("`deploy` cannot be combined with `approve`")]
    #[diagnostic(
        code(changegate::deploy_with_approve),
        help("`approve` already lets the change go once approved; remove `deploy`")
    )]
    DeployWithApprove {
        #[label("asks for no approval")]
        span: Span,
        #[label("asks for approval")]
        approve: Span,
    },

    /// `when count change.targets` (an integer; `ty` says what it is instead).
    #[error("a condition must be true or false, but this is {ty}")]
    #[diagnostic(
        code(changegate::type_mismatch),
        help("compare it with something, e.g. `change.kind == \"firewall\"`")
    )]
    NotACondition {
        ty: String,
        #[label("not a boolean")]
        span: Span,
    },

    /// `not 3` (`op`: `not`, `and` or `or`).
    #[error("`{op}` needs true or false, but this is {ty}")]
    #[diagnostic(
        code(changegate::type_mismatch),
        help("compare it with something first, e.g. `change.risk > 3`")
    )]
    NotABoolean {
        op: &'static str,
        ty: String,
        #[label("not a boolean")]
        span: Span,
    },

    /// `change.kind in ["bgp", 3]`.
    #[error("this list mixes {first} and {then}")]
    #[diagnostic(
        code(changegate::type_mismatch),
        help("a list holds values of one type")
    )]
    MixedList {
        first: &'static str,
        then: &'static str,
        #[label("mixed list")]
        span: Span,
    },

    /// `any blast.depth == 1` (`quant`: `any` or `all`).
    #[error("`{quant}` needs a list, but this is {ty}")]
    #[diagnostic(
        code(changegate::type_mismatch),
        help("`any` and `all` range over a list, e.g. `any change.labels == \"urgent\"`")
    )]
    QuantifierNeedsList {
        quant: &'static str,
        ty: String,
        #[label("not a list")]
        span: Span,
    },

    /// `count blast.depth > 1`.
    #[error("`count` needs a list, but this is {ty}")]
    #[diagnostic(
        code(changegate::type_mismatch),
        help("`count` gives the length of a list, e.g. `count change.targets`")
    )]
    CountNeedsList {
        ty: String,
        #[label("not a list")]
        span: Span,
    },

    /// `sum blast.devices > 1`.
    #[error("`sum` needs a list of integers, but this is {ty}")]
    #[diagnostic(
        code(changegate::type_mismatch),
        help("`sum` adds up a list of integers, e.g. `sum blast.customers`")
    )]
    SumNeedsIntegers {
        ty: String,
        #[label("not a list of integers")]
        span: Span,
    },

    /// `3 match "x*"`.
    #[error("`match` needs a string, but this is {ty}")]
    #[diagnostic(
        code(changegate::type_mismatch),
        help("`match` tests a string against a glob, e.g. `change.repo match \"net/*\"`")
    )]
    MatchNeedsString {
        ty: String,
        #[label("not a string")]
        span: Span,
    },

    /// `blast.depth == "2"` (`op`: `==` or `!=`).
    #[error("`{op}` compares {left} with {right}, which can never be equal")]
    #[diagnostic(
        code(changegate::type_mismatch),
        help("compare values of the same type; changegate never converts types")
    )]
    NeverEqual {
        op: &'static str,
        left: String,
        right: String,
        #[label("different types")]
        span: Span,
    },

    /// `blast.devices > 3`.
    #[error("`{op}` orders integers or strings, not {what}")]
    #[diagnostic(
        code(changegate::type_mismatch),
        help("order integers (`change.risk >= 3`) or strings")
    )]
    CannotOrder {
        op: &'static str,
        what: &'static str,
        #[label("cannot be ordered")]
        span: Span,
    },

    /// `blast.depth > "2"`.
    #[error("`{op}` compares {left} with {right}")]
    #[diagnostic(
        code(changegate::type_mismatch),
        help("compare values of the same type; changegate never converts types")
    )]
    OrderMismatch {
        op: &'static str,
        left: String,
        right: String,
        #[label("different types")]
        span: Span,
    },

    /// `change.kind in "bgp"`.
    #[error("`in` needs a list on its right, but this is {ty}")]
    #[diagnostic(
        code(changegate::type_mismatch),
        help("write a list, e.g. `change.kind in [\"bgp\", \"ospf\"]`")
    )]
    InNeedsList {
        ty: String,
        #[label("not a list")]
        span: Span,
    },

    /// `blast.depth in ["a", "b"]`.
    #[error("`in` looks for {item} in {list}, which can never hold it")]
    #[diagnostic(
        code(changegate::type_mismatch),
        help("look for a value of the list's element type")
    )]
    NeverIn {
        item: String,
        list: String,
        #[label("different types")]
        span: Span,
    },

    /// `change.risk.level` with `schema { risk: int }`.
    #[error("`change.{field}` is declared `{ty}`, which has no fields")]
    #[diagnostic(
        code(changegate::type_mismatch),
        help("only `object` and `any` fields have fields of their own")
    )]
    NoFields {
        field: String,
        ty: String,
        #[label("no such field")]
        span: Span,
    },

    /// `change.repo match change.path` (a path, not a pattern, on the right).
    #[error("the right side of `match` must be a glob in a string")]
    #[diagnostic(
        code(changegate::bad_glob),
        help("write the pattern literally, e.g. `match \"docs/**\"`")
    )]
    GlobNotLiteral {
        #[label("not a string literal")]
        span: Span,
    },

    /// `change.repo match "docs/[a"`.
    #[error("`{pattern}` is not a valid glob: {why}")]
    #[diagnostic(
        code(changegate::bad_glob),
        help("globs use `*` (within a path segment), `**` (across segments), `?`, `[abc]` and `{{a,b}}`")
    )]
    BadGlob {
        pattern: String,
        why: String,
        #[label("invalid glob")]
        span: Span,
    },

    /// `change.rsik` with a `schema { risk: int }` (`help`: a "did you mean" or how
    /// to declare it).
    #[error("the schema declares no field `{field}`")]
    #[diagnostic(code(changegate::unknown_field))]
    UnknownField {
        field: String,
        #[help]
        help: String,
        #[label("not in the schema")]
        span: Span,
    },
}

impl ToDiagnostic for CheckError {
    /// Only `import_depth` is a limit the check stage enforces (the parser holds the
    /// others).
    fn limit(&self) -> Option<Limit> {
        match self {
            CheckError::ImportDepth { .. } => Some(Limit::ImportDepth),
            _ => None,
        }
    }

    // Shared by several variants (their messages differ): `duplicate_name`
    // (policy, schema, field, rule, group/window/freeze, window beside freeze),
    // `import_cycle` (the cycle and each import in it), `noncanonical_name`,
    // `empty_window`, `too_long` (a window, a duration), `type_mismatch` (every
    // type error) and `bad_glob`. `bad_count` and `too_long` are the parser's
    // codes too.
    const CODES: &'static [&'static str] = &[
        "changegate::bad_count",
        "changegate::too_long",
        "changegate::io",
        "changegate::missing_policy",
        "changegate::missing_default",
        "changegate::duplicate_default",
        "changegate::duplicate_name",
        "changegate::module_item",
        "changegate::import_not_found",
        "changegate::import_cycle",
        "changegate::import_depth",
        "changegate::empty_group",
        "changegate::empty_member",
        "changegate::hidden_member",
        "changegate::noncanonical_name",
        "changegate::unknown_zone",
        "changegate::local_freeze",
        "changegate::bad_time",
        "changegate::bad_date",
        "changegate::duration_units",
        "changegate::empty_window",
        "changegate::unknown_group",
        "changegate::unknown_window",
        "changegate::impossible_approval",
        "changegate::no_action",
        "changegate::deny_combined",
        "changegate::deny_with_break_glass",
        "changegate::deploy_with_approve",
        "changegate::type_mismatch",
        "changegate::bad_glob",
        "changegate::unknown_field",
    ];
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::SourceFile;

    /// One value of every variant (a new variant must be added here: the match
    /// below does not compile without it).
    fn every_error() -> Vec<CheckError> {
        let s = Span::new(0, 0);
        let t = String::new;
        let all = vec![
            CheckError::Io { message: t() },
            CheckError::MissingPolicy { span: s },
            CheckError::MissingDefault { span: s },
            CheckError::DuplicateDefault { span: s, first: s },
            CheckError::PolicyNamedTwice { span: s, first: s },
            CheckError::TwoSchemas { span: s },
            CheckError::FieldDeclaredTwice { name: t(), span: s },
            CheckError::RuleNamedTwice {
                name: t(),
                span: s,
                first: s,
            },
            CheckError::DefinedTwice {
                what: "",
                name: t(),
                span: s,
                first: None,
            },
            CheckError::FirstDefinedIn {
                what: "",
                name: t(),
                file: t(),
                span: s,
            },
            CheckError::NameTaken {
                name: t(),
                other: "",
                first: t(),
                span: s,
            },
            CheckError::ModuleItem { span: s },
            CheckError::ImportNotFound {
                path: t(),
                error: t(),
                span: s,
            },
            CheckError::ImportCycle {
                cycle: t(),
                span: s,
            },
            CheckError::ImportInCycle {
                from: t(),
                to: t(),
                span: s,
            },
            CheckError::ImportDepth { max: 0, span: s },
            CheckError::EmptyGroup { name: t(), span: s },
            CheckError::EmptyMember { span: s },
            CheckError::HiddenMember {
                group: t(),
                why: t(),
                span: s,
            },
            CheckError::NoncanonicalName {
                name: t(),
                canonical: t(),
                span: s,
            },
            CheckError::NotAPerson { why: t(), span: s },
            CheckError::UnknownZone {
                zone: t(),
                help: t(),
                span: s,
            },
            CheckError::LocalFreeze { span: s },
            CheckError::BadTime {
                hour: 0,
                minute: 0,
                help: t(),
                span: s,
            },
            CheckError::BadDate {
                year: 0,
                month: 0,
                day: 0,
                span: s,
            },
            CheckError::DurationUnits { text: t(), span: s },
            CheckError::EndsWhenItStarts { span: s },
            CheckError::EndsBeforeItStarts { span: s },
            CheckError::ZeroDuration { span: s },
            CheckError::WindowTooLong { span: s },
            CheckError::DurationTooLong { span: s },
            CheckError::UnknownGroup {
                name: t(),
                help: t(),
                span: s,
            },
            CheckError::UnknownWindow {
                name: t(),
                help: t(),
                span: s,
            },
            CheckError::ZeroApprovals { span: s },
            CheckError::ImpossibleApproval {
                count: 0,
                group: t(),
                size: 0,
                span: s,
            },
            CheckError::NoAction { span: s },
            CheckError::DenyCombined { span: s },
            CheckError::DenyWithBreakGlass { span: s },
            CheckError::DeployWithApprove {
                span: s,
                approve: s,
            },
            CheckError::NotACondition { ty: t(), span: s },
            CheckError::NotABoolean {
                op: "",
                ty: t(),
                span: s,
            },
            CheckError::MixedList {
                first: "",
                then: "",
                span: s,
            },
            CheckError::QuantifierNeedsList {
                quant: "",
                ty: t(),
                span: s,
            },
            CheckError::CountNeedsList { ty: t(), span: s },
            CheckError::SumNeedsIntegers { ty: t(), span: s },
            CheckError::MatchNeedsString { ty: t(), span: s },
            CheckError::NeverEqual {
                op: "",
                left: t(),
                right: t(),
                span: s,
            },
            CheckError::CannotOrder {
                op: "",
                what: "",
                span: s,
            },
            CheckError::OrderMismatch {
                op: "",
                left: t(),
                right: t(),
                span: s,
            },
            CheckError::InNeedsList { ty: t(), span: s },
            CheckError::NeverIn {
                item: t(),
                list: t(),
                span: s,
            },
            CheckError::NoFields {
                field: t(),
                ty: t(),
                span: s,
            },
            CheckError::GlobNotLiteral { span: s },
            CheckError::BadGlob {
                pattern: t(),
                why: t(),
                span: s,
            },
            CheckError::UnknownField {
                field: t(),
                help: t(),
                span: s,
            },
        ];
        for e in &all {
            match e {
                CheckError::Io { .. }
                | CheckError::MissingPolicy { .. }
                | CheckError::MissingDefault { .. }
                | CheckError::DuplicateDefault { .. }
                | CheckError::PolicyNamedTwice { .. }
                | CheckError::TwoSchemas { .. }
                | CheckError::FieldDeclaredTwice { .. }
                | CheckError::RuleNamedTwice { .. }
                | CheckError::DefinedTwice { .. }
                | CheckError::FirstDefinedIn { .. }
                | CheckError::NameTaken { .. }
                | CheckError::ModuleItem { .. }
                | CheckError::ImportNotFound { .. }
                | CheckError::ImportCycle { .. }
                | CheckError::ImportInCycle { .. }
                | CheckError::ImportDepth { .. }
                | CheckError::EmptyGroup { .. }
                | CheckError::EmptyMember { .. }
                | CheckError::HiddenMember { .. }
                | CheckError::NoncanonicalName { .. }
                | CheckError::NotAPerson { .. }
                | CheckError::UnknownZone { .. }
                | CheckError::LocalFreeze { .. }
                | CheckError::BadTime { .. }
                | CheckError::BadDate { .. }
                | CheckError::DurationUnits { .. }
                | CheckError::EndsWhenItStarts { .. }
                | CheckError::EndsBeforeItStarts { .. }
                | CheckError::ZeroDuration { .. }
                | CheckError::WindowTooLong { .. }
                | CheckError::DurationTooLong { .. }
                | CheckError::UnknownGroup { .. }
                | CheckError::UnknownWindow { .. }
                | CheckError::ZeroApprovals { .. }
                | CheckError::ImpossibleApproval { .. }
                | CheckError::NoAction { .. }
                | CheckError::DenyCombined { .. }
                | CheckError::DenyWithBreakGlass { .. }
                | CheckError::DeployWithApprove { .. }
                | CheckError::NotACondition { .. }
                | CheckError::NotABoolean { .. }
                | CheckError::MixedList { .. }
                | CheckError::QuantifierNeedsList { .. }
                | CheckError::CountNeedsList { .. }
                | CheckError::SumNeedsIntegers { .. }
                | CheckError::MatchNeedsString { .. }
                | CheckError::NeverEqual { .. }
                | CheckError::CannotOrder { .. }
                | CheckError::OrderMismatch { .. }
                | CheckError::InNeedsList { .. }
                | CheckError::NeverIn { .. }
                | CheckError::NoFields { .. }
                | CheckError::GlobNotLiteral { .. }
                | CheckError::BadGlob { .. }
                | CheckError::UnknownField { .. } => {}
            }
        }
        all
    }

    /// `CheckError::CODES` is exactly the set of the variants' codes, each listed
    /// once, and every check error is an error.
    #[test]
    fn codes_are_the_variants_codes() {
        let codes: std::collections::BTreeSet<String> = every_error()
            .iter()
            .map(|e| miette::Diagnostic::code(e).map(|c| c.to_string()).unwrap())
            .collect();
        let listed: std::collections::BTreeSet<String> =
            CheckError::CODES.iter().map(|c| (*c).to_owned()).collect();
        assert_eq!(listed.len(), CheckError::CODES.len(), "a code listed twice");
        assert_eq!(codes, listed);
        let file = SourceFile::new("x.gate", "");
        for e in every_error() {
            let d = e.to_diagnostic(&file);
            assert!(d.is_error(), "{}", d.code);
            assert_ne!(d.code, "changegate::internal");
        }
    }

    /// A reached limit is named by the diagnostic, for a front end to name its own
    /// setting.
    #[test]
    fn import_depth_names_its_limit() {
        let file = SourceFile::new("x.gate", "");
        for e in every_error() {
            let d = e.to_diagnostic(&file);
            let expected = (d.code == "changegate::import_depth").then_some(Limit::ImportDepth);
            assert_eq!(d.limit, expected, "{}", d.code);
        }
    }

    /// The codes of `docs/language.md`'s table of diagnostics: every check error
    /// has a row, and every row is a check error, a lint or a syntax error.
    #[test]
    fn docs_list_every_check_error() {
        // The parser's codes, until the syntax stage has its own enum to ask.
        const SYNTAX: &[&str] = &[
            "changegate::syntax",
            "changegate::bad_escape",
            "changegate::bad_integer",
            "changegate::bad_count",
            "changegate::too_deep",
            "changegate::too_long",
            "changegate::too_large",
            "changegate::too_many_items",
            "changegate::internal",
        ];
        let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/language.md"))
            .unwrap();
        let listed: Vec<&str> = doc
            .lines()
            .filter_map(|l| l.strip_prefix("| `"))
            .filter_map(|l| l.split('`').next())
            .filter(|c| c.starts_with("changegate::"))
            .collect();
        for code in CheckError::CODES {
            assert!(
                listed.contains(code),
                "{code} is not in docs/language.md's table"
            );
        }
        // In the table's order.
        let ours: Vec<&str> = listed
            .iter()
            .copied()
            .filter(|c| CheckError::CODES.contains(c))
            .collect();
        assert_eq!(ours, CheckError::CODES);
        for code in &listed {
            assert!(
                CheckError::CODES.contains(code)
                    || crate::lint::Lint::CODES.contains(code)
                    || SYNTAX.contains(code),
                "docs/language.md lists {code}, which no stage reports"
            );
        }
    }
}
