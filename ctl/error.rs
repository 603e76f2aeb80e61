//! Errors that map to a one-line message and an exit code.
//!
//! Exit codes: 0 ok; 1 any other error; 2 bad usage or a refused request (clap errors,
//! `purge` without `--yes`); 3 the agent is not running or not reachable; 4 access denied
//! (socket permissions, an untrusted per-user socket directory, missing or wrong token, a
//! TLS certificate not trusted either way, PERMISSION_DENIED); 5 not found;
//! 6 the agent does not support the request (UNIMPLEMENTED); 7 a sync run failed or was
//! cancelled (`sync --wait`).

use tonic::{Code, Status};

pub const EXIT_OK: i32 = 0;
pub const EXIT_ERROR: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_NOT_RUNNING: i32 = 3;
pub const EXIT_ACCESS: i32 = 4;
pub const EXIT_NOT_FOUND: i32 = 5;
pub const EXIT_UNSUPPORTED: i32 = 6;
pub const EXIT_SYNC_FAILED: i32 = 7;

const START_HINT: &str = "start it with `systemctl start assetd` or `assetd demo`";

#[derive(Debug, thiserror::Error)]
pub enum CtlError {
    #[error("assetd is not running (no socket at {path}); {START_HINT}")]
    NoSocket { path: String },
    #[error("assetd is not running (nothing is listening on {path}); {START_HINT}")]
    Refused { path: String },
    /// `group`: the socket's group, whose members may query (`connect::socket_group`).
    #[error(
        "permission denied on {path}: add yourself to group {group}, the socket's group (`sudo usermod -aG {group} $USER`, then log in again), or run assetctl with sudo"
    )]
    SocketPermission { path: String, group: String },
    /// The per-user socket's directory is not the user's alone (`connect::check_per_user_dir`).
    #[error("refusing the per-user socket in {dir}: {why}; {fix}")]
    UntrustedSocketDir {
        dir: String,
        why: String,
        fix: String,
    },
    #[error("cannot reach assetd at {target}: {reason}")]
    Unreachable { target: String, reason: String },
    #[error("lost the connection to assetd: {0} (is it still running?)")]
    Lost(String),
    /// The TLS handshake failed on trust: the agent's certificate, or ours.
    #[error("TLS with {target} failed: {reason}")]
    Tls { target: String, reason: String },
    /// UNAUTHENTICATED: the agent's message; `explain_unauthenticated` says what to do.
    #[error("the agent requires a valid bearer token ({0}); pass it with --token-file PATH")]
    Unauthenticated(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    InvalidArgument(String),
    #[error("{0}")]
    Denied(String),
    #[error("this agent does not support {0} yet; upgrade assetd")]
    Unimplemented(String),
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    SyncFailed(String),
    #[error("{0}")]
    Rpc(String),
}

impl CtlError {
    pub fn exit_code(&self) -> i32 {
        match self {
            Self::NoSocket { .. }
            | Self::Refused { .. }
            | Self::Unreachable { .. }
            | Self::Lost(_) => EXIT_NOT_RUNNING,
            Self::SocketPermission { .. }
            | Self::UntrustedSocketDir { .. }
            | Self::Denied(_)
            | Self::Tls { .. }
            | Self::Unauthenticated(_) => EXIT_ACCESS,
            Self::NotFound(_) => EXIT_NOT_FOUND,
            Self::InvalidArgument(_) | Self::Usage(_) => EXIT_USAGE,
            Self::Unimplemented(_) => EXIT_UNSUPPORTED,
            Self::SyncFailed(_) => EXIT_SYNC_FAILED,
            Self::Rpc(_) => EXIT_ERROR,
        }
    }
}

/// What was being asked, for messages: the RPC and the verb that uses it.
#[derive(Debug, Clone, Copy)]
pub struct Call {
    pub rpc: &'static str,
    pub verb: &'static str,
}

pub const fn call(rpc: &'static str, verb: &'static str) -> Call {
    Call { rpc, verb }
}

fn message_or(status: &Status, fallback: &str) -> String {
    let m = status.message().trim();
    if m.is_empty() {
        fallback.to_owned()
    } else {
        m.to_owned()
    }
}

