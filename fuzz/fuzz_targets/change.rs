//! Any bytes as a change document (the first byte picks JSON, YAML or TOML).
#![no_main]

use changegate::input::{parse_bytes, Format};
use changegate::Limits;
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
    if let Ok(value) = parse_bytes(rest, format, "fuzz", &Limits::default()) {
        let _ = changegate::Change::from_value(value);
    }
});
