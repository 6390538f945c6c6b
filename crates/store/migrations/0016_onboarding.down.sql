ALTER TABLE catalog_items DROP COLUMN price_review;
ALTER TABLE tenants DROP COLUMN legal_name;
