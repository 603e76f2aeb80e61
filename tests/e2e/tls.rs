//! TCP listeners (CONTRACT §6): TLS with certificates this test makes (rcgen), bearer tokens,
//! mutual TLS, token revocation and certificate renewal by reload, and plain text only on
//! loopback. Real agent process, real rustls, real tonic clients and the real assetctl.
//!
//! The agent listens on `tcp://127.0.0.1:0` and logs the port the system chose; the tests
//! read it from the start-up line, so there is no race for a free port.

use crate::common;
use crate::common::{ASSETCTL, ASSETD, Agent, write_private};
use assetd::proto::GetStatusRequest;
use assetd::proto::agent_service_client::AgentServiceClient;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

// The tokens double as canaries: none may ever show in a log or an answer.
const INVENTORY: &str = "inventory-CANARY-4b7e19d2a0c35f68e1";
const BILLING: &str = "billing-CANARY-93c1e0f7d2b84a15c2";
const WRONG: &str = "wrong-CANARY-00c0ffee00c0ffee00c0";
const ROTATED: &str = "rotated-CANARY-5d5d5d5d5d5d5d5d5d";
const CANARIES: [&str; 4] = [INVENTORY, BILLING, WRONG, ROTATED];

// ---------------------------------------------------------------------------------------
// Certificates

/// A certificate authority made for the test.
struct Ca {
    pem: String,
    issuer: Issuer<'static, KeyPair>,
}

fn new_ca(name: &str) -> Ca {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("params");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let key = KeyPair::generate().expect("key");
    let cert = params.self_signed(&key).expect("self-signed CA");
    Ca {
        pem: cert.pem(),
        issuer: Issuer::new(params, key),
    }
}

/// A certificate signed by `ca`: (certificate PEM, key PEM).
fn leaf(ca: &Ca, names: &[&str], purpose: ExtendedKeyUsagePurpose) -> (String, String) {
    let mut params =
        CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
            .expect("params");
    params.distinguished_name.push(
        DnType::CommonName,
        names.first().copied().unwrap_or("client"),
    );
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![purpose];
    let key = KeyPair::generate().expect("key");
    let cert = params.signed_by(&key, &ca.issuer).expect("sign");
    (cert.pem(), key.serialize_pem())
}

/// The files of a test PKI: the agent's CA and a stranger's, a server certificate for
/// 127.0.0.1 and localhost, and a client certificate from each CA.
struct Pki {
    ca: PathBuf,
    other_ca: PathBuf,
    server_cert: PathBuf,
    server_key: PathBuf,
    client_cert: PathBuf,
    client_key: PathBuf,
    stranger_cert: PathBuf,
    stranger_key: PathBuf,
    ca_pem: String,
    other: Ca,
}

