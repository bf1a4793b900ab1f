//! `ci/install.sh`, the installer behind the GitHub Action and the GitLab template,
//! run under bash and dash with stand-ins for `curl` (serving a fake release from a
//! folder), `cargo` (a source build that leaves a marker binary) and `uname` (the
//! platform): a release binary is installed only when its checksum matches, a
//! mismatch or a broken archive installs nothing, and everything else builds from
//! source at the pinned revision.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::common::root;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

const SHELLS: [&str; 2] = ["bash", "dash"];
const REPO: &str = "https://example.test/changegate";

fn have_shell(shell: &str) -> bool {
    Command::new(shell)
        .args(["-c", "true"])
        .status()
        .is_ok_and(|s| s.success())
}

/// `curl [-fsSL] [--retry N] -o FILE URL`: copies `$SERVE/<path>` (the URL without
/// `https://example.test/`) to FILE, or fails as `curl -f` does on a 404 (22).
const CURL: &str = r#"#!/bin/sh
out=""
while [ $# -gt 1 ]; do
  case "$1" in
    -o) out=$2; shift 2 ;;
    --retry) shift 2 ;;
    *) shift ;;
  esac
done
url=$1
echo "curl $url" >> "$LOG"
path=${url#https://example.test/}
if [ -f "$SERVE/$path" ]; then
  cp "$SERVE/$path" "$out"
  exit 0
fi
exit 22
"#;

/// `cargo install … --root ROOT …`: logs its arguments and leaves ROOT/bin/changegate.
const CARGO: &str = r#"#!/bin/sh
echo "cargo $*" >> "$LOG"
root=""
while [ $# -gt 0 ]; do
  case "$1" in
    --root) root=$2; shift 2 ;;
    *) shift ;;
  esac
done
mkdir -p "$root/bin"
echo "built from source" > "$root/bin/changegate"
"#;

const UNAME: &str = r#"#!/bin/sh
case "$1" in
  -s) echo "$UNAME_S" ;;
  -m) echo "$UNAME_M" ;;
esac
"#;

struct Sandbox(PathBuf);

impl Sandbox {
    fn new() -> Sandbox {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "changegate-install-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        for sub in ["stubs", "serve", "home"] {
            std::fs::create_dir_all(dir.join(sub)).unwrap();
        }
        for (name, text) in [("curl", CURL), ("cargo", CARGO), ("uname", UNAME)] {
            let path = dir.join("stubs").join(name);
            std::fs::write(&path, text).unwrap();
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Sandbox(dir)
    }

    /// Publishes a release: `files` as `changegate-TAG-TARGET.tar.gz` holding a
    /// binary whose content is `binary`, and SHA256SUMS (`sums` overrides it).
    fn release(&self, tag: &str, target: &str, binary: &str, sums: Option<&str>) {
        let dir = self.0.join("serve/changegate/releases/download").join(tag);
        std::fs::create_dir_all(&dir).unwrap();
        let pack = self.0.join("pack");
        std::fs::create_dir_all(&pack).unwrap();
        let name = if target.contains("windows") {
            "changegate.exe"
        } else {
            "changegate"
        };
        std::fs::write(pack.join(name), binary).unwrap();
        let archive = format!("changegate-{tag}-{target}.tar.gz");
        let status = Command::new("tar")
            .arg("-czf")
            .arg(dir.join(&archive))
            .arg("-C")
            .arg(&pack)
            .arg(name)
            .status()
            .unwrap();
        assert!(status.success(), "tar");
        let sums = match sums {
            Some(s) => s.to_owned(),
            None => {
                let out = Command::new("sha256sum")
                    .arg(&archive)
                    .current_dir(&dir)
                    .output()
                    .unwrap();
                String::from_utf8(out.stdout).unwrap()
            }
        };
        std::fs::write(dir.join("SHA256SUMS"), sums).unwrap();
    }

    /// Runs `script` with `shell` on the platform `os`/`arch`; returns the exit code.
    fn run(&self, shell: &str, script: &str, os: &str, arch: &str, env: &[(&str, &str)]) -> i32 {
        let out = Command::new(shell)
            .arg("-c")
            .arg(script)
            .current_dir(&self.0)
            .env_clear()
            .env("PATH", format!("{}/stubs:/usr/bin:/bin", self.0.display()))
            .env("HOME", self.0.join("home"))
            .env("LOG", self.0.join("log"))
            .env("SERVE", self.0.join("serve"))
            .env("UNAME_S", os)
            .env("UNAME_M", arch)
            .envs(env.iter().copied())
            .output()
            .unwrap();
        out.status.code().unwrap_or(-1)
    }

