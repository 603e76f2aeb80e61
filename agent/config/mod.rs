//! The config file (CONTRACT §3): types, loading, and validation with line:column errors.
//!
//! Parsing is two steps. Serde reads the TOML into `raw` structs that mirror the file
//! (`deny_unknown_fields`, every value `Spanned` so later errors can point at it); then
//! `validate` turns them into the typed `Config`, collecting *every* error rather than
//! stopping at the first, because `assetd check-config` should show them all at once.

pub mod check;
pub mod group;
pub mod hook;
pub mod tls;

use crate::vendors::auvik::config::{self as auvik, AuvikConfig};
use crate::vendors::passportal::config::{self as passportal, PassportalConfig};
use crate::vendors::syncro::config::{self as syncro, SyncroConfig};
use check::{Checker, is_plain_name};
pub use check::{ConfigError, ConfigErrors};
pub use hook::{HookConfig, HookTarget};

use crate::secret::{BearerToken, QueryGroup, SecretSpec};
use serde::Deserialize;
use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tls::{ServerTls, TlsPart};
use toml::Spanned;

pub const DEFAULT_CONFIG_PATH: &str = "/etc/assetd/config.toml";
pub const DEFAULT_DATABASE: &str = "/var/lib/assetd/assetd.db";
pub const DEFAULT_SOCKET: &str = "/run/assetd/assetd.sock";

/// A validated config. Secrets are resolved (read from their files, environment or
/// credentials) at load, so a reload notices a changed secret file.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub agent: AgentConfig,
    pub sources: Vec<SourceConfig>,
    pub clients: Vec<ClientGroup>,
    /// `[[hook]]`s: who is told of which events (issue 23).
    pub hooks: Vec<HookConfig>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct AgentConfig {
    pub database: PathBuf,
    pub listen: Vec<Listen>,
    /// The group the Unix sockets belong to (`socket_group`): who may query the agent. Never
    /// one that may read a secret file (refused at load).
    pub socket_group: QueryGroup,
    /// TLS for the TCP listeners (`tls_cert`, `tls_key`, `tls_client_ca`); required for a
    /// non-loopback one. Read and checked at load, so a reload picks up a renewed certificate.
    pub tls: Option<ServerTls>,
    /// The bearer tokens TCP clients may present (`auth_tokens`); at least one whenever
    /// there is a TCP listener. Shared, as every TCP request reads them.
    pub auth_tokens: std::sync::Arc<[BearerToken]>,
    pub sync_interval: Duration,
    pub full_sync_interval: Duration,
    pub removed_grace: Duration,
    /// Defaults for every source's `request_timeout`, `run_timeout`, `max_retries` and
    /// `max_throttle_wait`.
    pub limits: RunLimits,
    /// The default of every source's `max_removals`.
    pub max_removals: RemovalLimit,
    /// Where to serve Prometheus metrics over plain HTTP (`GET /metrics`); none by default.
    /// Port 0 takes any free port, which the agent logs when it starts.
    pub metrics_listen: Option<SocketAddr>,
    /// How long events are kept (`event_retention`, default 30 days); a hook's undelivered
    /// backlog is kept longer.
    pub event_retention: Duration,
}

/// `event_retention`'s default: a month of events, enough to resume after any outage a
/// person would notice.
pub const DEFAULT_EVENT_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// How long a source may wait on its vendor and how hard it retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunLimits {
    /// One HTTP request, from connecting to the last byte of the body.
    pub request_timeout: Duration,
    /// A whole run; past it the run stops and is recorded failed, the data unchanged.
    pub run_timeout: Duration,
    /// Retries of a failed (5xx) or timed-out request after the first attempt.
    pub max_retries: u32,
    /// How long one request may wait, in all, for a vendor that throttles it; `None`: the
    /// vendor's own window (Auvik 5 minutes, Syncro 3 minute windows, Passportal 2 minutes).
    pub max_throttle_wait: Option<Duration>,
}

impl Default for RunLimits {
    fn default() -> Self {
        RunLimits {
            request_timeout: Duration::from_secs(60),
            // Far above any real inventory's run (Syncro's 180 requests a minute read
            // 500,000 assets in under an hour), so it only stops a run that is stuck.
            run_timeout: Duration::from_secs(6 * 3600),
            max_retries: 5,
            max_throttle_wait: None,
        }
    }
}

/// When a full run holds its removals instead of applying them (`max_removals`), as
/// Microsoft Entra Connect's "prevent accidental deletes" does: a listing that comes back
/// empty or short (a changed permission, a vendor incident) must not remove an MSP's
/// inventory in one run. A run holds when it would remove more than every bound set here.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RemovalLimit {
    /// More than this many assets.
    pub count: Option<u64>,
    /// More than this percentage of the source's present assets.
    pub percent: Option<f64>,
}

impl RemovalLimit {
    /// More than 10% and more than 25 of the source's present assets.
    pub const DEFAULT: RemovalLimit = RemovalLimit {
        count: Some(25),
        percent: Some(10.0),
    };
    /// `max_removals = "off"`: never hold.
    pub const OFF: RemovalLimit = RemovalLimit {
        count: None,
        percent: None,
    };

    /// Whether removing `removals` of `present` assets exceeds the limit.
    pub fn exceeded(&self, removals: u64, present: u64) -> bool {
        if *self == RemovalLimit::OFF {
            return false;
        }
        self.count.is_none_or(|c| removals > c)
            && self
                .percent
                .is_none_or(|p| removals as f64 * 100.0 > p * present as f64)
    }

