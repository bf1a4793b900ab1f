//! `evaluate --reviews`: approvals read from GitHub pull-request reviews and GitLab
//! merge-request approvals, from fixtures shaped like the APIs' documented responses
//! (`tests/fixtures/reviews/`), evaluated by the real binary against
//! `tests/fixtures/reviews/policy.gate` (one from security and one from netops; erin
//! is in both groups; the change's author is mallory; the deployed commit is `HEAD`).

use std::process::{Command, Output};

use serde_json::{json, Value};

const DIR: &str = "tests/fixtures/reviews";
const HEAD: &str = "5f2b8c0e9d1a4b7c3e6f8a2d0c4b6e8f1a3c5d7e";
const AT: &str = "2026-11-26T10:00:00Z";

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_changegate"))
        .args(args)
        .output()
        .expect("run changegate")
}

/// Evaluates the fixture change with `--reviews SPEC` (plus `extra` flags).
fn evaluate(spec: &str, extra: &[&str]) -> (i32, Value, String) {
    let policy = format!("{DIR}/policy.gate");
    let change = format!("{DIR}/change.json");
    let reviews = spec.replacen(':', &format!(":{DIR}/"), 1);
    let mut args = vec![
        "evaluate",
        "-p",
        &policy,
        "-c",
        &change,
        "--at",
        AT,
        "--format",
        "json",
        "--reviews",
        &reviews,
    ];
    args.extend_from_slice(extra);
    let out = run(&args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let code = out.status.code().unwrap_or(-1);
    let verdict = if out.stdout.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("{spec}: stdout is not JSON: {e}\n{stderr}"))
    };
    (code, verdict, stderr)
}

/// `expected` is within `actual`: objects key by key, lists of the same length item
/// by item, scalars exactly.
fn within(expected: &Value, actual: &Value, path: &str, errors: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Object(e), Value::Object(a)) => {
            for (k, ev) in e {
                match a.get(k) {
                    Some(av) => within(ev, av, &format!("{path}.{k}"), errors),
                    None => errors.push(format!("{path}.{k}: missing")),
                }
            }
        }
        (Value::Array(e), Value::Array(a)) if e.len() == a.len() => {
            for (i, (ev, av)) in e.iter().zip(a).enumerate() {
                within(ev, av, &format!("{path}[{i}]"), errors);
            }
        }
        (e, a) if e == a => {}
        (e, a) => errors.push(format!("{path}: expected {e}, got {a}")),
    }
}

fn expect(spec: &str, extra: &[&str], code: i32, subset: Value) {
    let (got, verdict, stderr) = evaluate(spec, extra);
    assert_eq!(got, code, "{spec}: exit code\n{stderr}\n{verdict:#}");
    let mut errors = Vec::new();
    within(&subset, &verdict, "verdict", &mut errors);
    assert!(
        errors.is_empty(),
        "{spec}:\n{}\n{verdict:#}",
        errors.join("\n")
    );
}

/// An input error: exit 1, nothing on stdout, and stderr names the file and says `what`.
fn rejected(spec: &str, extra: &[&str], what: &str) {
    let (code, verdict, stderr) = evaluate(spec, extra);
    assert_eq!(code, 1, "{spec}: {stderr}\n{verdict}");
    assert!(
        verdict.is_null(),
        "{spec}: a verdict was printed: {verdict}"
    );
    let file = spec.split_once(':').map_or(spec, |(_, f)| f);
    assert!(
        stderr.contains(file),
        "{spec}: the error does not name the file:\n{stderr}"
    );
    assert!(
        stderr.contains(what),
        "{spec}: expected {what:?} in:\n{stderr}"
    );
}

#[test]
fn two_pages_of_github_reviews_decide_per_reviewer() {
    // Page 1: dave comments, mallory (the author) approves, carol approves an older
    // commit, bob approves and then requests changes. Page 2: dave approves and then
    // comments, alice's approval was dismissed, erin approves, heidi's review is pending.
    expect(
        "github:github/two-pages.json",
        &[],
        0,
        json!({
            "decision": "deploy",
            "approvals": [
                { "group": "security", "have": 1, "approved_by": ["dave"], "sources": ["github"] },
                { "group": "netops", "have": 1, "approved_by": ["erin"], "sources": ["github"],
                  "ignored": [
                      { "by": "mallory", "why": "author", "source": "github" },
                      { "by": "carol", "why": "stale", "source": "github" }
                  ] }
            ],
            "ignored_approvals": [
                { "by": "mallory", "why": "author", "source": "github" },
                { "by": "carol", "why": "stale", "source": "github" }
            ]
        }),
    );
}

#[test]
fn a_later_request_for_changes_withdraws_an_approval() {
    expect(
        "github:github/withdrawn.json",
        &[],
        10,
        json!({
            "decision": "approve",
            "approvals": [
                { "group": "security", "have": 1, "approved_by": ["dave"] },
                { "group": "netops", "have": 0, "approved_by": [], "ignored": [] }
            ],
            "reasons": ["needs 1 more approval from netops"]
        }),
    );
}