/// Map a gRPC status to a one-line error. The token is never part of any message.
pub fn rpc_error(status: Status, call: Call) -> CtlError {
    match status.code() {
        Code::NotFound => CtlError::NotFound(message_or(&status, "not found")),
        Code::InvalidArgument => CtlError::InvalidArgument(message_or(
            &status,
            &format!("the agent refused the {} request as invalid", call.rpc),
        )),
        Code::FailedPrecondition | Code::AlreadyExists | Code::OutOfRange => {
            CtlError::Rpc(message_or(&status, "the agent refused the request"))
        }
        Code::Unauthenticated => CtlError::Unauthenticated(message_or(&status, "unauthenticated")),
        Code::PermissionDenied => CtlError::Denied(format!(
            "permission denied: {}",
            message_or(&status, "the agent refused the request")
        )),
        Code::Unimplemented => {
            CtlError::Unimplemented(format!("{} (`assetctl {}`)", call.rpc, call.verb))
        }
        // A TLS 1.3 server checks the client's certificate after the client's side of the
        // handshake is done, so a refused client certificate shows at the first call.
        Code::Unavailable | Code::Unknown if tls_failure(&status).is_some() => CtlError::Tls {
            target: "the agent".to_owned(),
            reason: tls_failure(&status).unwrap_or_default(),
        },
        Code::Unavailable => CtlError::Lost(message_or(&status, "unavailable")),
        // A transport failure (the status was made by tonic, with the cause as its source,
        // not sent by the agent): the connection broke under the call. Which code tonic
        // gives it depends on where the connection was when it broke.
        Code::Unknown | Code::Cancelled | Code::Internal
            if std::error::Error::source(&status).is_some() =>
        {
            let cause = std::error::Error::source(&status)
                .map(crate::connect::chain_text)
                .unwrap_or_default();
            let message = status.message();
            CtlError::Lost(if cause.starts_with(message) {
                cause
            } else {
                format!("{message}: {cause}")
            })
        }
        Code::DeadlineExceeded => CtlError::Rpc(format!(
            "the agent did not answer {} in time; it may be overloaded (check `journalctl -u assetd`)",
            call.rpc
        )),
        code => CtlError::Rpc(format!(
            "{} failed ({}): {}",
            call.rpc,
            code_name(code),
            message_or(&status, "no details")
        )),
    }
}

/// What went wrong in a TLS handshake, said as what to do, when the error's cause chain
/// holds a rustls error; `None` for anything else.
pub fn tls_failure(err: &(dyn std::error::Error + 'static)) -> Option<String> {
    use rustls::{AlertDescription as A, CertificateError as C, Error as E};
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    let mut found = None;
    while let Some(e) = cur {
        // io::Error hides its payload from `source()`: look inside it too.
        let inner = e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|i| i.downcast_ref::<E>());
        if let Some(r) = e.downcast_ref::<E>().or(inner) {
            found = Some(r);
            break;
        }
        cur = e.source();
    }
    let text = match found? {
        E::InvalidCertificate(C::UnknownIssuer) | E::InvalidCertificate(C::BadSignature) => {
            "the agent's certificate is not signed by a CA this assetctl trusts: pass --ca-file with the CA that signed the agent's tls_cert".to_owned()
        }
        E::InvalidCertificate(C::NotValidForName)
        | E::InvalidCertificate(C::NotValidForNameContext { .. }) => {
            "the agent's certificate is not issued for this host name or address: connect by a name the certificate lists".to_owned()
        }
        E::InvalidCertificate(C::Expired)
        | E::InvalidCertificate(C::ExpiredContext { .. })
        | E::InvalidCertificate(C::NotValidYet)
        | E::InvalidCertificate(C::NotValidYetContext { .. }) => {
            "the agent's certificate has expired or is not valid yet (check its dates and this machine's clock)".to_owned()
        }
        E::AlertReceived(A::CertificateRequired) => {
            "the agent requires a client certificate: pass --cert-file and --key-file (signed by the agent's tls_client_ca)".to_owned()
        }
        E::AlertReceived(A::UnknownCA)
        | E::AlertReceived(A::BadCertificate)
        | E::AlertReceived(A::CertificateUnknown)
        | E::AlertReceived(A::DecryptError) => {
            "the agent refused the client certificate: use one signed by the agent's tls_client_ca (--cert-file, --key-file)".to_owned()
        }
        E::InvalidMessage(_) => {
            "the agent did not answer with TLS: for a plain-text loopback listener use http://".to_owned()
        }
        other => format!("{other}"),
    };
    Some(text)
}

