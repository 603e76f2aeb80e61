//! The devices' warranty and lifecycle records a full run reads beside the inventory:
//! `/v1/inventory/device/warranty` and `/lifecycle`, per group of tenants, best-effort (a
//! listing that cannot be read is a note, never a failed or partial run), and how their
//! records are read (leniently: Auvik's own spec says a warranty date "is not guaranteed
//! to be a date").

use super::*;

/// Tenant ids per warranty or lifecycle listing, for the same reason: both take `tenants`
/// as a comma-delimited list, and their records are few (Auvik has them mostly for Cisco
/// gear), so a group of tenants is one or two pages instead of a request per tenant.
const LIFECYCLE_TENANTS_PER_REQUEST: usize = 50;

impl Auvik {
    /// Reads the warranty and lifecycle listings of `tenant_ids` (groups of
    /// `LIFECYCLE_TENANTS_PER_REQUEST`, a few at a time) and hands on what each record says,
    /// then which tenants each listing covered to the end (their devices without a record
    /// have none). Best-effort: a listing that fails (403 to a user without the "Hardware
    /// lifecycle" permission, 404, throttling past the source's wait, an answer it cannot
    /// read) is a note, and the devices of its tenants keep their stored values. Only a
    /// cancellation or a stopped writer ends the run.
    pub(super) async fn lifecycle(
        &self,
        tenant_ids: &[&str],
        ctx: &FetchContext,
    ) -> Result<Vec<String>, VendorError> {
        let chunks: Vec<&[&str]> = tenant_ids.chunks(LIFECYCLE_TENANTS_PER_REQUEST).collect();
        let requests: Vec<(LifecyclePart, usize)> =
            [LifecyclePart::Warranty, LifecyclePart::Support]
                .into_iter()
                .flat_map(|part| (0..chunks.len()).map(move |i| (part, i)))
                .collect();
        let unreadable = UnreadableDates::default();
        let outcomes: Vec<ListingEnd> = stream::iter(requests)
            .map(|(part, i)| self.lifecycle_task(part, chunks[i], ctx, &unreadable))
            .buffered(TENANT_CONCURRENCY)
            .collect::<Vec<_>>()
            .await
            .into_iter()
            .collect::<Result<_, _>>()?;
        let mut notes = Vec::new();
        for part in [LifecyclePart::Warranty, LifecyclePart::Support] {
            let failed: Vec<(usize, &String)> = outcomes
                .iter()
                .filter(|(p, _, _)| *p == part)
                .filter_map(|(_, n, why)| why.as_ref().map(|w| (*n, w)))
                .collect();
            let Some((_, first)) = failed.first() else {
                continue;
            };
            let tenants: usize = failed.iter().map(|(n, _)| n).sum();
            notes.push(format!(
                "Auvik's {} could not be read for {} ({first}); their devices keep the {} values \
                 stored before, and the next full run reads them again",
                part.what(),
                if tenants == tenant_ids.len() {
                    format!("any of the {tenants} tenants read")
                } else {
                    format!("{tenants} of the {} tenants read", tenant_ids.len())
                },
                part.fields()
            ));
        }
        if let Some(note) = unreadable.note() {
            notes.push(note);
        }
        Ok(notes)
    }

    /// Every page of one lifecycle listing from `first`, each page's records handed on.
    /// `pages` counts the pages read, so a caller can tell a refused first page from a
    /// listing that failed half-way.
    async fn lifecycle_pages(
        &self,
        first: url::Url,
        part: LifecyclePart,
        ctx: &FetchContext,
        unreadable: &UnreadableDates,
        pages: &mut usize,
    ) -> Result<(), Result<Failure, VendorError>> {
        self.paginate_once(first, ctx, |page: LifecyclePage| {
            *pages += 1;
            let reports: Vec<LifecycleReport> = page
                .records()
                .into_iter()
                .map(|r| r.into_report(part, unreadable))
                .collect();
            async move {
                if !reports.is_empty() {
                    ctx.send(Batch::Lifecycle(reports)).await?;
                }
                Ok(())
            }
        })
        .await
    }

