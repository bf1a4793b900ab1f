//! Reading an inventory straight from the parser, without building a [`Value`] per
//! device first.
//!
//! A large inventory is mostly repeated field names and a few distinct sites and
//! roles. Going through a generic [`Value`] tree allocates every one of them for
//! every device and frees them again; here field names are matched where they lie
//! in the text, and site, role and dependency names are interned, so a device costs
//! its name, its dependency list and its free-form attributes. Those attributes,
//! and everything outside `devices`, are still read by the generic visitor, so the
//! limits and duplicate-key checks are the same as for any document.

use std::borrow::Cow;
use std::cell::RefCell;
use std::fmt;

use rustc_hash::FxHashMap;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};

use crate::input::{path_of, KeySeed, Link, LinkSeg, Seg, State, ValueSeed};
use crate::value::Value;

use super::{DEPENDS_ON, RESERVED, ROLE, SITE};

/// An inventory as read, before names are resolved.
pub(super) struct Raw {
    /// The document when it is not an object (`Null` for an empty document).
    pub(super) not_object: Option<Value>,
    /// Top-level keys other than `sites` and `devices`.
    pub(super) unknown: Vec<String>,
    /// The `sites` object, read generically (it is small).
    pub(super) sites: Option<Value>,
    /// The `devices` object.
    pub(super) devices: Option<RawDevices>,
}

/// `devices`: an object of devices, or something else.
pub(super) enum RawDevices {
    /// Devices in document order.
    Map(Vec<RawDevice>),
    /// Not an object.
    Other(Value),
}

/// One entry of `devices`.
pub(super) struct RawDevice {
    pub(super) name: String,
    pub(super) body: RawBody,
}

/// A device's value: its fields, or something that is not an object.
pub(super) enum RawBody {
    Fields(Fields),
    Other(Value),
}

/// A device's fields, names interned.
#[derive(Default)]
pub(super) struct Fields {
    pub(super) site: Field,
    pub(super) role: Field,
    pub(super) depends_on: Option<Depends>,
    /// Free-form fields: (interned attribute name, value).
    pub(super) attributes: Vec<(u32, Value)>,
    /// Fields whose names are reserved.
    pub(super) reserved: Vec<String>,
}

/// A field that should hold a name.
#[derive(Default)]
pub(super) enum Field {
    #[default]
    Absent,
    /// An interned name.
    Name(u32),
    /// Not a string.
    Wrong(Value),
}

/// `depends_on`: a list (each item a name or not), or something else.
pub(super) enum Depends {
    List(Vec<Field>),
    Wrong(Value),
}

/// Names seen while reading, each stored once.
#[derive(Default)]
pub(super) struct Interner {
    ids: FxHashMap<String, u32>,
}

impl Interner {
    fn intern(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = self.ids.len() as u32;
        self.ids.insert(name.to_owned(), id);
        id
    }

    /// The names, indexed by id.
    pub(super) fn into_names(self) -> Vec<String> {
        let mut names = vec![String::new(); self.ids.len()];
        for (name, id) in self.ids {
            if let Some(slot) = names.get_mut(id as usize) {
                *slot = name;
            }
        }
        names
    }
}

/// The interners of one reading.
#[derive(Default)]
pub(super) struct Names {
    /// Site names devices refer to.
    pub(super) sites: RefCell<Interner>,
    /// Roles.
    pub(super) roles: RefCell<Interner>,
    /// Device names `depends_on` refers to.
    pub(super) upstream: RefCell<Interner>,
    /// Free-form attribute names.
    pub(super) attributes: RefCell<Interner>,
}

/// Visitor methods that read anything but the expected shape generically and wrap
/// the [`Value`] (so the caller can say what was wrong with it).
macro_rules! otherwise_value {
    ($wrap:expr; $($method:ident($ty:ty)),*) => {
        $(
            fn $method<E: de::Error>(self, v: $ty) -> Result<Self::Value, E> {
                Visitor::$method(self.value_seed(), v).map($wrap)
            }
        )*
    };
}

macro_rules! otherwise_unit {
    ($wrap:expr) => {
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($wrap(Value::Null))
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok($wrap(Value::Null))
        }
    };
}

macro_rules! otherwise_seq {
    ($wrap:expr) => {
        fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            Visitor::visit_seq(self.value_seed(), seq).map($wrap)
        }
    };
}

macro_rules! otherwise_str {
    ($wrap:expr) => {
        otherwise_value!($wrap; visit_str(&str), visit_string(String));
    };
}

macro_rules! otherwise_scalars {
    ($wrap:expr) => {
        otherwise_value!($wrap;
            visit_bool(bool), visit_i64(i64), visit_u64(u64), visit_i128(i128),
            visit_u128(u128), visit_f64(f64), visit_bytes(&[u8]));
        otherwise_unit!($wrap);
    };
}

/// Reads a whole inventory.
#[derive(Clone, Copy)]
pub(super) struct InventorySeed<'a, 'l> {
    pub(super) state: &'a State<'l>,
    pub(super) names: &'a Names,
}

