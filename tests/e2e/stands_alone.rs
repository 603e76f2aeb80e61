//! The repository stands alone: a clone with nothing beside it builds, tests and documents
//! itself. Two checks over the repository's own files keep it so:
//!
//! - no file but `.ci/run` names a path above the repository's root: a relative path whose
//!   parent-directory steps, taken from the file's own folder (and, for code, which runs from
//!   the root, from the root too), climb out of it; the root (`CARGO_MANIFEST_DIR`, `repo()`,
//!   Python's `REPO`) joined with a parent step or asked for its parent; Python's
//!   `parents[N]` or a `.parent` chain from `__file__` past the root;
//! - nothing cites the team's design document, which is not in the repository: the
//!   repository's own contract is `docs/CONTRACT.md` (cite "CONTRACT §N").
//!
//! The files are everything under the root but `target/`, `.git/`, `.venv/` and Python's
//! caches, so a file not yet committed is checked too. Binary files are skipped.

use std::path::{Path, PathBuf};

/// The only file that may name a path above the root: CI, which hands the team's copy of the
/// vendors' specs, beside the repository, to the spec checks.
const MAY_LEAVE_THE_ROOT: &[&str] = &[".ci/run"];

/// Text that reads as a path above the root but that nothing opens, with the reason. Each
/// entry must still be found (a stale one fails the check).
const NOT_PATHS: &[(&str, &str, &str)] = &[(
    "agent/config/tests.rs",
    concat!(".", "./auvik"),
    "a credential name with a path in it, which the config must refuse",
)];

/// Never walked: build output, git's own (a folder, or a file in a worktree), a local venv,
/// Python's caches.
const NOT_WALKED: &[&str] = &["target", ".git", ".venv", "__pycache__", ".pytest_cache"];

/// The parent-directory step, spelled so that this file does not contain it.
const UP: &str = concat!(".", ".");
/// The design document's name, likewise.
const DESIGN_WORD: &str = concat!("DES", "IGN");
/// How Rust code names the repository's root, spelled so that this file does not contain them.
const ROOT_NAMES: [&str; 2] = [concat!("CARGO_MANIFEST", "_DIR"), concat!("repo", "()")];
/// Where a shell script names its own folder; resolved from the script's folder only.
const HERE: &str = "@here@";

#[derive(Debug, PartialEq, Eq)]
struct Finding {
    file: String,
    line: usize,
    what: String,
    text: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {}\n    {}",
            self.file,
            self.line,
            self.what,
            self.text.trim()
        )
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Every text file of the repository, as (path relative to the root with `/`, text).
fn files() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![root()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let entry = entry.expect("directory entry");
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            let kind = entry.file_type().expect("file type");
            if NOT_WALKED.contains(&name.as_str()) {
                continue;
            }
            if kind.is_dir() {
                stack.push(path);
            } else if kind.is_file() {
                let bytes = std::fs::read(&path).expect("read");
                let Ok(text) = String::from_utf8(bytes) else {
                    continue;
                };
                if text.contains('\0') {
                    continue;
                }
                out.push((relative(&path), text));
            }
        }
    }
    out.sort();
    out
}

fn relative(path: &Path) -> String {
    let rel = path.strip_prefix(root()).expect("under the root");
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

/// Prose and snapshots: their relative paths are read from their own folder only.
fn is_prose(file: &str) -> bool {
    file.ends_with(".md") || file.ends_with(".txt")
}

fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_-.~/$@{}+%".contains(c)
}

/// How deep a file's folder is below the root.
fn depth(file: &str) -> i64 {
    file.matches('/').count() as i64
}

/// Whether `path`, taken from a folder `start` levels below the root, climbs above it.
fn climbs_out(start: i64, path: &str) -> bool {
    let mut level = start;
    for part in path.split('/') {
        match part {
            "" | "." => {}
            p if p == UP => {
                level -= 1;
                if level < 0 {
                    return true;
                }
            }
            _ => level += 1,
        }
    }
    false
}

