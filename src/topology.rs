//! The inventory: sites, devices, what depends on what, and the blast radius of a
//! change.
//!
//! An inventory is read once ([`Inventory::parse`], [`Inventory::from_file`]) and
//! checked as a whole: every problem is reported, each at its place in the file. The
//! dependency graph is built then, so [`Inventory::blast`] is a single walk.
//!
//! ```
//! use changegate::input::Format;
//! use changegate::Limits;
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

use crate::input::{self, Format, InputError, Seg};
use crate::limits::Limits;

mod read;
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
    /// The name it was read under (usually its path), for decision records.
    name: Option<std::sync::Arc<str>>,
    /// The sha256 of the text it was read from.
    sha256: Option<String>,
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
            name: None,
            sha256: None,
        }
    }

    /// The name the inventory was read under (usually its path as given); `None` for
    /// [`Inventory::empty`].
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// [`Inventory::name`], shared (a verdict keeps it for its `decision_id`).
    pub(crate) fn name_arc(&self) -> Option<std::sync::Arc<str>> {
        self.name.clone()
    }

    /// The lowercase hex sha256 of the text the inventory was read from; `None` for
    /// [`Inventory::empty`].
    pub fn sha256(&self) -> Option<&str> {
        self.sha256.as_deref()
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
        let state = input::State::new(limits);
        let names = read::Names::default();
        let seed = read::InventorySeed {
            state: &state,
            names: &names,
        };
        let raw = input::run(text, format, name, &state, seed)?;
        let mut builder = Builder::default();
        for dup in state.into_duplicates() {
            builder.duplicate(dup.path);
        }
        let mut inventory = builder.build(raw, names);
        inventory.name = Some(std::sync::Arc::from(name));
        inventory.sha256 = Some(crate::digest::sha256_hex(text.as_bytes()));
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
                if let Some(d) = dist.get_mut(v.index()).filter(|d| **d == u32::MAX) {
                    *d = next;
                    queue.push(v.index() as u32);
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
        let path = furthest.map_or_else(Vec::new, |f| self.path_back(f, &dist));
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

    /// The path from a target to `device`, walking back one step of distance at a
    /// time through the first upstream device by name, so that the path depends
    /// on the inventory alone, not on the order edges were added.
    fn path_back(&self, device: u32, dist: &[u32]) -> Vec<String> {
        let mut path = Vec::new();
        let mut cur = device as usize;
        loop {
            if let Some(name) = self.names.get(cur) {
                path.push(name.clone());
            }
            let d = dist.get(cur).copied().unwrap_or(0);
            if d == 0 {
                break;
            }
            let prev = self
                .graph
                .neighbors_directed(NodeIndex::new(cur), Direction::Incoming)
                .map(|p| p.index())
                .filter(|&p| dist.get(p).copied() == Some(d - 1))
                .min();
            match prev {
                Some(p) => cur = p,
                None => break,
            }
        }
        path.reverse();
        path
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
        let mut seen_unknown: rustc_hash::FxHashSet<&str> = rustc_hash::FxHashSet::default();
        for &t in targets {
            match self.index(t) {
                Some(i) => ids.push(i as u32),
                None => {
                    if seen_unknown.insert(t) {
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
    // A third of the length in edits (at least one) reads as a typo; more, as
    // another name.
    let allowed = (lower.chars().count() / 3).max(1);
    candidates
        .filter_map(|c| {
            let other = c.to_lowercase();
            let edits = strsim::damerau_levenshtein(&lower, &other);
            (edits <= allowed).then(|| (edits, strsim::jaro_winkler(&lower, &other), c))
        })
        .min_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| b.1.total_cmp(&a.1))
                .then_with(|| a.2.cmp(b.2))
        })
        .map(|(_, _, c)| c)
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
        let join = crate::terminal::join;
        let list = |l: &[String]| {
            if l.is_empty() {
                "(none)".to_owned()
            } else {
                join(l, ", ")
            }
        };
        writeln!(f, "  devices: {}", list(&self.devices))?;
        writeln!(f, "  sites:   {}", list(&self.sites))?;
        writeln!(f, "  roles:   {}", list(&self.roles))?;
        // `a <- b`: b depends on a, as `evaluate` draws the same path.
        write!(f, "  furthest: {}", join(&self.path, " <- "))
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
        // Names come from the change or the command line: escaped for terminals.
        let esc = crate::terminal::escape;
        let names: Vec<String> = unknown
            .iter()
            .map(|u| format!("`{}`", esc(&u.name)))
            .collect();
        let message = match names.as_slice() {
            [one] => format!("unknown device {one}"),
            many => format!("unknown devices {}", many.join(", ")),
        };
        let hints: Vec<String> = unknown
            .iter()
            .filter_map(|u| {
                u.suggestion
                    .as_ref()
                    .map(|s| format!("`{}` for `{}`", esc(s), esc(&u.name)))
            })
            .collect();
        let help = match (unknown.as_slice(), hints.is_empty()) {
            (_, true) => Some("a target must be a device named in the inventory".to_owned()),
            ([only], false) => only
                .suggestion
                .as_ref()
                .map(|s| format!("did you mean `{}`?", esc(s))),
            // One question for all: "did you mean `a` for `x`, `b` for `y`?"
            _ => Some(format!("did you mean {}?", hints.join(", "))),
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

/// Where a device's field is: `devices.NAME.FIELD` (paths are built only for
/// problems: most devices have none).
fn device_path(name: &str, field: &str) -> Vec<Seg> {
    vec![key("devices"), key(name), key(field)]
}

/// The names one reading interned, resolved to indices once per distinct name,
/// and the attribute columns devices fill.
struct Ids {
    site_names: Vec<String>,
    /// Each interned site name's index in the inventory's sites.
    site_ids: Vec<Option<usize>>,
    /// Each interned role's index in the inventory's (sorted) roles.
    role_ids: Vec<u32>,
    upstream_names: Vec<String>,
    /// Each interned `depends_on` name's device index.
    upstream_ids: Vec<Option<usize>>,
    /// Each interned attribute's column in `attributes`.
    attr_rank: Vec<usize>,
    /// The attributes, sorted by name.
    attributes: Vec<Attribute>,
}

impl Ids {
    /// The indices for `names`, against `inv`'s sites and device names; sets
    /// `inv.roles`, sorted.
    fn new(names: read::Names, inv: &mut Inventory) -> Ids {
        let site_names = names.sites.into_inner().into_names();
        let site_ids: Vec<Option<usize>> = site_names.iter().map(|s| inv.site_index(s)).collect();
        let role_names = names.roles.into_inner().into_names();
        let mut sorted_roles: Vec<(usize, String)> = role_names.into_iter().enumerate().collect();
        sorted_roles.sort_by(|a, b| a.1.cmp(&b.1));
        let mut role_ids = vec![NONE; sorted_roles.len()];
        for (rank, (id, _)) in sorted_roles.iter().enumerate() {
            if let Some(slot) = role_ids.get_mut(*id) {
                *slot = rank as u32;
            }
        }
        inv.roles = sorted_roles.into_iter().map(|(_, r)| r).collect();
        let upstream_names = names.upstream.into_inner().into_names();
        let upstream_ids: Vec<Option<usize>> =
            upstream_names.iter().map(|d| inv.index(d)).collect();
        let attr_names = names.attributes.into_inner().into_names();
        let mut attr_order: Vec<usize> = (0..attr_names.len()).collect();
        attr_order.sort_by(|&a, &b| attr_names.get(a).cmp(&attr_names.get(b)));
        let mut attr_rank = vec![0usize; attr_names.len()];
        for (rank, &id) in attr_order.iter().enumerate() {
            if let Some(slot) = attr_rank.get_mut(id) {
                *slot = rank;
            }
        }
        let attributes: Vec<Attribute> = attr_order
            .iter()
            .map(|&id| Attribute {
                name: attr_names.get(id).cloned().unwrap_or_default(),
                values: Vec::new(),
            })
            .collect();
        Ids {
            site_names,
            site_ids,
            role_ids,
            upstream_names,
            upstream_ids,
            attr_rank,
            attributes,
        }
    }
}

/// The dependency graph of `n` devices: an edge from each device to each that
/// depends on it.
fn dependency_graph(n: usize, edges: Vec<(u32, u32)>) -> DiGraph<(), ()> {
    let mut graph = DiGraph::with_capacity(n, edges.len());
    for _ in 0..n {
        graph.add_node(());
    }
    for (up, down) in edges {
        graph.add_edge(
            NodeIndex::new(up as usize),
            NodeIndex::new(down as usize),
            (),
        );
    }
    graph
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

    fn build(&mut self, raw: read::Raw, names: read::Names) -> Inventory {
        let mut inventory = Inventory::empty();
        if let Some(other) = raw.not_object {
            self.wrong_type("an inventory", "an object", &other, Vec::new());
            return inventory;
        }
        for k in raw.unknown {
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
        if let Some(sites) = raw.sites {
            inventory.sites = self.sites(sites);
        }
        match raw.devices {
            Some(read::RawDevices::Map(devices)) => self.devices(devices, names, &mut inventory),
            Some(read::RawDevices::Other(other)) => {
                self.wrong_type("`devices`", "an object", &other, vec![key("devices")]);
            }
            None => {}
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

    fn devices(&mut self, devices: Vec<read::RawDevice>, names: read::Names, inv: &mut Inventory) {
        let kept = self.distinct_devices(devices);
        let n = kept.len();
        inv.names = Vec::with_capacity(n);
        inv.site_of = Vec::with_capacity(n);
        inv.role_of = Vec::with_capacity(n);
        for device in &kept {
            inv.names.push(device.name.clone());
        }
        let mut ids = Ids::new(names, inv);
        let mut edges: Vec<(u32, u32)> = Vec::new();
        for (index, device) in kept.into_iter().enumerate() {
            let (site, role) = self.device(index as u32, device, &mut ids, inv, &mut edges);
            inv.site_of.push(site);
            inv.role_of.push(role);
        }
        inv.attributes = ids.attributes;
        inv.graph = dependency_graph(n, edges);
    }

    /// The devices in name order, each name once: a stable sort keeps repeats in
    /// document order, so the first definition stands and each later one is
    /// reported where it is.
    fn distinct_devices(&mut self, mut devices: Vec<read::RawDevice>) -> Vec<read::RawDevice> {
        devices.sort_by(|a, b| a.name.cmp(&b.name));
        let mut kept: Vec<read::RawDevice> = Vec::with_capacity(devices.len());
        let mut repeat = 0;
        for device in devices {
            if kept.last().is_some_and(|last| last.name == device.name) {
                repeat += 1;
                self.duplicate(vec![key("devices"), Seg::Key(device.name, repeat)]);
            } else {
                repeat = 0;
                kept.push(device);
            }
        }
        kept
    }

    /// Device `id`'s fields: returns its site and role ([`NONE`] when it has none),
    /// adds its dependencies to `edges` and its attributes to `ids.attributes`.
    fn device(
        &mut self,
        id: u32,
        device: read::RawDevice,
        ids: &mut Ids,
        inv: &Inventory,
        edges: &mut Vec<(u32, u32)>,
    ) -> (u32, u32) {
        let name = device.name;
        let mut site = NONE;
        let mut role = NONE;
        match device.body {
            read::RawBody::Fields(fields) => {
                site = self.device_site(&name, fields.site, ids, inv);
                match fields.role {
                    read::Field::Absent => {}
                    read::Field::Name(r) => {
                        role = ids.role_ids.get(r as usize).copied().unwrap_or(NONE)
                    }
                    read::Field::Wrong(v) => {
                        let at = device_path(&name, ROLE);
                        self.wrong_type("a device's `role`", "a string", &v, at);
                    }
                }
                match fields.depends_on {
                    None => {}
                    Some(read::Depends::Wrong(v)) => {
                        let at = device_path(&name, DEPENDS_ON);
                        self.wrong_type("`depends_on`", "a list of device names", &v, at);
                    }
                    Some(read::Depends::List(items)) => {
                        self.dependencies(id, &name, items, ids, inv, edges);
                    }
                }
                for reserved in fields.reserved {
                    self.problem(
                        ProblemKind::ReservedField,
                        format!("device field `{reserved}` is reserved"),
                        "reserved name",
                        Some(format!(
                            "`blast.{reserved}` means the blast radius's own {reserved}; rename the field"
                        )),
                        device_path(&name, &reserved),
                        Part::Key,
                    );
                }
                for (attr, value) in fields.attributes {
                    let rank = ids.attr_rank.get(attr as usize).copied().unwrap_or(0);
                    if let Some(column) = ids.attributes.get_mut(rank) {
                        column.values.push((id, value));
                    }
                }
            }
            read::RawBody::Other(other) => {
                self.wrong_type(
                    &format!("device `{name}`"),
                    "an object",
                    &other,
                    vec![key("devices"), key(&name)],
                );
            }
        }
        (site, role)
    }

    /// Device `name`'s site, or [`NONE`] when it has none or it is wrong (reported).
    fn device_site(&mut self, name: &str, field: read::Field, ids: &Ids, inv: &Inventory) -> u32 {
        match field {
            read::Field::Absent => NONE,
            read::Field::Name(s) => match ids.site_ids.get(s as usize).copied().flatten() {
                Some(i) => i as u32,
                None => {
                    let wanted = ids.site_names.get(s as usize).map_or("", String::as_str);
                    let help = suggest(wanted, inv.sites.iter().map(|x| x.name.as_str()))
                        .map(|x| format!("did you mean `{x}`?"))
                        .or_else(|| Some("declare the site under `sites`".to_owned()));
                    self.problem(
                        ProblemKind::UnknownSite,
                        format!("device `{name}` is at unknown site `{wanted}`"),
                        "not declared under `sites`",
                        help,
                        device_path(name, SITE),
                        Part::Value,
                    );
                    NONE
                }
            },
            read::Field::Wrong(v) => {
                self.wrong_type("a device's `site`", "a string", &v, device_path(name, SITE));
                NONE
            }
        }
    }

    /// Device `id`'s `depends_on` entries: an edge from each device they name, or a
    /// problem.
    fn dependencies(
        &mut self,
        id: u32,
        name: &str,
        items: Vec<read::Field>,
        ids: &Ids,
        inv: &Inventory,
        edges: &mut Vec<(u32, u32)>,
    ) {
        for (i, item) in items.into_iter().enumerate() {
            let at = || {
                let mut at = device_path(name, DEPENDS_ON);
                at.push(Seg::Index(i));
                at
            };
            match item {
                read::Field::Name(u) => match ids.upstream_ids.get(u as usize).copied().flatten() {
                    Some(up) => edges.push((up as u32, id)),
                    None => {
                        let wanted = ids
                            .upstream_names
                            .get(u as usize)
                            .map_or("", String::as_str);
                        let help = suggest(wanted, inv.devices())
                            .map(|x| format!("did you mean `{x}`?"))
                            .or_else(|| Some("declare the device under `devices`".to_owned()));
                        self.problem(
                            ProblemKind::UnknownDependency,
                            format!("device `{name}` depends on unknown device `{wanted}`"),
                            "no such device",
                            help,
                            at(),
                            Part::Value,
                        );
                    }
                },
                read::Field::Wrong(v) => {
                    self.wrong_type("a `depends_on` entry", "a device name", &v, at());
                }
                read::Field::Absent => {}
            }
        }
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
