//! The TextMate grammar in `editors/vscode/syntaxes/changegate.tmLanguage.json`.
//!
//! Every `match`/`begin`/`end` regex must compile with the `regex` crate (so the
//! grammar stays within the subset every TextMate engine shares: no lookaround, no
//! backreferences), and a small TextMate-style scanner must tokenize every line of
//! every `policies/*.gate` (and a sample covering the rarer forms) so that every
//! keyword is scoped as a keyword, every comment as a comment, every string as a
//! string, and no non-whitespace character is left without a scope.
//!
//! The scanner follows TextMate's rule: at each position, the pattern whose match
//! starts earliest wins, ties going to the `end` pattern of the open `begin`/`end`
//! rule and then to the order of the patterns. `captures` scope their groups.
//! The expectations come from a separate, hand-written lexer of the language.

use std::collections::BTreeMap;

use regex::Regex;
use serde_json::Value;

/// The one TextMate grammar: the VS Code extension's, which other editors read too.
const GRAMMAR: &str = "editors/vscode/syntaxes/changegate.tmLanguage.json";

/// The reserved words, read from the pest grammar's `keyword` rule: the one list the
/// parser's `Keyword` is tested against too, so the editor grammar is checked
/// against the language itself rather than against a copy.
fn reserved() -> &'static [String] {
    static WORDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    WORDS.get_or_init(|| {
        let grammar =
            std::fs::read_to_string(crate::common::root().join("grammar/changegate.pest")).unwrap();
        let start = grammar.find("\nkeyword = @{").expect("a `keyword` rule");
        let body = &grammar[start..];
        let body = &body[..body.find("~ !ident_char").expect("the rule's end")];
        let words: Vec<String> = Regex::new(r#""([a-z]+)""#)
            .unwrap()
            .captures_iter(body)
            .map(|c| c[1].to_owned())
            .collect();
        assert!(
            words.len() > 30,
            "the keyword rule lists the reserved words: {words:?}"
        );
        words
    })
}

/// The rarer forms, in a policy that checks (see the `sample_checks` test).
const SAMPLE: &str = r#"policy "sample \"quoted\" name"  # a comment with "quotes"
schema {
  kind: string,
  risk?: int,
  labels: list<string>,
  meta: any,
  "x-ticket"?: string,
  from?: string,
}
import "shared.gate"
group ops = ["ann", "ben",]
window cutover = 2026-12-05 22:00 .. 2026-12-06 06:00 in "Europe/London"
window bulk = sat 23:00 for 1d12h in "UTC"
window nights = mon..thu,sat 9:00-04:00 local
freeze fridays = fri 12:00-23:59 in "America/New_York" when change.kind != "docs"
rule "escapes \\ and \t" advisory {
  when not has(change."x-ticket") and change.risk >= -1
    or any change.labels match "a*" or count blast.devices > 0 and sum targets.customers < 5
    or change.from in ["a", "b"] and true != false
  then approve 1 from ops during nights, cutover, break glass
}
default deny "no\n"
"#;

#[derive(Debug, Clone)]
enum Pattern {
    Match {
        re: Regex,
        name: Option<String>,
        captures: BTreeMap<usize, String>,
    },
    Block(Box<Block>),
}

#[derive(Debug, Clone)]
struct Block {
    begin: Regex,
    end: Regex,
    name: Option<String>,
    /// Scope of the text between `begin` and `end`.
    content_name: Option<String>,
    begin_captures: BTreeMap<usize, String>,
    end_captures: BTreeMap<usize, String>,
    patterns: Vec<Pattern>,
}

fn compile(re: &str, at: &str) -> Regex {
    Regex::new(re).unwrap_or_else(|e| panic!("{at}: regex {re:?} does not compile: {e}"))
}

fn captures(v: Option<&Value>) -> BTreeMap<usize, String> {
    let mut out = BTreeMap::new();
    if let Some(Value::Object(m)) = v {
        for (k, c) in m {
            let n: usize = k.parse().expect("capture keys are numbers");
            if let Some(name) = c.get("name").and_then(Value::as_str) {
                out.insert(n, name.to_owned());
            }
        }
    }
    out
}

