//! Passportal's settings in a `[[source]]` table: `datacenter`, `access_key_id`,
//! `secret_access_key`, checked here (the file's format and shared keys are `config`'s).

use crate::config::check::Checker;
use crate::secret::{Secret, SecretSpec};
use toml::Spanned;

/// Passportal's datacenters (`https://<dc>-clover.passportalmsp.com`).
pub const PASSPORTAL_DATACENTERS: &[&str] = &["us", "ca", "uk", "de", "au"];

#[derive(Debug, Clone, PartialEq)]
pub struct PassportalConfig {
    pub datacenter: String,
    /// The Access key ID (64 hex characters); not secret, it names the key.
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

/// Passportal's keys of one `[[source]]` table, as written.
pub struct Keys<'a> {
    pub datacenter: &'a Option<Spanned<String>>,
    pub access_key_id: &'a Option<Spanned<String>>,
    pub secret_access_key: &'a Option<Spanned<SecretSpec>>,
}

/// Checks source `name`'s Passportal keys (`table`: where its table starts, for what is
/// missing); the settings and the default base URL.
pub fn check(
    c: &mut Checker<'_>,
    table: usize,
    raw: Keys<'_>,
    name: &str,
) -> Option<(PassportalConfig, url::Url)> {
    let datacenter = raw.datacenter.as_ref().map_or("us".to_string(), |d| {
        d.get_ref().trim().to_ascii_lowercase()
    });
    if let Some(d) = raw.datacenter
        && !PASSPORTAL_DATACENTERS.contains(&datacenter.as_str())
    {
        c.error(
            d,
            format!(
                "source `{name}`: unknown Passportal datacenter `{}`; expected one of {} (the start of your Passportal address, e.g. us for https://us-clover.passportalmsp.com)",
                d.get_ref(),
                PASSPORTAL_DATACENTERS.join(", ")
            ),
        );
    }
    let key_id = c.required(
        table,
        raw.access_key_id,
        name,
        "access_key_id",
        "the Access key ID from Passportal's Settings > API Keys",
    );
    let secret = match raw.secret_access_key {
        Some(k) => Some(c.secret(k, "secret_access_key")),
        None => {
            c.error_at(Some(table), format!("source `{name}`: `secret_access_key` is missing (the Secret access key shown once when the key was created, e.g. secret_access_key = {{ credential = \"passportal\" }})"));
            None
        }
    };
    // The two values look alike and are often swapped; the key id is 64 hex characters.
    let is_key_id = |v: &str| v.len() == 64 && v.chars().all(|c| c.is_ascii_hexdigit());
    if let (Some(id), Some(secret), Some(at)) =
        (key_id, secret.as_ref(), raw.access_key_id.as_ref())
        && !is_key_id(id.trim())
        && is_key_id(secret.expose())
    {
        c.error(
            at,
            format!(
                "source `{name}`: `access_key_id` and `secret_access_key` look swapped: the Access key ID is the 64 hex characters; exchange the two values"
            ),
        );
        return None;
    }
    let default_url =
        url::Url::parse(&format!("https://{datacenter}-clover.passportalmsp.com/")).ok()?;
    Some((
        PassportalConfig {
            datacenter,
            access_key_id: key_id?.trim().to_string(),
            secret_access_key: secret?,
        },
        default_url,
    ))
}
