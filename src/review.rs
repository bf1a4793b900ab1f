//! Approvals read from a review system: what GitHub's and GitLab's REST APIs return,
//! saved by a CI job (`gh api`, `glab api`, `curl`); changegate never talks to the
//! network. The readers are strict: a response of an unknown shape is an error, never
//! an empty list of approvals.
//!
//! * GitHub, `GET /repos/{owner}/{repo}/pulls/{n}/reviews`: a JSON array of reviews, or
//!   several pages back to back (`gh api --paginate` prints `[…][…]`). Per reviewer
//!   only their latest review in `APPROVED`, `CHANGES_REQUESTED` or `DISMISSED` decides
//!   (by `submitted_at`, then by order); `COMMENTED` and `PENDING` never count and never
//!   withdraw. An `APPROVED` one becomes `{by: user.login, revision: commit_id, at:
//!   submitted_at}`.
//! * GitLab, `GET /projects/:id/merge_requests/:iid/approvals`: one object whose
//!   `approved_by[].user.username` approved. GitLab approvals name no commit, so the
//!   revision is the merge request's head `sha`: from the approvals object if it has
//!   one, else from the merge request itself (`GET /projects/:id/merge_requests/:iid`)
//!   given in the same file, before or after it.

use std::fmt;

use chrono::{DateTime, Utc};
use serde_json::Value as J;

/// The review system a response came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// GitHub pull-request reviews.
    Github,
    /// GitLab merge-request approvals.
    Gitlab,
}

impl Provider {
    /// `github` or `gitlab`: the approvals' `source`.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Github => "github",
            Provider::Gitlab => "gitlab",
        }
    }
}

/// An approval read from a review system.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewApproval {
    /// Who approved: the GitHub login or GitLab username.
    pub by: String,
    /// The commit approved: the review's `commit_id` (GitHub; `None` when GitHub no
    /// longer has the commit) or the merge request's head `sha` (GitLab).
    pub revision: Option<String>,
    /// When: `submitted_at` (GitHub) or `approved_at` (GitLab, when it says).
    pub at: Option<String>,
    /// Where from.
    pub source: Provider,
}

impl ReviewApproval {
    /// The approval as a change's `approvals` entry.
    pub fn to_value(&self) -> crate::value::Value {
        use crate::value::Value;
        let mut m = crate::value::Map::new();
        m.insert("by".into(), Value::Str(self.by.clone()));
        if let Some(r) = &self.revision {
            m.insert("revision".into(), Value::Str(r.clone()));
        }
        if let Some(a) = &self.at {
            m.insert("at".into(), Value::Str(a.clone()));
        }
        m.insert("source".into(), Value::Str(self.source.as_str().into()));
        Value::Map(m)
    }
}

/// A response that cannot be read: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewError {
    /// `FILE:LINE:COL`, or `FILE` with the page and item.
    pub location: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ReviewError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

impl std::error::Error for ReviewError {}

/// `github:FILE` or `gitlab:FILE`.
pub fn parse_spec(spec: &str) -> Result<(Provider, &str), String> {
    match spec.split_once(':') {
        Some(("github", f)) if !f.is_empty() => Ok((Provider::Github, f)),
        Some(("gitlab", f)) if !f.is_empty() => Ok((Provider::Gitlab, f)),
        _ => Err(format!(
            "`--reviews {spec}`: write `github:FILE` (the output of `gh api repos/OWNER/REPO/pulls/N/reviews --paginate`) or `gitlab:FILE` (the output of `glab api projects/ID/merge_requests/IID/approvals`)"
        )),
    }
}

/// Reads a response of `provider` from `bytes`; `name` locates errors.
pub fn read(
    provider: Provider,
    bytes: &[u8],
    name: &str,
) -> Result<Vec<ReviewApproval>, ReviewError> {
    match provider {
        Provider::Github => github(bytes, name),
        Provider::Gitlab => gitlab(bytes, name),
    }
}

/// One-based line and column of byte `offset`.
fn line_col(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = bytes.get(..offset).unwrap_or(bytes);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = before.iter().rev().take_while(|&&b| b != b'\n').count() + 1;
    (line, col)
}

