#![no_main]
//! Auvik's device info pages (`/v1/inventory/device/info` with `include=deviceDetail`): any
//! body a successful response may carry (valid UTF-8, as the HTTP client hands it on) is a
//! page or an error, never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = std::str::from_utf8(data) {
        let _ = assetd::vendors::auvik::decoders::devices(body, "tenant-1");
    }
});
