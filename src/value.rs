//! Values as conditions see them: the JSON data model, with integers only.
//!
//! A change, an inventory device's attributes and every literal in a policy are
//! [`Value`]s. Numbers with a fraction are kept (so a change may carry them in fields
//! no rule reads) but any comparison of one is an evaluation error.

use std::collections::BTreeMap;
use std::fmt;

/// An object's fields, sorted by key so that printing and hashing are deterministic.
pub(crate) type Map = BTreeMap<String, Value>;

/// A value read from a change, an inventory or a policy literal.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// JSON `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A whole number.
    Int(i64),
    /// A number with a fraction or out of the `i64` range; comparing it is an error.
    Float(f64),
    /// A string.
    Str(String),
    /// A list (JSON array).
    List(Vec<Value>),
    /// An object.
    Map(Map),
}

/// The type of a [`Value`], as named in diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    /// `null`
    Null,
    /// `boolean`
    Bool,
    /// `integer`
    Int,
    /// `number` (with a fraction)
    Float,
    /// `string`
    Str,
    /// `list`
    List,
    /// `object`
    Map,
}

impl Type {
    /// The type's name with its article, for messages: "a string", "an integer".
    pub fn with_article(self) -> &'static str {
        match self {
            Type::Null => "null",
            Type::Bool => "a boolean",
            Type::Int => "an integer",
            Type::Float => "a number with a fraction",
            Type::Str => "a string",
            Type::List => "a list",
            Type::Map => "an object",
        }
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Type::Null => "null",
            Type::Bool => "boolean",
            Type::Int => "integer",
            Type::Float => "number",
            Type::Str => "string",
            Type::List => "list",
            Type::Map => "object",
        })
    }
}

impl Value {
    /// This value's type.
    pub fn type_of(&self) -> Type {
        match self {
            Value::Null => Type::Null,
            Value::Bool(_) => Type::Bool,
            Value::Int(_) => Type::Int,
            Value::Float(_) => Type::Float,
            Value::Str(_) => Type::Str,
            Value::List(_) => Type::List,
            Value::Map(_) => Type::Map,
        }
    }

    /// The string inside, if this is a string.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The field `key` of an object; `None` for a missing field or a non-object.
    pub fn get(&self, key: &str) -> Option<&Value> {
        match self {
            Value::Map(m) => m.get(key),
            _ => None,
        }
    }

    /// Converts from `serde_json`, keeping integers exact.
    pub fn from_json(v: serde_json::Value) -> Value {
        match v {
            serde_json::Value::Null => Value::Null,
            serde_json::Value::Bool(b) => Value::Bool(b),
            serde_json::Value::Number(n) => match n.as_i64() {
                Some(i) => Value::Int(i),
                None => Value::Float(n.as_f64().unwrap_or(f64::NAN)),
            },
            serde_json::Value::String(s) => Value::Str(s),
            serde_json::Value::Array(a) => {
                Value::List(a.into_iter().map(Value::from_json).collect())
            }
            serde_json::Value::Object(o) => Value::Map(
                o.into_iter()
                    .map(|(k, v)| (k, Value::from_json(v)))
                    .collect(),
            ),
        }
    }

    /// Converts to `serde_json` (for verdicts and traces).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Null => serde_json::Value::Null,
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Int(i) => serde_json::Value::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Str(s) => serde_json::Value::String(s.clone()),
            Value::List(l) => serde_json::Value::Array(l.iter().map(Value::to_json).collect()),
            Value::Map(m) => {
                serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }
}

impl fmt::Display for Value {
    /// Prints the value as the policy language would write it (strings quoted).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(i) => write!(f, "{i}"),
            Value::Float(x) => write!(f, "{x}"),
            Value::Str(s) => write!(f, "{s:?}"),
            Value::List(l) => {
                f.write_str("[")?;
                for (i, v) in l.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str("]")
            }
            Value::Map(m) => {
                f.write_str("{")?;
                for (i, (k, v)) in m.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k:?}: {v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::Str(s.to_owned())
    }
}

impl From<i64> for Value {
    fn from(i: i64) -> Value {
        Value::Int(i)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::Str(s)
    }
}

impl From<&String> for Value {
    fn from(s: &String) -> Value {
        Value::Str(s.clone())
    }
}

impl From<i32> for Value {
    fn from(i: i32) -> Value {
        Value::Int(i64::from(i))
    }
}

impl From<u32> for Value {
    fn from(i: u32) -> Value {
        Value::Int(i64::from(i))
    }
}

impl From<u64> for Value {
    /// Beyond the `i64` range, a [`Value::Float`] (as a document's number is read).
    fn from(i: u64) -> Value {
        i64::try_from(i).map_or(Value::Float(i as f64), Value::Int)
    }
}

impl From<usize> for Value {
    /// Beyond the `i64` range, a [`Value::Float`] (as a document's number is read).
    fn from(i: usize) -> Value {
        i64::try_from(i).map_or(Value::Float(i as f64), Value::Int)
    }
}

impl From<f64> for Value {
    /// A number with a fraction: kept, but any comparison of it is an error.
    fn from(f: f64) -> Value {
        Value::Float(f)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Value {
        Value::List(items.into_iter().map(Into::into).collect())
    }
}

impl From<Map> for Value {
    fn from(fields: Map) -> Value {
        Value::Map(fields)
    }
}