    fn install(&self, shell: &str, version: &str, os: &str, arch: &str) -> i32 {
        let script = format!(
            "sh '{}' '{version}' '{REPO}' \"$HOME/.cargo/bin\"",
            root().join("ci/install.sh").display()
        );
        // `sh` in the script is the shell under test.
        let script = script.replacen("sh ", &format!("{shell} "), 1);
        self.run(shell, &script, os, arch, &[])
    }

    fn installed(&self) -> Option<String> {
        std::fs::read_to_string(self.0.join("home/.cargo/bin/changegate")).ok()
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.0.join("log")).unwrap_or_default()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn shells() -> impl Iterator<Item = &'static str> {
    SHELLS.into_iter().filter(|s| have_shell(s))
}

#[test]
fn a_tag_installs_the_checked_release_binary() {
    for shell in shells() {
        for (os, arch, target) in [
            ("Linux", "x86_64", "x86_64-unknown-linux-gnu"),
            ("Linux", "aarch64", "aarch64-unknown-linux-gnu"),
            ("Darwin", "arm64", "aarch64-apple-darwin"),
            ("Darwin", "x86_64", "x86_64-apple-darwin"),
        ] {
            let sandbox = Sandbox::new();
            sandbox.release("v1.2.3", target, "release binary\n", None);
            let code = sandbox.install(shell, "v1.2.3", os, arch);
            assert_eq!(code, 0, "{shell} {target}: {}", sandbox.log());
            assert_eq!(
                sandbox.installed().as_deref(),
                Some("release binary\n"),
                "{shell} {target}"
            );
            assert!(
                !sandbox.log().contains("cargo "),
                "{shell} {target}: no source build: {}",
                sandbox.log()
            );
            assert!(sandbox.log().contains(&format!(
                "curl {REPO}/releases/download/v1.2.3/changegate-v1.2.3-{target}.tar.gz"
            )));
        }
    }
}

#[test]
fn a_checksum_mismatch_installs_nothing() {
    for shell in shells() {
        let target = "x86_64-unknown-linux-gnu";
        let wrong = format!("{}  changegate-v1.2.3-{target}.tar.gz\n", "0".repeat(64));
        let cases: [(&str, Option<&str>); 3] = [
            ("a wrong sum", Some(&wrong)),
            ("no line for the archive", Some("")),
            ("no SHA256SUMS", None),
        ];
        for (what, sums) in cases {
            let sandbox = Sandbox::new();
            sandbox.release("v1.2.3", target, "tampered\n", sums);
            if what == "no SHA256SUMS" {
                std::fs::remove_file(
                    sandbox
                        .0
                        .join("serve/changegate/releases/download/v1.2.3/SHA256SUMS"),
                )
                .unwrap();
            }
            let code = sandbox.install(shell, "v1.2.3", "Linux", "x86_64");
            assert_ne!(code, 0, "{shell}, {what}");
            assert_eq!(
                sandbox.installed(),
                None,
                "{shell}, {what}: nothing installed"
            );
            assert!(
                !sandbox.log().contains("cargo "),
                "{shell}, {what}: no fallback to an unchecked build"
            );
        }
    }
}

#[test]
fn a_broken_archive_installs_nothing() {
    for shell in shells() {
        let sandbox = Sandbox::new();
        let target = "x86_64-unknown-linux-gnu";
        let dir = sandbox.0.join("serve/changegate/releases/download/v1.2.3");
        std::fs::create_dir_all(&dir).unwrap();
        let archive = format!("changegate-v1.2.3-{target}.tar.gz");
        std::fs::write(dir.join(&archive), "not a tarball").unwrap();
        let out = Command::new("sha256sum")
            .arg(&archive)
            .current_dir(&dir)
            .output()
            .unwrap();
        std::fs::write(dir.join("SHA256SUMS"), out.stdout).unwrap();
        let code = sandbox.install(shell, "v1.2.3", "Linux", "x86_64");
        assert_ne!(code, 0, "{shell}");
        assert_eq!(sandbox.installed(), None, "{shell}");
    }
}

#[test]
fn without_a_release_binary_it_builds_the_pinned_revision() {
    let sha = "37bee5f0000000000000000000000000000000aa";
    for shell in shells() {
        // A tag whose release has no binary for this platform, a platform no
        // release builds for, and a commit.
        for (version, os, arch, publish) in [
            ("v1.2.3", "Linux", "x86_64", Some("aarch64-apple-darwin")),
            (
                "v1.2.3",
                "FreeBSD",
                "amd64",
                Some("x86_64-unknown-linux-gnu"),
            ),
            (sha, "Linux", "x86_64", Some("x86_64-unknown-linux-gnu")),
        ] {
            let sandbox = Sandbox::new();
            if let Some(target) = publish {
                sandbox.release(version, target, "release binary\n", None);
            }
            let code = sandbox.install(shell, version, os, arch);
            assert_eq!(code, 0, "{shell} {version} {os}: {}", sandbox.log());
            assert_eq!(
                sandbox.installed().as_deref(),
                Some("built from source\n"),
                "{shell} {version} {os}"
            );
            let log = sandbox.log();
            assert!(
                log.contains(&format!("--git {REPO} --rev {version} changegate")),
                "{shell} {version} {os}: {log}"
            );
            assert!(log.contains("--locked"), "{shell}: {log}");
            if version == sha {
                assert!(!log.contains("curl "), "{shell}: a commit never downloads");
            }
        }
    }
}

