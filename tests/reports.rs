//! The CI report formats, each read back by an independent parser: JUnit by
//! Python's `xml.etree`, SARIF validated by Python's `jsonschema` against the
//! official 2.1.0 schema (tests/fixtures/sarif-schema-2.1.0.json, from the OASIS
//! SARIF repository), GitLab code quality and GitHub annotations against their
//! documented shapes. `.ci/run` installs `jsonschema` when it is missing.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::common::{self, Temp};

fn changegate(args: &[&str], dir: &Path) -> Output {
    common::changegate()
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap()
}

/// Runs a Python script on a file; returns its stdout, failing on a non-zero exit.
fn python(script: &str, file: &Path) -> String {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(file)
        .output()
        .expect("python3 (the independent parser) is installed");
    assert!(
        out.status.success(),
        "python rejected {}:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

const POLICY: &str = r#"policy "t"
group ops = ["alice", "bob"]
rule "docs" { when all change.files match "docs/**" then deploy }
default approve 1 from ops
"#;

/// A broken policy with an error and a warning, at a path that needs escaping.
const BROKEN: &str = "policy \"b\"\ngroup unused = [\"x\"]\nrule \"a\" { when change.kind == 1 then deny \"no\" }\nrule \"a\" { when true then deploy }\ndefault deploy\n";

#[test]
fn junit_is_xml_1_0_for_any_test_name() {
    let t = Temp::new("reports");
    t.file("t.gate", POLICY);
    // A bell, an escape (a terminal colour sequence), XML's own characters, and a
    // failing case.
    t.file(
        "t.test.yaml",
        r#"cases:
  - name: "bell \x07 & <tag> \"quoted\" ]]> \x1b[31mred"
    at: 2026-11-26T10:00:00Z
    change: { files: [docs/a.md] }
    expect: { decision: deploy }
  - name: "fails \x01"
    at: 2026-11-26T10:00:00Z
    change: { files: [src/a.rs] }
    expect: { decision: deny }
"#,
    );
    let out = changegate(&["test", "--format", "junit", "t.test.yaml"], &t.0);
    assert_eq!(out.status.code(), Some(1));
    let xml = t.file("junit.xml", std::str::from_utf8(&out.stdout).unwrap());
    let parsed = python(
        r#"
import json, sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = [{"name": c.get("name"), "time": float(c.get("time")),
          "failure": (c.find("failure").get("message") if c.find("failure") is not None else None)}
         for c in root.iter("testcase")]
print(json.dumps({"root": root.tag, "tests": root.get("tests"), "failures": root.get("failures"),
                  "time": float(root.get("time")), "cases": cases}))
"#,
        &xml,
    );
    let v: serde_json::Value = serde_json::from_str(&parsed).unwrap();
    assert_eq!(v["root"], "testsuites");
    assert_eq!(v["tests"], "2");
    assert_eq!(v["failures"], "1");
    assert_eq!(
        v["cases"][0]["name"], "bell \\u{7} & <tag> \"quoted\" ]]> \\u{1b}[31mred",
        "forbidden characters are shown, the rest kept: {v}"
    );
    assert_eq!(v["cases"][1]["name"], "fails \\u{1}");
    assert!(
        v["cases"][1]["failure"]
            .as_str()
            .unwrap()
            .contains("decision"),
        "{v}"
    );
    assert!(v["cases"][0]["time"].as_f64().unwrap() >= 0.0);
}

const SARIF_CHECK: &str = r#"
import json, sys, jsonschema
schema = json.load(open(sys.argv[1].rsplit("|", 1)[0]))
log = json.load(open(sys.argv[1].rsplit("|", 1)[1]))
jsonschema.Draft4Validator.check_schema(schema)
errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(log), key=str)
for e in errors:
    print("invalid:", list(e.path), e.message)
print(json.dumps([[r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["region"]["startLine"],
                   r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]]
                  for r in log["runs"][0]["results"]]))
"#;

fn sarif_of(t: &Temp, args: &[&str]) -> Vec<serde_json::Value> {
    let out = changegate(args, &t.0);
    let log = t.file("log.sarif", std::str::from_utf8(&out.stdout).unwrap());
    let schema =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/sarif-schema-2.1.0.json");
    // One argument, two paths: the file names here hold no `|`.
    let both = PathBuf::from(format!("{}|{}", schema.display(), log.display()));
    let printed = python(SARIF_CHECK, &both);
    let (invalid, last) = printed
        .trim_end()
        .rsplit_once('\n')
        .unwrap_or(("", printed.trim_end()));
    assert!(invalid.is_empty(), "SARIF does not validate:\n{invalid}");
    serde_json::from_str(last).unwrap()
}

