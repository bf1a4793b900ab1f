//! Inventories, blast radii and document limits.

use changegate::input::{parse_bytes, parse_value, Format, InputErrorKind};
use changegate::topology::{Blast, Inventory, InventoryError, ProblemKind};
use changegate::{Limits, Value};

fn load(text: &str, format: Format) -> Inventory {
    match Inventory::parse(text, format, "test", &Limits::default()) {
        Ok(inv) => inv,
        Err(e) => panic!("{:?}", miette::Report::new(e)),
    }
}

/// Devices given as `name: upstream,upstream` (all at site `S`, role from the name's
/// prefix before `-`).
fn graph(spec: &[(&str, &[&str])]) -> Inventory {
    let devices: serde_json::Map<String, serde_json::Value> = spec
        .iter()
        .map(|(name, up)| {
            let role = name.split('-').next().unwrap_or(name);
            (
                (*name).to_owned(),
                serde_json::json!({ "site": "S", "role": role, "depends_on": up }),
            )
        })
        .collect();
    let doc = serde_json::json!({ "sites": { "S": { "timezone": "UTC" } }, "devices": devices });
    load(&doc.to_string(), Format::Json)
}

fn blast(inv: &Inventory, targets: &[&str]) -> Blast {
    inv.blast(targets).expect("known targets")
}

fn error(text: &str, format: Format) -> InventoryError {
    match Inventory::parse(text, format, "inv", &Limits::default()) {
        Ok(_) => panic!("expected an error for {text}"),
        Err(e) => e,
    }
}

/// Each problem as (kind, line, column, message).
fn problems(e: &InventoryError) -> Vec<(ProblemKind, usize, usize, String)> {
    e.problems()
        .iter()
        .map(|p| (p.kind(), p.line(), p.column(), p.message().to_owned()))
        .collect()
}

// ---------------------------------------------------------------------------
// Blast radius shapes, counted by hand.

#[test]
fn chain() {
    // a <- b <- c <- d: b needs a, c needs b, d needs c.
    let inv = graph(&[("a", &[]), ("b", &["a"]), ("c", &["b"]), ("d", &["c"])]);
    let b = blast(&inv, &["a"]);
    assert_eq!(b.devices, ["a", "b", "c", "d"]);
    assert_eq!(b.depth, 3);
    assert_eq!(b.path, ["a", "b", "c", "d"]);
    let b = blast(&inv, &["c"]);
    assert_eq!(b.devices, ["c", "d"]);
    assert_eq!(b.depth, 1);
    let b = blast(&inv, &["d"]);
    assert_eq!(b.devices, ["d"]);
    assert_eq!(b.depth, 0);
    assert_eq!(b.path, ["d"]);
}

#[test]
fn several_targets_measure_depth_from_the_nearest() {
    let inv = graph(&[("a", &[]), ("b", &["a"]), ("c", &["b"]), ("d", &["c"])]);
    let b = blast(&inv, &["c", "a", "c"]);
    assert_eq!(b.devices, ["a", "b", "c", "d"]);
    assert_eq!(b.depth, 1);
    assert_eq!(b.path, ["a", "b"]);
}

#[test]
fn fan() {
    let inv = graph(&[
        ("hub", &[]),
        ("s1", &["hub"]),
        ("s2", &["hub"]),
        ("s3", &["hub"]),
        ("s4", &["hub"]),
        ("other", &[]),
    ]);
    let b = blast(&inv, &["hub"]);
    assert_eq!(b.devices, ["hub", "s1", "s2", "s3", "s4"]);
    assert_eq!(b.depth, 1);
    assert_eq!(b.path, ["hub", "s1"]);
    // Upstream of a spoke is only the hub, which a change to the spoke leaves alone.
    assert_eq!(blast(&inv, &["s2"]).devices, ["s2"]);
}

