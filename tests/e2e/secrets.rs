//! A canary secret must never leave the config: not in logs, RPC answers, the database,
//! or error messages, whatever happens to the run.

use crate::common;
use crate::common::Agent;
use assetd::sim::auvik::{AuvikSim, AuvikSimOptions};
use base64::Engine as _;

const CANARY: &str = "CANARY-7d41c9e2-0b6f-4e55";

#[test]
fn the_api_key_never_leaves_the_config() {
    let sim = common::serve_auvik(AuvikSimOptions {
        seed: 31,
        clients: 2,
        assets_per_client: 10,
        api_key: CANARY.into(),
        ..AuvikSimOptions::default()
    });
    assert_eq!(sim.sim.api_key(), CANARY);

    // Inline in a private config, the strictest place to keep it from leaking; with the
    // metrics endpoint on, whose scrapes are searched too.
    let mut agent = Agent::start_with(|a| {
        common::write_private(&a.key_file, &sim.sim.api_key());
        common::with_metrics(&a.auvik_config(&sim, ""))
    });
    let inline = common::with_metrics(&agent.auvik_config(&sim, "")).replace(
        &format!("api_key = {{ file = \"{}\" }}", agent.key_file.display()),
        &format!("api_key = \"{CANARY}\""),
    );
    // The same value signs a webhook's events (a receiver on loopback that is not there:
    // its failures are logged and shown by `hooks`, without the secret).
    let inline = format!(
        "{inline}\n[[hook]]\nname = \"psa\"\nevents = [\"*\"]\nurl = \"http://127.0.0.1:9/hook\"\nsecret = \"{CANARY}\"\n"
    );
    assert!(inline.contains(CANARY));
    agent.write_config(&inline);
    agent.signal(libc::SIGHUP);
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let _ = agent.sync(true);
    sim.sim.rotate_key(); // a 401 path too
    let _ = agent.sync(true);
    agent.wait_for("the rejection", |a| {
        a.source_state() == "credentials_rejected"
    });

    let mut seen = String::new();
    for args in [
        vec!["status"],
        vec!["sources"],
        vec!["runs"],
        vec!["clients"],
        vec!["assets", "list"],
        vec!["export", "--format", "csv"],
        vec!["events"],
        vec!["hooks"],
    ] {
        let mut full = vec!["-o", "json"];
        full.extend(args);
        let out = agent.ctl(&full);
        seen.push_str(&String::from_utf8_lossy(&out.stdout));
        seen.push_str(&String::from_utf8_lossy(&out.stderr));
    }
    let (_, _, scraped) = common::http_get(common::metrics_port(&agent), "/metrics");
    assert!(
        scraped.contains("assetd_sync_runs_total{source=\"auvik\""),
        "the scrape is searched: {scraped}"
    );
    seen.push_str(&scraped);
    // A config refused for an inline secret in a shared file must not echo it either.
    let shared = agent.dir.path().join("shared.toml");
    std::fs::write(&shared, &inline).unwrap();
    let out = std::process::Command::new(common::ASSETD)
        .arg("check-config")
        .arg(&shared)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    seen.push_str(&String::from_utf8_lossy(&out.stderr));

    agent.stop();
    seen.push_str(&agent.log_text());
    for entry in std::fs::read_dir(agent.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("a.db") {
            seen.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
        }
    }
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{CANARY}", sim.sim.username()));
    assert!(!seen.contains(CANARY), "the canary leaked");
    assert!(!seen.contains(&basic), "the Basic auth header leaked");
    assert!(
        seen.contains("rejected the credentials"),
        "the checked output includes the 401 message"
    );
}

