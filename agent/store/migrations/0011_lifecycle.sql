
-- What the vendors say of each asset's warranty and support (CONTRACT §4 lifecycle): dates
-- as 'YYYY-MM-DD' (text order is date order), the vendor's stated coverage and support
-- status by their contract names, and a date's text as given when it is not a date. NULL:
-- the vendor has nothing (or no run has read it yet). The status of the day and the age are
-- derived when asked, since "today" moves.
ALTER TABLE assets ADD COLUMN purchase_date TEXT;
ALTER TABLE assets ADD COLUMN warranty_expires TEXT;
ALTER TABLE assets ADD COLUMN warranty_status TEXT;
ALTER TABLE assets ADD COLUMN support_status TEXT;
ALTER TABLE assets ADD COLUMN purchase_date_raw TEXT NOT NULL DEFAULT '';
ALTER TABLE assets ADD COLUMN warranty_expires_raw TEXT NOT NULL DEFAULT '';
-- The lifecycle filters look for a few assets among many: by their dates, not a scan.
CREATE INDEX assets_warranty_expires ON assets (warranty_expires) WHERE warranty_expires IS NOT NULL;
CREATE INDEX assets_purchase_date ON assets (purchase_date) WHERE purchase_date IS NOT NULL;
-- A run's lifecycle reports: a part whose `*_read` is 0 was not read, and its stored values
-- stay.
CREATE TABLE staged_lifecycle (
    run_id INTEGER NOT NULL,
    external_id TEXT NOT NULL,
    warranty_read INTEGER NOT NULL DEFAULT 0,
    purchase_date TEXT,
    warranty_expires TEXT,
    warranty_status TEXT,
    purchase_date_raw TEXT NOT NULL DEFAULT '',
    warranty_expires_raw TEXT NOT NULL DEFAULT '',
    support_read INTEGER NOT NULL DEFAULT 0,
    support_status TEXT,
    PRIMARY KEY (run_id, external_id)
) WITHOUT ROWID;
-- Source clients (by external id) whose lifecycle listings a run read to the end: their
-- assets without a staged report for a part have nothing for it.
CREATE TABLE staged_lifecycle_scope (
    run_id INTEGER NOT NULL,
    source_client TEXT NOT NULL,
    warranty_read INTEGER NOT NULL DEFAULT 0,
    support_read INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, source_client)
) WITHOUT ROWID;
