#![no_main]
//! The single-record lookups that confirm a removal (Auvik, Syncro) and the error bodies
//! every vendor's messages quote (read lossily, as the HTTP client reads failures): an
//! answer, never a panic.

use assetd::vendors::{auvik, syncro};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let lossy = String::from_utf8_lossy(data);
    let _ = auvik::decoders::error_detail(&lossy);
    let _ = syncro::decoders::error_detail(&lossy);
    if let Ok(body) = std::str::from_utf8(data) {
        let _ = auvik::decoders::lookup(body, "1");
        let _ = syncro::decoders::lookup(body);
    }
});
