//! The layer rule of docs/ARCHITECTURE.md, checked on the `use` lines: a module of the agent
//! imports only from layers below its own, except inside its own folder (where modules may
//! import each other); and `assetctl` is a gRPC client of the API, never of the agent's
//! library. A move that breaks either fails here, naming the file, the line and the layers.
//!
//! The layers, lowest first (a module's layer is that of the longest path below that names
//! it):
//!
//! 0. leaves: `model`, `event` (the event log's vocabulary), `devices`, `idset`, `heap`,
//!    `watch`, `notify`, `daemonize`, `logging`, `docs`, and the simulators (`sim`, which
//!    share no code with the agent)
//! 1. `listed` (the list fields' encoded form) and `secret`
//! 2. the config's generic checks (`config::check`) and TLS files (`config::tls`)
//! 3. each vendor's own settings (`vendors::<vendor>::config`)
//! 4. `config` (the file format, the shared keys, the registry of vendors) and `metrics`
//! 5. `clients` (grouping source clients by the config's `[[client]]` tables)
//! 6. `store` and `vendors` (the connectors)
//! 7. `sync`, and `hooks` (delivering events to webhooks and commands)
//! 8. `service`
//! 9. `api` (the gRPC handlers and their encoding)
//! 10. `server` (listeners, TLS accept, tokens, the metrics endpoint) and `supervise`
//! 11. `daemon`, then 12. `demo`
//!
//! Modules of one layer may import each other only inside one folder (`store/`, `vendors/`,
//! `api/`, `sim/`, …): a circle, if any, never crosses a folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

const LAYERS: &[(&str, u8)] = &[
    ("model", 0),
    ("event", 0),
    ("devices", 0),
    ("idset", 0),
    ("heap", 0),
    ("watch", 0),
    ("notify", 0),
    ("daemonize", 0),
    ("logging", 0),
    ("docs", 0),
    ("sim", 0),
    ("listed", 1),
    ("secret", 1),
    ("config::check", 2),
    ("config::tls", 2),
    ("vendors::auvik::config", 3),
    ("vendors::syncro::config", 3),
    ("vendors::passportal::config", 3),
    ("config", 4),
    ("metrics", 4),
    ("clients", 5),
    ("store", 6),
    ("vendors", 6),
    ("sync", 7),
    ("hooks", 7),
    ("service", 8),
    ("api", 9),
    ("server", 10),
    ("supervise", 10),
    ("daemon", 11),
    ("demo", 12),
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "rs") {
            out.push(path);
        }
    }
}

/// `agent/vendors/auvik/mod.rs` → `vendors::auvik`; the crate root and the binary → "".
fn module_of(file: &Path) -> String {
    let rel = file
        .strip_prefix(repo().join("agent"))
        .expect("under agent/");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string())
        .collect();
    if parts
        .last()
        .is_some_and(|p| p == "mod" || p == "lib" || p == "main")
    {
        parts.pop();
    }
    parts.join("::")
}

/// The layer of `module`: the longest prefix in `LAYERS` that names it.
fn layer_of(module: &str) -> Option<(&'static str, u8)> {
    LAYERS
        .iter()
        .filter(|(prefix, _)| module == *prefix || module.starts_with(&format!("{prefix}::")))
        .max_by_key(|(prefix, _)| prefix.len())
        .copied()
}

/// The code of a file without comments, string contents and its test modules (tests may
/// reach anywhere; they are not part of the layering).
fn code_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut lines = text.lines().enumerate().peekable();
    while let Some((n, line)) = lines.next() {
        let trimmed = line.trim_start();
        if trimmed.starts_with("#[cfg(test)]") {
            // `#[cfg(test)] mod tests;` is one item; `mod tests { … }` runs to the end of
            // the file (where this project keeps its test modules).
            match lines.peek() {
                Some((_, next)) if next.trim_end().ends_with(';') => {
                    lines.next();
                    continue;
                }
                _ => break,
            }
        }
        let mut code = String::new();
        let mut in_string = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' => in_string = !in_string,
                '\\' if in_string => {
                    chars.next();
                }
                '/' if !in_string && chars.peek() == Some(&'/') => break,
                _ if in_string => {}
                _ => code.push(c),
            }
        }
        out.push((n + 1, code));
    }
    out
}

/// The modules a line names: `crate::a::b::Item`, `crate::{a, b::c}`, `super::x`.
fn named_modules(line: &str, here: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut push_path = |base: &[&str], path: &str| {
        let mut parts: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        // Module names are lower-case identifiers; an item (`Asset`), a group (`{`) or the
        // end of the path (`;`, `(`) ends the module part.
        for seg in path.split("::") {
            let seg = seg.trim_start();
            let ident: String = seg
                .chars()
                .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                .collect();
            let is_item = seg.chars().next().is_some_and(|c| c.is_ascii_uppercase());
            if ident.is_empty() || is_item {
                break;
            }
            parts.push(ident.clone());
            if ident.len() < seg.len() {
                break;
            }
        }
        if !parts.is_empty() {
            found.push(parts.join("::"));
        }
    };
    for (i, _) in line.match_indices("crate::") {
        let rest = &line[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or("");
            for item in inner.split(',') {
                push_path(&[], item.trim());
            }
        } else {
            push_path(&[], rest);
        }
    }
    let parent: Vec<&str> = here.split("::").filter(|s| !s.is_empty()).collect();
    for (i, _) in line.match_indices("super::") {
        if line[..i].ends_with("::") {
            continue; // `super::super::` is read from its first `super`
        }
        let mut rest = &line[i..];
        let mut base = parent.clone();
        while let Some(r) = rest.strip_prefix("super::") {
            base.pop();
            rest = r;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let inner = group.split('}').next().unwrap_or("");
            for item in inner.split(',') {
                push_path(&base, item.trim());
            }
        } else {
            push_path(&base, rest);
        }
    }
    found
}