#[test]
fn diamond() {
    // top <- left, right <- bottom (bottom needs both).
    let inv = graph(&[
        ("top", &[]),
        ("left", &["top"]),
        ("right", &["top"]),
        ("bottom", &["right", "left"]),
        ("below", &["bottom"]),
    ]);
    let b = blast(&inv, &["top"]);
    assert_eq!(b.devices, ["below", "bottom", "left", "right", "top"]);
    assert_eq!(b.depth, 3);
    // Through the first upstream device by name, whatever the order of depends_on.
    assert_eq!(b.path, ["top", "left", "bottom", "below"]);
    let b = blast(&inv, &["left"]);
    assert_eq!(b.devices, ["below", "bottom", "left"]);
    assert_eq!(b.depth, 2);
}

#[test]
fn cycles_terminate() {
    // a needs c, b needs a, c needs b: a ring.
    let inv = graph(&[
        ("a", &["c"]),
        ("b", &["a"]),
        ("c", &["b"]),
        ("tail", &["c"]),
    ]);
    let b = blast(&inv, &["a"]);
    assert_eq!(b.devices, ["a", "b", "c", "tail"]);
    assert_eq!(b.depth, 3);
    assert_eq!(b.path, ["a", "b", "c", "tail"]);
    let b = blast(&inv, &["c"]);
    assert_eq!(b.devices, ["a", "b", "c", "tail"]);
    assert_eq!(b.depth, 2);
}

#[test]
fn a_device_depending_on_itself() {
    let inv = graph(&[("x", &["x"]), ("y", &["x"])]);
    let b = blast(&inv, &["x"]);
    assert_eq!(b.devices, ["x", "y"]);
    assert_eq!(b.depth, 1);
}

#[test]
fn no_targets_no_radius() {
    let inv = graph(&[("a", &[])]);
    let b = blast(&inv, &[]);
    assert!(b.devices.is_empty());
    assert_eq!(b.depth, 0);
    assert!(b.path.is_empty());
}

#[test]
fn unknown_targets_are_all_reported_with_suggestions() {
    let inv = graph(&[("core-1", &[]), ("edge-1", &["core-1"])]);
    let err = inv
        .blast(&["core-1", "core-l", "nothing-alike", "core-l"])
        .unwrap_err();
    let names: Vec<(&str, Option<&str>)> = err
        .unknown
        .iter()
        .map(|u| (u.name.as_str(), u.suggestion.as_deref()))
        .collect();
    assert_eq!(names, [("core-l", Some("core-1")), ("nothing-alike", None)]);
    assert_eq!(err.to_string(), "unknown devices `core-l`, `nothing-alike`");
    let help = miette::Diagnostic::help(&err).map(|h| h.to_string());
    assert_eq!(help.as_deref(), Some("did you mean `core-1` for `core-l`?"));

    let one = inv.blast(&["edge-2"]).unwrap_err();
    assert_eq!(one.to_string(), "unknown device `edge-2`");
    let help = miette::Diagnostic::help(&one).map(|h| h.to_string());
    assert_eq!(help.as_deref(), Some("did you mean `edge-1`?"));
    assert!(Inventory::empty().blast(&["a"]).is_err());
    assert!(inv.targets_only(&["zz"]).is_err());
}

// ---------------------------------------------------------------------------
// Fields as policies read them.

const WAN: &str = r#"{
  "sites": {
    "NYC": { "timezone": "America/New_York" },
    "LON": { "timezone": "Europe/London" },
    "BOM": { "timezone": "Asia/Kolkata" }
  },
  "devices": {
    "pe-nyc": { "site": "NYC", "role": "pe" },
    "core-lon": { "site": "LON", "role": "core", "depends_on": ["pe-nyc"], "customers": 40 },
    "edge-bom": { "site": "BOM", "role": "edge", "depends_on": ["core-lon"], "customers": 7, "tier": "gold" },
    "edge-lon": { "site": "LON", "role": "edge", "depends_on": ["core-lon"], "customers": 12 },
    "lab": { "site": "NYC", "serial": "X1" }
  }
}"#;

