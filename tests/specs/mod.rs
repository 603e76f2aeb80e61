//! The vendors' published specs, found through one variable, `ASSETD_VENDOR_SPECS` (README,
//! "Testing"): the folder holding `auvik-openapi-v1.json`, `auvik-openapi-v2.json` and
//! `syncro-swagger.json`. Passportal publishes no machine-readable spec; its documented samples
//! are in the team's notes, `research/passportal.md` in the folder that holds the specs'
//! folder. Nothing else outside the repository is read by any test.
//!
//! Without the variable (or the files) the checks that need them are skipped, each test
//! binary saying so in one line on stderr.
//!
//! The module of the two targets that read the specs, `vendor_specs` and `python_interop`
//! (CI runs them by name with the specs): what both use is here; `AUVIK_V2` is
//! `vendor_specs`' alone and `passportal_notes` `python_interop`'s.

use std::io::Write;
use std::path::PathBuf;

/// The variable naming the folder of the vendors' specs.
pub const VAR: &str = "ASSETD_VENDOR_SPECS";
/// Auvik's OpenAPI document, API v1.
pub const AUVIK_V1: &str = "auvik-openapi-v1.json";
/// Syncro's swagger document.
pub const SYNCRO: &str = "syncro-swagger.json";

/// The folder `$ASSETD_VENDOR_SPECS` names, as an absolute path (relative values are taken
/// from the current directory, which is the repository's root under `cargo test`); `None`
/// when the variable is unset or empty.
pub fn dir() -> Option<PathBuf> {
    let value = PathBuf::from(std::env::var_os(VAR).filter(|v| !v.is_empty())?);
    Some(
        value
            .canonicalize()
            .or_else(|_| std::path::absolute(&value))
            .unwrap_or(value),
    )
}

/// Writes one line on the process's real stderr. libtest captures `eprintln!` of a passing
/// test, so a skip said that way would never be seen.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stderr(), "{line}");
}
