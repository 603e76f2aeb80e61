-- The durable event log (issue 23, docs/events.md). Each row is written in the transaction
-- that makes the change it describes. AUTOINCREMENT: an id is never given out again, even
-- after the newest rows are pruned, so a cursor always means the same place in the log.
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    time TEXT NOT NULL,
    type TEXT NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    run_id INTEGER,
    asset_id INTEGER,
    client TEXT NOT NULL DEFAULT '',
    -- The type's own fields, a JSON object.
    data TEXT NOT NULL DEFAULT '{}'
);

-- How far the log has been pruned: every event with an id up to `pruned_through` is gone,
-- so a cursor below it has missed events (WatchEvents answers OUT_OF_RANGE).
CREATE TABLE event_log (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    pruned_through INTEGER NOT NULL
);
INSERT INTO event_log (id, pruned_through) VALUES (1, 0);

-- Each configured hook's outbox: the events up to `delivered_through` are delivered (or not
-- for it); the next one is retried until a 2xx. A hook removed from the config loses its row.
CREATE TABLE hooks (
    name TEXT PRIMARY KEY,
    delivered_through INTEGER NOT NULL,
    -- Failed attempts at the next event in a row, since `failing_since`.
    attempts INTEGER NOT NULL DEFAULT 0,
    failing_since TEXT,
    next_attempt TEXT,
    -- Retried for 24 h without success: no more attempts until `assetctl hooks retry`.
    failing INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    last_delivery TEXT
) WITHOUT ROWID;

-- The state each source's last finished run (or a halt) left it in, so a change of state
-- is recorded as `source.state_changed` in the transaction that decides it. Sources with a
-- history start from what their last run left.
ALTER TABLE sources ADD COLUMN state TEXT NOT NULL DEFAULT 'pending';
UPDATE sources SET state = COALESCE((
    SELECT CASE
        WHEN r.removals_held > 0 THEN 'removals_held'
        WHEN r.state = 'ok' THEN 'ok'
        WHEN r.state = 'partial' THEN 'partial'
        ELSE 'failed' END
    FROM sync_runs r WHERE r.source = sources.name AND r.state NOT IN ('running', 'cancelled')
    ORDER BY r.id DESC LIMIT 1), 'pending');

-- warranty.expiring is sent at most once per device and expiry date (issue 22 fills it).
CREATE TABLE warranty_notices (
    device_id INTEGER NOT NULL,
    warranty_expires TEXT NOT NULL,
    event_id INTEGER NOT NULL,
    PRIMARY KEY (device_id, warranty_expires)
) WITHOUT ROWID;