impl<'a, 'l> InventorySeed<'a, 'l> {
    fn value_seed(&self) -> ValueSeed<'a, 'l> {
        ValueSeed::new(self.state, 0, None)
    }
}

fn not_object(value: Value) -> Raw {
    Raw {
        // An empty YAML or TOML document reads as null: an empty inventory.
        not_object: (value != Value::Null).then_some(value),
        unknown: Vec::new(),
        sites: None,
        devices: None,
    }
}

impl<'de> DeserializeSeed<'de> for InventorySeed<'_, '_> {
    type Value = Raw;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Raw, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for InventorySeed<'_, '_> {
    type Value = Raw;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an inventory object")
    }

    otherwise_scalars!(not_object);
    otherwise_str!(not_object);
    otherwise_seq!(not_object);

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Raw, A::Error> {
        let depth = self.state.enter(0, None)?;
        let mut raw = Raw {
            not_object: None,
            unknown: Vec::new(),
            sites: None,
            devices: None,
        };
        while let Some(key) = map.next_key_seed(KeySeed { state: self.state })? {
            let link = Link {
                parent: None,
                seg: LinkSeg::Key(&key),
            };
            match key.as_str() {
                "sites" | "devices" if seen(&raw, &key) => {
                    map.next_value_seed(ValueSeed::new(self.state, depth, Some(&link)))?;
                    self.state.duplicate(vec![Seg::Key(key.clone(), 0)]);
                }
                "sites" => {
                    raw.sites = Some(map.next_value_seed(ValueSeed::new(
                        self.state,
                        depth,
                        Some(&link),
                    ))?);
                }
                "devices" => {
                    raw.devices = Some(map.next_value_seed(DevicesSeed {
                        state: self.state,
                        names: self.names,
                        depth,
                        link: &link,
                    })?);
                }
                _ => {
                    map.next_value_seed(ValueSeed::new(self.state, depth, Some(&link)))?;
                    raw.unknown.push(key);
                }
            }
        }
        Ok(raw)
    }
}

fn seen(raw: &Raw, key: &str) -> bool {
    match key {
        "sites" => raw.sites.is_some(),
        _ => raw.devices.is_some(),
    }
}

/// Reads the `devices` object.
struct DevicesSeed<'a, 'l> {
    state: &'a State<'l>,
    names: &'a Names,
    depth: usize,
    link: &'a Link<'a>,
}

impl<'a, 'l> DevicesSeed<'a, 'l> {
    fn value_seed(&self) -> ValueSeed<'a, 'l> {
        ValueSeed::new(self.state, self.depth, Some(self.link))
    }
}

impl<'de> DeserializeSeed<'de> for DevicesSeed<'_, '_> {
    type Value = RawDevices;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawDevices, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DevicesSeed<'_, '_> {
    type Value = RawDevices;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object of devices")
    }

    otherwise_scalars!(RawDevices::Other);
    otherwise_str!(RawDevices::Other);
    otherwise_seq!(RawDevices::Other);

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawDevices, A::Error> {
        let depth = self.state.enter(self.depth, Some(self.link))?;
        let mut devices = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some(name) = map.next_key_seed(KeySeed { state: self.state })? {
            let link = Link {
                parent: Some(self.link),
                seg: LinkSeg::Key(&name),
            };
            let body = map.next_value_seed(DeviceSeed {
                state: self.state,
                names: self.names,
                depth,
                link: &link,
            })?;
            devices.push(RawDevice { name, body });
        }
        Ok(RawDevices::Map(devices))
    }
}

/// Reads one device.
struct DeviceSeed<'a, 'l> {
    state: &'a State<'l>,
    names: &'a Names,
    depth: usize,
    link: &'a Link<'a>,
}

impl<'a, 'l> DeviceSeed<'a, 'l> {
    fn value_seed(&self) -> ValueSeed<'a, 'l> {
        ValueSeed::new(self.state, self.depth, Some(self.link))
    }

    fn duplicate(&self, field: &str) {
        let mut path = path_of(Some(self.link));
        path.push(Seg::Key(field.to_owned(), 0));
        self.state.duplicate(path);
    }
}

impl<'de> DeserializeSeed<'de> for DeviceSeed<'_, '_> {
    type Value = RawBody;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<RawBody, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DeviceSeed<'_, '_> {
    type Value = RawBody;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a device object")
    }

