//! The CI recipes' exit-code logic, tested where it lives: the shell steps are taken
//! from `action.yml`, `ci/gitlab/changegate.yml` and the recipes in docs/guide.md (not
//! copies), and run under bash and under dash with a stand-in `changegate` that exits
//! with each code the real one has. The deploy step must run only on 0.
//!
//! The runners are modelled as far as the recipes use them: a GitHub step runs when
//! every earlier step succeeded and its `if:` (only the form
//! `steps.ID.outputs.NAME == 'VALUE'` is understood) holds; a GitLab job runs when
//! every job it `needs` succeeded or failed with an `allow_failure` exit code, with
//! the `dotenv` variables of those jobs, its `before_script` and `script` run by one
//! shell under `set -e`, as the runner does.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::{Map, Value};

use crate::common::{root, temp_path};

/// Every exit code of changegate: the four decisions, bad input, and clap's usage error.
const CODES: [i32; 6] = [0, 10, 11, 12, 1, 2];
const SHELLS: [&str; 2] = ["bash", "dash"];

/// The stand-in: `evaluate` and `test` exit with `$STUB_CODE` (after writing a
/// verdict-like JSON for `--format json`); everything else succeeds.
const STUB: &str = r#"#!/bin/sh
case " $* " in
  *" --format json "*) printf '{\n  "decision": "stub",\n  "earliest": "2026-11-27T03:00:00Z",\n  "errors": []\n}\n' ;;
  *) echo "stub: $*" ;;
esac
case "$1" in
  evaluate | test) exit "$STUB_CODE" ;;
esac
exit 0
"#;

fn yaml(text: &str) -> Value {
    serde_saphyr::from_str(text).expect("valid YAML")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).expect(path)
}

/// The ```yaml block of a doc whose first line is `# NAME`.
fn doc_block(doc: &str, name: &str) -> Value {
    let text = read(doc);
    let marker = format!("```yaml\n# {name}\n");
    let start = text
        .find(&marker)
        .unwrap_or_else(|| panic!("{doc}: no {name} block"))
        + 8;
    let end = start + text[start..].find("```").unwrap();
    yaml(&text[start..end])
}

fn have_shell(shell: &str) -> bool {
    Command::new(shell)
        .arg("-c")
        .arg("true")
        .status()
        .is_ok_and(|s| s.success())
}

/// A scratch folder with the stub at `.cargo/bin/changegate` and a `deploy.sh`
/// that leaves `deployed` behind.
struct Sandbox(PathBuf);

