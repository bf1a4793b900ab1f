//! JSON Schemas of changegate's documents, generated from Rust types with
//! `schemars`: the change and the inventory (described by the types below, which say
//! what the readers accept), the test file and the verdict (the types that read and
//! write them). `changegate schema NAME` prints one; `docs/schemas/` keeps them, and
//! a test checks that those files are what the code generates.

use std::collections::BTreeMap;

use schemars::JsonSchema;

/// A change as read from JSON or YAML. The fields below are the ones changegate
/// itself reads; any other field (`kind`, `labels`, `files`, `risk`, …) is allowed,
/// and conditions read it as `change.<field>`. A problem with one of these fields makes the verdict `deny`.
#[derive(JsonSchema)]
#[schemars(title = "changegate change")]
#[allow(dead_code)]
struct ChangeDocument {
    /// The change's identifier, shown in the verdict.
    id: Option<StringOrNumber>,
    /// Who wrote the change: their own approval never counts.
    author: Option<String>,
    /// The devices the change touches (names in the inventory).
    targets: Option<Vec<String>>,
    /// The revision under review: an approval of another revision is stale.
    revision: Option<StringOrNumber>,
    /// How long the change takes, e.g. `45m` or `1h30m` (units `d`, `h`, `m`, `s`,
    /// largest first): it must fit in the window.
    #[schemars(pattern(r"^(?=[0-9])([0-9]+d)?([0-9]+h)?([0-9]+m)?([0-9]+s)?$"))]
    duration: Option<String>,
    /// Who approved: a name, or `{ "by": name, "revision": r }`.
    approvals: Option<Vec<ApprovalDocument>>,
}

/// A string, or an integer read as its decimal text.
#[derive(JsonSchema)]
#[schemars(untagged)]
#[allow(dead_code)]
enum StringOrNumber {
    /// Text.
    Text(String),
    /// A whole number.
    Number(i64),
}

/// One approval.
#[derive(JsonSchema)]
#[schemars(untagged)]
#[allow(dead_code)]
enum ApprovalDocument {
    /// Who approved (any revision).
    By(String),
    /// Who approved which revision.
    Record {
        /// Who approved.
        by: String,
        /// The revision approved.
        revision: Option<StringOrNumber>,
    },
}

/// An inventory (JSON, YAML or TOML): sites with their time zones, and devices.
#[derive(JsonSchema)]
#[schemars(title = "changegate inventory", deny_unknown_fields)]
#[allow(dead_code)]
struct InventoryDocument {
    /// Sites by name.
    sites: Option<BTreeMap<String, SiteDocument>>,
    /// Devices by name.
    devices: Option<BTreeMap<String, DeviceDocument>>,
}

/// A site; fields other than `timezone` are free-form.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct SiteDocument {
    /// The site's IANA time zone (`local` windows follow it).
    timezone: String,
}

/// A device; fields other than these are free-form, read as `blast.<field>`.
#[derive(JsonSchema)]
#[allow(dead_code)]
struct DeviceDocument {
    /// The device's site (a name in `sites`).
    site: Option<String>,
    /// The device's role.
    role: Option<String>,
    /// The devices it needs upstream: a change to one of them reaches this one.
    depends_on: Option<Vec<String>>,
}

/// The documents that have a schema, by the name `changegate schema` takes.
pub(crate) const NAMES: [&str; 4] = ["change", "inventory", "test", "verdict"];

/// The schema of the document `name` (one of [`NAMES`]).
pub(crate) fn schema(name: &str) -> Option<serde_json::Value> {
    let schema = match name {
        "change" => schemars::schema_for!(ChangeDocument),
        "inventory" => schemars::schema_for!(InventoryDocument),
        "test" => crate::cli::testing::file_schema(),
        // The verdict is written, not read: fields skipped when empty are optional.
        "verdict" => schemars::generate::SchemaSettings::draft2020_12()
            .for_serialize()
            .into_generator()
            .into_root_schema_for::<changegate::Verdict>(),
        _ => return None,
    };
    Some(schema.to_value())
}