/// The JSON values in `bytes`, back to back, each with the line it starts on.
fn values(bytes: &[u8], name: &str) -> Result<Vec<(usize, J)>, ReviewError> {
    let mut out = Vec::new();
    let mut stream = serde_json::Deserializer::from_slice(bytes).into_iter::<J>();
    loop {
        let start = stream.byte_offset();
        let skipped = bytes.get(start..).map_or(0, |rest| {
            rest.iter().take_while(|b| b.is_ascii_whitespace()).count()
        });
        match stream.next() {
            None => break,
            Some(Ok(v)) => out.push((line_col(bytes, start + skipped).0, v)),
            Some(Err(e)) => {
                return Err(ReviewError {
                    location: format!("{name}:{}:{}", e.line(), e.column()),
                    message: format!("not JSON: {e}"),
                })
            }
        }
    }
    if out.is_empty() {
        return Err(ReviewError {
            location: name.to_owned(),
            message: "empty: no API response in the file".into(),
        });
    }
    Ok(out)
}

fn kind(v: &J) -> &'static str {
    match v {
        J::Null => "null",
        J::Bool(_) => "a boolean",
        J::Number(_) => "a number",
        J::String(_) => "a string",
        J::Array(_) => "an array",
        J::Object(_) => "an object",
    }
}

const STATES: [&str; 5] = [
    "APPROVED",
    "CHANGES_REQUESTED",
    "DISMISSED",
    "COMMENTED",
    "PENDING",
];

fn instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// ` (the API said: "…")` when `v` is an API error object with a `message`, else empty.
fn api_said(v: Option<&J>) -> String {
    match v.and_then(|v| v.get("message")).and_then(J::as_str) {
        Some(m) => format!(" (the API said: \"{m}\")"),
        None => String::new(),
    }
}

/// GitHub: `GET /repos/{owner}/{repo}/pulls/{n}/reviews`, one page or several.
fn github(bytes: &[u8], name: &str) -> Result<Vec<ReviewApproval>, ReviewError> {
    let pages = values(bytes, name)?;
    let many = pages.len() > 1;
    let mut reading = GithubReading::default();
    for (p, (line, page)) in pages.iter().enumerate() {
        // The page's number, when there is more than one.
        let page_no = many.then_some(p + 1);
        let reviews = github_page(page, name, *line, page_no)?;
        for (i, review) in reviews.iter().enumerate() {
            let bad = |message: String| ReviewError {
                location: github_review_location(name, *line, page_no, i, review),
                message,
            };
            reading.add(review, &bad)?;
        }
    }
    Ok(reading.approvals())
}

/// The reviews of one page: an array, or an error that says what the page is instead.
fn github_page<'a>(
    page: &'a J,
    name: &str,
    line: usize,
    page_no: Option<usize>,
) -> Result<&'a [J], ReviewError> {
    let J::Array(reviews) = page else {
        let hint = api_said(Some(page));
        return Err(ReviewError {
            location: format!("{name}:{line}"),
            message: format!(
                "{} is {}, not an array of pull-request reviews{hint}",
                match page_no {
                    Some(n) => format!("page {n}"),
                    None => "the response".into(),
                },
                kind(page)
            ),
        });
    };
    Ok(reviews)
}

/// `FILE:LINE: [page P, ]review I[ (id ID)]`: where review `i` (zero-based) stands.
fn github_review_location(
    name: &str,
    line: usize,
    page_no: Option<usize>,
    i: usize,
    review: &J,
) -> String {
    let mut l = format!("{name}:{line}: ");
    if let Some(n) = page_no {
        l.push_str(&format!("page {n}, "));
    }
    l.push_str(&format!("review {}", i + 1));
    if let Some(id) = review.get("id").and_then(J::as_i64) {
        l.push_str(&format!(" (id {id})"));
    }
    l
}

/// A reviewer's deciding review so far.
struct Decides {
    key: String,
    login: String,
    when: DateTime<Utc>,
    order: usize,
    approved: bool,
    commit: Option<String>,
    submitted: String,
}

/// What the GitHub reader has gathered from the reviews read so far.
#[derive(Default)]
struct GithubReading {
    /// Per reviewer, the review that decides.
    deciding: Vec<Decides>,
    /// The reviews read, by id.
    seen: Vec<(i64, J)>,
    /// How many deciding reviews were read: the tie-break after `submitted_at`.
    order: usize,
    /// The pull request the reviews are of, once one names it.
    pull: Option<String>,
}