    /// `lifecycle_listing` of one group of tenants as a boxed future (see `tenant_task` for
    /// why), then, when it was read to the end, the scope it covered. Returns the part, how
    /// many tenants the group has, and why it could not be read.
    fn lifecycle_task<'a>(
        &'a self,
        part: LifecyclePart,
        chunk: &'a [&'a str],
        ctx: &'a FetchContext,
        unreadable: &'a UnreadableDates,
    ) -> BoxFuture<'a, Result<ListingEnd, VendorError>> {
        Box::pin(async move {
            let failed = self.lifecycle_listing(part, chunk, ctx, unreadable).await?;
            if failed.is_none() {
                ctx.send(Batch::LifecycleRead(LifecycleScope {
                    clients: chunk.iter().map(|s| s.to_string()).collect(),
                    warranty: part == LifecyclePart::Warranty,
                    support: part == LifecyclePart::Support,
                }))
                .await?;
            }
            Ok((part, chunk.len(), failed))
        })
    }

    /// One warranty or lifecycle listing of `tenants`, to the end, each page's records handed
    /// on. `Ok(None)` when it was read to the end, `Ok(Some(why))` when it could not be (the
    /// records handed on before stand: each is what Auvik said of its device).
    async fn lifecycle_listing(
        &self,
        part: LifecyclePart,
        tenants: &[&str],
        ctx: &FetchContext,
        unreadable: &UnreadableDates,
    ) -> Result<Option<String>, VendorError> {
        let list = |page_size: u32| {
            self.url(
                part.path(),
                &[
                    ("tenants", &tenants.join(",")),
                    ("page[first]", &page_size.to_string()),
                ],
            )
        };
        let first = list(PAGE_SIZE)?;
        let mut pages = 0;
        let mut read = self
            .lifecycle_pages(first.clone(), part, ctx, unreadable, &mut pages)
            .await;
        // The spec documents these listings' page size only by its default (100); the largest
        // page device info takes (1000) is not documented for them. A first page refused as
        // a bad request is asked again at the documented default rather than given up; a
        // 400 later in the listing is not about the page size and stays a failure.
        if pages == 0
            && let Err(Ok(f)) = &read
            && f.status == StatusCode::BAD_REQUEST
        {
            tracing::info!(
                listing = part.what(),
                "Auvik refused a page of 1000 records; asking for pages of 100."
            );
            read = self
                .lifecycle_pages(
                    list(SPEC_DEFAULT_PAGE_SIZE)?,
                    part,
                    ctx,
                    unreadable,
                    &mut pages,
                )
                .await;
        }
        let why = match read {
            Ok(()) => return Ok(None),
            Err(Err(e @ (VendorError::Cancelled | VendorError::SinkClosed))) => return Err(e),
            Err(Err(e)) => e.to_string(),
            Err(Ok(f)) if f.status == StatusCode::FORBIDDEN && !says_throttled(&f.body) => {
                format!(
                    "403 from {}{}: give the API user's role the \"Hardware lifecycle\" read \
                     permission",
                    redact(&first),
                    error_detail(&f.body)
                )
            }
            Err(Ok(f)) if f.status == StatusCode::NOT_FOUND => format!(
                "404 from {}{}: this Auvik account may not offer it",
                redact(&first),
                error_detail(&f.body)
            ),
            Err(Ok(f)) => self.explain(&first, &f).to_string(),
        };
        tracing::warn!(listing = part.what(), tenants = tenants.len(), why = %why,
            "Could not read an Auvik lifecycle listing; its devices keep their stored values.");
        Ok(Some(why))
    }
}

/// How one group of tenants' lifecycle listing ended: the listing, how many tenants the
/// group has, and why it could not be read to the end (`None`: it was).
type ListingEnd = (LifecyclePart, usize, Option<String>);

/// The two lifecycle listings a full run reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum LifecyclePart {
    /// `/v1/inventory/device/warranty`: warranty coverage and expiry.
    Warranty,
    /// `/v1/inventory/device/lifecycle`: Cisco's support milestones.
    Support,
}

impl LifecyclePart {
    fn path(self) -> &'static str {
        match self {
            LifecyclePart::Warranty => "v1/inventory/device/warranty",
            LifecyclePart::Support => "v1/inventory/device/lifecycle",
        }
    }

    fn what(self) -> &'static str {
        match self {
            LifecyclePart::Warranty => "device warranty data",
            LifecyclePart::Support => "device lifecycle (support) data",
        }
    }

    fn fields(self) -> &'static str {
        match self {
            LifecyclePart::Warranty => "warranty",
            LifecyclePart::Support => "support status",
        }
    }
}

/// Warranty dates Auvik gave that are not dates (its spec: the value "is what is returned by
/// Cisco device, which is not guaranteed to be a date"): counted for the run's note, with
/// one example. Kept as given on the asset (`warranty_expires_raw`), never guessed at.
#[derive(Default)]
pub(super) struct UnreadableDates {
    count: std::sync::atomic::AtomicUsize,
    example: std::sync::Mutex<Option<String>>,
}

impl UnreadableDates {
    fn saw(&self, text: &str) {
        self.count.fetch_add(1, Ordering::Relaxed);
        let mut example = self.example.lock().unwrap_or_else(|p| p.into_inner());
        example.get_or_insert_with(|| text.chars().take(60).collect());
    }

    pub(super) fn note(&self) -> Option<String> {
        let n = self.count.load(Ordering::Relaxed);
        let example = self
            .example
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()?;
        Some(format!(
            "Auvik gave {n} warranty expiration {} that {} not a date (e.g. {example:?}); kept \
             as given in `warranty_expires_raw`, their warranty status is unknown unless Auvik \
             states it",
            if n == 1 { "date" } else { "dates" },
            if n == 1 { "is" } else { "are" },
        ))
    }
}

