//! Digests: sha256 of policy files, of a policy set, of a change, and of a decision
//! (`decision_id`). A leaf: `check` (the policy's digest), `topology` (the
//! inventory's), `verdict` (its inputs and id) and `record` (the audit log) all use
//! it, and it uses none of them.

use std::io::Write;
use std::path::{Component, Path};
use std::sync::Arc;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};
use sha2::{Digest, Sha256};

use crate::value::Value;

/// The IANA time zone database release compiled in (through `chrono-tz`).
pub(crate) const ZONE_DATA: &str = chrono_tz::IANA_TZDB_VERSION;

/// The sha256 of one policy file, by its path relative to the root policy's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileDigest {
    /// `netops.gate`, `shared/people.gate`: relative to the root file's folder, `/`-separated.
    pub path: String,
    /// Lowercase hex sha256 of the file's text.
    pub sha256: String,
}

/// The digests of everything a verdict was computed from (`verdict.inputs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inputs {
    /// Each policy file, root first, then imports in load order.
    pub policy: Arc<[FileDigest]>,
    /// The sha256 of the change as compact JSON with object keys sorted (exactly the
    /// `change` field of its record): see [`Inputs::change`].
    change: ChangeDigest,
    /// The sha256 of the inventory's text; `None` when there was no inventory.
    pub inventory: Option<String>,
}

impl Inputs {
    /// The inputs of a verdict: the policy's file digests, the change (hashed on
    /// first use) and the inventory's digest.
    pub(crate) fn new(
        policy: Arc<[FileDigest]>,
        change: Arc<Value>,
        inventory: Option<String>,
    ) -> Inputs {
        Inputs {
            policy,
            change: ChangeDigest {
                value: change,
                digest: std::sync::OnceLock::new(),
            },
            inventory,
        }
    }

    /// The sha256 of the change as compact JSON with object keys sorted.
    pub fn change(&self) -> &str {
        self.change.get()
    }
}

/// A change's digest, worked out on first use (serializing and hashing the change
/// costs more than evaluating it; a caller that wants only the decision never pays).
#[derive(Debug, Clone)]
struct ChangeDigest {
    value: Arc<Value>,
    digest: std::sync::OnceLock<String>,
}

impl ChangeDigest {
    fn get(&self) -> &str {
        self.digest.get_or_init(|| value_digest(&self.value))
    }
}

impl PartialEq for ChangeDigest {
    fn eq(&self, other: &ChangeDigest) -> bool {
        Arc::ptr_eq(&self.value, &other.value) || self.get() == other.get()
    }
}

impl Eq for ChangeDigest {}

impl Serialize for Inputs {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        struct Files<'a>(&'a [FileDigest]);
        impl Serialize for Files<'_> {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                let mut m = s.serialize_map(Some(self.0.len()))?;
                for f in self.0 {
                    m.serialize_entry(&f.path, &f.sha256)?;
                }
                m.end()
            }
        }
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("policy", &Files(&self.policy))?;
        m.serialize_entry("change", self.change())?;
        m.serialize_entry("inventory", &self.inventory)?;
        m.end()
    }
}

/// The published schema of `verdict.inputs` (it serializes by hand, above).
#[cfg(feature = "schema")]
impl schemars::JsonSchema for Inputs {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Inputs".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "The sha256 of each policy file (by path, relative to the root policy's folder), of the change (compact JSON, keys sorted) and of the inventory's text (null without one).",
            "type": "object",
            "properties": {
                "policy": {
                    "type": "object",
                    "additionalProperties": { "type": "string", "pattern": "^[0-9a-f]{64}$" }
                },
                "change": { "type": "string", "pattern": "^[0-9a-f]{64}$" },
                "inventory": { "type": ["string", "null"], "pattern": "^[0-9a-f]{64}$" }
            },
            "required": ["policy", "change", "inventory"],
            "additionalProperties": false
        })
    }
}

