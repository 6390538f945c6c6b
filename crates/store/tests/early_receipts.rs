//! Issue 18 item 6: a receipt that arrives before the send has recorded Meta's id is kept and
//! applied when the send commits, never moving a status backwards (failed wins), on both
//! engines and through each engine's own webhook path.

use std::time::Duration;

use domain::status::MessageStatus;
use sqlx::Row;
use store::inbound::{
    record_delivery, DeliveredMessage, DeliveredStatus, Delivery, DeliveryEvent, EventOutcome,
};
use store::messages::{self, DeliveryFailure};
use store::testing::TestDb;
use store::{conversations, tenants, Db};

store::both_engines!(
    TestDb;
    early_failed_receipt_is_applied_when_the_send_commits,
    early_receipts_never_move_backwards,
    receipt_racing_the_send_commit_is_not_lost,
);

struct Setup {
    tenant: String,
    conversation: String,
    contact: String,
}

async fn setup(db: &Db, slug: &str) -> Setup {
    let s = slug.to_string();
    let tenant = db
        .tx(move |c| {
            Box::pin(async move {
                let t = tenants::create(c, &s, "Loja", "São Paulo", "America/Sao_Paulo").await?;
                store::channels::create(c, &t.id, &format!("pn-{s}"), "waba", "5511", None, 1)
                    .await?;
                Ok(t.id)
            })
        })
        .await
        .unwrap();
    let inbound = Delivery {
        events: vec![DeliveryEvent::Message(DeliveredMessage {
            phone_number_id: format!("pn-{slug}"),
            wa_id: "5511987654321".into(),
            user_id: None,
            username: None,
            name: "Bia".into(),
            wamid: format!("{slug}.in"),
            kind: "text".into(),
            body: "oi".into(),
            payload_json: "{}".into(),
            timestamp: 1_764_000_000,
        })],
        payload: "{}".into(),
        request_id: None,
    };
    record_delivery(db, inbound).await.unwrap();
    let conv = conversations::list(db, &tenant, None, 1)
        .await
        .unwrap()
        .remove(0);
    Setup {
        tenant,
        conversation: conv.id,
        contact: conv.contact_id,
    }
}

/// A pending outbound message, as the engine writes it before the send job runs.
async fn pending_reply(db: &Db, s: &Setup) -> String {
    let (tn, cv, ct) = (s.tenant.clone(), s.conversation.clone(), s.contact.clone());
    db.tx(move |c| {
        Box::pin(async move {
            messages::insert_outbound(
                c,
                &messages::NewOutbound {
                    tenant_id: &tn,
                    conversation_id: &cv,
                    contact_id: &ct,
                    kind: "buttons",
                    body: "Orçamento #1",
                    payload_json: "{}",
                    sent_by: None,
                    request_id: None,
                },
            )
            .await
        })
    })
    .await
    .unwrap()
}

async fn receipt(db: &Db, slug: &str, wamid: &str, status: MessageStatus, code: Option<i64>) {
    let d = Delivery {
        events: vec![DeliveryEvent::Status(DeliveredStatus {
            phone_number_id: format!("pn-{slug}"),
            wamid: wamid.into(),
            status,
            error_code: code,
            error_message: code.map(|_| "Re-engagement message".to_string()),
        })],
        payload: "{}".into(),
        request_id: None,
    };
    assert_eq!(
        record_delivery(db, d).await.unwrap(),
        vec![EventOutcome::Status]
    );
}

/// The send job's commit: Meta's id recorded, early receipts applied.
async fn send_commits(db: &Db, s: &Setup, id: &str, wamid: &str) -> Option<DeliveryFailure> {
    let (tn, id, wamid) = (s.tenant.clone(), id.to_string(), wamid.to_string());
    db.tx(move |c| Box::pin(async move { messages::mark_sent(c, &tn, &id, &wamid).await }))
        .await
        .unwrap()
}

async fn status_of(db: &Db, s: &Setup, id: &str) -> (MessageStatus, Option<i64>) {
    let mut c = db.write().acquire().await.unwrap();
    let m = messages::by_id(&mut c, &s.tenant, id).await.unwrap();
    (m.status, m.error_code)
}

async fn kept(db: &Db) -> Vec<(String, String)> {
    sqlx::query(
        "SELECT provider_message_id, status FROM early_receipts ORDER BY provider_message_id",
    )
    .fetch_all(db.read())
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), r.get(1)))
    .collect()
}

