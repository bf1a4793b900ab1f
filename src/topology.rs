//! The inventory: sites, devices, what depends on what, and the blast radius of a
//! change.
//!
//! An inventory is read once ([`Inventory::parse`], [`Inventory::from_file`]) and
//! checked as a whole: every problem is reported, each at its place in the file. The
//! dependency graph is built then, so [`Inventory::blast`] is a single walk.
//!
//! ```
//! use changegate::input::{Format, Limits};
//! use changegate::topology::Inventory;
//!
//! let inventory = Inventory::parse(
//!     r#"{ "sites": { "NYC": { "timezone": "America/New_York" } },
//!          "devices": {
//!            "edge-1": { "site": "NYC", "role": "edge", "customers": 10 },
//!            "core-1": { "site": "NYC", "role": "core", "depends_on": ["edge-1"], "customers": 40 } } }"#,
//!     Format::Json,
//!     "inventory.json",
//!     &Limits::default(),
//! )?;
//! let blast = inventory.blast(&["edge-1"])?;
//! assert_eq!(blast.devices, ["core-1", "edge-1"]);
//! assert_eq!(blast.depth, 1);
//! assert_eq!(blast.path, ["edge-1", "core-1"]);
//! # Ok::<(), miette::Report>(())
//! ```

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use chrono_tz::Tz;
use miette::{Diagnostic, NamedSource, SourceSpan};
use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::Direction;
use serde::Serialize;
use thiserror::Error;

use crate::input::{self, Format, InputError, Limits, Seg};
use crate::value::Value;

/// Device fields with a meaning of their own; every other field is an attribute.
const SITE: &str = "site";
const ROLE: &str = "role";
const DEPENDS_ON: &str = "depends_on";

/// Names that `blast.<name>` reads as something other than an attribute, so a
/// device may not have a field of that name.
const RESERVED: [&str; 4] = ["devices", "sites", "roles", "depth"];

/// "None" in the per-device site and role columns.
const NONE: u32 = u32::MAX;

/// Sites and devices, checked, with the dependency graph built.
#[derive(Debug, Clone)]
pub struct Inventory {
    /// Device names, sorted; a device is its index here.
    names: Vec<String>,
    /// Each device's site (an index into `sites`), or [`NONE`].
    site_of: Vec<u32>,
    /// Each device's role (an index into `roles`), or [`NONE`].
    role_of: Vec<u32>,
    /// Sites, sorted by name.
    sites: Vec<Site>,
    /// Distinct roles, sorted.
    roles: Vec<String>,
    /// Other device fields, sorted by name.
    attributes: Vec<Attribute>,
    /// An edge from each device to each device that depends on it.
    graph: DiGraph<(), (), u32>,
}

#[derive(Debug, Clone)]
struct Site {
    name: String,
    zone: Tz,
}

/// One free-form device field: its values, by device, in device order.
#[derive(Debug, Clone)]
struct Attribute {
    name: String,
    values: Vec<(u32, Value)>,
}

impl Inventory {
    /// An inventory with no sites and no devices (every target is unknown).
    pub fn empty() -> Inventory {
        Inventory {
            names: Vec::new(),
            site_of: Vec::new(),
            role_of: Vec::new(),
            sites: Vec::new(),
            roles: Vec::new(),
            attributes: Vec::new(),
            graph: DiGraph::default(),
        }
    }

    /// Reads a file (JSON, YAML or TOML by extension) with the default [`Limits`].
    pub fn from_file(path: impl AsRef<Path>) -> Result<Inventory, InventoryError> {
        Inventory::from_file_with(path.as_ref(), &Limits::default())
    }

    /// Reads a file (JSON, YAML or TOML by extension) within `limits`.
    pub fn from_file_with(path: &Path, limits: &Limits) -> Result<Inventory, InventoryError> {
        let (bytes, format, name) = input::read_source(path, limits)?;
        let text = input::check_bytes(&bytes, &name, limits)?;
        Inventory::parse(text, format, &name, limits)
    }

