-- Onboarding (issue 17 item 1). The store's legal name (razão social), shown with its CNPJ,
-- and a mark on catalog items that came from the typical depósito list with example prices:
-- the overview says "revise os preços" while any is marked; saving the item (form or
-- import) clears it.
ALTER TABLE tenants ADD COLUMN legal_name TEXT NOT NULL DEFAULT '';
ALTER TABLE catalog_items ADD COLUMN price_review BIGINT NOT NULL DEFAULT 0;
