//! TLS for the TCP listeners (CONTRACT §6): the certificate, private key and optional client
//! CA, read from PEM when the config loads and turned into a rustls server config there.
//! A missing or broken file is therefore a config error naming the file, and a reload with
//! one keeps the running config (and the certificate it serves).

use crate::secret::Secret;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Which config key a [`TlsError`] is about, so the message points at that key's line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TlsPart {
    Cert,
    Key,
    ClientCa,
}

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {reason}")]
    Read {
        part: TlsPart,
        path: PathBuf,
        reason: String,
    },
    #[error(
        "{path} holds no PEM certificate (a file with -----BEGIN CERTIFICATE----- blocks{hint})"
    )]
    NoCertificate {
        part: TlsPart,
        path: PathBuf,
        hint: &'static str,
    },
    #[error("{path} is not valid PEM: {reason}")]
    BadPem {
        part: TlsPart,
        path: PathBuf,
        reason: String,
    },
    /// `from` names where the key came from (a path, a variable), never the key itself.
    #[error(
        "the private key from {from} is not a PEM private key (-----BEGIN PRIVATE KEY-----, RSA or EC): {reason}"
    )]
    BadKey { from: String, reason: String },
    #[error(
        "the private key from {from} does not belong to the certificate in {cert}: {reason}; give the key the certificate was issued for"
    )]
    KeyMismatch {
        from: String,
        cert: PathBuf,
        reason: String,
    },
    #[error("cannot use {path} as the client CA: {reason}")]
    ClientCa { path: PathBuf, reason: String },
    #[error("cannot build the TLS configuration: {0}")]
    Config(String),
}

impl TlsError {
    pub fn part(&self) -> TlsPart {
        match self {
            TlsError::Read { part, .. }
            | TlsError::NoCertificate { part, .. }
            | TlsError::BadPem { part, .. } => *part,
            TlsError::BadKey { .. } | TlsError::KeyMismatch { .. } => TlsPart::Key,
            TlsError::ClientCa { .. } => TlsPart::ClientCa,
            TlsError::Config(_) => TlsPart::Cert,
        }
    }
}

/// The TLS settings of the TCP listeners, ready to serve.
#[derive(Clone)]
pub struct ServerTls {
    pub cert: PathBuf,
    /// With a client CA, every TLS client must present a certificate it signed.
    pub client_ca: Option<PathBuf>,
    /// SHA-256 over the certificate, key and CA bytes: whether a reload changed anything,
    /// without keeping the key around to compare.
    fingerprint: [u8; 32],
    config: Arc<rustls::ServerConfig>,
}

impl PartialEq for ServerTls {
    fn eq(&self, other: &Self) -> bool {
        self.cert == other.cert
            && self.client_ca == other.client_ca
            && self.fingerprint == other.fingerprint
    }
}

// By hand: rustls's config holds the private key, and Debug must never reach it.
impl fmt::Debug for ServerTls {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerTls")
            .field("cert", &self.cert)
            .field("client_ca", &self.client_ca)
            .finish_non_exhaustive()
    }
}

impl ServerTls {
    /// The rustls config each new connection is accepted with.
    pub fn rustls_config(&self) -> Arc<rustls::ServerConfig> {
        self.config.clone()
    }
}

/// The crypto provider for every TLS config assetd builds; given explicitly so nothing
/// depends on a process-wide default being installed.
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Reads PEM certificates; an empty result is an error (`hint` says what the file is for).
pub fn read_certificates(
    path: &Path,
    part: TlsPart,
    hint: &'static str,
) -> Result<(Vec<u8>, Vec<CertificateDer<'static>>), TlsError> {
    let bytes = std::fs::read(path).map_err(|e| TlsError::Read {
        part,
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError::BadPem {
            part,
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            part,
            path: path.to_path_buf(),
            hint,
        });
    }
    Ok((bytes, certs))
}

