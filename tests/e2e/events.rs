//! The event log end to end (issue 23, RELIABILITY.md "Events and hooks"): a local HTTP
//! receiver verifies each webhook's signature and order, goes down for a sync and gets the
//! missed events in order when it is back; kill -9 between an event's commit and its
//! delivery delivers it once more at most; `assetctl events --follow` resumes across an
//! agent restart without gaps or duplicates; a stuck webhook and a stalled `WatchEvents`
//! reader delay neither syncs nor other clients.

use crate::common;
use crate::common::{Agent, Sim, start_auvik};
use assetd::proto as pb;
use assetd::proto::event_service_client::EventServiceClient;
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;
use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const SECRET: &str = "e2e-hook-secret-0123456789abcdef";

/// One POST the receiver took.
#[derive(Debug, Clone)]
struct Delivery {
    /// `X-Assetd-Delivery`.
    id: i64,
    /// `X-Assetd-Event`.
    kind: String,
    body: String,
    /// The signature matched the body, compared in constant time as a receiver should.
    signed: bool,
    json: bool,
}

#[derive(Default)]
struct Inbox {
    deliveries: Vec<Delivery>,
    /// Hold the answer to the next request until the connection is gone (a delivery in
    /// flight when the agent dies).
    stall_next: bool,
    /// Never answer anything (a stuck receiver).
    stuck: bool,
}

