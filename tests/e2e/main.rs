//! The end-to-end suite, one test binary with a module per area (as cargo's `testsuite` and
//! rathole's tests are laid out), so the suite links once and the harness in `tests/common`
//! is compiled once, whole: an unused helper there is a warning, as anywhere else.
//!
//! Every area spawns the real `assetd` and `assetctl` (`CARGO_BIN_EXE_*`) against the
//! in-process simulators. A test is named by its module: `cargo test --test e2e reload::`
//! runs the reload area, `cargo test --test e2e crash::kill_9` one test.
//!
//! All areas share this one process and libtest runs their tests on parallel threads, so no
//! test may change process-wide state (environment variables, the current directory, signal
//! dispositions): what a child needs (`XDG_RUNTIME_DIR`, `NOTIFY_SOCKET`, `ASSETD_*`,
//! `RUST_LOG`) goes on its `Command`. Signals go to children only. Each test works in its
//! own temporary directory, on port 0 and on its own socket, so areas do not collide.
//!
//! The checks against the vendors' published specs are not here: `vendor_specs` and
//! `python_interop` stay test targets of their own, which CI runs by name with the specs
//! (`.ci/run`).

#[path = "../common/mod.rs"]
mod common;

// The agent against each vendor's simulator, and all three together.
mod auvik;
mod counts;
mod lifecycle;
mod passportal;
mod real_vendors;
mod syncro;

// Reliability (RELIABILITY.md): faults, crashes and full disks, reloads, load, bad input,
// and the event log's delivery (events).
mod crash;
mod events;
mod faults;
mod fuzz;
mod load;
mod reload;

// Operations and security: systemd, daemonizing, logs, metrics, secrets, TLS, permissions,
// what other local users can do to the agent and through it.
mod credentials;
mod daemonize;
mod local_access;
mod logging;
mod metrics;
mod perms;
mod secrets;
mod systemd;
mod tls;

// The command line: assetctl's behaviour, its JSON contract, every --help, the demo.
mod cli;
mod cli_help_snapshots;
mod cli_json;
mod demo;

// The repository itself: the Debian package, the layer rule of ARCHITECTURE.md on the `use`
// lines, and no file reaching outside the repository.
mod layers;
mod packaging;
mod stands_alone;