#[test]
fn no_version_is_an_error() {
    for shell in shells() {
        let sandbox = Sandbox::new();
        assert_eq!(sandbox.install(shell, "", "Linux", "x86_64"), 1, "{shell}");
        assert_eq!(sandbox.installed(), None);
        assert_eq!(sandbox.log(), "");
    }
}

/// The targets the release workflow builds are exactly those the installer knows,
/// and the archive names agree.
#[test]
fn the_release_workflow_builds_what_the_installer_fetches() {
    let workflow: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap(),
    )
    .unwrap();
    let built: BTreeSet<String> = workflow["jobs"]["build"]["strategy"]["matrix"]["include"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["target"].as_str().unwrap().to_owned())
        .collect();
    let script = std::fs::read_to_string(root().join("ci/install.sh")).unwrap();
    let re = regex::Regex::new(r"\) echo ([a-z0-9_]+-[a-z0-9_-]+) ;;").unwrap();
    let known: BTreeSet<String> = re.captures_iter(&script).map(|c| c[1].to_owned()).collect();
    assert_eq!(built, known);
    let text = std::fs::read_to_string(root().join(".github/workflows/release.yml")).unwrap();
    assert!(text.contains(r#"archive="changegate-$TAG-${{ matrix.target }}.tar.gz""#));
    assert!(script.contains(r#"archive="changegate-$version-$target.tar.gz""#));
    assert!(text.contains("sha256sum changegate-*.tar.gz > SHA256SUMS"));
}

/// The action's install step and the GitLab template's `before_script` call the
/// installer as the tests above do.
#[test]
fn the_action_and_the_template_use_the_installer() {
    let action: serde_json::Value =
        serde_saphyr::from_str(&std::fs::read_to_string(root().join("action.yml")).unwrap())
            .unwrap();
    let steps = action["runs"]["steps"].as_array().unwrap();
    let install = steps
        .iter()
        .find(|s| s["name"] == "Install changegate")
        .expect("an install step");
    let template: serde_json::Value = serde_saphyr::from_str(
        &std::fs::read_to_string(root().join("ci/gitlab/changegate.yml")).unwrap(),
    )
    .unwrap();
    let before = template[".changegate"]["before_script"][0]
        .as_str()
        .unwrap()
        .to_owned();
    // The GitLab job fetches the installer at the pinned version, then runs it.
    let raw = root().join("ci/install.sh");
    for shell in shells() {
        let sandbox = Sandbox::new();
        sandbox.release(
            "v1.2.3",
            "x86_64-unknown-linux-gnu",
            "release binary\n",
            None,
        );
        let script = install["run"].as_str().unwrap();
        let root_dir = root().display().to_string();
        let code = sandbox.run(
            shell,
            script,
            "Linux",
            "x86_64",
            &[
                ("CG_VERSION", "v1.2.3"),
                ("CG_REPOSITORY", REPO),
                ("GITHUB_ACTION_PATH", &root_dir),
            ],
        );
        assert_eq!(code, 0, "{shell} action: {}", sandbox.log());
        assert_eq!(sandbox.installed().as_deref(), Some("release binary\n"));

        let sandbox = Sandbox::new();
        sandbox.release(
            "v1.2.3",
            "x86_64-unknown-linux-gnu",
            "release binary\n",
            None,
        );
        let served = sandbox.0.join("serve/changegate/raw/v1.2.3/ci");
        std::fs::create_dir_all(&served).unwrap();
        std::fs::copy(&raw, served.join("install.sh")).unwrap();
        let project = sandbox.0.join("project");
        std::fs::create_dir_all(&project).unwrap();
        let cargo_home = project.join(".cargo");
        let code = sandbox.run(
            shell,
            &format!("set -e\n{before}"),
            "Linux",
            "x86_64",
            &[
                ("CHANGEGATE_VERSION", "v1.2.3"),
                ("CHANGEGATE_REPOSITORY", REPO),
                ("CI_PROJECT_DIR", &project.display().to_string()),
                ("CARGO_HOME", &cargo_home.display().to_string()),
            ],
        );
        assert_eq!(code, 0, "{shell} template: {}", sandbox.log());
        assert_eq!(
            std::fs::read_to_string(cargo_home.join("bin/changegate"))
                .ok()
                .as_deref(),
            Some("release binary\n"),
            "{shell} template: {}",
            sandbox.log()
        );
    }
}