#[test]
fn sarif_validates_against_the_2_1_0_schema() {
    let t = Temp::new("reports");
    t.file("a b#1.gate", BROKEN);
    t.file("ok.gate", POLICY);
    let results = sarif_of(&t, &["check", "--format", "sarif", "a b#1.gate", "ok.gate"]);
    let levels: Vec<&str> = results.iter().map(|r| r[1].as_str().unwrap()).collect();
    assert!(levels.contains(&"error"), "{results:?}");
    assert!(levels.contains(&"warning"), "{results:?}");
    assert!(
        results
            .iter()
            .any(|r| r[0] == "changegate::duplicate_name" && r[2] == 4),
        "{results:?}"
    );
    assert!(
        results.iter().all(|r| r[3] == "a%20b%231.gate"),
        "{results:?}"
    );
    // A clean policy is a valid log with no results.
    assert!(sarif_of(&t, &["check", "--format", "sarif", "ok.gate"]).is_empty());
}

#[test]
fn gitlab_code_quality_has_the_documented_fields() {
    let t = Temp::new("reports");
    t.file("b.gate", BROKEN);
    let out = changegate(&["check", "--format", "gitlab", "b.gate"], &t.0);
    assert_eq!(out.status.code(), Some(1));
    let issues: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert!(issues.len() >= 2, "{issues:?}");
    let mut prints = std::collections::BTreeSet::new();
    for i in &issues {
        assert!(
            i["description"].as_str().is_some_and(|d| !d.is_empty()),
            "{i}"
        );
        assert!(
            i["check_name"]
                .as_str()
                .unwrap()
                .starts_with("changegate::"),
            "{i}"
        );
        assert!(
            ["info", "minor", "major", "critical", "blocker"]
                .contains(&i["severity"].as_str().unwrap()),
            "{i}"
        );
        assert_eq!(i["location"]["path"], "b.gate");
        assert!(
            i["location"]["lines"]["begin"].as_u64().unwrap() >= 1,
            "{i}"
        );
        assert!(
            prints.insert(i["fingerprint"].as_str().unwrap().to_owned()),
            "unique fingerprints"
        );
    }
    // The same input, the same fingerprints: GitLab compares them across pipelines.
    let again = changegate(&["check", "--format", "gitlab", "b.gate"], &t.0);
    assert_eq!(again.stdout, out.stdout);
}

#[test]
fn github_annotations_are_workflow_commands() {
    let t = Temp::new("reports");
    t.file("b.gate", BROKEN);
    let out = changegate(&["check", "--format", "github", "b.gate"], &t.0);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let re = regex::Regex::new(
        r"^::(error|warning) file=b\.gate,line=\d+,col=\d+,title=changegate%3A%3A\w+::[^\r\n]+$",
    )
    .unwrap();
    assert!(!text.is_empty());
    for line in text.lines() {
        assert!(re.is_match(line), "not a workflow command: {line}");
    }
    assert!(text.contains("::error file=b.gate,line=4,"), "{text}");

    // A verdict: the decision, then one line per annotation; a reason with a
    // newline cannot start a command of its own.
    t.file("p.gate", POLICY);
    t.file("c.json", r#"{"id":"C-1","files":["src/x"],"author":"eve"}"#);
    let out = changegate(
        &[
            "evaluate",
            "-p",
            "p.gate",
            "-c",
            "c.json",
            "--at",
            "2026-11-26T10:00:00Z",
            "--format",
            "github",
        ],
        &t.0,
    );
    assert_eq!(out.status.code(), Some(10));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.starts_with("APPROVE"), "{text}");
    let warning = text
        .lines()
        .find(|l| l.starts_with("::warning "))
        .expect("an annotation");
    assert!(
        warning.starts_with(
            "::warning title=changegate%3A approve::approve C-1%0A- needs 1 more approval from ops"
        ),
        "{warning}"
    );
}

