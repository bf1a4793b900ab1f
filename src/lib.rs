//! changegate: a policy language and evaluator that decides whether an
//! infrastructure change may deploy now, needs approval, must wait for a window,
//! or must not go at all.

pub mod diag;
pub mod input;
pub mod limits;
pub mod syntax;
pub mod time;
pub mod topology;
pub mod value;

pub use diag::{Diagnostic, Diagnostics, SourceFile};
pub use limits::Limits;
pub use topology::{Blast, Inventory};
pub use value::{Type, Value};