    /// Reads and checks an inventory; `name` (usually the path) names it in
    /// diagnostics.
    pub fn parse(
        text: &str,
        format: Format,
        name: &str,
        limits: &Limits,
    ) -> Result<Inventory, InventoryError> {
        let (value, duplicates) = input::parse_with_duplicates(text, format, name, limits)?;
        let mut builder = Builder::default();
        for dup in duplicates {
            builder.duplicate(dup.path);
        }
        let inventory = builder.build(value);
        if builder.problems.is_empty() {
            Ok(inventory)
        } else {
            Err(builder.into_error(text, format, name))
        }
    }

    /// How many devices there are.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Whether there are no devices.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }

    /// Whether a device of this name exists.
    pub fn contains(&self, device: &str) -> bool {
        self.index(device).is_some()
    }

    /// Device names, sorted.
    pub fn devices(&self) -> impl Iterator<Item = &str> + '_ {
        self.names.iter().map(String::as_str)
    }

    /// Sites and their time zones, sorted by name.
    pub fn sites(&self) -> impl Iterator<Item = (&str, Tz)> + '_ {
        self.sites.iter().map(|s| (s.name.as_str(), s.zone))
    }

    /// A site's time zone.
    pub fn site_zone(&self, site: &str) -> Option<Tz> {
        self.site_index(site)
            .and_then(|i| self.sites.get(i))
            .map(|s| s.zone)
    }

    /// A device's site and that site's time zone; `None` for an unknown device or
    /// one with no site.
    pub fn device_zone(&self, device: &str) -> Option<(&str, Tz)> {
        let site = self.site_of.get(self.index(device)?)?;
        self.site(*site).map(|s| (s.name.as_str(), s.zone))
    }

    /// A device's site.
    pub fn device_site(&self, device: &str) -> Option<&str> {
        self.device_zone(device).map(|(site, _)| site)
    }

    /// A device's role.
    pub fn device_role(&self, device: &str) -> Option<&str> {
        let role = *self.role_of.get(self.index(device)?)?;
        self.roles.get(role as usize).map(String::as_str)
    }

    /// One free-form field of a device (not `site`, `role` or `depends_on`).
    pub fn attribute(&self, device: &str, field: &str) -> Option<&Value> {
        let device = u32::try_from(self.index(device)?).ok()?;
        let attr = self.attribute_named(field)?;
        let at = attr
            .values
            .binary_search_by_key(&device, |(d, _)| *d)
            .ok()?;
        attr.values.get(at).map(|(_, v)| v)
    }

    /// The devices that `device` depends on directly (its `depends_on`, known ones).
    pub fn upstream(&self, device: &str) -> Vec<&str> {
        self.neighbours(device, Direction::Incoming)
    }

    /// The devices that depend on `device` directly.
    pub fn downstream(&self, device: &str) -> Vec<&str> {
        self.neighbours(device, Direction::Outgoing)
    }

    /// The blast radius of a change to `targets`: the targets and every device that
    /// depends on one of them, directly or through others.
    ///
    /// Every unknown name is reported, each with a suggestion when a device has a
    /// similar name.
    pub fn blast(&self, targets: &[&str]) -> Result<Blast, UnknownTargets> {
        let sources = self.resolve(targets)?;
        let n = self.names.len();
        let mut dist = vec![u32::MAX; n];
        let mut pred = vec![NONE; n];
        let mut queue: Vec<u32> = Vec::with_capacity(sources.len());
        for &s in &sources {
            if let Some(d) = dist.get_mut(s as usize) {
                *d = 0;
                queue.push(s);
            }
        }
        let mut head = 0;
        while let Some(&u) = queue.get(head) {
            head += 1;
            let next = dist
                .get(u as usize)
                .map_or(u32::MAX, |d| d.saturating_add(1));
            for v in self
                .graph
                .neighbors_directed(NodeIndex::new(u as usize), Direction::Outgoing)
            {
                let v = v.index();
                if let Some(d) = dist.get_mut(v).filter(|d| **d == u32::MAX) {
                    *d = next;
                    if let Some(p) = pred.get_mut(v) {
                        *p = u;
                    }
                    queue.push(v as u32);
                }
            }
        }
        // The furthest device; among equals, the first by name.
        let furthest = queue.iter().copied().max_by_key(|&d| {
            (
                dist.get(d as usize).copied().unwrap_or(0),
                std::cmp::Reverse(d),
            )
        });
        let depth = furthest
            .and_then(|d| dist.get(d as usize).copied())
            .unwrap_or(0);
        let mut path = Vec::new();
        let mut cur = furthest.unwrap_or(NONE);
        while let Some(name) = self.names.get(cur as usize) {
            path.push(name.clone());
            cur = pred.get(cur as usize).copied().unwrap_or(NONE);
        }
        path.reverse();
        queue.sort_unstable();
        Ok(self.summarize(&queue, depth as usize, path))
    }

    /// The same fields as [`Inventory::blast`] over the targets alone (what policies
    /// read as `targets.*`): depth 0, and a path of the first target by name.
    pub fn targets_only(&self, targets: &[&str]) -> Result<Blast, UnknownTargets> {
        let ids = self.resolve(targets)?;
        let path = ids
            .first()
            .and_then(|&d| self.names.get(d as usize))
            .cloned()
            .into_iter()
            .collect();
        Ok(self.summarize(&ids, 0, path))
    }

    fn index(&self, device: &str) -> Option<usize> {
        self.names.binary_search_by(|n| n.as_str().cmp(device)).ok()
    }

    fn site_index(&self, site: &str) -> Option<usize> {
        self.sites
            .binary_search_by(|s| s.name.as_str().cmp(site))
            .ok()
    }

    fn site(&self, site: u32) -> Option<&Site> {
        self.sites.get(site as usize)
    }

    fn attribute_named(&self, name: &str) -> Option<&Attribute> {
        let at = self
            .attributes
            .binary_search_by(|a| a.name.as_str().cmp(name))
            .ok()?;
        self.attributes.get(at)
    }

    fn neighbours(&self, device: &str, direction: Direction) -> Vec<&str> {
        let Some(i) = self.index(device) else {
            return Vec::new();
        };
        let mut out: Vec<&str> = self
            .graph
            .neighbors_directed(NodeIndex::new(i), direction)
            .filter_map(|n| self.names.get(n.index()).map(String::as_str))
            .collect();
        out.sort_unstable();
        out.dedup();
        out
    }

    /// Device indices for names, sorted and without repeats, or every unknown name.
    fn resolve(&self, targets: &[&str]) -> Result<Vec<u32>, UnknownTargets> {
        let mut ids = Vec::with_capacity(targets.len());
        let mut unknown = Vec::new();
        for &t in targets {
            match self.index(t) {
                Some(i) => ids.push(i as u32),
                None => {
                    if !unknown.iter().any(|u: &UnknownTarget| u.name == t) {
                        unknown.push(UnknownTarget {
                            name: t.to_owned(),
                            suggestion: suggest(t, self.devices()).map(str::to_owned),
                        });
                    }
                }
            }
        }
        if !unknown.is_empty() {
            return Err(UnknownTargets::new(unknown));
        }
        ids.sort_unstable();
        ids.dedup();
        Ok(ids)
    }

    /// The fields of a blast over `members` (sorted device indices).
    fn summarize(&self, members: &[u32], depth: usize, path: Vec<String>) -> Blast {
        let devices = members
            .iter()
            .filter_map(|&d| self.names.get(d as usize).cloned())
            .collect();
        let sites = self.distinct(members, &self.site_of, |i| {
            self.sites.get(i).map(|s| s.name.clone())
        });
        let roles = self.distinct(members, &self.role_of, |i| self.roles.get(i).cloned());
        let attributes = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), collect_values(&a.values, members)))
            .collect();
        Blast {
            devices,
            sites,
            roles,
            depth,
            path,
            attributes,
        }
    }

    /// The distinct values of a per-device column over `members`, sorted (the
    /// column's indices are in name order, so sorting indices sorts names).
    fn distinct(
        &self,
        members: &[u32],
        column: &[u32],
        name: impl Fn(usize) -> Option<String>,
    ) -> Vec<String> {
        let mut ids: Vec<u32> = members
            .iter()
            .filter_map(|&d| column.get(d as usize).copied())
            .filter(|&v| v != NONE)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter().filter_map(|i| name(i as usize)).collect()
    }
}

