//! Any bytes as a policy: the parser and the checker must never panic or hang. The
//! first byte, when it is below 0x20, picks a rewrite that plants line terminators
//! (CR, NEL, U+2028, ...) or bidirectional/invisible characters at every `\n`, so
//! policies with every Unicode line break and hidden character are covered.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    const PLANTED: [&str; 16] = [
        "\r", "\r\n", "\u{85}", "\u{2028}", "\u{2029}", "\u{0B}", "\u{0C}", "\u{FEFF}",
        "\u{202E}", "\u{2066}", "\u{200B}", "\u{200D}", "\u{061C}", "\u{E0041}", "\u{1B}", "\n\r",
    ];
    let planted;
    let text = match text.as_bytes().first() {
        Some(&b) if b < 0x20 && b != b'\n' && b != b'\t' => {
            planted = text[1..].replace('\n', PLANTED[usize::from(b) % PLANTED.len()]);
            planted.as_str()
        }
        _ => text,
    };
    if let Ok(policy) = changegate::Policy::parse(text, "fuzz.gate") {
        // A policy that checks must also give its calendar without panicking.
        let inventory = changegate::Inventory::empty();
        let _ = policy.calendar(&inventory, 1_800_000_000, 1_800_000_000 + 7 * 86_400);
    }
});