    /// The limit in words, for messages: "more than 25 assets and more than 10% of them".
    pub fn describe(&self) -> String {
        let count = self.count.map(|c| format!("more than {c} assets"));
        let percent = self
            .percent
            .map(|p| format!("more than {p}% of the source's present assets"));
        match (count, percent) {
            (Some(c), Some(p)) => format!("{c} and {p}"),
            (Some(one), None) | (None, Some(one)) => one,
            (None, None) => "off".into(),
        }
    }
}

impl Default for RemovalLimit {
    fn default() -> Self {
        RemovalLimit::DEFAULT
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Listen {
    Unix(PathBuf),
    /// `tcp://HOST:PORT`: TLS when the agent has `tls_cert`/`tls_key` (required unless the
    /// address is loopback), and a bearer token on every request. Port 0 takes any free
    /// port, which the agent logs when it starts.
    Tcp(SocketAddr),
}

impl fmt::Display for Listen {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Listen::Unix(p) => write!(f, "unix://{}", p.display()),
            Listen::Tcp(a) => write!(f, "tcp://{a}"),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct SourceConfig {
    pub name: String,
    /// How often to sync; incremental runs where the vendor allows, full every `full_interval`.
    pub interval: Duration,
    pub full_interval: Duration,
    pub base_url: url::Url,
    pub vendor: VendorConfig,
    pub limits: RunLimits,
    /// When a full run holds its removals (see `RemovalLimit`); changing it needs no restart.
    pub max_removals: RemovalLimit,
    /// Which proxy the source's requests go through (`proxy`).
    pub proxy: ProxySetting,
}

/// Which proxy a source's requests go through (`proxy`, CONTRACT §3). Whatever it says, a
/// loopback `base_url` is never proxied and neither is any http:// one: a proxy only ever
/// carries an https:// vendor's TLS (through CONNECT), so it never sees a credential.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ProxySetting {
    /// No `proxy` key: `HTTPS_PROXY` or `ALL_PROXY` from the agent's environment (with
    /// `NO_PROXY`), as most tools do; none when they are unset.
    #[default]
    FromEnvironment,
    /// `proxy = "none"`: always direct, whatever the environment says.
    Direct,
    /// `proxy = "http://HOST:PORT"` (or https://): this proxy, whatever the environment says.
    Url(ProxyUrl),
}

/// A proxy's URL. It may carry `user:password@`, so `Debug` and `Display` mask the password.
#[derive(Clone, PartialEq, Eq)]
pub struct ProxyUrl(url::Url);

impl ProxyUrl {
    /// Checks a proxy URL from the config or the environment: http(s), a host, a port,
    /// nothing else. The error never shows the value (it may hold a password).
    pub fn parse(text: &str) -> Result<ProxyUrl, String> {
        let url = url::Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(format!(
                "scheme `{}` is not one assetd speaks: give an http:// or https:// proxy",
                url.scheme()
            ));
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("it names no host".into());
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err("a proxy is SCHEME://HOST:PORT, without a path or query".into());
        }
        Ok(ProxyUrl(url))
    }

    /// The URL with its credentials, for the HTTP client only.
    pub fn expose(&self) -> &str {
        self.0.as_str()
    }

    pub fn has_password(&self) -> bool {
        self.0.password().is_some()
    }
}

impl fmt::Display for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let u = &self.0;
        let user = match (u.username(), u.password()) {
            ("", None) => String::new(),
            (name, None) => format!("{name}@"),
            (name, Some(_)) => format!("{name}:********@"),
        };
        let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
        write!(
            f,
            "{}://{user}{}{port}",
            u.scheme(),
            u.host_str().unwrap_or("")
        )
    }
}

impl fmt::Debug for ProxyUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ProxyUrl({self})")
    }
}

impl SourceConfig {
    pub fn kind(&self) -> &'static str {
        self.vendor.kind()
    }

    /// Everything that decides *what* is synced, *as whom* and *how*; when it changes, the
    /// source restarts with a full sync and forgets a credentials rejection.
    pub fn connection_eq(&self, other: &SourceConfig) -> bool {
        self.base_url == other.base_url
            && self.vendor == other.vendor
            && self.limits == other.limits
            && self.proxy == other.proxy
    }
}

/// The registry of vendors: each vendor's typed settings, owned and checked by its module
/// (`vendors::<vendor>::config`). Adding a vendor adds an arm here and in
/// `vendors::connector_for`, and its keys to `KIND_KEYS`.
#[derive(Debug, Clone, PartialEq)]
pub enum VendorConfig {
    Auvik(AuvikConfig),
    Syncro(SyncroConfig),
    Passportal(PassportalConfig),
}

impl VendorConfig {
    pub fn kind(&self) -> &'static str {
        match self {
            VendorConfig::Auvik(_) => "auvik",
            VendorConfig::Syncro(_) => "syncro",
            VendorConfig::Passportal(_) => "passportal",
        }
    }
}

/// A `[[client]]` table: source clients to treat as one assetd client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientGroup {
    pub name: String,
    pub exclude: bool,
    pub members: Vec<ClientMemberRef>,
}

/// `"SOURCE:NAME-or-ID"` in a `[[client]]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMemberRef {
    pub source: String,
    pub key: String,
}

// ---------------------------------------------------------------------------------------
// The file as written.

