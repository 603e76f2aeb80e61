
CREATE INDEX assets_device ON assets (device_id);
CREATE TABLE billable_snapshots (
    day TEXT NOT NULL,
    client TEXT NOT NULL,
    total_billable INTEGER NOT NULL,
    firewalls INTEGER NOT NULL,
    controllers INTEGER NOT NULL,
    routers INTEGER NOT NULL,
    l3_switches INTEGER NOT NULL,
    voip_switches INTEGER NOT NULL,
    switch_stacks INTEGER NOT NULL,
    total_switches INTEGER NOT NULL,
    access_points INTEGER NOT NULL,
    PRIMARY KEY (day, client)
) WITHOUT ROWID;
