-- Issue 14: the worker caches each store's rules and templates and re-reads them only when
-- they changed. Every write to them bumps tenants.settings_version, so one read of the tenant
-- row (which the worker does anyway) tells whether its copy is current. Triggers, not the
-- writers, so no write path (dashboard, CLI, seed, restore) can forget it.
-- SQLite's triggers here; PostgreSQL's are in 0012_settings_version.postgres.up.sql.
ALTER TABLE tenants ADD COLUMN settings_version BIGINT NOT NULL DEFAULT 1;
CREATE TRIGGER settings_version_pricing_insert AFTER INSERT ON pricing_rules
BEGIN UPDATE tenants SET settings_version = settings_version + 1 WHERE id = NEW.tenant_id; END;
CREATE TRIGGER settings_version_pricing_update AFTER UPDATE ON pricing_rules
BEGIN UPDATE tenants SET settings_version = settings_version + 1 WHERE id = NEW.tenant_id OR id = OLD.tenant_id; END;
CREATE TRIGGER settings_version_pricing_delete AFTER DELETE ON pricing_rules
BEGIN UPDATE tenants SET settings_version = settings_version + 1 WHERE id = OLD.tenant_id; END;
CREATE TRIGGER settings_version_volume_insert AFTER INSERT ON volume_discounts
BEGIN UPDATE tenants SET settings_version = settings_version + 1 WHERE id = NEW.tenant_id; END;
CREATE TRIGGER settings_version_volume_update AFTER UPDATE ON volume_discounts
BEGIN UPDATE tenants SET settings_version = settings_version + 1 WHERE id = NEW.tenant_id OR id = OLD.tenant_id; END;
CREATE TRIGGER settings_version_volume_delete AFTER DELETE ON volume_discounts
BEGIN UPDATE tenants SET settings_version = settings_version + 1 WHERE id = OLD.tenant_id; END;
CREATE TRIGGER settings_version_freight_insert AFTER INSERT ON freight_rules
BEGIN UPDATE tenants SET settings_version = settings_version + 1 WHERE id = NEW.tenant_id; END;
CREATE TRIGGER settings_version_freight_update AFTER UPDATE ON freight_rules
BEGIN UPDATE tenants SET settings_version = settings_version + 1 WHERE id = NEW.tenant_id OR id = OLD.tenant_id; END;
CREATE TRIGGER settings_version_freight_delete AFTER DELETE ON freight_rules
BEGIN UPDATE tenants SET settings_version = settings_version + 1 WHERE id = OLD.tenant_id; END;
CREATE TRIGGER settings_version_templates_insert AFTER INSERT ON message_templates
BEGIN UPDATE tenants SET settings_version = settings_version + 1 WHERE id = NEW.tenant_id; END;
CREATE TRIGGER settings_version_templates_update AFTER UPDATE ON message_templates
BEGIN UPDATE tenants SET settings_version = settings_version + 1 WHERE id = NEW.tenant_id OR id = OLD.tenant_id; END;
CREATE TRIGGER settings_version_templates_delete AFTER DELETE ON message_templates
BEGIN UPDATE tenants SET settings_version = settings_version + 1 WHERE id = OLD.tenant_id; END;
