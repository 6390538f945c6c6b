//! The optional language model (issue 16, docs/assistants.md): a second reading of messages
//! the rules are not confident about — never pricing, never trusted blindly.
//!
//! - Off unless `ORCAZAP_LLM_BASE_URL` and `ORCAZAP_LLM_MODEL` are set ([`LlmAssistant`] is
//!   then built by the binary and handed to the worker).
//! - Asked only for a message whose rules reading has an unknown product or a confidence below
//!   [`domain::engine::ASSIST_BELOW_CONFIDENCE`], in a conversation the bot is collecting
//!   (not one a person has, not after the quote).
//! - The call happens **before** the conversation's transaction ([`prepare`]): the model may
//!   take seconds and no database lock is held meanwhile. Inside the transaction the engine
//!   asks [`Prepared`] (its `Assistant`), which re-reads the message with the rules against the
//!   draft of that moment and merges the validated proposal ([`proposal::merge`]). A message
//!   the model helped with marks the conversation `llm_assisted`: its quote goes to approval
//!   with the reason `llm_assisted` ("assistido por IA").
//! - Each call is paid from the store's monthly budget, reserved and settled in the database
//!   (`store::assistant_budget`), and counted against its per-minute rate limit. Over budget,
//!   rate-limited, provider down, circuit open, or an answer that fails validation: the rules'
//!   reading stands, the message is handled as without a model, and the fallback is counted.

pub mod proposal;
pub mod provider;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use domain::catalog::CatalogItem;
use domain::conversation::State;
use domain::engine::{Memo, ASSIST_BELOW_CONFIDENCE};
use domain::pricing::StoreRules;
use domain::understanding::{understand_in, CatalogIndex, Draft, Understanding};
use store::assistant_budget::{self, Reservation, MILLICENTS_PER_CENT};
use store::Db;

pub use proposal::{Proposal, Rejected};
pub use provider::{
    ChatAnswer, ChatProvider, ChatRequest, OpenAiCompatible, OpenAiConfig, ProviderError,
};

use crate::tenant_ctx::TenantContext;

/// Model calls one `conversation.advance` job makes at most (a burst of messages costs at
/// most this many calls; the rest are read by the rules alone).
pub const MAX_CALLS_PER_JOB: usize = 3;

/// Prices and limits (`ORCAZAP_LLM_*`, docs/assistants.md).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LlmLimits {
    /// Millicentavos per 1,000 prompt tokens (`ORCAZAP_LLM_PRICE_INPUT_PER_1K` × 1000).
    pub input_millicents_per_1k: i64,
    /// Millicentavos per 1,000 answer tokens.
    pub output_millicents_per_1k: i64,
    /// Each store's monthly budget unless it has its own, in centavos.
    pub monthly_budget_cents: i64,
    /// Calls per store per minute.
    pub per_minute: i64,
    /// The answer's `max_tokens`.
    pub max_tokens: u32,
}

impl Default for LlmLimits {
    fn default() -> LlmLimits {
        LlmLimits {
            input_millicents_per_1k: 0,
            output_millicents_per_1k: 0,
            monthly_budget_cents: 2000,
            per_minute: 10,
            max_tokens: 400,
        }
    }
}

impl LlmLimits {
    /// The cost of a call in millicentavos, rounded up per kind of token.
    pub fn cost_millicents(&self, prompt_tokens: i64, completion_tokens: i64) -> i64 {
        let part = |tokens: i64, price: i64| {
            ((tokens.max(0) as i128 * price.max(0) as i128 + 999) / 1000) as i64
        };
        part(prompt_tokens, self.input_millicents_per_1k)
            .saturating_add(part(completion_tokens, self.output_millicents_per_1k))
    }
}

/// Why the rules' reading stood (label on `orcazap_llm_fallbacks_total`).
pub const FALLBACK_REASONS: [&str; 14] = [
    "budget",
    "rate_limit",
    "no_candidates",
    "circuit_open",
    "timeout",
    "rate_limited",
    "http_error",
    "unreachable",
    "bad_response",
    "malformed",
    "invented_sku",
    "bad_quantity",
    "no_help",
    "store_error",
];