#[test]
fn markdown_verdict_escapes_what_it_quotes() {
    let t = Temp::new("reports");
    t.file("p.gate", POLICY);
    t.file("c.json", r#"{"id":"C-1 | <b>*x*</b>","files":["src/x"]}"#);
    let out = changegate(
        &[
            "evaluate",
            "-p",
            "p.gate",
            "-c",
            "c.json",
            "--at",
            "2026-11-26T10:00:00Z",
            "--format",
            "markdown",
        ],
        &t.0,
    );
    assert_eq!(out.status.code(), Some(10));
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(md.starts_with("### ✋ changegate: APPROVE"), "{md}");
    assert!(
        md.contains("Change **C-1 \\| &lt;b\\>\\*x\\*&lt;/b\\>**"),
        "{md}"
    );
    assert!(md.contains("| ops | 0 | 1 |"), "{md}");
}

#[test]
fn check_takes_folders_and_skips_modules() {
    let t = Temp::new("reports");
    std::fs::create_dir_all(t.0.join("policies/shared")).unwrap();
    t.file(
        "policies/shared/common.gate",
        "group ops = [\"alice\"]\nwindow night = daily 01:00-02:00 in \"UTC\"\n",
    );
    t.file(
        "policies/main.gate",
        "policy \"m\"\nimport \"shared/common.gate\"\nrule \"db\" { when change.kind == \"db\" then approve 1 from ops during night }\ndefault deploy\n",
    );
    let out = changegate(&["check", "policies"], &t.0);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A broken policy in the folder is found.
    t.file("policies/broken.gate", BROKEN);
    let out = changegate(&["check", "--format", "github", "policies"], &t.0);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("file=policies/broken.gate,"), "{text}");
    assert!(
        !text.contains("common.gate"),
        "modules are checked through their importers: {text}"
    );
    // A module named explicitly is checked on its own, as before.
    let out = changegate(&["check", "policies/shared/common.gate"], &t.0);
    assert_eq!(out.status.code(), Some(1));
    // A folder with no policy at all is an error, not a silent success.
    std::fs::create_dir_all(t.0.join("empty")).unwrap();
    let out = changegate(&["check", "empty"], &t.0);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn help_lists_every_exit_code() {
    let out = changegate(&["--help"], Path::new("."));
    let help = String::from_utf8(out.stdout).unwrap();
    for code in ["0 ", "10 ", "11 ", "12 ", "1 ", "2 "] {
        assert!(
            help.contains(&format!("\n  {code}")),
            "exit {code} in --help:\n{help}"
        );
    }
    let out = changegate(&["evaluate", "--no-such-flag"], Path::new("."));
    assert_eq!(out.status.code(), Some(2), "clap's usage error");
}

/// `test --format github` puts each failing case's annotation on the line where the
/// case starts, in YAML and in TOML test files.
#[test]
fn github_test_annotations_point_at_the_failing_case() {
    let t = Temp::new("reports");
    t.file("t.gate", POLICY);
    t.file(
        "t.test.yaml",
        "cases:\n  - name: passes\n    at: 2026-11-26T10:00:00Z\n    change: { files: [docs/a.md] }\n    expect: { decision: deploy }\n  - name: fails\n    at: 2026-11-26T10:00:00Z\n    change: { files: [src/a.rs] }\n    expect: { decision: deploy }\n",
    );
    t.file("u.gate", POLICY);
    t.file(
        "u.test.toml",
        "[[cases]]\nname = \"passes\"\nat = \"2026-11-26T10:00:00Z\"\nchange = { files = [\"docs/a.md\"] }\nexpect = { decision = \"deploy\" }\n\n[[cases]]\nname = \"fails too\"\nat = \"2026-11-26T10:00:00Z\"\nchange = { files = [\"src/a.rs\"] }\nexpect = { decision = \"deploy\" }\n",
    );
    let out = changegate(&["test", "--format", "github", "."], &t.0);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8(out.stdout).unwrap();
    let errors: Vec<&str> = text.lines().filter(|l| l.starts_with("::error ")).collect();
    assert_eq!(errors.len(), 2, "{text}");
    assert!(
        errors[0].starts_with(
            "::error file=./t.test.yaml,line=6,col=1,title=changegate test failed%3A fails::"
        ),
        "{}",
        errors[0]
    );
    // TOML: the second `[[cases]]` table starts on line 7; its item is placed there
    // or on its first key.
    assert!(
        errors[1].starts_with("::error file=./u.test.toml,line=7,col=1,")
            || errors[1].starts_with("::error file=./u.test.toml,line=8,col=1,"),
        "{}",
        errors[1]
    );
}

/// `changegate test -` reads a test file from standard input; its policy path is
/// relative to the current folder, and it must name one.
#[test]
fn a_test_file_from_standard_input() {
    let t = Temp::new("reports");
    t.file("t.gate", POLICY);
    let spec = "policy: t.gate\ncases:\n  - name: docs\n    at: 2026-11-26T10:00:00Z\n    change: { files: [docs/a.md] }\n    expect: { decision: deploy }\n";
    let out = common::output_with_stdin(
        common::changegate().args(["test", "-"]).current_dir(&t.0),
        spec,
    );
    assert_eq!(out.status.code(), Some(0), "{}", common::text(&out.stderr));
    assert!(
        common::text(&out.stdout).contains("<stdin>"),
        "{}",
        common::text(&out.stdout)
    );

    let failing = spec.replace("decision: deploy", "decision: deny");
    let out = common::output_with_stdin(
        common::changegate()
            .args(["test", "-", "--format", "github"])
            .current_dir(&t.0),
        &failing,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        common::text(&out.stdout).contains("::error file=<stdin>,line=3,col=1,"),
        "{}",
        common::text(&out.stdout)
    );

    // Malformed text on standard input is a failed file, never a pass.
    let out = common::output_with_stdin(
        common::changegate().args(["test", "-"]).current_dir(&t.0),
        "policy: t.gate\ncases: [ {name: x\n",
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        common::text(&out.stdout).contains("invalid YAML"),
        "{}",
        common::text(&out.stdout)
    );

    let nameless = spec.replace("policy: t.gate\n", "");
    let out = common::output_with_stdin(
        common::changegate().args(["test", "-"]).current_dir(&t.0),
        &nameless,
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(
        common::text(&out.stdout).contains("must name its policy"),
        "{}",
        common::text(&out.stdout)
    );
}