/// The values of one attribute for `members`, in device order.
fn collect_values(values: &[(u32, Value)], members: &[u32]) -> Vec<Value> {
    // Few members among many values: look each up; otherwise walk both in step.
    if members.len().saturating_mul(16) < values.len() {
        return members
            .iter()
            .filter_map(|m| {
                let at = values.binary_search_by_key(m, |(d, _)| *d).ok()?;
                values.get(at).map(|(_, v)| v.clone())
            })
            .collect();
    }
    let mut out = Vec::new();
    let mut vals = values.iter().peekable();
    for &m in members {
        while vals.next_if(|(d, _)| *d < m).is_some() {}
        if let Some((_, v)) = vals.next_if(|(d, _)| *d == m) {
            out.push(v.clone());
        }
    }
    out
}

/// The closest name to `name` among `candidates`, if one is close enough to be a
/// likely typo.
pub(crate) fn suggest<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a str>,
) -> Option<&'a str> {
    let lower = name.to_lowercase();
    candidates
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_lowercase()), c))
        .filter(|(score, _)| *score >= 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
        .map(|(_, c)| c)
}

/// The blast radius of a change: what a policy reads as `blast.*` (or, from
/// [`Inventory::targets_only`], `targets.*`).
///
/// Serializes to the design's JSON: `{ "devices": [...], "sites": [...],
/// "roles": [...], "depth": N }`; [`fmt::Display`] gives the text for people.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Blast {
    /// Every device in the radius, sorted by name.
    pub devices: Vec<String>,
    /// The distinct sites of those devices, sorted.
    pub sites: Vec<String>,
    /// The distinct roles of those devices, sorted.
    pub roles: Vec<String>,
    /// The dependency distance from the nearest target to the furthest device: 0
    /// when only the targets are affected.
    pub depth: usize,
    /// Device names from a target to the furthest device (one name when the depth
    /// is 0, none when there are no targets).
    #[serde(skip)]
    pub path: Vec<String>,
    /// For every free-form device field in the inventory, the values of the devices
    /// in the radius that have it, in device-name order (possibly empty).
    #[serde(skip)]
    pub attributes: BTreeMap<String, Vec<Value>>,
}

