DROP FUNCTION orcazap_record_deliveries(jsonb);
