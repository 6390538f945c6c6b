ALTER TABLE tenants DROP COLUMN quote_pdf;