#[test]
fn blast_fields() {
    let inv = load(WAN, Format::Json);
    let b = blast(&inv, &["pe-nyc"]);
    assert_eq!(b.devices, ["core-lon", "edge-bom", "edge-lon", "pe-nyc"]);
    assert_eq!(b.sites, ["BOM", "LON", "NYC"]);
    assert_eq!(b.roles, ["core", "edge", "pe"]);
    assert_eq!(b.depth, 2);
    assert_eq!(b.path, ["pe-nyc", "core-lon", "edge-bom"]);
    let strs = |v: &[&str]| Value::List(v.iter().map(|s| Value::from(*s)).collect());
    assert_eq!(b.field("roles"), Some(strs(&["core", "edge", "pe"])));
    assert_eq!(b.field("depth"), Some(Value::Int(2)));
    // One value per device that has the field, in device-name order.
    assert_eq!(
        b.field("customers"),
        Some(Value::List(vec![
            Value::Int(40),
            Value::Int(7),
            Value::Int(12)
        ]))
    );
    assert_eq!(b.field("tier"), Some(strs(&["gold"])));
    // Known to the inventory but not in this radius: an empty list.
    assert_eq!(b.field("serial"), Some(Value::List(vec![])));
    // Known to no device at all.
    assert_eq!(b.field("custmers"), None);

    let t = inv.targets_only(&["edge-lon", "core-lon"]).unwrap();
    assert_eq!(t.devices, ["core-lon", "edge-lon"]);
    assert_eq!(t.sites, ["LON"]);
    assert_eq!(t.roles, ["core", "edge"]);
    assert_eq!(t.depth, 0);
    assert_eq!(
        t.field("customers"),
        Some(Value::List(vec![Value::Int(40), Value::Int(12)]))
    );
}

#[test]
fn blast_json_and_text() {
    let inv = load(WAN, Format::Json);
    let b = blast(&inv, &["core-lon"]);
    assert_eq!(
        serde_json::to_string(&b).unwrap(),
        r#"{"devices":["core-lon","edge-bom","edge-lon"],"sites":["BOM","LON"],"roles":["core","edge"],"depth":1}"#
    );
    assert_eq!(
        b.to_string(),
        "blast radius: 3 devices, 2 sites, 2 roles, depth 1\n  devices: core-lon, edge-bom, edge-lon\n  sites:   BOM, LON\n  roles:   core, edge\n  furthest: core-lon <- edge-bom"
    );
}

#[test]
fn accessors() {
    let inv = load(WAN, Format::Json);
    assert_eq!(inv.len(), 5);
    let (site, zone) = inv.device_zone("edge-bom").unwrap();
    assert_eq!((site, zone), ("BOM", chrono_tz::Asia::Kolkata));
    assert_eq!(inv.device_zone("nope"), None);
    assert_eq!(inv.device_role("lab"), None);
    assert_eq!(inv.device_role("pe-nyc"), Some("pe"));
    assert_eq!(inv.site_zone("LON"), Some(chrono_tz::Europe::London));
    let sites: Vec<&str> = inv.sites().map(|(s, _)| s).collect();
    assert_eq!(sites, ["BOM", "LON", "NYC"]);
    assert_eq!(
        inv.attribute("edge-bom", "tier"),
        Some(&Value::from("gold"))
    );
    assert_eq!(inv.upstream("edge-bom"), ["core-lon"]);
    assert_eq!(inv.downstream("core-lon"), ["edge-bom", "edge-lon"]);
    assert!(Inventory::empty().is_empty());
}

