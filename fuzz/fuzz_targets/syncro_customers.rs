#![no_main]
//! Syncro's customer pages (`/api/v1/customers`): clients or an error, never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = std::str::from_utf8(data) {
        let _ = assetd::vendors::syncro::decoders::customers(body);
    }
});