/// Resolves a list of patterns (with `include`s) into a flat list.
fn patterns(list: &Value, repo: &serde_json::Map<String, Value>, depth: usize) -> Vec<Pattern> {
    assert!(depth < 16, "include cycle in the grammar");
    let mut out = Vec::new();
    for p in list.as_array().expect("`patterns` is a list") {
        out.extend(pattern(p, repo, depth));
    }
    out
}

fn pattern(p: &Value, repo: &serde_json::Map<String, Value>, depth: usize) -> Vec<Pattern> {
    if let Some(inc) = p.get("include").and_then(Value::as_str) {
        let key = inc.strip_prefix('#').expect("only #repository includes");
        let target = repo
            .get(key)
            .unwrap_or_else(|| panic!("include {inc} not in the repository"));
        return pattern(target, repo, depth + 1);
    }
    let name = p.get("name").and_then(Value::as_str).map(str::to_owned);
    if let Some(m) = p.get("match").and_then(Value::as_str) {
        return vec![Pattern::Match {
            re: compile(m, "match"),
            name,
            captures: captures(p.get("captures")),
        }];
    }
    if let Some(b) = p.get("begin").and_then(Value::as_str) {
        let e = p
            .get("end")
            .and_then(Value::as_str)
            .expect("begin without end");
        let both = p.get("captures");
        return vec![Pattern::Block(Box::new(Block {
            begin: compile(b, "begin"),
            end: compile(e, "end"),
            name,
            content_name: p
                .get("contentName")
                .and_then(Value::as_str)
                .map(str::to_owned),
            begin_captures: captures(p.get("beginCaptures").or(both)),
            end_captures: captures(p.get("endCaptures").or(both)),
            patterns: p
                .get("patterns")
                .map(|l| patterns(l, repo, depth + 1))
                .unwrap_or_default(),
        }))];
    }
    if let Some(list) = p.get("patterns") {
        return patterns(list, repo, depth + 1);
    }
    panic!("a pattern with neither match, begin nor patterns: {p}");
}

struct Grammar {
    top: Vec<Pattern>,
}

fn load() -> (Value, Grammar) {
    let text = std::fs::read_to_string(GRAMMAR).expect(GRAMMAR);
    let json: Value = serde_json::from_str(&text).expect("the grammar is JSON");
    let empty = serde_json::Map::new();
    let repo = json
        .get("repository")
        .and_then(Value::as_object)
        .unwrap_or(&empty);
    let top = patterns(&json["patterns"], repo, 0);
    (json, Grammar { top })
}

