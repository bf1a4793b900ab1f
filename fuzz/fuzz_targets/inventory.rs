//! Any bytes as an inventory (the first byte picks JSON, YAML or TOML), then the
//! blast radius of its first devices.
#![no_main]

use changegate::input::Format;
use changegate::{Inventory, Limits};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&sel, rest)) = data.split_first() else {
        return;
    };
    let format = match sel % 3 {
        0 => Format::Json,
        1 => Format::Yaml,
        _ => Format::Toml,
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    if let Ok(inv) = Inventory::parse(text, format, "fuzz", &Limits::default()) {
        let names: Vec<String> = inv.devices().take(3).map(str::to_owned).collect();
        let targets: Vec<&str> = names.iter().map(String::as_str).collect();
        let _ = inv.blast(&targets);
        let _ = inv.blast(&["no-such-device"]);
    }
});
