//! Client links: which assetd client each source client belongs to, by the config's
//! `[[client]]` tables (`crate::clients::resolve`). Links are rewritten for every source
//! client when the tables change (no resync needed), and for the clients of a run's source
//! when the run applies; the source clients are listed with their links.

use super::counts::cutoff_text;
use super::{Result, Store, lock, parse_list};
use crate::clients::{self, SourceClientRow};
use crate::config::ClientGroup;
use chrono::{DateTime, Utc};
use rusqlite::{ToSql, params};
use std::sync::Arc;

/// Whether `list_source_clients` counts each client's assets: `Present(grace_cutoff)` counts
/// present assets and those removed after the cutoff (`None`: present only).
#[derive(Debug, Clone, Copy)]
pub enum CountAssets {
    No,
    Present(Option<DateTime<Utc>>),
}

impl Store {
    /// Sets the config's `[[client]]` tables and re-links every source client at once
    /// (no resync needed).
    pub fn set_client_groups(&self, groups: Vec<ClientGroup>) -> Result<()> {
        let groups = Arc::new(groups);
        *lock(&self.inner.groups) = groups.clone();
        self.with_writer(|c| {
            let tx = c.transaction()?;
            relink(&tx, None, &groups)?;
            tx.commit()?;
            Ok(())
        })?;
        self.counts_changed();
        Ok(())
    }

    /// Every source client with its link; with `CountAssets::Present(cutoff)` also how many
    /// assets it has (a pass over every asset, so only for callers that show the numbers).
    pub fn list_source_clients(&self, count: CountAssets) -> Result<Vec<SourceClientRow>> {
        self.with_reader(|c| {
            let (sql, cutoff) = match count {
                CountAssets::No => (
                    "SELECT sc.source, sc.external_id, sc.name, sc.aliases, sc.client, 0
                     FROM source_clients sc ORDER BY sc.client, sc.source, sc.name",
                    None,
                ),
                CountAssets::Present(grace_cutoff) => (
                    "SELECT sc.source, sc.external_id, sc.name, sc.aliases, sc.client,
                       (SELECT COUNT(*) FROM assets a WHERE a.source_client_id = sc.id
                          AND (a.removed_at IS NULL OR a.removed_at > ?1))
                     FROM source_clients sc ORDER BY sc.client, sc.source, sc.name",
                    Some(cutoff_text(grace_cutoff)),
                ),
            };
            let args: Vec<&dyn ToSql> = cutoff.iter().map(|c| c as &dyn ToSql).collect();
            let rows = c
                .prepare_cached(sql)?
                .query_map(args.as_slice(), |r| {
                    Ok(SourceClientRow {
                        source: r.get(0)?,
                        external_id: r.get(1)?,
                        name: r.get(2)?,
                        aliases: parse_list(&r.get::<_, String>(3)?),
                        client: r.get(4)?,
                        asset_count: r.get(5)?,
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
    }
}

/// Rewrites the links of a source's clients (all sources' with `None`) to assetd clients.
/// Returns how many links changed.
pub(super) fn relink(
    tx: &rusqlite::Transaction,
    source: Option<&str>,
    groups: &[ClientGroup],
) -> rusqlite::Result<usize> {
    let rows: Vec<(i64, String, String, String, String, String)> = tx
        .prepare("SELECT id, source, external_id, name, aliases, client FROM source_clients WHERE ?1 IS NULL OR source = ?1")?
        .query_map([source], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut st = tx.prepare_cached("UPDATE source_clients SET client = ?2 WHERE id = ?1")?;
    let mut changed = 0;
    for (id, source, ext, name, aliases, current) in rows {
        let client = clients::resolve(groups, &source, &ext, &name, &parse_list(&aliases));
        if client != current {
            changed += st.execute(params![id, client])?;
        }
    }
    Ok(changed)
}
