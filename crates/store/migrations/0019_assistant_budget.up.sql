-- The optional language model (issue 16; docs/assistants.md): what each store spent on it per
-- month, in millicentavos (1/1000 of a centavo: a call to a cheap model costs a fraction of a
-- centavo), with token counts, refusals and the store's per-minute rate window. A call first
-- charges its largest possible cost with one conditional UPDATE (spent + estimate <= budget,
-- and the minute's calls under the limit), then settles to the real cost: two workers cannot
-- both spend the last real. `last_refused_at` later than `last_granted_at` is the note staff see:
-- the month's budget ran out (and has not been raised since).
CREATE TABLE assistant_usage (
    tenant_id TEXT NOT NULL REFERENCES tenants(id) ON DELETE CASCADE,
    month TEXT NOT NULL,
    spent_millicents BIGINT NOT NULL DEFAULT 0,
    calls BIGINT NOT NULL DEFAULT 0,
    prompt_tokens BIGINT NOT NULL DEFAULT 0,
    completion_tokens BIGINT NOT NULL DEFAULT 0,
    refused_budget BIGINT NOT NULL DEFAULT 0,
    refused_rate BIGINT NOT NULL DEFAULT 0,
    last_refused_at BIGINT,
    last_granted_at BIGINT,
    window_minute BIGINT NOT NULL DEFAULT 0,
    window_calls BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (tenant_id, month)
);
-- A store's own monthly budget in centavos; NULL: the install's ORCAZAP_LLM_MONTHLY_BUDGET_CENTS.
ALTER TABLE tenants ADD COLUMN assistant_budget_cents BIGINT;
