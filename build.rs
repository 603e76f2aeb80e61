//! Compiles `proto/` into Rust with a vendored `protoc`, so a fresh machine needs no system protoc.
//!
//! Two sets come out of the one `.proto`: the agent's (server and client, with its
//! hand-written `ListAssetsResponse`), and assetctl's (`client/`, clients only, every message
//! generated), so assetctl builds against the API alone and never against the agent's library.

use std::{env, path::PathBuf};

fn protoc() -> Result<tonic_prost_build::Config, Box<dyn std::error::Error>> {
    let mut config = tonic_prost_build::Config::new();
    // A system protoc named by $PROTOC wins; otherwise use the vendored one.
    if env::var_os("PROTOC").is_none() {
        config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    }
    Ok(config)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    let proto = [
        "proto/assetd/v1/assetd.proto",
        "proto/assetd/v1/events.proto",
    ];
    tonic_prost_build::configure()
        // Written by hand so the agent can send rows it encoded itself (agent/api/wire.rs says
        // why); the same message on the wire.
        .extern_path(
            ".assetd.v1.ListAssetsResponse",
            "crate::api::wire::ListAssetsResponse",
        )
        .file_descriptor_set_path(out_dir.join("assetd_descriptor.bin"))
        .compile_with_config(protoc()?, &proto, &["proto"])?;
    let client = out_dir.join("client");
    std::fs::create_dir_all(&client)?;
    tonic_prost_build::configure()
        .build_server(false)
        .out_dir(&client)
        .compile_with_config(protoc()?, &proto, &["proto"])?;
    Ok(())
}
