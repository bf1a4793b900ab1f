//! Table-driven parser tests: `input -> canonical printed form` (with the law
//! `parse(print(ast)) == ast`), `input -> error code at line:col`, recovery over
//! several broken items, and inputs that are too deep or too large.

use super::{parse_file, File};
use crate::{Diagnostic, Limits, SourceFile};

/// Parses `src` with the default limits.
fn parse(src: &str) -> (File, Vec<Diagnostic>) {
    parse_file(&SourceFile::new("test.gate", src), &Limits::default())
}

/// Parses `src`, failing the test (with the rendered diagnostics) on any error.
fn parse_ok(src: &str) -> File {
    let (file, diags) = parse(src);
    assert!(
        diags.is_empty(),
        "unexpected diagnostics for {src:?}:\n{}",
        crate::Diagnostics(diags).render_plain()
    );
    file
}

/// Checks that `input` prints as `expected`, that the printed text parses back to
/// the same tree, and that printing is a fixed point.
fn assert_canonical(input: &str, expected: &str) {
    let ast = parse_ok(input);
    let printed = ast.to_string();
    assert_eq!(printed, expected, "canonical form of {input:?}");
    let again = parse_ok(&printed);
    assert_eq!(again, ast, "parse(print(ast)) != ast for {input:?}");
    assert_eq!(again.to_string(), printed, "printing is not a fixed point");
}

#[test]
fn items_print_canonically() {
    let rows: &[(&str, &str)] = &[
        // policy and import
        ("policy   \"p\"", "policy \"p\"\n"),
        ("policy\n\"p\" # a comment", "policy \"p\"\n"),
        ("import \"common.gate\"", "import \"common.gate\"\n"),
        // groups: spacing, trailing comma, empty list
        (
            "group ops=[ \"alice\" ,\"bob\", ]",
            "group ops = [\"alice\", \"bob\"]\n",
        ),
        ("group nobody = []", "group nobody = []\n"),
        // weekly windows
        (
            "window w = mon..thu 22:00-04:00 in \"America/New_York\"",
            "window w = mon..thu 22:00-04:00 in \"America/New_York\"\n",
        ),
        (
            "window w = mon , wed,fri 9:00-5:30 in \"UTC\"",
            "window w = mon,wed,fri 09:00-05:30 in \"UTC\"\n",
        ),
        (
            "window w = fri..mon,wed 01:00-02:00 in \"UTC\"",
            "window w = fri..mon,wed 01:00-02:00 in \"UTC\"\n",
        ),
        (
            "window w = daily 02:00-05:00 local",
            "window w = daily 02:00-05:00 local\n",
        ),
        (
            "window w = sat 23:00 for 6h in \"UTC\"",
            "window w = sat 23:00 for 6h in \"UTC\"\n",
        ),
        // durations are normalised
        (
            "window w = daily 02:00 for 90m local",
            "window w = daily 02:00 for 1h30m local\n",
        ),
        (
            "window w = daily 02:00 for 1d24h local",
            "window w = daily 02:00 for 2d local\n",
        ),
        // one-time windows
        (
            "window w = 2026-12-05 22:00 .. 2026-12-06 06:00 in \"Europe/London\"",
            "window w = 2026-12-05 22:00 .. 2026-12-06 06:00 in \"Europe/London\"\n",
        ),
        (
            "window w = 2026-1-5 8:00..2026-1-6 06:00 in \"UTC\"",
            "window w = 2026-01-05 08:00 .. 2026-01-06 06:00 in \"UTC\"\n",
        ),
        (
            "window w = 2026-12-05 22:00 for 1d12h in \"UTC\"",
            "window w = 2026-12-05 22:00 for 1d12h in \"UTC\"\n",
        ),
        // freezes, with and without a condition
        (
            "freeze year_end = 2026-12-19 00:00 .. 2027-01-04 00:00 in \"UTC\"",
            "freeze year_end = 2026-12-19 00:00 .. 2027-01-04 00:00 in \"UTC\"\n",
        ),
        (
            "freeze fridays = fri 12:00-23:59 in \"UTC\"\n  when change.kind != \"docs\"",
            "freeze fridays = fri 12:00-23:59 in \"UTC\" when change.kind != \"docs\"\n",
        ),
        // rules
        (
            "rule \"r\" { when change.a then deploy }",
            "rule \"r\" {\n  when change.a\n  then deploy\n}\n",
        ),
        (
            "rule \"r\"   advisory{when change.a then deploy}",
            "rule \"r\" advisory {\n  when change.a\n  then deploy\n}\n",
        ),
        // outcomes
        (
            "default approve 2 from security during weeknights",
            "default approve 2 from security during weeknights\n",
        ),
        (
            "default approve 2 from security, during a , b",
            "default approve 2 from security during a, b\n",
        ),
        (
            "default approve 1 from a,approve 1 from b",
            "default approve 1 from a, approve 1 from b\n",
        ),
        (
            "default approve 1 from netops, break   glass",
            "default approve 1 from netops, break glass\n",
        ),
        ("default deny \"no\"", "default deny \"no\"\n"),
        (
            "default deploy during a, deny \"x\"",
            "default deploy during a, deny \"x\"\n",
        ),
        // `during` alone parses (the checker rejects it)
        ("default during w", "default during w\n"),
        // strings and escapes
        (
            r#"policy "a\"b\\c\nd\te\rf""#,
            "policy \"a\\\"b\\\\c\\nd\\te\\rf\"\n",
        ),
        ("policy \"über ✓\"", "policy \"über ✓\"\n"),
    ];
    for (input, expected) in rows {
        assert_canonical(input, expected);
    }
}

