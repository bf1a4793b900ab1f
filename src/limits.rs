//! Resource limits on every input, each with a documented default a CLI flag can change.

/// Limits applied while reading policies, changes and inventories.
///
/// The defaults are generous for real policies and small enough that no input can
/// exhaust memory or the stack. `docs/hardening.md` lists them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest policy source file, in bytes (default 16 MiB).
    pub max_source_bytes: usize,
    /// Deepest nesting of brackets and expressions in a policy, and of lists and
    /// objects in a change or inventory (default 64).
    pub max_depth: usize,
    /// Most top-level items (rules, groups, windows…) in one policy file (default 100,000).
    pub max_items: usize,
    /// Longest string literal or input string, in bytes (default 64 KiB).
    pub max_string_len: usize,
    /// Longest list, in a policy or an input (default 100,000).
    pub max_list_len: usize,
    /// Deepest chain of imports (default 16).
    pub max_import_depth: usize,
    /// Largest change or inventory file, in bytes (default 64 MiB).
    pub max_input_bytes: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_source_bytes: 16 << 20,
            max_depth: 64,
            max_items: 100_000,
            max_string_len: 64 << 10,
            max_list_len: 100_000,
            max_import_depth: 16,
            max_input_bytes: 64 << 20,
        }
    }
}

/// One of the [`Limits`], named: what a limit error says it broke, so that each front
/// end can name the limit its own way (the command line names its `--max-*` flag).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Limit {
    /// [`Limits::max_source_bytes`]: the size of a policy file.
    SourceBytes,
    /// [`Limits::max_items`]: the items of a policy file.
    Items,
    /// [`Limits::max_depth`]: nesting, in a policy or a document.
    Depth,
    /// [`Limits::max_string_len`]: one string, in a policy or a document.
    StringLen,
    /// [`Limits::max_list_len`]: one list, in a policy or a document.
    ListLen,
    /// [`Limits::max_import_depth`]: the chain of imports.
    ImportDepth,
    /// [`Limits::max_input_bytes`]: the size of a change or an inventory.
    InputBytes,
    /// `input::Limits::max_alias_events`: what YAML aliases may replay.
    AliasEvents,
}

impl Limit {
    /// The field of [`Limits`] (or `input::Limits`) that sets this limit.
    pub fn field(self) -> &'static str {
        match self {
            Limit::SourceBytes => "max_source_bytes",
            Limit::Items => "max_items",
            Limit::Depth => "max_depth",
            Limit::StringLen => "max_string_len",
            Limit::ListLen => "max_list_len",
            Limit::ImportDepth => "max_import_depth",
            Limit::InputBytes => "max_input_bytes",
            Limit::AliasEvents => "max_alias_events",
        }
    }
}

impl std::fmt::Display for Limit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "`{}`", self.field())
    }
}
