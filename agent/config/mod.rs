//! The config file (CONTRACT §3): types, loading, and validation with line:column errors.
//!
//! Parsing is two steps. Serde reads the TOML into `raw` structs that mirror the file
//! (`deny_unknown_fields`, every value `Spanned` so later errors can point at it); then
//! `validate` turns them into the typed `Config`, collecting *every* error rather than
//! stopping at the first, because `assetd check-config` should show them all at once.

pub mod check;
pub mod group;
pub mod tls;

use crate::vendors::auvik::config::{self as auvik, AuvikConfig};
use crate::vendors::passportal::config::{self as passportal, PassportalConfig};
use crate::vendors::syncro::config::{self as syncro, SyncroConfig};
use check::Checker;
pub use check::{ConfigError, ConfigErrors};

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
}

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
        Config {
            agent,
            sources,
            clients,
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
                "`max_removals = {what}`: give a number of assets (e.g. 25), a percentage of the source's                  present assets (e.g. \"10%\"), or \"off\"; by default a run holds more than 25 removals                  that are also more than 10%"
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
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
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
        let mut url = match url::Url::parse(b.get_ref()) {
            Ok(u) => u,
            Err(e) => {
                // Not the value: a mistyped one may still hold `user:password@`.
                self.error(b, format!("`base_url` is not a URL: {e}"));
                return None;
            }
        };
        // Credentials go in their own keys, which are secrets; a `user:pass@` here would be
        // shown by ListSources, the log and every message that names the URL.
        if !url.username().is_empty() || url.password().is_some() {
            self.error(
                b,
                "`base_url` must not carry `user:password@`: credentials go in the source's own keys (api_key, ...), which are kept secret",
            );
            return None;
        }
        match url.scheme() {
            "https" => {}
            "http" if is_loopback_host(&url) => {}
            "http" => {
                self.error(
                    b,
                    "`base_url` uses http:// to a non-loopback host; credentials never travel in clear text: use https://",
                );
                return None;
            }
            other => {
                self.error(b, format!("`base_url` scheme `{other}` is not http(s)"));
                return None;
            }
        }
        // Relative joins ("v1/...") must land under the base, so it ends with '/'.
        if !url.path().ends_with('/') {
            let path = format!("{}/", url.path());
            url.set_path(&path);
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
        // SAFETY: getuid has no preconditions and cannot fail.
        _ => PathBuf::from(format!("/tmp/assetd-{}", unsafe { libc::getuid() })),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_ok(text: &str) -> Config {
        parse(Path::new("c.toml"), text, true).unwrap_or_else(|e| panic!("{e}"))
    }

    fn parse_err(text: &str) -> String {
        parse(Path::new("c.toml"), text, true)
            .unwrap_err()
            .to_string()
    }

    const AUVIK: &str = r#"
[agent]
database = "/tmp/x.db"
listen = ["unix:///tmp/x.sock"]

[[source]]
name = "auvik"
kind = "auvik"
region = "eu1"
username = "svc@msp.example"
api_key = "k-123"
domain_prefix = "mspdemo"
interval = "30m"
"#;

    #[test]
    fn run_limits_default_from_the_agent_and_sources_override_them() {
        let c = parse_ok(AUVIK);
        assert_eq!(c.sources[0].limits, RunLimits::default());
        let text = AUVIK.replace(
            "listen = [\"unix:///tmp/x.sock\"]",
            "listen = [\"unix:///tmp/x.sock\"]\nrequest_timeout = \"5s\"\nmax_retries = 2",
        ) + "run_timeout = \"10m\"\nmax_retries = 0\n";
        let s = &parse_ok(&text).sources[0];
        assert_eq!(
            s.limits,
            RunLimits {
                request_timeout: Duration::from_secs(5),
                run_timeout: Duration::from_secs(600),
                max_retries: 0,
                max_throttle_wait: None,
            }
        );
        let e = parse_err(&(AUVIK.to_string() + "max_retries = 99\n"));
        assert!(
            e.contains("c.toml:14:15:") && e.contains("max_retries"),
            "{e}"
        );
        let e = parse_err(&(AUVIK.to_string() + "run_timeout = \"0s\"\n"));
        assert!(e.contains("run_timeout"), "{e}");
    }

    #[test]
    fn auviks_lnx_cluster_is_a_region() {
        let c = parse_ok(&AUVIK.replace("region = \"eu1\"", "region = \"lnx\""));
        assert_eq!(
            c.sources[0].base_url.as_str(),
            "https://auvikapi.lnx.my.auvik.com/"
        );
    }

    #[test]
    fn max_removals_takes_a_count_a_percentage_or_off_and_sources_override_the_agent() {
        let c = parse_ok(AUVIK);
        assert_eq!(c.sources[0].max_removals, RemovalLimit::DEFAULT);
        let with = |agent: &str, source: &str| {
            AUVIK.replace(
                "listen = [\"unix:///tmp/x.sock\"]",
                &format!("listen = [\"unix:///tmp/x.sock\"]\n{agent}"),
            ) + source
        };
        let limit =
            |agent: &str, source: &str| parse_ok(&with(agent, source)).sources[0].max_removals;
        assert_eq!(
            limit("max_removals = 40", ""),
            RemovalLimit {
                count: Some(40),
                percent: None
            }
        );
        assert_eq!(
            limit("max_removals = \"5%\"", ""),
            RemovalLimit {
                count: None,
                percent: Some(5.0)
            }
        );
        assert_eq!(
            limit("max_removals = \"5%\"", "max_removals = \"off\"\n"),
            RemovalLimit::OFF
        );
        assert_eq!(
            limit("", "max_removals = \"100\"\n"),
            RemovalLimit {
                count: Some(100),
                percent: None
            }
        );
        for bad in ["-1", "\"lots\"", "\"150%\"", "true"] {
            let e = parse_err(&with("", &format!("max_removals = {bad}\n")));
            assert!(e.contains("max_removals"), "{bad}: {e}");
        }
    }

    /// The default holds more than 25 removals that are also more than 10% of the present
    /// assets; `off` never holds; a count or a percentage alone is that bound alone.
    #[test]
    fn removal_limits_hold_past_every_bound_they_set() {
        let d = RemovalLimit::DEFAULT;
        assert!(!d.exceeded(25, 100), "25 is not more than 25");
        assert!(d.exceeded(26, 100));
        assert!(!d.exceeded(26, 1000), "26 of 1000 is under 10%");
        assert!(d.exceeded(101, 1000));
        assert!(!d.exceeded(100, 1000), "exactly 10% is not more");
        assert!(d.exceeded(430, 430), "an emptied listing");
        assert!(!RemovalLimit::OFF.exceeded(1_000_000, 1_000_000));
        let count = RemovalLimit {
            count: Some(3),
            percent: None,
        };
        assert!(count.exceeded(4, 1_000_000) && !count.exceeded(3, 3));
        let percent = RemovalLimit {
            count: None,
            percent: Some(50.0),
        };
        assert!(percent.exceeded(2, 3) && !percent.exceeded(1, 3));
        assert_eq!(
            d.describe(),
            "more than 25 assets and more than 10% of the source's present assets"
        );
    }

    #[test]
    fn max_throttle_wait_defaults_to_the_vendors_window() {
        let c = parse_ok(AUVIK);
        assert_eq!(c.sources[0].limits.max_throttle_wait, None);
        let c = parse_ok(&(AUVIK.to_string() + "max_throttle_wait = \"20s\"\n"));
        assert_eq!(
            c.sources[0].limits.max_throttle_wait,
            Some(Duration::from_secs(20))
        );
        let e = parse_err(&(AUVIK.to_string() + "max_throttle_wait = \"0s\"\n"));
        assert!(e.contains("max_throttle_wait"), "{e}");
    }

    #[test]
    fn a_valid_auvik_config_loads() {
        let c = parse_ok(AUVIK);
        assert_eq!(c.sources.len(), 1);
        let s = &c.sources[0];
        assert_eq!(s.interval, Duration::from_secs(1800));
        assert_eq!(s.full_interval, Duration::from_secs(86400));
        assert_eq!(s.base_url.as_str(), "https://auvikapi.eu1.my.auvik.com/");
        let VendorConfig::Auvik(a) = &s.vendor else {
            panic!("auvik")
        };
        assert_eq!(a.api_key.expose(), "k-123");
        assert!(
            !format!("{c:?}").contains("k-123"),
            "Debug must mask secrets"
        );
    }

    #[test]
    fn a_secret_of_the_wrong_type_is_refused_without_its_value() {
        // Issue 21 §8: serde would print ``invalid type: integer `84736251908172635` ``.
        for (value, found) in [
            ("84736251908172635", "found a number"),
            ("-84736251908172635", "found a number"),
            ("8473625190.8172635", "found a number"),
            ("[84736251908172635]", "found a list"),
            ("true", "found a boolean"),
            ("{ file = 84736251908172635 }", "`file` takes a string"),
            ("{ env = 84736251908172635 }", "`env` takes a string"),
            (
                "{ credential = [84736251908172635] }",
                "`credential` takes a string",
            ),
        ] {
            let text = AUVIK.replace("api_key = \"k-123\"", &format!("api_key = {value}"));
            let e = parse_err(&text);
            assert!(e.contains(found), "{value}: {e}");
            assert!(e.contains("c.toml:11:"), "{value}: {e}");
            for digits in ["84736251908172635", "8473625190", "8172635"] {
                assert!(!e.contains(digits), "{value} echoed: {e}");
            }
        }
        let tokens =
            "[agent]\nlisten = [\"tcp://127.0.0.1:7443\"]\nauth_tokens = [84736251908172635]\n";
        let e = parse_err(tokens);
        assert!(
            e.contains("found a number") && !e.contains("84736251908172635"),
            "{e}"
        );
    }

    #[test]
    fn durations_past_any_clock_are_refused() {
        // Issue 21 §7: these passed the check and then panicked the agent.
        let e = parse_err(&AUVIK.replace("interval = \"30m\"", "interval = \"300000years\""));
        assert!(
            e.contains("c.toml:13:12: `interval` = \"300000years\" is longer than any duration assetd accepts (10 years)"),
            "{e}"
        );
        let e = parse_err("[agent]\nremoved_grace = \"300000years\"\n");
        assert!(
            e.contains("`removed_grace` = \"300000years\" is longer"),
            "{e}"
        );
        // Ten years is still a duration.
        let c = parse_ok("[agent]\nremoved_grace = \"3650d\"\n");
        assert_eq!(c.agent.removed_grace, check::MAX_DURATION);
    }

    #[test]
    fn proxy_is_a_url_or_none_and_never_shown_with_its_password() {
        let with = |v: &str| AUVIK.replace("interval = \"30m\"", &format!("proxy = {v}"));
        assert_eq!(
            parse_ok(AUVIK).sources[0].proxy,
            ProxySetting::FromEnvironment
        );
        assert_eq!(
            parse_ok(&with("\"none\"")).sources[0].proxy,
            ProxySetting::Direct
        );
        let c = parse_ok(&with("\"http://ops:pw-canary@proxy.msp.example:3128\""));
        let ProxySetting::Url(u) = &c.sources[0].proxy else {
            panic!("a proxy URL")
        };
        assert_eq!(u.expose(), "http://ops:pw-canary@proxy.msp.example:3128/");
        assert!(!format!("{c:?}").contains("pw-canary"));
        for (value, why) in [
            ("\"socks5://proxy.example:1080\"", "scheme `socks5`"),
            ("\"proxy.example:3128\"", "scheme `proxy.example`"),
            ("\"http://proxy.example:3128/path\"", "without a path"),
            (
                "\"http://ops:pw-canary@proxy.example:3128/x\"",
                "without a path",
            ),
        ] {
            let e = parse_err(&with(value));
            assert!(
                e.contains("c.toml:13:9: `proxy`: ") && e.contains(why),
                "{value}: {e}"
            );
            assert!(!e.contains("pw-canary"), "{e}");
        }
        // A password in a shared file is refused, as an inline secret is.
        let e = parse(
            Path::new("c.toml"),
            &with("\"http://ops:pw-canary@proxy.msp.example:3128\""),
            false,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("`proxy` holds a password"), "{e}");
        assert!(!e.contains("pw-canary"), "{e}");
        // Changing the proxy changes how the source connects: it restarts.
        let (a, b) = (
            &parse_ok(AUVIK).sources[0],
            &parse_ok(&with("\"none\"")).sources[0],
        );
        assert!(!a.connection_eq(b));
    }

    #[test]
    fn base_url_never_carries_credentials() {
        // Issue 21: ListSources returned `user:pass@` verbatim.
        let e = parse_err(
            "[[source]]\nname = \"s\"\nkind = \"syncro\"\nsubdomain = \"acme\"\napi_key = \"t\"\nbase_url = \"https://ops:pw-canary@acme.syncromsp.com/\"\n",
        );
        assert!(
            e.contains("c.toml:6:12: `base_url` must not carry `user:password@`"),
            "{e}"
        );
        assert!(!e.contains("pw-canary"), "{e}");
    }

    #[test]
    fn unknown_key_is_refused_with_line_and_column() {
        let e = parse_err("[agent]\ndatabase = \"x.db\"\nbogus_key = 1\n");
        assert!(e.starts_with("c.toml:3:1: "), "{e}");
        assert!(e.contains("bogus_key"), "{e}");
    }

    #[test]
    fn every_semantic_error_is_reported() {
        let e = parse_err(
            "[[source]]\nname = \"A\"\nkind = \"auvik\"\nregion = \"mars\"\nusername = \"u\"\napi_key = \"k\"\ndomain_prefix = \"p\"\ninterval = \"soon\"\n",
        );
        assert!(e.contains("c.toml:2:8:") && e.contains("a-z, 0-9"), "{e}");
        assert!(
            e.contains("c.toml:4:10:") && e.contains("unknown Auvik region"),
            "{e}"
        );
        assert!(e.contains("c.toml:8:12:") && e.contains("interval"), "{e}");
    }

    #[test]
    fn duplicate_source_names_are_refused() {
        let one = "[[source]]\nname = \"a\"\nkind = \"auvik\"\nusername = \"u\"\napi_key = \"k\"\ndomain_prefix = \"p\"\n";
        let e = parse_err(&format!("{one}{one}"));
        assert!(
            e.contains("duplicate source name `a` (first defined on line 1)"),
            "{e}"
        );
        assert!(e.contains("c.toml:8:8:"), "{e}");
    }

    #[test]
    fn syncro_subdomains_are_normalised_or_refused() {
        let c = parse_ok(
            "[[source]]\nname = \"syncro\"\nkind = \"syncro\"\nsubdomain = \"https://acme.syncromsp.com/\"\napi_key = \"t\"\n",
        );
        assert_eq!(
            c.sources[0].base_url.as_str(),
            "https://acme.syncromsp.com/"
        );
        let VendorConfig::Syncro(sy) = &c.sources[0].vendor else {
            panic!("syncro")
        };
        assert_eq!(
            (sy.subdomain.as_str(), sy.requests_per_minute),
            ("acme", 180)
        );
        let e = parse_err(
            "[[source]]\nname = \"s\"\nkind = \"syncro\"\nsubdomain = \"acme.example.com\"\napi_key = \"t\"\nrequests_per_minute = 0\nregion = \"us1\"\n",
        );
        assert!(
            e.contains("c.toml:4:13:") && e.contains("not a Syncro subdomain"),
            "{e}"
        );
        assert!(
            e.contains("c.toml:6:23:") && e.contains("between 1 and 10000"),
            "{e}"
        );
        assert!(
            e.contains("`region` is not a setting of a syncro source"),
            "{e}"
        );
    }

    #[test]
    fn passportal_datacenters_and_swapped_keys() {
        let id = "a14e6b4923ba5027189baded6ba7b68e6fcda742008c5d57b867f43a09768ece";
        let src = |dc: &str, key: &str, secret: &str| {
            format!(
                "[[source]]\nname = \"pp\"\nkind = \"passportal\"\ndatacenter = \"{dc}\"\naccess_key_id = \"{key}\"\nsecret_access_key = \"{secret}\"\n"
            )
        };
        let c = parse_ok(&src("de", id, "s3cr3t-value"));
        assert_eq!(
            c.sources[0].base_url.as_str(),
            "https://de-clover.passportalmsp.com/"
        );
        let e = parse_err(&src("eu", id, "s3cr3t-value"));
        assert!(
            e.contains("c.toml:4:14:") && e.contains("unknown Passportal datacenter"),
            "{e}"
        );
        let e = parse_err(&src("us", "s3cr3t-value", id));
        assert!(
            e.contains("c.toml:5:17:") && e.contains("look swapped"),
            "{e}"
        );
        assert!(
            !e.contains(id) && !e.contains("s3cr3t"),
            "no secret in the message: {e}"
        );
    }

    #[test]
    fn keys_of_another_kind_are_refused() {
        let e = parse_err(&format!("{AUVIK}subdomain = \"acme\"\n"));
        assert!(
            e.contains("`subdomain` is not a setting of a auvik source"),
            "{e}"
        );
    }

    #[test]
    fn inline_secret_in_a_shared_file_is_refused() {
        let e = parse(Path::new("c.toml"), AUVIK, false)
            .unwrap_err()
            .to_string();
        assert!(e.contains("chmod 600 c.toml"), "{e}");
        assert!(!e.contains("k-123"));
    }

    #[test]
    fn a_socket_path_on_the_agents_own_files_is_refused() {
        let config = Path::new("/srv/assetd/config.toml");
        let with_listen = |listen: &str| {
            format!(
                "[agent]\ndatabase = \"/srv/assetd/a.db\"\nlisten = [\"unix:///run/x.sock\", \"unix://{listen}\"]\n"
            )
        };
        for (listen, what) in [
            ("/srv/assetd/a.db", "the database"),
            ("/srv/assetd//./a.db", "the database"),
            ("/srv/assetd/a.db-wal", "write-ahead log"),
            ("/srv/assetd/a.db-shm", "shared-memory file"),
            ("/srv/assetd/a.db.lock", "lock file"),
            ("/srv/assetd/config.toml", "this config file"),
        ] {
            let e = parse(config, &with_listen(listen), true)
                .unwrap_err()
                .to_string();
            assert!(
                e.contains(&format!("`unix://{listen}` is {what}"))
                    || e.contains(&format!("is the database's {what}")),
                "{listen}: {e}"
            );
            assert!(e.contains("config.toml:3:"), "located at the entry: {e}");
        }
        // Beside them is fine.
        parse(config, &with_listen("/srv/assetd/assetd.sock"), true)
            .unwrap_or_else(|e| panic!("{e}"));
        // The same file through a symlink is still the same file.
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("a.db");
        std::fs::write(&db, "").unwrap();
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&db, &link).unwrap();
        let text = format!(
            "[agent]\ndatabase = \"{}\"\nlisten = [\"unix://{}\"]\n",
            db.display(),
            link.display()
        );
        let e = parse(config, &text, true).unwrap_err().to_string();
        assert!(e.contains("is the database"), "{e}");
    }

    /// The name of this process's group in /etc/group, if it has one there.
    fn own_group_name() -> Option<String> {
        let egid = rustix::process::getegid().as_raw().to_string();
        std::fs::read_to_string("/etc/group")
            .ok()?
            .lines()
            .find_map(|l| {
                let f: Vec<&str> = l.split(':').collect();
                (f.get(2) == Some(&egid.as_str())).then(|| f[0].to_owned())
            })
    }

    #[test]
    fn secret_files_open_to_the_sockets_group_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let Some(group) = own_group_name() else {
            println!("SKIPPED: this process's group is not in /etc/group");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("key");
        std::fs::write(&key, "k-123\n").unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
        let text = |socket_group: &str| {
            AUVIK
                .replace(
                    "api_key = \"k-123\"",
                    &format!("api_key = {{ file = \"{}\" }}", key.display()),
                )
                .replace(
                    "listen = [\"unix:///tmp/x.sock\"]",
                    &format!("listen = [\"unix:///tmp/x.sock\"]\n{socket_group}"),
                )
        };
        // The key's group is the socket's: whoever may query could read it.
        let e = parse_err(&text(&format!("socket_group = \"{group}\"")));
        assert!(
            e.contains(&format!(
                "secret file {} is open to group `{group}`, the group of the agent's socket",
                key.display()
            )) && e.contains("chmod 0600")
                && !e.contains("k-123"),
            "{e}"
        );
        let c = parse_ok(&text(&format!("socket_group = \"{group}\"\n")).replace(
            &format!("api_key = {{ file = \"{}\" }}", key.display()),
            "api_key = \"k-123\"",
        ));
        assert_eq!(
            c.agent.socket_group.gid,
            rustix::process::getegid().as_raw()
        );
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        parse_ok(&text(&format!("socket_group = \"{group}\"")));
        // A group that does not exist is named, with what to do.
        let e = parse_err(&text("socket_group = \"assetd-no-such-group\""));
        assert!(
            e.contains(
                "c.toml:5:16: `socket_group = \"assetd-no-such-group\"`: this system has no group"
            ),
            "{e}"
        );
    }

    #[test]
    fn plain_http_only_to_loopback() {
        let ok = parse_ok(&format!("{AUVIK}base_url = \"http://127.0.0.1:8080\"\n"));
        assert_eq!(ok.sources[0].base_url.as_str(), "http://127.0.0.1:8080/");
        let e = parse_err(&format!("{AUVIK}base_url = \"http://auvik.example\"\n"));
        assert!(e.contains("clear text"), "{e}");
    }

    #[test]
    fn secret_forms_resolve() {
        // SAFETY: tests touching this variable run in this test only.
        unsafe { std::env::set_var("ASSETD_TEST_SECRET_ENV", "from-env") };
        let c = parse_ok(&AUVIK.replace("\"k-123\"", "{ env = \"ASSETD_TEST_SECRET_ENV\" }"));
        let VendorConfig::Auvik(a) = &c.sources[0].vendor else {
            panic!("auvik")
        };
        assert_eq!(a.api_key.expose(), "from-env");
        let e =
            parse_err(&AUVIK.replace("\"k-123\"", "{ env = \"ASSETD_TEST_NOT_SET_ANYWHERE\" }"));
        assert!(e.contains("ASSETD_TEST_NOT_SET_ANYWHERE is not set"), "{e}");
        let creds = tempfile::tempdir().unwrap();
        let cred = creds.path().join("auvik");
        std::fs::write(&cred, "from-credential\n").unwrap();
        std::fs::set_permissions(&cred, std::os::unix::fs::PermissionsExt::from_mode(0o600))
            .unwrap();
        // SAFETY: only this test sets CREDENTIALS_DIRECTORY.
        unsafe { std::env::set_var("CREDENTIALS_DIRECTORY", creds.path()) };
        let c = parse_ok(&AUVIK.replace("\"k-123\"", "{ credential = \"auvik\" }"));
        let VendorConfig::Auvik(a) = &c.sources[0].vendor else {
            panic!("auvik")
        };
        assert_eq!(a.api_key.expose(), "from-credential");
        let e = parse_err(&AUVIK.replace("\"k-123\"", "{ credential = \"auvik-typo\" }"));
        assert!(
            e.contains("credential `auvik-typo` is not in $CREDENTIALS_DIRECTORY")
                && e.contains("LoadCredential=auvik-typo:"),
            "{e}"
        );
        let e = parse_err(&AUVIK.replace("\"k-123\"", "{ credential = \"../auvik\" }"));
        assert!(e.contains("without `/`"), "{e}");
        let e = parse_err(&AUVIK.replace("\"k-123\"", "{ vault = \"x\" }"));
        assert!(e.contains("vault"), "{e}");
    }

    /// A self-signed certificate for 127.0.0.1 and its key, written to `dir` (key 0600).
    fn cert_files(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
        use std::os::unix::fs::PermissionsExt;
        let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
        let cert = dir.join(format!("{name}.pem"));
        let key = dir.join(format!("{name}.key"));
        std::fs::write(&cert, ck.cert.pem()).unwrap();
        std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
        (cert, key)
    }

    const TOKEN: &str = "auth_tokens = [\"t0k3n-canary-0123456789\"]\n";

    #[test]
    fn plain_text_tcp_is_refused_off_loopback_with_what_to_add() {
        let e = parse_err(&format!(
            "[agent]\nlisten = [\"unix:///tmp/x.sock\", \"tcp://0.0.0.0:7443\"]\n{TOKEN}"
        ));
        assert!(e.starts_with("c.toml:2:33: `tcp://0.0.0.0:7443` is not a loopback address, so it must use TLS: add tls_cert"), "{e}");
        assert!(e.contains("tls_key = { file ="), "{e}");
        assert!(!e.contains("t0k3n-canary"), "{e}");
        // IPv6 "any" too.
        let e = parse_err(&format!("[agent]\nlisten = [\"tcp://[::]:7443\"]\n{TOKEN}"));
        assert!(e.contains("must use TLS"), "{e}");
    }

    #[test]
    fn loopback_tcp_needs_only_a_token() {
        let c = parse_ok(&format!(
            "[agent]\nlisten = [\"tcp://127.0.0.1:7443\", \"tcp://localhost:7444\", \"tcp://[::1]:0\"]\n{TOKEN}"
        ));
        assert_eq!(
            c.agent.listen,
            vec![
                Listen::Tcp("127.0.0.1:7443".parse().unwrap()),
                Listen::Tcp("127.0.0.1:7444".parse().unwrap()),
                Listen::Tcp("[::1]:0".parse().unwrap()),
            ]
        );
        assert_eq!(c.agent.auth_tokens.len(), 1);
        assert!(c.agent.tls.is_none());
        assert!(
            !format!("{c:?}").contains("t0k3n-canary"),
            "Debug masks tokens"
        );
        // Without a token: refused, at the listener.
        let e = parse_err("[agent]\nlisten = [\"tcp://127.0.0.1:7443\"]\n");
        assert!(
            e.starts_with("c.toml:2:11: TCP listeners require bearer tokens: add auth_tokens"),
            "{e}"
        );
        let e = parse_err("[agent]\nlisten = [\"tcp://127.0.0.1:7443\"]\nauth_tokens = []\n");
        assert!(e.starts_with("c.toml:3:15: TCP listeners require"), "{e}");
    }

    #[test]
    fn bad_tcp_addresses_and_tokens_are_explained() {
        for (listen, expect) in [
            ("tcp://assetd.example:7443", "is not an IP address"),
            ("tcp://0.0.0.0", "give HOST:PORT"),
            ("tcp://0.0.0.0:http", "is not a port number"),
            ("tcp://::1:7443", "in brackets"),
            ("udp://0.0.0.0:7443", "starts with unix:// or tcp://"),
        ] {
            let e = parse_err(&format!("[agent]\nlisten = [\"{listen}\"]\n{TOKEN}"));
            assert!(
                e.contains("c.toml:2:11:") && e.contains(expect),
                "{listen}: {e}"
            );
        }
        let e = parse_err(
            "[agent]\nlisten = [\"tcp://127.0.0.1:7443\"]\nauth_tokens = [\"short-t0k3n\"]\n",
        );
        assert!(
            e.contains("c.toml:3:16:") && e.contains("11 characters long; use at least 16"),
            "{e}"
        );
        assert!(!e.contains("short-t0k3n"), "the token is not quoted: {e}");
        let e = parse_err(&format!(
            "[agent]\nlisten = [\"tcp://127.0.0.1:1\", \"tcp://127.0.0.1:1\"]\n{TOKEN}"
        ));
        assert!(e.contains("listed twice"), "{e}");
    }

    #[test]
    fn metrics_listen_takes_an_address_and_refuses_what_is_not_one() {
        let at = |text: &str| {
            parse_ok(&format!("[agent]\nmetrics_listen = \"{text}\"\n"))
                .agent
                .metrics_listen
        };
        assert_eq!(
            parse_ok("").agent.metrics_listen,
            None,
            "off unless asked for"
        );
        assert_eq!(
            at("127.0.0.1:9187"),
            Some("127.0.0.1:9187".parse().unwrap())
        );
        assert_eq!(at("0.0.0.0:9187"), Some("0.0.0.0:9187".parse().unwrap()));
        assert_eq!(at("[::1]:9187"), Some("[::1]:9187".parse().unwrap()));
        assert_eq!(at("localhost:0"), Some("127.0.0.1:0".parse().unwrap()));
        for (text, expect) in [
            ("http://127.0.0.1:9187", "without `http://`"),
            ("127.0.0.1", "give HOST:PORT"),
            ("127.0.0.1:http", "is not a port number"),
            ("127.0.0.1:70000", "is not a port number"),
            ("metrics.example:9187", "is not an IP address"),
            ("::1:9187", "in brackets"),
        ] {
            let e = parse_err(&format!("[agent]\nmetrics_listen = \"{text}\"\n"));
            assert!(e.starts_with("c.toml:2:18: `metrics_listen"), "{text}: {e}");
            assert!(e.contains(expect), "{text}: {e}");
            assert!(
                !e.contains("tcp://"),
                "metrics are not a tcp:// listener: {e}"
            );
        }
        let e = parse_err(&format!(
            "[agent]\nlisten = [\"tcp://127.0.0.1:7443\"]\n{TOKEN}metrics_listen = \"0.0.0.0:7443\"\n"
        ));
        assert!(e.contains("is the port of a `tcp://` listener"), "{e}");
        let e = parse_err("[agent]\nmetrics_listen = 9187\n");
        assert!(e.contains("c.toml:2:18"), "{e}");
    }

    #[test]
    fn tls_files_are_read_and_checked_at_load() {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = cert_files(dir.path(), "server");
        let (_, other_key) = cert_files(dir.path(), "other");
        let agent = |cert: &Path, key: &Path, extra: &str| {
            format!(
                "[agent]\nlisten = [\"tcp://0.0.0.0:7443\"]\n{TOKEN}tls_cert = \"{}\"\ntls_key = {{ file = \"{}\" }}\n{extra}",
                cert.display(),
                key.display()
            )
        };
        let c = parse_ok(&agent(&cert, &key, ""));
        let tls = c.agent.tls.as_ref().expect("TLS");
        assert_eq!(tls.cert, cert);
        assert!(tls.client_ca.is_none());
        assert!(!format!("{c:?}").contains("PRIVATE KEY"));
        // Mutual TLS: any PEM certificate serves as the client CA here.
        let c = parse_ok(&agent(
            &cert,
            &key,
            &format!("tls_client_ca = \"{}\"\n", cert.display()),
        ));
        assert_eq!(c.agent.tls.unwrap().client_ca, Some(cert.clone()));

        let e = parse_err(&agent(&dir.path().join("none.pem"), &key, ""));
        assert!(
            e.starts_with("c.toml:4:12: `tls_cert`: cannot read ") && e.contains("none.pem"),
            "{e}"
        );
        let e = parse_err(&agent(&cert, &other_key, ""));
        assert!(
            e.starts_with("c.toml:5:11: `tls_key`:")
                && e.contains("does not belong to the certificate"),
            "{e}"
        );
        std::fs::write(dir.path().join("junk.pem"), "not a certificate\n").unwrap();
        let e = parse_err(&agent(&dir.path().join("junk.pem"), &key, ""));
        assert!(e.contains("holds no PEM certificate"), "{e}");
        let cert_as_key = dir.path().join("cert-as-key.pem");
        std::fs::copy(&cert, &cert_as_key).unwrap();
        std::fs::set_permissions(
            &cert_as_key,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )
        .unwrap();
        let e = parse_err(&agent(&cert, &cert_as_key, ""));
        assert!(
            e.contains("`tls_key`:") && e.contains("not a PEM private key"),
            "{e}"
        );
        let e = parse_err(&agent(
            &cert,
            &key,
            &format!(
                "tls_client_ca = \"{}\"\n",
                dir.path().join("junk.pem").display()
            ),
        ));
        assert!(e.contains("c.toml:6:17: `tls_client_ca`:"), "{e}");
        // Half a TLS setup says what is missing.
        let e = parse_err(&format!(
            "[agent]\nlisten = [\"tcp://127.0.0.1:7443\"]\n{TOKEN}tls_cert = \"{}\"\n",
            cert.display()
        ));
        assert!(e.contains("`tls_cert` needs `tls_key` too"), "{e}");
        let e = parse_err(&format!(
            "[agent]\ntls_client_ca = \"{}\"\n",
            cert.display()
        ));
        assert!(
            e.contains("`tls_client_ca` needs `tls_cert` and `tls_key`"),
            "{e}"
        );
    }

    #[test]
    fn client_members_must_name_configured_sources() {
        let e = parse_err(&format!(
            "{AUVIK}\n[[client]]\nname = \"Contoso\"\nmembers = [\"auvik:contoso\", \"syncro:Contoso\", \"nocolon\"]\n"
        ));
        assert!(
            e.contains("names source `syncro`, which is not configured"),
            "{e}"
        );
        assert!(e.contains("must be \"SOURCE:NAME-or-ID\""), "{e}");
    }
}