#[test]
fn an_approval_of_an_older_commit_is_stale() {
    expect(
        "github:github/stale.json",
        &[],
        10,
        json!({
            "decision": "approve",
            "approvals": [
                { "group": "security", "have": 1 },
                { "group": "netops", "have": 0,
                  "ignored": [{ "by": "carol", "why": "stale", "source": "github" }] }
            ]
        }),
    );
}

#[test]
fn a_dismissed_review_does_not_count() {
    expect(
        "github:github/dismissed.json",
        &[],
        10,
        json!({
            "decision": "approve",
            "approvals": [
                { "group": "security", "have": 1 },
                { "group": "netops", "have": 0, "approved_by": [], "ignored": [] }
            ]
        }),
    );
}

#[test]
fn the_authors_own_review_does_not_count() {
    expect(
        "github:github/author.json",
        &[],
        10,
        json!({
            "decision": "approve",
            "ignored_approvals": [{ "by": "mallory", "why": "author", "source": "github" }]
        }),
    );
}

#[test]
fn a_reviewer_in_two_groups_fills_one_seat() {
    let (code, v, stderr) = evaluate("github:github/two-groups.json", &[]);
    assert_eq!(code, 10, "{stderr}");
    let have: u64 = v["approvals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["have"].as_u64().unwrap())
        .sum();
    assert_eq!(have, 1, "{v:#}");
    assert_eq!(v["reasons"].as_array().unwrap().len(), 1, "{v:#}");
}

#[test]
fn comments_and_pending_reviews_never_count() {
    for spec in [
        "github:github/commented-pending.json",
        "github:github/empty.json",
    ] {
        expect(
            spec,
            &[],
            10,
            json!({
                "decision": "approve",
                "approvals": [
                    { "group": "security", "have": 0, "approved_by": [], "ignored": [] },
                    { "group": "netops", "have": 0, "approved_by": [], "ignored": [] }
                ]
            }),
        );
    }
}

#[test]
fn the_reviews_replace_the_changes_own_approvals_unless_asked() {
    // The change claims alice and bob; without `--reviews` nothing says where from.
    let policy = format!("{DIR}/policy.gate");
    let change = format!("{DIR}/change.json");
    let out = run(&[
        "evaluate", "-p", &policy, "-c", &change, "--at", AT, "--format", "json",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["approvals"][1]["approved_by"], json!(["alice"]));
    assert!(v["approvals"][1].get("sources").is_none(), "{v:#}");

    // With the reviews (bob withdrew), netops has nobody: the change's claims are gone.
    let (_, replaced, stderr) = evaluate("github:github/withdrawn.json", &[]);
    assert_eq!(replaced["approvals"][1]["have"], 0);
    assert!(stderr.contains("replaced"), "{stderr}");

    // Kept on request, and marked as the change's.
    expect(
        "github:github/withdrawn.json",
        &["--keep-change-approvals"],
        0,
        json!({
            "decision": "deploy",
            "approvals": [
                { "group": "security", "approved_by": ["dave"], "sources": ["github"] },
                { "group": "netops", "approved_by": ["alice"], "sources": ["change"] }
            ]
        }),
    );
}

#[test]
fn a_change_file_cannot_claim_a_review_system() {
    let dir = std::env::temp_dir().join(format!("changegate-reviews-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let change = dir.join("claims.json");
    std::fs::write(
        &change,
        r#"{"kind": "firewall", "author": "mallory", "approvals": [
            {"by": "dave", "source": "github"}, {"by": "erin", "source": "gitlab"}]}"#,
    )
    .unwrap();
    let out = run(&[
        "evaluate",
        "-p",
        &format!("{DIR}/policy.gate"),
        "-c",
        change.to_str().unwrap(),
        "--at",
        AT,
        "--format",
        "json",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    for a in v["approvals"].as_array().unwrap() {
        assert_eq!(a["sources"], json!(["change"]), "{v:#}");
    }
}

#[test]
fn gitlab_approvals_take_the_revision_from_the_merge_request() {
    for spec in [
        "gitlab:gitlab/mr-and-approvals.json",
        "gitlab:gitlab/approvals-and-mr.json",
    ] {
        expect(
            spec,
            &[],
            0,
            json!({
                "decision": "deploy",
                "approvals": [
                    { "group": "security", "approved_by": ["dave"], "sources": ["gitlab"] },
                    { "group": "netops", "approved_by": ["erin"], "sources": ["gitlab"] }
                ],
                "ignored_approvals": [{ "by": "mallory", "why": "author", "source": "gitlab" }]
            }),
        );
    }
    // The merge request's head moved past the commit being deployed: every approval
    // is of another revision.
    expect(
        "gitlab:gitlab/moved-on.json",
        &[],
        10,
        json!({
            "decision": "approve",
            "ignored_approvals": [
                { "by": "dave", "why": "stale" },
                { "by": "erin", "why": "stale" },
                { "by": "mallory", "why": "author" }
            ]
        }),
    );
}

#[test]
fn malformed_or_unknown_responses_are_input_errors() {
    rejected(
        "github:github/not-found.json",
        &[],
        "the API said: \"Not Found\"",
    );
    rejected("github:github/unknown-state.json", &[], "\"APPROVE\"");
    rejected("github:github/no-user.json", &[], "no `user`");
    rejected("github:github/truncated.json", &[], "not JSON");
    rejected(
        "github:github/slurped.json",
        &[],
        "is an array, not a review object",
    );
    rejected("github:github/review-comments.json", &[], "no `state`");
    rejected(
        "github:github/two-pulls.json",
        &[],
        "give the reviews of one pull request",
    );
    rejected(
        "github:gitlab/mr-and-approvals.json",
        &[],
        "not an array of pull-request reviews",
    );
    rejected(
        "gitlab:github/two-pages.json",
        &[],
        "use `--reviews github:FILE`",
    );
    rejected("gitlab:gitlab/approvals-only.json", &[], "no `sha`");
    rejected(
        "gitlab:gitlab/other-mr.json",
        &[],
        "not the same merge request",
    );
    rejected(
        "gitlab:gitlab/not-found.json",
        &[],
        "the API said: \"404 Not found\"",
    );
    rejected("github:github/missing.json", &[], "cannot read");
    let (code, _, stderr) = evaluate("bitbucket:x.json", &[]);
    assert_eq!(code, 1);
    assert!(stderr.contains("`github:FILE`"), "{stderr}");
}

#[test]
fn an_empty_file_is_not_an_empty_list_of_reviews() {
    let dir = std::env::temp_dir().join(format!("changegate-reviews-empty-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let empty = dir.join("empty.json");
    std::fs::write(&empty, "\n").unwrap();
    let out = run(&[
        "evaluate",
        "-p",
        &format!("{DIR}/policy.gate"),
        "-c",
        &format!("{DIR}/change.json"),
        "--at",
        AT,
        "--reviews",
        &format!("github:{}", empty.display()),
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty"));
}

#[test]
fn reviews_need_the_deployed_revision_and_a_single_change() {
    let dir = std::env::temp_dir().join(format!("changegate-reviews-rev-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let change = dir.join("c.json");
    std::fs::write(&change, r#"{"kind": "firewall", "author": "mallory"}"#).unwrap();
    let batch = dir.join("b.jsonl");
    std::fs::write(
        &batch,
        format!("{{\"kind\": \"firewall\", \"revision\": \"{HEAD}\"}}\n"),
    )
    .unwrap();
    let reviews = format!("github:{DIR}/github/two-pages.json");
    let policy = format!("{DIR}/policy.gate");
    let no_rev = run(&[
        "evaluate",
        "-p",
        &policy,
        "-c",
        change.to_str().unwrap(),
        "--at",
        AT,
        "--reviews",
        &reviews,
    ]);
    let in_batch = run(&[
        "evaluate",
        "-p",
        &policy,
        "-c",
        batch.to_str().unwrap(),
        "--at",
        AT,
        "--reviews",
        &reviews,
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(no_rev.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&no_rev.stderr).contains("`revision`"));
    assert_eq!(in_batch.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&in_batch.stderr).contains("batch"));
    assert!(in_batch.stdout.is_empty());
}

/// The reader's own view: revision, time and source of each approval.
#[test]
fn github_approvals_carry_commit_time_and_source() {
    use changegate::review::{read, Provider, ReviewApproval};
    let bytes = std::fs::read(format!("{DIR}/github/two-pages.json")).unwrap();
    let got = read(Provider::Github, &bytes, "two-pages.json").unwrap();
    let by: Vec<&str> = got.iter().map(|a| a.by.as_str()).collect();
    assert_eq!(by, ["mallory", "carol", "dave", "erin"]);
    assert_eq!(
        got[2],
        ReviewApproval {
            by: "dave".into(),
            revision: Some(HEAD.into()),
            at: Some("2026-11-25T14:22:31Z".into()),
            source: Provider::Github,
        }
    );
    // A review whose commit GitHub no longer has (commit_id null) names no revision.
    let gone = br#"[{"id": 1, "user": {"login": "dave", "id": 2}, "body": "", "state": "APPROVED",
        "commit_id": null, "submitted_at": "2026-11-25T14:22:31Z"}]"#;
    assert_eq!(read(Provider::Github, gone, "x").unwrap()[0].revision, None);
    // The same review on two overlapping pages is one review.
    let page = r#"[{"id": 1, "user": {"login": "dave", "id": 2}, "body": "", "state": "APPROVED",
        "commit_id": "abc", "submitted_at": "2026-11-25T14:22:31Z"}]"#;
    let twice = format!("{page}{page}");
    assert_eq!(
        read(Provider::Github, twice.as_bytes(), "x").unwrap().len(),
        1
    );
    // Errors are located: the line of the page, and the review's number and id.
    let err = read(
        Provider::Github,
        std::fs::read(format!("{DIR}/github/unknown-state.json"))
            .unwrap()
            .as_slice(),
        "u.json",
    )
    .unwrap_err();
    assert_eq!(err.location, "u.json:1: review 1 (id 1868000701)");
}
