//! Resource limits on every input, each with a documented default a CLI flag can change.

/// The deepest nesting a policy or a document may have whatever
/// [`Limits::max_depth`] says: the parser and the document readers recurse once per
/// level, and 256 levels fit any thread's stack (the parser runs on a thread of its
/// own with room to spare).
pub(crate) const HARD_MAX_DEPTH: usize = 256;

/// Limits applied while reading policies, changes, inventories and other documents
/// (JSON, YAML or TOML, read by [`crate::input`]): one set of bounds for every input.
///
/// The defaults are generous for real policies and for the changes and inventories
/// of a large network (100,000 devices fit in about 12 MiB of JSON), and small
/// enough that no input can exhaust memory or the stack. `docs/hardening.md` lists
/// them:
///
/// | limit | default | applies to |
/// |---|---|---|
/// | `max_source_bytes` | 16 MiB | a policy file |
/// | `max_depth` | 64 levels | policies and documents |
/// | `max_items` | 100,000 | a policy file's top-level items |
/// | `max_string_len` | 64 KiB per string (document keys included) | policies and documents |
/// | `max_list_len` | 100,000 items per list | policies and documents |
/// | `max_import_depth` | 16 | a policy's chain of imports |
/// | `max_input_bytes` | 64 MiB | a document (change, inventory, test file…) |
/// | `max_alias_events` | 250,000 YAML events replayed by aliases | a YAML document |
///
/// The library's document readers ([`crate::input::read_file`],
/// [`crate::Inventory::from_file`]…) and the command line share these defaults:
/// `max_input_bytes` is the `--max-input-bytes` default, 64 MiB. (The document
/// limits had a type of their own, `input::Limits`, until they joined this one; its
/// default was 16 MiB per document.)
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
    /// Largest document (a change, an inventory, a test file…), in bytes
    /// (default 64 MiB).
    pub max_input_bytes: usize,
    /// Most YAML parser events that aliases (`*name`) and merges (`<<`) may replay
    /// in one document: what stops "billion laughs" (default 250,000).
    pub max_alias_events: usize,
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
            max_alias_events: 250_000,
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
    /// [`Limits::max_input_bytes`]: the size of a document (a change, an inventory…).
    InputBytes,
    /// [`Limits::max_alias_events`]: what YAML aliases may replay.
    AliasEvents,
}

impl Limit {
    /// The field of [`Limits`] that sets this limit.
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
