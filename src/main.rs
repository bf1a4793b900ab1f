//! The `changegate` binary: the command line, its file walking, reports, test
//! runner, calendar rendering and schemas. It uses the library through its public
//! API (`changegate::…`) only.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