/// Issue 7's canary: every secret of every vendor is a unique marker; full syncs, faults,
/// bad configs, trace-level logging of every crate and every RPC; then the logs, the
/// agent's stdout/stderr, the database files and every answer are searched for the markers.
#[test]
fn no_secret_of_any_vendor_leaks_under_trace_logging_faults_and_bad_configs() {
    use assetd::sim::faults::{Fault, FaultRule};
    use assetd::sim::passportal::{PassportalSim, PassportalSimOptions};
    use assetd::sim::syncro::{SyncroSim, SyncroSimOptions};

    const AUVIK_KEY: &str = "CANARY-auvik-4f1b9a7c2e";
    const SYNCRO_KEY: &str = "CANARY-syncro-8d2e6b3f1a";
    // Passportal's secret is hex in real life; the marker must survive its HMAC use.
    const PASSPORTAL_SECRET: &str = "CANARY-passportal-5a9c0e7d3b";
    // A webhook's signing key: it signs every event sent, and must never be sent itself.
    const HOOK_SECRET: &str = "CANARY-hook-9e3c5a1f7b2d";
    let markers = [AUVIK_KEY, SYNCRO_KEY, PASSPORTAL_SECRET, HOOK_SECRET];
    let receiver = Capture::start();

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let auvik = AuvikSim::new(AuvikSimOptions {
        seed: 41,
        clients: 2,
        assets_per_client: 6,
        api_key: AUVIK_KEY.into(),
        ..AuvikSimOptions::default()
    });
    let syncro = SyncroSim::new(SyncroSimOptions {
        seed: 42,
        clients: 2,
        assets_per_client: 6,
        api_key: SYNCRO_KEY.into(),
        ..SyncroSimOptions::default()
    });
    let passportal = PassportalSim::new(PassportalSimOptions {
        seed: 43,
        clients: 2,
        assets_per_client: 6,
        secret_access_key: PASSPORTAL_SECRET.into(),
        ..PassportalSimOptions::default()
    });
    let (a, s, p) = runtime.block_on(async {
        let l = || async { tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap() };
        (
            auvik.start(l().await).await.unwrap(),
            syncro.start(l().await).await.unwrap(),
            passportal.start(l().await).await.unwrap(),
        )
    });
    // Inline secrets in a private config: the form most likely to be echoed by mistake.
    let config = |agent: &Agent, extra: &str| {
        format!(
            "{}[[source]]\nname = \"auvik\"\nkind = \"auvik\"\nusername = \"{}\"\napi_key = \"{AUVIK_KEY}\"\n\
             domain_prefix = \"{}\"\nbase_url = \"{}\"\nmax_retries = 1\nrequest_timeout = \"2s\"\n\n\
             [[source]]\nname = \"syncro\"\nkind = \"syncro\"\nsubdomain = \"{}\"\napi_key = \"{SYNCRO_KEY}\"\n\
             base_url = \"{}\"\nmax_retries = 1\n\n\
             [[source]]\nname = \"passportal\"\nkind = \"passportal\"\naccess_key_id = \"{}\"\n\
             secret_access_key = \"{PASSPORTAL_SECRET}\"\nbase_url = \"{}\"\nmax_retries = 1\n\n\
             [[hook]]\nname = \"psa\"\nevents = [\"*\"]\nurl = \"http://127.0.0.1:{}/hook\"\nsecret = \"{HOOK_SECRET}\"\n\n\
             [[hook]]\nname = \"notify\"\nevents = [\"run.finished\"]\ncommand = [\"/usr/bin/env\"]\n{extra}",
            agent.agent_section(),
            auvik.username(),
            auvik.domain_prefix(),
            a.base_url,
            syncro.subdomain(),
            s.base_url,
            passportal.access_key_id(),
            p.base_url,
            receiver.port
        )
    };
    let mut agent = Agent::configure(|agent| config(agent, ""));
    agent.log_filter = "trace".into();
    agent.spawn();
    for source in ["auvik", "syncro", "passportal"] {
        agent.wait_for("the first syncs", |a| a.state_of(source) == "ok");
    }

    // Faults on every vendor (the error paths format requests and responses).
    auvik
        .faults()
        .push(FaultRule::times(Fault::ServerError(503), 3));
    syncro
        .faults()
        .push(FaultRule::times(Fault::TruncatedJson, 1));
    passportal
        .faults()
        .push(FaultRule::times(Fault::Unauthorized, 5));
    for source in ["auvik", "syncro", "passportal"] {
        let _ = agent.sync_source(source, true);
    }
    // Bad configs carrying the markers: a syntax error on a secret's line, an unknown key
    // holding one, a secret of the wrong type.
    for bad in [
        format!("api_kye = \"{AUVIK_KEY}\"\n"),
        format!("junk = \"{SYNCRO_KEY}\" trailing\n"),
        format!(
            "[[source]]\nname = \"x\"\nkind = \"auvik\"\nusername = \"u\"\ndomain_prefix = \"p\"\napi_key = [\"{PASSPORTAL_SECRET}\"]\n"
        ),
    ] {
        let generation = agent.generation();
        agent.write_config(&config(&agent, &bad));
        agent.wait_for("the bad config to be refused", |a| {
            a.config_status()["state"] == "rejected"
        });
        assert_eq!(agent.generation(), generation);
    }
    agent.write_config(&config(&agent, ""));

    // Every RPC, through assetctl (JSON and the human forms).
    let mut seen = String::new();
    let first_asset = agent.assets(false)[0]["id"].as_i64().unwrap().to_string();
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let verbs: Vec<Vec<&str>> = vec![
        vec!["status"],
        vec!["sources"],
        vec!["runs"],
        vec!["clients"],
        vec!["clients", "--unmapped"],
        vec!["assets", "list"],
        vec!["assets", "get", &first_asset],
        vec!["assets", "history", &first_asset],
        vec!["devices"],
        vec!["counts"],
        vec!["counts", "--period", &month],
        vec!["export", "--format", "json"],
        vec!["export", "--format", "csv"],
        vec!["sync", "--wait"],
        vec!["purge", "--source", "nosuch", "--yes"],
        vec!["events"],
        vec!["hooks"],
        vec!["hooks", "retry", "psa"],
    ];
    for args in &verbs {
        for format in ["json", "table"] {
            let mut full = vec!["-o", format];
            full.extend(args.iter().copied());
            let out = agent.ctl(&full);
            seen.push_str(&String::from_utf8_lossy(&out.stdout));
            seen.push_str(&String::from_utf8_lossy(&out.stderr));
        }
    }
    // What the receiver was sent, headers and bodies: the events of every run.
    let last = agent.json(&["runs"])[0]["id"].as_i64().unwrap();
    agent.wait_for("the webhook to have the last run's end", |_| {
        receiver.text().contains(&format!("\"run_id\":{last},"))
            && receiver.text().contains("\"type\":\"run.finished\"")
    });
    let sent = receiver.text();
    assert!(sent.contains("x-assetd-signature-256: sha256="), "{sent}");
    seen.push_str(&sent);
    agent.stop();
    let log = agent.log_text();
    assert!(
        log.contains("TRACE") || log.contains("trace"),
        "trace logging was on"
    );
    assert!(
        log.contains("Hook command output") && log.contains("ASSETD_HOOK=notify"),
        "the command hook's output (its environment) is in the checked log"
    );
    seen.push_str(&log);
    for entry in std::fs::read_dir(agent.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("a.db") {
            seen.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
        }
    }
    for m in markers {
        assert!(!seen.contains(m), "{m} leaked");
        // Nor in an encoded form a log line could carry (Basic auth is base64).
        let b64 = base64::engine::general_purpose::STANDARD.encode(m);
        assert!(
            !seen.contains(&b64[..b64.len() - 4]),
            "{m} leaked base64-encoded"
        );
    }
    let basic = base64::engine::general_purpose::STANDARD
        .encode(format!("{}:{AUVIK_KEY}", auvik.username()));
    assert!(!seen.contains(&basic), "Auvik's Basic header leaked");
    assert!(
        seen.contains("unknown field `api_kye`"),
        "the bad configs were refused and checked"
    );
    drop((a, s, p));
}

/// A webhook receiver that keeps every byte it is sent (request lines, headers, bodies) and
/// answers each request 200, one request per connection.
struct Capture {
    port: u16,
    bytes: std::sync::Arc<std::sync::Mutex<Vec<u8>>>,
}

impl Capture {
    fn start() -> Capture {
        use std::io::{Read, Write};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let bytes = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = bytes.clone();
        // Ends with the test process (the listener is only ever accepted on).
        std::thread::spawn(move || {
            for mut conn in listener.incoming().map_while(Result::ok) {
                conn.set_read_timeout(Some(std::time::Duration::from_secs(5)))
                    .ok();
                let mut buf = Vec::new();
                let mut chunk = [0u8; 8192];
                // Until the head and as many body bytes as it announces are in.
                loop {
                    match conn.read(&mut chunk) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => buf.extend_from_slice(&chunk[..n]),
                    }
                    let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + length {
                        break;
                    }
                }
                kept.lock().unwrap().extend_from_slice(&buf);
                let _ = conn.write_all(
                    b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                );
            }
        });
        Capture { port, bytes }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes.lock().unwrap()).into_owned()
    }
}
