//! Meta said an outbound message failed (issue 18 item 6).
//!
//! Both places that learn it call [`delivery_failed`]: the webhook, after storing a delivery
//! with `failed` receipts (`store::messages::failed_deliveries`), and the send job, when a
//! `failed` receipt that arrived before the send committed is applied
//! (`store::messages::mark_sent`). The customer did not get the message and the bot cannot
//! tell, so the conversation goes to the waiting-for-a-person queue with Meta's code as the
//! reason, the same way a send refused for good does (`send::record_permanent`). A
//! redelivered receipt calls it again for the same message: queueing is idempotent (a
//! conversation already waiting stays waiting; a closed one stays closed).

use store::messages::DeliveryFailure;
use store::{Db, StoreError};

pub async fn delivery_failed(db: &Db, failure: &DeliveryFailure) -> Result<(), StoreError> {
    tracing::warn!(
        message_id = %failure.message_id,
        conversation_id = %failure.conversation_id,
        kind = %failure.kind,
        code = ?failure.error_code,
        "Meta reported an outbound message as failed"
    );
    let engine = db.engine();
    let tenant = failure.tenant_id.clone();
    let conversation = failure.conversation_id.clone();
    let reason = reason(failure.error_code);
    db.tx(move |c| {
        Box::pin(async move {
            crate::handoff::queue_for_person(c, engine, &tenant, &conversation, &reason).await?;
            Ok(())
        })
    })
    .await
}

/// What staff read in the queue. Meta's own text is English and stays on the message row.
fn reason(code: Option<i64>) -> String {
    match code {
        Some(code) => {
            format!("o WhatsApp não entregou uma mensagem (código {code}): o cliente não a recebeu")
        }
        None => "o WhatsApp não entregou uma mensagem: o cliente não a recebeu".into(),
    }
}
