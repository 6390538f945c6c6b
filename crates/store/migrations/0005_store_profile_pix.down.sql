ALTER TABLE tenants DROP COLUMN pix_city;
ALTER TABLE tenants DROP COLUMN pix_merchant_name;
ALTER TABLE tenants DROP COLUMN pix_key;
ALTER TABLE tenants DROP COLUMN pix_key_kind;
ALTER TABLE tenants DROP COLUMN phone;
ALTER TABLE tenants DROP COLUMN address;
ALTER TABLE tenants DROP COLUMN cnpj;