#[test]
fn the_three_formats_read_the_same_inventory() {
    let yaml = "\
sites:
  NYC: { timezone: America/New_York }
  LON:
    timezone: Europe/London
    region: emea
devices:
  pe-1: { site: NYC, role: pe, customers: 3, enabled: on }
  core-1:
    site: LON
    role: core
    depends_on: [pe-1]
    customers: 40
  edge-1: { site: LON, role: edge, depends_on: [core-1, pe-1], customers: 2 }
";
    let toml = r#"
[sites.NYC]
timezone = "America/New_York"
[sites.LON]
timezone = "Europe/London"
region = "emea"

[devices.pe-1]
site = "NYC"
role = "pe"
customers = 3
enabled = "on"

[devices.core-1]
site = "LON"
role = "core"
depends_on = ["pe-1"]
customers = 40

[devices.edge-1]
site = "LON"
role = "edge"
depends_on = ["core-1", "pe-1"]
customers = 2
"#;
    let json = r#"{ "sites": { "NYC": { "timezone": "America/New_York" },
                              "LON": { "timezone": "Europe/London", "region": "emea" } },
                   "devices": {
                     "pe-1": { "site": "NYC", "role": "pe", "customers": 3, "enabled": "on" },
                     "core-1": { "site": "LON", "role": "core", "depends_on": ["pe-1"], "customers": 40 },
                     "edge-1": { "site": "LON", "role": "edge", "depends_on": ["core-1", "pe-1"], "customers": 2 } } }"#;
    let all = [
        load(json, Format::Json),
        load(yaml, Format::Yaml),
        load(toml, Format::Toml),
    ];
    for inv in &all {
        let b = blast(inv, &["pe-1"]);
        assert_eq!(b.devices, ["core-1", "edge-1", "pe-1"]);
        assert_eq!(b.sites, ["LON", "NYC"]);
        assert_eq!(b.depth, 1);
        assert_eq!(
            b.field("customers"),
            Some(Value::List(vec![
                Value::Int(40),
                Value::Int(2),
                Value::Int(3)
            ]))
        );
        // YAML's `on` stays a string.
        assert_eq!(inv.attribute("pe-1", "enabled"), Some(&Value::from("on")));
        assert_eq!(b, blast(&all[0], &["pe-1"]));
    }
}

#[test]
fn an_empty_document_is_an_empty_inventory() {
    assert!(load("", Format::Yaml).is_empty());
    assert!(load("", Format::Toml).is_empty());
    assert!(load("{}", Format::Json).is_empty());
}

// ---------------------------------------------------------------------------
// Inventory problems, each at its place.

#[test]
fn malformed_files_report_line_and_column() {
    for (text, format, line, column, message) in [
        (
            "{\n  \"sites\": {\n    \"x\": }\n}",
            Format::Json,
            3,
            10,
            "invalid JSON: expected value",
        ),
        ("sites:\n  x: [a, b\n", Format::Yaml, 2, 6, "invalid YAML"),
        ("[sites]\nx = \n", Format::Toml, 2, 5, "invalid TOML"),
    ] {
        let e = error(text, format);
        let input = e.input().expect("a parse error");
        assert_eq!(input.kind(), InputErrorKind::Syntax, "{text}");
        assert!(input.message().starts_with(message), "{}", input.message());
        assert_eq!(
            (input.line(), input.column()),
            (line, column),
            "{text}: {}",
            input.message()
        );
    }
}

#[test]
fn every_problem_is_reported_in_file_order() {
    let text = r#"{
  "sites": {
    "NYC": { "timezone": "America/New_Yrok" },
    "LON": { "timezone": "Europe/London" }
  },
  "devices": {
    "core-1": { "site": "NYX", "depends_on": ["edge-1", "edge-9"] },
    "edge-1": { "site": "LON" },
    "core-1": { "site": "LON" }
  }
}"#;
    let e = error(text, Format::Json);
    assert_eq!(e.to_string(), "inventory `inv` has 4 problems");
    assert_eq!(
        problems(&e),
        [
            (
                ProblemKind::UnknownTimezone,
                3,
                26,
                "unknown time zone `America/New_Yrok` for site `NYC`".to_owned()
            ),
            (
                ProblemKind::UnknownSite,
                7,
                25,
                "device `core-1` is at unknown site `NYX`".to_owned()
            ),
            (
                ProblemKind::UnknownDependency,
                7,
                57,
                "device `core-1` depends on unknown device `edge-9`".to_owned()
            ),
            (
                ProblemKind::DuplicateDevice,
                9,
                5,
                "duplicate device `core-1`".to_owned()
            ),
        ]
    );
    let help: Vec<Option<&str>> = e.problems().iter().map(|p| p.advice()).collect();
    assert_eq!(help[0], Some("did you mean `America/New_York`?"));
    assert_eq!(help[1], Some("did you mean `NYC`?"));
    assert_eq!(help[2], Some("did you mean `edge-1`?"));
}

