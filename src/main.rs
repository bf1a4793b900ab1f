//! The `changegate` binary: all work happens in the library's `cli` module.

fn main() -> std::process::ExitCode {
    changegate::cli::main()
}