/// A webhook receiver on 127.0.0.1 that verifies signatures and records what came, in the
/// order it came. `stop` takes it down (connections refused); `start` on the same port with
/// the same inbox brings it back.
struct Receiver {
    port: u16,
    inbox: Arc<Mutex<Inbox>>,
    down: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Receiver {
    fn start(port: u16, inbox: Arc<Mutex<Inbox>>) -> Receiver {
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind the receiver");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("addr").port();
        let down = Arc::new(AtomicBool::new(false));
        let thread = {
            let (inbox, down) = (inbox.clone(), down.clone());
            std::thread::spawn(move || {
                while !down.load(Ordering::SeqCst) {
                    match listener.accept() {
                        Ok((conn, _)) => {
                            let (inbox, down) = (inbox.clone(), down.clone());
                            std::thread::spawn(move || serve(conn, &inbox, &down));
                        }
                        Err(_) => std::thread::sleep(Duration::from_millis(10)),
                    }
                }
            })
        };
        Receiver {
            port,
            inbox,
            down,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// Stops listening and closes every connection: the agent's next attempt is refused.
    fn stop(&mut self) {
        self.down.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            t.join().expect("receiver thread");
        }
        // Connection threads notice within their read timeout.
        std::thread::sleep(Duration::from_millis(300));
    }

    fn deliveries(&self) -> Vec<Delivery> {
        self.inbox.lock().unwrap().deliveries.clone()
    }

    fn wait_for(&self, agent: &Agent, what: &str, f: impl Fn(&[Delivery]) -> bool) {
        agent.wait_for(what, |_| f(&self.deliveries()));
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.down.store(true, Ordering::SeqCst);
    }
}

/// Serves one keep-alive connection until it closes or the receiver goes down.
fn serve(mut conn: TcpStream, inbox: &Mutex<Inbox>, down: &AtomicBool) {
    conn.set_nonblocking(false).ok();
    conn.set_read_timeout(Some(Duration::from_millis(100))).ok();
    let mut buf = Vec::new();
    loop {
        if down.load(Ordering::SeqCst) {
            return;
        }
        let mut chunk = [0u8; 16384];
        match conn.read(&mut chunk) {
            Ok(0) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                continue;
            }
            Err(_) => return,
        }
        let Some(head_end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let header = |name: &str| {
            head.lines()
                .filter_map(|l| l.split_once(':'))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case(name))
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        let length: usize = header("content-length").parse().unwrap_or(0);
        if buf.len() < head_end + 4 + length {
            continue;
        }
        let body = String::from_utf8_lossy(&buf[head_end + 4..head_end + 4 + length]).to_string();
        buf.drain(..head_end + 4 + length);
        // What a receiver does: HMAC the exact body, compare in constant time.
        let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(body.as_bytes());
        let expected = header("x-assetd-signature-256");
        let signed = expected
            .strip_prefix("sha256=")
            .and_then(|hex| {
                (0..hex.len())
                    .step_by(2)
                    .map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok())
                    .collect::<Option<Vec<u8>>>()
            })
            .is_some_and(|sig| mac.verify_slice(&sig).is_ok());
        let (stall, stuck) = {
            let mut inbox = inbox.lock().unwrap();
            inbox.deliveries.push(Delivery {
                id: header("x-assetd-delivery").parse().unwrap_or(-1),
                kind: header("x-assetd-event"),
                body,
                signed,
                json: header("content-type") == "application/json",
            });
            let stall = std::mem::take(&mut inbox.stall_next);
            (stall, inbox.stuck)
        };
        if stall || stuck {
            // Hold the answer until the agent goes away (or this test ends).
            let deadline = Instant::now() + Duration::from_secs(60);
            let mut probe = [0u8; 1];
            while Instant::now() < deadline && !down.load(Ordering::SeqCst) {
                match conn.read(&mut probe) {
                    Ok(0) => return,
                    Err(e)
                        if e.kind() != std::io::ErrorKind::WouldBlock
                            && e.kind() != std::io::ErrorKind::TimedOut =>
                    {
                        return;
                    }
                    _ => {}
                }
            }
            return;
        }
        if conn
            .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            .is_err()
        {
            return;
        }
    }
}

fn hook_table(name: &str, url: &str, secret_file: &std::path::Path, events: &str) -> String {
    format!(
        "\n[[hook]]\nname = \"{name}\"\nevents = {events}\nurl = \"{url}\"\nsecret = {{ file = \"{}\" }}\n",
        secret_file.display()
    )
}

/// An agent on `sim` with the hooks `hooks` writes (given the agent, for its paths).
fn agent_with_hooks(sim: &Sim, hooks: impl FnOnce(&Agent) -> String) -> Agent {
    Agent::start_with(|a| {
        common::write_private(&a.key_file, &sim.sim.api_key());
        common::write_private(&a.dir.path().join("hook.secret"), SECRET);
        format!("{}{}", a.auvik_config(sim, ""), hooks(a))
    })
}

/// Every retained event, as `assetctl -o json events` prints them (JSON Lines).
fn log_lines(agent: &Agent) -> Vec<String> {
    event_lines(agent, &["--after", "0"])
}

/// `assetctl -o json events ARGS`, a line per event.
fn event_lines(agent: &Agent, args: &[&str]) -> Vec<String> {
    let mut full = vec!["-o", "json", "events"];
    full.extend_from_slice(args);
    let out = agent.ctl(&full);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect()
}

fn parse(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

fn last_run_finished(lines: &[String]) -> i64 {
    lines
        .iter()
        .rev()
        .map(|l| parse(l))
        .find(|e| e["type"] == "run.finished")
        .and_then(|e| e["id"].as_i64())
        .expect("a run.finished")
}

fn hook_status(agent: &Agent, name: &str) -> Value {
    agent
        .json(&["hooks"])
        .as_array()
        .and_then(|h| h.iter().find(|h| h["name"] == name).cloned())
        .unwrap_or_else(|| panic!("no hook {name}"))
}

#[test]
fn webhooks_are_signed_ordered_and_catch_up_after_the_receiver_was_down() {
    let sim = start_auvik(91, 2, 5);
    let inbox = Arc::new(Mutex::new(Inbox::default()));
    let mut receiver = Receiver::start(0, inbox.clone());
    let url = receiver.url();
    let commands = common::short_tempdir();
    std::fs::set_permissions(
        commands.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o777),
    )
    .unwrap();
    let out = commands.path().join("runs.jsonl");
    let agent = agent_with_hooks(&sim, |a| {
        format!(
            "{}\n[[hook]]\nname = \"runs\"\nevents = [\"run.finished\"]\n\
             command = [\"/bin/sh\", \"-c\", \"cat >> {out}; echo >> {out}; echo delivered $ASSETD_EVENT_ID\"]\n",
            hook_table("psa", &url, &a.dir.path().join("hook.secret"), "[\"*\"]"),
            out = out.display()
        )
    });
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let first = log_lines(&agent);
    let through = last_run_finished(&first);
    receiver.wait_for(&agent, "the first run's events", |d| {
        d.iter().any(|d| d.id == through)
    });
    // Signed, typed and identified as the event itself says; the body is byte for byte
    // what `assetctl -o json events` prints.
    let got = receiver.deliveries();
    assert_eq!(got.len(), first.len(), "every event once: {got:#?}");
    for (d, line) in got.iter().zip(&first) {
        assert!(d.signed && d.json, "{d:?}");
        assert_eq!(&d.body, line);
        let e = parse(&d.body);
        assert_eq!(
            (e["id"].as_i64(), e["type"].as_str()),
            (Some(d.id), Some(d.kind.as_str()))
        );
    }
    let kinds: BTreeSet<&str> = got.iter().map(|d| d.kind.as_str()).collect();
    for kind in [
        "run.started",
        "asset.added",
        "counts.changed",
        "source.state_changed",
        "run.finished",
    ] {
        assert!(kinds.contains(kind), "{kind} in {kinds:?}");
    }

    // Down for a sync that removes one device and renames another.
    receiver.stop();
    let devices = sim.sim.devices();
    assert!(sim.sim.remove_device(&devices[0].id));
    assert!(
        sim.sim
            .update_device(&devices[1].id, |d| d.name = format!("{}-moved", d.name))
    );
    assert_eq!(agent.sync(true)["state"], "ok");
    agent.wait_for("a failed attempt", |a| {
        let h = hook_status(a, "psa");
        h["state"] == "retrying"
            && h["last_error"]
                .as_str()
                .is_some_and(|e| e.contains("cannot connect"))
    });
    let psa = hook_status(&agent, "psa");
    assert!(psa["backlog"].as_i64().unwrap() >= 4, "{psa}");
    assert_eq!(psa["delivered_through"].as_i64(), Some(through));

    // Back: the missed events arrive, in order, each once.
    let _receiver = Receiver::start(receiver.port, inbox.clone());
    let all = log_lines(&agent);
    let newest = last_run_finished(&all);
    _receiver.wait_for(&agent, "the missed events", |d| {
        d.iter().any(|d| d.id == newest)
    });
    let got = _receiver.deliveries();
    let ids: Vec<i64> = got.iter().map(|d| d.id).collect();
    let logged: Vec<i64> = all
        .iter()
        .map(|l| parse(l)["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, logged, "in order, none missed, none twice");
    assert!(got.iter().all(|d| d.signed));
    let missed: Vec<Value> = got
        .iter()
        .filter(|d| d.id > through)
        .map(|d| parse(&d.body))
        .collect();
    assert!(missed.iter().any(
        |e| e["type"] == "asset.removed" && e["data"]["external_id"] == devices[0].id.as_str()
    ));
    assert!(
        missed
            .iter()
            .any(|e| e["type"] == "asset.changed" && e["data"]["changes"][0]["field"] == "name")
    );
    agent.wait_for("the hook to be ok", |a| {
        let h = hook_status(a, "psa");
        h["state"] == "ok" && h["backlog"] == 0 && h["last_error"] == ""
    });

    // The command hook got each run.finished on stdin (run as nobody when we are root),
    // and its output went to the log.
    let runs = hook_status(&agent, "runs");
    assert_eq!(runs["kind"], "command");
    agent.wait_for("the command hook's deliveries", |_| {
        std::fs::read_to_string(&out).is_ok_and(|t| t.lines().count() == 2)
    });
    let lines: Vec<Value> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(parse)
        .collect();
    assert!(lines.iter().all(|e| e["type"] == "run.finished"));
    assert!(
        agent.log_text().contains("delivered"),
        "command output is logged"
    );

    // A hook added by a reload starts from now.
    let generation = agent.generation();
    let text = std::fs::read_to_string(&agent.config).unwrap();
    agent.write_config(&format!(
        "{text}{}",
        hook_table(
            "late",
            &url,
            &agent.dir.path().join("hook.secret"),
            "[\"run.finished\"]"
        )
    ));
    agent.wait_for_generation(generation + 1);
    let late = hook_status(&agent, "late");
    assert_eq!(late["backlog"], 0, "{late}");
    assert_eq!(late["delivered_through"].as_i64(), Some(newest));
}

#[test]
fn kill_9_between_commit_and_delivery_delivers_the_event_once_more_at_most() {
    let sim = start_auvik(92, 2, 4);
    let inbox = Arc::new(Mutex::new(Inbox::default()));
    let receiver = Receiver::start(0, inbox.clone());
    let url = receiver.url();
    let mut agent = agent_with_hooks(&sim, |a| {
        hook_table("psa", &url, &a.dir.path().join("hook.secret"), "[\"*\"]")
    });
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let before = last_run_finished(&log_lines(&agent));
    receiver.wait_for(&agent, "the first run's events", |d| {
        d.iter().any(|d| d.id == before)
    });
    // The receiver takes the next event but does not answer: the run goes on and commits
    // its events behind it, none delivered.
    inbox.lock().unwrap().stall_next = true;
    sim.sim.add_device(&sim.sim.devices()[0].tenant_id);
    assert_eq!(agent.sync(true)["state"], "ok");
    receiver.wait_for(&agent, "the stalled delivery", |d| {
        d.iter().any(|d| d.id > before)
    });
    let stalled = receiver.deliveries().last().unwrap().id;
    let committed = last_run_finished(&log_lines(&agent));
    assert!(
        committed > stalled + 1,
        "events committed behind the stalled one"
    );
    agent.kill9();
    agent.spawn();
    receiver.wait_for(&agent, "every event after the restart", |d| {
        d.iter().any(|d| d.id == committed)
    });
    let ids: Vec<i64> = receiver
        .deliveries()
        .iter()
        .map(|d| d.id)
        .filter(|&i| i > before)
        .collect();
    let mut expected: Vec<i64> = (stalled..=committed).collect();
    expected.insert(1, stalled);
    // The restart's own events (the interrupted nothing: the run had ended) may follow.
    assert_eq!(
        &ids[..expected.len()],
        &expected[..],
        "the one in flight again, then each once"
    );
}

/// `assetctl -o json events … --follow` on an agent's socket, its stdout lines gathered
/// as they come; killed when dropped.
struct Follower {
    child: common::Reap,
    lines: Arc<Mutex<Vec<String>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Follower {
    fn start(agent: &Agent, args: &[&str]) -> Follower {
        let mut child = common::Reap(
            Command::new(common::ASSETCTL)
                .arg("--socket")
                .arg(&agent.socket)
                .args(["-o", "json", "events", "--follow"])
                .args(args)
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("assetctl events --follow"),
        );
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let reader = {
            let (lines, stdout) = (lines.clone(), child.stdout.take().unwrap());
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    lines.lock().unwrap().push(line);
                }
            })
        };
        Follower {
            child,
            lines,
            reader: Some(reader),
        }
    }

    /// Whether it has printed the event `id`.
    fn printed(&self, id: i64) -> bool {
        self.lines
            .lock()
            .unwrap()
            .iter()
            .any(|l| parse(l)["id"].as_i64() == Some(id))
    }

    /// Whether it holds a socket: `assetctl` opens none until it connects.
    fn connected(&self) -> bool {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map(|fds| {
                fds.filter_map(Result::ok)
                    .filter_map(|fd| std::fs::read_link(fd.path()).ok())
                    .any(|l| l.to_string_lossy().starts_with("socket:"))
            })
            .unwrap_or(false)
    }

    fn signal(&self, sig: i32) {
        common::send_signal(self.child.id(), sig);
    }

    /// Kills it; what it printed on stdout (one event a line) and on stderr.
    fn stop(mut self) -> (Vec<String>, String) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        let mut stderr = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            e.read_to_string(&mut stderr).unwrap();
        }
        let lines = self.lines.lock().unwrap().clone();
        (lines, stderr)
    }
}