mod raw {
    use super::*;

    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    pub struct File {
        pub agent: Option<Spanned<AgentTable>>,
        #[serde(default)]
        pub source: Vec<Spanned<Source>>,
        #[serde(default)]
        pub client: Vec<Spanned<Client>>,
        #[serde(default)]
        pub hook: Vec<Spanned<super::hook::RawHook>>,
    }

    #[derive(Deserialize, Default)]
    #[serde(deny_unknown_fields)]
    pub struct AgentTable {
        pub database: Option<Spanned<String>>,
        // Spanned as a whole too, so an empty list's error has a place.
        pub listen: Option<Spanned<Vec<Spanned<String>>>>,
        pub socket_group: Option<Spanned<String>>,
        pub sync_interval: Option<Spanned<String>>,
        pub full_sync_interval: Option<Spanned<String>>,
        pub removed_grace: Option<Spanned<String>>,
        pub request_timeout: Option<Spanned<String>>,
        pub run_timeout: Option<Spanned<String>>,
        pub max_retries: Option<Spanned<i64>>,
        pub max_throttle_wait: Option<Spanned<String>>,
        pub max_removals: Option<Spanned<toml::Value>>,
        // TCP listeners (CONTRACT §6).
        pub tls_cert: Option<Spanned<String>>,
        pub tls_key: Option<Spanned<SecretSpec>>,
        pub tls_client_ca: Option<Spanned<String>>,
        pub auth_tokens: Option<Spanned<Vec<Spanned<SecretSpec>>>>,
        pub metrics_listen: Option<Spanned<String>>,
        pub event_retention: Option<Spanned<String>>,
    }

    /// One `[[source]]`, with the settings of every kind; `validate` refuses the ones that
    /// do not belong to the source's kind.
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Source {
        pub name: Spanned<String>,
        pub kind: Spanned<String>,
        pub interval: Option<Spanned<String>>,
        pub full_interval: Option<Spanned<String>>,
        pub base_url: Option<Spanned<String>>,
        pub request_timeout: Option<Spanned<String>>,
        pub run_timeout: Option<Spanned<String>>,
        pub max_retries: Option<Spanned<i64>>,
        pub max_throttle_wait: Option<Spanned<String>>,
        pub max_removals: Option<Spanned<toml::Value>>,
        pub proxy: Option<Spanned<String>>,
        // auvik
        pub region: Option<Spanned<String>>,
        pub username: Option<Spanned<String>>,
        pub api_key: Option<Spanned<SecretSpec>>,
        pub domain_prefix: Option<Spanned<String>>,
        // syncro
        pub subdomain: Option<Spanned<String>>,
        pub requests_per_minute: Option<Spanned<i64>>,
        pub include_disabled_customers: Option<Spanned<bool>>,
        pub warranty_property: Option<Spanned<String>>,
        pub purchase_property: Option<Spanned<String>>,
        // passportal
        pub datacenter: Option<Spanned<String>>,
        pub access_key_id: Option<Spanned<String>>,
        pub secret_access_key: Option<Spanned<SecretSpec>>,
    }

    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Client {
        pub name: Spanned<String>,
        #[serde(default)]
        pub exclude: bool,
        #[serde(default)]
        pub members: Vec<Spanned<String>>,
    }
}

// ---------------------------------------------------------------------------------------
// Loading.

/// Reads, parses and validates the config at `path`.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            path: path.to_path_buf(),
            line: 0,
            column: 0,
            message: format!("cannot read the config file: {e}"),
        }])
    })?;
    let private = file_is_private(path);
    parse(path, &text, private)
}

/// Whether group and others have no access (inline secrets are allowed only then).
fn file_is_private(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o077 == 0)
        .unwrap_or(false)
}

/// Parses and validates config text; `path` only names the file in messages.
/// `file_is_private` says whether inline secrets are acceptable.
pub fn parse(path: &Path, text: &str, file_is_private: bool) -> Result<Config, ConfigErrors> {
    let mut v = Checker::new(path, text, file_is_private);
    let file: raw::File = match toml::from_str(text) {
        Ok(f) => f,
        Err(e) => {
            let start = e.span().map(|s| s.start);
            v.error_at(start, e.message().trim_end().to_string());
            return Err(ConfigErrors(v.errors));
        }
    };
    let config = v.config(file);
    if v.errors.is_empty() {
        Ok(config)
    } else {
        Err(ConfigErrors(v.errors))
    }
}