/// Wraps an expression in a rule, so one row is one expression.
fn rule_with(expr: &str) -> String {
    format!("rule \"r\" {{\n  when {expr}\n  then deploy\n}}\n")
}

#[test]
fn expressions_print_canonically() {
    let rows: &[(&str, &str)] = &[
        // comparisons, every operator
        ("change.kind==\"fw\"", "change.kind == \"fw\""),
        ("change.kind!=\"fw\"", "change.kind != \"fw\""),
        ("change.risk<3", "change.risk < 3"),
        ("change.risk<=3", "change.risk <= 3"),
        ("change.risk>-3", "change.risk > -3"),
        ("change.risk>=3", "change.risk >= 3"),
        ("\"core\"in blast.roles", "\"core\" in blast.roles"),
        ("change.repo match\"net/*\"", "change.repo match \"net/*\""),
        // literals and lists
        ("true", "true"),
        ("change.a == false", "change.a == false"),
        (
            "change.kind in [ \"bgp\" , \"ospf\", ]",
            "change.kind in [\"bgp\", \"ospf\"]",
        ),
        ("change.risk in [1,2,3]", "change.risk in [1, 2, 3]"),
        ("change.labels == []", "change.labels == []"),
        // boolean operators: flat chains, precedence, kept parentheses
        (
            "change.a and change.b and change.c",
            "change.a and change.b and change.c",
        ),
        ("change.a or change.b", "change.a or change.b"),
        (
            "change.a or change.b and change.c",
            "change.a or change.b and change.c",
        ),
        (
            "( change.a or change.b ) and change.c",
            "(change.a or change.b) and change.c",
        ),
        ("((change.a))", "((change.a))"),
        ("not not change.a", "not not change.a"),
        ("not(change.a == 1)", "not (change.a == 1)"),
        ("not change.a and change.b", "not change.a and change.b"),
        // aggregates and quantifiers
        ("count change.files > 0", "count change.files > 0"),
        ("sum blast.customers >= 100", "sum blast.customers >= 100"),
        ("count count change.x == 1", "count count change.x == 1"),
        (
            "any change.labels == \"urgent\"",
            "any change.labels == \"urgent\"",
        ),
        (
            "all change.files match \"docs/**\"",
            "all change.files match \"docs/**\"",
        ),
        (
            "count change.files > 0 and all change.files match \"docs/**\"",
            "count change.files > 0 and all change.files match \"docs/**\"",
        ),
        // has() and paths
        ("has( change.ticket.id )", "has(change.ticket.id)"),
        (
            "has(change.files) and all change.files match \"docs/**\"",
            "has(change.files) and all change.files match \"docs/**\"",
        ),
        ("targets.sites == [\"NYC\"]", "targets.sites == [\"NYC\"]"),
        ("blast.depth > 2", "blast.depth > 2"),
        ("change.\"x-ticket\" == 1", "change.\"x-ticket\" == 1"),
        ("change.\"plain\" == 1", "change.plain == 1"),
        ("change.\"9lives\" == 1", "change.\"9lives\" == 1"),
        // a field may be spelled like a keyword after the root
        ("change.in == 1", "change.in == 1"),
        // comments and line breaks inside a condition
        (
            "change.a # first\n    and change.b",
            "change.a and change.b",
        ),
    ];
    for (input, expected) in rows {
        assert_canonical(&rule_with(input), &rule_with(expected));
    }
}

