//! Secrets: where they come from (CONTRACT §3) and a type that never shows them.

use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Path, PathBuf};
use subtle::ConstantTimeEq;

/// A secret value. `Debug` and `Display` print a mask, it has no `Serialize`, and the only
/// way to the bytes is `expose()`, which is called where a credential goes on the wire.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(********)")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("********")
    }
}

/// Where a secret is read from, as written in the config.
#[derive(Clone, PartialEq, Eq)]
pub enum SecretSpec {
    /// Inline in the config file; only allowed when the file is private to its owner.
    Inline(Secret),
    File(PathBuf),
    Env(String),
    /// `$CREDENTIALS_DIRECTORY/NAME`, as systemd's `LoadCredential=` provides.
    Credential(String),
}

impl fmt::Debug for SecretSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SecretSpec::Inline(_) => f.write_str("Inline(********)"),
            SecretSpec::File(p) => write!(f, "File({})", p.display()),
            SecretSpec::Env(n) => write!(f, "Env({n})"),
            SecretSpec::Credential(n) => write!(f, "Credential({n})"),
        }
    }
}

/// The group whose members may use the agent's Unix socket (`agent.socket_group`), and so
/// query it: no secret file may be open to it, or querying would be reading the credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryGroup {
    pub gid: u32,
    /// How messages name it: "group `assetd-query`", or the agent's own group by its gid.
    pub label: String,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SecretError {
    #[error("cannot read secret file {path}: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("secret file {path} is readable by others: run `chmod 0600 {path}`")]
    ReadableByOthers { path: PathBuf },
    #[error(
        "secret file {path} is open to {group}, the group of the agent's socket: whoever may query assetd could read it. Run `chmod 0600 {path}`, or give it a group no person belongs to (the packaged service reads files of group assetd: `chgrp assetd {path}`)"
    )]
    OpenToQueryGroup { path: PathBuf, group: String },
    #[error("environment variable {0} is not set (or not valid UTF-8)")]
    EnvMissing(String),
    #[error(
        "`{{ credential = \"{0}\" }}` needs $CREDENTIALS_DIRECTORY, which systemd sets for LoadCredential=; outside systemd use `{{ file = ... }}` (to check such a config by hand: `sudo CREDENTIALS_DIRECTORY=/etc/assetd/secrets assetd check-config PATH`)"
    )]
    NoCredentialsDirectory(String),
    #[error(
        "credential `{name}` is not in $CREDENTIALS_DIRECTORY ({dir}): add `LoadCredential={name}:/etc/assetd/secrets/{name}` to the unit (`systemctl edit assetd`), or check the name"
    )]
    CredentialMissing { name: String, dir: PathBuf },
    #[error("secret file {path} is larger than 64 KiB: it is not a key or a token, check the path")]
    TooLarge { path: PathBuf },
    #[error("the secret is empty")]
    Empty,
}

impl SecretSpec {
    pub fn is_inline(&self) -> bool {
        matches!(self, SecretSpec::Inline(_))
    }

    /// Where the secret comes from, for messages and logs: never the value.
    pub fn describe(&self) -> String {
        match self {
            SecretSpec::Inline(_) => "the config file (inline)".to_string(),
            SecretSpec::File(p) => p.display().to_string(),
            SecretSpec::Env(n) => format!("${n}"),
            SecretSpec::Credential(n) => format!("credential {n}"),
        }
    }

    /// Reads the secret now. Trailing newlines (as editors and `echo` leave them) are dropped.
    pub fn resolve(&self) -> Result<Secret, SecretError> {
        self.resolve_for(None)
    }

    /// Reads the secret now, refusing a file open to others or to `query` (the socket's
    /// group), as the agent must.
    pub fn resolve_for(&self, query: Option<&QueryGroup>) -> Result<Secret, SecretError> {
        let value = match self {
            SecretSpec::Inline(s) => s.expose().to_string(),
            SecretSpec::File(path) => read_secret_file(path, query)?,
            SecretSpec::Env(name) => {
                std::env::var(name).map_err(|_| SecretError::EnvMissing(name.clone()))?
            }
            SecretSpec::Credential(name) => {
                let dir = std::env::var_os("CREDENTIALS_DIRECTORY")
                    .filter(|d| !d.is_empty())
                    .ok_or_else(|| SecretError::NoCredentialsDirectory(name.clone()))?;
                let path = Path::new(&dir).join(name);
                if !path.exists() {
                    return Err(SecretError::CredentialMissing {
                        name: name.clone(),
                        dir: PathBuf::from(dir),
                    });
                }
                read_secret_file(&path, query)?
            }
        };
        let value = value.trim_end_matches(['\n', '\r']).to_string();
        if value.is_empty() {
            return Err(SecretError::Empty);
        }
        Ok(Secret(value))
    }
}

