//! `assetctl`: the command-line client of assetd. It speaks only the gRPC API
//! (`proto/assetd/v1/assetd.proto`), over the agent's Unix socket or a TCP endpoint.
//!
//! - `cli`: the verbs and flags; bad input is refused here, before connecting.
//! - `connect`: socket discovery, the channel, the bearer-token interceptor.
//! - `commands`, `sync`, `status`, `events`: one function per verb.
//! - `convert`: proto → printed records; its doc comment is the `-o json` contract.
//! - `output`: table, JSON and CSV rendering.
//! - `error`: one-line messages and exit codes (0 ok; 1 error; 2 usage or refused;
//!   3 agent not running or unreachable; 4 access denied; 5 not found; 6 unsupported by
//!   the agent; 7 a sync run failed or was cancelled).

/// The generated API, as `proto`: what every other module uses to talk to the agent.
mod api;
mod cli;
mod commands;
mod connect;
mod convert;
/// Man pages and completions from clap definitions: the same generator as assetd's, compiled
/// into each binary (it is clap code, not the agent's). assetctl's pages have no extra
/// sections, so the part that writes them goes unused here.
#[path = "../agent/docs.rs"]
#[allow(dead_code)]
mod docs;
mod error;
mod events;
mod output;
mod status;
mod sync;

use api as proto;

use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches};

use cli::{Cli, Command};

fn main() -> ExitCode {
    // `generate man DIR` (hidden) writes the man pages for the Debian package, from the
    // very definitions parsed here.
    let matches = docs::with_generate(Cli::command()).get_matches();
    if let Some(done) = docs::generate(&matches, Cli::command(), &[]) {
        return match done {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("assetctl: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    if let Command::Completions { shell } = cli.command {
        clap_complete::generate(
            shell,
            &mut Cli::command(),
            "assetctl",
            &mut std::io::stdout(),
        );
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("assetctl: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let code = match runtime.block_on(run(cli)) {
        Ok(code) => code,
        Err(err) if error::is_broken_pipe(&err) => error::EXIT_OK,
        Err(err) => {
            eprintln!("assetctl: {}", error::one_line(&err));
            error::exit_code(&err)
        }
    };
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}

async fn run(cli: Cli) -> anyhow::Result<i32> {
    let opts = connect::Options {
        socket: cli.socket.as_deref(),
        endpoint: cli.endpoint.as_ref(),
        token_file: cli.token_file.as_deref(),
        ca_file: cli.ca_file.as_deref(),
        cert_file: cli.cert_file.as_deref(),
        key_file: cli.key_file.as_deref(),
    };
    let agent = connect::connect(&opts).await?;
    let ctx = commands::Ctx {
        format: cli.output,
        agent,
    };
    match commands::run(&ctx, cli.command).await {
        Ok(code) => Ok(code),
        Err(e) => Err(connect::explain(e, &ctx.agent, &opts).await),
    }
}