impl Blast {
    /// What a policy condition `blast.<name>` reads: `devices`, `sites` and `roles`
    /// as lists of strings, `depth` as an integer, any other name as the list of
    /// that attribute's values.
    ///
    /// An attribute that some inventory device has but no device in the radius has
    /// is an empty list (so `sum blast.customers` is 0). `None` means no device in
    /// the whole inventory has such a field: most likely a typo, which the evaluator
    /// reports as an error rather than reading an empty list.
    pub fn field(&self, name: &str) -> Option<Value> {
        let strings = |v: &[String]| Value::List(v.iter().map(|s| Value::Str(s.clone())).collect());
        match name {
            "devices" => Some(strings(&self.devices)),
            "sites" => Some(strings(&self.sites)),
            "roles" => Some(strings(&self.roles)),
            "depth" => Some(Value::Int(i64::try_from(self.depth).unwrap_or(i64::MAX))),
            other => self.attributes.get(other).map(|v| Value::List(v.clone())),
        }
    }

    /// The names [`Blast::field`] answers, for "did you mean" suggestions.
    pub fn field_names(&self) -> impl Iterator<Item = &str> + '_ {
        RESERVED
            .iter()
            .copied()
            .chain(self.attributes.keys().map(String::as_str))
    }
}

impl fmt::Display for Blast {
    /// A short account for people: counts, then the lists, then the longest path.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plural =
            |n: usize, one: &'static str, many: &'static str| if n == 1 { one } else { many };
        writeln!(
            f,
            "blast radius: {} {}, {} {}, {} {}, depth {}",
            self.devices.len(),
            plural(self.devices.len(), "device", "devices"),
            self.sites.len(),
            plural(self.sites.len(), "site", "sites"),
            self.roles.len(),
            plural(self.roles.len(), "role", "roles"),
            self.depth
        )?;
        writeln!(f, "  devices: {}", self.devices.join(", "))?;
        writeln!(f, "  sites:   {}", self.sites.join(", "))?;
        writeln!(f, "  roles:   {}", self.roles.join(", "))?;
        write!(f, "  furthest: {}", self.path.join(" -> "))
    }
}

