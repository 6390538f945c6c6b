DROP TRIGGER settings_version_pricing ON pricing_rules;
DROP TRIGGER settings_version_volume ON volume_discounts;
DROP TRIGGER settings_version_freight ON freight_rules;
DROP TRIGGER settings_version_templates ON message_templates;
DROP FUNCTION orcazap_bump_settings_version();
ALTER TABLE tenants DROP COLUMN settings_version;
