#![no_main]
//! The configuration document parser.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = authorizer::Config::from_json(text);
    }
});
