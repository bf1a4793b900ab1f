//! Helpers shared by the integration tests: the `changegate` binary, temporary
//! folders, reading a process's output, and comparing JSON.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::Value;

/// The `changegate` binary cargo built for these tests.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_changegate");

/// The repository root (where `policies/` and `docs/` are).
pub(crate) fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The binary with `NO_COLOR=1`, so that output has no ANSI escapes.
pub(crate) fn changegate() -> Command {
    let mut c = Command::new(BIN);
    c.env("NO_COLOR", "1");
    c
}

/// Runs `cmd` with `input` on its standard input and waits for it.
pub(crate) fn output_with_stdin(cmd: &mut Command, input: &str) -> Output {
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn changegate");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("wait")
}

/// Bytes as text, invalid UTF-8 replaced (for messages and `contains` checks).
pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// A fresh path under the system's temporary folder, `changegate-TAG-PID-N`: unique
/// within this test process (one counter for every module, since all of them share
/// the process id) and across processes. Nothing is created.
pub(crate) fn temp_path(tag: &str) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    std::env::temp_dir().join(format!(
        "changegate-{tag}-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ))
}

/// A temporary folder, removed when dropped.
pub(crate) struct Temp(pub(crate) PathBuf);

impl Temp {
    /// Creates an empty folder named after `tag` (see [`temp_path`]).
    pub(crate) fn new(tag: &str) -> Temp {
        let dir = temp_path(tag);
        std::fs::create_dir_all(&dir).expect("create temp dir");
        Temp(dir)
    }

    /// Writes `text` to `name` in the folder (creating its parent folders).
    pub(crate) fn file(&self, name: &str, text: &str) -> PathBuf {
        let p = self.0.join(name);
        if let Some(parent) = p.parent() {
            std::fs::create_dir_all(parent).expect("create temp dir");
        }
        std::fs::write(&p, text).expect("write temp file");
        p
    }
}

impl Drop for Temp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

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
