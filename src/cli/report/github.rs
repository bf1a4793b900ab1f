//! GitHub Actions workflow commands (`::error file=…,line=…,col=…::message`), which the
//! runner turns into annotations on the run and on the pull request's diff.

use std::fmt::Write as _;

use crate::cli::testing::FileReport;
use changegate::diag::{DiagnosticJson, Severity};
use changegate::{Decision, Verdict};

/// Escapes a command's message: `%`, CR and LF, as the runner decodes them.
fn data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value: as [`data`], and `:` and `,`, which end a property.
fn property(s: &str) -> String {
    data(s).replace(':', "%3A").replace(',', "%2C")
}

/// One workflow command: `level` is `error`, `warning` or `notice`.
fn command(
    out: &mut String,
    level: &str,
    place: Option<(&str, usize, usize)>,
    title: &str,
    message: &str,
) {
    let _ = write!(out, "::{level} ");
    if let Some((file, line, col)) = place {
        let _ = write!(out, "file={},line={line},col={col},", property(file));
    }
    let _ = writeln!(out, "title={}::{}", property(title), data(message));
}

/// Diagnostics (of `check`) as annotations: errors as `error`, warnings as `warning`.
pub(crate) fn diagnostics(diags: &[DiagnosticJson]) -> String {
    let mut out = String::new();
    for d in diags {
        let level = match d.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = d.message.clone();
        if let Some(help) = &d.help {
            let _ = write!(message, "\nhelp: {help}");
        }
        command(
            &mut out,
            level,
            Some((&d.file, d.line, d.column)),
            d.code,
            &message,
        );
    }
    out
}

/// A verdict as annotations: one for the decision (`notice` for deploy, `warning` for
/// approve and wait, `error` for deny) with its reasons, one `error` per evaluation
/// error at its location, and one `notice` per advisory rule.
pub(crate) fn verdict(v: &Verdict) -> String {
    let mut out = String::new();
    let level = match v.decision {
        Decision::Deploy => "notice",
        Decision::Approve | Decision::Wait => "warning",
        Decision::Deny => "error",
    };
    let mut message = format!(
        "{} {}",
        v.decision.as_str(),
        v.change.as_deref().unwrap_or("(no id)")
    );
    for r in &v.reasons {
        let _ = write!(message, "\n- {r}");
    }
    if let (Some(t), false) = (&v.earliest, v.decision == Decision::Deny) {
        let _ = write!(message, "\nearliest: {t}");
    }
    command(
        &mut out,
        level,
        None,
        &format!("changegate: {}", v.decision.as_str()),
        &message,
    );
    for e in &v.errors {
        let place = e.location.as_deref().and_then(super::split_location);
        command(
            &mut out,
            "error",
            place,
            "changegate: evaluation error",
            &e.message,
        );
    }
    for a in &v.advisory {
        command(
            &mut out,
            "notice",
            super::split_location(&a.location),
            "changegate: advisory",
            &format!("{} would require: {}", a.rule, a.would),
        );
    }
    out
}

/// Test results as annotations: one `error` per failing case, at the line of the
/// test file where the case starts, and one per file that cannot run, at its top.
pub(crate) fn tests(reports: &[FileReport]) -> String {
    let mut out = String::new();
    for r in reports {
        if let Some(e) = &r.error {
            let file = Some((r.file.as_str(), 1, 1));
            command(&mut out, "error", file, "changegate test: cannot run", e);
        }
        for c in r.cases.iter().filter(|c| !c.passed) {
            command(
                &mut out,
                "error",
                Some((r.file.as_str(), c.line, 1)),
                &format!("changegate test failed: {}", c.name),
                &c.failures.join("\n"),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{data, property};

    #[test]
    fn commands_are_escaped_as_the_runner_decodes_them() {
        assert_eq!(data("100% a\r\nb"), "100%25 a%0D%0Ab");
        assert_eq!(property("a:b,c%"), "a%3Ab%2Cc%25");
        assert_eq!(data("::error::x"), "::error::x");
    }
}
