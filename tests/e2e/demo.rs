//! `assetd demo` then `assetctl` with no flags, as the README tells a new user.

use crate::common;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn the_demo_serves_assetctl_without_flags_and_stops_on_ctrl_c() {
    let runtime = common::short_tempdir();
    let mut demo = Command::new(common::ASSETD)
        .args(["demo", "--clients", "3", "--assets-per-client", "10"])
        .env("XDG_RUNTIME_DIR", runtime.path())
        .env_remove("ASSETD_SOCKET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn assetd demo");
    let stdout = demo.stdout.take().expect("stdout");
    let mut printed = String::new();
    for line in BufReader::new(stdout).lines() {
        let line = line.expect("line");
        printed.push_str(&line);
        printed.push('\n');
        if line.contains("Ctrl-C") {
            break;
        }
    }
    assert!(
        printed.contains("assetctl assets list"),
        "the demo says what to type next:\n{printed}"
    );

    let ctl = |args: &[&str]| {
        Command::new(common::ASSETCTL)
            .args(args)
            .env("XDG_RUNTIME_DIR", runtime.path())
            .env_remove("ASSETD_SOCKET")
            .output()
            .expect("assetctl")
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let assets = loop {
        let out = ctl(&["-o", "json", "sources"]);
        let synced = out.status.success()
            && serde_json::from_slice::<serde_json::Value>(&out.stdout)
                .ok()
                .and_then(|v| v.as_array().cloned())
                .is_some_and(|s| s.len() == 3 && s.iter().all(|s| s["state"] == "ok"));
        if synced {
            let out = ctl(&["-o", "json", "assets", "list"]);
            assert!(out.status.success());
            break serde_json::from_slice::<serde_json::Value>(&out.stdout).expect("json");
        }
        assert!(Instant::now() < deadline, "the demo's sources never synced");
        std::thread::sleep(Duration::from_millis(200));
    };
    let assets = assets.as_array().expect("array");
    for source in ["auvik", "syncro", "passportal"] {
        assert!(
            assets.iter().any(|a| a["source"] == source),
            "the demo lists {source} assets"
        );
    }
    assert!(assets.len() > 30, "every source's assets: {}", assets.len());
    assert!(assets[0]["client"].as_str().is_some_and(|c| !c.is_empty()));

    // Billable counts per client, with the nine services, and devices with their sources.
    let out = ctl(&["-o", "json", "counts"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let counts = counts.as_array().expect("array");
    assert!(!counts.is_empty());
    for service in [
        "total_billable",
        "firewalls",
        "controllers",
        "routers",
        "l3_switches",
        "voip_switches",
        "switch_stacks",
        "total_switches",
        "access_points",
    ] {
        assert!(counts[0][service].is_i64(), "{service} in {}", counts[0]);
    }
    assert!(
        counts
            .iter()
            .map(|c| c["total_billable"].as_i64().unwrap_or(0))
            .sum::<i64>()
            > 0
    );
    // Lifecycle has something worth reading: expired, expiring and unknown warranties, from
    // all three vendors' data (at this size Auvik has too little Cisco gear to promise an
    // out-of-support device; the full-size demo has dozens).
    let out = ctl(&["-o", "json", "lifecycle"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lifecycle: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let total = |field: &str| -> i64 {
        lifecycle
            .as_array()
            .expect("array")
            .iter()
            .map(|c| c[field].as_i64().unwrap_or(0))
            .sum()
    };
    for field in [
        "warranty_expired",
        "expiring_365d",
        "warranty_unknown",
        "warranty_covered",
    ] {
        assert!(
            total(field) > 0,
            "the demo's lifecycle has no {field}: {lifecycle}"
        );
    }
    assert!(
        lifecycle
            .as_array()
            .expect("array")
            .iter()
            .all(|c| c["out_of_support"].is_i64())
    );
    let dated: Vec<&serde_json::Value> = assets
        .iter()
        .filter(|a| a["warranty_expires"].is_string() || a["support_status"].is_string())
        .collect();
    for source in ["auvik", "syncro", "passportal"] {
        assert!(
            dated.iter().any(|a| a["source"] == source),
            "no {source} asset has a warranty date"
        );
    }
    let out = ctl(&["-o", "json", "devices"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let devices: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let devices = devices.as_array().expect("array");
    assert!(
        !devices.is_empty() && devices.len() <= assets.len(),
        "devices merge assets, never split them"
    );
    assert!(
        devices
            .iter()
            .all(|d| d["sources"].as_array().is_some_and(|s| !s.is_empty()))
    );

    // The printed way to see a partial run: switch the simulated tenant off, sync again.
    let curl = printed
        .lines()
        .find(|l| l.trim_start().starts_with("curl -X PUT"))
        .unwrap_or_else(|| panic!("the demo shows how to see a partial run:\n{printed}"));
    let (body, url) = curl
        .split_once("-d '")
        .and_then(|(_, rest)| rest.split_once("' "))
        .expect("curl -d 'BODY' URL");
    put_json(url.trim(), body);
    let out = ctl(&["sync", "auvik", "--full", "--wait"]);
    assert!(
        out.status.success(),
        "a partial run is no failure of the command: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = ctl(&["-o", "json", "runs", "--source", "auvik"]);
    let runs: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let run = &runs[0];
    assert_eq!(
        (run["state"].as_str(), run["skipped_units"].as_i64()),
        (Some("partial"), Some(1)),
        "{run}"
    );

    common::send_signal(demo.id(), libc::SIGINT);
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(s) = demo.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = demo.kill();
            panic!("the demo did not stop on Ctrl-C");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status}");
    assert!(
        !runtime.path().join("assetd/assetd.sock").exists(),
        "nothing left listening"
    );
    let out = ctl(&["status"]);
    assert!(!out.status.success(), "the agent is gone");
}

/// `curl -X PUT -H 'content-type: application/json' -d BODY URL`, for a loopback `http://` URL.
fn put_json(url: &str, body: &str) {
    use std::io::{Read, Write};
    let rest = url.strip_prefix("http://").expect("an http:// URL");
    let (host, path) = rest.split_once('/').expect("a path");
    let mut conn = std::net::TcpStream::connect(host).expect("connect");
    write!(
        conn,
        "PUT /{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut answer = String::new();
    conn.read_to_string(&mut answer).expect("read");
    assert!(
        answer.starts_with("HTTP/1.1 2"),
        "PUT {url} {body}: {answer}"
    );
}
