ALTER TABLE tenants DROP COLUMN quote_link;
