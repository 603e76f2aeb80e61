//! The command line: clap types and the parsers that reject bad input before any
//! connection is made (non-numeric ids, bad durations, unknown categories, malformed
//! months, source names and endpoints).

use std::path::PathBuf;
use std::time::Duration;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::convert::{category_from_name, category_names};
use crate::output::Format;
use crate::proto::Category;

const TOP_AFTER_HELP: &str = "\
Finding the agent: --socket or --endpoint, else $ASSETD_ENDPOINT, else $ASSETD_SOCKET, else
/run/assetd/assetd.sock if it exists, else the per-user socket of `assetd demo`
($XDG_RUNTIME_DIR/assetd/assetd.sock, or /tmp/assetd-$UID/assetd.sock without XDG_RUNTIME_DIR),
used only when its directory is yours and closed to everyone else.

Over TCP the agent wants a bearer token (--token-file) and, off loopback, TLS (https://):
  assetctl --endpoint https://assetd.msp.example:7443 --token-file ~/.config/assetd/token \\
           --ca-file /etc/assetd/tls/ca.pem status

Exit codes: 0 ok; 1 error; 2 bad usage or refused (e.g. purge without --yes);
3 agent not running or unreachable; 4 access denied (socket permissions, token, TLS trust,
an untrusted per-user socket directory);
5 not found; 6 the agent does not support the request; 7 a sync run failed or was cancelled.

Examples:
  assetctl status
  assetctl assets list --client 'Contoso Ltd' --category firewall
  assetctl -o json counts --period 2025-03
  assetctl sync auvik --full --wait";

/// Query and control assetd, the MSP asset agent, over its gRPC API.
#[derive(Debug, Parser)]
#[command(name = "assetctl", version, after_help = TOP_AFTER_HELP)]
pub struct Cli {
    /// The agent's Unix socket.
    #[arg(long, global = true, value_name = "PATH", conflicts_with = "endpoint")]
    pub socket: Option<PathBuf>,

    /// The agent's TCP listener: https://HOST:PORT (TLS), http://HOST:PORT (loopback plain
    /// text only), or unix:///PATH. Default: $ASSETD_ENDPOINT, else the Unix socket.
    #[arg(long, global = true, value_name = "URL", value_parser = parse_endpoint)]
    pub endpoint: Option<EndpointArg>,

    /// A file holding the bearer token to present to a tcp endpoint (sent as
    /// `authorization: Bearer …`; never over a Unix socket); it must not be readable by
    /// others.
    #[arg(long, global = true, value_name = "PATH", env = "ASSETD_TOKEN_FILE")]
    pub token_file: Option<PathBuf>,

    /// With https://: trust only this CA (PEM) for the agent's certificate, instead of the
    /// system's CAs.
    #[arg(long, global = true, value_name = "PATH", env = "ASSETD_CA_FILE")]
    pub ca_file: Option<PathBuf>,

    /// With https://: a client certificate (PEM) for an agent that requires one
    /// (`tls_client_ca`); needs --key-file.
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        env = "ASSETD_CERT_FILE",
        requires = "key_file"
    )]
    pub cert_file: Option<PathBuf>,

    /// The private key (PEM) of --cert-file; it must not be readable by others.
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        env = "ASSETD_KEY_FILE",
        requires = "cert_file"
    )]
    pub key_file: Option<PathBuf>,

    /// Output format.
    #[arg(
        short = 'o',
        long = "output",
        global = true,
        value_enum,
        default_value_t = Format::Table
    )]
    pub output: Format,

    #[command(subcommand)]
    pub command: Command,
}