impl Sandbox {
    fn new() -> Sandbox {
        let dir = temp_path("pipeline");
        std::fs::create_dir_all(dir.join(".cargo/bin")).unwrap();
        let stub = dir.join(".cargo/bin/changegate");
        std::fs::write(&stub, STUB).unwrap();
        let deploy = dir.join("deploy.sh");
        std::fs::write(&deploy, "#!/bin/sh\necho deployed > deployed\n").unwrap();
        // The review systems' clients, as the recipes call them: an empty answer.
        let gh = dir.join(".cargo/bin/gh");
        std::fs::write(&gh, "#!/bin/sh\necho '[]'\n").unwrap();
        let glab = dir.join(".cargo/bin/glab");
        std::fs::write(&glab, "#!/bin/sh\necho '{}'\n").unwrap();
        for f in [&stub, &deploy, &gh, &glab] {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(f, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        Sandbox(dir)
    }

    fn deployed(&self) -> bool {
        self.0.join("deployed").exists()
    }

    /// Runs `script` with `shell`, in the sandbox, with `env` and the stub's code;
    /// returns the exit code.
    fn run(
        &self,
        shell: &str,
        errexit: bool,
        script: &str,
        env: &BTreeMap<String, String>,
        code: i32,
    ) -> i32 {
        let mut cmd = Command::new(shell);
        if errexit {
            cmd.arg("-e");
        }
        cmd.arg("-c")
            .arg(script)
            .current_dir(&self.0)
            .env_clear()
            .env(
                "PATH",
                format!("{}/.cargo/bin:/usr/bin:/bin", self.0.display()),
            )
            .env("HOME", &self.0)
            .env("STUB_CODE", code.to_string())
            .envs(env);
        let out = cmd.output().expect("run the shell");
        out.status.code().unwrap_or(-1)
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `KEY=VALUE` lines (GitHub's `$GITHUB_OUTPUT`, GitLab's dotenv).
fn key_values(path: &Path) -> BTreeMap<String, String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

fn str_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        _ => String::new(),
    }
}

// ---- GitHub Actions ----

/// Whether an `if:` holds, given each step's outputs.
fn github_if(expr: Option<&str>, outputs: &BTreeMap<String, BTreeMap<String, String>>) -> bool {
    let Some(expr) = expr else { return true };
    if expr == "always()" {
        return true;
    }
    let re = regex::Regex::new(r"^steps\.([\w-]+)\.outputs\.([\w-]+) == '([\w-]+)'$").unwrap();
    let caps = re
        .captures(expr.trim())
        .unwrap_or_else(|| panic!("the model does not understand `if: {expr}`"));
    outputs
        .get(&caps[1])
        .and_then(|o| o.get(&caps[2]))
        .is_some_and(|v| v == &caps[3])
}

/// Runs the composite action's gate step with these `with:` inputs; returns the
/// step's exit code and its outputs.
fn run_action(
    sandbox: &Sandbox,
    shell: &str,
    with: &Map<String, Value>,
    code: i32,
) -> (i32, BTreeMap<String, String>) {
    let action = yaml(&read("action.yml"));
    let inputs = action["inputs"].as_object().unwrap();
    let steps = action["runs"]["steps"].as_array().unwrap();
    let gate = steps
        .iter()
        .find(|s| s["id"] == "gate")
        .expect("a step with id gate");
    assert_eq!(
        gate["shell"], "bash",
        "composite run steps name their shell"
    );
    let mut env = BTreeMap::new();
    let input_re = regex::Regex::new(r"^\$\{\{ inputs\.([\w-]+) \}\}$").unwrap();
    for (key, value) in gate["env"].as_object().unwrap() {
        let name = &input_re
            .captures(value.as_str().unwrap())
            .expect("env from an input")[1];
        let v = with
            .get(name)
            .map(str_of)
            .unwrap_or_else(|| str_of(&inputs[name]["default"]));
        env.insert(key.clone(), v);
    }
    let out_file = sandbox.0.join("github_output");
    let _ = std::fs::remove_file(&out_file);
    env.insert("GITHUB_OUTPUT".into(), out_file.display().to_string());
    env.insert(
        "GITHUB_STEP_SUMMARY".into(),
        sandbox.0.join("summary.md").display().to_string(),
    );
    env.insert("RUNNER_TEMP".into(), sandbox.0.display().to_string());
    // GitHub runs `shell: bash` as `bash -e {0}`; the same script under dash shows
    // it needs nothing bash has.
    let status = sandbox.run(shell, true, gate["run"].as_str().unwrap(), &env, code);
    (status, key_values(&out_file))
}

/// Runs a workflow job's steps as the runner would; returns whether the last step
/// ran and the outputs of the gate.
fn run_workflow_job(
    sandbox: &Sandbox,
    shell: &str,
    job: &Value,
    code: i32,
    overrides: &Map<String, Value>,
) -> BTreeMap<String, String> {
    let mut outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut failed = false;
    for step in job["steps"].as_array().unwrap() {
        let cond = step["if"].as_str();
        let runs = if cond == Some("always()") {
            true
        } else {
            !failed && github_if(cond, &outputs)
        };
        if !runs {
            continue;
        }
        let uses = step["uses"].as_str().unwrap_or("");
        if uses.contains("/changegate@") {
            let mut with = step["with"].as_object().cloned().unwrap_or_default();
            with.extend(overrides.clone());
            let (status, out) = run_action(sandbox, shell, &with, code);
            failed |= status != 0;
            if let Some(id) = step["id"].as_str() {
                outputs.insert(id.to_owned(), out);
            }
        } else if let Some(script) = step["run"].as_str() {
            let status = sandbox.run(shell, true, script, &BTreeMap::new(), code);
            failed |= status != 0;
        }
        // Other actions (checkout, upload-artifact) succeed.
    }
    outputs.remove("gate").unwrap_or_default()
}

#[test]
fn github_recipe_deploys_only_on_exit_0() {
    let workflow = doc_block("docs/guide.md", ".github/workflows/gate.yml");
    assert!(
        workflow.get("on").is_some(),
        "the workflow needs an `on:` trigger"
    );
    let job = &workflow["jobs"]["gate"];
    for shell in SHELLS.iter().filter(|s| have_shell(s)) {
        for allow_pending in [false, true] {
            for code in CODES {
                let sandbox = Sandbox::new();
                let mut overrides = Map::new();
                if allow_pending {
                    overrides.insert("allow-pending".into(), Value::String("true".into()));
                }
                let out = run_workflow_job(&sandbox, shell, job, code, &overrides);
                assert_eq!(
                    sandbox.deployed(),
                    code == 0,
                    "{shell}, exit {code}, allow-pending {allow_pending}: deployed {}",
                    sandbox.deployed()
                );
                let decision = match code {
                    0 => "deploy",
                    10 => "approve",
                    11 => "wait",
                    12 => "deny",
                    _ => "error",
                };
                assert_eq!(
                    out.get("decision").map(String::as_str),
                    Some(decision),
                    "{shell} {code}"
                );
                assert_eq!(
                    out.get("exit-code"),
                    Some(&code.to_string()),
                    "{shell} {code}"
                );
                assert_eq!(
                    out.get("earliest").map(String::as_str),
                    Some("2026-11-27T03:00:00Z"),
                    "{shell} {code}: earliest read from the verdict"
                );
            }
        }
    }
}

#[test]
fn the_action_fails_the_step_unless_deploy_or_pass() {
    for shell in SHELLS.iter().filter(|s| have_shell(s)) {
        for code in CODES {
            for command in ["evaluate", "test"] {
                let sandbox = Sandbox::new();
                let mut with = Map::new();
                with.insert("command".into(), Value::String(command.into()));
                with.insert("policy".into(), Value::String("p.gate".into()));
                with.insert("change".into(), Value::String("c.json".into()));
                let (status, out) = run_action(&sandbox, shell, &with, code);
                assert_eq!(
                    status == 0,
                    code == 0,
                    "{shell} {command} exit {code}: step status {status}"
                );
                if code != 0 {
                    assert_eq!(
                        status, code,
                        "{shell} {command}: the step keeps changegate's code"
                    );
                }
                let summary =
                    std::fs::read_to_string(sandbox.0.join("summary.md")).unwrap_or_default();
                assert!(
                    !summary.is_empty(),
                    "{shell} {command} {code}: a job summary"
                );
                if command == "test" {
                    let want = if code == 0 { "pass" } else { "fail" };
                    assert_eq!(out.get("decision").map(String::as_str), Some(want));
                }
            }
        }
    }
}

// ---- GitLab CI ----

/// Deep-merges `over` into `base`, as GitLab's `extends` does (maps merge, the rest
/// is replaced).
fn merge(base: &mut Value, over: &Value) {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            for (k, v) in o {
                match b.get_mut(k) {
                    Some(slot) => merge(slot, v),
                    None => {
                        b.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (b, o) => *b = o.clone(),
    }
}

/// The job with its `extends` chain resolved against `all`.
fn resolve(all: &Map<String, Value>, job: &Value) -> Value {
    let parents: Vec<String> = match &job["extends"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a.iter().map(str_of).collect(),
        _ => Vec::new(),
    };
    let mut out = Value::Object(Map::new());
    for p in parents {
        let parent = all
            .get(&p)
            .unwrap_or_else(|| panic!("`extends: {p}` not found"));
        merge(&mut out, &resolve(all, parent));
    }
    let mut own = job.clone();
    if let Value::Object(m) = &mut own {
        m.remove("extends");
    }
    merge(&mut out, &own);
    out
}

fn lines(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().map(str_of).collect(),
        Value::String(s) => vec![s.clone()],
        _ => Vec::new(),
    }
}

/// `$NAME` and `${NAME}` replaced from `vars`, as GitLab expands variables.
fn expand(value: &str, vars: &BTreeMap<String, String>) -> String {
    let re = regex::Regex::new(r"\$\{?(\w+)\}?").unwrap();
    re.replace_all(value, |c: &regex::Captures<'_>| {
        vars.get(&c[1]).cloned().unwrap_or_default()
    })
    .into_owned()
}

/// Runs a `.gitlab-ci.yml` (its `include` of the template resolved locally); returns
/// each job's exit code, or None for a job that did not run.
fn run_gitlab(
    sandbox: &Sandbox,
    shell: &str,
    ci: &Value,
    code: i32,
    tweak: &dyn Fn(&mut Map<String, Value>),
) -> BTreeMap<String, Option<i32>> {
    let mut all: Map<String, Value> = Map::new();
    let include = ci["include"]
        .as_array()
        .expect("the recipe includes the template");
    for inc in include {
        let remote = inc["remote"].as_str().unwrap();
        assert!(remote.ends_with("/ci/gitlab/changegate.yml"), "{remote}");
        all.extend(
            yaml(&read("ci/gitlab/changegate.yml"))
                .as_object()
                .unwrap()
                .clone(),
        );
    }
    all.extend(ci.as_object().unwrap().clone());
    tweak(&mut all);
    let globals: BTreeMap<String, String> = ci["variables"]
        .as_object()
        .map(|m| m.iter().map(|(k, v)| (k.clone(), str_of(v))).collect())
        .unwrap_or_default();
    let reserved = ["include", "variables", "stages", "default", "workflow"];
    let mut results: BTreeMap<String, Option<i32>> = BTreeMap::new();
    let mut dotenv: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for (name, job) in ci.as_object().unwrap() {
        if name.starts_with('.') || reserved.contains(&name.as_str()) {
            continue;
        }
        let job = resolve(&all, all.get(name).unwrap_or(job));
        let needs = lines(&job["needs"]);
        let allowed: Vec<i32> = job_allowed(&all, &needs);
        let ready = needs.iter().all(|n| {
            results
                .get(n)
                .copied()
                .flatten()
                .is_some_and(|c| c == 0 || allowed.contains(&c))
        });
        if !ready {
            results.insert(name.clone(), None);
            continue;
        }
        let mut env: BTreeMap<String, String> = BTreeMap::new();
        env.insert("CI_PROJECT_DIR".into(), sandbox.0.display().to_string());
        env.extend(globals.clone());
        // Job variables (its own and inherited) override global ones.
        if let Some(vars) = job["variables"].as_object() {
            for (k, v) in vars {
                let value = expand(&str_of(v), &env);
                env.insert(k.clone(), value);
            }
        }
        for n in &needs {
            env.extend(dotenv.get(n).cloned().unwrap_or_default());
        }
        let mut script = lines(&job["before_script"]);
        script.extend(lines(&job["script"]));
        let _ = std::fs::remove_file(sandbox.0.join("changegate.env"));
        let status = sandbox.run(shell, true, &script.join("\n"), &env, code);
        if job["artifacts"]["reports"]["dotenv"].is_string() {
            let file = sandbox
                .0
                .join(str_of(&job["artifacts"]["reports"]["dotenv"]));
            dotenv.insert(name.clone(), key_values(&file));
        }
        results.insert(name.clone(), Some(status));
    }
    results
}

/// The exit codes the needed jobs may fail with and still let this job run.
fn job_allowed(all: &Map<String, Value>, needs: &[String]) -> Vec<i32> {
    needs
        .iter()
        .filter_map(|n| all.get(n))
        .map(|j| resolve(all, j))
        .flat_map(|j| {
            j["allow_failure"]["exit_codes"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_i64)
                        .map(|c| c as i32)
                        .collect::<Vec<_>>()
                })
                .unwrap_or_default()
        })
        .collect()
}

