//! Passportal's answers as the connector decodes them, one function per kind of body, for
//! the property tests (`tests/decoders.rs`) and the fuzz targets (`fuzz/`): each runs the
//! connector's own code on a body it is handed, without a network. Not an API: the shapes
//! returned here may change with the connector.

use super::{
    DocumentAnswer, OddDates, client_from, document_answer, document_record, id_text,
    lifecycle_report, page_items,
};
use crate::model::{LifecycleReport, ReportedAsset, SourceClient};
use crate::vendors::VendorError;
use serde_json::Value;

/// Where the bodies are said to come from, in messages.
fn origin() -> url::Url {
    url::Url::parse("https://us-clover.passportalmsp.com/api/v2/documents")
        .expect("a constant URL parses")
}

/// The items of one list page (clients or documents), as `pages` reads them; an empty list
/// is the end of the list.
pub fn list_page(body: &str) -> Result<Vec<Value>, VendorError> {
    page_items(&origin(), 1, body)
}

/// A `/documents/clients` page's clients, as `fetch_all` reads them.
pub fn clients(body: &str) -> Result<Vec<SourceClient>, VendorError> {
    Ok(list_page(body)?.iter().filter_map(client_from).collect())
}

/// The record of list item `item` from its document's 200 answer `body`, as `detail_task`
/// reads it: `None` when Passportal says "not found." for it.
pub fn document(item: &Value, body: &str) -> Result<Option<ReportedAsset>, VendorError> {
    let DocumentAnswer::Readable(body) = document_answer(&origin(), body.to_string())? else {
        return Ok(None);
    };
    document_record(&id_text(&item["id"]), item, &body).map(|(record, _)| Some(record))
}

/// What the document of list item `item` says of its asset's lifecycle (the asset
/// template's purchase, install and expiration dates), as `fetch_all` reads it, and the
/// run's note on dates that are not dates; `None` when Passportal says "not found." for it.
pub fn document_dates(
    item: &Value,
    body: &str,
) -> Result<Option<(LifecycleReport, Option<String>)>, VendorError> {
    let DocumentAnswer::Readable(body) = document_answer(&origin(), body.to_string())? else {
        return Ok(None);
    };
    let (record, fields) = document_record(&id_text(&item["id"]), item, &body)?;
    let mut odd = OddDates::default();
    let report = lifecycle_report(&record.external_id, &fields, &mut odd);
    Ok(Some((report, odd.note())))
}
