//! `assetctl -o json` against its contract, `docs/cli-json.md`: every command listed there
//! runs against a real agent (an Auvik and a Syncro simulator, so that records carry
//! every kind of value: unmapped clients, a vendor's raw record, billing figures, history),
//! and every record it prints must have exactly the documented fields, each of a documented
//! type. The tables are read from the document itself, so the document and the output
//! cannot drift apart: changing either alone fails here.

use crate::common;
use crate::common::{Agent, start_auvik};
use assetd::sim::syncro::{SyncroSim, SyncroSimOptions};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const DOC: &str = include_str!("../../docs/cli-json.md");

/// One alternative of a field's documented type.
#[derive(Debug, Clone, PartialEq)]
enum Ty {
    String,
    Integer,
    Number,
    Boolean,
    Null,
    Any,
    /// The key may be missing altogether.
    Absent,
    Array(Box<Ty>),
    Record(String),
    /// One JSON value per line (JSON Lines), each of this type.
    Lines(Box<Ty>),
}

fn parse_ty(text: &str) -> Vec<Ty> {
    text.split(" or ")
        .map(|alt| {
            let alt = alt.trim();
            if let Some(inner) = alt.strip_suffix(" per line") {
                return Ty::Lines(Box::new(parse_ty(inner).remove(0)));
            }
            let alt = alt.trim_matches('`');
            if let Some(inner) = alt.strip_prefix('[').and_then(|a| a.strip_suffix(']')) {
                return Ty::Array(Box::new(parse_ty(inner).remove(0)));
            }
            match alt {
                "string" => Ty::String,
                "integer" => Ty::Integer,
                "number" => Ty::Number,
                "boolean" => Ty::Boolean,
                "null" => Ty::Null,
                "any" => Ty::Any,
                "absent" => Ty::Absent,
                name => Ty::Record(name.to_owned()),
            }
        })
        .collect()
}

/// The cells of a markdown table row, trimmed.
fn cells(line: &str) -> Vec<&str> {
    let line = line.trim();
    if !line.starts_with('|') {
        return Vec::new();
    }
    line.trim_matches('|').split('|').map(str::trim).collect()
}

struct Contract {
    /// Record name → field → its type's alternatives, in document order.
    records: BTreeMap<String, Vec<(String, Vec<Ty>)>>,
    /// Command line (with placeholders) → what it prints.
    commands: Vec<(String, Ty)>,
}

fn contract() -> Contract {
    let mut records: BTreeMap<String, Vec<(String, Vec<Ty>)>> = BTreeMap::new();
    let mut commands = Vec::new();
    let mut current: Option<String> = None;
    for line in DOC.lines() {
        if let Some(name) = line.strip_prefix("### `").and_then(|l| l.strip_suffix('`')) {
            current = Some(name.to_owned());
            records.entry(name.to_owned()).or_default();
            continue;
        }
        if line.starts_with("## ") {
            current = None;
        }
        let row = cells(line);
        if row.len() < 2 {
            continue;
        }
        if let Some(cmd) = row[0]
            .strip_prefix("`assetctl -o json ")
            .and_then(|c| c.strip_suffix('`'))
        {
            commands.push((cmd.to_owned(), parse_ty(row[1]).remove(0)));
            continue;
        }
        if let (Some(record), Some(field)) = (
            &current,
            row[0].strip_prefix('`').and_then(|f| f.strip_suffix('`')),
        ) {
            records
                .get_mut(record)
                .expect("section")
                .push((field.to_owned(), parse_ty(row[1])));
        }
    }
    Contract { records, commands }
}

/// Checks `value` against the alternatives `ty`; records which record types were seen with
/// content, and fails with the JSON path of the first mismatch.
fn check(
    c: &Contract,
    value: &Value,
    ty: &[Ty],
    path: &str,
    seen: &mut BTreeSet<String>,
) -> Result<(), String> {
    let fits = |t: &Ty, seen: &mut BTreeSet<String>| -> Result<bool, String> {
        Ok(match (t, value) {
            (Ty::Any, _) => true,
            (Ty::Absent, _) => false,
            (Ty::Null, Value::Null) => true,
            (Ty::String, Value::String(_)) => true,
            (Ty::Boolean, Value::Bool(_)) => true,
            (Ty::Integer, Value::Number(n)) => n.is_i64() || n.is_u64(),
            (Ty::Number, Value::Number(_)) => true,
            (Ty::Array(inner), Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    check(
                        c,
                        item,
                        std::slice::from_ref(inner),
                        &format!("{path}[{i}]"),
                        seen,
                    )?;
                }
                true
            }
            (Ty::Record(name), Value::Object(map)) => {
                let fields = c
                    .records
                    .get(name)
                    .ok_or_else(|| format!("{path}: the document names no record `{name}`"))?;
                for key in map.keys() {
                    if !fields.iter().any(|(f, _)| f == key) {
                        return Err(format!(
                            "{path}.{key}: not in the `{name}` table of docs/cli-json.md"
                        ));
                    }
                }
                for (field, fty) in fields {
                    match map.get(field) {
                        Some(v) => check(c, v, fty, &format!("{path}.{field}"), seen)?,
                        None if fty.contains(&Ty::Absent) => {}
                        None => return Err(format!("{path}.{field}: missing")),
                    }
                }
                seen.insert(name.clone());
                true
            }
            _ => false,
        })
    };
    for t in ty {
        if fits(t, seen)? {
            return Ok(());
        }
    }
    Err(format!("{path}: {value} is not {ty:?}"))
}

