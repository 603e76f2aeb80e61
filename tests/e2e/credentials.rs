//! Secrets as systemd credentials (`LoadCredential=NAME:PATH` in the unit,
//! `{ credential = "NAME" }` in the config): systemd puts each in a private directory and
//! names it in `$CREDENTIALS_DIRECTORY`, which is all the agent sees. Here the test plays
//! systemd's part.

use crate::common;
use crate::common::{ASSETD, Agent, start_auvik};
use std::os::unix::fs::PermissionsExt;
use std::process::Command;

/// A credentials directory as systemd makes one: the files read-only to the service.
fn credentials(dir: &std::path::Path, entries: &[(&str, &str)]) -> std::path::PathBuf {
    let creds = dir.join("credentials");
    std::fs::create_dir(&creds).unwrap();
    for (name, value) in entries {
        let path = creds.join(name);
        std::fs::write(&path, value).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
    }
    // 0700 rather than systemd's 0500, so the temporary directory can be cleaned up.
    std::fs::set_permissions(&creds, std::fs::Permissions::from_mode(0o700)).unwrap();
    creds
}

fn credential_config(agent: &Agent, sim: &common::Sim, name: &str) -> String {
    agent.auvik_config(sim, "").replace(
        &format!("api_key = {{ file = \"{}\" }}", agent.key_file.display()),
        &format!("api_key = {{ credential = \"{name}\" }}"),
    )
}

#[test]
fn an_agent_syncs_with_its_key_from_a_credential() {
    let sim = start_auvik(91, 2, 5);
    let mut agent = Agent::configure(|a| credential_config(a, &sim, "auvik"));
    assert!(
        std::fs::read_to_string(&agent.config)
            .unwrap()
            .contains("api_key = { credential = \"auvik\" }")
    );
    let creds = credentials(agent.dir.path(), &[("auvik", &sim.sim.api_key())]);
    agent
        .env
        .push(("CREDENTIALS_DIRECTORY".into(), creds.display().to_string()));
    agent.spawn();
    agent.wait_for("a sync with the credential's key", |a| {
        a.source_state() == "ok"
    });
    assert!(!agent.log_text().contains(&sim.sim.api_key()));
    agent.stop();
}

#[test]
fn check_config_says_which_credential_is_missing_and_how_to_add_it() {
    let sim = start_auvik(92, 1, 1);
    let agent = Agent::configure(|a| credential_config(a, &sim, "auvik-main"));
    let creds = credentials(agent.dir.path(), &[("auvik", "not-the-one-asked-for")]);

    let out = Command::new(ASSETD)
        .arg("check-config")
        .arg(&agent.config)
        .env("CREDENTIALS_DIRECTORY", &creds)
        .output()
        .expect("check-config");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("credential `auvik-main` is not in $CREDENTIALS_DIRECTORY")
            && stderr.contains("LoadCredential=auvik-main:/etc/assetd/secrets/auvik-main")
            && stderr.contains("config.toml:"),
        "{stderr}"
    );

    // Outside systemd there is no directory at all; the message says what to do instead.
    let out = Command::new(ASSETD)
        .arg("check-config")
        .arg(&agent.config)
        .env_remove("CREDENTIALS_DIRECTORY")
        .output()
        .expect("check-config");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("needs $CREDENTIALS_DIRECTORY") && stderr.contains("{ file = ... }"),
        "{stderr}"
    );

    // With the credential present, the same file is valid.
    let creds2 = agent.dir.path().join("c2");
    std::fs::create_dir(&creds2).unwrap();
    std::fs::write(creds2.join("auvik-main"), "k").unwrap();
    std::fs::set_permissions(
        creds2.join("auvik-main"),
        std::fs::Permissions::from_mode(0o400),
    )
    .unwrap();
    let out = Command::new(ASSETD)
        .arg("check-config")
        .arg(&agent.config)
        .env("CREDENTIALS_DIRECTORY", &creds2)
        .output()
        .expect("check-config");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
