//! File and socket permissions (issue 7): the socket is 0660 in a directory closed to
//! others, a user outside its group gets a clear "add yourself to group assetd-query" from
//! assetctl, and the database files are private.

use crate::common;
use crate::common::{Agent, start_auvik};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::process::Command;

/// `nobody`: a user who is neither the agent's owner nor in its group.
const NOBODY: u32 = 65534;

#[test]
fn the_socket_admits_its_group_only_and_others_are_told_how_to_get_in() {
    let sim = start_auvik(81, 1, 3);
    let agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");

    let socket = std::fs::metadata(&agent.socket).expect("socket");
    assert_eq!(
        socket.permissions().mode() & 0o777,
        0o660,
        "owner and group only"
    );
    for suffix in ["", "-wal", "-shm"] {
        let db = agent.dir.path().join(format!("a.db{suffix}"));
        if let Ok(m) = std::fs::metadata(&db) {
            assert_eq!(m.permissions().mode() & 0o777, 0o600, "{}", db.display());
        }
    }

    // Run as root here, the agent says it should not be.
    if rustix::process::geteuid().is_root() {
        assert!(
            agent.log_text().contains("Running as root"),
            "the agent warns when it runs as root:\n{}",
            agent.log_text()
        );
    }
    // Acting as another user needs root.
    if !rustix::process::geteuid().is_root() {
        println!("SKIPPED the other-user part: not running as root");
        return;
    }
    // Let `nobody` reach the socket's directory, so what refuses it is the socket's mode.
    std::fs::set_permissions(agent.dir.path(), std::fs::Permissions::from_mode(0o711))
        .expect("chmod dir");
    assert_ne!(socket.gid(), NOBODY);
    let out = Command::new(common::ASSETCTL)
        .arg("--socket")
        .arg(&agent.socket)
        .arg("status")
        .uid(NOBODY)
        .gid(NOBODY)
        .env_remove("HOME")
        .output()
        .expect("run assetctl as nobody");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(4), "access denied: {stderr}");
    assert!(
        stderr.contains("permission denied") && stderr.contains("group assetd-query"),
        "{stderr}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    // The agent is unaffected.
    assert!(agent.ctl(&["status"]).status.success());
}
