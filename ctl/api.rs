//! The gRPC API as assetctl sees it: the client code generated from
//! `proto/assetd/v1/assetd.proto` (by `build.rs`, clients only). assetctl is a gRPC client of
//! the agent and nothing else: it uses no part of the agent's library.

#![allow(clippy::all, clippy::pedantic, missing_docs)]

include!(concat!(env!("OUT_DIR"), "/client/assetd.v1.rs"));
