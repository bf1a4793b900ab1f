//! Formatting a valid policy and reparsing it gives an equal AST (spans ignored).
//! The AST is private to the library: `changegate::fuzzing` (built under cargo-fuzz's
//! `--cfg fuzzing`) checks the laws and says which one failed.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(failed) = changegate::fuzzing::print_roundtrip(text) {
        panic!("{failed}");
    }
});
