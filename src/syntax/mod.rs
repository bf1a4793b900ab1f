//! Syntax: the grammar, the AST, and the canonical printer.

pub mod ast;
mod error;
mod keyword;
mod parser;
pub(crate) mod pieces;
mod print;
pub(crate) mod text;

pub use ast::*;
pub use error::SyntaxError;
pub use keyword::Keyword;
pub use parser::{parse_expr, parse_file};
pub(crate) use print::needs_blank_line;

#[cfg(test)]
mod tests;
