//! Auvik's answers as the connector decodes them, one function per kind of body, for the
//! property tests (`tests/decoders.rs`) and the fuzz targets (`fuzz/`): each runs the
//! connector's own code on a body it is handed, without a network. Not an API: the shapes
//! returned here may change with the connector.

use super::{
    Document, InfoPage, LifecyclePage, LifecyclePart, TenantDetailResource, TenantResource,
    UnreadableDates, UsageResource, decode, decode_page, tenants_from,
};
use crate::model::{LifecycleReport, ReportedAsset, SourceClient, VendorUsage};
use crate::vendors::{Presence, VendorError};
use chrono::NaiveDate;
use std::collections::{HashMap, HashSet};

/// Where the bodies are said to come from, in messages.
fn origin() -> url::Url {
    url::Url::parse("https://auvikapi.us1.my.auvik.com/v1/").expect("a constant URL parses")
}

/// One `/v1/inventory/device/info` page (with `include=deviceDetail`).
#[derive(Debug)]
pub struct DevicePage {
    /// The page's devices as records of the tenant read.
    pub records: Vec<ReportedAsset>,
    /// `links.next`, when another page follows.
    pub next: Option<String>,
}

/// A device info page of tenant `tenant_id`, as `fetch_tenant` reads it.
pub fn devices(body: &str, tenant_id: &str) -> Result<DevicePage, VendorError> {
    use super::HasNext;
    let page: InfoPage = decode_page(&origin(), body.to_string())?;
    let next = page.next_link();
    Ok(DevicePage {
        records: page.into_records(tenant_id),
        next,
    })
}

/// One page of `/v1/inventory/device/warranty` or `/v1/inventory/device/lifecycle`.
#[derive(Debug)]
pub struct LifecycleListingPage {
    /// What each record says of its device.
    pub reports: Vec<LifecycleReport>,
    /// `links.next`, when another page follows.
    pub next: Option<String>,
    /// The run's note on warranty dates that are not dates (`None`: there were none).
    pub note: Option<String>,
}

/// A warranty page (`warranty`) or a lifecycle page, as `lifecycle_listing` reads it.
pub fn lifecycle(body: &str, warranty: bool) -> Result<LifecycleListingPage, VendorError> {
    use super::HasNext;
    let page: LifecyclePage = decode_page(&origin(), body.to_string())?;
    let next = page.next_link();
    let part = if warranty {
        LifecyclePart::Warranty
    } else {
        LifecyclePart::Support
    };
    let unreadable = UnreadableDates::default();
    let reports = page
        .records()
        .into_iter()
        .map(|r| r.into_report(part, &unreadable))
        .collect();
    Ok(LifecycleListingPage {
        reports,
        next,
        note: unreadable.note(),
    })
}

/// One tenant a run would read.
#[derive(Debug)]
pub struct TenantEntry {
    pub client: SourceClient,
    /// Why it is not read, when Auvik says it is unavailable to the API.
    pub unavailable: Option<String>,
}

/// The tenants a run reads, from the bodies of `/v1/tenants`, `/v1/tenants/detail` and
/// `/v1/tenants/detail?filter[availableTenants]=true` (the last two `None` when they were
/// refused), as `tenants` reads them.
pub fn tenants(
    list: &str,
    details: Option<&str>,
    available: Option<&str>,
) -> Result<Vec<TenantEntry>, VendorError> {
    let url = origin();
    let list: Document<Vec<TenantResource>> = decode(&url, list.to_string())?;
    let details: HashMap<_, _> = match details {
        Some(body) => decode::<Document<Vec<TenantDetailResource>>>(&url, body.to_string())?
            .data
            .into_iter()
            .filter_map(|t| Some((t.id, t.attributes?)))
            .collect(),
        None => HashMap::new(),
    };
    let available: Option<HashSet<String>> = match available {
        Some(body) => Some(
            decode::<Document<Vec<TenantDetailResource>>>(&url, body.to_string())?
                .data
                .into_iter()
                .map(|t| t.id)
                .collect(),
        ),
        None => None,
    };
    Ok(tenants_from(list.data, &details, available.as_ref())
        .clients
        .into_iter()
        .map(|t| TenantEntry {
            client: t.client,
            unavailable: t.unavailable,
        })
        .collect())
}

/// A `/v1/billing/usage/client` answer for the month starting `from`, as `billing_usage`
/// reads it.
pub fn billing(body: &str, from: NaiveDate) -> Result<Vec<VendorUsage>, VendorError> {
    let doc: Document<Vec<UsageResource>> = decode(&origin(), body.to_string())?;
    Ok(doc.data.into_iter().filter_map(|u| u.usage(from)).collect())
}

/// A 200 answer to a single-device lookup of device `id` (`confirm_absent`).
pub fn lookup(body: &str, id: &str) -> Presence {
    super::presence_of(body, id)
}

/// The detail an error body adds to a message (`: …`, or nothing).
pub fn error_detail(body: &str) -> String {
    super::error_detail(body)
}