/// A page of `/v1/inventory/device/warranty` or `/lifecycle` (JSON:API, paged like device
/// info; spec `deviceWarrantyReadMultiple`, `deviceLifecycleReadMultiple`). Every attribute
/// is optional and read leniently: the spec marks them required, and Auvik sends nulls.
#[derive(Deserialize)]
pub(super) struct LifecyclePage {
    /// `None` when missing or null: an empty page (`decode_page`).
    data: Option<Vec<LifecycleResource>>,
    #[serde(default)]
    links: Option<Links>,
}

impl LifecyclePage {
    /// The page's records (none when it came without `data`).
    pub(super) fn records(self) -> Vec<LifecycleResource> {
        self.data.unwrap_or_default()
    }
}

impl HasNext for LifecyclePage {
    fn next_link(&self) -> Option<String> {
        next_of(self.links.as_ref())
    }

    fn record_ids(&self) -> Vec<&str> {
        self.data.iter().flatten().map(|d| d.id.as_str()).collect()
    }

    fn data_absent(&self) -> bool {
        self.data.is_none()
    }
}

#[derive(Deserialize)]
pub(super) struct LifecycleResource {
    id: String,
    #[serde(default)]
    attributes: Option<LifecycleAttributes>,
    #[serde(default)]
    relationships: Option<LifecycleRelationships>,
}

/// The attributes of both resources (`deviceWarrantyAttributes`,
/// `deviceLifecycleAttributes`); each listing fills its own.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct LifecycleAttributes {
    warranty_coverage_status: Option<serde_json::Value>,
    warranty_expiration_date: Option<serde_json::Value>,
    last_support_status: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct LifecycleRelationships {
    device: Option<DeviceRef>,
}

#[derive(Deserialize)]
struct DeviceRef {
    data: Option<IdRef>,
}

#[derive(Deserialize)]
struct IdRef {
    id: String,
}

impl LifecycleResource {
    /// What the record says of its device. The device is the record's `device`
    /// relationship where it has one (the lifecycle resource's), else its own id, which the
    /// spec calls "the unique identifier for a device".
    pub(super) fn into_report(
        self,
        part: LifecyclePart,
        unreadable: &UnreadableDates,
    ) -> LifecycleReport {
        let device = self
            .relationships
            .and_then(|r| r.device)
            .and_then(|d| d.data)
            .map(|d| d.id)
            .filter(|id| !id.is_empty())
            .unwrap_or(self.id);
        let a = self.attributes.unwrap_or_default();
        match part {
            LifecyclePart::Warranty => {
                let expires = a
                    .warranty_expiration_date
                    .as_ref()
                    .and_then(value_text)
                    .and_then(|t| crate::vendors::typed_date(&t));
                if let Some(VendorDate::Unreadable(t)) = &expires {
                    unreadable.saw(t);
                }
                LifecycleReport {
                    external_id: device,
                    warranty: Some(WarrantyFacts {
                        purchase_date: None,
                        warranty_expires: expires,
                        stated: a
                            .warranty_coverage_status
                            .as_ref()
                            .and_then(value_text)
                            .and_then(|t| coverage_status(&t)),
                    }),
                    support: None,
                }
            }
            LifecyclePart::Support => LifecycleReport {
                external_id: device,
                warranty: None,
                support: Some(
                    a.last_support_status
                        .as_ref()
                        .and_then(value_text)
                        .and_then(|t| support_status(&t)),
                ),
            },
        }
    }
}

/// A JSON value as text: a string as it is, a number or boolean printed; null, arrays and
/// objects are no text.
fn value_text(v: &serde_json::Value) -> Option<String> {
    match v {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Letters and digits of `text`, lowercased: "Not Covered", "not_covered" and "NotCovered"
/// read alike.
fn squeeze(text: &str) -> String {
    text.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// `warrantyCoverageStatus`: free text in the spec (its example is "Not Covered"; Cisco's
/// coverage words). What does not say covered, not covered or expired states nothing.
pub fn coverage_status(text: &str) -> Option<WarrantyStatus> {
    match squeeze(text).as_str() {
        "covered" | "active" | "inwarranty" => Some(WarrantyStatus::Covered),
        "notcovered" | "uncovered" | "nocoverage" => Some(WarrantyStatus::NotCovered),
        "expired" | "outofwarranty" => Some(WarrantyStatus::Expired),
        _ => None,
    }
}

/// `lastSupportStatus`: the spec's enum (covered, available, expired, securityOnly,
/// unpublished, empty) in the contract's snake_case; `empty`, and anything else, is none.
pub fn support_status(text: &str) -> Option<SupportStatus> {
    match squeeze(text).as_str() {
        "covered" => Some(SupportStatus::Covered),
        "available" => Some(SupportStatus::Available),
        "expired" => Some(SupportStatus::Expired),
        "securityonly" => Some(SupportStatus::SecurityOnly),
        "unpublished" => Some(SupportStatus::Unpublished),
        _ => None,
    }
}
