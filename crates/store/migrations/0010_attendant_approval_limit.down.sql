ALTER TABLE tenants DROP COLUMN attendant_approval_limit_cents;
