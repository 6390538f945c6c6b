ALTER TABLE tenants DROP COLUMN invoice_data;
DROP TABLE cep_cache;
DROP TABLE orders;
