#![no_main]
//! Auvik's three tenant lists (`/v1/tenants`, `/v1/tenants/detail`, and the available ones),
//! as one input split at 0xFF bytes (never in UTF-8): the tenants a run reads, or an error.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.split(|b| *b == 0xff).map(std::str::from_utf8);
    let Some(Ok(list)) = parts.next() else { return };
    let details = parts.next().and_then(Result::ok);
    let available = parts.next().and_then(Result::ok);
    let _ = assetd::vendors::auvik::decoders::tenants(list, details, available);
});
