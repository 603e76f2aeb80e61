
CREATE TABLE sources (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    -- Start of the last successful run: the next incremental run asks for changes since then.
    incremental_since TEXT,
    -- Start of the last successful full run.
    last_full_at TEXT
);

-- A client as a source knows it; `client` is the assetd client it is linked to,
-- rewritten whenever the config's [[client]] tables change.
CREATE TABLE source_clients (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    name TEXT NOT NULL,
    aliases TEXT NOT NULL DEFAULT '[]',
    client TEXT NOT NULL DEFAULT '',
    UNIQUE (source, external_id)
);
CREATE INDEX source_clients_client ON source_clients (client);

CREATE TABLE assets (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    source_client_id INTEGER REFERENCES source_clients (id),
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    vendor_type TEXT NOT NULL,
    manufacturer TEXT NOT NULL,
    model TEXT NOT NULL,
    serial TEXT NOT NULL,
    mac_addresses TEXT NOT NULL,
    ip_addresses TEXT NOT NULL,
    os TEXT NOT NULL,
    firmware TEXT NOT NULL,
    online_status TEXT NOT NULL,
    managed INTEGER,
    billable INTEGER NOT NULL,
    first_seen TEXT NOT NULL,
    last_seen TEXT,
    updated_at TEXT,
    removed_at TEXT,
    device_id INTEGER NOT NULL DEFAULT 0,
    UNIQUE (source, external_id)
);
CREATE INDEX assets_client ON assets (source_client_id, id);
CREATE INDEX assets_category ON assets (category, id);

CREATE TABLE asset_changes (
    id INTEGER PRIMARY KEY,
    asset_id INTEGER NOT NULL,
    run_id INTEGER NOT NULL,
    changed_at TEXT NOT NULL,
    field TEXT NOT NULL,
    old_value TEXT NOT NULL,
    new_value TEXT NOT NULL
);
CREATE INDEX asset_changes_asset ON asset_changes (asset_id, id);

CREATE TABLE sync_runs (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    trigger TEXT NOT NULL,
    started TEXT NOT NULL,
    finished TEXT,
    state TEXT NOT NULL,
    fetched INTEGER NOT NULL DEFAULT 0,
    added INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    unchanged INTEGER NOT NULL DEFAULT 0,
    removed INTEGER NOT NULL DEFAULT 0,
    requests INTEGER NOT NULL DEFAULT 0,
    retries INTEGER NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sync_runs_source ON sync_runs (source, id);

-- Records of runs in progress; see the module docs.
CREATE TABLE staged_clients (
    run_id INTEGER NOT NULL,
    external_id TEXT NOT NULL,
    name TEXT NOT NULL,
    aliases TEXT NOT NULL,
    PRIMARY KEY (run_id, external_id)
) WITHOUT ROWID;

CREATE TABLE staged_assets (
    run_id INTEGER NOT NULL,
    external_id TEXT NOT NULL,
    source_client_external_id TEXT NOT NULL,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    vendor_type TEXT NOT NULL,
    manufacturer TEXT NOT NULL,
    model TEXT NOT NULL,
    serial TEXT NOT NULL,
    mac_addresses TEXT NOT NULL,
    ip_addresses TEXT NOT NULL,
    os TEXT NOT NULL,
    firmware TEXT NOT NULL,
    online_status TEXT NOT NULL,
    managed INTEGER,
    last_seen TEXT,
    updated_at TEXT,
    PRIMARY KEY (run_id, external_id)
) WITHOUT ROWID;
