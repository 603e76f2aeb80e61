//! Property tests: the config parser, every connector's decoders and every RPC's request
//! validation, each fed arbitrary and hostile input, must answer with a value or an error
//! and never panic, overflow the stack or answer `INTERNAL` (issue 21, "Beyond fixes").
//!
//! They run in plain `cargo test` (`cargo test --test properties`), deterministic and quick:
//! every property runs a fixed number of cases from one fixed seed (`fixed` below). To look
//! further by hand, `ASSETD_PROPTEST_SEED=N` picks another seed and `ASSETD_PROPTEST_CASES=N`
//! runs N cases per property; a failure prints the smallest input proptest found, which then
//! becomes an explicit test beside the property (as the regressions in each module are).
//! The fuzz targets in `fuzz/` run the same decoders under libFuzzer, without a bound.

mod config;
mod decoders;
mod rpc;

use proptest::test_runner::{Config, RngSeed};

/// The seed every property starts from unless `ASSETD_PROPTEST_SEED` says otherwise.
const SEED: u64 = 0x0a55_e7d2_1f02_2026;

/// A property's configuration: `cases` cases from a fixed seed. Proptest 1.x takes the seed
/// as `rng_seed: RngSeed::Fixed(n)` (without it every run draws a new seed, and
/// `PROPTEST_RNG_SEED` could change it from outside); `failure_persistence: None` writes no
/// `proptest-regressions/` files, since a failure found is kept as an explicit test instead.
/// `cases` is set here, so `PROPTEST_CASES` in the environment does not change a CI run.
pub fn fixed(cases: u32) -> Config {
    let env = |name: &str| std::env::var(name).ok().and_then(|v| v.parse::<u64>().ok());
    let seed = env("ASSETD_PROPTEST_SEED").unwrap_or(SEED);
    let cases = env("ASSETD_PROPTEST_CASES").map_or(cases, |n| n as u32);
    Config {
        cases,
        rng_seed: RngSeed::Fixed(seed),
        failure_persistence: None,
        // Shrinking a failure stays bounded too, so a failing run still ends promptly.
        max_shrink_iters: 4096,
        ..Config::default()
    }
}
