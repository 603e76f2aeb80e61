
ALTER TABLE sync_runs ADD COLUMN skipped INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN skipped_units INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN removals_held INTEGER NOT NULL DEFAULT 0;
ALTER TABLE assets ADD COLUMN absent_since TEXT;
CREATE INDEX assets_absent ON assets (source) WHERE absent_since IS NOT NULL;
