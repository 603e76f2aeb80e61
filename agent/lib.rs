//! assetd: an on-prem agent that syncs MSP hardware assets from vendor APIs into SQLite
//! and serves them over gRPC. The outward contract is `docs/CONTRACT.md` (comments cite it
//! as `CONTRACT §N`); `docs/ARCHITECTURE.md` maps the modules, what each must never do,
//! and the invariants they keep together.
//!
//! One concern per module: `config` (+ `secret`) reads the file, `store` owns SQLite
//! (`idset` holds a run's seen assets), `vendors` talk to the vendor APIs and produce
//! `model` records, `sync` schedules and runs them, `rpc` adapts the domain to gRPC
//! (`wire` encodes ListAssets' pages by hand), `server` binds the listeners (`tls` and
//! `auth` guard the TCP ones), `watch` reloads the config, `daemon` runs it all.
//! Operations: `notify` speaks systemd's notification protocol and `supervise` decides
//! what to tell it (STATUS=, watchdog); `logging` picks where logs go; `daemonize` forks
//! with a pidfile; `docs` makes man pages and completions; `heap` caps glibc's arenas so
//! an idle agent stays small. `sim` holds the vendor simulators used by tests and the demo.
//!
//! `metrics` counts what runs and vendor requests did, for Prometheus.

pub mod agent;
pub mod auth;
pub mod clients;
pub mod config;
pub mod daemon;
pub mod daemonize;
pub mod demo;
pub mod devices;
pub mod docs;
pub mod heap;
pub mod idset;
pub mod logging;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod proto;
pub mod rpc;
pub mod secret;
pub mod server;
pub mod sim;
pub mod store;
pub mod supervise;
pub mod sync;
pub mod tls;
pub mod vendors;
pub mod watch;
pub mod wire;