#[test]
fn gitlab_recipe_deploys_only_on_exit_0() {
    let ci = doc_block("docs/guide.md", ".gitlab-ci.yml");
    for shell in SHELLS.iter().filter(|s| have_shell(s)) {
        for code in CODES {
            let sandbox = Sandbox::new();
            let results = run_gitlab(&sandbox, shell, &ci, code, &|_| {});
            assert_eq!(
                results["gate"],
                Some(code),
                "{shell}: the gate job keeps changegate's code"
            );
            assert_eq!(
                sandbox.deployed(),
                code == 0,
                "{shell}, exit {code}: {results:?}"
            );
            // Even if someone lets the gate "fail" with 10 or 11, the guard holds.
            let sandbox = Sandbox::new();
            let results = run_gitlab(&sandbox, shell, &ci, code, &|all| {
                let gate = all.get_mut("gate").unwrap().as_object_mut().unwrap();
                gate.insert(
                    "allow_failure".into(),
                    serde_json::json!({ "exit_codes": [10, 11] }),
                );
            });
            assert_eq!(
                sandbox.deployed(),
                code == 0,
                "{shell}, exit {code}, allow_failure: {results:?}"
            );
        }
    }
}

#[test]
fn gitlab_report_jobs_keep_the_exit_code() {
    let template = yaml(&read("ci/gitlab/changegate.yml"));
    let all = template.as_object().unwrap();
    for shell in SHELLS.iter().filter(|s| have_shell(s)) {
        for (job, report) in [
            (".changegate-test", "changegate-junit.xml"),
            (".changegate-check", "gl-code-quality-report.json"),
        ] {
            let resolved = resolve(all, &all[job]);
            let reports = &resolved["artifacts"]["reports"];
            assert!(
                reports.as_object().unwrap().values().any(|v| v == report),
                "{job} reports {report}"
            );
            for code in CODES {
                let sandbox = Sandbox::new();
                let mut env = BTreeMap::new();
                env.insert(
                    "CARGO_HOME".into(),
                    sandbox.0.join(".cargo").display().to_string(),
                );
                env.insert("CHANGEGATE_VERSION".into(), "abc".into());
                env.insert("CHANGEGATE_PATHS".into(), "policies/".into());
                let mut script = lines(&resolved["before_script"]);
                script.extend(lines(&resolved["script"]));
                // `check` is stubbed to succeed; only `test` carries the code.
                let status = sandbox.run(shell, true, &script.join("\n"), &env, code);
                let want = if job == ".changegate-test" { code } else { 0 };
                assert_eq!(status, want, "{shell} {job} exit {code}");
                assert!(
                    sandbox.0.join(report).exists(),
                    "{shell} {job}: {report} written"
                );
            }
        }
    }
}