/// The fields of one GitHub review object, checked.
struct GithubReview<'a> {
    id: i64,
    state: &'a str,
    /// `None`: a deleted account.
    login: Option<String>,
    commit: Option<String>,
}

impl GithubReading {
    /// Reads one review; `bad` makes an error located at it.
    fn add(&mut self, review: &J, bad: &impl Fn(String) -> ReviewError) -> Result<(), ReviewError> {
        let J::Object(r) = review else {
            return Err(bad(format!("is {}, not a review object", kind(review))));
        };
        let GithubReview {
            id,
            state,
            login,
            commit,
        } = GithubReview::read(r, bad)?;
        self.same_pull(r, bad)?;
        // Pages can overlap when reviews arrive while paging: the same review twice
        // is one review; the same id with other content is a broken response.
        if let Some((_, earlier)) = self.seen.iter().find(|(sid, _)| *sid == id) {
            if earlier != review {
                return Err(bad(format!(
                    "review id {id} appears twice with different content"
                )));
            }
            return Ok(());
        }
        self.seen.push((id, review.clone()));
        if matches!(state, "COMMENTED" | "PENDING") {
            return Ok(());
        }
        let (submitted, when) = github_submitted(r, state, bad)?;
        let Some(login) = login else {
            return Ok(());
        };
        // One reviewer, however the login is spelled: the canonical form people
        // compare in (`crate::people`); a login that has none is kept as given and
        // refused when the approvals become a change.
        let key = crate::people::canonical(&login).unwrap_or_else(|_| login.clone());
        let d = Decides {
            key,
            login,
            when,
            order: self.order,
            approved: state == "APPROVED",
            commit,
            submitted,
        };
        self.order += 1;
        match self.deciding.iter_mut().find(|x| x.key == d.key) {
            Some(x) if (d.when, d.order) > (x.when, x.order) => *x = d,
            Some(_) => {}
            None => self.deciding.push(d),
        }
        Ok(())
    }

    /// Refuses a review of another pull request than the reviews before it.
    fn same_pull(
        &mut self,
        r: &serde_json::Map<String, J>,
        bad: &impl Fn(String) -> ReviewError,
    ) -> Result<(), ReviewError> {
        if let Some(J::String(url)) = r.get("pull_request_url") {
            match &self.pull {
                Some(first) if first != url => {
                    return Err(bad(format!(
                        "is a review of {url}, but the reviews before it are of {first}: give the reviews of one pull request"
                    )))
                }
                Some(_) => {}
                None => self.pull = Some(url.clone()),
            }
        }
        Ok(())
    }

    /// The approvals: the deciding reviews that approve, earliest first.
    fn approvals(mut self) -> Vec<ReviewApproval> {
        self.deciding.sort_by_key(|d| (d.when, d.order));
        self.deciding
            .into_iter()
            .filter(|d| d.approved)
            .map(|d| ReviewApproval {
                by: d.login,
                revision: d.commit,
                at: Some(d.submitted),
                source: Provider::Github,
            })
            .collect()
    }
}

impl<'a> GithubReview<'a> {
    /// Checks review object `r`: its `id`, `state`, `user` and `commit_id`, in that order.
    fn read(
        r: &'a serde_json::Map<String, J>,
        bad: &impl Fn(String) -> ReviewError,
    ) -> Result<Self, ReviewError> {
        let id = r
            .get("id")
            .and_then(J::as_i64)
            .ok_or_else(|| bad("has no integer `id`: not a pull-request review".into()))?;
        let state = match r.get("state") {
            Some(J::String(s)) if STATES.contains(&s.as_str()) => s.as_str(),
            Some(J::String(s)) => {
                return Err(bad(format!(
                    "has `state` \"{s}\", not one of {}",
                    STATES.join(", ")
                )))
            }
            Some(other) => return Err(bad(format!("has `state` {}, not a string", kind(other)))),
            None => return Err(bad("has no `state`: not a pull-request review".into())),
        };
        let login = match r.get("user") {
            Some(J::Object(u)) => match u.get("login") {
                Some(J::String(l)) if !l.is_empty() => Some(l.clone()),
                _ => return Err(bad("has a `user` without a `login`".into())),
            },
            // A deleted account: nobody to count.
            Some(J::Null) => None,
            Some(other) => return Err(bad(format!("has `user` {}, not an object", kind(other)))),
            None => return Err(bad("has no `user`: not a pull-request review".into())),
        };
        let commit = match r.get("commit_id") {
            Some(J::String(c)) if !c.is_empty() => Some(c.clone()),
            Some(J::Null) => None,
            Some(other) => {
                return Err(bad(format!(
                    "has `commit_id` {}, not a commit SHA",
                    kind(other)
                )))
            }
            None => return Err(bad("has no `commit_id`: not a pull-request review".into())),
        };
        Ok(GithubReview {
            id,
            state,
            login,
            commit,
        })
    }
}