/// Where `--endpoint` points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndpointArg {
    /// `http://host:port`, normalised without a trailing slash.
    Http(String),
    /// `https://host:port`, normalised without a trailing slash.
    Https(String),
    /// `unix:///path`.
    Unix(PathBuf),
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// The agent's health: config, database, and every source's state; what needs attention.
    #[command(after_help = "Example:\n  assetctl status\n  assetctl -o json status")]
    Status,

    /// The configured sources, their state, last and next run.
    #[command(after_help = "Example:\n  assetctl sources")]
    Sources,

    /// assetd clients and the source clients they group.
    #[command(
        after_help = "Examples:\n  assetctl clients\n  assetctl clients --unmapped   # with suggested [[client]] tables"
    )]
    Clients {
        /// Only clients present in a single source, with a suggested [[client]] table.
        #[arg(long)]
        unmapped: bool,
    },

    /// List, show and trace assets.
    #[command(
        subcommand,
        after_help = "Examples:\n  assetctl assets list --client 'Contoso Ltd'\n  assetctl assets get 42\n  assetctl assets history 42"
    )]
    Assets(AssetsCommand),

    /// Physical devices, merged across sources by serial number and MAC address.
    #[command(
        after_help = "Examples:\n  assetctl devices --client 'Contoso Ltd'\n  assetctl devices --warranty-expires-within 90d"
    )]
    Devices {
        /// Only devices of this assetd client (exact name).
        #[arg(long, value_name = "CLIENT")]
        client: Option<String>,
        #[command(flatten)]
        lifecycle: LifecycleArgs,
    },

    /// Warranty and support per client: devices out of warranty, expiring soon, of unknown
    /// warranty, out of vendor support.
    #[command(after_help = LIFECYCLE_AFTER_HELP)]
    Lifecycle {
        /// Only this assetd client (exact name).
        #[arg(long, value_name = "CLIENT")]
        client: Option<String>,
        /// More "expiring within" windows besides 90d, 180d and 365d, comma-separated
        /// (whole days; e.g. 30d,120d).
        #[arg(
            long,
            value_name = "DUR,...",
            value_delimiter = ',',
            value_parser = parse_window
        )]
        within: Vec<Duration>,
    },

    /// Billable device counts per client (Auvik services).
    #[command(
        after_help = "Examples:\n  assetctl counts\n  assetctl counts --client 'Contoso Ltd' --period 2025-03   # daily average and maximum"
    )]
    Counts {
        /// Only this assetd client (exact name).
        #[arg(long, value_name = "CLIENT")]
        client: Option<String>,
        /// A billing month: the daily average and maximum over it instead of current counts.
        #[arg(long, value_name = "YYYY-MM", value_parser = parse_period)]
        period: Option<String>,
    },

    /// Start a sync now (joins a run already in progress).
    #[command(
        after_help = "Examples:\n  assetctl sync                  # every source\n  assetctl sync auvik syncro --full --wait\n  assetctl sync syncro --full --accept-removals --wait   # apply held removals"
    )]
    Sync {
        /// Sources to sync; none means every configured source.
        #[arg(value_name = "SOURCE", value_parser = parse_source_name)]
        sources: Vec<String>,
        /// A full run, which also detects removed assets.
        #[arg(long)]
        full: bool,
        /// Apply the removals the full run finds even when there are more than the source's
        /// `max_removals` (as after held removals); needs --full and the SOURCE named.
        #[arg(long, requires = "full")]
        accept_removals: bool,
        /// Follow the runs until they finish; exit non-zero if one failed or was cancelled.
        #[arg(long)]
        wait: bool,
    },

    /// Sync runs, newest first.
    #[command(after_help = "Examples:\n  assetctl runs\n  assetctl runs --source auvik --limit 10")]
    Runs {
        /// Only runs of this source.
        #[arg(long, value_name = "SOURCE", value_parser = parse_source_name)]
        source: Option<String>,
        /// At most this many runs.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
        limit: Option<u64>,
    },

    /// Every asset as a stream to stdout (JSON array or CSV).
    #[command(
        after_help = "Examples:\n  assetctl export > assets.json\n  assetctl export --format csv > assets.csv"
    )]
    Export {
        /// json (one array) or csv (header row; lists joined with ';'). Default: csv with
        /// `-o csv`, else json.
        #[arg(long, value_enum, value_name = "FORMAT")]
        format: Option<ExportFormat>,
        /// Also export assets that a full sync found removed.
        #[arg(long)]
        include_removed: bool,
    },

    /// What changed, from the agent's durable event log: replayed from a cursor, then followed.
    #[command(
        after_help = "Examples:\n  assetctl events                         # every retained event\n  assetctl events --follow --type asset.removed\n  assetctl -o json events --after 1200 --follow   # JSON Lines, resumable from the last id\n\nWithout --after, --follow starts from now (like tail -f); --after 0 replays every retained\nevent first. With --follow, a restart of the agent is ridden out: assetctl reconnects and\nresumes after the last event it printed. The types and their fields: docs/events.md."
    )]
    Events {
        /// Only events after this id (the last one already seen); 0 for every retained event.
        #[arg(long, value_name = "ID", value_parser = clap::value_parser!(u64))]
        after: Option<u64>,
        /// Keep printing new events as they happen, until interrupted.
        #[arg(long)]
        follow: bool,
        /// Only events of this type (repeatable).
        #[arg(long = "type", value_name = "TYPE", value_parser = PossibleValuesParser::new(EVENT_TYPES))]
        types: Vec<String>,
        /// Only events of this source (repeatable).
        #[arg(long = "source", value_name = "SOURCE", value_parser = parse_source_name)]
        sources: Vec<String>,
    },

    /// The configured [[hook]]s: last delivery, backlog, last error; `retry` one that failed.
    #[command(
        after_help = "Examples:\n  assetctl hooks\n  assetctl hooks retry psa   # a failing hook tries its next event now"
    )]
    Hooks {
        #[command(subcommand)]
        command: Option<HooksCommand>,
    },

    /// Delete every asset, change and run of a source (e.g. one removed from the config).
    #[command(after_help = "Example:\n  assetctl purge --source old-auvik --yes")]
    Purge {
        /// The source to purge.
        #[arg(long, value_name = "SOURCE", value_parser = parse_source_name)]
        source: String,
        /// Confirm: without it nothing is deleted.
        #[arg(long)]
        yes: bool,
    },

    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  assetctl completions bash > /etc/bash_completion.d/assetctl\n  assetctl completions zsh > \"${fpath[1]}/_assetctl\"\n  assetctl completions fish > ~/.config/fish/completions/assetctl.fish"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub enum HooksCommand {
    /// Clear a failing hook and try its next event now (its backlog follows, in order).
    #[command(after_help = "Example:\n  assetctl hooks retry psa")]
    Retry {
        /// The hook's name, as in the config.
        #[arg(value_name = "NAME", value_parser = parse_source_name)]
        name: String,
    },
}

