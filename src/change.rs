//! The change being gated: a JSON/YAML object whose fields conditions read as
//! `change.<field>`, with the fields changegate itself understands picked out once.

use crate::value::{Map, Value};

/// One approval recorded on a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// Who approved, in canonical form ([`crate::people::canonical`]).
    pub by: String,
    /// The revision they approved, if recorded.
    pub revision: Option<String>,
    /// When they approved (RFC 3339, as the review system said), if recorded.
    pub at: Option<String>,
    /// Where the approval came from (`change`, `github`, `gitlab`), if recorded.
    pub source: Option<String>,
}

/// A change, ready to evaluate.
#[derive(Debug, Clone)]
pub struct Change {
    pub(crate) value: std::sync::Arc<Value>,
    pub(crate) id: Option<String>,
    pub(crate) author: Option<String>,
    pub(crate) revision: Option<String>,
    pub(crate) approvals: Vec<Approval>,
    pub(crate) duration: Option<i64>,
    /// Problems with the well-known fields; each makes the verdict `deny`.
    pub(crate) problems: Vec<String>,
    /// The problems that are input errors (a name that cannot stand for a person):
    /// the command line refuses such a change (exit 1) instead of evaluating it.
    pub(crate) input_errors: Vec<String>,
}

/// A change that is not an object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a change must be an object with fields such as `id` and `kind`, not {found}")]
pub struct NotAnObject {
    found: &'static str,
}

impl Change {
    /// Wraps a value read from JSON or YAML. Only a non-object is refused here;
    /// problems with fields such as `approvals` or `duration` are reported in the
    /// verdict (and make it `deny`), so they are never silently ignored.
    ///
    /// Conditions see `change.author` and `change.approvals[].by` in canonical form
    /// ([`crate::people::canonical`]), the form in which people are compared: a rule
    /// about the author cannot be talked past with another spelling.
    pub fn from_value(value: Value) -> Result<Change, NotAnObject> {
        if !matches!(value, Value::Map(_)) {
            return Err(NotAnObject {
                found: value.type_of().with_article(),
            });
        }
        Ok(Change::from_object(value))
    }

    /// Starts a change with this `id`; the builder's other fields are those of the
    /// JSON object it stands for, and [`ChangeBuilder::build`] gives the same
    /// [`Change`] as [`Change::from_value`] of that object.
    ///
    /// ```
    /// use changegate::Change;
    ///
    /// let built = Change::builder("CHG-1")
    ///     .kind("firewall")
    ///     .author("mallory")
    ///     .approval("dave")
    ///     .target("core-1")
    ///     .field("risk", 3)
    ///     .build();
    /// let read = Change::from_json(serde_json::json!({
    ///     "id": "CHG-1",
    ///     "kind": "firewall",
    ///     "author": "mallory",
    ///     "approvals": [{ "by": "dave" }],
    ///     "targets": ["core-1"],
    ///     "risk": 3,
    /// }))?;
    /// assert_eq!(built.value(), read.value());
    /// # Ok::<(), changegate::change::NotAnObject>(())
    /// ```
    pub fn builder(id: impl Into<String>) -> ChangeBuilder {
        ChangeBuilder::default().field("id", id.into())
    }

    /// The body of [`Change::from_value`], for a value known to be an object.
    fn from_object(value: Value) -> Change {
        let mut problems = Vec::new();
        let id = text(value.get("id"), "`change.id`", true, &mut problems);
        let mut input_errors = Vec::new();
        let author = text(value.get("author"), "`change.author`", false, &mut problems)
            .and_then(|a| person("`change.author`", &a, &mut input_errors));
        let revision = text(
            value.get("revision"),
            "`change.revision`",
            true,
            &mut problems,
        );
        let duration = duration_field(&value, &mut problems);
        let approvals = approvals_field(&value, &mut problems, &mut input_errors);
        problems.extend(input_errors.iter().cloned());
        let value = std::sync::Arc::new(with_canonical_names(value));
        Change {
            value,
            id,
            author,
            revision,
            approvals,
            duration,
            problems,
            input_errors,
        }
    }

    /// Converts a `serde_json` value.
    pub fn from_json(value: serde_json::Value) -> Result<Change, NotAnObject> {
        Change::from_value(Value::from_json(value))
    }

    /// The change's `id`, if it has one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The change's value, shared (a verdict keeps it for its `inputs.change` digest).
    pub(crate) fn shared_value(&self) -> std::sync::Arc<Value> {
        std::sync::Arc::clone(&self.value)
    }

    /// The whole change as a value.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The approvals recorded on the change, each `by` in its canonical form
    /// ([`crate::people::canonical`]).
    pub fn approvals(&self) -> &[Approval] {
        &self.approvals
    }

    /// The author, in canonical form, if the change names one.
    pub fn author(&self) -> Option<&str> {
        self.author.as_deref()
    }

