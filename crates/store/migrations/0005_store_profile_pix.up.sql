-- What a quote document and a PIX code need to know about the store (issue 15): its CNPJ,
-- address and phone as printed on the quote PDF, and its PIX key. The key is stored in the
-- DICT's normalized form with its type word (domain::pix::PixKeyKind); the merchant name and
-- city are stored already folded for the BR Code (≤ 25 / ≤ 15, upper-case ASCII). Empty
-- text means "not set": a store without a key sends no PIX code.
ALTER TABLE tenants ADD COLUMN cnpj TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN phone TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN pix_key_kind TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN pix_key TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN pix_merchant_name TEXT NOT NULL DEFAULT '';
ALTER TABLE tenants ADD COLUMN pix_city TEXT NOT NULL DEFAULT '';
