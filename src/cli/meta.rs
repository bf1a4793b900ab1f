//! What a command line is expected to have besides its work: `--version` with the
//! build's commit and zone data, shell completions and a man page.

use std::io::Write;

use clap::CommandFactory;

use super::Cli;

/// `changegate 0.1.0 (commit 1a2b3c4d5e6f, zone data 2025b)`: the crate version, the
/// git commit it was built from (`unknown` outside a git checkout; see build.rs) and
/// the IANA time-zone database compiled in, which decides every window's instants.
pub(super) fn version() -> String {
    format!(
        "{} (commit {}, zone data {})",
        env!("CARGO_PKG_VERSION"),
        env!("CHANGEGATE_COMMIT"),
        chrono_tz::IANA_TZDB_VERSION
    )
}

/// The command-line definition, with the version filled in.
pub(super) fn command() -> clap::Command {
    // clap keeps the version for the process's life; one small string, once.
    let version: &'static str = Box::leak(version().into_boxed_str());
    Cli::command().version(version)
}

/// Prints the completion script for `shell`.
pub(super) fn completions(shell: clap_complete::Shell) -> u8 {
    let mut cmd = command();
    clap_complete::generate(shell, &mut cmd, "changegate", &mut super::output::stdout());
    0
}

/// Prints the man page (roff) of changegate, with a section per subcommand.
pub(super) fn man() -> u8 {
    let cmd = command();
    let mut out = super::output::stdout();
    if let Err(e) = clap_mangen::Man::new(cmd.clone()).render(&mut out) {
        eprintln!("error: cannot write the man page: {e}");
        return super::output::EXIT_BAD_INPUT;
    }
    for sub in cmd.get_subcommands() {
        let name: &'static str =
            Box::leak(format!("changegate-{}", sub.get_name()).into_boxed_str());
        let page = clap_mangen::Man::new(sub.clone().name(name));
        // Subcommand pages follow as sections of the same stream.
        if let Err(e) = page.render(&mut out) {
            eprintln!("error: cannot write the man page: {e}");
            return super::output::EXIT_BAD_INPUT;
        }
    }
    let _ = out.flush();
    0
}
