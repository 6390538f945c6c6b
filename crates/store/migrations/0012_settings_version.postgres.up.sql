-- PostgreSQL's form of 0012_settings_version.up.sql (same column; one trigger function).
ALTER TABLE tenants ADD COLUMN settings_version BIGINT NOT NULL DEFAULT 1;
CREATE FUNCTION orcazap_bump_settings_version() RETURNS trigger
LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    UPDATE tenants SET settings_version = settings_version + 1 WHERE id = OLD.tenant_id;
  END IF;
  IF TG_OP <> 'DELETE' AND (TG_OP = 'INSERT' OR NEW.tenant_id IS DISTINCT FROM OLD.tenant_id) THEN
    UPDATE tenants SET settings_version = settings_version + 1 WHERE id = NEW.tenant_id;
  END IF;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER settings_version_pricing AFTER INSERT OR UPDATE OR DELETE ON pricing_rules
  FOR EACH ROW EXECUTE FUNCTION orcazap_bump_settings_version();
CREATE TRIGGER settings_version_volume AFTER INSERT OR UPDATE OR DELETE ON volume_discounts
  FOR EACH ROW EXECUTE FUNCTION orcazap_bump_settings_version();
CREATE TRIGGER settings_version_freight AFTER INSERT OR UPDATE OR DELETE ON freight_rules
  FOR EACH ROW EXECUTE FUNCTION orcazap_bump_settings_version();
CREATE TRIGGER settings_version_templates AFTER INSERT OR UPDATE OR DELETE ON message_templates
  FOR EACH ROW EXECUTE FUNCTION orcazap_bump_settings_version();