/// One target that names no device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownTarget {
    /// The name as given.
    pub name: String,
    /// The most similar device name, if one is close.
    pub suggestion: Option<String>,
}

/// Targets that name no device in the inventory (all of them, not only the first).
#[derive(Debug, Clone, Error, Diagnostic)]
#[error("{message}")]
#[diagnostic(code(changegate::unknown_target))]
pub struct UnknownTargets {
    /// The unknown names, in the order given.
    pub unknown: Vec<UnknownTarget>,
    message: String,
    #[help]
    help: Option<String>,
}

impl UnknownTargets {
    fn new(unknown: Vec<UnknownTarget>) -> Self {
        let names: Vec<String> = unknown.iter().map(|u| format!("`{}`", u.name)).collect();
        let message = match names.as_slice() {
            [one] => format!("unknown device {one}"),
            many => format!("unknown devices {}", many.join(", ")),
        };
        let hints: Vec<String> = unknown
            .iter()
            .filter_map(|u| {
                u.suggestion
                    .as_ref()
                    .map(|s| format!("did you mean `{s}` for `{}`?", u.name))
            })
            .collect();
        let help = if hints.is_empty() {
            Some("a target must be a device named in the inventory".to_owned())
        } else if let ([hint], [u]) = (hints.as_slice(), unknown.as_slice()) {
            let _ = hint;
            u.suggestion
                .as_ref()
                .map(|s| format!("did you mean `{s}`?"))
        } else {
            Some(hints.join("; "))
        };
        UnknownTargets {
            unknown,
            message,
            help,
        }
    }
}

/// What is wrong with an inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ProblemKind {
    /// A site's `timezone` is not an IANA time zone name.
    UnknownTimezone,
    /// A site has no `timezone`.
    MissingTimezone,
    /// A device's `site` is not declared under `sites`.
    UnknownSite,
    /// A `depends_on` entry names no device.
    UnknownDependency,
    /// A device is defined twice.
    DuplicateDevice,
    /// A site is defined twice.
    DuplicateSite,
    /// Some other key is repeated in an object.
    DuplicateKey,
    /// A value has the wrong type (a device that is not an object, a `site` that is
    /// not a string...).
    WrongType,
    /// A top-level key other than `sites` and `devices`.
    UnknownKey,
    /// A device field whose name `blast.*` reads otherwise (`devices`, `sites`,
    /// `roles`, `depth`).
    ReservedField,
}

/// One problem in an inventory, at its place in the file.
#[derive(Debug, Clone, Error, Diagnostic)]
#[error("{message}")]
pub struct Problem {
    kind: ProblemKind,
    message: String,
    #[source_code]
    src: NamedSource<Arc<str>>,
    #[label("{label}")]
    span: SourceSpan,
    label: String,
    #[help]
    help: Option<String>,
    line: usize,
    column: usize,
}

impl Problem {
    /// What kind of problem this is.
    pub fn kind(&self) -> ProblemKind {
        self.kind
    }

    /// The message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The advice, if any.
    pub fn advice(&self) -> Option<&str> {
        self.help.as_deref()
    }

    /// The byte range at fault.
    pub fn span(&self) -> SourceSpan {
        self.span
    }

    /// The 1-based line of the fault.
    pub fn line(&self) -> usize {
        self.line
    }

    /// The 1-based column (in characters) of the fault.
    pub fn column(&self) -> usize {
        self.column
    }
}

/// An inventory that could not be loaded.
#[derive(Debug, Error, Diagnostic)]
pub enum InventoryError {
    /// The file could not be read or parsed, or broke a [`Limits`] bound.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Input(#[from] InputError),
    /// The file parsed but its contents are inconsistent; every problem is listed.
    #[error("{}", summary(name, problems.len()))]
    #[diagnostic(code(changegate::inventory))]
    Invalid {
        /// The inventory's name (usually its path).
        name: String,
        /// Every problem, in file order.
        #[related]
        problems: Vec<Problem>,
    },
}

