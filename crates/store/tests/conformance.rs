//! The conformance suite: every scenario runs on a temporary SQLite file and on PostgreSQL
//! (when `ORCAZAP_TEST_POSTGRES_URL` is set; CI sets it and refuses to skip).

use std::collections::HashSet;

use store::jobs::{self, NewJob};
use store::testing::TestDb;
use store::{conversations, messages, migrate, quotes, tenants, Db, Engine};

macro_rules! both_engines {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
               async fn $name() { if let Some(t) = store::testing::TestDb::new(store::Engine::Sqlite).await { super::$name(&t).await } } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
               async fn $name() { if let Some(t) = store::testing::TestDb::new(store::Engine::Postgres).await { super::$name(&t).await } } )*
        }
    };
}

both_engines!(
    migrations_down_and_up_again,
    inbound_is_idempotent_and_ordered,
    jobs_lease_retry_dead_requeue,
    jobs_same_contact_never_concurrent,
    quote_numbers_unique_under_concurrency,
    receipts_never_move_backwards,
    tenant_isolation_in_queries,
);

async fn seed_tenant(db: &Db, slug: &str) -> (String, String) {
    let slug = slug.to_string();
    db.tx(move |c| {
        Box::pin(async move {
            let t = tenants::create(c, &slug, "Loja", "São Paulo", "America/Sao_Paulo").await?;
            let ch =
                store::channels::create(c, &t.id, &format!("pn-{slug}"), "waba", "5511", None, 1)
                    .await?;
            Ok((t.id, ch.id))
        })
    })
    .await
    .unwrap()
}

async fn migrations_down_and_up_again(t: &TestDb) {
    let before = migrate::describe_schema(&t.db).await.unwrap();
    assert!(
        before.iter().any(|l| l == "index jobs.jobs_ready"),
        "{before:?}"
    );
    assert!(migrate::is_current(&t.db).await.unwrap());
    let reverted = migrate::down(&t.db, 10).await.unwrap();
    assert_eq!(reverted, vec![1]);
    assert!(
        migrate::describe_schema(&t.db).await.unwrap().is_empty(),
        "down leaves no tables"
    );
    migrate::up(&t.db).await.unwrap();
    assert_eq!(migrate::describe_schema(&t.db).await.unwrap(), before);
    // Running up again is a no-op.
    assert!(migrate::up(&t.db).await.unwrap().is_empty());
}

async fn ingest(
    db: &Db,
    tenant: &str,
    channel: &str,
    wa_id: &str,
    wamid: &str,
    body: &str,
) -> Option<String> {
    let (tenant, channel, wa_id, wamid, body) = (
        tenant.to_string(),
        channel.to_string(),
        wa_id.to_string(),
        wamid.to_string(),
        body.to_string(),
    );
    let engine = db.engine();
    db.tx(move |c| {
        Box::pin(async move {
            let now = store::now_ms();
            let rec = store::inbound::InboundRecord {
                tenant_id: &tenant,
                channel_id: &channel,
                wa_id: &wa_id,
                contact_name: "Cliente",
                provider_message_id: &wamid,
                kind: "text",
                body: &body,
                payload_json: "{}",
                provider_timestamp: now / 1000,
                received_at_ms: now,
                request_id: None,
            };
            Ok(store::inbound::record(c, engine, &rec)
                .await?
                .map(|r| r.message_id))
        })
    })
    .await
    .unwrap()
}

