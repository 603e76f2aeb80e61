
CREATE TABLE asset_keys (
    key TEXT NOT NULL,
    asset_id INTEGER NOT NULL,
    PRIMARY KEY (key, asset_id)
) WITHOUT ROWID;
CREATE INDEX asset_keys_asset ON asset_keys (asset_id);
CREATE INDEX assets_removed ON assets (removed_at) WHERE removed_at IS NOT NULL;
ALTER TABLE staged_assets ADD COLUMN billable INTEGER NOT NULL DEFAULT 0;