impl Checker<'_> {
    fn config(&mut self, file: raw::File) -> Config {
        let agent = self.agent(file.agent);
        let mut sources = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for s in &file.source {
            let name = s.get_ref().name.get_ref().clone();
            if let Some(first_line) = seen.get(&name) {
                let msg = format!(
                    "duplicate source name `{name}` (first defined on line {first_line}); every [[source]] needs a unique name"
                );
                self.error(&s.get_ref().name, msg);
                continue;
            }
            seen.insert(name, self.line_col(s.span().start).0);
            if let Some(source) = self.source(s, &agent) {
                sources.push(source);
            }
        }
        let clients = self.clients(&file.client, &file.source);
        let hooks = self.hooks(&file.hook);
        Config {
            agent,
            sources,
            clients,
            hooks,
        }
    }

    fn agent(&mut self, agent: Option<Spanned<raw::AgentTable>>) -> AgentConfig {
        let raw = agent.map(Spanned::into_inner).unwrap_or_default();
        let database = raw.database.as_ref().map_or_else(
            || PathBuf::from(DEFAULT_DATABASE),
            |d| PathBuf::from(d.get_ref()),
        );
        // Each listener with where it is written, for the TCP rules' messages.
        let located: Vec<(Listen, Option<usize>)> = match &raw.listen {
            None => vec![(Listen::Unix(PathBuf::from(DEFAULT_SOCKET)), None)],
            Some(list) => list
                .get_ref()
                .iter()
                .filter_map(|l| self.listen(l).map(|x| (x, Some(l.span().start))))
                .collect(),
        };
        // At the list: an error without a line broke check-config's `file:line:column`
        // (found by tests/properties/config.rs).
        if let Some(list) = &raw.listen
            && list.get_ref().is_empty()
        {
            self.error(
                list,
                "`agent.listen` is empty: give at least one unix:// or tcp:// address",
            );
        }
        self.listen_clashes(&database, &located);
        // Settled before any secret is read: none may be open to this group.
        let socket_group = self.socket_group(&raw.socket_group);
        self.query_group = Some(socket_group.clone());
        let metrics_listen = raw
            .metrics_listen
            .as_ref()
            .and_then(|m| self.metrics_listen(m, &located));
        let tls = self.tls(&raw);
        let auth_tokens = self.auth_tokens(&raw);
        self.tcp_rules(&raw, &located, tls.is_some(), &auth_tokens);
        AgentConfig {
            database,
            listen: located.into_iter().map(|(l, _)| l).collect(),
            socket_group,
            tls,
            auth_tokens: auth_tokens.into(),
            sync_interval: self.positive_duration(
                &raw.sync_interval,
                Duration::from_secs(3600),
                "sync_interval",
            ),
            full_sync_interval: self.positive_duration(
                &raw.full_sync_interval,
                Duration::from_secs(24 * 3600),
                "full_sync_interval",
            ),
            removed_grace: self.duration(&raw.removed_grace, Duration::ZERO, "removed_grace"),
            limits: self.limits(
                (&raw.request_timeout, &raw.run_timeout),
                (&raw.max_retries, &raw.max_throttle_wait),
                RunLimits::default(),
            ),
            max_removals: self.max_removals(&raw.max_removals, RemovalLimit::DEFAULT),
            metrics_listen,
            event_retention: self.positive_duration(
                &raw.event_retention,
                DEFAULT_EVENT_RETENTION,
                "event_retention",
            ),
        }
    }

    /// `max_removals`: a number of assets (`25`), a percentage of the source's present
    /// assets (`"10%"`), or `"off"`.
    fn max_removals(
        &mut self,
        value: &Option<Spanned<toml::Value>>,
        default: RemovalLimit,
    ) -> RemovalLimit {
        let Some(v) = value else { return default };
        let bad = |what: &str| {
            format!(
                "`max_removals = {what}`: give a number of assets (e.g. 25), a percentage of the source's \
                 present assets (e.g. \"10%\"), or \"off\"; by default a run holds more than 25 removals \
                 that are also more than 10%"
            )
        };
        let limit = match v.get_ref() {
            toml::Value::Integer(n) => u64::try_from(*n).ok().map(|c| RemovalLimit {
                count: Some(c),
                percent: None,
            }),
            toml::Value::String(t) => {
                let t = t.trim();
                if t.eq_ignore_ascii_case("off") {
                    Some(RemovalLimit::OFF)
                } else if let Some(p) = t.strip_suffix('%') {
                    p.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|p| (0.0..=100.0).contains(p))
                        .map(|p| RemovalLimit {
                            count: None,
                            percent: Some(p),
                        })
                } else {
                    t.parse::<u64>().ok().map(|c| RemovalLimit {
                        count: Some(c),
                        percent: None,
                    })
                }
            }
            _ => None,
        };
        match limit {
            Some(l) => l,
            None => {
                self.error(v, bad(&v.get_ref().to_string()));
                default
            }
        }
    }

    /// `metrics_listen = "HOST:PORT"`: an IP address (`[v6]` in brackets) or `localhost`.
    /// Any address is allowed: Prometheus scrapes from another host as a rule. What is served
    /// is counts and timings labelled with source names and vendor kinds only (no client
    /// names, URLs or secrets), unauthenticated: README says to keep it on loopback or behind
    /// a firewall when that matters.
    fn metrics_listen(
        &mut self,
        m: &Spanned<String>,
        listen: &[(Listen, Option<usize>)],
    ) -> Option<SocketAddr> {
        let text = m.get_ref().trim();
        if let Some((scheme, _)) = text.split_once("://") {
            self.error(
                m,
                format!(
                    "`metrics_listen = \"{text}\"`: write HOST:PORT without `{scheme}://`, e.g. \"127.0.0.1:9187\" (metrics are plain HTTP on GET /metrics)"
                ),
            );
            return None;
        }
        let addr = match tcp_address(text) {
            Ok(a) => a,
            Err(why) => {
                let why = why.replace("tcp://", "");
                self.error(m, format!("`metrics_listen = \"{text}\"`: {why}"));
                return None;
            }
        };
        let clash = listen
            .iter()
            .any(|(l, _)| matches!(l, Listen::Tcp(t) if t.port() != 0 && t.port() == addr.port() && (t.ip() == addr.ip() || t.ip().is_unspecified() || addr.ip().is_unspecified())));
        if addr.port() != 0 && clash {
            self.error(
                m,
                format!(
                    "`metrics_listen = \"{text}\"` is the port of a `tcp://` listener in `listen`; give metrics a port of their own, e.g. 9187"
                ),
            );
            return None;
        }
        Some(addr)
    }

    /// `request_timeout`, `run_timeout`, `max_retries` and `max_throttle_wait`, each
    /// defaulting to `defaults`.
    fn limits(
        &mut self,
        (request_timeout, run_timeout): (&Option<Spanned<String>>, &Option<Spanned<String>>),
        (max_retries, max_throttle_wait): (&Option<Spanned<i64>>, &Option<Spanned<String>>),
        defaults: RunLimits,
    ) -> RunLimits {
        let max_retries = match max_retries {
            None => defaults.max_retries,
            Some(n) => match u32::try_from(*n.get_ref()) {
                Ok(v) if v <= 20 => v,
                _ => {
                    self.error(
                        n,
                        format!(
                            "`max_retries = {}`: give 0 to 20 (retries of a failed request)",
                            n.get_ref()
                        ),
                    );
                    defaults.max_retries
                }
            },
        };
        RunLimits {
            request_timeout: self.positive_duration(
                request_timeout,
                defaults.request_timeout,
                "request_timeout",
            ),
            run_timeout: self.positive_duration(run_timeout, defaults.run_timeout, "run_timeout"),
            max_retries,
            max_throttle_wait: match max_throttle_wait {
                None => defaults.max_throttle_wait,
                Some(_) => Some(self.positive_duration(
                    max_throttle_wait,
                    Duration::from_secs(300),
                    "max_throttle_wait",
                )),
            },
        }
    }

    fn listen(&mut self, l: &Spanned<String>) -> Option<Listen> {
        let s = l.get_ref();
        if let Some(path) = s.strip_prefix("unix://") {
            let path = PathBuf::from(path);
            if !path.is_absolute() {
                self.error(l, format!("`{s}`: a unix socket path must be absolute, e.g. unix:///run/assetd/assetd.sock"));
                return None;
            }
            // sun_path holds 108 bytes including the terminating NUL.
            if path.as_os_str().len() > 107 {
                self.error(
                    l,
                    format!("`{s}`: a unix socket path must be at most 107 bytes"),
                );
                return None;
            }
            Some(Listen::Unix(path))
        } else if let Some(rest) = s.strip_prefix("tcp://") {
            match tcp_address(rest) {
                Ok(addr) => Some(Listen::Tcp(addr)),
                Err(why) => {
                    self.error(l, format!("`{s}`: {why}"));
                    None
                }
            }
        } else {
            self.error(l, format!("`{s}`: a listen address starts with unix:// or tcp:// (e.g. unix:///run/assetd/assetd.sock, tcp://0.0.0.0:7443)"));
            None
        }
    }

    /// `socket_group` (see `group::socket_group`). On an error the socket's group is the
    /// agent's own, for checking the rest of the file.
    fn socket_group(&mut self, named: &Option<Spanned<String>>) -> QueryGroup {
        let ids = group::Ids::current();
        match group::socket_group(
            named.as_ref().map(|n| n.get_ref().as_str()),
            group::gid_of,
            &ids,
        ) {
            Ok(g) => g,
            Err(why) => {
                if let Some(n) = named {
                    self.error(n, why);
                }
                QueryGroup {
                    gid: ids.egid,
                    label: format!("the agent's own group (gid {})", ids.egid),
                }
            }
        }
    }

    /// A Unix socket's path must not be one of the agent's own files: binding there would
    /// mean replacing the database (or its WAL, shared memory or lock) or the config. (The
    /// server also refuses to replace anything that is not a stale socket; this says so at
    /// check-config, before a start.)
    fn listen_clashes(&mut self, database: &Path, listen: &[(Listen, Option<usize>)]) {
        let db = database.as_os_str().to_string_lossy();
        let own = [
            (database.to_path_buf(), "the database"),
            (
                PathBuf::from(format!("{db}-wal")),
                "the database's write-ahead log",
            ),
            (
                PathBuf::from(format!("{db}-shm")),
                "the database's shared-memory file",
            ),
            (database_lock_path(database), "the database's lock file"),
            (self.path.to_path_buf(), "this config file"),
        ];
        for (l, at) in listen {
            let Listen::Unix(socket) = l else { continue };
            if let Some((file, what)) = own.iter().find(|(file, _)| same_path(socket, file)) {
                self.error_at(
                    *at,
                    format!(
                        "`{l}` is {what} ({}): the socket needs a path of its own, e.g. unix:///run/assetd/assetd.sock",
                        file.display()
                    ),
                );
            }
        }
    }

    /// `tls_cert` + `tls_key` (+ `tls_client_ca`), read and checked now.
    fn tls(&mut self, raw: &raw::AgentTable) -> Option<ServerTls> {
        let (cert, key) = match (&raw.tls_cert, &raw.tls_key) {
            (None, None) => {
                if let Some(ca) = &raw.tls_client_ca {
                    self.error(
                        ca,
                        "`tls_client_ca` needs `tls_cert` and `tls_key`: client certificates are checked only on TLS listeners",
                    );
                }
                return None;
            }
            (Some(cert), None) => {
                self.error(
                    cert,
                    "`tls_cert` needs `tls_key` too, e.g. tls_key = { file = \"/etc/assetd/tls/key.pem\" }",
                );
                return None;
            }
            (None, Some(key)) => {
                self.error(
                    key,
                    "`tls_key` needs `tls_cert` too, e.g. tls_cert = \"/etc/assetd/tls/cert.pem\"",
                );
                return None;
            }
            (Some(cert), Some(key)) => (cert, key),
        };
        let errors_before = self.errors.len();
        let key_secret = self.secret(key, "tls_key");
        if self.errors.len() > errors_before {
            return None;
        }
        let ca = raw.tls_client_ca.as_ref();
        match tls::load_server(
            Path::new(cert.get_ref()),
            &key_secret,
            &key.get_ref().describe(),
            ca.map(|c| Path::new(c.get_ref().as_str())),
        ) {
            Ok(tls) => Some(tls),
            Err(e) => {
                let at = match (e.part(), ca) {
                    (TlsPart::Key, _) => key.span(),
                    (TlsPart::ClientCa, Some(ca)) => ca.span(),
                    _ => cert.span(),
                };
                let key_name = match e.part() {
                    TlsPart::Cert => "tls_cert",
                    TlsPart::Key => "tls_key",
                    TlsPart::ClientCa => "tls_client_ca",
                };
                self.error_at(Some(at.start), format!("`{key_name}`: {e}"));
                None
            }
        }
    }

    /// `auth_tokens`: each a secret, each long enough to resist guessing.
    fn auth_tokens(&mut self, raw: &raw::AgentTable) -> Vec<BearerToken> {
        let Some(list) = &raw.auth_tokens else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for spec in list.get_ref() {
            let errors_before = self.errors.len();
            let secret = self.secret(spec, "auth_tokens");
            if self.errors.len() > errors_before {
                continue;
            }
            let from = spec.get_ref().describe();
            match BearerToken::new(&secret, from.clone()) {
                Ok(t) => out.push(t),
                Err(e) => self.error(spec, format!("`auth_tokens`: the token from {from}: {e}")),
            }
        }
        out
    }

    /// TCP listeners: plain text only on loopback, and never without a token to check.
    /// (A TLS or token setting that failed to load has its own error already.)
    fn tcp_rules(
        &mut self,
        raw: &raw::AgentTable,
        listen: &[(Listen, Option<usize>)],
        has_tls: bool,
        tokens: &[BearerToken],
    ) {
        let tls_written = raw.tls_cert.is_some() || raw.tls_key.is_some();
        let mut first_tcp = None;
        for (i, (l, at)) in listen.iter().enumerate() {
            if listen[..i].iter().any(|(seen, _)| seen == l) {
                self.error_at(*at, format!("`{l}` is listed twice in `listen`"));
                continue;
            }
            let Listen::Tcp(addr) = l else { continue };
            first_tcp.get_or_insert(*at);
            if !addr.ip().is_loopback() && !has_tls && !tls_written {
                self.error_at(
                    *at,
                    format!(
                        "`{l}` is not a loopback address, so it must use TLS: add tls_cert = \"/etc/assetd/tls/cert.pem\" \
                         and tls_key = {{ file = \"/etc/assetd/tls/key.pem\" }} to [agent] (plain text is allowed only on 127.0.0.1 or [::1])"
                    ),
                );
            }
        }
        let tokens_written = raw
            .auth_tokens
            .as_ref()
            .is_some_and(|t| !t.get_ref().is_empty());
        if let Some(at) = first_tcp
            && tokens.is_empty()
            && !tokens_written
        {
            let msg = "TCP listeners require bearer tokens: add auth_tokens = [{ file = \"/etc/assetd/tokens/NAME\" }] to [agent], \
                       a file (chmod 600) holding a random token of at least 16 characters, e.g. from `openssl rand -hex 32`";
            match &raw.auth_tokens {
                Some(t) => self.error(t, msg),
                None => self.error_at(at, msg),
            }
        }
    }

    fn source(&mut self, s: &Spanned<raw::Source>, agent: &AgentConfig) -> Option<SourceConfig> {
        let raw = s.get_ref();
        let name = raw.name.get_ref().clone();
        let mut ok = true;
        if !is_plain_name(&name) {
            self.error(
                &raw.name,
                format!("source name `{name}` may use only a-z, 0-9 and '-' (it appears in every asset row)"),
            );
            ok = false;
        }
        let interval = self.positive_duration(&raw.interval, agent.sync_interval, "interval");
        let full_interval = self.positive_duration(
            &raw.full_interval,
            agent.full_sync_interval,
            "full_interval",
        );
        let limits = self.limits(
            (&raw.request_timeout, &raw.run_timeout),
            (&raw.max_retries, &raw.max_throttle_wait),
            agent.limits,
        );
        let max_removals = self.max_removals(&raw.max_removals, agent.max_removals);
        let kind = raw.kind.get_ref().as_str();
        let table = s.span().start;
        let (vendor, default_url) = match kind {
            "auvik" => {
                self.refuse_foreign_keys(raw, &name, kind, &["auvik", "common"]);
                let keys = auvik::Keys {
                    region: &raw.region,
                    username: &raw.username,
                    api_key: &raw.api_key,
                    domain_prefix: &raw.domain_prefix,
                };
                let (settings, url) = auvik::check(self, table, keys, &name)?;
                (VendorConfig::Auvik(settings), url)
            }
            "syncro" => {
                self.refuse_foreign_keys(raw, &name, kind, &["syncro", "common"]);
                let keys = syncro::Keys {
                    subdomain: &raw.subdomain,
                    api_key: &raw.api_key,
                    requests_per_minute: &raw.requests_per_minute,
                    include_disabled_customers: &raw.include_disabled_customers,
                    warranty_property: &raw.warranty_property,
                    purchase_property: &raw.purchase_property,
                };
                let (settings, url) = syncro::check(self, table, keys, &name)?;
                (VendorConfig::Syncro(settings), url)
            }
            "passportal" => {
                self.refuse_foreign_keys(raw, &name, kind, &["passportal"]);
                let keys = passportal::Keys {
                    datacenter: &raw.datacenter,
                    access_key_id: &raw.access_key_id,
                    secret_access_key: &raw.secret_access_key,
                };
                let (settings, url) = passportal::check(self, table, keys, &name)?;
                (VendorConfig::Passportal(settings), url)
            }
            other => {
                self.error(
                    &raw.kind,
                    format!("source `{name}`: unknown kind `{other}`; expected auvik, syncro or passportal"),
                );
                return None;
            }
        };
        let base_url = match &raw.base_url {
            None => default_url,
            Some(b) => self.base_url(b)?,
        };
        let proxy = match &raw.proxy {
            None => ProxySetting::FromEnvironment,
            Some(p) => self.proxy(p)?,
        };
        ok.then_some(SourceConfig {
            name,
            interval,
            full_interval,
            base_url,
            vendor,
            limits,
            max_removals,
            proxy,
        })
    }

    /// Refuses the settings of other kinds on this source (`owners`: the groups of keys
    /// of `KIND_KEYS` this kind accepts).
    fn refuse_foreign_keys(&mut self, raw: &raw::Source, name: &str, kind: &str, owners: &[&str]) {
        let present: [(&str, Option<usize>); 8] = [
            ("region", raw.region.as_ref().map(|v| v.span().start)),
            ("username", raw.username.as_ref().map(|v| v.span().start)),
            (
                "domain_prefix",
                raw.domain_prefix.as_ref().map(|v| v.span().start),
            ),
            ("subdomain", raw.subdomain.as_ref().map(|v| v.span().start)),
            (
                "requests_per_minute",
                raw.requests_per_minute.as_ref().map(|v| v.span().start),
            ),
            (
                "include_disabled_customers",
                raw.include_disabled_customers
                    .as_ref()
                    .map(|v| v.span().start),
            ),
            (
                "datacenter",
                raw.datacenter.as_ref().map(|v| v.span().start),
            ),
            (
                "access_key_id",
                raw.access_key_id.as_ref().map(|v| v.span().start),
            ),
        ];
        let mut present = present.to_vec();
        present.push((
            "secret_access_key",
            raw.secret_access_key.as_ref().map(|v| v.span().start),
        ));
        present.push(("api_key", raw.api_key.as_ref().map(|v| v.span().start)));
        for (key, v) in [
            ("warranty_property", &raw.warranty_property),
            ("purchase_property", &raw.purchase_property),
        ] {
            present.push((key, v.as_ref().map(|v| v.span().start)));
        }
        for (key, at) in present {
            let owner = KIND_KEYS
                .iter()
                .find(|(_, keys)| keys.contains(&key))
                .map(|(o, _)| *o);
            if let (Some(at), Some(owner)) = (at, owner)
                && !owners.contains(&owner)
            {
                self.error_at(
                    Some(at),
                    format!("source `{name}`: `{key}` is not a setting of a {kind} source"),
                );
            }
        }
    }

    fn proxy(&mut self, p: &Spanned<String>) -> Option<ProxySetting> {
        if p.get_ref() == "none" {
            return Some(ProxySetting::Direct);
        }
        match ProxyUrl::parse(p.get_ref()) {
            Ok(url) if url.has_password() && !self.file_is_private => {
                self.error(
                    p,
                    "`proxy` holds a password, so the config file must be readable by its owner only (chmod 0600), or set HTTPS_PROXY in the service's environment instead (`systemctl edit assetd`: Environment=HTTPS_PROXY=...)",
                );
                None
            }
            Ok(url) => Some(ProxySetting::Url(url)),
            Err(why) => {
                // Not the value: it may hold a password.
                self.error(
                    p,
                    format!("`proxy`: {why}; write \"http://HOST:PORT\" (a proxy that speaks CONNECT) or \"none\""),
                );
                None
            }
        }
    }

    fn base_url(&mut self, b: &Spanned<String>) -> Option<url::Url> {
        let mut url = self.http_url(b, "base_url")?;
        // Relative joins ("v1/...") must land under the base, so it ends with '/'.
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
        }
        Some(url)
    }

    /// A URL assetd sends credentials or signed data to (`base_url`, a hook's `url`):
    /// https://, or http:// only to loopback, and never with `user:password@`.
    pub(crate) fn http_url(&mut self, b: &Spanned<String>, key: &str) -> Option<url::Url> {
        let url = match url::Url::parse(b.get_ref()) {
            Ok(u) => u,
            Err(e) => {
                // Not the value: a mistyped one may still hold `user:password@`.
                self.error(b, format!("`{key}` is not a URL: {e}"));
                return None;
            }
        };
        // Credentials go in their own keys, which are secrets; a `user:pass@` here would be
        // shown by ListSources, the log and every message that names the URL.
        if !url.username().is_empty() || url.password().is_some() {
            let own = if key == "base_url" {
                "the source's own keys (api_key, ...)"
            } else {
                "`secret`"
            };
            self.error(
                b,
                format!("`{key}` must not carry `user:password@`: credentials go in {own}, which are kept secret"),
            );
            return None;
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback_host(&url) => {}
            "http" => {
                self.error(
                    b,
                    format!("`{key}` uses http:// to a non-loopback host; credentials never travel in clear text: use https://"),
                );
                return None;
            }
            other => {
                self.error(b, format!("`{key}` scheme `{other}` is not http(s)"));
                return None;
            }
        }
        Some(url)
    }

    fn clients(
        &mut self,
        clients: &[Spanned<raw::Client>],
        sources: &[Spanned<raw::Source>],
    ) -> Vec<ClientGroup> {
        let source_names: Vec<&str> = sources
            .iter()
            .map(|s| s.get_ref().name.get_ref().as_str())
            .collect();
        let mut seen = HashMap::new();
        let mut out = Vec::new();
        for c in clients {
            let raw = c.get_ref();
            let name = raw.name.get_ref().trim().to_string();
            if name.is_empty() {
                self.error(&raw.name, "a [[client]] needs a non-empty `name`");
                continue;
            }
            if seen.insert(name.clone(), ()).is_some() {
                self.error(&raw.name, format!("duplicate [[client]] name `{name}`"));
                continue;
            }
            let mut members = Vec::new();
            for m in &raw.members {
                match m.get_ref().split_once(':') {
                    Some((source, key)) if source_names.contains(&source) && !key.trim().is_empty() => {
                        members.push(ClientMemberRef {
                            source: source.to_string(),
                            key: key.trim().to_string(),
                        })
                    }
                    Some((source, key)) if !key.trim().is_empty() => self.error(
                        m,
                        format!(
                            "client `{name}`: member `{}` names source `{source}`, which is not configured (sources: {})",
                            m.get_ref(),
                            source_names.join(", ")
                        ),
                    ),
                    _ => self.error(
                        m,
                        format!(
                            "client `{name}`: member `{}` must be \"SOURCE:NAME-or-ID\", e.g. \"auvik:contoso\"",
                            m.get_ref()
                        ),
                    ),
                }
            }
            out.push(ClientGroup {
                name,
                exclude: raw.exclude,
                members,
            });
        }
        out
    }
}

