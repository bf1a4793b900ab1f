//! Every ```gate block in the documentation is checked, so the docs cannot drift
//! from the implementation.
//!
//! Files: `docs/language.md`, `docs/time.md`, `docs/testing.md` and `docs/lints.md`, and
//! `docs/guide.md` and `README.md` when they exist.
//!
//! Fence tags (the info string after the backticks, comma-separated):
//!
//! * ```` ```gate ```` — must check cleanly (warnings allowed).
//! * ```` ```gate,fails ```` — must be rejected; the block's first comment line reads
//!   `# error: changegate::code`, and that code must be among the diagnostics.
//! * ```` ```gate,warns ```` — must check, with the code named by the first comment
//!   line (`# warning: changegate::code`) among the policy's warnings.
//! * ```` ```gate,verdict ```` — must check; the next block, which must follow
//!   immediately and be tagged ```` ```json ````, holds one object (or a list of them)
//!   `{"change": {...}, "at": "RFC 3339", "expect": {...}, "inventory": {...}?}`.
//!   The policy is evaluated and `expect` must be a subset of the verdict JSON
//!   (objects key by key, lists and scalars exactly, as in `tests/cases.rs`).
//!
//! A block that starts (after comments) with `policy`, or is tagged `whole`, is a
//! whole policy. Any other block is a fragment, wrapped into a policy before checking:
//!
//! * items (`schema`, `group`, `window`, `freeze`, `rule`, `default`, `import`): put after
//!   `policy "doc"` and the [`PRELUDE`] declarations (those the fragment does not
//!   declare itself), followed by `default deploy` unless it has its own `default`;
//! * an outcome (`deploy`, `approve`, `deny`, `break glass`, `during`): becomes
//!   `rule "doc" { when true then <fragment> }`;
//! * anything else is a condition: `rule "doc" { when <fragment> then deploy }`.
//!
//! A block whose first line is `# file: PATH` is a module: it is not checked alone
//! but served to the policies that `import "PATH"` it (policies are named `docs`, so
//! a root's import paths are the module paths themselves). Every module must be
//! imported by some block.
//!
//! Policies are built with `Policy::parse_with_loader(src, "docs", …)`, which is
//! `Policy::parse(src, "docs")` plus an in-memory loader for the modules.

use crate::common::subset;
use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use changegate::{Change, Diagnostics, Inventory, Limits, Policy};
use serde_json::Value;

/// The declarations fragments may use; `docs/language.md` shows them verbatim.
const PRELUDE: &str = r#"group netops   = ["alice", "bob", "carol"]
group security = ["dave", "erin"]
group cab      = ["frank", "grace", "heidi"]
window weeknights = mon..thu 22:00-04:00 in "America/New_York"
window sunday     = sun 01:00-05:00 in "Europe/Berlin"
window saturday   = sat 23:00 for 6h in "UTC"
window site_night = daily 02:00-05:00 local"#;

const ITEM_WORDS: [&str; 8] = [
    "policy", "import", "schema", "group", "window", "freeze", "rule", "default",
];
const OUTCOME_WORDS: [&str; 5] = ["deploy", "approve", "deny", "break", "during"];

#[derive(Debug)]
struct Block {
    file: String,
    /// One-based line of the opening fence.
    line: usize,
    tags: Vec<String>,
    text: String,
}

impl Block {
    fn at(&self) -> String {
        format!("{}:{}", self.file, self.line)
    }

    fn has(&self, tag: &str) -> bool {
        self.tags.iter().any(|t| t == tag)
    }

    fn lang(&self) -> &str {
        self.tags.first().map_or("", String::as_str)
    }

    /// Lines that are neither blank nor comments.
    fn code_lines(&self) -> impl Iterator<Item = &str> {
        self.text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty() && !l.starts_with('#'))
    }

    fn first_word(&self) -> &str {
        self.code_lines()
            .next()
            .and_then(|l| {
                l.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                    .next()
            })
            .unwrap_or("")
    }

    /// `# file: PATH` on the first line.
    fn module_path(&self) -> Option<String> {
        let first = self.text.lines().next()?.trim();
        first.strip_prefix("# file:").map(|p| p.trim().to_owned())
    }

    /// The value after `# KEY:` on the first comment line.
    fn directive(&self, key: &str) -> Option<String> {
        let first = self
            .text
            .lines()
            .map(str::trim)
            .find(|l| l.starts_with('#'))?;
        first
            .trim_start_matches('#')
            .trim()
            .strip_prefix(key)?
            .strip_prefix(':')
            .map(|s| s.trim().to_owned())
    }
}

