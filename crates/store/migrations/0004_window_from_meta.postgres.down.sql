-- Back to 0003's function (window from our receipt): its text follows, from
-- 0003_record_delivery.postgres.up.sql (joined in migrate.rs).
DROP FUNCTION orcazap_record_deliveries(jsonb);
