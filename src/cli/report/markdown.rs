//! The verdict as GitHub-flavoured Markdown, for a job summary
//! (`$GITHUB_STEP_SUMMARY`) or a merge-request comment.

use std::fmt::Write as _;

use changegate::{Decision, Verdict};

/// Escapes text so Markdown shows it literally: punctuation that Markdown or a table
/// reads is backslash-escaped, HTML is neutralised, and a line break becomes a space.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '{' | '}' | '[' | ']' | '#' | '+' | '!' | '|' | '~' | '>' => {
                out.push('\\');
                out.push(c);
            }
            '<' => out.push_str("&lt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' => out.push(' '),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// The verdict as Markdown: a headline with the decision, then why, approvals,
/// windows, freeze, what matched, errors and advisory rules.
pub(crate) fn verdict(v: &Verdict) -> String {
    let mut out = String::new();
    head(&mut out, v);
    errors(&mut out, v);
    approvals(&mut out, v);
    windows(&mut out, v);
    matched(&mut out, v);
    advisory(&mut out, v);
    out
}

/// The headline, the change and policy, `earliest` and **Why**.
fn head(out: &mut String, v: &Verdict) {
    let (mark, word) = match v.decision {
        Decision::Deploy => ("✅", "DEPLOY: the change may go now"),
        Decision::Approve => ("✋", "APPROVE: approvals are missing"),
        Decision::Wait => ("⏳", "WAIT: outside its windows or frozen"),
        Decision::Deny => ("⛔", "DENY: the change must not go"),
    };
    let _ = writeln!(out, "### {mark} changegate: {word}\n");
    let _ = writeln!(
        out,
        "Change **{}** against policy **{}** at {}.\n",
        esc(v.change.as_deref().unwrap_or("(no id)")),
        esc(&v.policy.name),
        esc(&v.at)
    );
    if v.decision != Decision::Deny {
        if let Some(t) = &v.earliest {
            let _ = writeln!(out, "Earliest: **{}**\n", esc(t));
        }
    }
    if !v.reasons.is_empty() {
        let _ = writeln!(out, "**Why**\n");
        for r in &v.reasons {
            let _ = writeln!(out, "- {}", esc(r));
        }
        out.push('\n');
    }
}

/// **Errors**, each with its rule and location.
fn errors(out: &mut String, v: &Verdict) {
    if v.errors.is_empty() {
        return;
    }
    let _ = writeln!(out, "**Errors**\n");
    for e in &v.errors {
        let _ = write!(out, "- {}", esc(&e.message));
        if let Some(rule) = &e.rule {
            let _ = write!(out, " (in {}", esc(&rule.to_string()));
            if let Some(loc) = &e.location {
                let _ = write!(out, " at `{}`", loc.replace('`', "'"));
            }
            out.push(')');
        }
        out.push('\n');
    }
    out.push('\n');
}

/// The approvals table, a row per group.
fn approvals(out: &mut String, v: &Verdict) {
    if v.approvals.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "| approvals from | have | required | approved by | ignored |"
    );
    let _ = writeln!(out, "|---|---:|---:|---|---|");
    for a in &v.approvals {
        let ignored: Vec<String> = a
            .ignored
            .iter()
            .map(|i| format!("{} ({})", esc(&i.by), esc(i.why.as_str())))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            esc(&a.group),
            a.have,
            a.required,
            esc(&a.approved_by.join(", ")),
            ignored.join(", ")
        );
    }
    out.push('\n');
}

/// The windows, freeze and break glass.
fn windows(out: &mut String, v: &Verdict) {
    if !v.window.names.is_empty() {
        let _ = write!(
            out,
            "Windows {}: **{}**",
            esc(&v.window.names.join(", ")),
            if v.window.open { "open" } else { "closed" }
        );
        if let Some(t) = &v.window.closes {
            let _ = write!(out, ", closes {}", esc(t));
        }
        if let Some(t) = &v.window.next_open {
            let _ = write!(out, ", next opens {}", esc(t));
        }
        out.push_str(".\n\n");
    }
    if let Some(f) = &v.freeze {
        let _ = writeln!(
            out,
            "Frozen by {} until {}.\n",
            esc(&f.names.join(", ")),
            esc(f.until.as_deref().unwrap_or("beyond the horizon"))
        );
    }
    if v.break_glass {
        let _ = writeln!(
            out,
            "Break glass: freezes and windows are lifted; this change will be reviewed.\n"
        );
    }
}

/// **Matched**: the rules, or the default.
fn matched(out: &mut String, v: &Verdict) {
    if v.matched.is_empty() && !v.default_applied {
        return;
    }
    let _ = writeln!(out, "**Matched**\n");
    for m in &v.matched {
        let _ = writeln!(
            out,
            "- {} (`{}`)",
            esc(&m.rule),
            m.location.replace('`', "'")
        );
    }
    if v.default_applied {
        let _ = writeln!(out, "- no rule matched: the default applies");
    }
    out.push('\n');
}

/// **Advisory** rules.
fn advisory(out: &mut String, v: &Verdict) {
    if v.advisory.is_empty() {
        return;
    }
    let _ = writeln!(out, "**Advisory** (not enforced)\n");
    for a in &v.advisory {
        let _ = writeln!(
            out,
            "- {} would require: {} (`{}`)",
            esc(&a.rule),
            esc(&a.would),
            a.location.replace('`', "'")
        );
    }
    out.push('\n');
}

#[cfg(test)]
mod tests {
    use super::esc;

    #[test]
    fn markdown_and_html_are_shown_literally() {
        assert_eq!(esc("a|b"), "a\\|b");
        assert_eq!(esc("<script>"), "&lt;script\\>");
        assert_eq!(esc("**x**\nnext"), "\\*\\*x\\*\\* next");
        assert_eq!(esc("bell\u{7}"), "bell\\u{7}");
    }
}
