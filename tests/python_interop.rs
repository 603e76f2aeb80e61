//! Runs the Python tests in tests/python (grpcio interop against the real agent, and the
//! simulator's responses validated against Auvik's own OpenAPI spec) in a venv that this
//! test creates from PyPI on first use.

mod common;

use common::{Agent, start_auvik};
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(cmd: &mut Command, what: &str) {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run: {e}"));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A venv with tests/python/requirements.txt installed, reused while the file is unchanged.
fn venv() -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pyvenv");
    let python = dir.join("bin/python");
    let requirements = repo().join("tests/python/requirements.txt");
    let wanted = std::fs::read_to_string(&requirements).expect("tests/python/requirements.txt");
    let stamp = dir.join("requirements.installed");
    if std::fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) && python.exists() {
        return python;
    }
    let _ = std::fs::remove_dir_all(&dir);
    run(
        Command::new("python3").args(["-m", "venv"]).arg(&dir),
        "python3 -m venv",
    );
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements),
        "pip install -r tests/python/requirements.txt",
    );
    std::fs::write(&stamp, wanted).expect("stamp");
    python
}

#[test]
fn python_clients_interoperate() {
    let python = venv();
    let stubs = common::short_tempdir();
    run(
        Command::new(&python)
            .args(["-m", "grpc_tools.protoc", "-Iproto"])
            .arg(format!("--python_out={}", stubs.path().display()))
            .arg(format!("--grpc_python_out={}", stubs.path().display()))
            .arg("proto/assetd/v1/assetd.proto")
            .current_dir(repo()),
        "grpc_tools.protoc",
    );

    let (clients, per_client) = (4, 15);
    let sim = start_auvik(21, clients, per_client);
    // Names that break naive CSV writers and readers, and one a spreadsheet would run
    // (test_csv_export.py reads them back).
    let hostile = [
        "Core \"SW\", rack 2",
        "Zürich — 東京",
        "two\nlines",
        "=HYPERLINK(\"http://example.invalid\",\"x\")",
    ];
    for (d, name) in sim.sim.devices().iter().zip(hostile) {
        assert!(sim.sim.update_device(&d.id, |x| x.name = name.to_string()));
    }
    let agent = Agent::start(&sim, "");
    agent.wait_for("the first sync", |a| a.source_state() == "ok");

    let shared = repo().join("../shared");
    let out = Command::new(&python)
        .args([
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/python",
        ])
        .current_dir(repo())
        .env("ASSETD_SOCKET", &agent.socket)
        .env("EXPECTED_ASSETS", (clients * per_client).to_string())
        .env("PROTO_OUT", stubs.path())
        .env("ASSETD_BIN", common::ASSETD)
        .env("ASSETCTL_BIN", common::ASSETCTL)
        .env("SHARED_DIR", &shared)
        .output()
        .expect("run pytest");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{text}");
    assert!(
        out.status.success(),
        "pytest failed:\n{text}\n--- agent log ---\n{}",
        agent.log_text()
    );
    assert!(
        !text.contains(" skipped"),
        "no Python test may be skipped here:\n{text}"
    );
}