/// A deciding review's `submitted_at`, as given and as an instant.
fn github_submitted(
    r: &serde_json::Map<String, J>,
    state: &str,
    bad: &impl Fn(String) -> ReviewError,
) -> Result<(String, DateTime<Utc>), ReviewError> {
    let submitted = match r.get("submitted_at") {
        Some(J::String(s)) => s.clone(),
        _ => return Err(bad(format!("is {state} but has no `submitted_at` time"))),
    };
    let when = instant(&submitted).ok_or_else(|| {
        bad(format!(
            "has `submitted_at` \"{submitted}\", not an RFC 3339 time"
        ))
    })?;
    Ok((submitted, when))
}

/// GitLab: the approvals object, with the merge request object (for its `sha`) when
/// the approvals object has none.
fn gitlab(bytes: &[u8], name: &str) -> Result<Vec<ReviewApproval>, ReviewError> {
    let objects = values(bytes, name)?;
    gitlab_objects(&objects, name)?;
    type Found<'a> = Vec<&'a (usize, J)>;
    let (approvals, others): (Found<'_>, Found<'_>) = objects
        .iter()
        .partition(|(_, v)| v.get("approved_by").is_some());
    let Some((line, approvals)) = approvals.first().copied() else {
        let hint = api_said(objects.first().map(|(_, v)| v));
        return Err(ReviewError {
            location: name.to_owned(),
            message: format!(
                "no object has `approved_by`: not a merge request approvals response{hint}"
            ),
        });
    };
    let merge_request = others.first().map(|(_, v)| v);
    let bad = |what: &str, message: String| ReviewError {
        location: format!("{name}:{line}: {what}"),
        message,
    };
    let sha = gitlab_sha(approvals, merge_request, &bad)?;
    let Some(J::Array(list)) = approvals.get("approved_by") else {
        return Err(bad("approved_by", "is not an array".into()));
    };
    let mut out: Vec<ReviewApproval> = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let (username, approved_at) = gitlab_approver(entry, &format!("approved_by[{i}]"), &bad)?;
        if out.iter().any(|a| a.by.eq_ignore_ascii_case(&username)) {
            continue;
        }
        out.push(ReviewApproval {
            by: username,
            revision: Some(sha.clone()),
            at: approved_at,
            source: Provider::Gitlab,
        });
    }
    Ok(out)
}

/// Refuses more than two JSON values, or one that is not an object.
fn gitlab_objects(objects: &[(usize, J)], name: &str) -> Result<(), ReviewError> {
    if objects.len() > 2 {
        return Err(ReviewError {
            location: name.to_owned(),
            message: format!(
                "{} JSON values: expected the approvals response, and at most the merge request with it",
                objects.len()
            ),
        });
    }
    for (line, v) in objects {
        if !v.is_object() {
            let hint = match v {
                J::Array(_) => " (a GitHub reviews response? use `--reviews github:FILE`)",
                _ => "",
            };
            return Err(ReviewError {
                location: format!("{name}:{line}"),
                message: format!(
                    "the response is {}, not a merge request approvals object{hint}",
                    kind(v)
                ),
            });
        }
    }
    Ok(())
}

