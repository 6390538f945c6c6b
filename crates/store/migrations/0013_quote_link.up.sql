-- Whether the store's quotes go out with a link to their public page (`BASE/q/{token}`,
-- issue 15 item 3) as a WhatsApp CTA button. Off by default, like the PDF: the page shows the
-- store's CNPJ, address and phone, which an owner fills in first; `orcazap demo` turns it on.
ALTER TABLE tenants ADD COLUMN quote_link BIGINT NOT NULL DEFAULT 0;
