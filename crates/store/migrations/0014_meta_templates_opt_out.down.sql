ALTER TABLE quotes DROP COLUMN follow_up_sent_at;
ALTER TABLE tenants DROP COLUMN follow_up_after_hours;
ALTER TABLE tenants DROP COLUMN reminder_hours_before_expiry;
ALTER TABLE contacts DROP COLUMN opted_out_at;
DROP TABLE meta_templates;
