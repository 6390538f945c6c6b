//! Issue 18 item 4: contacts found by phone or by business-scoped user id (BSUID), through
//! each engine's own webhook path (PostgreSQL's `orcazap_record_deliveries`, SQLite's
//! statements).

use sqlx::Row;
use store::inbound::{record_delivery, DeliveredMessage, Delivery, DeliveryEvent, EventOutcome};
use store::testing::TestDb;
use store::{tenants, Db};

store::both_engines!(
    TestDb;
    username_sender_then_phone_is_one_contact,
    phone_contact_learns_its_user_id,
);

const USER: &str = "BR.1502576394655843";
const PHONE: &str = "5511987654321";

async fn seed(db: &Db, slug: &str) -> String {
    let slug = slug.to_string();
    db.tx(move |c| {
        Box::pin(async move {
            let t = tenants::create(c, &slug, "Loja", "São Paulo", "America/Sao_Paulo").await?;
            store::channels::create(c, &t.id, &format!("pn-{slug}"), "waba", "5511", None, 1)
                .await?;
            Ok(t.id)
        })
    })
    .await
    .unwrap()
}

async fn deliver(db: &Db, slug: &str, wamid: &str, phone: &str, user_id: Option<&str>) {
    let delivery = Delivery {
        events: vec![DeliveryEvent::Message(DeliveredMessage {
            phone_number_id: format!("pn-{slug}"),
            wa_id: phone.into(),
            user_id: user_id.map(str::to_string),
            username: user_id.map(|_| "renata.obras".to_string()),
            name: "Renata".into(),
            wamid: wamid.into(),
            kind: "text".into(),
            body: "oi".into(),
            payload_json: "{}".into(),
            timestamp: 1_764_000_000,
        })],
        payload: "{}".into(),
        request_id: None,
    };
    assert_eq!(
        record_delivery(db, delivery).await.unwrap(),
        vec![EventOutcome::Accepted],
        "{wamid}"
    );
}

/// (wa_id, user_id, username) of every contact of the store, and how many conversations.
async fn contacts(db: &Db, tenant: &str) -> (Vec<(String, Option<String>, Option<String>)>, i64) {
    let rows = sqlx::query(
        "SELECT wa_id, user_id, username FROM contacts WHERE tenant_id = $1 ORDER BY wa_id",
    )
    .bind(tenant)
    .fetch_all(db.read())
    .await
    .unwrap();
    let list = rows
        .iter()
        .map(|r| (r.get(0), r.get(1), r.get(2)))
        .collect();
    let conversations: i64 = sqlx::query("SELECT COUNT(*) FROM conversations WHERE tenant_id = $1")
        .bind(tenant)
        .fetch_one(db.read())
        .await
        .unwrap()
        .get(0);
    (list, conversations)
}

/// A user first seen by user id only (Meta withheld the phone) is addressed by that id; when
/// a later message carries the phone too, it is the same contact and conversation, now
/// addressed by the phone; a later message by user id alone still finds it.
async fn username_sender_then_phone_is_one_contact(t: &TestDb) {
    let tenant = seed(&t.db, "loja-u").await;
    deliver(&t.db, "loja-u", "w.u1", "", Some(USER)).await;
    let only = |wa: &str| {
        (
            vec![(
                wa.to_string(),
                Some(USER.to_string()),
                Some("renata.obras".to_string()),
            )],
            1,
        )
    };
    assert_eq!(contacts(&t.db, &tenant).await, only(USER));
    deliver(&t.db, "loja-u", "w.u2", PHONE, Some(USER)).await;
    assert_eq!(contacts(&t.db, &tenant).await, only(PHONE));
    deliver(&t.db, "loja-u", "w.u3", "", Some(USER)).await;
    assert_eq!(contacts(&t.db, &tenant).await, only(PHONE));
}

/// A contact known by phone learns its user id from a message carrying both; a message by
/// user id alone then reaches the same contact.
async fn phone_contact_learns_its_user_id(t: &TestDb) {
    let tenant = seed(&t.db, "loja-p").await;
    deliver(&t.db, "loja-p", "w.p1", PHONE, None).await;
    assert_eq!(
        contacts(&t.db, &tenant).await,
        (vec![(PHONE.to_string(), None, None)], 1)
    );
    deliver(&t.db, "loja-p", "w.p2", PHONE, Some(USER)).await;
    deliver(&t.db, "loja-p", "w.p3", "", Some(USER)).await;
    assert_eq!(
        contacts(&t.db, &tenant).await,
        (
            vec![(
                PHONE.to_string(),
                Some(USER.to_string()),
                Some("renata.obras".to_string())
            )],
            1
        )
    );
}
