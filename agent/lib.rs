//! assetd: an on-prem agent that syncs MSP hardware assets from vendor APIs into SQLite
//! and serves them over gRPC. The outward contract is `docs/CONTRACT.md` (comments cite it
//! as `CONTRACT §N`); `docs/ARCHITECTURE.md` maps the modules, what each must never do,
//! and the invariants they keep together.
//!
//! One concern per module, in layers that point one way (`tests/e2e/layers.rs` holds the code to
//! them): `model` (+ `listed`, the list fields' encoded form) below `config` (+ `secret`,
//! `config::tls`) which reads the file; `store` owns SQLite (`idset` holds a run's seen
//! assets) and `vendors` talk to the vendor APIs and produce `model` records; `sync`
//! schedules and runs them; `service` is what the API offers; `api` adapts it to gRPC
//! (`api::wire` encodes ListAssets' pages by hand); `server` binds the listeners (and guards
//! the TCP ones with TLS and `server::auth`); `watch` reloads the config, `daemon` runs it all.
//! Operations: `notify` speaks systemd's notification protocol and `supervise` decides
//! what to tell it (STATUS=, watchdog); `logging` picks where logs go; `daemonize` forks
//! with a pidfile; `docs` makes man pages and completions; `heap` caps glibc's arenas so
//! an idle agent stays small. `sim` holds the vendor simulators used by tests and the demo.
//!
//! `metrics` counts what runs and vendor requests did, for Prometheus.

pub mod api;
pub mod clients;
pub mod config;
pub mod daemon;
pub mod daemonize;
pub mod demo;
pub mod devices;
pub mod docs;
pub mod event;
pub mod heap;
pub mod hooks;
pub mod idset;
pub mod listed;
pub mod logging;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod secret;
pub mod server;
pub mod service;
pub mod sim;
pub mod store;
pub mod supervise;
pub mod sync;
pub mod vendors;
pub mod watch;

/// The API's generated types, the name other crates (the tests, the benchmarks) know.
pub use api::proto;
