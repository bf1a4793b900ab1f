//! The change being gated: a JSON/YAML object whose fields conditions read as
//! `change.<field>`, with the fields changegate itself understands picked out once.

use crate::value::Value;

/// One approval recorded on a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approval {
    /// Who approved.
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
    pub(crate) value: Value,
    pub(crate) id: Option<String>,
    pub(crate) author: Option<String>,
    pub(crate) revision: Option<String>,
    pub(crate) approvals: Vec<Approval>,
    pub(crate) duration: Option<i64>,
    /// Problems with the well-known fields; each makes the verdict `deny`.
    pub(crate) problems: Vec<String>,
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
    pub fn from_value(value: Value) -> Result<Change, NotAnObject> {
        if !matches!(value, Value::Map(_)) {
            return Err(NotAnObject {
                found: value.type_of().with_article(),
            });
        }
        let mut problems = Vec::new();
        let id = match value.get("id") {
            None | Some(Value::Null) => None,
            Some(Value::Str(s)) => Some(s.clone()),
            Some(Value::Int(i)) => Some(i.to_string()),
            Some(other) => {
                problems.push(format!(
                    "`change.id` is {}, not a string",
                    other.type_of().with_article()
                ));
                None
            }
        };
        let author = string_field(&value, "author", &mut problems);
        let revision = match value.get("revision") {
            Some(Value::Int(i)) => Some(i.to_string()),
            _ => string_field(&value, "revision", &mut problems),
        };
        let duration = match value.get("duration") {
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
        };
        let mut approvals = Vec::new();
        match value.get("approvals") {
            None | Some(Value::Null) => {}
            Some(Value::List(items)) => {
                for (i, item) in items.iter().enumerate() {
                    match item {
                        Value::Str(by) => approvals.push(Approval {
                            by: by.clone(),
                            revision: None,
                            at: None,
                            source: None,
                        }),
                        Value::Map(_) => match item.get("by") {
                            Some(Value::Str(by)) => {
                                let revision = match item.get("revision") {
                                    None | Some(Value::Null) => None,
                                    Some(Value::Str(r)) => Some(r.clone()),
                                    Some(Value::Int(r)) => Some(r.to_string()),
                                    Some(other) => {
                                        problems.push(format!(
                                            "`change.approvals[{i}].revision` is {}, not a string",
                                            other.type_of().with_article()
                                        ));
                                        None
                                    }
                                };
                                let mut text = |field: &str| match item.get(field) {
                                    None | Some(Value::Null) => None,
                                    Some(Value::Str(t)) => Some(t.clone()),
                                    Some(other) => {
                                        problems.push(format!(
                                            "`change.approvals[{i}].{field}` is {}, not a string",
                                            other.type_of().with_article()
                                        ));
                                        None
                                    }
                                };
                                let at = text("at");
                                let source = text("source");
                                approvals.push(Approval {
                                    by: by.clone(),
                                    revision,
                                    at,
                                    source,
                                });
                            }
                            _ => problems.push(format!(
                                "`change.approvals[{i}]` has no `by` naming who approved"
                            )),
                        },
                        other => problems.push(format!(
                            "`change.approvals[{i}]` is {}, not an object such as {{\"by\": \"dave\"}}",
                            other.type_of().with_article()
                        )),
                    }
                }
            }
            Some(other) => problems.push(format!(
                "`change.approvals` is {}, not a list",
                other.type_of().with_article()
            )),
        }
        Ok(Change {
            value,
            id,
            author,
            revision,
            approvals,
            duration,
            problems,
        })
    }

    /// Converts a `serde_json` value.
    pub fn from_json(value: serde_json::Value) -> Result<Change, NotAnObject> {
        Change::from_value(Value::from_json(value))
    }

    /// The change's `id`, if it has one.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The whole change as a value.
    pub fn value(&self) -> &Value {
        &self.value
    }

    /// The approvals recorded on the change.
    pub fn approvals(&self) -> &[Approval] {
        &self.approvals
    }
}

fn string_field(value: &Value, field: &str, problems: &mut Vec<String>) -> Option<String> {
    match value.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::Str(s)) => Some(s.clone()),
        Some(other) => {
            problems.push(format!(
                "`change.{field}` is {}, not a string",
                other.type_of().with_article()
            ));
            None
        }
    }
}
