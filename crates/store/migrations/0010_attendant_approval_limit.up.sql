-- The largest quote total (centavos) an attendant may approve; NULL = no limit. Owners can
-- always approve (issue 12 item 5).
ALTER TABLE tenants ADD COLUMN attendant_approval_limit_cents BIGINT;