/// Which source settings belong to which kind ("common" ones to every kind that takes them).
const KIND_KEYS: &[(&str, &[&str])] = &[
    ("auvik", &["region", "username", "domain_prefix"]),
    (
        "syncro",
        &[
            "subdomain",
            "requests_per_minute",
            "include_disabled_customers",
            "warranty_property",
            "purchase_property",
        ],
    ),
    (
        "passportal",
        &["datacenter", "access_key_id", "secret_access_key"],
    ),
    ("common", &["api_key"]),
];

/// `HOST:PORT` of a `tcp://` listener: an IPv4 address, a bracketed IPv6 address, or
/// `localhost`; a listener binds an address, so other names are refused rather than resolved.
fn tcp_address(rest: &str) -> Result<SocketAddr, String> {
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    if let Ok(addr) = rest.parse::<SocketAddr>() {
        return Ok(addr);
    }
    let Some((host, port)) = rest.rsplit_once(':') else {
        return Err("give HOST:PORT, e.g. tcp://0.0.0.0:7443 or tcp://127.0.0.1:7443".into());
    };
    let port: u16 = port
        .parse()
        .map_err(|_| format!("`{port}` is not a port number (0-65535)"))?;
    if host.eq_ignore_ascii_case("localhost") {
        return Ok(SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), port));
    }
    if host.parse::<std::net::Ipv6Addr>().is_ok() {
        return Err(format!(
            "write an IPv6 address in brackets: tcp://[{host}]:{port}"
        ));
    }
    Err(format!(
        "`{host}` is not an IP address; give the address to listen on (0.0.0.0 or [::] for every interface, 127.0.0.1 for this machine only)"
    ))
}

