//! changegate: a policy language and evaluator that decides whether an
//! infrastructure change may deploy now, needs approval, must wait for a window,
//! or must not go at all.

pub mod calendar;
pub mod change;
pub(crate) mod check;
pub mod cli;
mod compile;
pub mod diag;
mod eval;
pub mod explain;
pub mod fmt;
mod index;
pub mod input;
pub mod limits;
mod lint;
mod policy;
pub mod syntax;
pub mod testing;
pub mod time;
pub mod topology;
pub mod value;
pub mod verdict;

pub use change::{Approval, Change};
pub use diag::{Diagnostic, Diagnostics, SourceFile};
pub use limits::Limits;
pub use policy::Policy;
pub use topology::{Blast, Inventory};
pub use value::{Type, Value};
pub use verdict::{Decision, Verdict};
