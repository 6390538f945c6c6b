-- Back to migration 0003's function (its text follows, appended by store::migrate).
DROP FUNCTION orcazap_record_deliveries(jsonb);