/// Outcomes of a call on `orcazap_llm_calls_total`.
pub const CALL_OUTCOMES: [&str; 8] = [
    "ok",
    "rejected",
    "timeout",
    "rate_limited",
    "http_error",
    "unreachable",
    "bad_response",
    "circuit_open",
];

/// The whole `ORCAZAP_LLM_*` configuration.
#[derive(Debug, Clone)]
pub struct LlmConfig {
    pub provider: OpenAiConfig,
    pub limits: LlmLimits,
}

/// The configured model, its prices and limits.
pub struct LlmAssistant {
    provider: Arc<dyn ChatProvider>,
    pub limits: LlmLimits,
    /// How long one call may take, retries included: [`prepare`] starts no further call once
    /// this much time has passed, so a job's calls end within twice this.
    pub call_deadline: std::time::Duration,
}

/// What a consultation gave.
#[derive(Debug)]
pub enum Consulted {
    Proposal(Proposal),
    /// The rules stand; the label says why.
    Fallback(&'static str),
}

impl LlmAssistant {
    pub fn new(provider: Arc<dyn ChatProvider>, limits: LlmLimits) -> LlmAssistant {
        LlmAssistant {
            provider,
            limits,
            call_deadline: std::time::Duration::from_secs(10),
        }
    }

    /// The OpenAI-compatible provider of the configuration.
    pub fn from_config(cfg: &LlmConfig) -> Result<LlmAssistant, ProviderError> {
        let provider = OpenAiCompatible::new(cfg.provider.clone())?;
        let mut a = LlmAssistant::new(Arc::new(provider), cfg.limits.clone());
        a.call_deadline = cfg.provider.deadline;
        Ok(a)
    }

    /// The request for one message (its prompt is all the model sees).
    pub fn request(
        &self,
        text: &str,
        draft: &Draft,
        unknown: &[String],
        cands: &[&CatalogItem],
    ) -> ChatRequest {
        ChatRequest {
            system: proposal::SYSTEM_PROMPT.to_string(),
            user: proposal::user_prompt(text, draft, unknown, cands),
            schema: proposal::answer_schema(),
            max_tokens: self.limits.max_tokens,
        }
    }

    /// The most a request can cost: its prompt (estimated generously) and a full answer.
    pub fn estimate_millicents(&self, req: &ChatRequest) -> i64 {
        let prompt = provider::estimate_tokens(&req.system)
            + provider::estimate_tokens(&req.user)
            + provider::estimate_tokens(&req.schema.to_string());
        self.limits.cost_millicents(prompt, req.max_tokens as i64)
    }

    /// Calls the model and validates the answer (no budget: the offline `parse --assistant`
    /// and the budgeted [`LlmAssistant::consult_for_store`] both use it). Returns the outcome
    /// and the tokens used, (0, 0) when nothing was billed.
    pub async fn call(
        &self,
        req: &ChatRequest,
        catalog: &[CatalogItem],
        rules: &StoreRules,
    ) -> (Result<Proposal, &'static str>, i64, i64) {
        let started = Instant::now();
        let res = self.provider.complete(req).await;
        metrics::histogram!("orcazap_llm_request_duration_seconds")
            .record(started.elapsed().as_secs_f64());
        match res {
            Err(e) => {
                tracing::warn!(error = %e, model = self.provider.model(), "language model call failed; rules only");
                metrics::counter!("orcazap_llm_calls_total", "outcome" => e.label()).increment(1);
                (Err(e.label()), 0, 0)
            }
            Ok(answer) => {
                metrics::counter!("orcazap_llm_tokens_total", "kind" => "prompt")
                    .increment(answer.prompt_tokens.max(0) as u64);
                metrics::counter!("orcazap_llm_tokens_total", "kind" => "completion")
                    .increment(answer.completion_tokens.max(0) as u64);
                metrics::counter!("orcazap_llm_cost_millicentavos_total").increment(
                    self.limits
                        .cost_millicents(answer.prompt_tokens, answer.completion_tokens)
                        .max(0) as u64,
                );
                let validated = proposal::validate(&answer.content, catalog, rules);
                let outcome = if validated.is_ok() { "ok" } else { "rejected" };
                metrics::counter!("orcazap_llm_calls_total", "outcome" => outcome).increment(1);
                let res = validated.map_err(|e| {
                    tracing::warn!(error = %e, "language model answer refused; rules only");
                    e.label()
                });
                (res, answer.prompt_tokens, answer.completion_tokens)
            }
        }
    }