/// Whether the URL's host is this machine (`localhost`, 127.0.0.0/8, ::1).
pub fn is_loopback_host(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// The lock file beside the database that keeps a second agent off it.
pub fn database_lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_os_string();
    name.push(".lock");
    PathBuf::from(name)
}

/// Whether `a` and `b` name the same file: the same absolute path once `.` and repeated
/// slashes are dropped, or, when both exist, the same inode (a symlink or a hard link).
fn same_path(a: &Path, b: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    let absolute = |p: &Path| std::path::absolute(p).unwrap_or_else(|_| p.to_path_buf());
    if absolute(a).components().eq(absolute(b).components()) {
        return true;
    }
    match (std::fs::metadata(a), std::fs::metadata(b)) {
        (Ok(x), Ok(y)) => x.dev() == y.dev() && x.ino() == y.ino(),
        _ => false,
    }
}

/// The socket path a per-user agent (`assetd demo`) uses, and `assetctl` looks for last.
pub fn per_user_socket() -> PathBuf {
    per_user_runtime_dir().join("assetd.sock")
}

/// `$XDG_RUNTIME_DIR/assetd`, or `/tmp/assetd-$UID` without XDG_RUNTIME_DIR.
pub fn per_user_runtime_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir).join("assetd"),
        _ => PathBuf::from(format!(
            "/tmp/assetd-{}",
            rustix::process::getuid().as_raw()
        )),
    }
}

#[cfg(test)]
mod tests;