fn summary(name: &str, count: usize) -> String {
    let s = if count == 1 { "" } else { "s" };
    format!("inventory `{name}` has {count} problem{s}")
}

impl InventoryError {
    /// The problems of an inconsistent inventory; empty when the file did not parse.
    pub fn problems(&self) -> &[Problem] {
        match self {
            InventoryError::Input(_) => &[],
            InventoryError::Invalid { problems, .. } => problems,
        }
    }

    /// The read or parse error, if that is what this is.
    pub fn input(&self) -> Option<&InputError> {
        match self {
            InventoryError::Input(e) => Some(e),
            InventoryError::Invalid { .. } => None,
        }
    }
}

/// Which part of an entry a problem points at.
#[derive(Clone, Copy)]
enum Part {
    Key,
    Value,
}

/// A problem before its place is found.
struct Pending {
    kind: ProblemKind,
    message: String,
    label: &'static str,
    help: Option<String>,
    path: Vec<Seg>,
    part: Part,
}

fn key(k: &str) -> Seg {
    Seg::Key(k.to_owned(), 0)
}

#[derive(Default)]
struct Builder {
    problems: Vec<Pending>,
}

impl Builder {
    fn problem(
        &mut self,
        kind: ProblemKind,
        message: String,
        label: &'static str,
        help: Option<String>,
        path: Vec<Seg>,
        part: Part,
    ) {
        self.problems.push(Pending {
            kind,
            message,
            label,
            help,
            path,
            part,
        });
    }

    fn duplicate(&mut self, path: Vec<Seg>) {
        let (kind, message) = match path.as_slice() {
            [Seg::Key(top, _), Seg::Key(name, _)] if top == "devices" => (
                ProblemKind::DuplicateDevice,
                format!("duplicate device `{name}`"),
            ),
            [Seg::Key(top, _), Seg::Key(name, _)] if top == "sites" => (
                ProblemKind::DuplicateSite,
                format!("duplicate site `{name}`"),
            ),
            [.., Seg::Key(name, _)] => {
                (ProblemKind::DuplicateKey, format!("duplicate key `{name}`"))
            }
            _ => (ProblemKind::DuplicateKey, "duplicate key".to_owned()),
        };
        self.problem(
            kind,
            message,
            "defined again here",
            Some("each name may appear once; remove or rename one of them".to_owned()),
            path,
            Part::Key,
        );
    }

    fn wrong_type(&mut self, what: &str, expected: &str, found: &Value, path: Vec<Seg>) {
        self.problem(
            ProblemKind::WrongType,
            format!(
                "{what} must be {expected}, not {}",
                found.type_of().with_article()
            ),
            "wrong type",
            None,
            path,
            Part::Value,
        );
    }

    fn build(&mut self, value: Value) -> Inventory {
        let mut inventory = Inventory::empty();
        let root = match value {
            Value::Map(root) => root,
            // An empty YAML or TOML file: an inventory with nothing in it.
            Value::Null => return inventory,
            other => {
                self.wrong_type("an inventory", "an object", &other, Vec::new());
                return inventory;
            }
        };
        let mut sites_value = None;
        let mut devices_value = None;
        for (k, v) in root {
            match k.as_str() {
                "sites" => sites_value = Some(v),
                "devices" => devices_value = Some(v),
                _ => {
                    let help = suggest(&k, ["sites", "devices"].into_iter())
                        .map(|s| format!("did you mean `{s}`?"))
                        .or_else(|| Some("an inventory has `sites` and `devices`".to_owned()));
                    self.problem(
                        ProblemKind::UnknownKey,
                        format!("unknown inventory key `{k}`"),
                        "unknown key",
                        help,
                        vec![key(&k)],
                        Part::Key,
                    );
                }
            }
        }
        if let Some(sites) = sites_value {
            inventory.sites = self.sites(sites);
        }
        if let Some(devices) = devices_value {
            self.devices(devices, &mut inventory);
        }
        inventory
    }

