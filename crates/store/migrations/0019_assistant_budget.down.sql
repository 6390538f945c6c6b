ALTER TABLE tenants DROP COLUMN assistant_budget_cents;
DROP TABLE assistant_usage;