    /// Input errors: names (author, approvers) that cannot stand for a person. Each
    /// also makes [`crate::Policy::evaluate`] deny; the command line refuses such a
    /// change outright (exit 1).
    pub fn input_errors(&self) -> &[String] {
        &self.input_errors
    }
}

/// `change.duration`: a duration such as `"45m"`, in seconds.
fn duration_field(value: &Value, problems: &mut Vec<String>) -> Option<i64> {
    match value.get("duration") {
        None | Some(Value::Null) => None,
        Some(Value::Str(s)) => match crate::time::parse_duration(s) {
            Ok(d) => Some(d),
            Err(e) => {
                problems.push(format!("`change.duration` is `{s}`: {e}"));
                None
            }
        },
        Some(other) => {
            problems.push(format!(
                "`change.duration` is {}, not a duration such as \"45m\"",
                other.type_of().with_article()
            ));
            None
        }
    }
}

/// `change.approvals`: a list of names or `{by, revision, at, source}` objects.
fn approvals_field(
    value: &Value,
    problems: &mut Vec<String>,
    input_errors: &mut Vec<String>,
) -> Vec<Approval> {
    match value.get("approvals") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::List(items)) => items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| approval(i, item, problems, input_errors))
            .collect(),
        Some(other) => {
            problems.push(format!(
                "`change.approvals` is {}, not a list",
                other.type_of().with_article()
            ));
            Vec::new()
        }
    }
}

/// `change.approvals[i]`: a name, or an object with `by`.
fn approval(
    i: usize,
    item: &Value,
    problems: &mut Vec<String>,
    input_errors: &mut Vec<String>,
) -> Option<Approval> {
    match item {
        Value::Str(by) => {
            let field = format!("`change.approvals[{i}]`");
            let by = person(&field, by, input_errors)?;
            Some(Approval {
                by,
                revision: None,
                at: None,
                source: None,
            })
        }
        Value::Map(_) => match item.get("by") {
            Some(Value::Str(by)) => approval_object(i, item, by, problems, input_errors),
            _ => {
                problems.push(format!(
                    "`change.approvals[{i}]` has no `by` naming who approved"
                ));
                None
            }
        },
        other => {
            problems.push(format!(
                "`change.approvals[{i}]` is {}, not an object such as {{\"by\": \"dave\"}}",
                other.type_of().with_article()
            ));
            None
        }
    }
}

/// `change.approvals[i]`, an object whose `by` is `by`: its `revision`, `at` and
/// `source`, each optional.
fn approval_object(
    i: usize,
    item: &Value,
    by: &str,
    problems: &mut Vec<String>,
    input_errors: &mut Vec<String>,
) -> Option<Approval> {
    let mut read = |name: &str, ints: bool| {
        text(
            item.get(name),
            &format!("`change.approvals[{i}].{name}`"),
            ints,
            problems,
        )
    };
    let revision = read("revision", true);
    let at = read("at", false);
    let source = read("source", false);
    let field = format!("`change.approvals[{i}].by`");
    let by = person(&field, by, input_errors)?;
    Some(Approval {
        by,
        revision,
        at,
        source,
    })
}

/// `name`'s canonical form, or `None` with an input error about `field`.
fn person(field: &str, name: &str, errors: &mut Vec<String>) -> Option<String> {
    match crate::people::canonical(name) {
        Ok(c) => Some(c),
        Err(e) => {
            errors.push(format!("{field} is not a usable name: {e}"));
            None
        }
    }
}

/// A text field, `name` (such as `` `change.id` ``) in a problem: a string, or with
/// `ints` an integer as its digits.
fn text(v: Option<&Value>, name: &str, ints: bool, problems: &mut Vec<String>) -> Option<String> {
    match v {
        None | Some(Value::Null) => None,
        Some(Value::Str(s)) => Some(s.clone()),
        Some(Value::Int(i)) if ints => Some(i.to_string()),
        Some(other) => {
            problems.push(format!(
                "{name} is {}, not a string",
                other.type_of().with_article()
            ));
            None
        }
    }
}

/// `value` with `author` and each approval's `by` replaced by their canonical forms
/// (names that have none are left as they are: they are input errors already).
fn with_canonical_names(mut value: Value) -> Value {
    let canon = |v: &mut Value| {
        if let Value::Str(s) = v {
            if let Ok(c) = crate::people::canonical(s) {
                *s = c;
            }
        }
    };
    if let Value::Map(m) = &mut value {
        if let Some(a) = m.get_mut("author") {
            canon(a);
        }
        if let Some(Value::List(items)) = m.get_mut("approvals") {
            for item in items {
                match item {
                    Value::Map(a) => {
                        if let Some(by) = a.get_mut("by") {
                            canon(by);
                        }
                    }
                    other => canon(other),
                }
            }
        }
    }
    value
}

