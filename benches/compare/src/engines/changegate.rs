//! changegate: the `.gate` encoding of W(N).
//!
//! changegate's library API (`Policy`, `Change`, `Inventory`) is not on this branch yet;
//! until it is, this engine reports itself unavailable.

use std::time::Duration;

use super::Loaded;

pub fn measure(_w: &Loaded, _secs: Duration) -> serde_json::Value {
    serde_json::json!({"status": "unavailable", "reason": "changegate::Policy is not on this branch yet"})
}