/// The one-line reason for UNAUTHENTICATED, given what assetctl sent: no token, or the
/// token from `token_file`. Other errors pass through unchanged.
pub fn explain_unauthenticated(
    err: anyhow::Error,
    token_file: Option<&std::path::Path>,
) -> anyhow::Error {
    let is_unauthenticated = err.chain().any(|e| {
        matches!(
            e.downcast_ref::<CtlError>(),
            Some(CtlError::Unauthenticated(_))
        )
    });
    if !is_unauthenticated {
        return err;
    }
    let text = match token_file {
        None => "the agent requires a bearer token on this endpoint: pass --token-file PATH (or set ASSETD_TOKEN_FILE) with one of the agent's auth_tokens".to_owned(),
        Some(path) => format!(
            "the agent refused the token: check --token-file {} (it must be one of the agent's auth_tokens; it may have been revoked)",
            path.display()
        ),
    };
    CtlError::Denied(text).into()
}

fn code_name(code: Code) -> &'static str {
    match code {
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::Aborted => "ABORTED",
        Code::Internal => "INTERNAL",
        Code::DataLoss => "DATA_LOSS",
        _ => "ERROR",
    }
}

/// The one line printed for an error: the whole cause chain, with no line breaks.
pub fn one_line(err: &anyhow::Error) -> String {
    let text = format!("{err:#}");
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The exit code for an error: that of the first [`CtlError`] in the chain, else 1.
pub fn exit_code(err: &anyhow::Error) -> i32 {
    err.chain()
        .find_map(|e| e.downcast_ref::<CtlError>())
        .map_or(EXIT_ERROR, CtlError::exit_code)
}

/// True when the error is a closed stdout (`assetctl … | head`), which is not a failure.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const C: Call = call("GetAsset", "assets get");

    #[test]
    fn statuses_map_to_messages_and_codes() {
        let e = rpc_error(Status::not_found("no asset with id 42"), C);
        assert_eq!(e.to_string(), "no asset with id 42");
        assert_eq!(e.exit_code(), EXIT_NOT_FOUND);

        let e = rpc_error(Status::invalid_argument("page_size: must be >= 0"), C);
        assert_eq!(e.to_string(), "page_size: must be >= 0");
        assert_eq!(e.exit_code(), EXIT_USAGE);

        let e = rpc_error(Status::unimplemented(""), C);
        assert_eq!(
            e.to_string(),
            "this agent does not support GetAsset (`assetctl assets get`) yet; upgrade assetd"
        );
        assert_eq!(e.exit_code(), EXIT_UNSUPPORTED);

        let e = rpc_error(Status::unauthenticated("missing bearer token"), C);
        assert!(e.to_string().contains("--token-file"));
        assert_eq!(e.exit_code(), EXIT_ACCESS);
        let without = explain_unauthenticated(e.into(), None);
        assert!(
            one_line(&without).starts_with("the agent requires a bearer token"),
            "{without}"
        );
        assert_eq!(exit_code(&without), EXIT_ACCESS);
        let e = rpc_error(Status::unauthenticated("the bearer token was refused"), C);
        let with = explain_unauthenticated(e.into(), Some(std::path::Path::new("/t/tok")));
        assert!(
            one_line(&with).starts_with("the agent refused the token: check --token-file /t/tok"),
            "{with}"
        );
        assert_eq!(exit_code(&with), EXIT_ACCESS);

        let e = rpc_error(Status::internal("database is locked"), C);
        assert_eq!(
            e.to_string(),
            "GetAsset failed (INTERNAL): database is locked"
        );
        assert_eq!(e.exit_code(), EXIT_ERROR);
    }

    #[test]
    fn errors_print_on_one_line_with_their_code() {
        let err = anyhow::Error::new(CtlError::InvalidArgument("bad\nfield".into()))
            .context("listing assets");
        assert_eq!(one_line(&err), "listing assets: bad field");
        assert_eq!(exit_code(&err), EXIT_USAGE);
        assert_eq!(exit_code(&anyhow::anyhow!("x")), EXIT_ERROR);
        let pipe = anyhow::Error::new(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(is_broken_pipe(&pipe));
    }
}