/// Scopes of each byte of each line (space-joined scope names; empty: no scope).
fn tokenize(g: &Grammar, text: &str) -> Vec<Vec<String>> {
    let mut stack: Vec<&Block> = Vec::new();
    let mut out = Vec::new();
    for line in text.lines() {
        let mut scopes = vec![String::new(); line.len()];
        let mut pos = 0;
        let base = |stack: &[&Block]| -> String {
            stack
                .iter()
                .flat_map(|b| [b.name.clone(), b.content_name.clone()])
                .flatten()
                .collect::<Vec<_>>()
                .join(" ")
        };
        let paint = |scopes: &mut Vec<String>, from: usize, to: usize, s: &str| {
            for slot in scopes.iter_mut().take(to).skip(from) {
                if !s.is_empty() {
                    if !slot.is_empty() {
                        slot.push(' ');
                    }
                    slot.push_str(s);
                }
            }
        };
        while pos < line.len() {
            // Candidates: (start, priority, what).
            enum Hit<'a> {
                End,
                Pat(&'a Pattern),
            }
            let list: &[Pattern] = match stack.last() {
                Some(b) => &b.patterns,
                None => &g.top,
            };
            let mut candidates: Vec<(&Regex, Hit)> = Vec::new();
            if let Some(b) = stack.last() {
                candidates.push((&b.end, Hit::End));
            }
            for p in list {
                let re = match p {
                    Pattern::Match { re, .. } => re,
                    Pattern::Block(b) => &b.begin,
                };
                candidates.push((re, Hit::Pat(p)));
            }
            // The earliest start wins; ties go to the earlier candidate.
            let mut best: Option<(usize, regex::Captures, Hit)> = None;
            for (re, hit) in candidates {
                let Some(c) = re.captures_at(line, pos) else {
                    continue;
                };
                let m = c.get(0).expect("group 0");
                if m.is_empty() && !matches!(hit, Hit::End) {
                    continue;
                }
                if best.as_ref().is_none_or(|(s, _, _)| m.start() < *s) {
                    best = Some((m.start(), c, hit));
                }
            }
            let Some((start, caps, hit)) = best else {
                let s = base(&stack);
                paint(&mut scopes, pos, line.len(), &s);
                break;
            };
            let whole = caps.get(0).expect("group 0");
            let s = base(&stack);
            paint(&mut scopes, pos, start, &s);
            match hit {
                Hit::End => {
                    let b = stack.pop().expect("open block");
                    let s = [base(&stack), b.name.clone().unwrap_or_default()].join(" ");
                    paint(&mut scopes, whole.start(), whole.end(), s.trim());
                    paint_captures(&mut scopes, &caps, &b.end_captures);
                }
                Hit::Pat(Pattern::Match { name, captures, .. }) => {
                    let s = [s, name.clone().unwrap_or_default()].join(" ");
                    paint(&mut scopes, whole.start(), whole.end(), s.trim());
                    paint_captures(&mut scopes, &caps, captures);
                }
                Hit::Pat(Pattern::Block(b)) => {
                    let s = [s, b.name.clone().unwrap_or_default()].join(" ");
                    paint(&mut scopes, whole.start(), whole.end(), s.trim());
                    paint_captures(&mut scopes, &caps, &b.begin_captures);
                    stack.push(b);
                }
            }
            pos = whole.end().max(pos + usize::from(whole.is_empty()));
        }
        out.push(scopes);
    }
    out
}

fn paint_captures(scopes: &mut [String], caps: &regex::Captures, names: &BTreeMap<usize, String>) {
    for (n, name) in names {
        if let Some(m) = caps.get(*n) {
            for slot in scopes.iter_mut().take(m.end()).skip(m.start()) {
                if !slot.is_empty() {
                    slot.push(' ');
                }
                slot.push_str(name);
            }
        }
    }
}

/// What the hand-written lexer expects of one span.
#[derive(Debug)]
struct Expect {
    line: usize,
    start: usize,
    end: usize,
    /// A scope must contain this (a comment, a string, a type in a schema)…
    contains: Option<&'static str>,
    /// …or start with this (keywords).
    starts: Option<&'static str>,
    what: String,
}