#[test]
fn whole_file_prints_canonically() {
    let input = r#"
policy "netops"   # header
import "common.gate"
group a = ["x"]
group b = ["y", "z"]
window w = daily 02:00-05:00 local
freeze f = 2026-12-19 00:00 .. 2027-01-04 00:00 in "UTC"
rule "one" { when change.a then deploy }
rule "two" advisory { when not change.b then approve 1 from a }
default approve 1 from b during w
"#;
    let expected = r#"policy "netops"

import "common.gate"

group a = ["x"]
group b = ["y", "z"]

window w = daily 02:00-05:00 local

freeze f = 2026-12-19 00:00 .. 2027-01-04 00:00 in "UTC"

rule "one" {
  when change.a
  then deploy
}

rule "two" advisory {
  when not change.b
  then approve 1 from a
}

default approve 1 from b during w
"#;
    assert_canonical(input, expected);
}

#[test]
fn netops_example_round_trips() {
    let src = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/policies/netops.gate"))
        .expect("policies/netops.gate is readable");
    let ast = parse_ok(&src);
    let printed = ast.to_string();
    assert_eq!(parse_ok(&printed), ast);
    assert_eq!(parse_ok(&printed).to_string(), printed);
}

#[test]
fn spans_are_ignored_by_equality() {
    let a = parse_ok("policy \"p\"\ndefault deploy");
    let b = parse_ok("\n\n   policy    \"p\"   default\n deploy # end");
    assert_eq!(a, b);
    assert_ne!(a, parse_ok("policy \"q\"\ndefault deploy"));
}

/// A syntax error row: source, code, one-based line and column, and a piece the
/// message or help must contain.
struct ErrorRow {
    name: &'static str,
    src: &'static str,
    code: &'static str,
    line: usize,
    column: usize,
    says: &'static str,
}

