//! The hand-written rule reader and pest read any text the same: identical items and
//! diagnostics, spans included (compared through `Debug`), with default and with
//! tight limits.
#![no_main]

use changegate::syntax::parse_items;
use changegate::{Limits, SourceFile};
use libfuzzer_sys::fuzz_target;

fn show(parsed: Option<(changegate::syntax::File, Vec<changegate::Diagnostic>)>) -> String {
    match parsed {
        Some((file, diags)) => format!("{:?}\n{diags:?}", file.items),
        None => "the parser panicked".to_owned(),
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let file = SourceFile::new("fuzz.gate", text);
    let tight = Limits {
        max_depth: 4,
        max_string_len: 8,
        max_list_len: 3,
        ..Limits::default()
    };
    for limits in [Limits::default(), tight] {
        let pest = show(parse_items(&file, &limits, false));
        let fast = show(parse_items(&file, &limits, true));
        assert_eq!(pest, fast, "--- input\n{text}");
    }
});