async fn inbound_is_idempotent_and_ordered(t: &TestDb) {
    let (tenant, channel) = seed_tenant(&t.db, "loja-a").await;
    assert!(ingest(
        &t.db,
        &tenant,
        &channel,
        "5511999990000",
        "wamid.1",
        "primeira"
    )
    .await
    .is_some());
    assert!(
        ingest(
            &t.db,
            &tenant,
            &channel,
            "5511999990000",
            "wamid.1",
            "primeira"
        )
        .await
        .is_none(),
        "duplicate stored"
    );
    assert!(ingest(
        &t.db,
        &tenant,
        &channel,
        "5511999990000",
        "wamid.2",
        "segunda"
    )
    .await
    .is_some());
    let convs = conversations::list(&t.db, &tenant, None, 10).await.unwrap();
    assert_eq!(convs.len(), 1, "one open conversation per contact");
    assert_eq!(convs[0].unread, 2);
    let mut c = t.db.write().acquire().await.unwrap();
    let pending = messages::unprocessed_inbound(&mut c, &tenant, &convs[0].id)
        .await
        .unwrap();
    let bodies: Vec<&str> = pending.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, vec!["primeira", "segunda"]);
    assert_eq!(
        jobs::list(&t.db, Some("ready"), 10).await.unwrap().len(),
        2,
        "one job per stored message, none for the duplicate"
    );
    // A late redelivery after the conversation closed opens nothing new and counts nothing.
    sqlx::query("UPDATE conversations SET state = 'WON'")
        .execute(t.db.write())
        .await
        .unwrap();
    assert!(ingest(
        &t.db,
        &tenant,
        &channel,
        "5511999990000",
        "wamid.1",
        "primeira"
    )
    .await
    .is_none());
    let convs = conversations::list(&t.db, &tenant, None, 10).await.unwrap();
    assert_eq!(convs.len(), 1, "a duplicate must not open a conversation");
    assert_eq!(convs[0].unread, 2);
}

async fn jobs_lease_retry_dead_requeue(t: &TestDb) {
    let engine = t.db.engine();
    let id =
        t.db.tx(move |c| {
            Box::pin(async move {
                let mut j = NewJob::new("test.kind", serde_json::json!({"n": 1}));
                j.max_attempts = 2;
                jobs::enqueue(c, engine, &j).await
            })
        })
        .await
        .unwrap();
    let job = jobs::claim(&t.db, "w1", 60_000)
        .await
        .unwrap()
        .expect("claimable");
    assert_eq!(job.id, id);
    assert_eq!(job.attempts, 1);
    assert!(
        jobs::claim(&t.db, "w2", 60_000).await.unwrap().is_none(),
        "leased job is not claimed twice"
    );
    // A retry scheduled in the past is claimable again; the lease holder is fenced.
    assert!(!jobs::fail(&t.db, &job, "w1", "boom", Some(0))
        .await
        .unwrap());
    let again = jobs::claim(&t.db, "w2", 1)
        .await
        .unwrap()
        .expect("retry claimable");
    assert_eq!(again.attempts, 2);
    // w2's lease of 1 ms expires: another worker reclaims the job.
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let reclaimed = jobs::claim(&t.db, "w3", 60_000)
        .await
        .unwrap()
        .expect("expired lease reclaimed");
    assert_eq!(reclaimed.locked_by.as_deref(), Some("w3"));
    let mut c = t.db.write().acquire().await.unwrap();
    assert!(
        !jobs::complete(&mut c, &id, "w2").await.unwrap(),
        "stale worker cannot complete"
    );
    drop(c);
    // Out of attempts: dead.
    assert!(jobs::fail(&t.db, &reclaimed, "w3", "boom again", Some(0))
        .await
        .unwrap());
    let dead = jobs::list(&t.db, Some("dead"), 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].last_error.as_deref(), Some("boom again"));
    let mut c = t.db.write().acquire().await.unwrap();
    jobs::requeue(&mut c, &id).await.unwrap();
    drop(c);
    let fresh = jobs::claim(&t.db, "w4", 60_000)
        .await
        .unwrap()
        .expect("requeued job runs");
    assert_eq!(fresh.attempts, 1);
    let mut c = t.db.write().acquire().await.unwrap();
    assert!(jobs::complete(&mut c, &id, "w4").await.unwrap());
    drop(c);
    // Scheduled in the future: not claimable yet.
    let engine = t.db.engine();
    t.db.tx(move |c| {
        Box::pin(async move {
            let mut j = NewJob::new("later", serde_json::json!({}));
            j.run_at = Some(store::now_ms() + 60_000);
            jobs::enqueue(c, engine, &j).await
        })
    })
    .await
    .unwrap();
    assert!(jobs::claim(&t.db, "w5", 60_000).await.unwrap().is_none());
    let stats = jobs::stats(&t.db).await.unwrap();
    assert!(stats.iter().any(|s| s.kind == "later" && s.ready == 1));
}