#[test]
fn syntax_errors_point_at_line_and_column() {
    let rows = [
        ErrorRow {
            name: "assignment instead of comparison",
            src: "policy \"p\"\nrule \"r\" {\n  when change.kind = \"fw\"\n  then deploy\n}\n",
            code: "changegate::syntax",
            line: 3,
            column: 20,
            says: "compare with `==`",
        },
        ErrorRow {
            name: "C-style and",
            src: "rule \"r\" {\n  when change.a && change.b\n  then deploy\n}\n",
            code: "changegate::syntax",
            line: 2,
            column: 17,
            says: "write `and`",
        },
        ErrorRow {
            name: "C-style or",
            src: "rule \"r\" { when change.a || change.b then deploy }",
            code: "changegate::syntax",
            line: 1,
            column: 26,
            says: "write `or`",
        },
        ErrorRow {
            name: "C-style not",
            src: "rule \"r\" { when !change.a then deploy }",
            code: "changegate::syntax",
            line: 1,
            column: 17,
            says: "write `not`",
        },
        ErrorRow {
            name: "missing then",
            src: "rule \"r\" {\n  when change.a\n  deploy\n}\n",
            code: "changegate::syntax",
            line: 3,
            column: 3,
            says: "`then`",
        },
        ErrorRow {
            name: "keyword as a group name",
            src: "policy \"p\"\ngroup rule = [\"a\"]\n",
            code: "changegate::syntax",
            line: 2,
            column: 7,
            says: "`rule` is a keyword",
        },
        ErrorRow {
            name: "keyword as a window name",
            src: "window deny = daily 01:00-02:00 local\n",
            code: "changegate::syntax",
            line: 1,
            column: 8,
            says: "`deny` is a keyword",
        },
        ErrorRow {
            name: "unterminated string",
            src: "policy \"p\"\nrule \"never closed {\n  when change.a\n  then deploy\n}\n",
            code: "changegate::syntax",
            line: 2,
            column: 6,
            says: "unterminated string",
        },
        ErrorRow {
            name: "single quotes",
            src: "policy 'p'\n",
            code: "changegate::syntax",
            line: 1,
            column: 8,
            says: "double quotes",
        },
        ErrorRow {
            name: "stray word on its own line",
            src: "policy \"p\"\ndeny_reasons_follow\n",
            code: "changegate::syntax",
            line: 2,
            column: 1,
            says: "expected an item",
        },
        ErrorRow {
            name: "unknown escape in a string",
            src: "policy \"a\\qb\"\n",
            code: "changegate::bad_escape",
            line: 1,
            column: 10,
            says: "unknown escape `\\q`",
        },
        ErrorRow {
            name: "stray text between items",
            src: "policy \"p\"\n\nhello world\ndefault deploy\n",
            code: "changegate::syntax",
            line: 3,
            column: 1,
            says: "expected an item",
        },
        ErrorRow {
            name: "stray text after an item",
            src: "policy \"p\" extra\n",
            code: "changegate::syntax",
            line: 1,
            column: 12,
            says: "expected an item",
        },
        ErrorRow {
            name: "missing closing brace",
            src: "policy \"p\"\nrule \"a\" {\n  when change.a\n  then deploy\n\nrule \"b\" {\n  when change.b\n  then deploy\n}\n",
            code: "changegate::syntax",
            line: 6,
            column: 1,
            says: "`rule` starts the next item, so the item above is unfinished: write `during` or `}` before it",
        },
        ErrorRow {
            name: "missing closing brace at the end of the file",
            src: "rule \"a\" {\n  when change.a\n  then deploy\n",
            code: "changegate::syntax",
            line: 4,
            column: 1,
            says: "the end of the file",
        },
        ErrorRow {
            name: "approve without from",
            src: "default approve 2 security\n",
            code: "changegate::syntax",
            line: 1,
            column: 19,
            says: "`from`",
        },
        ErrorRow {
            name: "chained comparison",
            src: "rule \"r\" { when 1 < change.a < 3 then deploy }",
            code: "changegate::syntax",
            line: 1,
            column: 30,
            says: "`then`",
        },
        ErrorRow {
            name: "window without a zone",
            src: "window w = daily 01:00-02:00\ndefault deploy\n",
            code: "changegate::syntax",
            line: 2,
            column: 1,
            says: "a zone",
        },
        ErrorRow {
            name: "integer too large",
            src: "rule \"r\" { when change.a == 99999999999999999999 then deploy }",
            code: "changegate::bad_integer",
            line: 1,
            column: 29,
            says: "64-bit",
        },
        ErrorRow {
            name: "column counts characters, not bytes",
            src: "policy \"ünïcödé\" = 1\n",
            code: "changegate::syntax",
            line: 1,
            column: 18,
            says: "expected an item",
        },
    ];
    let mut failures = Vec::new();
    for row in &rows {
        let (_, diags) = parse(row.src);
        let Some(d) = diags.first() else {
            failures.push(format!("{}: no diagnostic", row.name));
            continue;
        };
        let (line, column) = d.line_col();
        let text = format!("{} / {}", d.message, d.help.as_deref().unwrap_or(""));
        if d.code != row.code
            || (line, column) != (row.line, row.column)
            || !text.contains(row.says)
        {
            failures.push(format!(
                "{}: expected {} at {}:{} saying {:?}, got {} at {}:{}: {}",
                row.name, row.code, row.line, row.column, row.says, d.code, line, column, text
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn every_broken_item_is_reported() {
    let src = "\
policy \"p\"
group ops = [\"a\" \"b\"]
rule \"one\" {
  when change.kind = \"fw\"
  then deploy
}
window w = daily 25:00 for 1h # no zone: found at the next item
rule \"two\" {
  when change.a && change.b
  then deploy
}
rule \"fine\" { when change.ok then deploy }
default deploy
";
    let (file, diags) = parse(src);
    let lines: Vec<usize> = diags.iter().map(|d| d.line_col().0).collect();
    let messages: Vec<&str> = diags.iter().map(|d| d.message.as_str()).collect();
    assert_eq!(lines, vec![2, 4, 8, 9], "{messages:#?}");
    assert!(diags.iter().all(|d| d.code == "changegate::syntax"));
    // The good items around the broken ones still parse.
    assert_eq!(file.items.len(), 3, "policy, rule \"fine\" and default");
}

#[test]
fn recovery_resumes_at_an_indented_item_keyword() {
    let src = "rule \"a\" { when ! then deploy }\n  rule \"b\" { when && then deploy }\n";
    let (_, diags) = parse(src);
    assert_eq!(diags.len(), 2, "{diags:#?}");
}

/// Runs `f` on a thread with a small stack, so a recursive descent over deep input
/// would overflow here rather than pass by luck on a big main stack.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic")
}

fn codes(diags: &[Diagnostic]) -> Vec<&'static str> {
    diags.iter().map(|d| d.code).collect()
}

#[test]
fn deep_parentheses_are_too_deep() {
    let diags = on_small_stack(|| {
        let n = 100_000;
        let src = format!(
            "policy \"p\"\nrule \"r\" {{ when {}change.a{} then deploy }}\ndefault deploy\n",
            "(".repeat(n),
            ")".repeat(n)
        );
        parse(&src).1
    });
    assert_eq!(codes(&diags), ["changegate::too_deep"]);
    // It points at the first bracket over the limit: 64 are allowed.
    assert_eq!(diags[0].line_col(), (2, 16 + 65));
}

#[test]
fn deep_brackets_are_too_deep() {
    let diags = on_small_stack(|| {
        let n = 100_000;
        let src = format!(
            "rule \"r\" {{ when change.a in {}1{} then deploy }}",
            "[".repeat(n),
            "]".repeat(n)
        );
        parse(&src).1
    });
    assert_eq!(codes(&diags), ["changegate::too_deep"]);
}

#[test]
fn unbalanced_deep_parentheses_are_too_deep() {
    let diags = on_small_stack(|| parse(&"(".repeat(100_000)).1);
    assert_eq!(codes(&diags), ["changegate::too_deep"]);
}

#[test]
fn many_nots_are_too_deep() {
    let diags = on_small_stack(|| {
        let src = format!(
            "policy \"p\"\nrule \"r\" {{ when {}change.a then deploy }}\ndefault deploy\n",
            "not ".repeat(100_000)
        );
        parse(&src).1
    });
    assert_eq!(codes(&diags), ["changegate::too_deep"]);
    assert_eq!(diags[0].line_col().0, 2);
}

#[test]
fn many_counts_are_too_deep() {
    let diags = on_small_stack(|| {
        let src = format!(
            "rule \"r\" {{ when {}change.a > 1 then deploy }}",
            "count ".repeat(100_000)
        );
        parse(&src).1
    });
    assert_eq!(codes(&diags), ["changegate::too_deep"]);
}

#[test]
fn moderate_nesting_is_fine() {
    let src = "rule \"r\" { when ((((((((change.a == 1)))))))) and not not (count change.x > 1) then deploy }";
    let ast = parse_ok(src);
    assert_eq!(parse_ok(&ast.to_string()), ast);
}

#[test]
fn nesting_at_the_limit_parses_even_on_a_small_stack() {
    // Parsing runs on a thread of its own, so the caller's small stack does not
    // matter; the limit counts AST levels (each bracket, `not`, `count`, `sum`,
    // comparison and `and`/`or` chain), not grammar layers.
    let n = Limits::default().max_depth;
    let (ok, too_deep) = on_small_stack(move || {
        let at = |k: usize| {
            format!(
                "rule \"r\" {{ when {}change.a{} then deploy }}",
                "(".repeat(k),
                ")".repeat(k)
            )
        };
        (parse(&at(n)).1, parse(&at(n + 1)).1)
    });
    assert_eq!(codes(&ok), Vec::<&str>::new());
    assert_eq!(codes(&too_deep), ["changegate::too_deep"]);
}

#[test]
fn a_long_flat_chain_is_not_deep() {
    let ast = on_small_stack(|| {
        let terms: Vec<String> = (0..5_000).map(|i| format!("change.f{i} == {i}")).collect();
        let src = format!("rule \"r\" {{ when {} then deploy }}", terms.join(" and "));
        let (ast, diags) = parse(&src);
        assert!(diags.is_empty(), "{diags:#?}");
        ast
    });
    assert_eq!(ast.items.len(), 1);
}

#[test]
fn huge_file_is_too_large() {
    let diags = on_small_stack(|| {
        // 20 MB of a valid item repeated: rejected before any parsing.
        let line = "group g = [\"alice\", \"bob\"] # padding padding padding padding\n";
        let src = line.repeat(20_000_000 / line.len() + 1);
        assert!(src.len() > 20_000_000);
        parse(&src).1
    });
    assert_eq!(codes(&diags), ["changegate::too_large"]);
    assert!(diags[0].message.contains("more than the limit"));
}

#[test]
fn huge_file_through_the_policy_api_is_too_large() {
    let src = "# x\n".repeat(5_000_000);
    let err = crate::Policy::parse(&src, "big.gate").expect_err("too large");
    assert_eq!(
        err.iter().map(|d| d.code).collect::<Vec<_>>(),
        ["changegate::too_large"]
    );
}

/// Every syntax error says what was expected: each word of real policies deleted,
/// and each doubled, gives an error that names what belongs there, never a
/// placeholder. (An error whose list was empty used to read "expected something
/// else", and the schema's rules were not named at all.)
#[test]
fn every_syntax_error_names_what_was_expected() {
    let schema = "policy \"s\"\n\nschema {\n  kind: string,\n  risk?: int,\n  \
                  labels: list<string>,\n  \"odd name\": any,\n}\n\n\
                  rule \"r\" {\n  when change.risk > 2\n  then deny \"no\"\n}\n\ndefault deploy\n";
    let sources = [
        schema,
        include_str!("../../policies/netops.gate"),
        include_str!("../../policies/starter.gate"),
    ];
    let mut errors = 0;
    for src in sources {
        let words: Vec<(usize, usize)> = src
            .char_indices()
            .filter(|&(i, c)| {
                !c.is_whitespace() && src[..i].chars().next_back().is_none_or(char::is_whitespace)
            })
            .map(|(i, _)| {
                let end = src[i..]
                    .find(char::is_whitespace)
                    .map_or(src.len(), |n| i + n);
                (i, end)
            })
            .collect();
        for &(a, b) in &words {
            let word = &src[a..b];
            for mutated in [
                format!("{}{}", &src[..a], &src[b..]),
                format!("{}{word} {word}{}", &src[..a], &src[b..]),
            ] {
                let (_, diags) = parse(&mutated);
                for d in diags {
                    errors += 1;
                    let text = crate::Diagnostics(vec![d]).render_plain();
                    assert!(
                        !text.contains("something else"),
                        "a placeholder in the error for {mutated:?}:\n{text}"
                    );
                }
            }
        }
    }
    assert!(
        errors > 100,
        "only {errors} errors: the mutations stopped breaking the policies"
    );
}
