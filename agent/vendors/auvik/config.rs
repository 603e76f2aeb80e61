//! Auvik's settings in a `[[source]]` table: `region`, `username`, `api_key`,
//! `domain_prefix`, checked here (the config file's format and shared keys are `config`'s).

use crate::config::check::Checker;
use crate::secret::{Secret, SecretSpec};
use toml::Spanned;

/// The regions Auvik's API is served from (`https://auvikapi.<region>.my.auvik.com`).
/// `lnx` is a cluster name rather than a geography (node-auvik 1.2.0 added it beside us6:
/// `auvikapi.lnx.my.auvik.com`).
pub const AUVIK_REGIONS: &[&str] = &[
    "us1", "us2", "us3", "us4", "us5", "us6", "eu1", "eu2", "au1", "ca1", "lnx",
];

#[derive(Debug, Clone, PartialEq)]
pub struct AuvikConfig {
    pub region: String,
    pub username: String,
    pub api_key: Secret,
    pub domain_prefix: String,
}

/// Auvik's keys of one `[[source]]` table, as written.
pub struct Keys<'a> {
    pub region: &'a Option<Spanned<String>>,
    pub username: &'a Option<Spanned<String>>,
    pub api_key: &'a Option<Spanned<SecretSpec>>,
    pub domain_prefix: &'a Option<Spanned<String>>,
}

/// Checks source `name`'s Auvik keys (`table`: where its table starts, for what is missing);
/// the settings and the default base URL.
pub fn check(
    c: &mut Checker<'_>,
    table: usize,
    raw: Keys<'_>,
    name: &str,
) -> Option<(AuvikConfig, url::Url)> {
    let region = raw.region.as_ref().map_or("us1".to_string(), |r| {
        r.get_ref().trim().to_ascii_lowercase()
    });
    if let Some(r) = raw.region
        && !AUVIK_REGIONS.contains(&region.as_str())
    {
        c.error(
            r,
            format!(
                "source `{name}`: unknown Auvik region `{}`; expected one of {} (the cluster in your Auvik web address, e.g. https://PREFIX.us1.my.auvik.com)",
                r.get_ref(),
                AUVIK_REGIONS.join(", ")
            ),
        );
    }
    let username = c.required(
        table,
        raw.username,
        name,
        "username",
        "the Auvik user's e-mail address",
    );
    let domain_prefix = c.required(
        table,
        raw.domain_prefix,
        name,
        "domain_prefix",
        "the prefix of your main Auvik account, e.g. mspdemo for https://mspdemo.us1.my.auvik.com",
    );
    let api_key = match raw.api_key {
        Some(k) => Some(c.secret(k, "api_key")),
        None => {
            c.error_at(Some(table), format!("source `{name}`: `api_key` is missing (the Auvik user's API key, e.g. api_key = {{ file = \"/etc/assetd/secrets/auvik\" }})"));
            None
        }
    };
    let default_url = url::Url::parse(&format!("https://auvikapi.{region}.my.auvik.com/")).ok()?;
    Some((
        AuvikConfig {
            region,
            username: username?.trim().to_string(),
            api_key: api_key?,
            domain_prefix: domain_prefix?.trim().to_string(),
        },
        default_url,
    ))
}