/// The fenced blocks of a markdown file, in order.
fn blocks(file: &str, text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut open: Option<(usize, Vec<String>, String, String)> = None;
    for (i, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        match &mut open {
            None => {
                if let Some(info) = trimmed.strip_prefix("```") {
                    let indent = line[..line.len() - trimmed.len()].to_owned();
                    let tags = info
                        .split(',')
                        .map(|t| t.trim().to_owned())
                        .filter(|t| !t.is_empty())
                        .collect();
                    open = Some((i + 1, tags, String::new(), indent));
                }
            }
            Some((start, tags, body, indent)) => {
                if trimmed.starts_with("```") && trimmed.trim_end() == "```" {
                    out.push(Block {
                        file: file.to_owned(),
                        line: *start,
                        tags: std::mem::take(tags),
                        text: std::mem::take(body),
                    });
                    open = None;
                } else {
                    body.push_str(line.strip_prefix(indent.as_str()).unwrap_or(line));
                    body.push('\n');
                }
            }
        }
    }
    out
}

/// The names a fragment declares itself (`group x`, `window x`, `freeze x`).
fn declared(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|l| {
            let mut words = l.split_whitespace();
            match words.next()? {
                "group" | "window" | "freeze" => Some(words.next()?.to_owned()),
                _ => None,
            }
        })
        .collect()
}

/// The source to check: the block itself, or the fragment wrapped into a policy.
fn source(block: &Block) -> String {
    let word = block.first_word();
    if word == "policy" || block.has("whole") {
        return block.text.clone();
    }
    if OUTCOME_WORDS.contains(&word) {
        return format!(
            "policy \"doc\"\n{PRELUDE}\nrule \"doc\" {{ when true then\n{}}}\ndefault deploy\n",
            block.text
        );
    }
    if !ITEM_WORDS.contains(&word) {
        return format!(
            "policy \"doc\"\n{PRELUDE}\nrule \"doc\" {{ when\n{}then deploy }}\ndefault deploy\n",
            block.text
        );
    }
    let own = declared(&block.text);
    let mut out = String::from("policy \"doc\"\n");
    for line in PRELUDE.lines() {
        let name = line.split_whitespace().nth(1).unwrap_or("");
        if !own.contains(name) {
            out.push_str(line);
            out.push('\n');
        }
    }
    out.push_str(&block.text);
    let has_default = block
        .code_lines()
        .any(|l| l.split_whitespace().next() == Some("default"));
    if !has_default {
        out.push_str("default deploy\n");
    }
    out
}

fn codes(d: &Diagnostics) -> Vec<&'static str> {
    let mut out = Vec::new();
    for x in d.iter() {
        out.push(x.code);
        out.extend(x.related.iter().map(|r| r.code));
    }
    out
}

struct Checker {
    modules: BTreeMap<String, String>,
    loaded: RefCell<BTreeSet<String>>,
}

impl Checker {
    fn build(&self, src: &str) -> Result<Policy, Diagnostics> {
        let loader = |p: &Path| -> std::io::Result<String> {
            let key = p.to_string_lossy().replace('\\', "/");
            match self.modules.get(&key) {
                Some(text) => {
                    self.loaded.borrow_mut().insert(key);
                    Ok(text.clone())
                }
                None => Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("no block in the docs is `# file: {key}`"),
                )),
            }
        };
        Policy::parse_with_loader(src, "docs", &Limits::default(), &loader)
    }

    fn check(&self, block: &Block, next: Option<&Block>) -> Result<(), String> {
        let src = source(block);
        let built = self.build(&src);
        let show = |what: String| format!("{what}\n--- checked source ---\n{src}");
        if block.has("fails") {
            let want = block.directive("error").ok_or_else(|| {
                "a `gate,fails` block needs a first comment line `# error: changegate::code`"
                    .to_owned()
            })?;
            return match built {
                Ok(_) => Err(show(format!("expected `{want}`, but the policy checks"))),
                Err(d) if codes(&d).contains(&want.as_str()) => Ok(()),
                Err(d) => Err(show(format!(
                    "expected `{want}`, got {:?}\n{}",
                    codes(&d),
                    d.render_plain()
                ))),
            };
        }
        let policy = built.map_err(|d| show(d.render_plain()))?;
        if block.has("warns") {
            let want = block.directive("warning").ok_or_else(|| {
                "a `gate,warns` block needs a first comment line `# warning: changegate::code`"
                    .to_owned()
            })?;
            let got: Vec<&str> = policy.warnings().iter().map(|w| w.code).collect();
            if !got.contains(&want.as_str()) {
                return Err(show(format!("expected warning `{want}`, got {got:?}")));
            }
        }
        if block.has("verdict") {
            let json = next
                .filter(|n| n.lang() == "json")
                .ok_or("a `gate,verdict` block must be followed by a ```json block")?;
            let spec: Value = serde_json::from_str(&json.text)
                .map_err(|e| format!("the json block at {}: {e}", json.at()))?;
            let specs = match spec {
                Value::Array(items) => items,
                one => vec![one],
            };
            for (k, spec) in specs.iter().enumerate() {
                self.verdict(&policy, spec).map_err(|e| {
                    show(format!("verdict example #{} ({}): {e}", k + 1, json.at()))
                })?;
            }
        }
        Ok(())
    }

    fn verdict(&self, policy: &Policy, spec: &Value) -> Result<(), String> {
        let change = spec.get("change").ok_or("no `change`")?;
        let change = Change::from_json(change.clone()).map_err(|e| e.to_string())?;
        let at = spec.get("at").and_then(Value::as_str).ok_or("no `at`")?;
        let at = chrono::DateTime::parse_from_rfc3339(at)
            .map_err(|e| format!("`at`: {e}"))?
            .with_timezone(&chrono::Utc);
        let expect = spec.get("expect").ok_or("no `expect`")?;
        let inventory = match spec.get("inventory") {
            None => Inventory::empty(),
            Some(inv) => Inventory::parse(
                &inv.to_string(),
                changegate::input::Format::Json,
                "inventory",
                &changegate::Limits::default(),
            )
            .map_err(|e| format!("inventory: {e}"))?,
        };
        let verdict = policy.evaluate(&change, &inventory, at);
        let actual: Value = serde_json::from_str(&verdict.to_json()).map_err(|e| e.to_string())?;
        let mut errors = Vec::new();
        subset(expect, &actual, "verdict", &mut errors);
        if errors.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{}\nfull verdict:\n{}",
                errors.join("\n"),
                verdict.to_json_pretty()
            ))
        }
    }
}

