
DROP INDEX asset_keys_asset;
