//! Syntax: the grammar, the AST, and the canonical printer.

pub(crate) mod ast;
mod error;
mod keyword;
mod parser;
pub(crate) mod pieces;
mod print;
pub(crate) mod text;

pub use ast::File;
pub(crate) use ast::*;
pub use parser::{parse_expr, parse_file};
pub(crate) use print::needs_blank_line;

#[cfg(test)]
mod tests;