/// The folder a module lives in: its top-level module when that is a folder (`vendors` for
/// `vendors::auvik::config`); a file at the crate root is a folder of its own (`None`).
fn folder_of(module: &str) -> Option<String> {
    let top = module.split("::").next()?;
    repo()
        .join("agent")
        .join(top)
        .is_dir()
        .then(|| top.to_string())
}

#[test]
fn no_module_imports_from_a_layer_above_it() {
    let mut files = Vec::new();
    rust_files(&repo().join("agent"), &mut files);
    // Test modules (`#[cfg(test)] mod tests;` files) may reach anywhere.
    let modules: BTreeMap<String, PathBuf> = files
        .iter()
        .map(|f| (module_of(f), f.clone()))
        .filter(|(m, _)| !m.is_empty() && !m.ends_with("tests"))
        .collect();
    let mut problems = Vec::new();
    for (module, file) in &modules {
        let Some((_, layer)) = layer_of(module) else {
            problems.push(format!(
                "{}: module `{module}` has no layer in tests/e2e/layers.rs (give it one, and say where in docs/ARCHITECTURE.md)",
                file.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("read");
        for (line_no, code) in code_lines(&text) {
            for named in named_modules(&code, module) {
                // The module a path names: the longest known module that is a prefix of it.
                let Some(target) = modules
                    .keys()
                    .filter(|m| named == **m || named.starts_with(&format!("{m}::")))
                    .max_by_key(|m| m.len())
                else {
                    continue;
                };
                if target == module || module.starts_with(&format!("{target}::")) {
                    continue; // itself, or its own parent module (`super`)
                }
                let Some((_, target_layer)) = layer_of(target) else {
                    continue;
                };
                let same_folder =
                    folder_of(module).is_some() && folder_of(module) == folder_of(target);
                let child = target.starts_with(&format!("{module}::"));
                if target_layer > layer || (target_layer == layer && !same_folder && !child) {
                    problems.push(format!(
                        "{}:{line_no}: `{module}` (layer {layer}) imports `{target}` (layer {target_layer}): {}",
                        file.strip_prefix(repo()).unwrap_or(file).display(),
                        if target_layer > layer {
                            "a layer above it"
                        } else {
                            "its own layer, outside its folder"
                        }
                    ));
                }
            }
        }
    }
    assert!(
        problems.is_empty(),
        "the layer rule of docs/ARCHITECTURE.md is broken:\n{}",
        problems.join("\n")
    );
}

/// assetctl talks to the agent over gRPC only: it builds against the generated API, never
/// the agent's library (its stores, connectors and simulators).
#[test]
fn assetctl_does_not_use_the_agent_library() {
    let mut files = Vec::new();
    rust_files(&repo().join("ctl"), &mut files);
    let mut uses = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).expect("read");
        for (n, code) in code_lines(&text) {
            if code.contains("assetd::") {
                uses.push(format!(
                    "{}:{n}: {}",
                    file.strip_prefix(repo()).unwrap_or(&file).display(),
                    code.trim()
                ));
            }
        }
    }
    assert!(
        uses.is_empty(),
        "assetctl uses the agent library:\n{}",
        uses.join("\n")
    );
}

/// The checker itself: it reads grouped, nested and `super` imports, and ignores comments,
/// strings and test modules.
#[test]
fn the_checker_reads_every_form_of_import() {
    assert_eq!(
        named_modules("use crate::{config::X, store::{A, B}};", "sync"),
        ["config", "store"]
    );
    assert_eq!(
        named_modules("use super::http::{Failure, HttpClient};", "vendors::auvik"),
        ["vendors::http"]
    );
    assert_eq!(
        named_modules("use super::super::model::Asset;", "vendors::auvik::config"),
        ["vendors::model"]
    );
    let code: Vec<String> = code_lines(
        "use crate::a; // crate::b\nlet s = \"crate::c\";\n#[cfg(test)]\nmod tests {\n use crate::d;\n}\n",
    )
    .into_iter()
    .map(|(_, c)| c)
    .collect();
    let named: Vec<String> = code.iter().flat_map(|c| named_modules(c, "x")).collect();
    assert_eq!(named, ["a"]);
    assert_eq!(
        layer_of("vendors::auvik::config"),
        Some(("vendors::auvik::config", 3))
    );
    assert_eq!(layer_of("vendors::auvik"), Some(("vendors", 6)));
    assert_eq!(layer_of("store::queries"), Some(("store", 6)));
    assert_eq!(layer_of("nothing"), None);
}