#[test]
fn doc_examples() {
    let mut all = Vec::new();
    const REQUIRED: [&str; 4] = [
        "docs/language.md",
        "docs/time.md",
        "docs/testing.md",
        "docs/lints.md",
    ];
    for file in REQUIRED.into_iter().chain(["docs/guide.md", "README.md"]) {
        match std::fs::read_to_string(file) {
            Ok(text) => all.extend(blocks(file, &text)),
            Err(_) if !REQUIRED.contains(&file) => {}
            Err(e) => panic!("{file}: {e}"),
        }
    }
    let language = std::fs::read_to_string("docs/language.md").expect("docs/language.md");
    assert!(
        language.contains(PRELUDE),
        "docs/language.md must show the fragment prelude verbatim:\n{PRELUDE}"
    );

    let mut modules = BTreeMap::new();
    for b in all.iter().filter(|b| b.lang() == "gate") {
        if let Some(path) = b.module_path() {
            assert!(
                modules.insert(path.clone(), b.text.clone()).is_none(),
                "{}: module `{path}` is defined twice",
                b.at()
            );
        }
    }
    let checker = Checker {
        modules,
        loaded: RefCell::new(BTreeSet::new()),
    };

    let mut failures = Vec::new();
    let (mut checked, mut fails, mut verdicts) = (0, 0, 0);
    for (i, b) in all.iter().enumerate() {
        if b.lang() != "gate" || b.module_path().is_some() {
            continue;
        }
        checked += 1;
        fails += usize::from(b.has("fails"));
        verdicts += usize::from(b.has("verdict"));
        let next = all.get(i + 1).filter(|n| n.file == b.file);
        if let Err(e) = checker.check(b, next) {
            failures.push(format!("{} ({}):\n{e}", b.at(), b.tags.join(",")));
        }
    }
    for path in checker.modules.keys() {
        if !checker.loaded.borrow().contains(path) {
            failures.push(format!(
                "module `{path}` is never imported by a checked block"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {checked} gate blocks failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
    assert!(checked >= 40, "only {checked} gate blocks found");
    assert!(fails >= 20, "only {fails} gate,fails blocks found");
    assert!(verdicts >= 5, "only {verdicts} gate,verdict blocks found");
}

#[test]
fn fragments_are_wrapped() {
    let b = |text: &str| Block {
        file: "t".into(),
        line: 1,
        tags: vec!["gate".into()],
        text: text.into(),
    };
    assert!(source(&b("change.kind == \"x\"\n")).contains("rule \"doc\" { when\nchange.kind"));
    assert!(source(&b("approve 1 from cab\n")).contains("when true then\napprove"));
    let s = source(&b("group netops = [\"zed\"]\ndefault deny \"no\"\n"));
    assert!(
        !s.contains("\"alice\""),
        "the fragment's own netops replaces the prelude's"
    );
    assert!(!s.contains("default deploy"));
    assert_eq!(
        b("# error: changegate::syntax\nx\n")
            .directive("error")
            .as_deref(),
        Some("changegate::syntax")
    );
}
