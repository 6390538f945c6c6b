//! Blue ticks and "digitando…" (issue 15 item 7): when the worker starts on a customer's
//! messages it marks the newest one read with a typing indicator (Graph `status: read` +
//! `typing_indicator`), so the customer sees the store is answering. Best effort: it runs
//! beside the reply (spawned), and a failure of any kind is logged and counted, never in the
//! reply's way.

use secrecy::SecretString;
use store::{channels, messages, StoreError};

use crate::job::JobCtx;

/// Starts the read receipt for the conversation's newest unread message, if there is one and
/// the bot is the one answering (during a takeover "digitando…" would promise a reply the bot
/// will not write; the person's own WhatsApp shows their reading). `channel` is the caller's
/// read of `channels::of_bot_conversation` (None: taken over or closed), made beside its other
/// reads before the step.
pub fn start(
    jc: &JobCtx<'_>,
    channel: Result<Option<channels::Channel>, StoreError>,
    unread: &[messages::Message],
) {
    match prepare(jc, channel, unread) {
        Ok(Some((phone_number_id, token, wamid))) => {
            let graph = jc.graph.clone();
            tokio::spawn(async move {
                let outcome = match graph
                    .mark_read_typing(&phone_number_id, &token, &wamid)
                    .await
                {
                    Ok(()) => "ok",
                    Err(e) => {
                        tracing::info!(
                            code = e.code(),
                            error = e.message(),
                            "read receipt not taken; the reply goes on"
                        );
                        "failed"
                    }
                };
                metrics::counter!("orcazap_read_receipts_total", "outcome" => outcome).increment(1);
            });
        }
        Ok(None) => {}
        Err(e) => {
            tracing::info!(error = %store::error::report(&e), "read receipt skipped");
            metrics::counter!("orcazap_read_receipts_total", "outcome" => "failed").increment(1);
        }
    }
}

fn prepare(
    jc: &JobCtx<'_>,
    channel: Result<Option<channels::Channel>, StoreError>,
    unread: &[messages::Message],
) -> Result<Option<(String, SecretString, String)>, StoreError> {
    // Nothing unread (a second job of the step's batch): no receipt.
    let Some(wamid) = unread
        .iter()
        .rev()
        .find_map(|m| m.provider_message_id.clone())
    else {
        return Ok(None);
    };
    // Taken over or closed: no channel, no receipt.
    let Some(channel) = channel? else {
        return Ok(None);
    };
    // A number Meta blocked refuses this too; the send job waits for the owner.
    if channel
        .last_error_code
        .is_some_and(whatsapp::graph::is_account_level)
    {
        return Ok(None);
    }
    let Some(token) = channel
        .access_token_enc
        .as_deref()
        .and_then(|enc| jc.cipher.decrypt(enc).ok())
    else {
        return Ok(None);
    };
    Ok(Some((
        channel.phone_number_id,
        SecretString::from(token),
        wamid,
    )))
}
