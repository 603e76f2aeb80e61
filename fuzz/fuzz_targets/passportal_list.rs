#![no_main]
//! Passportal's list pages (`/api/v2/documents/clients`, `/api/v2/documents`): items and
//! clients, or an error, never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = std::str::from_utf8(data) {
        let _ = assetd::vendors::passportal::decoders::list_page(body);
        let _ = assetd::vendors::passportal::decoders::clients(body);
    }
});