/// Comments, strings and reserved words, found without the grammar.
fn expectations(text: &str) -> Vec<Expect> {
    let mut out = Vec::new();
    let mut schema = false; // inside `schema { … }`
    let mut schema_pending = false;
    for (ln, line) in text.lines().enumerate() {
        let b = line.as_bytes();
        let mut i = 0;
        while i < b.len() {
            let c = b[i];
            if c == b'#' {
                out.push(Expect {
                    line: ln,
                    start: i,
                    end: b.len(),
                    contains: Some("comment"),
                    starts: None,
                    what: "comment".into(),
                });
                break;
            }
            if c == b'"' {
                let mut j = i + 1;
                while j < b.len() && b[j] != b'"' {
                    j += if b[j] == b'\\' { 2 } else { 1 };
                }
                let end = (j + 1).min(b.len());
                let segment = i > 0 && b[i - 1] == b'.' && (i < 2 || b[i - 2] != b'.');
                if !segment && !schema {
                    out.push(Expect {
                        line: ln,
                        start: i,
                        end,
                        contains: Some("string"),
                        starts: None,
                        what: format!("string {}", &line[i..end]),
                    });
                }
                i = end;
                continue;
            }
            if c.is_ascii_alphabetic() || c == b'_' {
                let mut j = i;
                while j < b.len() && (b[j].is_ascii_alphanumeric() || b[j] == b'_') {
                    j += 1;
                }
                let word = &line[i..j];
                let after_dot = i > 0 && b[i - 1] == b'.' && (i < 2 || b[i - 2] != b'.');
                let before_dot = b.get(j) == Some(&b'.') && b.get(j + 1) != Some(&b'.');
                let (contains, starts) = if after_dot {
                    (Some("variable.other.field"), None)
                } else if schema {
                    if ["string", "int", "bool", "object", "any", "list"].contains(&word)
                        && !b[j..].starts_with(b"?")
                        && !b[j..].trim_ascii_start().starts_with(b":")
                    {
                        (Some("support.type"), None)
                    } else {
                        (Some("variable.other.field"), None)
                    }
                } else if before_dot && ["change", "blast", "targets"].contains(&word) {
                    (Some("variable.language.root"), None)
                } else if word == "true" || word == "false" {
                    (Some("constant.language"), None)
                } else if reserved().iter().any(|w| w == word) {
                    (None, Some("keyword"))
                } else {
                    (None, None)
                };
                if contains.is_some() || starts.is_some() {
                    out.push(Expect {
                        line: ln,
                        start: i,
                        end: j,
                        contains,
                        starts,
                        what: format!("word `{word}`"),
                    });
                }
                if word == "schema" && !after_dot {
                    schema_pending = true;
                }
                i = j;
                continue;
            }
            if c == b'{' && schema_pending {
                schema = true;
                schema_pending = false;
            } else if c == b'}' && schema {
                schema = false;
            }
            i += 1;
        }
    }
    out
}

fn check_text(g: &Grammar, file: &str, text: &str) -> Vec<String> {
    let scopes = tokenize(g, text);
    let lines: Vec<&str> = text.lines().collect();
    let mut failures = Vec::new();
    for (ln, line) in lines.iter().enumerate() {
        for (i, ch) in line.char_indices() {
            if !ch.is_whitespace() && scopes[ln][i].is_empty() {
                failures.push(format!(
                    "{file}:{}:{}: `{ch}` has no scope\n    {line}",
                    ln + 1,
                    i + 1
                ));
            }
        }
    }
    for e in expectations(text) {
        for (i, s) in scopes[e.line].iter().enumerate().take(e.end).skip(e.start) {
            let ok = match (e.contains, e.starts) {
                (Some(c), _) => s.split(' ').any(|x| x.contains(c)),
                (None, Some(p)) => s.split(' ').any(|x| x.starts_with(p)),
                (None, None) => true,
            };
            if !ok {
                failures.push(format!(
                    "{file}:{}:{}: {} should be scoped {}, got `{s}`\n    {}",
                    e.line + 1,
                    i + 1,
                    e.what,
                    e.contains.or(e.starts).unwrap_or(""),
                    lines[e.line]
                ));
                break;
            }
        }
    }
    failures
}

#[test]
fn grammar_header() {
    let (json, _) = load();
    assert_eq!(json["scopeName"], "source.changegate");
    assert!(json["fileTypes"]
        .as_array()
        .expect("fileTypes")
        .contains(&Value::from("gate")));
}

#[test]
fn every_regex_compiles() {
    fn walk(v: &Value, path: &str, n: &mut usize) {
        match v {
            Value::Object(m) => {
                for (k, x) in m {
                    let p = format!("{path}.{k}");
                    if matches!(k.as_str(), "match" | "begin" | "end") {
                        let re = x.as_str().unwrap_or_else(|| panic!("{p} is not a string"));
                        compile(re, &p);
                        *n += 1;
                    } else {
                        walk(x, &p, n);
                    }
                }
            }
            Value::Array(xs) => {
                for (i, x) in xs.iter().enumerate() {
                    walk(x, &format!("{path}[{i}]"), n);
                }
            }
            _ => {}
        }
    }
    let (json, _) = load();
    let mut n = 0;
    walk(&json, "grammar", &mut n);
    assert!(n >= 20, "only {n} regexes found");
}

