//! Runs the Python tests in tests/python (grpcio interop against the real agent, and the
//! simulators' responses validated against the vendors' own specs) in a venv that this
//! test creates from PyPI on first use.
//!
//! The three simulator checks read the vendors' published specs and Passportal's documented
//! samples, which are not part of the repository: they run when `$ASSETD_VENDOR_SPECS` names
//! the specs' folder (see `tests/specs/mod.rs`), and are left out of the pytest run, with
//! one line on stderr, when it does not.

// The e2e binary's harness (`tests/e2e/main.rs` uses all of it, so an unused helper is found
// there); this target borrows the part it needs.
#[allow(dead_code)]
mod common;
mod specs;

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

/// Passportal's documented samples: `research/passportal.md` in the folder that holds the
/// specs' folder (where the team keeps its notes).
fn passportal_notes(specs: &Path) -> PathBuf {
    specs
        .parent()
        .unwrap_or(specs)
        .join("research")
        .join("passportal.md")
}

/// The Python files that need files from outside the repository, and the file each needs:
/// `(test file, path under the specs' folder, or None for Passportal's notes)`.
const OUTSIDE_INPUTS: [(&str, Option<&str>); 3] = [
    ("test_auvik_sim_schema.py", Some(specs::AUVIK_V1)),
    ("test_syncro_sim_schema.py", Some(specs::SYNCRO)),
    ("test_passportal_sim.py", None),
];

/// The specs' folder to hand to pytest (when set), and the test files to leave out because
/// what they read is not there; prints the one skip line when there are any.
fn vendor_inputs() -> (Option<PathBuf>, Vec<&'static str>) {
    let dir = specs::dir();
    let missing: Vec<&str> = OUTSIDE_INPUTS
        .iter()
        .filter(|(_, file)| match (&dir, file) {
            (None, _) => true,
            (Some(d), Some(f)) => !d.join(f).is_file(),
            (Some(d), None) => !passportal_notes(d).is_file(),
        })
        .map(|(test, _)| *test)
        .collect();
    if !missing.is_empty() {
        let why = match &dir {
            None => String::new(),
            Some(d) => format!(": what they read is not in or beside {}", d.display()),
        };
        specs::say(&format!(
            "skipped: the Python checks of the simulators against the vendors' published specs \
             and Passportal's documented samples ({}{why}; set {} to the folder holding {} and \
             {}, with the notes' research/passportal.md in the folder beside it, to run them)",
            missing.join(", "),
            specs::VAR,
            specs::AUVIK_V1,
            specs::SYNCRO
        ));
    }
    (dir, missing)
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
            .arg("proto/assetd/v1/events.proto")
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

    let (spec_dir, left_out) = vendor_inputs();
    let mut pytest = Command::new(&python);
    pytest
        .args([
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "tests/python",
        ])
        .args(
            left_out
                .iter()
                .map(|f| format!("--ignore=tests/python/{f}")),
        )
        .current_dir(repo())
        .env("ASSETD_SOCKET", &agent.socket)
        .env("EXPECTED_ASSETS", (clients * per_client).to_string())
        .env("PROTO_OUT", stubs.path())
        .env("ASSETD_BIN", common::ASSETD)
        .env("ASSETCTL_BIN", common::ASSETCTL);
    match &spec_dir {
        Some(dir) => pytest.env(specs::VAR, dir),
        None => pytest.env_remove(specs::VAR),
    };
    let out = pytest.output().expect("run pytest");
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
