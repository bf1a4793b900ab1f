//! Helpers shared by the integration tests (`mod common;`).

use serde_json::Value;

/// Checks that `expected` is a subset of `actual`: objects key by key, everything
/// else exactly. Each difference is pushed to `errors` with its path.
pub(crate) fn subset(expected: &Value, actual: &Value, path: &str, errors: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                match a.get(k) {
                    Some(av) => subset(ev, av, &format!("{path}.{k}"), errors),
                    None => errors.push(format!("{path}.{k}: missing in the verdict")),
                }
            }
        }
        (e, a) if e == a => {}
        (e, a) => errors.push(format!("{path}: expected {e}, got {a}")),
    }
}
