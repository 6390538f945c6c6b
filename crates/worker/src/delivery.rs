//! Meta said an outbound message failed (issue 18 item 6).
//!
//! Both places that learn it call [`delivery_failed`]: the webhook, after storing a delivery
//! with `failed` receipts (`store::messages::failed_deliveries`), and the send job, when a
//! `failed` receipt that arrived before the send committed is applied
//! (`store::messages::mark_sent`). Today it logs the failure (the message row shows it as
//! failed with Meta's code in the dashboard); moving a failed quote or confirmation to a
//! person is the handoff step, which plugs in here. A redelivered receipt calls it again for
//! the same message: what it does must be idempotent.

use store::messages::DeliveryFailure;
use store::{Db, StoreError};

pub async fn delivery_failed(_db: &Db, failure: &DeliveryFailure) -> Result<(), StoreError> {
    tracing::warn!(
        message_id = %failure.message_id,
        conversation_id = %failure.conversation_id,
        kind = %failure.kind,
        code = ?failure.error_code,
        "Meta reported an outbound message as failed"
    );
    Ok(())
}