#[test]
fn problems_in_yaml_and_toml() {
    let yaml = "\
sites:
  NYC: { timezone: Mars/Olympus }
devices:
  a: { site: NYC, depends_on: [b] }
  a: { site: NYC }
  c: { site: SFO }
";
    let e = error(yaml, Format::Yaml);
    assert_eq!(
        problems(&e),
        [
            (
                ProblemKind::UnknownTimezone,
                2,
                20,
                "unknown time zone `Mars/Olympus` for site `NYC`".to_owned()
            ),
            (
                ProblemKind::UnknownDependency,
                4,
                32,
                "device `a` depends on unknown device `b`".to_owned()
            ),
            (
                ProblemKind::DuplicateDevice,
                5,
                3,
                "duplicate device `a`".to_owned()
            ),
            (
                ProblemKind::UnknownSite,
                6,
                14,
                "device `c` is at unknown site `SFO`".to_owned()
            ),
        ]
    );

    let toml = "\
[sites.NYC]
timezone = \"america/new_york\"

[devices.a]
site = \"NYC\"
depends_on = [\"b\"]
depth = 3
";
    let e = error(toml, Format::Toml);
    assert_eq!(
        problems(&e),
        [
            (
                ProblemKind::UnknownTimezone,
                2,
                12,
                "unknown time zone `america/new_york` for site `NYC`".to_owned()
            ),
            (
                ProblemKind::UnknownDependency,
                6,
                15,
                "device `a` depends on unknown device `b`".to_owned()
            ),
            (
                ProblemKind::ReservedField,
                7,
                1,
                "device field `depth` is reserved".to_owned()
            ),
        ]
    );
    assert_eq!(
        e.problems()[0].advice(),
        Some("did you mean `America/New_York`?")
    );
}

#[test]
fn toml_refuses_a_duplicate_device_itself() {
    let e = error("[devices.a]\n[devices.a]\n", Format::Toml);
    let input = e.input().expect("a parse error");
    // At the repeated `a` of `[devices.a]`.
    assert_eq!((input.line(), input.column()), (2, 10));
    assert!(input.message().contains("duplicate"), "{}", input.message());
}

#[test]
fn shape_problems() {
    let e = error(
        r#"{ "site": {}, "sites": { "A": {} }, "devices": { "x": 3, "y": { "site": 4, "depends_on": "x" } } }"#,
        Format::Json,
    );
    let kinds: Vec<ProblemKind> = e.problems().iter().map(|p| p.kind()).collect();
    assert_eq!(
        kinds,
        [
            ProblemKind::UnknownKey,
            ProblemKind::MissingTimezone,
            ProblemKind::WrongType,
            ProblemKind::WrongType,
            ProblemKind::WrongType,
        ]
    );
    assert_eq!(e.problems()[0].message(), "unknown inventory key `site`");
    assert_eq!(e.problems()[0].advice(), Some("did you mean `sites`?"));
    assert_eq!(
        e.problems()[2].message(),
        "device `x` must be an object, not an integer"
    );
    assert_eq!(
        e.problems()[4].message(),
        "`depends_on` must be a list of device names, not a string"
    );
}

#[test]
fn repeated_fields_and_sections() {
    let text = r#"{
  "sites": { "A": { "timezone": "UTC" } },
  "devices": { "x": { "site": "A", "role": "core", "site": "B", "customers": 1, "customers": 2 } },
  "sites": {}
}"#;
    let e = error(text, Format::Json);
    assert_eq!(
        problems(&e),
        [
            (
                ProblemKind::DuplicateKey,
                3,
                52,
                "duplicate key `site`".to_owned()
            ),
            (
                ProblemKind::DuplicateKey,
                3,
                81,
                "duplicate key `customers`".to_owned()
            ),
            (
                ProblemKind::DuplicateKey,
                4,
                3,
                "duplicate key `sites`".to_owned()
            ),
        ]
    );
}