#[test]
fn a_follower_resumes_across_a_restart_without_gaps_or_duplicates() {
    let sim = start_auvik(93, 2, 4);
    let mut agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let follower = Follower::start(&agent, &["--after", "0"]);
    let first = last_run_finished(&log_lines(&agent));
    agent.wait_for("the replay", |_| follower.printed(first));
    agent.stop();
    agent.spawn();
    sim.sim.remove_device(&sim.sim.devices()[0].id);
    assert_eq!(agent.sync(true)["state"], "ok");
    let log = log_lines(&agent);
    let last = last_run_finished(&log);
    agent.wait_for("the follower to catch up", |_| follower.printed(last));
    let (followed, stderr) = follower.stop();
    assert_eq!(
        followed, log,
        "the follower printed the log exactly: no gap, no duplicate"
    );
    assert!(
        stderr.contains("reconnected; resuming after event"),
        "{stderr}"
    );
    // A cursor from another database is refused with what to do.
    let out = agent.ctl(&["events", "--after", &(last + 1000).to_string()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("past the last event"));
}

/// `--follow` without `--after` starts from "now" as the agent names it. A follower that
/// loses the agent before printing anything (its filter matched nothing yet) resumes from
/// that start, not from a later "now": an event written while it was away is printed. The
/// follower is stopped (SIGSTOP) across the restart, so the event is surely written before
/// it can reconnect.
#[test]
fn a_follower_from_now_loses_nothing_written_while_the_agent_restarted() {
    let sim = start_auvik(94, 2, 4);
    let mut agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let follower = Follower::start(&agent, &["--type", "asset.removed"]);
    agent.wait_for("the follower to connect", |_| follower.connected());
    // "Now" for the follower: the last event when it connected.
    let start = parse(log_lines(&agent).last().expect("events"))["id"]
        .as_i64()
        .expect("an id");
    // A run's events, none of the followed type: the stream is surely under way after it.
    assert_eq!(agent.sync(true)["state"], "ok");

    follower.signal(libc::SIGSTOP);
    agent.stop();
    agent.spawn();
    let gone = sim.sim.devices()[0].id.clone();
    assert!(sim.sim.remove_device(&gone));
    assert_eq!(agent.sync(true)["state"], "ok");
    let removed: Vec<String> = log_lines(&agent)
        .into_iter()
        .filter(|l| parse(l)["type"] == "asset.removed")
        .collect();
    assert_eq!(removed.len(), 1, "{removed:?}");
    let removal = parse(&removed[0])["id"].as_i64().expect("an id");
    assert!(removal > start);
    follower.signal(libc::SIGCONT);

    agent.wait_for("the follower to print the removal", |_| {
        follower.printed(removal)
    });
    let (followed, stderr) = follower.stop();
    assert_eq!(followed, removed, "exactly the removal, once");
    assert!(
        stderr.contains(&format!("resuming after event {start}")),
        "resumed from the start the agent named, not from a later now: {stderr}"
    );
}

#[test]
fn a_stuck_webhook_and_a_stalled_reader_hold_up_no_sync_and_no_other_client() {
    let sim = start_auvik(94, 4, 100);
    let stuck_inbox = Arc::new(Mutex::new(Inbox {
        stuck: true,
        ..Inbox::default()
    }));
    let stuck = Receiver::start(0, stuck_inbox);
    let healthy = Receiver::start(0, Arc::new(Mutex::new(Inbox::default())));
    let (stuck_url, healthy_url) = (stuck.url(), healthy.url());
    let agent = agent_with_hooks(&sim, |a| {
        let secret = a.dir.path().join("hook.secret");
        format!(
            "{}timeout = \"10m\"\n{}",
            hook_table("stuck", &stuck_url, &secret, "[\"*\"]"),
            hook_table("healthy", &healthy_url, &secret, "[\"*\"]")
        )
    });
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    // A reader that opens the whole log and never reads, on a small window.
    let socket = agent.socket.clone();
    let _stalled = rt.block_on(async {
        let channel =
            tonic::transport::Endpoint::from_shared(format!("unix://{}", socket.display()))
                .unwrap()
                .initial_stream_window_size(65_535)
                .initial_connection_window_size(65_535)
                .connect()
                .await
                .expect("connect");
        let stream = EventServiceClient::new(channel.clone())
            .watch_events(pb::WatchEventsRequest {
                after: "0".into(),
                ..Default::default()
            })
            .await
            .expect("the stalled stream starts")
            .into_inner();
        (channel, stream)
    });
    // Three more syncs with changes go through meanwhile, and everyone else keeps up.
    for round in 0..3 {
        let d = sim.sim.devices()[round].id.clone();
        sim.sim
            .update_device(&d, |x| x.name = format!("{}-{round}", x.name));
        assert_eq!(agent.sync(true)["state"], "ok", "round {round}");
    }
    let log = log_lines(&agent);
    let last = last_run_finished(&log);
    healthy.wait_for(&agent, "the healthy hook to have every event", |d| {
        d.iter().any(|d| d.id == last)
    });
    assert_eq!(healthy.deliveries().len(), log.len());
    assert!(
        log.len() > 400,
        "more than a stream's window of events: {}",
        log.len()
    );
    let replay = rt.block_on(async {
        let channel =
            tonic::transport::Endpoint::from_shared(format!("unix://{}", socket.display()))
                .unwrap()
                .connect()
                .await
                .unwrap();
        let mut s = EventServiceClient::new(channel)
            .watch_events(pb::WatchEventsRequest {
                after: "0".into(),
                replay_only: true,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let mut n = 0;
        while s.message().await.unwrap().is_some() {
            n += 1;
        }
        n
    });
    assert_eq!(replay, log.len(), "another reader gets the whole log");
    // The stuck receiver still holds its first event: nothing of it was acknowledged.
    let stuck_status = hook_status(&agent, "stuck");
    assert_eq!(stuck_status["delivered_through"], 0, "{stuck_status}");
    assert_eq!(
        stuck_status["backlog"].as_i64(),
        Some(log.len() as i64),
        "{stuck_status}"
    );
    assert_eq!(hook_status(&agent, "healthy")["backlog"], 0);
}

/// A tokio runtime and a channel to the agent's socket, for the calls assetctl does not make.
fn grpc(agent: &Agent) -> (tokio::runtime::Runtime, tonic::transport::Channel) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let socket = agent.socket.clone();
    let channel = rt.block_on(async {
        tonic::transport::Endpoint::from_shared(format!("unix://{}", socket.display()))
            .unwrap()
            .connect()
            .await
            .expect("connect")
    });
    (rt, channel)
}

fn ids(lines: &[String]) -> Vec<i64> {
    lines
        .iter()
        .map(|l| parse(l)["id"].as_i64().expect("an id"))
        .collect()
}

#[test]
fn filters_from_now_and_a_cursor_older_than_the_retention_answer_as_documented() {
    let sim = start_auvik(95, 2, 4);
    let mut agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let log = log_lines(&agent);
    let last = *ids(&log).last().unwrap();

    // Repeated --type and --source filters: exactly the matching events of the log.
    let out = agent.ctl(&[
        "-o",
        "json",
        "events",
        "--type",
        "run.started",
        "--type",
        "run.finished",
        "--source",
        "auvik",
        "--source",
        "other",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let filtered: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(String::from)
        .collect();
    let expected: Vec<String> = log
        .iter()
        .filter(|l| {
            matches!(
                parse(l)["type"].as_str(),
                Some("run.started" | "run.finished")
            )
        })
        .cloned()
        .collect();
    assert_eq!(expected.len(), 2, "one run: {log:#?}");
    assert_eq!(filtered, expected);
    let out = agent.ctl(&["-o", "json", "events", "--source", "other"]);
    assert!(out.status.success());
    assert!(out.stdout.is_empty(), "no event of another source");

    // From now (an empty cursor): the stream names where it starts, and gets only what is
    // committed after the call.
    let (rt, channel) = grpc(&agent);
    let (start, mut stream) = rt.block_on(async {
        let r = EventServiceClient::new(channel.clone())
            .watch_events(pb::WatchEventsRequest {
                types: vec!["run.started".into()],
                ..Default::default()
            })
            .await
            .expect("WatchEvents from now");
        let start = r
            .metadata()
            .get("x-assetd-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<i64>().ok());
        (start, r.into_inner())
    });
    assert_eq!(start, Some(last), "the stream starts after the last event");
    sim.sim.update_device(&sim.sim.devices()[0].id, |d| {
        d.name = format!("{}-x", d.name)
    });
    assert_eq!(agent.sync(true)["state"], "ok");
    let next = rt
        .block_on(stream.message())
        .expect("a message")
        .expect("an event");
    let log = log_lines(&agent);
    let second_run = log
        .iter()
        .map(|l| parse(l))
        .find(|e| e["type"] == "run.started" && e["id"].as_i64() > Some(last))
        .expect("the second run's start");
    assert_eq!(Some(next.id), second_run["id"].as_i64(), "{next:?}");
    drop(stream);

    // Restarted with a retention of a second, once every event is older: the log is
    // pruned at the start, and a cursor inside the pruned part is OUT_OF_RANGE, naming the
    // id to resume after.
    let through = *ids(&log).last().unwrap();
    agent.stop();
    let text = std::fs::read_to_string(&agent.config).unwrap();
    let shorter = text.replace(
        "sync_interval = \"1h\"\n",
        "sync_interval = \"1h\"\nevent_retention = \"1s\"\n",
    );
    assert_ne!(shorter, text);
    agent.write_config(&shorter);
    std::thread::sleep(Duration::from_millis(1500));
    agent.spawn();
    agent.wait_for("the log to be pruned", |a| {
        ids(&log_lines(a)).iter().all(|&id| id > through)
    });
    let out = agent.ctl(&["events", "--after", "1"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("older than event_retention (1s)")
            && err.contains(&format!("resume with after = \"{through}\"")),
        "{err}"
    );
    let (rt, channel) = grpc(&agent);
    let status = rt
        .block_on(async {
            let mut s = EventServiceClient::new(channel)
                .watch_events(pb::WatchEventsRequest {
                    after: "1".into(),
                    replay_only: true,
                    ..Default::default()
                })
                .await?
                .into_inner();
            while s.message().await?.is_some() {}
            Ok::<_, tonic::Status>(())
        })
        .expect_err("a pruned cursor is refused");
    assert_eq!(status.code(), tonic::Code::OutOfRange, "{status:?}");
    // Resuming where it says works: what is retained after it, if anything.
    let out = agent.ctl(&["events", "--after", &through.to_string()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn warranty_expiring_is_sent_once_per_device_and_expiry_date() {
    use assetd::sim::auvik::SimWarranty;
    use chrono::{Days, NaiveDate, Utc};
    let sim = start_auvik(96, 0, 0);
    let tenant = sim
        .sim
        .add_tenant("Contoso Ltd", "contoso")
        .expect("tenant");
    let today = Utc::now().date_naive();
    let iso = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let covered_until = |d: NaiveDate| {
        Some(SimWarranty {
            coverage_status: Some("Covered".into()),
            expiration_date: Some(format!("{}T00:00:00.000Z", iso(d))),
            ..SimWarranty::default()
        })
    };
    let mut ids = Vec::new();
    for (name, expires) in [
        ("soon", today + Days::new(30)),
        ("later", today + Days::new(200)),
        ("lapsed", today - Days::new(3)),
    ] {
        let id = sim.sim.add_device(&tenant);
        assert!(sim.sim.update_device(&id, |d| {
            d.name = name.into();
            d.device_type = "switch".into();
            d.serial = Some(format!("SN-{name}"));
            d.mac_addresses = Vec::new();
            d.warranty = covered_until(expires);
        }));
        ids.push(id);
    }
    let inbox = Arc::new(Mutex::new(Inbox::default()));
    let receiver = Receiver::start(0, inbox);
    let url = receiver.url();
    let agent = agent_with_hooks(&sim, |a| {
        hook_table(
            "tickets",
            &url,
            &a.dir.path().join("hook.secret"),
            "[\"warranty.expiring\"]",
        )
    });
    agent.wait_for("the first sync", |a| a.source_state() == "ok");
    let announced = |agent: &Agent| -> Vec<Value> {
        event_lines(agent, &["--type", "warranty.expiring"])
            .iter()
            .map(|l| parse(l))
            .collect()
    };
    // Only the device whose covered warranty ends within 90 days, with what a ticket needs.
    let first = announced(&agent);
    assert_eq!(first.len(), 1, "{first:#?}");
    let e = &first[0];
    assert_eq!(
        (
            &e["source"],
            &e["client"],
            &e["data"]["name"],
            &e["data"]["external_id"]
        ),
        (
            &Value::from("auvik"),
            &Value::from("Contoso Ltd"),
            &Value::from("soon"),
            &Value::from(ids[0].as_str())
        ),
        "{e}"
    );
    assert_eq!(e["data"]["warranty_expires"], iso(today + Days::new(30)));
    // 30, or 29 if the UTC date turned during the test.
    assert!(
        matches!(e["data"]["days_left"].as_i64(), Some(29 | 30)),
        "{e}"
    );
    assert!(e["asset_id"].as_i64().is_some() && e["data"]["device_id"].as_i64().is_some());
    receiver.wait_for(&agent, "the webhook", |d| !d.is_empty());
    let got = receiver.deliveries();
    assert_eq!(got.len(), 1);
    assert!(got[0].signed && got[0].kind == "warranty.expiring");
    assert_eq!(parse(&got[0].body), *e);

    // Another full sync with the same dates announces nothing again; a device whose date
    // moves into the window is announced, once.
    assert_eq!(agent.sync(true)["state"], "ok");
    assert_eq!(announced(&agent).len(), 1, "nothing twice");
    assert!(sim.sim.update_device(&ids[1], |d| {
        d.warranty = covered_until(today + Days::new(60));
    }));
    assert_eq!(agent.sync(true)["state"], "ok");
    assert_eq!(agent.sync(true)["state"], "ok");
    let now = announced(&agent);
    assert_eq!(now.len(), 2, "{now:#?}");
    assert_eq!(now[1]["data"]["name"], "later");
    assert_eq!(
        now[1]["data"]["warranty_expires"],
        iso(today + Days::new(60))
    );
    receiver.wait_for(&agent, "the second webhook", |d| d.len() == 2);
}

/// README's webhook receiver, run as written but for its secret's path and its port, takes
/// the agent's signed events (printing each) and refuses a forged one with 401: the
/// documentation's receiver is tested, not just shown. It needs only Python's standard
/// library, so it runs on the system's `python3`.
#[test]
fn the_readme_receiver_takes_the_agents_events_and_refuses_a_forged_one() {
    let readme = include_str!("../../README.md");
    let fence = "```python\nimport hashlib, hmac, http.server, json\n";
    let start = readme
        .find(fence)
        .expect("README shows the Python receiver")
        + 10;
    let code = &readme[start..];
    let code = &code[..code.find("```").expect("the receiver's block ends")];
    assert!(
        code.lines().count() <= 20,
        "README's receiver is meant to stay short:\n{code}"
    );

    let dir = common::short_tempdir();
    let secret = dir.path().join("receiver.secret");
    // As `openssl rand -hex 32 > file` writes it: with a line feed, which the receiver strips.
    std::fs::write(&secret, format!("{SECRET}\n")).unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (path_as_written, port_as_written) = ("/etc/psa-bridge/assetd-secret", "8080");
    assert!(
        code.contains(path_as_written) && code.contains(port_as_written),
        "{code}"
    );
    let code = code
        .replace(path_as_written, secret.to_str().unwrap())
        .replace(port_as_written, &port.to_string());

    let mut python = common::Reap(
        Command::new("python3")
            .arg("-u")
            .arg("-c")
            .arg(&code)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs README's receiver"),
    );
    let stdout = python.stdout.take().unwrap();
    let stderr = python.stderr.take().unwrap();
    let printed = Arc::new(Mutex::new(Vec::<String>::new()));
    {
        let printed = printed.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                printed.lock().unwrap().push(line);
            }
        });
    }
    // http.server logs each request on stderr: kept to explain a failure.
    let logged = Arc::new(Mutex::new(Vec::<String>::new()));
    {
        let logged = logged.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                logged.lock().unwrap().push(line);
            }
        });
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "README's receiver never listened: {:?}",
            logged.lock().unwrap()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    // A forged delivery: the right shape, signed with another secret.
    let body = r#"{"id":1,"type":"run.finished","source":"auvik","client":null,"data":{}}"#;
    let forged: String = Hmac::<Sha256>::new_from_slice(b"not the secret")
        .unwrap()
        .chain_update(body)
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let mut conn = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        conn,
        "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         X-Assetd-Signature-256: sha256={forged}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    conn.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.0 401") || answer.starts_with("HTTP/1.1 401"),
        "{answer}"
    );
    assert!(
        printed.lock().unwrap().is_empty(),
        "a forged event was taken"
    );

    // The agent's own deliveries: every run.finished and asset.added is taken (2xx), so
    // the hook has no backlog and no error, and the receiver printed each event it got.
    let sim = start_auvik(97, 2, 3);
    let agent = agent_with_hooks(&sim, |a| {
        hook_table(
            "readme",
            &format!("http://127.0.0.1:{port}/assetd"),
            &a.dir.path().join("hook.secret"),
            "[\"run.finished\", \"asset.added\"]",
        )
    });
    let run = agent.sync(true);
    assert_eq!(run["state"], "ok", "{run}");
    agent.wait_for("README's receiver to take every event", |_| {
        printed
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(" run.finished auvik "))
            .count()
            >= 1
            && printed
                .lock()
                .unwrap()
                .iter()
                .filter(|l| l.contains(" asset.added auvik "))
                .count()
                >= 6
    });
    let hook = hook_status(&agent, "readme");
    assert_eq!(hook["backlog"], 0, "{hook}");
    assert!(
        hook["last_error"].is_null() || hook["last_error"] == "",
        "{hook}; receiver said {:?}",
        logged.lock().unwrap()
    );
}
