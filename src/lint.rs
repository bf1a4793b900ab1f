//! Warnings about policies that check but are likely wrong.

use crate::diag::Diagnostic;
use crate::policy::Policy;

/// Windows that can never open (placeholder until the time module lands).
pub(crate) fn never_open(_policy: &Policy) -> Vec<Diagnostic> {
    Vec::new()
}