#[test]
fn a_device_defined_three_times() {
    let text = "devices:\n  a: {}\n  b: {}\n  a: {}\n  a: {}\n";
    let e = error(text, Format::Yaml);
    assert_eq!(
        problems(&e),
        [
            (
                ProblemKind::DuplicateDevice,
                4,
                3,
                "duplicate device `a`".to_owned()
            ),
            (
                ProblemKind::DuplicateDevice,
                5,
                3,
                "duplicate device `a`".to_owned()
            ),
        ]
    );
}

#[test]
fn the_rendered_diagnostic_shows_the_place() {
    let e = error(
        "sites:\n  NYC: { timezone: America/New_Yrok }\n",
        Format::Yaml,
    );
    let handler =
        miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor());
    let mut out = String::new();
    handler.render_report(&mut out, &e).unwrap();
    assert!(out.contains("inventory `inv` has 1 problem"), "{out}");
    assert!(out.contains("[inv:2:20]"), "{out}");
    assert!(out.contains("not an IANA time zone"), "{out}");
    assert!(out.contains("did you mean `America/New_York`?"), "{out}");
}

// ---------------------------------------------------------------------------
// Limits and hostile documents.

fn limited() -> Limits {
    Limits {
        max_input_bytes: 200,
        max_depth: 3,
        max_string_len: 5,
        max_list_len: 2,
        ..Limits::default()
    }
}