/// A [`Change`] assembled field by field ([`Change::builder`]) instead of from JSON.
///
/// Each method sets or extends one field of the object the change is read from, so
/// the change built is exactly the one [`Change::from_value`] makes of that object:
/// the same canonical names, the same problems (a bad `duration` still makes the
/// verdict `deny`).
#[derive(Debug, Clone, Default)]
#[must_use = "a builder does nothing until `build` is called"]
pub struct ChangeBuilder {
    fields: Map,
}

impl ChangeBuilder {
    /// Sets `kind` (`"firewall"`, `"dns"`, …).
    pub fn kind(self, kind: impl Into<String>) -> Self {
        self.field("kind", kind.into())
    }

    /// Sets `author`, who is never counted as an approver of their own change.
    pub fn author(self, author: impl Into<String>) -> Self {
        self.field("author", author.into())
    }

    /// Sets `revision`, the revision under review (approvals of another are stale).
    pub fn revision(self, revision: impl Into<String>) -> Self {
        self.field("revision", revision.into())
    }

    /// Sets `duration`, how long the change takes (`"45m"`, `"2h"`).
    pub fn duration(self, duration: impl Into<String>) -> Self {
        self.field("duration", duration.into())
    }

    /// Adds an approval by `by` to `approvals` (as `{"by": by}`).
    pub fn approval(self, by: impl Into<String>) -> Self {
        let mut item = Map::new();
        item.insert("by".to_owned(), Value::Str(by.into()));
        self.push("approvals", Value::Map(item))
    }

    /// Adds an approval by `by` of `revision` to `approvals` (as `{"by": by,
    /// "revision": revision}`).
    pub fn approval_of_revision(self, by: impl Into<String>, revision: impl Into<String>) -> Self {
        let mut item = Map::new();
        item.insert("by".to_owned(), Value::Str(by.into()));
        item.insert("revision".to_owned(), Value::Str(revision.into()));
        self.push("approvals", Value::Map(item))
    }

    /// Adds a device to `targets`.
    pub fn target(self, device: impl Into<String>) -> Self {
        self.push("targets", Value::Str(device.into()))
    }

    /// Adds a path to `files`.
    pub fn file(self, path: impl Into<String>) -> Self {
        self.push("files", Value::Str(path.into()))
    }

    /// Sets any field, replacing what it held (`.field("risk", 3)`).
    pub fn field(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.fields.insert(name.into(), value.into());
        self
    }

    /// The change. Never fails: problems with the fields are reported in the verdict,
    /// as they are for a change read from JSON.
    pub fn build(self) -> Change {
        Change::from_object(Value::Map(self.fields))
    }

    /// Appends `item` to the list `name`, starting the list if the field holds
    /// anything else.
    fn push(mut self, name: &str, item: Value) -> Self {
        match self.fields.get_mut(name) {
            Some(Value::List(items)) => items.push(item),
            _ => {
                self.fields.insert(name.to_owned(), Value::List(vec![item]));
            }
        }
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn same(a: &Change, b: &Change) {
        assert_eq!(a.value, b.value);
        assert_eq!(a.id, b.id);
        assert_eq!(a.author, b.author);
        assert_eq!(a.revision, b.revision);
        assert_eq!(a.approvals, b.approvals);
        assert_eq!(a.duration, b.duration);
        assert_eq!(a.problems, b.problems);
        assert_eq!(a.input_errors, b.input_errors);
    }

    /// The builder makes exactly the change its JSON object reads as, problems and
    /// canonical names included.
    #[test]
    fn builder_matches_json() {
        let built = Change::builder("CHG-1")
            .kind("firewall")
            .author("Mallory")
            .revision("abc123")
            .duration("45m")
            .approval("dave")
            .approval_of_revision("erin", "abc123")
            .target("core-1")
            .target("core-2")
            .file("acl/edge.acl")
            .field("risk", 3)
            .field("labels", vec!["urgent", "night"])
            .build();
        let read = Change::from_json(serde_json::json!({
            "id": "CHG-1",
            "kind": "firewall",
            "author": "Mallory",
            "revision": "abc123",
            "duration": "45m",
            "approvals": [{ "by": "dave" }, { "by": "erin", "revision": "abc123" }],
            "targets": ["core-1", "core-2"],
            "files": ["acl/edge.acl"],
            "risk": 3,
            "labels": ["urgent", "night"],
        }))
        .unwrap();
        same(&built, &read);

        let built = Change::builder("CHG-2")
            .duration("soon")
            .field("approvals", 7)
            .build();
        let read = Change::from_json(serde_json::json!({
            "id": "CHG-2",
            "duration": "soon",
            "approvals": 7,
        }))
        .unwrap();
        same(&built, &read);
        assert!(!built.problems.is_empty());
    }
}
