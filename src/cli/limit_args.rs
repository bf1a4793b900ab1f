//! The `--max-*` flags, grouped under one help heading ("Limits"), each on the
//! subcommands it affects: policy limits where a policy is read, import depth where
//! imports are followed, the input size where a change or inventory is read, and the
//! value limits (depth, string, list) wherever any of those is read. The defaults
//! are documented in `docs/hardening.md`.

use clap::Args;

use changegate::diag::{Diagnostic, Diagnostics};
use changegate::limits::{Limit, Limits};

/// The flag that sets `limit` on the command line (`--max-depth`), if one does: the
/// library's errors name the limit, the command line's the flag.
pub(crate) fn flag(limit: Limit) -> Option<&'static str> {
    match limit {
        Limit::SourceBytes => Some("--max-policy-bytes"),
        Limit::Items => Some("--max-rules"),
        Limit::Depth => Some("--max-depth"),
        Limit::StringLen => Some("--max-string-len"),
        Limit::ListLen => Some("--max-list-len"),
        Limit::ImportDepth => Some("--max-import-depth"),
        Limit::InputBytes => Some("--max-input-bytes"),
        // `Limit` is non-exhaustive: a limit added later has no flag until one is made.
        _ => None,
    }
}

/// `diags` in the command line's words: the library's help for a limit error ends
/// in "raise the limit" (naming no setting), and here it goes on to name the flag
/// that does ("…, or raise the limit with `--max-depth`"). Every policy diagnostic
/// the command line shows or reports comes through here.
pub(crate) fn name_flags(mut diags: Diagnostics) -> Diagnostics {
    diags.0.iter_mut().for_each(name_flag);
    diags
}

fn name_flag(d: &mut Diagnostic) {
    if let (Some(flag), Some(help)) = (d.limit.and_then(flag), d.help.as_mut()) {
        if help.ends_with("raise the limit") {
            help.push_str(" with `");
            help.push_str(flag);
            help.push('`');
        }
    }
    d.related.iter_mut().for_each(name_flag);
}

/// Limits of a policy file.
#[derive(Debug, Args)]
#[command(next_help_heading = "Limits")]
pub(super) struct PolicyLimits {
    /// Largest policy file, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_source_bytes)]
    max_policy_bytes: usize,
    /// Most items (rules, groups, windows, …) in one policy file.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_items)]
    max_rules: usize,
}

/// The depth of imports.
#[derive(Debug, Args)]
#[command(next_help_heading = "Limits")]
pub(super) struct ImportLimits {
    /// Deepest chain of imports.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_import_depth)]
    max_import_depth: usize,
}

/// Limits of values, in policies and in documents alike.
#[derive(Debug, Args)]
#[command(next_help_heading = "Limits")]
pub(super) struct ValueLimits {
    /// Deepest nesting of expressions, lists and objects.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_depth)]
    max_depth: usize,
    /// Longest string, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_string_len)]
    max_string_len: usize,
    /// Longest list.
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_list_len)]
    max_list_len: usize,
}

/// The size of a change or inventory document.
#[derive(Debug, Args)]
#[command(next_help_heading = "Limits")]
pub(super) struct InputLimits {
    /// Largest change or inventory file, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = Limits::default().max_input_bytes)]
    max_input_bytes: usize,
}

impl PolicyLimits {
    fn apply(&self, l: &mut Limits) {
        l.max_source_bytes = self.max_policy_bytes;
        l.max_items = self.max_rules;
    }
}

impl ImportLimits {
    fn apply(&self, l: &mut Limits) {
        l.max_import_depth = self.max_import_depth;
    }
}

impl ValueLimits {
    fn apply(&self, l: &mut Limits) {
        l.max_depth = self.max_depth;
        l.max_string_len = self.max_string_len;
        l.max_list_len = self.max_list_len;
    }
}

impl InputLimits {
    fn apply(&self, l: &mut Limits) {
        l.max_input_bytes = self.max_input_bytes;
    }
}

