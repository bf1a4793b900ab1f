//! Crashes found by fuzzing and by hand, each fed through the same API that found
//! it: no panic, no abort, and for the evaluator no `deploy` on an error.

use std::process::Command;

use changegate::{Limits, Policy};

/// `--max-depth 100000` let a policy of 300 nested brackets through to the
/// recursive parser, which overflowed the stack and aborted (exit 134). Parsing on
/// a 256 MiB stack (from main) moved the threshold to about 3,000 brackets. The
/// policy parser now caps nesting at 256 levels whatever the limit says.
#[test]
fn raised_max_depth_cannot_overflow_the_policy_parser() {
    let deep = format!(
        "policy \"p\"\ndefault deploy\nrule \"r\" {{ when {}change.ok{} then deploy }}\n",
        "(".repeat(1_000),
        ")".repeat(1_000)
    );
    let limits = Limits {
        max_depth: usize::MAX,
        ..Limits::default()
    };
    let err = Policy::parse_with_loader(&deep, "deep.gate", &limits, &|_| {
        Err(std::io::Error::other("no imports"))
    })
    .expect_err("too deep");
    assert!(
        err.iter()
            .any(|d| d.code == "changegate::too_deep" && d.message.contains("limit of 256")),
        "{}",
        err.render_plain()
    );

    let dir = std::env::temp_dir().join(format!("changegate-regress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    for n in [300, 1_000, 3_000, 20_000] {
        let path = dir.join(format!("deep{n}.gate"));
        std::fs::write(
            &path,
            deep.replace(&"(".repeat(1_000), &"(".repeat(n))
                .replace(&")".repeat(1_000), &")".repeat(n)),
        )
        .expect("write");
        let out = Command::new(env!("CARGO_BIN_EXE_changegate"))
            .args(["check", "--max-depth", "100000"])
            .arg(&path)
            .env("NO_COLOR", "1")
            .output()
            .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{n} brackets:\n{stderr}");
        assert!(
            stderr.contains("deeper than the limit of 256"),
            "{n}: {stderr}"
        );
    }
}
