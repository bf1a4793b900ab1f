//! Formatting a valid policy and reparsing it gives an equal AST (spans ignored).
#![no_main]

use changegate::syntax::parse_file;
use changegate::{Limits, SourceFile};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits::default();
    let (ast, diags) = parse_file(&SourceFile::new("fuzz.gate", text), &limits);
    if diags.iter().any(|d| d.is_error()) {
        return;
    }
    let printed = ast.to_string();
    let (again, diags2) = parse_file(&SourceFile::new("printed.gate", &printed), &limits);
    let errors: Vec<_> = diags2.iter().filter(|d| d.is_error()).collect();
    assert!(
        errors.is_empty(),
        "the printed policy does not parse: {errors:?}\n--- input\n{text}\n--- printed\n{printed}"
    );
    assert_eq!(ast, again, "--- input\n{text}\n--- printed\n{printed}");
    // Printing is a fixed point.
    assert_eq!(printed, again.to_string());
});