fn make_pki(dir: &Path) -> Pki {
    let ca = new_ca("assetd test CA");
    let other = new_ca("someone else's CA");
    let (server_cert, server_key) = leaf(
        &ca,
        &["127.0.0.1", "localhost"],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    let (client_cert, client_key) = leaf(&ca, &[], ExtendedKeyUsagePurpose::ClientAuth);
    let (stranger_cert, stranger_key) = leaf(&other, &[], ExtendedKeyUsagePurpose::ClientAuth);
    let file = |name: &str, text: &str| {
        let p = dir.join(name);
        write_private(&p, text);
        p
    };
    Pki {
        ca: file("ca.pem", &ca.pem),
        other_ca: file("other-ca.pem", &other.pem),
        server_cert: file("server.pem", &server_cert),
        server_key: file("server.key", &server_key),
        client_cert: file("client.pem", &client_cert),
        client_key: file("client.key", &client_key),
        stranger_cert: file("stranger.pem", &stranger_cert),
        stranger_key: file("stranger.key", &stranger_key),
        ca_pem: ca.pem.clone(),
        other,
    }
}

// ---------------------------------------------------------------------------------------
// The agent and its clients

/// Token files in the agent's directory (0600).
fn token_file(agent: &Agent, name: &str, token: &str) -> PathBuf {
    let p = agent.dir.path().join(name);
    write_private(&p, &format!("{token}\n"));
    p
}

/// The `[agent]` table: the harness's Unix socket plus `tcp`, with `extra` lines.
fn agent_table(agent: &Agent, tcp: &str, extra: &str) -> String {
    format!(
        "[agent]\ndatabase = \"{}\"\nlisten = [\"unix://{}\", \"{tcp}\"]\nsync_interval = \"1h\"\n{extra}\n",
        agent.db().display(),
        agent.socket.display(),
    )
}

fn tls_lines(pki: &Pki, tokens: &[&Path]) -> String {
    format!(
        "tls_cert = \"{}\"\ntls_key = {{ file = \"{}\" }}\n{}",
        pki.server_cert.display(),
        pki.server_key.display(),
        token_lines(tokens)
    )
}

fn token_lines(tokens: &[&Path]) -> String {
    let list: Vec<String> = tokens
        .iter()
        .map(|p| format!("{{ file = \"{}\" }}", p.display()))
        .collect();
    format!("auth_tokens = [{}]\n", list.join(", "))
}

/// The port of the agent's TCP listener, from its start-up log line.
fn tcp_port(agent: &Agent) -> u16 {
    let log = agent.log_text();
    let line = log
        .lines()
        .find(|l| l.contains("assetd is serving"))
        .unwrap_or_else(|| panic!("no start-up line:\n{log}"));
    let at = line
        .find("tcp://127.0.0.1:")
        .unwrap_or_else(|| panic!("no TCP listener in {line}"))
        + "tcp://127.0.0.1:".len();
    let digits: String = line[at..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    let port: u16 = digits.parse().expect("port");
    assert_ne!(port, 0, "the log shows the bound port, not 0");
    port
}

/// `assetctl ARGS` with nothing from the environment choosing the agent for it.
fn ctl(args: &[&str]) -> Output {
    Command::new(ASSETCTL)
        .args(args)
        .env_remove("ASSETD_SOCKET")
        .env_remove("ASSETD_ENDPOINT")
        .env_remove("ASSETD_TOKEN_FILE")
        .env_remove("ASSETD_CA_FILE")
        .env_remove("ASSETD_CERT_FILE")
        .env_remove("ASSETD_KEY_FILE")
        .stdin(Stdio::null())
        .output()
        .expect("run assetctl")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).to_string()
}

/// Asserts assetctl failed with `code` and a one-line message containing every `needles`.
fn assert_refused(o: &Output, code: i32, needles: &[&str], agent: &Agent) {
    let err = stderr(o);
    assert_eq!(
        o.status.code(),
        Some(code),
        "expected exit {code}; stdout: {} stderr: {err}\n--- agent log ---\n{}",
        stdout(o),
        agent.log_text()
    );
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    for n in needles {
        assert!(err.contains(n), "stderr lacks {n:?}: {err}");
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// A tonic channel over TLS to 127.0.0.1:port trusting `ca_pem`, optionally with a client
/// certificate.
async fn tls_channel(
    port: u16,
    ca_pem: &str,
    identity: Option<(&Path, &Path)>,
) -> Result<Channel, tonic::transport::Error> {
    let mut tls = ClientTlsConfig::new().ca_certificate(Certificate::from_pem(ca_pem));
    if let Some((cert, key)) = identity {
        tls = tls.identity(Identity::from_pem(
            std::fs::read(cert).expect("cert"),
            std::fs::read(key).expect("key"),
        ));
    }
    Endpoint::from_shared(format!("https://127.0.0.1:{port}"))?
        .tls_config(tls)?
        .connect()
        .await
}

fn with_token<T>(message: T, authorization: Option<&str>) -> tonic::Request<T> {
    let mut req = tonic::Request::new(message);
    if let Some(value) = authorization {
        req.metadata_mut()
            .insert("authorization", value.parse().expect("ascii"));
    }
    req
}

async fn get_status(channel: &Channel, authorization: Option<&str>) -> Result<(), tonic::Status> {
    AgentServiceClient::new(channel.clone())
        .get_status(with_token(GetStatusRequest {}, authorization))
        .await
        .map(|_| ())
}

/// The lines of the agent's log that mention `what`; each must name a loopback peer.
fn refusals_name_the_peer(agent: &Agent, what: &str) -> usize {
    let log = agent.log_text();
    let lines: Vec<&str> = log.lines().filter(|l| l.contains(what)).collect();
    for l in &lines {
        assert!(l.contains("peer=127.0.0.1:"), "no peer address: {l}");
        assert!(l.contains("WARN"), "refusals are warnings: {l}");
    }
    lines.len()
}

/// No token in `text` (each canary also covers the `Bearer …` header that carried it).
fn assert_no_token_material(text: &str, what: &str) {
    for c in CANARIES {
        assert!(!text.contains(c), "a token leaked into {what}");
    }
}

// ---------------------------------------------------------------------------------------
// Tests

#[test]
fn tls_with_a_valid_token_works_and_every_wrong_client_is_refused() {
    let sim = common::start_auvik(51, 2, 5);
    let mut inventory = PathBuf::new();
    let mut wrong = PathBuf::new();
    let mut pki_slot = None;
    let mut agent = Agent::start_with(|a| {
        let pki = make_pki(a.dir.path());
        inventory = token_file(a, "inventory.token", INVENTORY);
        let billing = token_file(a, "billing.token", BILLING);
        wrong = token_file(a, "wrong.token", WRONG);
        write_private(&a.key_file, &sim.sim.api_key());
        let text = a.auvik_config(&sim, "").replacen(
            &a.agent_section(),
            &agent_table(
                a,
                "tcp://127.0.0.1:0",
                &tls_lines(&pki, &[&inventory, &billing]),
            ),
            1,
        );
        pki_slot = Some(pki);
        text
    });
    let pki = pki_slot.expect("pki");
    let port = tcp_port(&agent);
    let url = format!("https://127.0.0.1:{port}");
    let ca = pki.ca.to_str().expect("utf-8");
    let inv = inventory.to_str().expect("utf-8");
    let mut seen = String::new();

    // The right token and CA: assetctl works, by address and by name, for every verb.
    let o = ctl(&[
        "--endpoint",
        &url,
        "--token-file",
        inv,
        "--ca-file",
        ca,
        "status",
    ]);
    assert!(o.status.success(), "status over TLS: {}", stderr(&o));
    seen.push_str(&stdout(&o));
    let o = ctl(&[
        "--endpoint",
        &url,
        "--token-file",
        inv,
        "--ca-file",
        ca,
        "sync",
        "auvik",
        "--full",
        "--wait",
    ]);
    assert!(o.status.success(), "sync over TLS: {}", stderr(&o));
    let by_name = format!("https://localhost:{port}");
    let o = ctl(&[
        "--endpoint",
        &by_name,
        "--token-file",
        inv,
        "--ca-file",
        ca,
        "-o",
        "json",
        "assets",
        "list",
    ]);
    assert!(o.status.success(), "assets over TLS: {}", stderr(&o));
    let assets: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(assets.as_array().map(Vec::len), Some(10), "{assets}");
    seen.push_str(&stdout(&o));
    // The same settings from the environment.
    let o = Command::new(ASSETCTL)
        .args(["status"])
        .env_remove("ASSETD_SOCKET")
        .env("ASSETD_ENDPOINT", &url)
        .env("ASSETD_TOKEN_FILE", inv)
        .env("ASSETD_CA_FILE", ca)
        .output()
        .expect("assetctl");
    assert!(o.status.success(), "status from env: {}", stderr(&o));

    // No token, a wrong token: UNAUTHENTICATED, exit 4, saying what to do.
    let o = ctl(&["--endpoint", &url, "--ca-file", ca, "status"]);
    assert_refused(&o, 4, &["requires a bearer token", "--token-file"], &agent);
    seen.push_str(&stderr(&o));
    let o = ctl(&[
        "--endpoint",
        &url,
        "--token-file",
        wrong.to_str().expect("utf-8"),
        "--ca-file",
        ca,
        "sources",
    ]);
    assert_refused(
        &o,
        4,
        &["the agent refused the token", "check --token-file"],
        &agent,
    );
    seen.push_str(&stderr(&o));

    // The wrong CA, or the system's CAs (which never signed this test's certificate): the
    // agent is not trusted, and assetctl says how to fix it.
    let other_ca = pki.other_ca.to_str().expect("utf-8");
    let o = ctl(&[
        "--endpoint",
        &url,
        "--token-file",
        inv,
        "--ca-file",
        other_ca,
        "status",
    ]);
    assert_refused(
        &o,
        4,
        &["TLS with", "not signed by a CA", "--ca-file"],
        &agent,
    );
    let o = ctl(&["--endpoint", &url, "--token-file", inv, "status"]);
    assert!(!o.status.success(), "system CAs do not know the test CA");
    assert!(stderr(&o).contains("--ca-file"), "{}", stderr(&o));

    // A plain-text client on the TLS port gets nowhere, and the agent logs who it was.
    let plain = format!("http://127.0.0.1:{port}");
    let o = ctl(&["--endpoint", &plain, "--token-file", inv, "status"]);
    assert_refused(
        &o,
        3,
        &["if the agent serves TLS on this port, use https://127.0.0.1:"],
        &agent,
    );
    seen.push_str(&stderr(&o));

    // A raw tonic client: the same rules, health and reflection included.
    let rt = runtime();
    rt.block_on(async {
        let channel = tls_channel(port, &pki.ca_pem, None).await.expect("TLS");
        let good = format!("Bearer {INVENTORY}");
        get_status(&channel, Some(&good))
            .await
            .expect("status with the token");
        let lower = format!("bearer {BILLING}");
        get_status(&channel, Some(&lower))
            .await
            .expect("the second token, any case");
        let e = get_status(&channel, None).await.expect_err("no token");
        assert_eq!(e.code(), Code::Unauthenticated);
        assert!(
            e.message().contains("authorization: Bearer <token>"),
            "{e:?}"
        );
        let e = get_status(&channel, Some(&format!("Bearer {WRONG}")))
            .await
            .expect_err("wrong token");
        assert_eq!(e.code(), Code::Unauthenticated);
        assert!(e.message().contains("refused"), "{e:?}");
        let e = get_status(&channel, Some("Basic aW52ZW50b3J5OnNlY3JldA=="))
            .await
            .expect_err("not a bearer token");
        assert_eq!(e.code(), Code::Unauthenticated);
        seen.push_str(&format!("{e:?}"));

        let mut health = HealthClient::new(channel.clone());
        let check = |auth: Option<&str>| {
            with_token(
                HealthCheckRequest {
                    service: "assetd.v1.AgentService".into(),
                },
                auth,
            )
        };
        let e = health
            .check(check(None))
            .await
            .expect_err("health needs the token");
        assert_eq!(e.code(), Code::Unauthenticated);
        let ok = health.check(check(Some(&good))).await.expect("health");
        assert_eq!(
            ok.into_inner().status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32
        );

        // Plain text to the TLS port: the connection or the call fails, never an answer.
        let plain = async {
            let ch = Endpoint::from_shared(format!("http://127.0.0.1:{port}"))
                .expect("url")
                .connect()
                .await
                .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
            get_status(&ch, Some(&good)).await
        };
        assert!(plain.await.is_err(), "a plain-text client got an answer");

        // A flood of wrong tokens is refused every time, but logged within a budget.
        for _ in 0..40 {
            let e = get_status(&channel, Some(&format!("Bearer {WRONG}")))
                .await
                .expect_err("wrong token");
            assert_eq!(e.code(), Code::Unauthenticated);
        }

        // The wrong CA on a raw client: the handshake fails.
        assert!(
            tls_channel(port, &pki.other.pem, None).await.is_err(),
            "a client trusting another CA connected"
        );
    });

    // The Unix socket needs no token: its permissions guard it.
    assert!(agent.ctl(&["status"]).status.success());

    agent.stop();
    let log = agent.log_text();
    // Ten refusals a minute are logged; what is left out is counted in the next minute's
    // first line. The test makes about fifty, well within a minute (within two on a slow
    // machine, hence up to twenty lines).
    let logged = refusals_name_the_peer(&agent, "Refused a request on a TCP listener");
    assert!(
        (10..=20).contains(&logged),
        "refusals are logged, at most ten a minute ({logged} lines):\n{log}"
    );
    assert!(
        refusals_name_the_peer(&agent, "not a TLS client") >= 1,
        "the plain-text client is logged with its address:\n{log}"
    );
    assert!(
        log.contains("reason=Missing") && log.contains("reason=Refused"),
        "{log}"
    );
    seen.push_str(&log);
    assert_no_token_material(&seen, "logs or answers");
    // Nor any line of the agent's private key.
    let key = std::fs::read_to_string(&pki.server_key).expect("server key");
    for line in key
        .lines()
        .filter(|l| !l.starts_with("-----") && l.len() > 16)
    {
        assert!(
            !seen.contains(line),
            "the TLS key leaked into the logs or answers"
        );
    }
}

#[test]
fn a_revoked_token_is_refused_after_reload_and_certificates_renew_without_restart() {
    let mut files = None;
    let mut agent = Agent::start_with(|a| {
        let pki = make_pki(a.dir.path());
        let inventory = token_file(a, "inventory.token", INVENTORY);
        let billing = token_file(a, "billing.token", BILLING);
        let text = agent_table(
            a,
            "tcp://127.0.0.1:0",
            &tls_lines(&pki, &[&inventory, &billing]),
        );
        files = Some((pki, inventory, billing));
        text
    });
    let (pki, inventory, billing) = files.expect("files");
    let port = tcp_port(&agent);
    let url = format!("https://127.0.0.1:{port}");
    let ca = pki.ca.to_str().expect("utf-8");
    let inv = inventory.to_str().expect("utf-8");
    let bil = billing.to_str().expect("utf-8");
    let works = |token: &str, ca: &str| {
        ctl(&[
            "--endpoint",
            &url,
            "--token-file",
            token,
            "--ca-file",
            ca,
            "status",
        ])
    };
    assert!(works(inv, ca).status.success());
    assert!(works(bil, ca).status.success());

    // A connection opened before the revocation: tokens are checked on every request,
    // so an open connection does not keep a revoked token alive.
    let rt = runtime();
    let open = rt
        .block_on(tls_channel(port, &pki.ca_pem, None))
        .expect("TLS");
    let billing_header = format!("Bearer {BILLING}");
    rt.block_on(get_status(&open, Some(&billing_header)))
        .expect("billing works before");

    // Revoke the billing token: take it out of the config; the watcher reloads.
    let generation = agent.generation();
    agent.write_config(&agent_table(
        &agent,
        "tcp://127.0.0.1:0",
        &tls_lines(&pki, &[&inventory]),
    ));
    agent.wait_for_generation(generation + 1);
    assert_refused(
        &works(bil, ca),
        4,
        &["the agent refused the token", "billing.token"],
        &agent,
    );
    assert!(
        works(inv, ca).status.success(),
        "the other token still works"
    );
    let e = rt
        .block_on(get_status(&open, Some(&billing_header)))
        .expect_err("revoked on the open connection too");
    assert_eq!(e.code(), Code::Unauthenticated);
    rt.block_on(get_status(&open, Some(&format!("Bearer {INVENTORY}"))))
        .expect("the open connection with a valid token");

    // Rotate the token in its file; SIGHUP re-reads it (as for any secret file).
    write_private(&inventory, &format!("{ROTATED}\n"));
    let generation = agent.generation();
    agent.signal(libc::SIGHUP);
    agent.wait_for_generation(generation + 1);
    let old = token_file(&agent, "old.token", INVENTORY);
    assert_refused(
        &works(old.to_str().expect("utf-8"), ca),
        4,
        &["refused the token"],
        &agent,
    );
    assert!(works(inv, ca).status.success(), "the rotated token works");

    // A broken certificate on reload is refused with its path; the running one stays.
    let good_cert = std::fs::read_to_string(&pki.server_cert).expect("cert");
    write_private(
        &pki.server_cert,
        "-----BEGIN CERTIFICATE-----\nnot base64!\n",
    );
    agent.signal(libc::SIGHUP);
    agent.wait_for("the broken certificate to be refused", |a| {
        a.config_status()["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("server.pem"))
    });
    let status = agent.config_status();
    assert!(
        status["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("`tls_cert`")),
        "{status}"
    );
    assert!(
        works(inv, ca).status.success(),
        "the old certificate still serves"
    );
    write_private(&pki.server_cert, &good_cert);

    // Renew the certificate from another CA: new connections get it without a restart.
    let (cert, key) = leaf(
        &pki.other,
        &["127.0.0.1", "localhost"],
        ExtendedKeyUsagePurpose::ServerAuth,
    );
    write_private(&pki.server_cert, &cert);
    write_private(&pki.server_key, &key);
    let generation = agent.generation();
    agent.signal(libc::SIGHUP);
    agent.wait_for_generation(generation + 1);
    let other_ca = pki.other_ca.to_str().expect("utf-8");
    assert!(
        works(inv, other_ca).status.success(),
        "the renewed certificate is served"
    );
    assert_refused(&works(inv, ca), 4, &["not signed by a CA"], &agent);
    assert_eq!(tcp_port(&agent), port, "the listener stayed");

    agent.stop();
    let log = agent.log_text();
    assert!(refusals_name_the_peer(&agent, "Refused a request on a TCP listener") >= 3);
    assert_no_token_material(&log, "the log");
}

#[test]
fn mutual_tls_refuses_clients_without_a_certificate_from_the_client_ca() {
    let mut files = None;
    let mut agent = Agent::start_with(|a| {
        let pki = make_pki(a.dir.path());
        let inventory = token_file(a, "inventory.token", INVENTORY);
        let text = agent_table(
            a,
            "tcp://127.0.0.1:0",
            &format!(
                "{}tls_client_ca = \"{}\"\n",
                tls_lines(&pki, &[&inventory]),
                pki.ca.display()
            ),
        );
        files = Some((pki, inventory));
        text
    });
    let (pki, inventory) = files.expect("files");
    let port = tcp_port(&agent);
    let url = format!("https://127.0.0.1:{port}");
    let ca = pki.ca.to_str().expect("utf-8");
    let inv = inventory.to_str().expect("utf-8");
    let path = |p: &PathBuf| p.to_str().expect("utf-8").to_string();

    // The client CA's certificate and a token: in.
    let o = ctl(&[
        "--endpoint",
        &url,
        "--token-file",
        inv,
        "--ca-file",
        ca,
        "--cert-file",
        &path(&pki.client_cert),
        "--key-file",
        &path(&pki.client_key),
        "status",
    ]);
    assert!(o.status.success(), "mTLS: {}", stderr(&o));

    // The certificate is not instead of the token: both are required.
    let o = ctl(&[
        "--endpoint",
        &url,
        "--ca-file",
        ca,
        "--cert-file",
        &path(&pki.client_cert),
        "--key-file",
        &path(&pki.client_key),
        "status",
    ]);
    assert_refused(&o, 4, &["requires a bearer token"], &agent);

    // No client certificate.
    let o = ctl(&[
        "--endpoint",
        &url,
        "--token-file",
        inv,
        "--ca-file",
        ca,
        "status",
    ]);
    assert_refused(
        &o,
        4,
        &["TLS with", "client certificate", "--cert-file"],
        &agent,
    );

    // A certificate from another CA.
    let o = ctl(&[
        "--endpoint",
        &url,
        "--token-file",
        inv,
        "--ca-file",
        ca,
        "--cert-file",
        &path(&pki.stranger_cert),
        "--key-file",
        &path(&pki.stranger_key),
        "status",
    ]);
    assert_refused(&o, 4, &["TLS with", "client certificate"], &agent);

    // A raw tonic client: the same.
    let rt = runtime();
    rt.block_on(async {
        let good = format!("Bearer {INVENTORY}");
        let with_cert = tls_channel(port, &pki.ca_pem, Some((&pki.client_cert, &pki.client_key)))
            .await
            .expect("TLS with a client certificate");
        get_status(&with_cert, Some(&good))
            .await
            .expect("mTLS and token");
        let refused = async {
            let ch = tls_channel(port, &pki.ca_pem, None)
                .await
                .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
            get_status(&ch, Some(&good)).await
        };
        let e = refused.await.expect_err("no client certificate");
        assert_ne!(e.code(), Code::Ok);
    });

    // A key file others can read is refused before anything is sent.
    let loose = agent.dir.path().join("loose.key");
    std::fs::copy(&pki.client_key, &loose).expect("copy");
    std::fs::set_permissions(&loose, std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .expect("chmod");
    let o = ctl(&[
        "--endpoint",
        &url,
        "--token-file",
        inv,
        "--ca-file",
        ca,
        "--cert-file",
        &path(&pki.client_cert),
        "--key-file",
        &path(&loose),
        "status",
    ]);
    assert_refused(&o, 2, &["readable by others", "chmod o-rwx"], &agent);

    agent.stop();
    let log = agent.log_text();
    assert!(
        refusals_name_the_peer(&agent, "sent no certificate") >= 1,
        "a client without a certificate is logged:\n{log}"
    );
    assert!(
        refusals_name_the_peer(&agent, "not signed by tls_client_ca") >= 1,
        "a client with a stranger's certificate is logged:\n{log}"
    );
    assert_no_token_material(&log, "the log");
}

#[test]
fn plain_text_is_refused_off_loopback_and_needs_a_token_on_loopback() {
    // check-config and run both refuse a plain-text listener on every interface, at its line.
    let dir = common::short_tempdir();
    let token = dir.path().join("t.token");
    write_private(&token, &format!("{INVENTORY}\n"));
    let config = dir.path().join("config.toml");
    let text = format!(
        "[agent]\ndatabase = \"{}\"\nlisten = [\"tcp://0.0.0.0:7443\"]\n{}",
        dir.path().join("a.db").display(),
        token_lines(&[&token])
    );
    write_private(&config, &text);
    let out = Command::new(ASSETD)
        .arg("check-config")
        .arg(&config)
        .output()
        .expect("check-config");
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains(&format!(
            "{}:3:11: `tcp://0.0.0.0:7443` is not a loopback address, so it must use TLS: add tls_cert",
            config.display()
        )),
        "{err}"
    );
    let out = common::run_until_exit(&config, std::time::Duration::from_secs(30));
    assert!(!out.status.success());
    assert!(stderr(&out).contains("must use TLS"), "{}", stderr(&out));
    // A too-short token is refused without being shown.
    write_private(&token, "short-CANARY\n");
    let out = Command::new(ASSETD)
        .arg("check-config")
        .arg(&config)
        .output()
        .expect("check-config");
    let err = stderr(&out);
    assert!(err.contains("use at least 16"), "{err}");
    assert!(!err.contains("short-CANARY"), "{err}");

    // On loopback, plain text with a token is enough.
    let mut tok = PathBuf::new();
    let mut agent = Agent::start_with(|a| {
        tok = token_file(a, "inventory.token", INVENTORY);
        agent_table(a, "tcp://127.0.0.1:0", &token_lines(&[&tok]))
    });
    let port = tcp_port(&agent);
    let url = format!("http://127.0.0.1:{port}");
    let t = tok.to_str().expect("utf-8");
    let o = ctl(&["--endpoint", &url, "--token-file", t, "status"]);
    assert!(o.status.success(), "loopback plain text: {}", stderr(&o));
    let o = ctl(&["--endpoint", &url, "status"]);
    assert_refused(&o, 4, &["requires a bearer token"], &agent);
    // https:// to a plain-text listener: a TLS error that says what to use.
    let o = ctl(&[
        "--endpoint",
        &format!("https://127.0.0.1:{port}"),
        "--token-file",
        t,
        "status",
    ]);
    assert_refused(&o, 4, &["did not answer with TLS", "use http://"], &agent);
    // TLS flags without https:// are a usage error.
    let o = ctl(&[
        "--endpoint",
        &url,
        "--token-file",
        t,
        "--ca-file",
        t,
        "status",
    ]);
    assert_refused(&o, 2, &["--ca-file", "https://"], &agent);

    agent.stop();
    let log = agent.log_text();
    assert!(refusals_name_the_peer(&agent, "Refused a request on a TCP listener") >= 1);
    assert!(log.contains("plain text on loopback"), "{log}");
    assert_no_token_material(&log, "the log");
}

// ---------------------------------------------------------------------------------------
// Floods (issue 21 §2)

/// The agent's resident memory, from /proc.
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("VmRSS")
}

/// The agent's CPU time so far, in clock ticks (user + system).
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("stat");
    // Fields after the command's closing parenthesis; utime and stime are the 12th and 13th.
    let rest = &stat[stat.rfind(')').expect("comm") + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().expect("utime") + f[12].parse::<u64>().expect("stime")
}

/// A connection from `from` (any 127/8 address: each is its own peer) to 127.0.0.1:port.
async fn connect_from(from: [u8; 4], port: u16) -> std::io::Result<tokio::net::TcpStream> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    socket.bind(std::net::SocketAddr::from((from, 0)))?;
    socket
        .connect(std::net::SocketAddr::from(([127, 0, 0, 1], port)))
        .await
}

/// Whether the agent closes `conn` within `within` (a read sees the end, or a reset).
async fn closed_within(conn: &mut tokio::net::TcpStream, within: std::time::Duration) -> bool {
    use tokio::io::AsyncReadExt;
    let mut buf = [0u8; 512];
    let deadline = tokio::time::Instant::now() + within;
    loop {
        match tokio::time::timeout_at(deadline, conn.read(&mut buf)).await {
            Err(_) => return false,
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
        }
    }
}

/// Issue 21 §2: 300 idle TCP connections used to hold the agent's descriptors for ever, 64
/// silent ones took every TLS handshake slot, and the metrics endpoint had no header
/// timeout. Now: past the caps (256 in all, 32 per peer address; metrics 32 and 8) the
/// excess is closed at once, a peer that does not finish its handshake within 5 s is
/// dropped, a slowloris on metrics is cut at its header timeout, and meanwhile the Unix
/// socket answers, a real TLS client gets in once the silent ones are gone, the agent's
/// memory stays bounded and it does not spin.
#[test]
fn a_flood_of_silent_peers_and_slowloris_cannot_starve_the_agent() {
    use tokio::io::AsyncWriteExt;
    let dir = common::short_tempdir();
    let pki = make_pki(dir.path());
    let mut token = PathBuf::new();
    let agent = Agent::start_with(|a| {
        token = token_file(a, "t.token", INVENTORY);
        common::with_metrics(&agent_table(
            a,
            "tcp://127.0.0.1:0",
            &tls_lines(&pki, &[&token]),
        ))
    });
    let (port, metrics) = (tcp_port(&agent), common::metrics_port(&agent));
    let pid = agent.pid();
    assert!(agent.ctl(&["status"]).status.success());
    let rss_before = rss_kib(pid);
    let rt = runtime();
    rt.block_on(async {
        // 20 peers × 20 silent connections: 400, past both caps.
        let mut silent = Vec::new();
        for peer in 2..22u8 {
            for _ in 0..20 {
                silent.push(
                    connect_from([127, 0, 0, peer], port)
                        .await
                        .expect("connect"),
                );
            }
        }
        // One peer alone past its own cap of 32.
        let mut greedy = Vec::new();
        for _ in 0..40 {
            greedy.push(connect_from([127, 0, 0, 99], port).await.expect("connect"));
        }
        // Slowloris on metrics: a request line and headers, a byte at a time, never ending.
        let mut slow = Vec::new();
        for peer in 2..6u8 {
            for _ in 0..6 {
                let mut c = connect_from([127, 0, 0, peer], metrics)
                    .await
                    .expect("connect");
                c.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
                    .await
                    .expect("write");
                slow.push(c);
            }
        }
        // The excess is closed at once: at least 400 + 40 - 256 in all, and at least 8 of
        // the greedy peer's 40 by the per-peer cap.
        let mut closed_at_once = 0;
        for c in silent.iter_mut().chain(greedy.iter_mut()) {
            if closed_within(c, std::time::Duration::from_millis(20)).await {
                closed_at_once += 1;
            }
        }
        assert!(
            closed_at_once >= 440 - 256,
            "only {closed_at_once} of 440 closed at once"
        );
        let mut greedy_closed = 0;
        for c in greedy.iter_mut() {
            if closed_within(c, std::time::Duration::from_millis(20)).await {
                greedy_closed += 1;
            }
        }
        assert!(
            greedy_closed >= 8,
            "the per-peer cap closed {greedy_closed}"
        );

        // While the flood holds every TCP slot, operators still get in on the socket, and
        // the agent neither spins nor grows without bound.
        let ticks = cpu_ticks(pid);
        let out = agent.ctl(&["status"]);
        assert!(
            out.status.success(),
            "status during the flood: {}",
            stderr(&out)
        );
        std::thread::sleep(std::time::Duration::from_secs(1));
        // Keep the slowloris trickling, which must not extend its time.
        for c in slow.iter_mut() {
            let _ = c.write_all(b"X").await;
        }
        let spent = cpu_ticks(pid) - ticks;
        // 100 ticks a second: a spinning accept loop would use about all of them.
        assert!(
            spent < 60,
            "the agent used {spent} ticks in about 1.5 s under the flood"
        );
        let grown = rss_kib(pid).saturating_sub(rss_before);
        assert!(grown < 64 * 1024, "RSS grew by {grown} KiB under the flood");

        // Silent peers are dropped once their 5 s to start a handshake are over; the
        // slowloris once its 5 s for the headers are over, trickle or not.
        for (i, c) in silent.iter_mut().chain(greedy.iter_mut()).enumerate() {
            assert!(
                closed_within(c, std::time::Duration::from_secs(10)).await,
                "silent connection {i} still open"
            );
        }
        for (i, c) in slow.iter_mut().enumerate() {
            let _ = c.write_all(b"Y").await;
            assert!(
                closed_within(c, std::time::Duration::from_secs(10)).await,
                "slowloris connection {i} still open"
            );
        }
        // And a real client, with its token, gets in.
        let channel = tls_channel(port, &pki.ca_pem, None).await.expect("tls");
        get_status(&channel, Some(&format!("Bearer {INVENTORY}")))
            .await
            .expect("a real client after the flood");
        let scrape = common::http_get(metrics, "/metrics");
        assert!(scrape.2.contains("assetd_"), "metrics after the flood");
    });
    // The refusals were logged without flooding the log: not one line per connection.
    let log = agent.log_text();
    let refusal_lines = log.lines().filter(|l| l.contains("refus")).count();
    assert!(refusal_lines < 50, "{refusal_lines} refusal lines:\n{log}");
}
