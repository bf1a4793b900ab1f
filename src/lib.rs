//! changegate: a policy language and evaluator that decides whether an
//! infrastructure change may deploy now, needs approval, must wait for a window,
//! or must not go at all.

pub mod input;
pub mod topology;
pub mod value;

pub use topology::{Blast, Inventory};
pub use value::{Type, Value};