fn read_secret_file(path: &Path, query: Option<&QueryGroup>) -> Result<String, SecretError> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let unreadable = |e: std::io::Error| SecretError::Unreadable {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    // The modes are those of the file opened (a symlink, as Kubernetes mounts secrets, is
    // followed), so the file checked is the file read.
    let file = std::fs::File::open(path).map_err(unreadable)?;
    let meta = file.metadata().map_err(unreadable)?;
    let mode = meta.permissions().mode();
    if mode & 0o007 != 0 {
        return Err(SecretError::ReadableByOthers {
            path: path.to_path_buf(),
        });
    }
    // Reading it, or writing it (a token of one's own, a key one holds), is the same as
    // having it.
    if let Some(q) = query
        && meta.gid() == q.gid
        && mode & 0o060 != 0
    {
        return Err(SecretError::OpenToQueryGroup {
            path: path.to_path_buf(),
            group: q.label.clone(),
        });
    }
    // A secret is a key or a token, never megabytes: a path pointed at a log or a device
    // by mistake must not fill the agent's memory.
    use std::io::Read;
    let mut text = String::new();
    file.take(MAX_SECRET_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(unreadable)?;
    if text.len() as u64 > MAX_SECRET_BYTES {
        return Err(SecretError::TooLarge {
            path: path.to_path_buf(),
        });
    }
    Ok(text)
}

/// The largest secret file read (a TLS key with its chain is a few KiB).
pub const MAX_SECRET_BYTES: u64 = 64 * 1024;

impl<'de> serde::Deserialize<'de> for SecretSpec {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = SecretSpec;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(
                    "a secret: a string, { file = PATH }, { env = NAME } or { credential = NAME }",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SecretSpec, E> {
                Ok(SecretSpec::Inline(Secret(v.to_string())))
            }
            // serde's default messages quote the value (``invalid type: integer `8473...` ``),
            // and config errors reach the log and `last_error`: a secret typed without quotes
            // is still a secret, so these say what was found but never the value.
            fn visit_bool<E: serde::de::Error>(self, _: bool) -> Result<SecretSpec, E> {
                Err(unquoted("a boolean"))
            }
            fn visit_i64<E: serde::de::Error>(self, _: i64) -> Result<SecretSpec, E> {
                Err(unquoted("a number"))
            }
            fn visit_u64<E: serde::de::Error>(self, _: u64) -> Result<SecretSpec, E> {
                Err(unquoted("a number"))
            }
            fn visit_i128<E: serde::de::Error>(self, _: i128) -> Result<SecretSpec, E> {
                Err(unquoted("a number"))
            }
            fn visit_u128<E: serde::de::Error>(self, _: u128) -> Result<SecretSpec, E> {
                Err(unquoted("a number"))
            }
            fn visit_f64<E: serde::de::Error>(self, _: f64) -> Result<SecretSpec, E> {
                Err(unquoted("a number"))
            }
            fn visit_bytes<E: serde::de::Error>(self, _: &[u8]) -> Result<SecretSpec, E> {
                Err(unquoted("bytes"))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, _: A) -> Result<SecretSpec, A::Error> {
                Err(unquoted("a list"))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<SecretSpec, A::Error> {
                use serde::de::Error;
                let mut spec = None;
                while let Some(key) = map.next_key::<String>()? {
                    if spec.is_some() {
                        return Err(A::Error::custom(
                            "a secret table takes exactly one of `file`, `env`, `credential`",
                        ));
                    }
                    // The value is a path or a name, but a secret pasted here by mistake must
                    // not be echoed either.
                    let value: String = map.next_value().map_err(|_| {
                        A::Error::custom(format!(
                            "`{key}` takes a string (in quotes); the value is not shown in case it is a secret"
                        ))
                    })?;
                    spec = Some(match key.as_str() {
                        "file" => SecretSpec::File(PathBuf::from(value)),
                        "env" => SecretSpec::Env(value),
                        "credential" => {
                            // A credential is a file name in systemd's directory, never a path
                            // out of it.
                            if value.is_empty()
                                || value.contains('/')
                                || value == "."
                                || value == ".."
                            {
                                return Err(A::Error::custom(format!(
                                    "`credential = {value:?}`: a credential name is the first part of LoadCredential=NAME:PATH, without `/`"
                                )));
                            }
                            SecretSpec::Credential(value)
                        }
                        other => {
                            return Err(A::Error::unknown_field(
                                other,
                                &["file", "env", "credential"],
                            ));
                        }
                    });
                }
                spec.ok_or_else(|| {
                    A::Error::custom("a secret table needs one of `file`, `env`, `credential`")
                })
            }
        }
        d.deserialize_any(V)
    }
}

/// The error for a secret written as something other than a string or a table.
fn unquoted<E: serde::de::Error>(found: &str) -> E {
    E::custom(format!(
        "a secret is a string in quotes, {{ file = PATH }}, {{ env = NAME }} or {{ credential = NAME }}; found {found} (its value is not shown, it may be the secret)"
    ))
}

// ---------------------------------------------------------------------------------------
// Bearer tokens: the secrets TCP clients present (`auth_tokens`; `server::auth` checks them).

/// Shortest token accepted: shorter ones are guessable, and 16 characters is the least that
/// `openssl rand -hex 8` gives; the README suggests `openssl rand -hex 32`.
pub const MIN_TOKEN_CHARS: usize = 16;

/// A configured token. Only its SHA-256 digest is kept: comparing digests takes the same
/// time whatever the lengths, and the token itself stays out of the agent's memory.
#[derive(Clone, PartialEq, Eq)]
pub struct BearerToken {
    digest: [u8; 32],
    /// Where the token came from (a path, `$VAR`, a credential name), for debug logs that
    /// show which client got in; never the token.
    pub label: String,
}

impl fmt::Debug for BearerToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BearerToken({}: ********)", self.label)
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TokenError {
    #[error(
        "the token is {0} characters long; use at least {MIN_TOKEN_CHARS} (e.g. `openssl rand -hex 32`)"
    )]
    TooShort(usize),
    #[error(
        "the token may hold only visible ASCII characters (no spaces), as it is sent in an HTTP header"
    )]
    BadCharacters,
}