    fn sites(&mut self, value: Value) -> Vec<Site> {
        let Value::Map(map) = value else {
            self.wrong_type("`sites`", "an object", &value, vec![key("sites")]);
            return Vec::new();
        };
        let mut sites = Vec::with_capacity(map.len());
        for (name, site) in map {
            let path = vec![key("sites"), key(&name)];
            let zone = match site.get("timezone") {
                Some(Value::Str(tz)) => match tz.parse::<Tz>() {
                    Ok(zone) => Some(zone),
                    Err(_) => {
                        let help = suggest(tz, chrono_tz::TZ_VARIANTS.iter().map(|z| z.name()))
                            .map(|s| format!("did you mean `{s}`?"))
                            .or_else(|| {
                                Some(
                                    "use an IANA time zone name such as `Europe/London`".to_owned(),
                                )
                            });
                        let mut at = path.clone();
                        at.push(key("timezone"));
                        self.problem(
                            ProblemKind::UnknownTimezone,
                            format!("unknown time zone `{tz}` for site `{name}`"),
                            "not an IANA time zone",
                            help,
                            at,
                            Part::Value,
                        );
                        None
                    }
                },
                Some(other) => {
                    let mut at = path.clone();
                    at.push(key("timezone"));
                    self.wrong_type("a site's `timezone`", "a string", other, at);
                    None
                }
                None if !matches!(site, Value::Map(_)) => {
                    self.wrong_type(&format!("site `{name}`"), "an object", &site, path);
                    None
                }
                None => {
                    self.problem(
                        ProblemKind::MissingTimezone,
                        format!("site `{name}` has no `timezone`"),
                        "no time zone",
                        Some("add `timezone`, an IANA name such as `America/New_York`".to_owned()),
                        path,
                        Part::Key,
                    );
                    None
                }
            };
            // A site with a bad zone is kept (as UTC) so that its devices are not
            // also reported as having an unknown site; the inventory is refused anyway.
            sites.push(Site {
                name,
                zone: zone.unwrap_or(Tz::UTC),
            });
        }
        sites
    }

