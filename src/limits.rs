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

impl Limits {
    /// The limits for reading changes, inventories and test files, taken from these.
    pub fn documents(&self) -> crate::input::Limits {
        crate::input::Limits {
            max_bytes: self.max_input_bytes,
            max_depth: self.max_depth,
            max_string_len: self.max_string_len,
            max_list_len: self.max_list_len,
            ..crate::input::Limits::default()
        }
    }
}