// ---- pre-commit ----

/// Runs each hook of `.pre-commit-hooks.yaml` as pre-commit would (entry, args, then
/// the matching file names unless `pass_filenames: false`) in a small policy
/// repository: all pass, and the fmt hook catches a badly laid out policy.
#[test]
fn pre_commit_hooks_run_in_a_policy_repository() {
    let hooks = yaml(&read(".pre-commit-hooks.yaml"));
    let hooks = hooks.as_array().unwrap();
    let ids: Vec<String> = hooks.iter().map(|h| str_of(&h["id"])).collect();
    assert_eq!(
        ids,
        ["changegate-check", "changegate-fmt", "changegate-test"]
    );
    let sandbox = Sandbox::new();
    let dir = &sandbox.0;
    std::fs::create_dir_all(dir.join("shared")).unwrap();
    std::fs::write(dir.join("shared/people.gate"), "group ops = [\"alice\"]\n").unwrap();
    std::fs::write(
        dir.join("p.gate"),
        "policy \"p\"\n\nimport \"shared/people.gate\"\n\ndefault approve 1 from ops\n",
    )
    .unwrap();
    std::fs::write(
        dir.join("p.test.yaml"),
        "cases:\n  - name: needs ops\n    at: 2026-11-26T10:00:00Z\n    change: {}\n    expect: { decision: approve }\n",
    )
    .unwrap();
    let files = ["p.gate", "p.test.yaml", "shared/people.gate"];
    let run = |hook: &Value| {
        let entry: Vec<String> = str_of(&hook["entry"])
            .split(' ')
            .map(str::to_owned)
            .collect();
        assert_eq!(entry[0], "changegate");
        let mut args: Vec<String> = entry[1..].to_vec();
        args.extend(lines(&hook["args"]));
        if hook["pass_filenames"] != false {
            let re = regex::Regex::new(hook["files"].as_str().unwrap()).unwrap();
            args.extend(
                files
                    .iter()
                    .filter(|f| re.is_match(f))
                    .map(|f| (*f).to_owned()),
            );
        }
        Command::new(env!("CARGO_BIN_EXE_changegate"))
            .args(&args)
            .current_dir(dir)
            .output()
            .unwrap()
    };
    for hook in hooks {
        let out = run(hook);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}: {}{}",
            hook["id"],
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    std::fs::write(
        dir.join("p.gate"),
        "policy \"p\"\nimport \"shared/people.gate\"\ndefault   approve 1 from ops\n",
    )
    .unwrap();
    assert_eq!(
        run(&hooks[1]).status.code(),
        Some(1),
        "fmt --check catches the layout"
    );
}
