#![no_main]
//! Syncro's asset pages (`/api/v1/customer_assets`, free-form `properties` included):
//! records or an error, and the lifecycle dates of the custom properties, never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = std::str::from_utf8(data) {
        let _ = assetd::vendors::syncro::decoders::assets(body);
        let _ = assetd::vendors::syncro::decoders::asset_dates(
            body,
            Some("Warranty Expires"),
            Some("Purchase Date"),
        );
    }
});