/// Lowercase hex of a digest.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// Lowercase hex sha256 of `bytes`.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// An `io::Write` that feeds a hasher, so values are hashed as they serialize.
pub(crate) struct HashWriter(pub(crate) Sha256);

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Serializes a [`Value`] as JSON (keys sorted: a `Map` is a `BTreeMap`), the same
/// bytes as `serde_json::to_string(&value.to_json())` without building a copy.
pub(crate) struct Json<'a>(pub(crate) &'a Value);

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        match self.0 {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(f) if f.is_finite() => s.serialize_f64(*f),
            Value::Float(_) => s.serialize_unit(),
            Value::Str(t) => s.serialize_str(t),
            Value::List(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for v in items {
                    seq.serialize_element(&Json(v))?;
                }
                seq.end()
            }
            Value::Map(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, v) in m {
                    map.serialize_entry(k, &Json(v))?;
                }
                map.end()
            }
        }
    }
}

/// The sha256 of a value as compact JSON, object keys sorted (a change's digest).
pub(crate) fn value_digest(value: &Value) -> String {
    let mut h = HashWriter(Sha256::new());
    let _ = serde_json::to_writer(&mut h, &Json(value));
    hex(&h.0.finalize())
}

/// The digest of a policy set: sha256 of a `sha256sum`-style manifest, one line per
/// file in load order: `<hex>  <path>\n`; a path holding `\` or a newline is written
/// as GNU `sha256sum` does (a leading `\`, and `\\` and `\n` escapes), so the manifest
/// names every file unambiguously and two different sets never share a digest.
pub(crate) fn policy_digest(files: &[FileDigest]) -> String {
    let mut h = Sha256::new();
    for f in files {
        if f.path.contains(['\\', '\n']) {
            let escaped = f.path.replace('\\', "\\\\").replace('\n', "\\n");
            h.update(format!("\\{}  {escaped}\n", f.sha256).as_bytes());
        } else {
            h.update(format!("{}  {}\n", f.sha256, f.path).as_bytes());
        }
    }
    hex(&h.finalize())
}

/// The digest of each file: `names` and `texts` of the policy's files, root first.
/// Paths are made relative to the root file's folder (lexically, `/`-separated), so
/// the digests do not depend on the folder changegate ran from.
pub(crate) fn file_digests<'a>(files: impl Iterator<Item = (&'a str, &'a str)>) -> Vec<FileDigest> {
    let mut out = Vec::new();
    let mut base: Option<Vec<String>> = None;
    for (name, text) in files {
        let comps = components(Path::new(name));
        let path = match &base {
            None => {
                let mut dir = comps.clone();
                let file = dir.pop().unwrap_or_else(|| name.to_owned());
                base = Some(dir);
                file
            }
            Some(dir) => relative(dir, &comps),
        };
        out.push(FileDigest {
            path,
            sha256: sha256_hex(text.as_bytes()),
        });
    }
    out
}

/// A path's components, lexically normalized (`.` dropped, `x/..` folded).
fn components(p: &Path) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for c in p.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                if out.last().is_some_and(|l| l != ".." && l != "/") {
                    out.pop();
                } else {
                    out.push("..".into());
                }
            }
            Component::RootDir => out.push("/".into()),
            Component::Prefix(p) => out.push(p.as_os_str().to_string_lossy().into_owned()),
            Component::Normal(n) => out.push(n.to_string_lossy().into_owned()),
        }
    }
    out
}

/// `to` relative to the folder `from` (both from [`components`]).
fn relative(from: &[String], to: &[String]) -> String {
    let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<&str> = vec![".."; from.len().saturating_sub(common)];
    parts.extend(to.iter().skip(common).map(String::as_str));
    parts.join("/")
}

/// The preimage of a `decision_id`: see [`decision_id`].
#[derive(Serialize)]
struct DecisionBody<'a, V: Serialize> {
    zone_data: &'a str,
    inventory: Option<&'a str>,
    verdict: &'a V,
}

/// A decision's id: the lowercase hex sha256 of the compact JSON object
/// `{"zone_data": …, "inventory": <path or null>, "verdict": <the verdict with
/// "decision_id": "">}`. The verdict carries the changegate version, the instant and
/// the digests of every input, so the id covers everything in the record but `record`
/// and `prev` (which the chain covers): the same inputs always give the same id.
pub(crate) fn decision_id<V: Serialize>(
    zone_data: &str,
    inventory: Option<&str>,
    verdict: &V,
) -> String {
    let mut h = HashWriter(Sha256::new());
    let _ = serde_json::to_writer(
        &mut h,
        &DecisionBody {
            zone_data,
            inventory,
            verdict,
        },
    );
    hex(&h.0.finalize())
}