/// What is wrong with a PEM key, in words that quote nothing of it (the PEM parser's own
/// messages may quote a line of the file).
fn key_pem_problem(e: &rustls::pki_types::pem::Error) -> &'static str {
    use rustls::pki_types::pem::Error;
    match e {
        Error::NoItemsFound => "no private key block found",
        Error::MissingSectionEnd { .. } => "the key block has no -----END line",
        Error::IllegalSectionStart { .. } => "a -----BEGIN line is malformed",
        Error::Base64Decode(_) => "the key's base64 text is damaged",
        Error::SectionTooLarge => "the key block is far too large",
        _ => "it cannot be parsed",
    }
}

/// Loads the server's certificate chain and key (and, for mutual TLS, the CA that signs
/// client certificates) into a rustls config that speaks HTTP/2 only, as gRPC needs.
/// `key_from` names where the key was read from, for messages.
pub fn load_server(
    cert: &Path,
    key: &Secret,
    key_from: &str,
    client_ca: Option<&Path>,
) -> Result<ServerTls, TlsError> {
    let (cert_bytes, chain) = read_certificates(
        cert,
        TlsPart::Cert,
        ", the server's certificate first, then its intermediates",
    )?;
    let key_der =
        PrivateKeyDer::from_pem_slice(key.expose().as_bytes()).map_err(|e| TlsError::BadKey {
            from: key_from.to_string(),
            reason: key_pem_problem(&e).to_string(),
        })?;
    let mut fingerprint = Sha256::new();
    fingerprint.update(&cert_bytes);
    fingerprint.update([0]);
    fingerprint.update(key.expose().as_bytes());
    let builder = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?;
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let (ca_bytes, certs) = read_certificates(
                ca,
                TlsPart::ClientCa,
                ", the CA that signs the clients' certificates",
            )?;
            fingerprint.update([1]);
            fingerprint.update(&ca_bytes);
            let mut roots = rustls::RootCertStore::empty();
            for c in certs {
                roots.add(c).map_err(|e| TlsError::ClientCa {
                    path: ca.to_path_buf(),
                    reason: e.to_string(),
                })?;
            }
            // Clients without a certificate are refused in the handshake: with a client CA
            // configured, mutual TLS is the rule, not an option.
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                roots.into(),
                provider(),
            )
            .build()
            .map_err(|e| TlsError::ClientCa {
                path: ca.to_path_buf(),
                reason: e.to_string(),
            })?;
            builder.with_client_cert_verifier(verifier)
        }
    };
    let mut config = builder
        .with_single_cert(chain, key_der)
        .map_err(|e| match e {
            rustls::Error::InconsistentKeys(_) => TlsError::KeyMismatch {
                from: key_from.to_string(),
                cert: cert.to_path_buf(),
                reason: e.to_string(),
            },
            other => TlsError::BadKey {
                from: key_from.to_string(),
                reason: other.to_string(),
            },
        })?;
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(ServerTls {
        cert: cert.to_path_buf(),
        client_ca: client_ca.map(Path::to_path_buf),
        fingerprint: fingerprint.finalize().into(),
        config: Arc::new(config),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_errors_quote_nothing_of_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
        let cert = dir.path().join("cert.pem");
        std::fs::write(&cert, ck.cert.pem()).unwrap();
        for key in [
            "-----BEGIN PRIVATE KEY-SECRETLINE\nAAAA\n-----END PRIVATE KEY-----\n",
            "-----BEGIN PRIVATE KEY-----\nSECRETLINE!!\n-----END PRIVATE KEY-----\n",
            "SECRETLINE\n",
        ] {
            let e = load_server(&cert, &Secret::new(key), "/k.pem", None)
                .unwrap_err()
                .to_string();
            assert!(e.contains("/k.pem"), "{e}");
            assert!(!e.contains("SECRETLINE"), "{e}");
        }
        let good = load_server(
            &cert,
            &Secret::new(ck.signing_key.serialize_pem()),
            "/k.pem",
            None,
        )
        .unwrap();
        assert!(!format!("{good:?}").contains("PRIVATE"));
        assert_eq!(good.rustls_config().alpn_protocols, vec![b"h2".to_vec()]);
    }
}
