//! Linking source clients into assetd clients (CONTRACT §5 Clients).
//!
//! A source client belongs to the `[[client]]` table that names it (by source and name,
//! id or alias); otherwise to the assetd client of its own name, so identical names group
//! by themselves. Nothing fuzzy is ever applied: the closest-name match is only offered as
//! a suggestion for clients that appear in a single source.

use crate::config::ClientGroup;
use std::collections::{BTreeMap, BTreeSet};

/// A source client as stored: the client it is linked to, and its present asset count (0
/// when not counted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceClientRow {
    pub source: String,
    pub external_id: String,
    pub name: String,
    pub aliases: Vec<String>,
    pub client: String,
    pub asset_count: i64,
}

/// The assetd client a source client belongs to.
pub fn resolve(
    groups: &[ClientGroup],
    source: &str,
    external_id: &str,
    name: &str,
    aliases: &[String],
) -> String {
    groups
        .iter()
        .find(|g| {
            g.members.iter().any(|m| {
                m.source == source
                    && (m.key == external_id || m.key == name || aliases.contains(&m.key))
            })
        })
        .map_or_else(|| name.to_string(), |g| g.name.clone())
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientView {
    pub name: String,
    pub members: Vec<SourceClientRow>,
    pub asset_count: i64,
    pub excluded: bool,
    pub unmapped: bool,
    pub suggestion: String,
}

/// Groups linked source clients into assetd clients, marking the unmapped ones (present in
/// only one source while several are configured) with a `[[client]]` snippet suggestion.
pub fn build(
    rows: Vec<SourceClientRow>,
    groups: &[ClientGroup],
    configured_sources: &[String],
) -> Vec<ClientView> {
    let mut by_client: BTreeMap<String, Vec<SourceClientRow>> = BTreeMap::new();
    for row in rows {
        by_client.entry(row.client.clone()).or_default().push(row);
    }
    let several = configured_sources.len() > 1;
    let sources_of = |members: &[SourceClientRow]| -> BTreeSet<String> {
        members.iter().map(|m| m.source.clone()).collect()
    };
    by_client
        .iter()
        .map(|(name, members)| {
            let excluded = groups.iter().any(|g| g.exclude && g.name == *name);
            let own = sources_of(members);
            let unmapped = several && !excluded && own.len() == 1;
            let suggestion = if unmapped {
                let key = normalise(name);
                by_client
                    .iter()
                    .filter(|(other, m)| *other != name && sources_of(m).is_disjoint(&own))
                    .map(|(other, m)| (similarity(&key, &normalise(other)), other, m))
                    .filter(|(score, _, _)| *score > 0.5)
                    .max_by(|a, b| a.0.total_cmp(&b.0).then_with(|| b.1.cmp(a.1)))
                    .map(|(_, other, other_members)| {
                        snippet(other, members.iter().chain(other_members))
                    })
                    .unwrap_or_default()
            } else {
                String::new()
            };
            ClientView {
                name: name.clone(),
                members: members.clone(),
                asset_count: members.iter().map(|m| m.asset_count).sum(),
                excluded,
                unmapped,
                suggestion,
            }
        })
        .collect()
}

/// A `[[client]]` table grouping `members` under `name`.
fn snippet<'a>(name: &str, members: impl Iterator<Item = &'a SourceClientRow>) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let mut refs: Vec<String> = members
        .map(|m| quote(&format!("{}:{}", m.source, m.name)))
        .collect();
    refs.sort();
    format!(
        "[[client]]\nname = {}\nmembers = [{}]\n",
        quote(name),
        refs.join(", ")
    )
}

/// Lowercase letters and digits only: "Contoso, Ltd." and "contoso ltd" compare equal.
fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// 1 − normalised Levenshtein distance.
fn similarity(a: &str, b: &str) -> f64 {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    1.0 - prev[b.len()] as f64 / a.len().max(b.len()) as f64
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ClientMemberRef;

    fn row(source: &str, id: &str, name: &str, client: &str) -> SourceClientRow {
        SourceClientRow {
            source: source.into(),
            external_id: id.into(),
            name: name.into(),
            aliases: vec![],
            client: client.into(),
            asset_count: 2,
        }
    }

    #[test]
    fn tables_win_and_names_group_exactly() {
        let groups = vec![ClientGroup {
            name: "Contoso Ltd".into(),
            exclude: false,
            members: vec![ClientMemberRef {
                source: "auvik".into(),
                key: "contoso".into(),
            }],
        }];
        assert_eq!(
            resolve(&groups, "auvik", "1", "Contoso", &["contoso".into()]),
            "Contoso Ltd"
        );
        assert_eq!(resolve(&groups, "syncro", "9", "contoso", &[]), "contoso");
        assert_eq!(
            resolve(&[], "auvik", "1", "Contoso, Ltd.", &[]),
            "Contoso, Ltd."
        );
    }

    #[test]
    fn single_source_clients_are_unmapped_with_a_suggestion() {
        let rows = vec![
            row("auvik", "1", "Contoso Ltd", "Contoso Ltd"),
            row("syncro", "2", "Contoso, Ltd.", "Contoso, Ltd."),
            row("auvik", "3", "Fabrikam", "Fabrikam"),
            row("syncro", "4", "Fabrikam", "Fabrikam"),
        ];
        let views = build(rows, &[], &["auvik".into(), "syncro".into()]);
        let fab = views.iter().find(|v| v.name == "Fabrikam").unwrap();
        assert!(!fab.unmapped);
        assert_eq!(fab.asset_count, 4);
        let con = views.iter().find(|v| v.name == "Contoso Ltd").unwrap();
        assert!(con.unmapped);
        assert!(
            con.suggestion.contains("name = \"Contoso, Ltd.\""),
            "{}",
            con.suggestion
        );
        assert!(
            con.suggestion.contains("\"auvik:Contoso Ltd\""),
            "{}",
            con.suggestion
        );
        let one = build(vec![row("auvik", "1", "A", "A")], &[], &["auvik".into()]);
        assert!(!one[0].unmapped, "with one source nothing is unmapped");
    }
}
