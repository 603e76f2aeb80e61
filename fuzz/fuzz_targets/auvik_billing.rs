#![no_main]
//! Auvik's billing usage (`/v1/billing/usage/client`): figures or an error, never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(body) = std::str::from_utf8(data) {
        let from = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).expect("a date");
        let _ = assetd::vendors::auvik::decoders::billing(body, from);
    }
});
