ALTER TABLE orders DROP COLUMN meta_reference;
ALTER TABLE tenants DROP COLUMN meta_payments;
ALTER TABLE orders DROP COLUMN tax_id_asked_at;
ALTER TABLE orders DROP COLUMN tax_id;
ALTER TABLE tenants DROP COLUMN invoice_data;
