//! SARIF 2.1.0 (OASIS Static Analysis Results Interchange Format) for `check`, which
//! GitHub code scanning and many editors read.

use serde_json::{json, Value};

use changegate::diag::{DiagnosticJson, Severity};

/// The published schema of the version written.
const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// A path as a URI reference: every byte outside the unreserved set and `/` is
/// percent-encoded, so a file name with spaces or `#` stays one valid reference.
fn uri(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for b in path.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Diagnostics as one SARIF log with one run; each distinct code is a rule.
pub(crate) fn diagnostics(diags: &[DiagnosticJson]) -> Value {
    let mut codes: Vec<&str> = diags.iter().map(|d| d.code).collect();
    codes.sort_unstable();
    codes.dedup();
    let rules: Vec<Value> = codes.iter().map(|c| json!({ "id": c })).collect();
    let results: Vec<Value> = diags
        .iter()
        .map(|d| {
            let mut text = d.message.clone();
            if let Some(help) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(help);
            }
            json!({
                "ruleId": d.code,
                "level": match d.severity {
                    Severity::Error => "error",
                    Severity::Warning => "warning",
                },
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": {
                        "artifactLocation": { "uri": uri(&d.file) },
                        "region": { "startLine": d.line.max(1), "startColumn": d.column.max(1) },
                    }
                }],
            })
        })
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "changegate",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            } },
            "results": results,
        }],
    })
}

#[cfg(test)]
mod tests {
    use super::uri;

    #[test]
    fn paths_become_uri_references() {
        assert_eq!(uri("policies/a b#1.gate"), "policies/a%20b%231.gate");
        assert_eq!(uri("é"), "%C3%A9");
    }
}