impl BearerToken {
    /// Surrounding whitespace is ignored, as `assetctl --token-file` ignores it.
    pub fn new(secret: &Secret, label: impl Into<String>) -> Result<BearerToken, TokenError> {
        let token = secret.expose().trim();
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(TokenError::BadCharacters);
        }
        if token.len() < MIN_TOKEN_CHARS {
            return Err(TokenError::TooShort(token.len()));
        }
        Ok(BearerToken {
            digest: Sha256::digest(token.as_bytes()).into(),
            label: label.into(),
        })
    }

    /// Whether `digest` (a presented token's SHA-256) is this token's, in constant time.
    pub fn has_digest(&self, digest: &[u8; 32]) -> bool {
        self.digest.ct_eq(digest).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_and_display_mask_the_value() {
        let s = Secret::new("canary-7f3a");
        assert!(!format!("{s:?} {s} {:?}", SecretSpec::Inline(s.clone())).contains("canary"));
        assert_eq!(s.expose(), "canary-7f3a");
    }

    #[test]
    fn file_secret_is_trimmed_and_permission_checked() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "abc\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(
            SecretSpec::File(path.clone()).resolve().unwrap().expose(),
            "abc"
        );
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(matches!(
            SecretSpec::File(path).resolve(),
            Err(SecretError::ReadableByOthers { .. })
        ));
    }

    #[test]
    fn a_secret_file_open_to_the_sockets_group_is_refused() {
        use std::os::unix::fs::{MetadataExt, PermissionsExt};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "abc\n").unwrap();
        let gid = std::fs::metadata(&path).unwrap().gid();
        let query = QueryGroup {
            gid,
            label: "group `assetd-query`".into(),
        };
        let other = QueryGroup {
            gid: gid.wrapping_add(1),
            label: "group `elsewhere`".into(),
        };
        for mode in [0o640, 0o620, 0o660] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let e = SecretSpec::File(path.clone())
                .resolve_for(Some(&query))
                .unwrap_err();
            assert!(
                matches!(e, SecretError::OpenToQueryGroup { .. }),
                "{mode:o}: {e}"
            );
            let said = e.to_string();
            assert!(
                said.contains("group `assetd-query`") && said.contains("chmod 0600"),
                "{said}"
            );
            assert!(!said.contains("abc"));
            // The same modes with the file in another group are the service's business.
            assert!(
                SecretSpec::File(path.clone())
                    .resolve_for(Some(&other))
                    .is_ok()
            );
        }
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(SecretSpec::File(path).resolve_for(Some(&query)).is_ok());
    }

    #[test]
    fn a_secret_file_larger_than_a_secret_is_refused_unread() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("key");
        std::fs::write(&path, "k".repeat(MAX_SECRET_BYTES as usize)).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(SecretSpec::File(path.clone()).resolve().is_ok());
        std::fs::write(&path, "k".repeat(MAX_SECRET_BYTES as usize + 1)).unwrap();
        let e = SecretSpec::File(path).resolve().unwrap_err();
        assert!(matches!(e, SecretError::TooLarge { .. }), "{e}");
        assert!(e.to_string().contains("larger than 64 KiB"), "{e}");
    }
}
