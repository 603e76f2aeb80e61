
ALTER TABLE assets ADD COLUMN listed BLOB;
UPDATE assets SET listed = assetd_listed_fields(name, category, vendor_type, manufacturer,
    model, serial, mac_addresses, ip_addresses, os, firmware, online_status, managed);
