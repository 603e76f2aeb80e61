//! The gRPC API: `rpc` adapts the service to the three services of
//! `proto/assetd/v1/assetd.proto` (validate, call, convert, map errors), `events` to the
//! `EventService` of `events.proto`, `wire` encodes ListAssets' pages by hand from database
//! rows, `proto` is the generated code.
//!
//! Nothing here makes an HTTP call or writes SQL: handlers ask the service.

pub mod events;
pub mod proto;
pub mod rpc;
pub mod wire;