#[test]
fn limits_hold_in_every_format() {
    use InputErrorKind::*;
    let cases = [
        (r#"{"a": {"b": {"c": {}}}}"#, Format::Json, TooDeep),
        ("a:\n  b:\n    c:\n      d: 1\n", Format::Yaml, TooDeep),
        ("[a.b.c]\nd = 1\n", Format::Toml, TooDeep),
        (r#"{"a": "toolong"}"#, Format::Json, StringTooLong),
        ("a: toolong\n", Format::Yaml, StringTooLong),
        ("a = \"toolong\"\n", Format::Toml, StringTooLong),
        (r#"{"toolong": 1}"#, Format::Json, StringTooLong),
        (r#"{"a": [1, 2, 3]}"#, Format::Json, ListTooLong),
        ("a: [1, 2, 3]\n", Format::Yaml, ListTooLong),
        ("a = [1, 2, 3]\n", Format::Toml, ListTooLong),
    ];
    for (text, format, kind) in cases {
        let e = parse_value(text, format, &limited()).unwrap_err();
        assert_eq!(e.kind(), kind, "{text}: {}", e.message());
        assert!(e.line() >= 1, "{text}");
    }
    // At the limits exactly, all is well.
    assert!(parse_value(r#"{"a": {"b": ["12345", 2]}}"#, Format::Json, &limited()).is_ok());
}

#[test]
fn limit_errors_point_at_the_value() {
    let e = parse_value("a: 1\nb: toolong\n", Format::Yaml, &limited()).unwrap_err();
    assert_eq!((e.line(), e.column()), (2, 4));
    assert_eq!(
        e.message(),
        "string of 7 bytes is longer than the limit of 5 bytes"
    );
    let e = parse_value("{\"a\": 1,\n \"b\": \"toolong\"}", Format::Json, &limited()).unwrap_err();
    assert_eq!((e.line(), e.column()), (2, 7));
}

#[test]
fn size_limit() {
    let big = format!("{{\"a\": \"{}\"}}", "x".repeat(300));
    let e = parse_value(&big, Format::Json, &limited()).unwrap_err();
    assert_eq!(e.kind(), InputErrorKind::TooLarge);
    assert!(
        e.message().contains("more than the limit of 200 bytes"),
        "{}",
        e.message()
    );
}

#[test]
fn json_nesting_beyond_serde_json_recursion_is_an_error_not_a_crash() {
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let e = parse_value(&deep, Format::Json, &Limits::default()).unwrap_err();
    assert_eq!(e.kind(), InputErrorKind::TooDeep);
    let deep = format!("{}{}", "- ".repeat(10_000), "1");
    assert!(parse_value(&deep, Format::Yaml, &Limits::default()).is_err());
}

#[test]
fn billion_laughs_is_refused() {
    let mut doc = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    let names = ["a", "b", "c", "d", "e", "f", "g", "h", "i"];
    for pair in names.windows(2) {
        let (prev, next) = (pair[0], pair[1]);
        let refs = vec![format!("*{prev}"); 9].join(",");
        doc.push_str(&format!("{next}: &{next} [{refs}]\n"));
    }
    let e = parse_value(&doc, Format::Yaml, &Limits::default()).unwrap_err();
    assert_eq!(e.kind(), InputErrorKind::AliasLimit, "{}", e.message());
    // A few aliases are fine.
    let v = parse_value(
        "base: &b {x: 1}\ncopy: *b\n",
        Format::Yaml,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(v.get("copy"), v.get("base"));
}

#[test]
fn multiple_yaml_documents_are_refused() {
    let e = parse_value("a: 1\n---\nb: 2\n", Format::Yaml, &Limits::default()).unwrap_err();
    assert_eq!(e.kind(), InputErrorKind::MultipleDocuments);
    assert_eq!(e.message(), "the YAML stream holds more than one document");
    assert_eq!(e.line(), 3);
}

#[test]
fn duplicate_keys_are_refused_in_plain_documents() {
    let e = parse_value("{\"a\": 1,\n  \"a\": 2}", Format::Json, &Limits::default()).unwrap_err();
    assert_eq!(e.kind(), InputErrorKind::DuplicateKey);
    assert_eq!(e.message(), "duplicate key `a`");
    assert_eq!((e.line(), e.column()), (2, 3));
    let e = parse_value("x:\n  a: 1\n  a: 2\n", Format::Yaml, &Limits::default()).unwrap_err();
    assert_eq!((e.line(), e.column()), (3, 3));
}

#[test]
fn non_utf8_is_refused_with_its_offset() {
    let e = parse_bytes(
        b"{\"a\": \"caf\xe9\"}",
        Format::Json,
        "c.json",
        &Limits::default(),
    )
    .unwrap_err();
    assert_eq!(e.kind(), InputErrorKind::NotUtf8);
    assert_eq!(e.message(), "invalid UTF-8 at byte 10 (byte 0xe9)");
    assert_eq!(e.span().map(|s| s.offset()), Some(10));
    assert_eq!((e.line(), e.column()), (1, 11));

    let dir = std::env::temp_dir().join(format!("changegate-topology-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("bad.yaml");
    std::fs::write(&path, b"devices:\n  \xff: {}\n").unwrap();
    let e = Inventory::from_file(&path).unwrap_err();
    let input = e.input().expect("an input error");
    assert_eq!(input.kind(), InputErrorKind::NotUtf8);
    assert_eq!(input.message(), "invalid UTF-8 at byte 11 (byte 0xff)");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn scalars_keep_their_meaning() {
    let v = parse_value(
        "a: on\nb: yes\nc: true\nd: 9223372036854775807\ne: 1.5\nf: ~\ng: 2026-01-01\n",
        Format::Yaml,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(v.get("a"), Some(&Value::from("on")));
    assert_eq!(v.get("b"), Some(&Value::from("yes")));
    assert_eq!(v.get("c"), Some(&Value::Bool(true)));
    assert_eq!(v.get("d"), Some(&Value::Int(i64::MAX)));
    assert_eq!(v.get("e"), Some(&Value::Float(1.5)));
    assert_eq!(v.get("f"), Some(&Value::Null));
    assert_eq!(v.get("g"), Some(&Value::from("2026-01-01")));
    let v = parse_value(
        "at = 2026-01-01T00:00:00Z\n",
        Format::Toml,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(v.get("at"), Some(&Value::from("2026-01-01T00:00:00Z")));
    let v = parse_value(
        r#"{"big": 9223372036854775807, "neg": -3}"#,
        Format::Json,
        &Limits::default(),
    )
    .unwrap();
    assert_eq!(v.get("big"), Some(&Value::Int(i64::MAX)));
    assert_eq!(v.get("neg"), Some(&Value::Int(-3)));
}

#[test]
fn formats_by_extension() {
    use std::path::Path;
    assert_eq!(
        Format::from_path(Path::new("a/inv.json")),
        Some(Format::Json)
    );
    assert_eq!(Format::from_path(Path::new("inv.YML")), Some(Format::Yaml));
    assert_eq!(Format::from_path(Path::new("inv.yaml")), Some(Format::Yaml));
    assert_eq!(Format::from_path(Path::new("inv.toml")), Some(Format::Toml));
    assert_eq!(Format::from_path(Path::new("inv.jsonl")), None);
    assert_eq!(Format::from_path(Path::new("inventory")), None);
}

// ---------------------------------------------------------------------------
// The example inventories.

#[test]
fn example_campus_inventory() {
    let inv = Inventory::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/policies/campus.inventory.yaml"
    ))
    .unwrap_or_else(|e| panic!("{:?}", miette::Report::new(e)));
    let b = inv.blast(&["fw-north-1"]).unwrap();
    assert!(b.roles.contains(&"core".to_owned()), "{b}");
    assert!(b.depth >= 2, "{b}");
    assert_eq!(b.sites, ["north", "south"]);
}

#[test]
fn example_wan_inventory() {
    let inv = Inventory::from_file(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/policies/wan.inventory.json"
    ))
    .unwrap_or_else(|e| panic!("{:?}", miette::Report::new(e)));
    let zones: Vec<&str> = inv.sites().map(|(_, z)| z.name()).collect();
    for zone in ["America/New_York", "Europe/London", "Asia/Kolkata"] {
        assert!(zones.contains(&zone), "{zones:?}");
    }
    let b = inv.blast(&["pe-nyc-1"]).unwrap();
    let Some(Value::List(customers)) = b.field("customers") else {
        panic!("customers is a list");
    };
    assert!(!customers.is_empty());
}

#[test]
fn an_inventory_is_shared_between_threads() {
    fn shared<T: Send + Sync>() {}
    shared::<Inventory>();
    shared::<Blast>();
}

#[test]
fn a_file_must_name_its_format() {
    let e = Inventory::from_file("inventory.txt").unwrap_err();
    let input = e.input().expect("an input error");
    assert_eq!(input.kind(), InputErrorKind::UnknownFormat);
    assert_eq!(input.message(), "cannot tell the format of `inventory.txt`");
    let e = Inventory::from_file("does-not-exist.json").unwrap_err();
    assert_eq!(e.input().map(|i| i.kind()), Some(InputErrorKind::Io));
}

#[test]
fn null_attributes_are_values() {
    let inv = load(
        r#"{"devices": {"a": {"customers": null}, "b": {"customers": 3}}}"#,
        Format::Json,
    );
    let b = inv.targets_only(&["a", "b"]).unwrap();
    assert_eq!(
        b.field("customers"),
        Some(Value::List(vec![Value::Null, Value::Int(3)]))
    );
    assert!(b.sites.is_empty());
    assert_eq!(inv.device_zone("a"), None);
}

/// `e` as people see it, 80 columns wide, without colour.
fn render(e: &InventoryError) -> String {
    let mut out = String::new();
    miette::GraphicalReportHandler::new_themed(miette::GraphicalTheme::unicode_nocolor())
        .with_width(80)
        .render_report(&mut out, e)
        .unwrap();
    out
}

#[test]
fn rendered_inventory_problems() {
    let e = error(
        "sites:\n  NYC: { timezone: America/New_Yrok }\ndevices:\n  core-1: { site: NYC, depends_on: [edge-l] }\n  edge-1: { site: NYX }\n",
        Format::Yaml,
    );
    insta::assert_snapshot!(render(&e));
}

#[test]
fn rendered_parse_error() {
    let e = error(
        "{\n  \"devices\": {\n    \"a\": { \"site\": \"x\" \"role\": \"core\" }\n  }\n}\n",
        Format::Json,
    );
    insta::assert_snapshot!(render(&e));
}