/// A shell script's ways of naming its own folder, read as `HERE`.
fn mark_script_folder(line: &str) -> String {
    let mut line = line.to_string();
    for form in [
        "$(dirname \"$0\")",
        "$(dirname -- \"$0\")",
        "$(dirname \"${BASH_SOURCE[0]}\")",
        "$(dirname -- \"${BASH_SOURCE[0]}\")",
        "${BASH_SOURCE%/*}",
        "${0%/*}",
    ] {
        line = line.replace(form, HERE);
    }
    line
}

/// The relative paths in `line` that contain a parent step: `x/<up>/y`, `<up>/y`, `x/<up>`.
fn parent_step_paths(line: &str) -> Vec<String> {
    let chars: Vec<char> = line.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i + 1 < chars.len() {
        if chars[i] != '.' || chars[i + 1] != '.' {
            i += 1;
            continue;
        }
        let before = if i == 0 { None } else { Some(chars[i - 1]) };
        let after = chars.get(i + 2).copied();
        let starts_component = before.is_none_or(|c| c == '/' || !is_path_char(c));
        let ends_component = after.is_none_or(|c| c == '/' || !is_path_char(c));
        // A bare pair of dots (Rust's `..`, prose) counts only after a slash.
        let is_step = starts_component
            && ends_component
            && (after == Some('/') || before == Some('/'))
            && before != Some('.');
        if is_step {
            let mut start = i;
            while start > 0 && is_path_char(chars[start - 1]) {
                start -= 1;
            }
            let mut end = i + 2;
            while end < chars.len() && is_path_char(chars[end]) {
                end += 1;
            }
            out.push(chars[start..end].iter().collect());
            i = end;
        } else {
            i += 2;
        }
    }
    out
}

/// The string literals of a stretch of code (double or single quoted).
fn string_literals(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = code.chars();
    while let Some(c) = chars.next() {
        if c != '"' && c != '\'' {
            continue;
        }
        let mut s = String::new();
        let mut closed = false;
        while let Some(d) = chars.next() {
            if d == '\\' {
                chars.next();
            } else if d == c {
                closed = true;
                break;
            } else {
                s.push(d);
            }
        }
        if closed {
            out.push(s);
        }
    }
    out
}

/// Every place in `text` (the file `file`) that names a path above the root.
fn paths_above_the_root(file: &str, text: &str) -> Vec<Finding> {
    let mut found = Vec::new();
    if MAY_LEAVE_THE_ROOT.contains(&file) {
        return found;
    }
    let here = depth(file);
    let code = !is_prose(file);
    let python = file.ends_with(".py");
    let lines: Vec<&str> = text.lines().collect();
    let mut note = |line: usize, what: String| {
        found.push(Finding {
            file: file.to_string(),
            line: line + 1,
            what,
            text: lines[line].to_string(),
        })
    };
    for (n, raw_line) in lines.iter().enumerate() {
        let line = mark_script_folder(raw_line);
        // Relative paths with parent steps. Rust's include macros and `#[path]` read from the
        // file's folder; other code runs from the root.
        let file_relative_only = ["include_str!", "include_bytes!", "include!", "#[path"]
            .iter()
            .any(|m| line.contains(m));
        for path in parent_step_paths(&line) {
            if NOT_PATHS.iter().any(|(f, p, _)| *f == file && path == *p) {
                continue;
            }
            let leaves = if let Some(rest) = path.strip_prefix(HERE) {
                climbs_out(here, rest)
            } else if path.starts_with(['/', '$', '~', '@']) {
                false // absolute, or from a variable: not a path in the repository
            } else {
                climbs_out(here, &path) || (code && !file_relative_only && climbs_out(0, &path))
            };
            if leaves {
                note(n, format!("`{path}` leads above the repository's root"));
            }
        }
        if !code {
            continue;
        }
        // The root joined with a parent step, or asked for its parent. Rust: the statement
        // from the line that names the root to the next `;` (at most six lines, comments
        // left out); Python: `REPO.parent`, or `REPO` joined with a parent step on its line.
        let trimmed = line.trim_start();
        if trimmed.starts_with("//") || trimmed.starts_with('#') {
            continue;
        }
        let names_root = if python {
            line.contains("REPO")
        } else {
            ROOT_NAMES.iter().any(|r| line.contains(r))
        };
        if names_root {
            let mut stretch = line.clone();
            if !python {
                for next in lines.iter().skip(n + 1).take(5) {
                    if stretch.contains(';') {
                        break;
                    }
                    if !next.trim_start().starts_with("//") {
                        stretch.push('\n');
                        stretch.push_str(next);
                    }
                }
                if let Some(end) = stretch.find(';') {
                    stretch.truncate(end);
                }
            }
            let joined_up = string_literals(&stretch)
                .iter()
                .any(|s| s.split('/').any(|part| part == UP));
            let parent = if python {
                stretch.contains("REPO.parent")
            } else {
                stretch.contains(".parent(")
            };
            if joined_up || parent {
                note(
                    n,
                    "the repository's root leads to its parent here".to_string(),
                );
            }
        }
        if python {
            // `parents[N]` past the root: parents[0] is the file's folder.
            let mut rest = line.as_str();
            while let Some(at) = rest.find("parents[") {
                rest = &rest[at + "parents[".len()..];
                let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
                if let Ok(up) = digits.parse::<i64>()
                    && up > here
                {
                    note(
                        n,
                        format!("`parents[{up}]` leads above the repository's root"),
                    );
                }
            }
            // `Path(__file__).parent.parent…` past the root.
            if let Some(at) = line.find("__file__") {
                let steps = line[at..]
                    .match_indices(".parent")
                    .filter(|(i, _)| !line[at + i..].starts_with(".parents"))
                    .count() as i64;
                if steps - 1 > here {
                    note(
                        n,
                        "a `.parent` chain from `__file__` leads above the repository's root"
                            .to_string(),
                    );
                }
            }
        }
    }
    found
}

