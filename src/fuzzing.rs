//! What the fuzz targets (`fuzz/`) check against that the library does not offer:
//! the evaluation without the rule index, and printing the syntax tree. `cargo fuzz`
//! builds every crate with `--cfg fuzzing`; without it this module does not exist.

use chrono::{DateTime, Utc};

use crate::{Change, Inventory, Limits, Policy, SourceFile, Verdict};

/// [`Policy::evaluate`] without the rule index: every rule is evaluated. The
/// reference the `evaluate` target checks the index against.
pub fn evaluate_unindexed(
    policy: &Policy,
    change: &Change,
    inventory: &Inventory,
    at: DateTime<Utc>,
) -> Verdict {
    policy.evaluate_unindexed(change, inventory, at)
}

/// The `fmt_roundtrip` target's laws for `text`: when it parses without errors, its
/// syntax tree printed (the canonical printer, no comments) parses again without
/// errors, to an equal tree (spans ignored), and printing that is a fixed point.
/// `Ok` when `text` does not parse or every law holds; `Err` says which failed.
pub fn print_roundtrip(text: &str) -> Result<(), String> {
    let limits = Limits::default();
    let (ast, diags) = crate::syntax::parse_file(&SourceFile::new("fuzz.gate", text), &limits);
    if diags.iter().any(|d| d.is_error()) {
        return Ok(());
    }
    let printed = ast.to_string();
    let (again, diags2) =
        crate::syntax::parse_file(&SourceFile::new("printed.gate", &printed), &limits);
    let errors: Vec<_> = diags2.iter().filter(|d| d.is_error()).collect();
    if !errors.is_empty() {
        return Err(format!(
            "the printed policy does not parse: {errors:?}\n--- input\n{text}\n--- printed\n{printed}"
        ));
    }
    if ast != again {
        return Err(format!(
            "parse(print(ast)) != ast: {ast:?} != {again:?}\n--- input\n{text}\n--- printed\n{printed}"
        ));
    }
    let reprinted = again.to_string();
    if printed != reprinted {
        return Err(format!(
            "printing is not a fixed point\n--- printed\n{printed}\n--- printed again\n{reprinted}"
        ));
    }
    Ok(())
}
