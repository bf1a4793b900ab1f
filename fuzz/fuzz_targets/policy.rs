//! Any bytes as a policy: the parser and the checker must never panic or hang.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(policy) = changegate::Policy::parse(text, "fuzz.gate") {
        // A policy that checks must also give its calendar without panicking.
        let inventory = changegate::Inventory::empty();
        let _ = policy.calendar(&inventory, 1_800_000_000, 1_800_000_000 + 7 * 86_400);
    }
});
