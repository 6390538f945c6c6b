-- Whether the store's quotes go out with their PDF as a WhatsApp document (issue 15 item 1).
-- Off by default: the PDF prints the store's CNPJ, address and phone, which an owner fills in
-- first; `orcazap demo` turns it on for the demo store.
ALTER TABLE tenants ADD COLUMN quote_pdf BIGINT NOT NULL DEFAULT 0;