#[test]
fn policies_are_fully_scoped() {
    let (_, g) = load();
    let mut failures = Vec::new();
    let mut files = 0;
    for entry in std::fs::read_dir("policies").expect("policies/") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("gate") {
            continue;
        }
        files += 1;
        let text = std::fs::read_to_string(&path).expect("policy");
        failures.extend(check_text(&g, &path.display().to_string(), &text));
    }
    assert!(files >= 3, "only {files} policies found");
    failures.extend(check_text(&g, "SAMPLE", SAMPLE));
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn sample_scopes() {
    let (_, g) = load();
    let scopes = tokenize(&g, SAMPLE);
    let at = |needle: &str, nth: usize| -> &str {
        let mut seen = 0;
        for (ln, line) in SAMPLE.lines().enumerate() {
            for (i, _) in line.match_indices(needle) {
                if seen == nth {
                    return &scopes[ln][i];
                }
                seen += 1;
            }
        }
        panic!("`{needle}` #{nth} not in the sample");
    };
    assert!(at("\\\"", 0).contains("constant.character.escape"));
    assert!(at("\\t", 0).contains("constant.character.escape"));
    assert!(at("\\t", 0).contains("entity.name.function.rule"));
    assert!(at("\\n", 0).contains("constant.character.escape"));
    assert!(at("22:00", 0).contains("constant.numeric.time"));
    assert!(at("2026-12-05", 0).contains("constant.numeric.date"));
    assert!(at("1d12h", 0).contains("constant.numeric.duration"));
    assert!(at("9:00", 0).contains("constant.numeric.time"));
    assert!(at("04:00", 0).contains("constant.numeric.time"));
    assert!(at("thu", 0).contains("constant.other.weekday"));
    assert!(at("cutover", 0).contains("entity.name.type"));
    assert!(at("ops", 1).contains("entity.name.type.group"));
    assert!(at("any", 0).contains("support.type"));
    assert!(at("any", 1).contains("keyword.operator.word"));
    assert!(at("escapes", 0).contains("entity.name.function.rule"));
    assert!(at("kind", 1).contains("variable.other.field"));
    // `-1` #0 and #1 are inside the dates of `cutover`.
    assert!(at("-1", 2).contains("constant.numeric.integer"));
    assert!(at(">=", 0).contains("keyword.operator"));
}

/// The sample is a real policy (apart from its import, served here).
#[test]
fn sample_checks() {
    let loader =
        |_: &std::path::Path| -> std::io::Result<String> { Ok("group spare = [\"zed\"]\n".into()) };
    let src = SAMPLE.replace("import \"shared.gate\"\n", "");
    if let Err(d) = changegate::Policy::parse_with_loader(
        &src,
        "sample",
        &changegate::Limits::default(),
        &loader,
    ) {
        panic!("{}", d.render_plain());
    }
}

/// A comment ends at every line terminator an editor shows (the language's rule): a
/// lone CR, NEL, U+2028, U+2029, VT or FF inside one `\n` line leaves what follows
/// out of the comment scope.
#[test]
fn comments_end_at_every_line_terminator() {
    let (_, g) = load();
    for t in ["\r", "\u{85}", "\u{2028}", "\u{2029}", "\u{0B}", "\u{0C}"] {
        let line = format!("default deploy # note{t}rule \"fw\" {{");
        let scopes = tokenize(&g, &line);
        let at = line.find("rule").unwrap();
        assert!(
            !scopes[0][at].contains("comment"),
            "{t:?}: `rule` after the terminator is scoped `{}`",
            scopes[0][at]
        );
        assert!(
            scopes[0][line.find("note").unwrap()].contains("comment"),
            "{t:?}"
        );
    }
}
