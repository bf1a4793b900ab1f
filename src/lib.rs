//! changegate: a policy language and evaluator that decides whether an
//! infrastructure change may deploy now, needs approval, must wait for a window,
//! or must not go at all.

pub mod time;
pub mod value;

pub use value::{Type, Value};
