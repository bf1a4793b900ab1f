//! GitLab's code-quality report (`artifacts:reports:codequality`): a JSON array of
//! issues with `description`, `check_name`, `fingerprint`, `severity` and
//! `location.path` / `location.lines.begin`, as GitLab documents it.

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use changegate::diag::{DiagnosticJson, Severity};

/// Diagnostics as a code-quality report. Errors are `major`, warnings `minor`. The
/// fingerprint is a digest of the code, file, line and message, so the same finding
/// keeps its fingerprint across pipelines and two findings never share one.
pub(crate) fn diagnostics(diags: &[DiagnosticJson]) -> Value {
    let issues: Vec<Value> = diags
        .iter()
        .map(|d| {
            let mut hash = Sha256::new();
            for part in [d.code, &d.file, &d.line.to_string(), &d.message] {
                hash.update(part.as_bytes());
                hash.update([0]);
            }
            let fingerprint: String = hash
                .finalize()
                .iter()
                .take(16)
                .map(|b| format!("{b:02x}"))
                .collect();
            let mut description = d.message.clone();
            if let Some(help) = &d.help {
                description.push_str(" (help: ");
                description.push_str(help);
                description.push(')');
            }
            json!({
                "description": description,
                "check_name": d.code,
                "fingerprint": fingerprint,
                "severity": match d.severity {
                    Severity::Error => "major",
                    Severity::Warning => "minor",
                },
                "location": { "path": d.file, "lines": { "begin": d.line.max(1) } },
            })
        })
        .collect();
    Value::Array(issues)
}