    otherwise_scalars!(RawBody::Other);
    otherwise_str!(RawBody::Other);
    otherwise_seq!(RawBody::Other);

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawBody, A::Error> {
        let depth = self.state.enter(self.depth, Some(self.link))?;
        let mut fields = Fields::default();
        while let Some(key) = map.next_key_seed(FieldKey { state: self.state })? {
            let link = Link {
                parent: Some(self.link),
                seg: LinkSeg::Key(&key),
            };
            let name_seed = |interner| NameSeed {
                state: self.state,
                interner,
                depth,
                link: &link,
            };
            let generic = ValueSeed::new(self.state, depth, Some(&link));
            let repeated = match key.as_ref() {
                SITE => !matches!(fields.site, Field::Absent),
                ROLE => !matches!(fields.role, Field::Absent),
                DEPENDS_ON => fields.depends_on.is_some(),
                _ => false,
            };
            if repeated {
                // The first definition stands; the repeat is reported.
                map.next_value_seed(generic)?;
                self.duplicate(&key);
                continue;
            }
            match key.as_ref() {
                SITE => fields.site = map.next_value_seed(name_seed(&self.names.sites))?,
                ROLE => fields.role = map.next_value_seed(name_seed(&self.names.roles))?,
                DEPENDS_ON => {
                    fields.depends_on = Some(map.next_value_seed(DependsSeed {
                        state: self.state,
                        interner: &self.names.upstream,
                        depth,
                        link: &link,
                    })?);
                }
                reserved if RESERVED.contains(&reserved) => {
                    map.next_value_seed(generic)?;
                    fields.reserved.push(key.into_owned());
                }
                attribute => {
                    let id = self.names.attributes.borrow_mut().intern(attribute);
                    let value = map.next_value_seed(generic)?;
                    if fields.attributes.iter().any(|(a, _)| *a == id) {
                        self.duplicate(attribute);
                    } else {
                        fields.attributes.push((id, value));
                    }
                }
            }
        }
        Ok(RawBody::Fields(fields))
    }
}

/// A device field's name, borrowed from the text when the parser allows.
struct FieldKey<'a, 'l> {
    state: &'a State<'l>,
}

impl<'de> DeserializeSeed<'de> for FieldKey<'_, '_> {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'a, 'l> FieldKey<'a, 'l> {
    fn value_seed(&self) -> KeySeed<'a, 'l> {
        KeySeed { state: self.state }
    }
}

impl<'de> Visitor<'de> for FieldKey<'_, '_> {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        self.state.check_str(v, None)?;
        Ok(Cow::Borrowed(v))
    }

    otherwise_value!(Cow::Owned;
        visit_str(&str), visit_string(String), visit_bool(bool), visit_i64(i64),
        visit_u64(u64), visit_f64(f64));

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Visitor::visit_unit(self.value_seed()).map(Cow::Owned)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        Visitor::visit_seq(self.value_seed(), seq).map(Cow::Owned)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        Visitor::visit_map(self.value_seed(), map).map(Cow::Owned)
    }
}

/// Reads a name (a site, a role, an upstream device) into an interner.
#[derive(Clone, Copy)]
struct NameSeed<'a, 'l> {
    state: &'a State<'l>,
    interner: &'a RefCell<Interner>,
    depth: usize,
    link: &'a Link<'a>,
}

impl<'a, 'l> NameSeed<'a, 'l> {
    fn value_seed(&self) -> ValueSeed<'a, 'l> {
        ValueSeed::new(self.state, self.depth, Some(self.link))
    }

    fn name<E: de::Error>(&self, v: &str) -> Result<Field, E> {
        self.state.check_str(v, Some(self.link))?;
        Ok(Field::Name(self.interner.borrow_mut().intern(v)))
    }
}

impl<'de> DeserializeSeed<'de> for NameSeed<'_, '_> {
    type Value = Field;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Field, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for NameSeed<'_, '_> {
    type Value = Field;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a name")
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Field, E> {
        self.name(v)
    }

    otherwise_scalars!(Field::Wrong);
    otherwise_seq!(Field::Wrong);

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Field, A::Error> {
        match Visitor::visit_map(self.value_seed(), map)? {
            // A TOML datetime arrives as a map and leaves as its text.
            Value::Str(text) => self.name(&text),
            other => Ok(Field::Wrong(other)),
        }
    }
}

/// Reads `depends_on`.
struct DependsSeed<'a, 'l> {
    state: &'a State<'l>,
    interner: &'a RefCell<Interner>,
    depth: usize,
    link: &'a Link<'a>,
}

impl<'a, 'l> DependsSeed<'a, 'l> {
    fn value_seed(&self) -> ValueSeed<'a, 'l> {
        ValueSeed::new(self.state, self.depth, Some(self.link))
    }
}

impl<'de> DeserializeSeed<'de> for DependsSeed<'_, '_> {
    type Value = Depends;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Depends, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for DependsSeed<'_, '_> {
    type Value = Depends;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of device names")
    }

    otherwise_scalars!(Depends::Wrong);
    otherwise_str!(Depends::Wrong);

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Depends, A::Error> {
        Visitor::visit_map(self.value_seed(), map).map(Depends::Wrong)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Depends, A::Error> {
        let depth = self.state.enter(self.depth, Some(self.link))?;
        let mut items = Vec::new();
        loop {
            let link = Link {
                parent: Some(self.link),
                seg: LinkSeg::Index(items.len()),
            };
            let seed = NameSeed {
                state: self.state,
                interner: self.interner,
                depth,
                link: &link,
            };
            let Some(item) = seq.next_element_seed(seed)? else {
                break;
            };
            if items.len() == self.state.max_list_len() {
                return Err(self.state.list_too_long(Some(self.link)));
            }
            items.push(item);
        }
        Ok(Depends::List(items))
    }
}