/// Every limit: for commands that read a policy, its imports and documents
/// (`evaluate`, `windows`, `test`).
#[derive(Debug, Args)]
pub(crate) struct AllLimits {
    #[command(flatten)]
    policy: PolicyLimits,
    #[command(flatten)]
    values: ValueLimits,
    #[command(flatten)]
    imports: ImportLimits,
    #[command(flatten)]
    input: InputLimits,
}

/// `check`: a policy and its imports.
#[derive(Debug, Args)]
pub(super) struct CheckLimits {
    #[command(flatten)]
    policy: PolicyLimits,
    #[command(flatten)]
    values: ValueLimits,
    #[command(flatten)]
    imports: ImportLimits,
}

/// `fmt`: one policy file at a time, imports not followed.
#[derive(Debug, Args)]
pub(super) struct FmtLimits {
    #[command(flatten)]
    policy: PolicyLimits,
    #[command(flatten)]
    values: ValueLimits,
}

/// `blast`: an inventory.
#[derive(Debug, Args)]
pub(super) struct BlastLimits {
    #[command(flatten)]
    values: ValueLimits,
    #[command(flatten)]
    input: InputLimits,
}

impl AllLimits {
    pub(crate) fn limits(&self) -> Limits {
        let mut l = Limits::default();
        self.policy.apply(&mut l);
        self.values.apply(&mut l);
        self.imports.apply(&mut l);
        self.input.apply(&mut l);
        l
    }
}

impl CheckLimits {
    pub(super) fn limits(&self) -> Limits {
        let mut l = Limits::default();
        self.policy.apply(&mut l);
        self.values.apply(&mut l);
        self.imports.apply(&mut l);
        l
    }
}

impl FmtLimits {
    pub(super) fn limits(&self) -> Limits {
        let mut l = Limits::default();
        self.policy.apply(&mut l);
        self.values.apply(&mut l);
        l
    }
}

impl BlastLimits {
    pub(super) fn limits(&self) -> Limits {
        let mut l = Limits::default();
        self.values.apply(&mut l);
        self.input.apply(&mut l);
        l
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every limit's flag is one the command line takes.
    #[test]
    fn each_limit_maps_to_a_real_flag() {
        let cmd = AllLimits::augment_args(clap::Command::new("t"));
        let longs: Vec<String> = cmd
            .get_arguments()
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .collect();
        for limit in [
            Limit::SourceBytes,
            Limit::Items,
            Limit::Depth,
            Limit::StringLen,
            Limit::ListLen,
            Limit::ImportDepth,
            Limit::InputBytes,
        ] {
            let flag = flag(limit).unwrap();
            assert!(longs.iter().any(|l| l == flag), "{limit:?}: {flag}");
        }
        assert_eq!(flag(Limit::AliasEvents), None);
    }

    /// A limit error's help gains its flag, once, related diagnostics' too; other
    /// help is left alone.
    #[test]
    fn limit_errors_name_their_flag() {
        let file = changegate::SourceFile::new("p.gate", "");
        let too_deep = || {
            Diagnostic::error("changegate::too_deep", &file, "too deep")
                .help("split the condition into simpler parts, or raise the limit")
                .with_limit(Limit::Depth)
        };
        let other = Diagnostic::error("changegate::syntax", &file, "bad")
            .help("raise the limit")
            .with_related(too_deep());
        let aliases = Diagnostic::error("changegate::input", &file, "aliases")
            .help("raise the limit")
            .with_limit(Limit::AliasEvents);
        let out = name_flags(Diagnostics(vec![too_deep(), other, aliases]));
        let helps: Vec<Option<&str>> = out.iter().map(|d| d.help.as_deref()).collect();
        let deep = "split the condition into simpler parts, or raise the limit with `--max-depth`";
        assert_eq!(
            helps,
            [Some(deep), Some("raise the limit"), Some("raise the limit")]
        );
        assert_eq!(out.0[1].related[0].help.as_deref(), Some(deep));
    }
}