async fn jobs_same_contact_never_concurrent(t: &TestDb) {
    let engine = t.db.engine();
    t.db.tx(move |c| {
        Box::pin(async move {
            for i in 0..3 {
                let mut j = NewJob::new("k", serde_json::json!({ "i": i }));
                j.serial_key = Some("contact-1".into());
                jobs::enqueue(c, engine, &j).await?;
            }
            let mut j = NewJob::new("k", serde_json::json!({ "i": 99 }));
            j.serial_key = Some("contact-2".into());
            jobs::enqueue(c, engine, &j).await?;
            Ok(())
        })
    })
    .await
    .unwrap();
    // Many claimers at once: only one job per contact may be running.
    let mut handles = Vec::new();
    for w in 0..8 {
        let db = t.db.clone();
        handles.push(tokio::spawn(async move {
            jobs::claim(&db, &format!("w{w}"), 60_000).await.unwrap()
        }));
    }
    let mut claimed = Vec::new();
    for h in handles {
        if let Some(j) = h.await.unwrap() {
            claimed.push(j);
        }
    }
    let keys: Vec<_> = claimed
        .iter()
        .map(|j| j.serial_key.clone().unwrap())
        .collect();
    let unique: HashSet<_> = keys.iter().collect();
    assert_eq!(
        keys.len(),
        unique.len(),
        "two jobs of one contact ran together: {keys:?}"
    );
    assert_eq!(claimed.len(), 2);
    // The first job of contact-1 in creation order runs first.
    let first = claimed
        .iter()
        .find(|j| j.serial_key.as_deref() == Some("contact-1"))
        .unwrap();
    assert_eq!(first.payload_json, r#"{"i":0}"#);
}

async fn quote_numbers_unique_under_concurrency(t: &TestDb) {
    let (tenant, _) = seed_tenant(&t.db, "loja-q").await;
    let mut handles = Vec::new();
    for _ in 0..40 {
        let db = t.db.clone();
        let tenant = tenant.clone();
        handles.push(tokio::spawn(async move {
            db.tx(move |c| Box::pin(async move { quotes::next_number(c, &tenant, 2026).await }))
                .await
                .unwrap()
        }));
    }
    let mut numbers = HashSet::new();
    for h in handles {
        assert!(numbers.insert(h.await.unwrap()));
    }
    assert_eq!(numbers.len(), 40);
    assert!(numbers.contains("ORC-2026-000001") && numbers.contains("ORC-2026-000040"));
}

async fn receipts_never_move_backwards(t: &TestDb) {
    let (tenant, channel) = seed_tenant(&t.db, "loja-r").await;
    ingest(&t.db, &tenant, &channel, "5511988887777", "wamid.in", "oi")
        .await
        .unwrap();
    let conv = conversations::list(&t.db, &tenant, None, 1)
        .await
        .unwrap()
        .remove(0);
    let (tn, cv, ct) = (tenant.clone(), conv.id.clone(), conv.contact_id.clone());
    let out =
        t.db.tx(move |c| {
            Box::pin(async move {
                let id = messages::insert_outbound(
                    c,
                    &messages::NewOutbound {
                        tenant_id: &tn,
                        conversation_id: &cv,
                        contact_id: &ct,
                        kind: "text",
                        body: "olá",
                        payload_json: "{}",
                        sent_by: None,
                        request_id: None,
                    },
                )
                .await?;
                messages::mark_sent(c, &tn, &id, "wamid.out").await?;
                Ok(id)
            })
        })
        .await
        .unwrap();
    let mut c = t.db.write().acquire().await.unwrap();
    assert_eq!(
        messages::apply_receipt(&mut c, "wamid.out", "read", None, None)
            .await
            .unwrap(),
        Some(tenant.clone())
    );
    messages::apply_receipt(&mut c, "wamid.out", "delivered", None, None)
        .await
        .unwrap();
    assert_eq!(
        messages::by_id(&mut c, &tenant, &out).await.unwrap().status,
        "read"
    );
    messages::apply_receipt(&mut c, "wamid.out", "failed", Some(131047), Some("janela"))
        .await
        .unwrap();
    let m = messages::by_id(&mut c, &tenant, &out).await.unwrap();
    assert_eq!((m.status.as_str(), m.error_code), ("failed", Some(131047)));
    assert_eq!(
        messages::apply_receipt(&mut c, "wamid.unknown", "read", None, None)
            .await
            .unwrap(),
        None
    );
}

async fn tenant_isolation_in_queries(t: &TestDb) {
    let (a, ch_a) = seed_tenant(&t.db, "loja-x").await;
    let (b, _) = seed_tenant(&t.db, "loja-y").await;
    ingest(&t.db, &a, &ch_a, "5511977776666", "wamid.x", "oi")
        .await
        .unwrap();
    let conv = conversations::list(&t.db, &a, None, 1)
        .await
        .unwrap()
        .remove(0);
    assert!(
        conversations::get(&t.db, &b, &conv.id)
            .await
            .unwrap()
            .is_none(),
        "store B sees store A's conversation"
    );
    assert!(conversations::list(&t.db, &b, None, 10)
        .await
        .unwrap()
        .is_empty());
    assert!(messages::for_conversation(&t.db, &b, &conv.id, 10)
        .await
        .unwrap()
        .is_empty());
}

/// Both engines end with the same tables, columns, nullability and indexes.
#[tokio::test]
async fn both_engines_have_the_same_schema() {
    let Some(pg) = TestDb::new(Engine::Postgres).await else {
        return;
    };
    let lite = TestDb::new(Engine::Sqlite).await.unwrap();
    let a = migrate::describe_schema(&lite.db).await.unwrap();
    let b = migrate::describe_schema(&pg.db).await.unwrap();
    let only_lite: Vec<_> = a.iter().filter(|l| !b.contains(l)).collect();
    let only_pg: Vec<_> = b.iter().filter(|l| !a.contains(l)).collect();
    assert!(
        only_lite.is_empty() && only_pg.is_empty(),
        "only in SQLite: {only_lite:?}\nonly in PostgreSQL: {only_pg:?}"
    );
}

/// Every foreign key column has an index (leading column of some index, or the primary key).
#[tokio::test]
async fn every_foreign_key_is_indexed() {
    let lite = TestDb::new(Engine::Sqlite).await.unwrap();
    use sqlx::Row;
    let tables: Vec<String> = sqlx::query(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .fetch_all(lite.db.read())
    .await
    .unwrap()
    .iter()
    .map(|r| r.get::<String, _>(0))
    .collect();
    let mut missing = Vec::new();
    for t in tables {
        let fks: Vec<String> = sqlx::query("SELECT \"from\" FROM pragma_foreign_key_list($1)")
            .bind(&t)
            .fetch_all(lite.db.read())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<String, _>(0))
            .collect();
        let idx: Vec<String> = sqlx::query("SELECT name FROM pragma_index_list($1)")
            .bind(&t)
            .fetch_all(lite.db.read())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut leading = HashSet::new();
        for i in idx {
            if let Some(r) = sqlx::query("SELECT name FROM pragma_index_info($1) WHERE seqno = 0")
                .bind(&i)
                .fetch_optional(lite.db.read())
                .await
                .unwrap()
            {
                leading.insert(r.get::<String, _>(0));
            }
        }
        let pk: Vec<String> = sqlx::query("SELECT name FROM pragma_table_info($1) WHERE pk = 1")
            .bind(&t)
            .fetch_all(lite.db.read())
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        for fk in fks {
            if !leading.contains(&fk) && !pk.contains(&fk) {
                missing.push(format!("{t}.{fk}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "foreign keys without an index: {missing:?}"
    );
}
