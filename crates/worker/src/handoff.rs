//! The waiting-for-a-person queue, from outside the conversation engine: a message WhatsApp
//! refused for good (here, from `send`), or Meta reporting a quote or confirmation as
//! `failed` (the receipts path calls [`queue_for_person`]), puts the conversation in front
//! of a person with the reason shown; a person answering, taking over or handing back takes
//! it out ([`leave_queue`]).

use domain::conversation::State;
use domain::engine::Memo;
use domain::handoff;
use sqlx::AnyConnection;
use store::conversations::{self, Conversation};
use store::{Engine, StoreError};

/// Puts the conversation in the queue with `reason`, inside the caller's transaction. A
/// closed conversation, or one that has not started (nothing was ever sent in it), stays
/// where it is. Returns whether it is waiting now. Nothing is sent to the customer: the
/// acknowledgement is for customers who asked, and a refused message means another one
/// would likely be refused too.
pub async fn queue_for_person(
    c: &mut AnyConnection,
    engine: Engine,
    tenant_id: &str,
    conversation_id: &str,
    reason: &str,
) -> Result<bool, StoreError> {
    let conv = conversations::lock(c, engine, tenant_id, conversation_id).await?;
    let mut memo = Memo::from_json(&conv.draft_json);
    let Ok(state) = handoff::queue_for_person(conv.state, &mut memo) else {
        return Ok(false);
    };
    if state != conv.state {
        tracing::info!(from = %conv.state, reason, "conversation waits for a person");
        conversations::save_state(c, tenant_id, &conv.id, state, &memo.to_json(), None).await?;
    }
    conversations::set_waiting_reason(c, tenant_id, &conv.id, reason).await?;
    Ok(true)
}

/// A person answered, took the conversation or handed it back: out of the queue, to the
/// state it was queued from. Does nothing outside the queue.
pub async fn leave_queue(
    c: &mut AnyConnection,
    tenant_id: &str,
    conv: &Conversation,
) -> Result<(), StoreError> {
    if conv.state != State::WaitingPerson {
        return Ok(());
    }
    let mut memo = Memo::from_json(&conv.draft_json);
    let back = handoff::leave_person_queue(conv.state, &mut memo);
    conversations::save_state(c, tenant_id, &conv.id, back, &memo.to_json(), None).await
}
