//! The generated gRPC types of `proto/assetd/v1/` (`assetd.proto`, `events.proto`).

#![allow(clippy::all, clippy::pedantic, missing_docs)]

tonic::include_proto!("assetd.v1");

/// Hand-written, the same message (`build.rs` names it with `extern_path`).
pub use crate::api::wire::ListAssetsResponse;

/// The encoded descriptors of the API, served by gRPC reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] = tonic::include_file_descriptor_set!("assetd_descriptor");
