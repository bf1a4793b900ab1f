//! Policy source files as tools read them: `changegate fmt` formats them, and
//! `changegate check` on a folder skips modules (files that only `import` others use).

use std::path::Path;

use crate::diag::SourceFile;
use crate::limits::Limits;
use crate::syntax::ast::Item;

/// The text of the policy file at `path`, read within `limits.max_source_bytes`; the
/// error says which file and why, as the CLI prints it. Pipes (`<(...)`) are read too.
pub fn read(path: &Path, limits: &Limits) -> Result<String, String> {
    crate::check::read_source(path, limits, crate::input::FileKinds::Any)
}

/// Whether `source` is a module: it parses and declares no `policy`, rule or
/// `default`, so it is checked only through a policy that imports it.
pub fn is_module(source: &str, name: &str, limits: &Limits) -> bool {
    let file = SourceFile::new(name, source);
    let (ast, diags) = crate::syntax::parse_file(&file, limits);
    diags.is_empty()
        && !ast
            .items
            .iter()
            .any(|i| matches!(i, Item::Policy(..) | Item::Rule(_) | Item::Default(..)))
}
