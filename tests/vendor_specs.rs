//! The connectors' mapping checked against the vendors' own published specs, found through
//! `$ASSETD_VENDOR_SPECS` (see `tests/specs/mod.rs`): Auvik's `DeviceTypeSchema` is the
//! project's `DEVICE_TYPES` and every value maps to a category; every field of the asset
//! example in Syncro's swagger lands in the canonical record or, verbatim, in `raw`.
//!
//! The project holds what these enums and examples say in its own tables and unit tests
//! (`vendors::auvik::DEVICE_TYPES`, the Syncro asset in `vendors::syncro`'s tests), so a clone
//! without the specs still checks the mapping; these tests check that those copies are true to
//! the vendors. Without the specs they are skipped with one line on stderr.

mod specs;

use assetd::vendors::{auvik, syncro};
use serde_json::Value;
use serde_json::value::RawValue;
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::OnceLock;

/// Auvik's OpenAPI document, API v2 (the same `DeviceTypeSchema`).
const AUVIK_V2: &str = "auvik-openapi-v2.json";

/// Every spec file these tests read.
const FILES: [&str; 3] = [specs::AUVIK_V1, AUVIK_V2, specs::SYNCRO];

/// The specs' folder, when `$ASSETD_VENDOR_SPECS` names one. Worked out once per run; when the
/// variable is unset or a file is missing, the one skip line is printed then.
fn folder() -> &'static (Option<PathBuf>, Vec<&'static str>) {
    static FOUND: OnceLock<(Option<PathBuf>, Vec<&'static str>)> = OnceLock::new();
    FOUND.get_or_init(|| {
        let how = format!(
            "set {} to the folder holding {}, {} and {} to run them",
            specs::VAR,
            specs::AUVIK_V1,
            AUVIK_V2,
            specs::SYNCRO
        );
        let Some(dir) = specs::dir() else {
            specs::say(&format!(
                "skipped: checks against the vendors' published specs ({how})"
            ));
            return (None, FILES.to_vec());
        };
        let missing: Vec<&str> = FILES
            .into_iter()
            .filter(|f| !dir.join(f).is_file())
            .collect();
        if !missing.is_empty() {
            specs::say(&format!(
                "skipped: checks against the vendors' published specs that need {} (not in {}; {how})",
                missing.join(", "),
                dir.display()
            ));
        }
        (Some(dir), missing)
    })
}

/// The spec `name` as JSON, or `None` (the check is skipped) when it is not there.
fn spec(name: &str) -> Option<Value> {
    let (dir, missing) = folder();
    if missing.contains(&name) {
        return None;
    }
    let path = dir.as_ref()?.join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    Some(serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display())))
}

/// The values of the spec's `DeviceTypeSchema` enum.
fn device_types(spec: &Value, name: &str) -> Vec<String> {
    spec["components"]["schemas"]["DeviceTypeSchema"]["enum"]
        .as_array()
        .unwrap_or_else(|| panic!("{name}: DeviceTypeSchema enum in the spec"))
        .iter()
        .map(|v| v.as_str().expect("string enum").to_string())
        .collect()
}

/// Every `deviceType` in Auvik's own specs (v1 and v2) maps to a category.
#[test]
fn every_auvik_spec_device_type_is_mapped() {
    for name in [specs::AUVIK_V1, AUVIK_V2] {
        let Some(spec) = spec(name) else { continue };
        let values = device_types(&spec, name);
        assert_eq!(
            values.len(),
            47,
            "{name}: the research notes count 47 device types"
        );
        for t in &values {
            assert!(
                auvik::category_for(t).is_some(),
                "{name}: deviceType `{t}` is not mapped"
            );
        }
        assert_eq!(auvik::category_for("somethingNew"), None);
    }
}

/// The project's own list of Auvik's device types is the specs' enum, value for value.
#[test]
fn auvik_device_types_are_the_specs_enum() {
    for name in [specs::AUVIK_V1, AUVIK_V2] {
        let Some(spec) = spec(name) else { continue };
        let theirs: BTreeSet<String> = device_types(&spec, name).into_iter().collect();
        let ours: BTreeSet<String> = auvik::DEVICE_TYPES.iter().map(|t| t.to_string()).collect();
        assert_eq!(
            ours,
            theirs,
            "{name}: only in DEVICE_TYPES: {:?}; only in the spec: {:?}",
            ours.difference(&theirs).collect::<Vec<_>>(),
            theirs.difference(&ours).collect::<Vec<_>>()
        );
        assert_eq!(
            auvik::DEVICE_TYPES.len(),
            theirs.len(),
            "no value twice in DEVICE_TYPES"
        );
    }
}

/// Every field of the spec's own asset example lands in the canonical record or, verbatim,
/// in `raw`.
#[test]
fn every_field_of_the_syncro_spec_example_lands_somewhere() {
    let Some(spec) = spec(specs::SYNCRO) else {
        return;
    };
    let example = &spec["paths"]["/customer_assets"]["get"]["responses"]["200"]["content"]["application/json"]
        ["example"]["assets"][0];
    assert!(example.is_object(), "the spec has an asset example");
    let raw_text = serde_json::to_string(example).unwrap();
    let raw_value: Box<RawValue> = serde_json::from_str(&raw_text).unwrap();
    let r = syncro::to_record(&raw_value).unwrap();
    assert_eq!(r.external_id, example["id"].to_string());
    assert_eq!(r.name, example["name"].as_str().unwrap());
    assert_eq!(r.source_client_id, example["customer_id"].to_string());
    assert_eq!(r.vendor_type, example["asset_type"].as_str().unwrap());
    assert_eq!(r.serial, example["asset_serial"].as_str().unwrap());
    assert!(r.updated_at.is_some());
    let raw: Value = serde_json::from_str(&r.raw).unwrap();
    for (key, value) in example.as_object().unwrap() {
        assert_eq!(&raw[key], value, "field `{key}` is kept");
    }
}
