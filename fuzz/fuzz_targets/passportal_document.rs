#![no_main]
//! A Passportal document (`/api/v2/documents/{id}`) for a list item, as one input split at
//! the first 0xFF byte (never in UTF-8): the item's JSON, then the document's body. A
//! record (and its lifecycle dates), "not found", or an error, never a panic.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (item, body) = match data.iter().position(|b| *b == 0xff) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b"{\"id\":1}"[..], data),
    };
    let (Ok(item), Ok(body)) = (std::str::from_utf8(item), std::str::from_utf8(body)) else {
        return;
    };
    let item: serde_json::Value = serde_json::from_str(item).unwrap_or_default();
    let _ = assetd::vendors::passportal::decoders::document(&item, body);
    let _ = assetd::vendors::passportal::decoders::document_dates(&item, body);
});
