//! Syncro's settings in a `[[source]]` table: `subdomain`, `api_key`, `requests_per_minute`,
//! `include_disabled_customers`, `warranty_property`, `purchase_property`, checked here (the
//! file's format and shared keys are `config`'s).

use crate::config::check::Checker;
use crate::secret::{Secret, SecretSpec};
use toml::Spanned;

/// Syncro's documented limit: 180 requests per minute per IP address.
pub const SYNCRO_DEFAULT_RPM: u32 = 180;

#[derive(Debug, Clone, PartialEq)]
pub struct SyncroConfig {
    /// The account's subdomain: `acme` for https://acme.syncromsp.com.
    pub subdomain: String,
    pub api_key: Secret,
    /// The client-side budget, shared by every source on the same Syncro host.
    pub requests_per_minute: u32,
    /// Also sync disabled customers (Syncro leaves them out by default).
    pub include_disabled_customers: bool,
    /// The asset custom properties (by display name) that hold the warranty's expiry and
    /// the purchase date: Syncro has no such fields of its own, MSPs add them. `None`: not
    /// read.
    pub warranty_property: Option<String>,
    pub purchase_property: Option<String>,
}

/// Syncro's keys of one `[[source]]` table, as written.
pub struct Keys<'a> {
    pub subdomain: &'a Option<Spanned<String>>,
    pub api_key: &'a Option<Spanned<SecretSpec>>,
    pub requests_per_minute: &'a Option<Spanned<i64>>,
    pub include_disabled_customers: &'a Option<Spanned<bool>>,
    pub warranty_property: &'a Option<Spanned<String>>,
    pub purchase_property: &'a Option<Spanned<String>>,
}

/// Checks source `name`'s Syncro keys (`table`: where its table starts, for what is
/// missing); the settings and the default base URL.
pub fn check(
    c: &mut Checker<'_>,
    table: usize,
    raw: Keys<'_>,
    name: &str,
) -> Option<(SyncroConfig, url::Url)> {
    let hint = "the account's subdomain, e.g. acme for https://acme.syncromsp.com";
    let subdomain = match raw.subdomain {
        None => {
            c.error_at(
                Some(table),
                format!("source `{name}`: `subdomain` is missing ({hint})"),
            );
            None
        }
        Some(v) => match syncro_subdomain(v.get_ref()) {
            Some(sub) => Some(sub),
            None => {
                c.error(
                    v,
                    format!(
                        "source `{name}`: `subdomain` `{}` is not a Syncro subdomain; write `acme`, `acme.syncromsp.com` or `https://acme.syncromsp.com/` ({hint})",
                        v.get_ref()
                    ),
                );
                None
            }
        },
    };
    let requests_per_minute = match raw.requests_per_minute {
        None => Some(SYNCRO_DEFAULT_RPM),
        Some(v) if (1..=10_000).contains(v.get_ref()) => Some(*v.get_ref() as u32),
        Some(v) => {
            c.error(
                v,
                format!("source `{name}`: `requests_per_minute` must be between 1 and 10000 (Syncro allows 180 per IP address)"),
            );
            None
        }
    };
    let api_key = match raw.api_key {
        Some(k) => Some(c.secret(k, "api_key")),
        None => {
            c.error_at(Some(table), format!("source `{name}`: `api_key` is missing (a Syncro API token with Assets - List/Search and View Details, e.g. api_key = {{ env = \"SYNCRO_API_KEY\" }})"));
            None
        }
    };
    let mut property = |key: &str, v: &Option<Spanned<String>>| -> Option<Option<String>> {
        let Some(v) = v else { return Some(None) };
        let name_ = v.get_ref().trim();
        if name_.is_empty() || name_.chars().count() > 200 || name_.chars().any(char::is_control) {
            c.error(
                v,
                format!(
                    "source `{name}`: `{key}` must name an asset custom property as Syncro shows it \
                     (e.g. \"Warranty Expires\"): 1 to 200 characters, no control characters"
                ),
            );
            return None;
        }
        Some(Some(name_.to_string()))
    };
    let warranty_property = property("warranty_property", raw.warranty_property);
    let purchase_property = property("purchase_property", raw.purchase_property);
    let subdomain = subdomain?;
    let default_url = url::Url::parse(&format!("https://{subdomain}.syncromsp.com/")).ok()?;
    Some((
        SyncroConfig {
            subdomain,
            api_key: api_key?,
            requests_per_minute: requests_per_minute?,
            include_disabled_customers: raw
                .include_disabled_customers
                .as_ref()
                .is_some_and(|v| *v.get_ref()),
            warranty_property: warranty_property?,
            purchase_property: purchase_property?,
        },
        default_url,
    ))
}

/// `acme`, `acme.syncromsp.com` or `https://acme.syncromsp.com/...` → `acme`; anything
/// that is not one DNS label under syncromsp.com → None.
pub fn syncro_subdomain(input: &str) -> Option<String> {
    let s = input.trim().to_ascii_lowercase();
    let s = s
        .strip_prefix("https://")
        .or_else(|| s.strip_prefix("http://"))
        .unwrap_or(&s);
    let host = s.split(['/', '?', '#']).next().unwrap_or("");
    let label = match host.strip_suffix(".syncromsp.com") {
        Some(l) => l,
        None if !host.contains('.') && !s.contains('/') => host,
        None => return None,
    };
    let valid = !label.is_empty()
        && label.len() <= 63
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    valid.then(|| label.to_string())
}

#[cfg(test)]
mod tests {
    use super::syncro_subdomain;

    #[test]
    fn subdomains_are_normalised_or_refused() {
        for ok in [
            "acme",
            "ACME",
            "acme.syncromsp.com",
            "https://acme.syncromsp.com/",
            "https://acme.syncromsp.com/api/v1",
        ] {
            assert_eq!(syncro_subdomain(ok).as_deref(), Some("acme"), "{ok}");
        }
        for bad in [
            "",
            "acme.example.com",
            "https://evil.com/acme",
            "a b",
            "acme.syncromsp.com.evil",
            "-acme",
            "ac_me",
        ] {
            assert_eq!(syncro_subdomain(bad), None, "{bad}");
        }
    }
}
