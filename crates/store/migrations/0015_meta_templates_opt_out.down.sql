ALTER TABLE contacts DROP COLUMN opted_out_at;
DROP TABLE meta_templates;