/// The event types of the agent's log (docs/events.md), the names of its `Event.type`.
pub const EVENT_TYPES: [&str; 9] = [
    "run.started",
    "run.finished",
    "source.state_changed",
    "asset.added",
    "asset.changed",
    "asset.removed",
    "removals.held",
    "counts.changed",
    "warranty.expiring",
];

#[derive(Debug, Subcommand)]
pub enum AssetsCommand {
    /// List assets (present ones, unless --include-removed).
    #[command(
        after_help = "Examples:\n  assetctl assets list --source auvik --category switch\n  assetctl assets list --query 10.0.0. --limit 20\n  assetctl assets list --not-seen-since 30d -o csv"
    )]
    List(ListArgs),

    /// Show one asset.
    #[command(after_help = "Example:\n  assetctl assets get 42")]
    Get {
        /// The asset id (from `assets list`).
        #[arg(value_name = "ID", value_parser = clap::value_parser!(i64).range(1..))]
        id: i64,
    },

    /// The field-level change history of one asset.
    #[command(after_help = "Example:\n  assetctl assets history 42")]
    History {
        /// The asset id (from `assets list`).
        #[arg(value_name = "ID", value_parser = clap::value_parser!(i64).range(1..))]
        id: i64,
    },
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only assets of this source.
    #[arg(long, value_name = "SOURCE", value_parser = parse_source_name)]
    pub source: Option<String>,
    /// Only assets of this assetd client (exact name).
    #[arg(long, value_name = "CLIENT")]
    pub client: Option<String>,
    /// Only assets of this category.
    #[arg(
        long,
        value_name = "CATEGORY",
        ignore_case = true,
        value_parser = category_parser()
    )]
    pub category: Option<Category>,
    /// Case-insensitive substring of name, serial, model, manufacturer, IP, MAC or external id.
    #[arg(long, value_name = "TEXT", value_parser = parse_query)]
    pub query: Option<String>,
    /// Only assets the vendor has not seen online for at least this long (e.g. 30d, 12h).
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub not_seen_since: Option<Duration>,
    /// Also list assets that a full sync found removed.
    #[arg(long)]
    pub include_removed: bool,
    #[command(flatten)]
    pub lifecycle: LifecycleArgs,
    /// At most this many assets.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub limit: Option<u64>,
}