    /// One message of a store: candidates, budget and rate limit, call, settle, validate.
    #[allow(clippy::too_many_arguments)]
    pub async fn consult_for_store(
        &self,
        db: &Db,
        tenant_id: &str,
        month: &str,
        budget_cents: i64,
        text: &str,
        draft: &Draft,
        rules_reading: &Understanding,
        catalog: &[CatalogItem],
        rules: &StoreRules,
    ) -> Consulted {
        if budget_cents <= 0 {
            // The store's model is off (`orcazap assistant budget --cents 0`): nothing to note.
            return Consulted::Fallback("budget");
        }
        let cands = proposal::candidates(text, draft, catalog);
        if cands.is_empty() {
            return Consulted::Fallback("no_candidates");
        }
        let req = self.request(text, draft, &rules_reading.unknown, &cands);
        let estimate = self.estimate_millicents(&req);
        let budget = budget_cents.max(0).saturating_mul(MILLICENTS_PER_CENT);
        match assistant_budget::reserve(
            db,
            tenant_id,
            month,
            estimate,
            budget,
            self.limits.per_minute,
        )
        .await
        {
            Ok(Reservation::Granted) => {}
            Ok(Reservation::OverBudget) => {
                tracing::warn!(
                    tenant_id,
                    month,
                    "language model budget spent for the month; rules only"
                );
                return Consulted::Fallback("budget");
            }
            Ok(Reservation::RateLimited) => return Consulted::Fallback("rate_limit"),
            Err(e) => {
                tracing::warn!(error = %e, "language model budget not readable; rules only");
                return Consulted::Fallback("store_error");
            }
        }
        let (res, prompt, completion) = self.call(&req, catalog, rules).await;
        // A timeout may have been billed: keep the reservation. Refusals (429, 5xx) and
        // unreachable servers are not: give it back.
        let actual = match res {
            Err("timeout") => estimate,
            _ => self.limits.cost_millicents(prompt, completion),
        };
        if let Err(e) =
            assistant_budget::settle(db, tenant_id, month, estimate, actual, prompt, completion)
                .await
        {
            tracing::warn!(error = %e, "language model cost not settled (the reservation stays spent)");
        }
        match res {
            Ok(p) => Consulted::Proposal(p),
            Err(label) => Consulted::Fallback(label),
        }
    }
}

/// Counts a fallback (the rules' reading stood).
pub fn count_fallback(reason: &'static str) {
    metrics::counter!("orcazap_llm_fallbacks_total", "reason" => reason).increment(1);
}

/// Whether the engine will ask for help with this reading (the engine's own condition).
pub fn needs_help(u: &Understanding) -> bool {
    u.confidence < ASSIST_BELOW_CONFIDENCE || !u.unknown.is_empty()
}

/// The month a store's budget counts in: `YYYY-MM` in its time zone.
pub fn month_of(ctx: &TenantContext) -> String {
    ctx.today().format("%Y-%m").to_string()
}

/// The validated proposals of one job's messages, by message text: the engine's `Assistant`.
#[derive(Default)]
pub struct Prepared {
    index: Option<Arc<CatalogIndex>>,
    proposals: HashMap<String, Proposal>,
}

impl Prepared {
    /// As the engine's `ctx.assistant`: None when no message got a proposal.
    pub fn as_assistant(&self) -> Option<&(dyn domain::engine::Assistant + Sync)> {
        (!self.proposals.is_empty()).then_some(self as &(dyn domain::engine::Assistant + Sync))
    }
}

impl domain::engine::Assistant for Prepared {
    fn assist(&self, text: &str, draft: &Draft) -> Option<Understanding> {
        let p = self.proposals.get(text)?;
        let u = understand_in(text, self.index.as_deref()?, draft);
        proposal::merge(&u, draft, p)
    }
}

/// Before the conversation's transaction: reads its unprocessed messages the way the engine
/// will (against the draft as it grows) and consults the model for those the rules are not
/// confident about. Never fails: anything wrong leaves the rules alone.
pub async fn prepare(
    llm: Option<&LlmAssistant>,
    db: &Db,
    ctx: &TenantContext,
    tenant_id: &str,
    conversation_id: &str,
) -> Prepared {
    let mut out = Prepared::default();
    let Some(llm) = llm else {
        return out;
    };
    let conv = match store::conversations::get(db, tenant_id, conversation_id).await {
        Ok(Some(c)) => c,
        _ => return out,
    };
    if conv.taken_over_by.is_some() || !matches!(conv.state, State::Inbound | State::CaptureMin) {
        return out;
    }
    let pending = match db.read().acquire().await {
        Ok(mut c) => store::messages::unprocessed_inbound(&mut c, tenant_id, conversation_id)
            .await
            .unwrap_or_default(),
        Err(_) => return out,
    };
    let mut draft = Memo::from_json(&conv.draft_json).draft;
    let month = month_of(ctx);
    let mut budget_cents = None;
    let mut calls = 0;
    let started = Instant::now();
    for msg in &pending {
        let text = match msg.inbound_content().to_engine() {
            domain::engine::Inbound::Text(t) => t,
            domain::engine::Inbound::Location { address } => address,
            _ => continue,
        };
        let u = understand_in(&text, &ctx.index, &draft);
        // Within the job's time: no new call once one call's deadline has passed.
        let late = calls > 0 && started.elapsed() >= llm.call_deadline;
        if !needs_help(&u)
            || calls >= MAX_CALLS_PER_JOB
            || late
            || out.proposals.contains_key(&text)
        {
            draft.apply(&u);
            continue;
        }
        let budget = match budget_cents {
            Some(b) => b,
            None => {
                let b = store::assistant_budget::store_budget_cents(db, tenant_id)
                    .await
                    .ok()
                    .flatten()
                    .unwrap_or(llm.limits.monthly_budget_cents);
                budget_cents = Some(b);
                b
            }
        };
        calls += 1;
        let consulted = llm
            .consult_for_store(
                db,
                tenant_id,
                &month,
                budget,
                &text,
                &draft,
                &u,
                &ctx.catalog,
                &ctx.rules,
            )
            .await;
        let merged = match consulted {
            Consulted::Proposal(p) => match proposal::merge(&u, &draft, &p) {
                Some(m) => {
                    out.proposals.insert(text.clone(), p);
                    Some(m)
                }
                None => {
                    count_fallback("no_help");
                    None
                }
            },
            Consulted::Fallback(reason) => {
                count_fallback(reason);
                None
            }
        };
        draft.apply(merged.as_ref().unwrap_or(&u));
    }
    if calls > 0 {
        refresh_budget_gauges(db, llm, &month).await;
    }
    if !out.proposals.is_empty() {
        out.index = Some(ctx.index.clone());
    }
    out
}

/// `orcazap_llm_budget_left_centavos` (the least any store that used the model this month has
/// left) and `orcazap_llm_stores_over_budget`.
pub async fn refresh_budget_gauges(db: &Db, llm: &LlmAssistant, month: &str) {
    match store::assistant_budget::month_overview(db, month, llm.limits.monthly_budget_cents).await
    {
        Ok(o) => {
            metrics::gauge!("orcazap_llm_budget_left_centavos").set(o.least_left_cents as f64);
            metrics::gauge!("orcazap_llm_stores_over_budget").set(o.stores_refused as f64);
        }
        Err(e) => tracing::debug!(error = %e, "language model budget gauges not refreshed"),
    }
}

/// Registers the model's metric families with zero values (start-up, with the others).
pub fn register_metrics(monthly_budget_cents: i64) {
    for outcome in CALL_OUTCOMES {
        metrics::counter!("orcazap_llm_calls_total", "outcome" => outcome).absolute(0);
    }
    for kind in ["prompt", "completion"] {
        metrics::counter!("orcazap_llm_tokens_total", "kind" => kind).absolute(0);
    }
    metrics::counter!("orcazap_llm_cost_millicentavos_total").absolute(0);
    for reason in FALLBACK_REASONS {
        metrics::counter!("orcazap_llm_fallbacks_total", "reason" => reason).absolute(0);
    }
    let _ = metrics::histogram!("orcazap_llm_request_duration_seconds");
    metrics::gauge!("orcazap_llm_budget_left_centavos").set(monthly_budget_cents.max(0) as f64);
    metrics::gauge!("orcazap_llm_stores_over_budget").set(0.0);
}
