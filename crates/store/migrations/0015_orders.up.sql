-- Orders (issue 15 item 4): a won quote becomes an order, with the delivery address the
-- customer gives after confirming (or a shared location), the payment state staff move on
-- /pedidos (aguardando → pago → entregue) and who moved it when. The address belongs to the
-- order, not to the customer's number: the next order may go elsewhere.
-- address_status: 'not_needed' (retirada), 'pending' (asked, not answered yet), 'given'.
CREATE TABLE orders (
    id TEXT NOT NULL PRIMARY KEY,
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    quote_id TEXT NOT NULL REFERENCES quotes(id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    address_status TEXT NOT NULL,
    address_asked_at BIGINT,
    street TEXT,
    number TEXT,
    complement TEXT,
    reference TEXT,
    bairro TEXT,
    city TEXT,
    uf TEXT,
    cep TEXT,
    latitude TEXT,
    longitude TEXT,
    freight_note TEXT,
    payment_state TEXT NOT NULL,
    state_changed_by TEXT,
    state_changed_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (quote_id)
);
CREATE INDEX orders_tenant_created ON orders (tenant_id, created_at);
CREATE INDEX orders_contact_address ON orders (tenant_id, contact_id, address_status);
-- Deleting a contact (LGPD erase) finds its orders without a scan.
CREATE INDEX orders_contact ON orders (contact_id);
-- CEP look-ups (ViaCEP's answer), shared by every store: a CEP's street does not depend on
-- who asks. found = 0 for a CEP the service does not know.
CREATE TABLE cep_cache (
    cep TEXT NOT NULL PRIMARY KEY,
    found BIGINT NOT NULL,
    street TEXT,
    bairro TEXT,
    city TEXT,
    uf TEXT,
    fetched_at BIGINT NOT NULL
);
