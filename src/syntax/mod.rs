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
pub(crate) use print::needs_blank_line;

#[cfg(test)]
mod tests;
