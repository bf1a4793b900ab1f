//! Syntax: the grammar, the AST, and the canonical printer. Crate-private: an
//! embedder formats a policy's text with [`crate::fmt`] and compiles it with
//! [`crate::Policy::parse`].

pub(crate) mod ast;
mod error;
mod keyword;
mod parser;
pub(crate) mod pieces;
mod print;
pub(crate) mod text;

pub(crate) use ast::*;
pub(crate) use parser::parse_file;

// `parse_expr` has had no caller since the AST became crate-private; it is on its way
// out. Until then this keeps it (and the errors only it reports) out of `dead_code`.
const _: fn(&crate::SourceFile, &crate::Limits) -> Result<Expr, Vec<crate::Diagnostic>> =
    parser::parse_expr;
pub(crate) use print::needs_blank_line;

#[cfg(test)]
mod tests;