/// The race of the issue, in its simplest order: Meta's `failed` arrives (and is answered
/// 200) before the send has committed the id. It used to be dropped; now it waits and is
/// applied by the send's commit, which returns the failure for the handoff step. Applied
/// once: the kept receipt is gone afterwards.
async fn early_failed_receipt_is_applied_when_the_send_commits(t: &TestDb) {
    let s = setup(&t.db, "loja-e").await;
    let id = pending_reply(&t.db, &s).await;
    receipt(
        &t.db,
        "loja-e",
        "wamid.E1",
        MessageStatus::Failed,
        Some(131047),
    )
    .await;
    assert_eq!(
        kept(&t.db).await,
        [("wamid.E1".to_string(), "failed".to_string())]
    );
    assert_eq!(status_of(&t.db, &s, &id).await.0, MessageStatus::Pending);
    let failure = send_commits(&t.db, &s, &id, "wamid.E1").await;
    assert_eq!(
        failure,
        Some(DeliveryFailure {
            tenant_id: s.tenant.clone(),
            message_id: id.clone(),
            conversation_id: s.conversation.clone(),
            kind: "buttons".into(),
            error_code: Some(131047),
            error_message: Some("Re-engagement message".into()),
        })
    );
    assert_eq!(
        status_of(&t.db, &s, &id).await,
        (MessageStatus::Failed, Some(131047))
    );
    assert!(kept(&t.db).await.is_empty());
    // The webhook's own lookup names the same failure.
    let mut c = t.db.write().acquire().await.unwrap();
    let named = messages::failed_deliveries(&mut c, &["wamid.E1".to_string()])
        .await
        .unwrap();
    assert_eq!(named, vec![failure.unwrap()]);
}

/// Kept receipts climb the same ladder as applied ones: a late `delivered` does not undo an
/// early `read`; `failed` wins and stays.
async fn early_receipts_never_move_backwards(t: &TestDb) {
    let s = setup(&t.db, "loja-b").await;
    let read_first = pending_reply(&t.db, &s).await;
    receipt(&t.db, "loja-b", "wamid.B1", MessageStatus::Read, None).await;
    receipt(&t.db, "loja-b", "wamid.B1", MessageStatus::Delivered, None).await;
    assert_eq!(kept(&t.db).await, [("wamid.B1".into(), "read".into())]);
    assert_eq!(send_commits(&t.db, &s, &read_first, "wamid.B1").await, None);
    assert_eq!(
        status_of(&t.db, &s, &read_first).await.0,
        MessageStatus::Read
    );

    let failed = pending_reply(&t.db, &s).await;
    receipt(
        &t.db,
        "loja-b",
        "wamid.B2",
        MessageStatus::Failed,
        Some(131026),
    )
    .await;
    receipt(&t.db, "loja-b", "wamid.B2", MessageStatus::Read, None).await;
    receipt(&t.db, "loja-b", "wamid.B2", MessageStatus::Sent, None).await;
    assert_eq!(kept(&t.db).await, [("wamid.B2".into(), "failed".into())]);
    assert!(send_commits(&t.db, &s, &failed, "wamid.B2").await.is_some());
    assert_eq!(
        status_of(&t.db, &s, &failed).await,
        (MessageStatus::Failed, Some(131026))
    );
    // Purged only when old.
    receipt(
        &t.db,
        "loja-b",
        "wamid.never-ours",
        MessageStatus::Delivered,
        None,
    )
    .await;
    assert_eq!(
        messages::purge_early_receipts(&t.db, 60_000).await.unwrap(),
        0
    );
    assert_eq!(
        messages::purge_early_receipts(&t.db, -60_000)
            .await
            .unwrap(),
        1
    );
    assert!(kept(&t.db).await.is_empty());
}

/// The receipt arrives while the send's transaction is open (Meta answered the send, our
/// COMMIT has not happened): whichever commits first, the receipt ends on the message and
/// nothing is left behind.
async fn receipt_racing_the_send_commit_is_not_lost(t: &TestDb) {
    let s = setup(&t.db, "loja-r").await;
    let id = pending_reply(&t.db, &s).await;
    let (tn, mid) = (s.tenant.clone(), id.clone());
    let send = t.db.tx(move |c| {
        Box::pin(async move {
            let failure = messages::mark_sent(c, &tn, &mid, "wamid.R1").await?;
            // Still inside the send's transaction when the receipt comes in.
            tokio::time::sleep(Duration::from_millis(300)).await;
            Ok(failure)
        })
    });
    let db = t.db.clone();
    let webhook = async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        receipt(
            &db,
            "loja-r",
            "wamid.R1",
            MessageStatus::Failed,
            Some(131047),
        )
        .await;
    };
    let (sent, ()) = tokio::join!(send, webhook);
    sent.unwrap();
    assert_eq!(
        status_of(&t.db, &s, &id).await,
        (MessageStatus::Failed, Some(131047))
    );
    assert!(kept(&t.db).await.is_empty(), "{:?}", kept(&t.db).await);
}