/// The lifecycle filters of `assets list` and `devices` (on the agent's UTC date).
#[derive(Debug, Args)]
pub struct LifecycleArgs {
    /// Only what is still under warranty that expires within this long, today included
    /// (e.g. 90d: today <= warranty_expires <= today + 90 days).
    #[arg(long, value_name = "DUR", value_parser = parse_window, conflicts_with = "warranty_expired")]
    pub warranty_expires_within: Option<Duration>,
    /// Only what is out of warranty (warranty_status expired).
    #[arg(long)]
    pub warranty_expired: bool,
    /// Only what is at least this old, from its purchase date (e.g. 5y, 1460d).
    #[arg(long, value_name = "DUR", value_parser = parse_window)]
    pub older_than: Option<Duration>,
}

const LIFECYCLE_AFTER_HELP: &str = "\
Counts are of devices (assets merged across sources) on the agent's UTC date. A device takes
the earliest purchase date and the latest warranty expiry of its assets. Windows are
cumulative: EXP 180D includes the devices of EXP 90D; a warranty expiring today is expiring,
one that expired yesterday is expired. Excluded clients are left out, as in `counts`.

Examples:
  assetctl lifecycle
  assetctl lifecycle --client 'Contoso Ltd' --within 30d,120d
  assetctl assets list --warranty-expires-within 90d --client 'Contoso Ltd'";

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    Json,
    Csv,
}

fn category_parser() -> impl TypedValueParser<Value = Category> {
    PossibleValuesParser::new(category_names()).try_map(|name: String| {
        category_from_name(&name).ok_or_else(|| format!("unknown category {name:?}"))
    })
}

/// `[a-z0-9-]+`, as config source (and hook) names are.
pub fn parse_source_name(s: &str) -> Result<String, String> {
    if !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        Ok(s.to_owned())
    } else {
        Err("a source name is lowercase letters, digits and '-' (as in the config's [[source]] name)".to_owned())
    }
}

/// A billing month `YYYY-MM`.
pub fn parse_period(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let digits = |r: &[u8]| r.iter().all(u8::is_ascii_digit);
    if b.len() == 7 && b[4] == b'-' && digits(&b[..4]) && digits(&b[5..]) {
        let month: u32 = s[5..].parse().map_err(|_| "bad month".to_owned())?;
        if (1..=12).contains(&month) {
            return Ok(s.to_owned());
        }
    }
    Err("expected a billing month as YYYY-MM, e.g. 2025-03".to_owned())
}

/// A humantime duration such as `30d`, `12h`, `1h 30m`.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    humantime::parse_duration(s.trim())
        .map_err(|e| format!("expected a duration such as 30d, 12h or 1h30m ({e})"))
}

/// A lifecycle duration: a humantime duration of whole days up to a century (`90d`, `1y`,
/// `6months`); dates have no time of day, so a part of a day is dropped.
pub fn parse_window(s: &str) -> Result<Duration, String> {
    let d = parse_duration(s)?;
    if d.as_secs() / 86_400 > 36_525 {
        return Err("at most 100 years".to_owned());
    }
    Ok(d)
}

fn parse_query(s: &str) -> Result<String, String> {
    if s.chars().count() > 200 {
        Err("a query is at most 200 characters".to_owned())
    } else {
        Ok(s.to_owned())
    }
}

