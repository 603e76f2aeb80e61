
CREATE TABLE vendor_usage (
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    period TEXT NOT NULL,
    days INTEGER NOT NULL,
    device_days REAL NOT NULL,
    average_billable REAL NOT NULL,
    fetched_at TEXT NOT NULL,
    PRIMARY KEY (source, external_id, period)
) WITHOUT ROWID;
CREATE TABLE staged_vendor_usage (
    run_id INTEGER NOT NULL,
    external_id TEXT NOT NULL,
    period TEXT NOT NULL,
    days INTEGER NOT NULL,
    device_days REAL NOT NULL,
    average_billable REAL NOT NULL,
    PRIMARY KEY (run_id, external_id, period)
) WITHOUT ROWID;
ALTER TABLE sources ADD COLUMN usage_note TEXT NOT NULL DEFAULT '';