    fn devices(&mut self, value: Value, inv: &mut Inventory) {
        let Value::Map(map) = value else {
            self.wrong_type("`devices`", "an object", &value, vec![key("devices")]);
            return;
        };
        let n = map.len();
        inv.names = Vec::with_capacity(n);
        inv.site_of = Vec::with_capacity(n);
        inv.role_of = Vec::with_capacity(n);
        let mut role_ids: BTreeMap<String, u32> = BTreeMap::new();
        let mut attr_ids: BTreeMap<String, usize> = BTreeMap::new();
        let mut attrs: Vec<Attribute> = Vec::new();
        // Dependencies are resolved once every name is known.
        let mut depends: Vec<(u32, Vec<Value>)> = Vec::new();
        for (index, (name, device)) in map.into_iter().enumerate() {
            let id = index as u32;
            let path = vec![key("devices"), key(&name)];
            let mut site = NONE;
            let mut role = NONE;
            match device {
                Value::Map(fields) => {
                    for (field, v) in fields {
                        let mut at = path.clone();
                        at.push(key(&field));
                        match field.as_str() {
                            SITE => match &v {
                                Value::Str(s) => match inv.site_index(s) {
                                    Some(i) => site = i as u32,
                                    None => {
                                        let help = suggest(s, inv.sites.iter().map(|x| x.name.as_str()))
                                            .map(|x| format!("did you mean `{x}`?"))
                                            .or_else(|| Some("declare the site under `sites`".to_owned()));
                                        self.problem(
                                            ProblemKind::UnknownSite,
                                            format!("device `{name}` is at unknown site `{s}`"),
                                            "not declared under `sites`",
                                            help,
                                            at,
                                            Part::Value,
                                        );
                                    }
                                },
                                other => self.wrong_type("a device's `site`", "a string", other, at),
                            },
                            ROLE => match v {
                                Value::Str(r) => {
                                    let next = role_ids.len() as u32;
                                    role = *role_ids.entry(r).or_insert(next);
                                }
                                other => self.wrong_type("a device's `role`", "a string", &other, at),
                            },
                            DEPENDS_ON => match v {
                                Value::List(items) => depends.push((id, items)),
                                other => self.wrong_type(
                                    "`depends_on`",
                                    "a list of device names",
                                    &other,
                                    at,
                                ),
                            },
                            reserved if RESERVED.contains(&reserved) => self.problem(
                                ProblemKind::ReservedField,
                                format!("device field `{reserved}` is reserved"),
                                "reserved name",
                                Some(format!(
                                    "`blast.{reserved}` means the blast radius's own {reserved}; rename the field"
                                )),
                                at,
                                Part::Key,
                            ),
                            _ => {
                                let next = attrs.len();
                                let a = *attr_ids.entry(field).or_insert_with_key(|k| {
                                    attrs.push(Attribute {
                                        name: k.clone(),
                                        values: Vec::new(),
                                    });
                                    next
                                });
                                if let Some(attr) = attrs.get_mut(a) {
                                    attr.values.push((id, v));
                                }
                            }
                        }
                    }
                }
                other => self.wrong_type(&format!("device `{name}`"), "an object", &other, path),
            }
            inv.names.push(name);
            inv.site_of.push(site);
            inv.role_of.push(role);
        }

        // Roles in name order: renumber.
        let mut renumber = vec![NONE; role_ids.len()];
        inv.roles = Vec::with_capacity(role_ids.len());
        for (sorted, (name, first_seen)) in role_ids.into_iter().enumerate() {
            if let Some(slot) = renumber.get_mut(first_seen as usize) {
                *slot = sorted as u32;
            }
            inv.roles.push(name);
        }
        for r in &mut inv.role_of {
            *r = renumber.get(*r as usize).copied().unwrap_or(NONE);
        }
        attrs.sort_by(|a, b| a.name.cmp(&b.name));
        inv.attributes = attrs;

        let edges: usize = depends.iter().map(|(_, d)| d.len()).sum();
        let mut graph = DiGraph::with_capacity(n, edges);
        for _ in 0..n {
            graph.add_node(());
        }
        for (device, upstream) in depends {
            let device_name = inv.names.get(device as usize).cloned().unwrap_or_default();
            for (i, up) in upstream.iter().enumerate() {
                let at = vec![
                    key("devices"),
                    key(&device_name),
                    key(DEPENDS_ON),
                    Seg::Index(i),
                ];
                match up {
                    Value::Str(up) => match inv.index(up) {
                        Some(u) => {
                            graph.add_edge(NodeIndex::new(u), NodeIndex::new(device as usize), ());
                        }
                        None => {
                            let help = suggest(up, inv.devices())
                                .map(|x| format!("did you mean `{x}`?"))
                                .or_else(|| Some("declare the device under `devices`".to_owned()));
                            self.problem(
                                ProblemKind::UnknownDependency,
                                format!("device `{device_name}` depends on unknown device `{up}`"),
                                "no such device",
                                help,
                                at,
                                Part::Value,
                            );
                        }
                    },
                    other => self.wrong_type("a `depends_on` entry", "a device name", other, at),
                }
            }
        }
        inv.graph = graph;
    }

    fn into_error(self, text: &str, format: Format, name: &str) -> InventoryError {
        let paths: Vec<Vec<Seg>> = self.problems.iter().map(|p| p.path.clone()).collect();
        let places = input::locate_all(text, format, &paths);
        let src: Arc<str> = Arc::from(text);
        let mut problems: Vec<Problem> = self
            .problems
            .into_iter()
            .zip(places)
            .map(|(p, place)| {
                let span: Range<usize> = match (place, p.part) {
                    (Some(l), Part::Key) => l.key,
                    (Some(l), Part::Value) => l.value,
                    (None, _) => 0..0,
                };
                let (line, column) = input::line_col(text, span.start);
                Problem {
                    kind: p.kind,
                    message: p.message,
                    src: NamedSource::new(name, Arc::clone(&src)),
                    span: span.into(),
                    label: p.label.to_owned(),
                    help: p.help,
                    line,
                    column,
                }
            })
            .collect();
        problems.sort_by_key(|p| p.span.offset());
        InventoryError::Invalid {
            name: name.to_owned(),
            problems,
        }
    }
}
