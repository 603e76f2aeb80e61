#![no_main]
//! Auvik's warranty and lifecycle listings (`/v1/inventory/device/warranty` and
//! `/v1/inventory/device/lifecycle`): reports or an error, never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = std::str::from_utf8(data) {
        let _ = assetd::vendors::auvik::decoders::lifecycle(body, true);
        let _ = assetd::vendors::auvik::decoders::lifecycle(body, false);
    }
});
