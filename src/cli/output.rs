//! What every command writes through: standard output (or nothing, under
//! `--quiet`), diagnostics rendered for people, and the bad-input exit code. A leaf:
//! the commands use it, it uses none of them.

use std::io::{IsTerminal, Write};

/// Exit code for inputs that cannot be read or parsed at all.
pub(crate) const EXIT_BAD_INPUT: u8 = 1;

/// The exit code of a decision: 0 deploy, 10 approve, 11 wait, 12 deny (the
/// `EXIT_CODES` help text, docs/guide.md).
pub(crate) fn exit_code(decision: changegate::Decision) -> u8 {
    match decision {
        changegate::Decision::Deploy => 0,
        changegate::Decision::Approve => 10,
        changegate::Decision::Wait => 11,
        changegate::Decision::Deny => 12,
    }
}

/// `--quiet`: standard output goes nowhere.
pub(crate) static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Standard output, or a sink under `--quiet`.
pub(crate) fn stdout() -> Box<dyn Write> {
    if QUIET.load(std::sync::atomic::Ordering::Relaxed) {
        Box::new(std::io::sink())
    } else {
        Box::new(std::io::stdout().lock())
    }
}

/// Whether stderr gets colour: a terminal, and `NO_COLOR` unset or empty.
pub(crate) fn color() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Renders a miette diagnostic for people.
pub(crate) fn render(diag: &dyn miette::Diagnostic) -> String {
    let theme = if color() {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme).with_width(100);
    let mut out = String::new();
    if handler.render_report(&mut out, diag).is_err() {
        out = diag.to_string();
    }
    out
}