/// `http://host:port` or `unix:///path`. `https://` is refused until TLS support lands.
pub fn parse_endpoint(s: &str) -> Result<EndpointArg, String> {
    if let Some(path) = s
        .strip_prefix("unix://")
        .or_else(|| s.strip_prefix("unix:"))
    {
        if path.is_empty() {
            return Err("expected unix:///PATH/TO/SOCKET".to_owned());
        }
        return Ok(EndpointArg::Unix(PathBuf::from(path)));
    }
    let (scheme, rest) = match (s.strip_prefix("https://"), s.strip_prefix("http://")) {
        (Some(rest), _) => ("https", rest),
        (None, Some(rest)) => ("http", rest),
        (None, None) => {
            return Err(
                "expected https://HOST:PORT, http://HOST:PORT (loopback) or unix:///PATH"
                    .to_owned(),
            );
        }
    };
    let uri: tonic::transport::Uri = s
        .parse()
        .map_err(|e| format!("not a valid URL ({e}); expected {scheme}://HOST:PORT"))?;
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("expected {scheme}://HOST:PORT"));
    }
    if uri.port().is_none() {
        return Err(format!(
            "expected {scheme}://HOST:PORT with the port of the agent's tcp:// listener, e.g. {scheme}://{}:7443",
            uri.host().unwrap_or("HOST")
        ));
    }
    if uri.path() != "/" && !uri.path().is_empty() {
        return Err(format!("expected {scheme}://HOST:PORT without a path"));
    }
    let normalised = format!("{scheme}://{}", rest.trim_end_matches('/'));
    Ok(if scheme == "https" {
        EndpointArg::Https(normalised)
    } else {
        EndpointArg::Http(normalised)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn every_verb_has_an_example() {
        fn walk(cmd: &clap::Command) {
            for sub in cmd.get_subcommands() {
                if sub.get_name() == "help" {
                    continue;
                }
                if sub.has_subcommands() {
                    walk(sub);
                } else {
                    let help = sub
                        .get_after_help()
                        .map(|s| s.to_string())
                        .unwrap_or_default();
                    assert!(
                        help.contains("assetctl "),
                        "{} lacks an example",
                        sub.get_name()
                    );
                }
            }
        }
        walk(&Cli::command());
    }

    #[test]
    fn bad_input_is_rejected_by_clap() {
        for args in [
            &["assetctl", "assets", "get", "abc"][..],
            &["assetctl", "assets", "get", "0"],
            &["assetctl", "assets", "history", "-3"],
            &["assetctl", "assets", "list", "--not-seen-since", "soon"],
            &["assetctl", "assets", "list", "--category", "toaster"],
            &[
                "assetctl",
                "assets",
                "list",
                "--warranty-expires-within",
                "soon",
            ],
            &[
                "assetctl",
                "assets",
                "list",
                "--warranty-expires-within",
                "90d",
                "--warranty-expired",
            ],
            &["assetctl", "assets", "list", "--older-than", "1000years"],
            &["assetctl", "lifecycle", "--within", "30d,later"],
            &["assetctl", "counts", "--period", "2025-13"],
            &["assetctl", "counts", "--period", "25-03"],
            &["assetctl", "sync", "Auvik"],
            &["assetctl", "--endpoint", "https://x", "status"],
            &["assetctl", "--endpoint", "https://x:1/api", "status"],
            &["assetctl", "--endpoint", "tcp://x:1", "status"],
            &["assetctl", "--cert-file", "/c.pem", "status"],
            &["assetctl", "--key-file", "/k.pem", "status"],
            &[
                "assetctl",
                "--socket",
                "/x",
                "--endpoint",
                "http://127.0.0.1:1",
                "status",
            ],
            &["assetctl", "-o", "yaml", "status"],
            &["assetctl", "events", "--type", "run.done"],
            &["assetctl", "events", "--after", "-1"],
            &["assetctl", "hooks", "retry"],
        ] {
            assert!(Cli::try_parse_from(args).is_err(), "{args:?} was accepted");
        }
    }

    #[test]
    fn good_input_parses() {
        let cli = Cli::try_parse_from([
            "assetctl",
            "assets",
            "list",
            "--category",
            "L3_Switch",
            "--not-seen-since",
            "30d",
            "-o",
            "json",
        ])
        .expect("parses");
        assert_eq!(cli.output, Format::Json);
        let Command::Assets(AssetsCommand::List(args)) = cli.command else {
            panic!("wrong command")
        };
        assert_eq!(args.category, Some(Category::L3Switch));
        assert_eq!(args.not_seen_since, Some(Duration::from_secs(30 * 86400)));
        assert_eq!(parse_period("2025-03"), Ok("2025-03".to_owned()));
        assert_eq!(
            parse_endpoint("http://127.0.0.1:7443/"),
            Ok(EndpointArg::Http("http://127.0.0.1:7443".to_owned()))
        );
        assert_eq!(
            parse_endpoint("https://assetd.msp.example:7443"),
            Ok(EndpointArg::Https(
                "https://assetd.msp.example:7443".to_owned()
            ))
        );
        assert_eq!(
            parse_endpoint("https://[::1]:7443/"),
            Ok(EndpointArg::Https("https://[::1]:7443".to_owned()))
        );
        assert_eq!(
            parse_endpoint("unix:///run/x.sock"),
            Ok(EndpointArg::Unix(PathBuf::from("/run/x.sock")))
        );
    }
}
