-- Closing the sale, the rest of issue 15.
-- CPF or CNPJ for the invoice (the store's "Pedir dados para nota", tenants.invoice_data, off
-- by default): asked after the delivery address (or a pickup's confirmation);
-- orders.tax_id_asked_at NULL = not asked, orders.tax_id = digits and upper-case letters.
ALTER TABLE tenants ADD COLUMN invoice_data BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN tax_id TEXT;
ALTER TABLE orders ADD COLUMN tax_id_asked_at BIGINT;
-- Meta's payments in Brazil (the store's "Cobrar pelo WhatsApp", tenants.meta_payments, off
-- by default): after "Confirmar" the order goes as an `order_details` message with the PIX
-- code; orders.meta_reference is its `reference_id` (the quote number), set when it was sent,
-- so staff's paid/delivered marks on /pedidos go to the customer as `order_status` messages.
ALTER TABLE tenants ADD COLUMN meta_payments BIGINT NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN meta_reference TEXT;
