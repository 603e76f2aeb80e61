//! Syncro's answers as the connector decodes them, one function per kind of body, for the
//! property tests (`tests/decoders.rs`) and the fuzz targets (`fuzz/`): each runs the
//! connector's own code on a body it is handed, without a network. Not an API: the shapes
//! returned here may change with the connector.

use super::{
    AssetsPage, Customer, CustomersPage, OddDates, decode, lifecycle_report, looked_up, page_record,
};
use crate::model::{LifecycleReport, ReportedAsset, SourceClient};
use crate::vendors::{Presence, VendorError};

/// Where the bodies are said to come from, in messages.
fn origin() -> url::Url {
    url::Url::parse("https://acme.syncromsp.com/api/v1/").expect("a constant URL parses")
}

/// A `/customers` page: every customer on it as a client (disabled ones included: which
/// are synced is the config's choice) and `meta.total_pages`.
pub fn customers(body: &str) -> Result<(Vec<SourceClient>, Option<u64>), VendorError> {
    let page: CustomersPage = decode(&origin(), body)?;
    let total_pages = page.meta.as_ref().and_then(|m| m.total_pages);
    Ok((
        page.customers
            .into_iter()
            .map(Customer::into_client)
            .collect(),
        total_pages,
    ))
}

/// A `/customer_assets` page: its assets as records, as `assets` reads them (one asset of
/// the wrong shape fails the page).
pub fn assets(body: &str) -> Result<Vec<ReportedAsset>, VendorError> {
    let url = origin();
    let page: AssetsPage = decode(&url, body)?;
    page.assets
        .iter()
        .map(|raw| page_record(&url, raw))
        .collect()
}

/// What a `/customer_assets` page's assets say of their lifecycle in the custom properties
/// named `warranty_property` and `purchase_property`, as `assets` reads them, and the run's
/// note on values that are not dates (`None`: all were, or there were none).
pub fn asset_dates(
    body: &str,
    warranty_property: Option<&str>,
    purchase_property: Option<&str>,
) -> Result<(Vec<LifecycleReport>, Option<String>), VendorError> {
    let page: AssetsPage = decode(&origin(), body)?;
    let mut odd = OddDates::default();
    let reports = page
        .assets
        .iter()
        .filter_map(|raw| lifecycle_report(raw, (warranty_property, purchase_property), &mut odd))
        .collect();
    Ok((reports, odd.note()))
}

/// A 200 answer to `GET /customer_assets/{id}`: the asset's customer id, or, when the answer
/// cannot say, `Presence::Unknown` with why.
pub fn lookup(body: &str) -> Result<String, Presence> {
    looked_up(body)
}

/// The detail an error body adds to a message (`: …`, or nothing).
pub fn error_detail(body: &str) -> String {
    super::error_detail(body)
}