/// Every citation of the team's design document in `text` (the file `file`).
fn design_citations(file: &str, text: &str) -> Vec<Finding> {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
    let mut found = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let cites = line.match_indices(DESIGN_WORD).any(|(i, _)| {
            !word(line[..i].chars().next_back())
                && !word(line[i + DESIGN_WORD.len()..].chars().next())
        });
        if cites {
            found.push(Finding {
                file: file.to_string(),
                line: n + 1,
                what: "cites the team's design document, which is not in the repository: \
                       cite docs/CONTRACT.md (`CONTRACT §N`) instead"
                    .to_string(),
                text: line.to_string(),
            });
        }
    }
    found
}

fn report(findings: &[Finding]) -> String {
    findings
        .iter()
        .map(|f| f.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn no_file_but_ci_names_a_path_above_the_root() {
    let files = files();
    assert!(
        files.iter().any(|(f, _)| f == "Cargo.toml"),
        "the walk found the repository"
    );
    let findings: Vec<Finding> = files
        .iter()
        .flat_map(|(f, t)| paths_above_the_root(f, t))
        .collect();
    assert!(
        findings.is_empty(),
        "{} place(s) name a path above the repository's root; a clone has nothing there \
         (the vendors' specs come through $ASSETD_VENDOR_SPECS, and only .ci/run may look \
         beside the repository):\n{}",
        findings.len(),
        report(&findings)
    );
    for (file, path, why) in NOT_PATHS {
        let text = files.iter().find(|(f, _)| f == file).map(|(_, t)| t);
        assert!(
            text.is_some_and(|t| t.contains(path)),
            "NOT_PATHS lists `{path}` in {file} ({why}), which is no longer there: remove the entry"
        );
    }
}

#[test]
fn nothing_cites_the_design_document_outside_the_repository() {
    let findings: Vec<Finding> = files()
        .iter()
        .flat_map(|(f, t)| design_citations(f, t))
        .collect();
    assert!(
        findings.is_empty(),
        "{} citation(s) of a document outside the repository:\n{}",
        findings.len(),
        report(&findings)
    );
}

/// The checks find what they are for, and leave alone what only looks like it.
#[test]
fn the_checks_catch_what_they_must() {
    let [manifest, repo_fn] = ROOT_NAMES;
    let above = |file: &str, text: &str| paths_above_the_root(file, text).len();
    // Relative paths with parent steps.
    assert_eq!(above("README.md", &format!("see [x]({UP}/shared/x.md)")), 1);
    assert_eq!(above("docs/a.md", &format!("see [x]({UP}/README.md)")), 0);
    assert_eq!(above("docs/a.md", &format!("see [x]({UP}/{UP}/x.md)")), 1);
    assert_eq!(
        above(
            "agent/x.rs",
            &format!("let s = \"{UP}/shared/specs.json\";")
        ),
        1,
        "code runs from the root"
    );
    assert_eq!(
        above(
            "tests/x.rs",
            &format!("const D: &str = include_str!(\"{UP}/docs/a.md\");")
        ),
        0,
        "include_str! reads from the file's folder"
    );
    assert_eq!(
        above("tests/x.rs", &format!("include_str!(\"{UP}/{UP}/a.md\");")),
        1
    );
    assert_eq!(above("tests/x.py", &format!("open('a/{UP}/{UP}/b')")), 1);
    assert_eq!(above("tests/x.py", &format!("open('a/b/{UP}/c')")), 0);
    // Shell scripts naming their own folder.
    assert_eq!(
        above(
            "packaging/b.sh",
            &format!("repo=$(cd \"$(dirname \"$0\")/{UP}\" && pwd)")
        ),
        0
    );
    assert_eq!(
        above(
            "packaging/b.sh",
            &format!("cd \"$(dirname \"$0\")/{UP}/{UP}\"")
        ),
        1
    );
    assert_eq!(
        above(".ci/run", &format!("cd {UP}/shared")),
        0,
        ".ci/run may"
    );
    assert_eq!(above("x/run", &format!("test -d {UP}/shared")), 1);
    // The root joined with a parent step, or asked for its parent.
    assert_eq!(
        above(
            "tests/x.rs",
            &format!(
                "let p = Path::new(env!(\"{manifest}\"))\n    .join(\"{UP}\")\n    .join(\"shared\");"
            )
        ),
        1
    );
    assert_eq!(
        above(
            "tests/x.rs",
            &format!("let p = {repo_fn}.parent().unwrap().join(\"s\");")
        ),
        1
    );
    assert_eq!(
        above(
            "tests/x.rs",
            &format!("let p = concat!(env!(\"{manifest}\"), \"/{UP}/shared\");")
        ),
        1
    );
    assert_eq!(
        above(
            "tests/x.rs",
            &format!("let p = {repo_fn}.join(\"tests/python\");")
        ),
        0
    );
    // Python's ways up.
    assert_eq!(
        above("tests/python/t.py", "SHARED = REPO.parent / \"shared\""),
        1
    );
    assert_eq!(
        above(
            "tests/python/t.py",
            "REPO = Path(__file__).resolve().parents[2]"
        ),
        0
    );
    assert_eq!(
        above(
            "tests/python/t.py",
            "UP = Path(__file__).resolve().parents[3]"
        ),
        1
    );
    assert_eq!(above("tests/t.py", "R = Path(__file__).parent.parent"), 0);
    assert_eq!(
        above("tests/t.py", "R = Path(__file__).parent.parent.parent"),
        1
    );
    // Not paths: Rust ranges and rest patterns, prose, absolute paths, URLs, variables.
    assert_eq!(
        above(
            "agent/x.rs",
            "let a = &b[..n]; for i in 0..10 {} let S { x, .. } = s; T { ..Default::default() };"
        ),
        0
    );
    assert_eq!(
        above(
            "README.md",
            &format!(
                "`/etc/assetd/{UP}/x`, https://example.com/a/{UP}/b, $ASSETD_VENDOR_SPECS/{UP}/research"
            )
        ),
        0
    );
    // Citations of the design document, anywhere.
    let cites = |file: &str, text: &str| design_citations(file, text).len();
    assert_eq!(
        cites("agent/x.rs", &format!("//! See {DESIGN_WORD} §5.")),
        1
    );
    assert_eq!(cites("docs/a.md", &format!("({DESIGN_WORD}.md)")), 1);
    assert_eq!(cites("agent/x.rs", "//! See CONTRACT §5."), 0);
    assert_eq!(
        cites("agent/x.rs", &format!("const {DESIGN_WORD}_X: u8 = 0;")),
        0
    );
    assert_eq!(cites("agent/sim/x.rs", &format!("// {DESIGN_WORD} §8")), 1);
}