/// The approved revision: the approvals' `sha`, else the merge request's. Checks first
/// that the approvals have an `iid` and that the merge request given with them is theirs.
fn gitlab_sha(
    approvals: &J,
    merge_request: Option<&J>,
    bad: &impl Fn(&str, String) -> ReviewError,
) -> Result<String, ReviewError> {
    if approvals.get("iid").and_then(J::as_i64).is_none() {
        return Err(bad(
            "approvals",
            "has no integer `iid`: not a merge request approvals response".into(),
        ));
    }
    if let Some(other) = merge_request {
        for field in ["iid", "project_id"] {
            if let (Some(a), Some(b)) = (approvals.get(field), other.get(field)) {
                if a != b {
                    return Err(bad(
                        "approvals",
                        format!("`{field}` is {a}, but the merge request given with it has {b}: they are not the same merge request"),
                    ));
                }
            }
        }
    }
    match approvals.get("sha") {
        Some(J::String(s)) if !s.is_empty() => Ok(s.clone()),
        _ => match merge_request.map(|v| v.get("sha")) {
            Some(Some(J::String(s))) if !s.is_empty() => Ok(s.clone()),
            _ => Err(bad(
                "approvals",
                "no `sha`: GitLab approvals name no commit, so give the merge request too (`glab api projects/ID/merge_requests/IID` and its `/approvals`, in one file) to tell which revision was approved".into(),
            )),
        },
    }
}

/// One `approved_by` entry (`what` names it): the username and `approved_at`.
fn gitlab_approver(
    entry: &J,
    what: &str,
    bad: &impl Fn(&str, String) -> ReviewError,
) -> Result<(String, Option<String>), ReviewError> {
    let user = entry
        .get("user")
        .filter(|u| u.is_object())
        .ok_or_else(|| bad(what, "has no `user` object".into()))?;
    let username = match user.get("username") {
        Some(J::String(u)) if !u.is_empty() => u.clone(),
        _ => return Err(bad(what, "has a `user` without a `username`".into())),
    };
    let approved_at = match entry.get("approved_at") {
        None | Some(J::Null) => None,
        Some(J::String(t)) if instant(t).is_some() => Some(t.clone()),
        Some(other) => {
            return Err(bad(
                what,
                format!("has `approved_at` {other}, not an RFC 3339 time"),
            ))
        }
    };
    Ok((username, approved_at))
}

/// The change as evaluated. With `reviews`, its `approvals` are the reviews' (then, when
/// `keep`, its own, each marked `"source": "change"`); without, an approval of its own
/// that names a `source` is marked `change`, since a change file cannot vouch for a
/// review system. Returns the change and how many of its own approvals were dropped.
pub fn apply(
    change: crate::change::Change,
    reviews: Option<&[ReviewApproval]>,
    keep: bool,
) -> Result<(crate::change::Change, usize), crate::change::NotAnObject> {
    use crate::value::Value;
    let claims_source = |v: Option<&Value>| match v {
        Some(Value::List(items)) => items.iter().any(|i| i.get("source").is_some()),
        _ => false,
    };
    if reviews.is_none() && !claims_source(change.value().get("approvals")) {
        return Ok((change, 0));
    }
    let Value::Map(mut map) = change.value().clone() else {
        return Ok((change, 0));
    };
    let own = map.get("approvals").cloned();
    let mark = |v: &Value| -> Value {
        match v {
            Value::Str(by) => {
                let mut m = crate::value::Map::new();
                m.insert("by".into(), Value::Str(by.clone()));
                m.insert("source".into(), Value::Str("change".into()));
                Value::Map(m)
            }
            Value::Map(m) => {
                let mut m = m.clone();
                m.insert("source".into(), Value::Str("change".into()));
                Value::Map(m)
            }
            other => other.clone(),
        }
    };
    let mut dropped = 0;
    let approvals = match (reviews, own) {
        (Some(reviews), own) => {
            let mut list: Vec<Value> = reviews.iter().map(ReviewApproval::to_value).collect();
            match own {
                Some(Value::List(items)) if keep => list.extend(items.iter().map(mark)),
                Some(Value::List(items)) => dropped = items.len(),
                _ => {}
            }
            Value::List(list)
        }
        (None, Some(Value::List(items))) => Value::List(items.iter().map(mark).collect()),
        (None, _) => return Ok((change, 0)),
    };
    map.insert("approvals".into(), approvals);
    crate::change::Change::from_value(Value::Map(map)).map(|c| (c, dropped))
}