#[test]
fn the_document_is_well_formed() {
    let c = contract();
    // Every verb of CONTRACT §7 that prints data is listed.
    let verbs: BTreeSet<&str> = c
        .commands
        .iter()
        .map(|(cmd, _)| cmd.split(' ').next().unwrap_or_default())
        .collect();
    for verb in [
        "status",
        "sources",
        "clients",
        "assets",
        "devices",
        "counts",
        "lifecycle",
        "sync",
        "runs",
        "export",
        "purge",
        "events",
        "hooks",
    ] {
        assert!(verbs.contains(verb), "docs/cli-json.md lists no `{verb}`");
    }
    // Every record named anywhere has a table, and every table has fields.
    let mut named: Vec<String> = Vec::new();
    let mut collect = |t: &Ty| {
        let mut t = t;
        while let Ty::Array(inner) | Ty::Lines(inner) = t {
            t = inner;
        }
        if let Ty::Record(n) = t {
            named.push(n.clone());
        }
    };
    for (_, t) in &c.commands {
        collect(t);
    }
    for fields in c.records.values() {
        for (_, alts) in fields {
            alts.iter().for_each(&mut collect);
        }
    }
    for n in named {
        assert!(
            c.records.get(&n).is_some_and(|f| !f.is_empty()),
            "`{n}` has no table"
        );
    }
}

#[test]
fn every_command_prints_the_documented_shape() {
    let c = contract();
    let auvik = start_auvik(71, 2, 3);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let syncro = SyncroSim::new(SyncroSimOptions {
        seed: 72,
        clients: 2,
        assets_per_client: 3,
        requests_per_minute: 6000,
        ..SyncroSimOptions::default()
    });
    let syncro_server = runtime.block_on(async {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        syncro.start(l).await.expect("start sim")
    });
    let agent = Agent::start_with(|a| {
        common::write_private(&a.key_file, &auvik.sim.api_key());
        let syncro_key = a.dir.path().join("syncro.key");
        common::write_private(&syncro_key, &syncro.api_key());
        format!(
            "{}[[source]]\nname = \"syncro\"\nkind = \"syncro\"\nsubdomain = \"{}\"\n\
             api_key = {{ file = \"{}\" }}\nbase_url = \"{}\"\nrequests_per_minute = 6000\n\n\
             [[hook]]\nname = \"notify\"\nevents = [\"run.finished\"]\ncommand = [\"/bin/true\"]\n",
            a.auvik_config(&auvik, ""),
            syncro.subdomain(),
            syncro_key.display(),
            syncro_server.base_url
        )
    });
    agent.wait_for("both first syncs", |a| {
        a.state_of("auvik") == "ok" && a.state_of("syncro") == "ok"
    });
    // A change, so that history has more than first appearances.
    let device = auvik.sim.devices()[0].id.clone();
    auvik
        .sim
        .update_device(&device, |d| d.name = format!("{}-renamed", d.name));
    let _ = agent.sync(true);

    let assets = agent.assets(false);
    let id_of = |source: &str| {
        assets
            .iter()
            .find(|a| a["source"] == source)
            .and_then(|a| a["id"].as_i64())
            .unwrap_or_else(|| panic!("no {source} asset"))
            .to_string()
    };
    let month = chrono::Utc::now().format("%Y-%m").to_string();
    let mut seen = BTreeSet::new();
    let run = |cmd: &str, ty: &Ty, seen: &mut BTreeSet<String>| {
        let args: Vec<&str> = cmd.split(' ').collect();
        if let Ty::Lines(each) = ty {
            let mut full = vec!["-o", "json"];
            full.extend_from_slice(&args);
            let out = agent.ctl(&full);
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = String::from_utf8(out.stdout).expect("UTF-8");
            assert!(
                !text.is_empty(),
                "`assetctl -o json {cmd}` printed nothing: nothing checked"
            );
            for line in text.lines() {
                let value: Value = serde_json::from_str(line)
                    .unwrap_or_else(|e| panic!("`{cmd}`: a line is not JSON ({e}): {line}"));
                if let Err(e) = check(&c, &value, std::slice::from_ref(each), "$", seen) {
                    panic!("`assetctl -o json {cmd}` breaks docs/cli-json.md at {e}\n{value:#}");
                }
            }
            return;
        }
        let value = agent.json(&args);
        if let Value::Array(items) = &value {
            assert!(
                !items.is_empty(),
                "`assetctl -o json {cmd}` printed []: nothing checked"
            );
        }
        if let Err(e) = check(&c, &value, std::slice::from_ref(ty), "$", seen) {
            panic!("`assetctl -o json {cmd}` breaks docs/cli-json.md at {e}\n{value:#}");
        }
    };
    let mut purge = None;
    for (template, ty) in &c.commands {
        if template.starts_with("purge") {
            purge = Some((template, ty)); // last: it deletes what the others read
            continue;
        }
        if template.contains(" ID") {
            // An Auvik asset (no vendor record kept) and a Syncro one (with `raw`).
            for source in ["auvik", "syncro"] {
                run(
                    &template.replace(" ID", &format!(" {}", id_of(source))),
                    ty,
                    &mut seen,
                );
            }
            continue;
        }
        let cmd = template
            .replace("YYYY-MM", &month)
            .replace("NAME", "notify");
        run(&cmd, ty, &mut seen);
    }
    // `raw` is there for Syncro (and was checked absent for Auvik above).
    let syncro_asset = agent.json(&["assets", "get", &id_of("syncro")]);
    assert!(
        syncro_asset.get("raw").is_some_and(Value::is_object),
        "{syncro_asset}"
    );
    let (template, ty) = purge.expect("purge is documented");
    run(&template.replace("SOURCE", "syncro"), ty, &mut seen);

    // Every documented record was met with content (not only in empty lists or nulls).
    let all: BTreeSet<String> = c.records.keys().cloned().collect();
    assert_eq!(seen, all, "records never printed by any command");
}
