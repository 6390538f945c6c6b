-- Billing with Stripe (issue 17 item 3; docs/billing.md). The tenant's subscription as the
-- Stripe webhook last set it: `subscription_status` (0001) keeps Stripe's state name;
-- `subscription_state_at` is the `created` time (unix ms) of the event that set it, so an
-- older event delivered late never overwrites a newer state; past_due keeps when it began and
-- when its grace period ends (automatic quotes stop after that). And every Stripe event id
-- processed, once: a replay or duplicate delivery changes nothing.
ALTER TABLE tenants ADD COLUMN stripe_customer_id TEXT;
ALTER TABLE tenants ADD COLUMN stripe_subscription_id TEXT;
ALTER TABLE tenants ADD COLUMN subscription_price_id TEXT;
ALTER TABLE tenants ADD COLUMN subscription_period_end BIGINT;
ALTER TABLE tenants ADD COLUMN subscription_state_at BIGINT;
ALTER TABLE tenants ADD COLUMN subscription_past_due_since BIGINT;
ALTER TABLE tenants ADD COLUMN subscription_grace_until BIGINT;
CREATE INDEX tenants_stripe_customer ON tenants (stripe_customer_id);
CREATE TABLE stripe_events (
    id TEXT NOT NULL PRIMARY KEY,
    type TEXT NOT NULL,
    created BIGINT NOT NULL,
    tenant_id TEXT REFERENCES tenants(id) ON DELETE SET NULL,
    outcome TEXT NOT NULL,
    received_at BIGINT NOT NULL
);
CREATE INDEX stripe_events_tenant ON stripe_events (tenant_id);
