
ALTER TABLE sources RENAME COLUMN usage_note TO billing_note;
