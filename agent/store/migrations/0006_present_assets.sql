
ALTER TABLE sources ADD COLUMN present_assets INTEGER NOT NULL DEFAULT 0;
-- A fetched asset identical to its present stored row is staged as just its id with
-- `unchanged = 1`: a resync of 100k unchanged devices writes and reads back ids, not rows.
ALTER TABLE staged_assets ADD COLUMN unchanged INTEGER NOT NULL DEFAULT 0;
UPDATE sources SET present_assets =
    (SELECT COUNT(*) FROM assets a WHERE a.source = sources.name AND a.removed_at IS NULL);
