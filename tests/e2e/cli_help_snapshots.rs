//! The command-line interface as users see it: `--help` of every command and subcommand of
//! `assetd` and `assetctl`, compared with the snapshots committed in `tests/snapshots/help/`,
//! so that no flag, verb or wording changes by accident. After a deliberate change, run
//! `UPDATE_SNAPSHOTS=1 cargo test --test e2e cli_help_snapshots` and commit the new files (the
//! diff is the review of the interface change).
//!
//! The binaries run with an empty environment and `COLUMNS=100`: help text must not depend
//! on the terminal, nor show the values of `ASSETD_*` variables a developer happens to set.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

const BINARIES: [(&str, &str); 2] = [
    ("assetd", env!("CARGO_BIN_EXE_assetd")),
    ("assetctl", env!("CARGO_BIN_EXE_assetctl")),
];

fn snapshot_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/snapshots/help")
}

fn help(bin: &str, path: &[String]) -> String {
    let out = Command::new(bin)
        .args(path)
        .arg("--help")
        .env_clear()
        .env("COLUMNS", "100")
        .env("LINES", "50")
        .output()
        .expect("run the binary");
    assert!(
        out.status.success(),
        "{bin} {path:?} --help failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("help is UTF-8")
}

/// The subcommands a help text lists under `Commands:` (clap's own `help` left out).
fn subcommands(help: &str) -> Vec<String> {
    help.lines()
        .skip_while(|l| l.trim_end() != "Commands:")
        .skip(1)
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// Every command's help, keyed by its snapshot file name (`assetctl-assets-list.txt`), and
/// whether it is a leaf (a verb that runs, rather than a group of verbs).
fn all_help() -> BTreeMap<String, (String, bool)> {
    let mut out = BTreeMap::new();
    for (name, bin) in BINARIES {
        let mut stack: Vec<Vec<String>> = vec![Vec::new()];
        while let Some(path) = stack.pop() {
            let text = help(bin, &path);
            let subs = subcommands(&text);
            let file = std::iter::once(name.to_owned())
                .chain(path.iter().cloned())
                .collect::<Vec<_>>()
                .join("-")
                + ".txt";
            for sub in &subs {
                let mut next = path.clone();
                next.push(sub.clone());
                stack.push(next);
            }
            out.insert(file, (text, subs.is_empty()));
        }
    }
    out
}

#[test]
fn help_of_every_command_matches_its_snapshot() {
    let dir = snapshot_dir();
    let current = all_help();
    assert!(
        current.len() > 15,
        "expected every verb of both binaries, found {:?}",
        current.keys()
    );
    let on_disk: Vec<String> = std::fs::read_dir(&dir)
        .map(|entries| {
            entries
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".txt"))
                .collect()
        })
        .unwrap_or_default();

    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(&dir).expect("snapshot dir");
        for stale in on_disk.iter().filter(|n| !current.contains_key(*n)) {
            std::fs::remove_file(dir.join(stale)).expect("remove a stale snapshot");
        }
        for (file, (text, _)) in &current {
            std::fs::write(dir.join(file), text).expect("write a snapshot");
        }
        return;
    }

    let mut problems = Vec::new();
    for stale in on_disk.iter().filter(|n| !current.contains_key(*n)) {
        problems.push(format!("{stale}: no such command any more"));
    }
    for (file, (text, _)) in &current {
        match std::fs::read_to_string(dir.join(file)) {
            Err(_) => problems.push(format!("{file}: no snapshot (a new command?)")),
            Ok(want) if want != *text => {
                let (n, (w, g)) = want
                    .lines()
                    .chain(std::iter::repeat(""))
                    .zip(text.lines().chain(std::iter::repeat("")))
                    .enumerate()
                    .find(|(_, (w, g))| w != g)
                    .unwrap_or((0, ("", "")));
                problems.push(format!(
                    "{file}: line {}:\n    snapshot: {w:?}\n    now:      {g:?}",
                    n + 1
                ));
            }
            Ok(_) => {}
        }
    }
    assert!(
        problems.is_empty(),
        "the command-line interface changed:\n{}\n\nIf this is deliberate, run \
         `UPDATE_SNAPSHOTS=1 cargo test --test e2e cli_help_snapshots` and commit tests/snapshots/help/.",
        problems.join("\n")
    );
}

#[test]
fn every_verb_of_both_binaries_has_an_example() {
    for (file, (text, leaf)) in all_help() {
        if !leaf || !file.contains('-') {
            continue; // groups and the top level list their verbs' examples
        }
        assert!(
            text.contains("\nExample:\n") || text.contains("\nExamples:\n"),
            "{file} has no example:\n{text}"
        );
    }
}
