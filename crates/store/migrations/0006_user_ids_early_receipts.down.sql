DROP TABLE early_receipts;
DROP INDEX contacts_tenant_user_id;
ALTER TABLE contacts DROP COLUMN username;
ALTER TABLE contacts DROP COLUMN user_id;
