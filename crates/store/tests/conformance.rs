//! The conformance suite: every scenario runs on a temporary SQLite file and on PostgreSQL
//! (when `ORCAZAP_TEST_POSTGRES_URL` is set; CI sets it and refuses to skip).

use std::collections::HashSet;

use domain::status::MessageStatus;
use store::inbound::{Delivery, DeliveryEvent};
use store::jobs::{self, NewJob};
use store::testing::TestDb;
use store::{conversations, messages, migrate, quotes, tenants, Db, Engine};

store::both_engines!(
    TestDb, worker_threads = 4;
    migrations_down_and_up_again,
    deliveries_batched_equal_one_by_one,
    inbound_is_idempotent_and_ordered,
    jobs_lease_retry_dead_requeue,
    jobs_same_contact_never_concurrent,
    jobs_lane_hands_over_its_next_send_in_the_same_commit,
    jobs_stores_take_turns,
    quote_numbers_unique_under_concurrency,
    quote_numbers_continue_after_earlier_ones,
    receipts_never_move_backwards,
    settings_version_moves_with_every_rule_and_template_write,
    outgoing_reads_message_conversation_and_channel_at_once,
    bot_conversation_channel_only_while_the_bot_answers,
    stored_words_read_back,
    templates_current_all_is_the_latest_of_each_kind,
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
    let reverted = migrate::down(&t.db, 100).await.unwrap();
    // Every migration has a down step, newest first, down to an empty schema.
    let all: Vec<i64> = (1..=migrate::latest_version()).rev().collect();
    assert_eq!(reverted, all);
    assert_eq!(
        migrate::MIGRATIONS.len() as i64,
        migrate::latest_version(),
        "versions are 1..=N without gaps"
    );
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
    db.tx(move |c| {
        Box::pin(async move {
            let now = store::now_ms();
            let rec = store::inbound::InboundRecord {
                tenant_id: &tenant,
                channel_id: &channel,
                wa_id: &wa_id,
                user_id: None,
                username: None,
                contact_name: "Cliente",
                provider_message_id: &wamid,
                kind: "text",
                body: &body,
                payload_json: "{}",
                provider_timestamp: now / 1000,
                received_at_ms: now,
                request_id: None,
            };
            Ok(store::inbound::record(c, &rec).await?.map(|r| r.message_id))
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
        jobs::list(&t.db, Some(jobs::JobStatus::Ready), 10)
            .await
            .unwrap()
            .len(),
        2,
        "one job per stored message, none for the duplicate"
    );
    // A late redelivery after the conversation closed opens nothing new and counts nothing.
    drop(c);
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
    let id =
        t.db.tx(move |c| {
            Box::pin(async move {
                let mut j = NewJob::new("test.kind", serde_json::json!({"n": 1}));
                j.max_attempts = 2;
                jobs::enqueue(c, &j).await
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
    let dead = jobs::list(&t.db, Some(jobs::JobStatus::Dead), 10)
        .await
        .unwrap();
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
    t.db.tx(move |c| {
        Box::pin(async move {
            let mut j = NewJob::new("later", serde_json::json!({}));
            j.run_at = Some(store::now_ms() + 60_000);
            jobs::enqueue(c, &j).await
        })
    })
    .await
    .unwrap();
    assert!(jobs::claim(&t.db, "w5", 60_000).await.unwrap().is_none());
    let stats = jobs::stats(&t.db).await.unwrap();
    assert!(stats.iter().any(|s| s.kind == "later" && s.ready == 1));
}

async fn jobs_same_contact_never_concurrent(t: &TestDb) {
    t.db.tx(move |c| {
        Box::pin(async move {
            for i in 0..3 {
                let mut j = NewJob::new("k", serde_json::json!({ "i": i }));
                j.serial_key = Some("contact-1".into());
                jobs::enqueue(c, &j).await?;
            }
            let mut j = NewJob::new("k", serde_json::json!({ "i": 99 }));
            j.serial_key = Some("contact-2".into());
            jobs::enqueue(c, &j).await?;
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

/// Issue 14 item 1: finishing a job may claim the next job of its lane in the same commit
/// (`jobs::claim_lane_next`), and only when the lane rule allows it: the oldest live job of
/// the lane, of the kind asked for, due, and nothing of the lane running under a live lease.
async fn jobs_lane_hands_over_its_next_send_in_the_same_commit(t: &TestDb) {
    let enqueue = |key: &'static str, kind: &'static str, run_at: Option<i64>| {
        t.db.tx(move |c| {
            Box::pin(async move {
                let mut j = NewJob::new(kind, serde_json::json!({}));
                j.serial_key = Some(key.into());
                j.run_at = run_at;
                jobs::enqueue(c, &j).await
            })
        })
    };
    // The step finishes and writes its reply: the reply is handed to the same worker.
    let step = enqueue("lane-1", "step", None).await.unwrap();
    let claimed = jobs::claim(&t.db, "w1", 60_000).await.unwrap().unwrap();
    assert_eq!(claimed.id, step);
    let (send_id, handed) =
        t.db.tx(move |c| {
            Box::pin(async move {
                let mut j = NewJob::new("send", serde_json::json!({}));
                j.serial_key = Some("lane-1".into());
                let send_id = jobs::enqueue(c, &j).await?;
                assert!(jobs::complete(c, &step, "w1").await?);
                let handed = jobs::claim_lane_next(c, "lane-1", "send", "w1", 60_000).await?;
                Ok((send_id, handed))
            })
        })
        .await
        .unwrap();
    let handed = handed.expect("the reply is handed over");
    assert_eq!(handed.id, send_id);
    assert_eq!(handed.status, jobs::JobStatus::Running);
    assert_eq!(handed.locked_by.as_deref(), Some("w1"));
    assert_eq!(handed.attempts, 1);
    // Nobody else can claim it, and the lane stays closed while it runs.
    enqueue("lane-1", "step", None).await.unwrap();
    assert!(jobs::claim(&t.db, "w2", 60_000).await.unwrap().is_none());
    assert!(jobs::mark_done(&t.db, &handed.id, "w1").await.unwrap());

    // An older job waits in the lane (the customer's next message): it goes first, so
    // nothing is handed over.
    let older = jobs::claim(&t.db, "w1", 60_000).await.unwrap().unwrap();
    let (older_id, waiting) = (
        older.id.clone(),
        enqueue("lane-1", "step", None).await.unwrap(),
    );
    let handed =
        t.db.tx(move |c| {
            Box::pin(async move {
                let mut j = NewJob::new("send", serde_json::json!({}));
                j.serial_key = Some("lane-1".into());
                jobs::enqueue(c, &j).await?;
                assert!(jobs::complete(c, &older_id, "w1").await?);
                jobs::claim_lane_next(c, "lane-1", "send", "w1", 60_000).await
            })
        })
        .await
        .unwrap();
    assert!(handed.is_none(), "{handed:?}");
    let next = jobs::claim(&t.db, "w2", 60_000).await.unwrap().unwrap();
    assert_eq!(
        next.id, waiting,
        "the waiting message runs before the reply"
    );

    // Another worker's job of the lane runs under a live lease: nothing is handed over.
    let busy =
        t.db.tx(|c| {
            Box::pin(async move { jobs::claim_lane_next(c, "lane-1", "send", "w1", 60_000).await })
        })
        .await
        .unwrap();
    assert!(busy.is_none(), "{busy:?}");

    // The lane's head is a send that is not due yet (a retry's backoff): it keeps waiting.
    enqueue("lane-2", "send", Some(store::now_ms() + 3_600_000))
        .await
        .unwrap();
    let not_due =
        t.db.tx(|c| {
            Box::pin(async move { jobs::claim_lane_next(c, "lane-2", "send", "w1", 60_000).await })
        })
        .await
        .unwrap();
    assert!(not_due.is_none(), "{not_due:?}");
}

/// Issue 14 item 3: a store with a backlog does not delay another store's replies. Store A
/// has 30 jobs queued before store B's one job; B's job is claimed among the first two
/// claims, and A's jobs still run in their order.
async fn jobs_stores_take_turns(t: &TestDb) {
    let (a, _) = seed_tenant(&t.db, "loja-fila").await;
    let (b, _) = seed_tenant(&t.db, "loja-vizinha").await;
    let enqueue_for = |tenant: String, n: usize| {
        t.db.tx(move |c| {
            Box::pin(async move {
                for i in 0..n {
                    let mut j = NewJob::new("k", serde_json::json!({ "i": i }));
                    j.tenant_id = Some(tenant.clone());
                    j.serial_key = Some(format!("{tenant}-contact-{i}"));
                    jobs::enqueue(c, &j).await?;
                }
                Ok(())
            })
        })
    };
    enqueue_for(a.clone(), 30).await.unwrap();
    enqueue_for(b.clone(), 1).await.unwrap();
    let turn = jobs::StoreTurn::default();
    let mut claimed = Vec::new();
    while let Some(j) = jobs::claim_next(&t.db, "w1", 60_000, &turn).await.unwrap() {
        claimed.push(j);
    }
    assert_eq!(claimed.len(), 31, "every job is claimed once");
    let b_at = claimed
        .iter()
        .position(|j| j.tenant_id.as_deref() == Some(b.as_str()))
        .expect("B's job is claimed");
    assert!(b_at < 2, "B's job waited behind {b_at} jobs of store A");
    let a_order: Vec<String> = claimed
        .iter()
        .filter(|j| j.tenant_id.as_deref() == Some(a.as_str()))
        .map(|j| j.payload_json.clone())
        .collect();
    let expected: Vec<String> = (0..30).map(|i| format!(r#"{{"i":{i}}}"#)).collect();
    assert_eq!(a_order, expected, "one store's jobs keep their order");
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

/// A store numbered before (the counter row, written by the code before PostgreSQL's
/// sequences) continues after its last number, on both engines; a year starts at 1; another store has its own count.
/// A rolled-back quote may leave a gap (PostgreSQL's sequence) but never a repeat.
async fn quote_numbers_continue_after_earlier_ones(t: &TestDb) {
    let (tenant, _) = seed_tenant(&t.db, "loja-n").await;
    let (other, _) = seed_tenant(&t.db, "loja-o").await;
    let next = |tenant: &str, year: i32| {
        let (db, tenant) = (t.db.clone(), tenant.to_string());
        async move {
            db.tx(move |c| Box::pin(async move { quotes::next_number(c, &tenant, year).await }))
                .await
                .unwrap()
        }
    };
    // The counter said 41: the next is 42.
    let (db, tid) = (t.db.clone(), tenant.clone());
    db.tx(move |c| {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO quote_counters (tenant_id, year, last_value) VALUES ($1, 2025, 41)",
            )
            .bind(&tid)
            .execute(&mut *c)
            .await?;
            Ok(())
        })
    })
    .await
    .unwrap();
    assert_eq!(next(&tenant, 2025).await, "ORC-2025-000042");
    assert_eq!(next(&other, 2025).await, "ORC-2025-000001");
    assert_eq!(next(&tenant, 2026).await, "ORC-2026-000001");
    // A transaction that took a number and rolled back.
    let (db, tid) = (t.db.clone(), tenant.clone());
    let refused: Result<String, store::StoreError> = db
        .tx(move |c| {
            Box::pin(async move {
                quotes::next_number(c, &tid, 2026).await?;
                Err(store::StoreError::NotFound)
            })
        })
        .await;
    assert!(refused.is_err());
    let after = next(&tenant, 2026).await;
    let n: i64 = after["ORC-2026-".len()..].parse().unwrap();
    match t.db.engine() {
        // The counter row rolled back with the transaction.
        Engine::Sqlite => assert_eq!(n, 2),
        // The sequence does not roll back: a gap, never the same number twice.
        Engine::Postgres => assert_eq!(n, 3),
    }
}

/// A script of webhook deliveries covering every outcome: new contacts, two messages of one
/// contact, a duplicate inside the same batch, an unknown channel, receipts (one of them
/// backwards), an ignored change, a returning contact without a profile name and a delivery
/// with two messages.
fn delivery_script(pnid: &str, tag: &str) -> Vec<Delivery> {
    use store::inbound::{DeliveredMessage, DeliveredStatus};
    let msg = |wa_id: &str, name: &str, wamid: &str, body: &str| {
        DeliveryEvent::Message(DeliveredMessage {
            phone_number_id: pnid.to_string(),
            wa_id: wa_id.to_string(),
            user_id: None,
            username: None,
            name: name.to_string(),
            wamid: format!("{tag}.{wamid}"),
            kind: "text".into(),
            body: body.to_string(),
            payload_json: "{}".into(),
            timestamp: 1_764_000_000,
        })
    };
    let status = |status: MessageStatus, error_code: Option<i64>| {
        DeliveryEvent::Status(DeliveredStatus {
            phone_number_id: pnid.to_string(),
            wamid: format!("{tag}.out"),
            status,
            error_code,
            error_message: error_code.map(|_| "fora da janela".to_string()),
        })
    };
    let unknown = DeliveryEvent::Message(DeliveredMessage {
        phone_number_id: "pn-desconhecido".into(),
        ..match msg("5511900000009", "X", "x", "oi") {
            DeliveryEvent::Message(m) => m,
            _ => unreachable!(),
        }
    });
    let events = vec![
        vec![msg("5511900000001", "Ana", "a1", "bom dia")],
        vec![msg("5511900000001", "Ana", "a2", "10 sacos de cimento")],
        vec![msg("5511900000001", "Ana", "a1", "bom dia")],
        vec![unknown],
        vec![
            status(MessageStatus::Delivered, None),
            status(MessageStatus::Sent, None),
            status(MessageStatus::Failed, Some(131047)),
        ],
        vec![DeliveryEvent::Ignored {
            phone_number_id: Some(pnid.to_string()),
        }],
        vec![msg("5511900000002", "", "b2", "e a areia?")],
        vec![
            msg("5511900000003", "Caio", "c1", "oi"),
            msg("5511900000003", "Caio", "c2", "2 m³ de areia"),
        ],
        vec![
            DeliveryEvent::Ignored {
                phone_number_id: None,
            },
            msg("5511900000004", "Duda", "d1", "tem tijolo?"),
        ],
    ];
    events
        .into_iter()
        .enumerate()
        .map(|(i, events)| Delivery {
            events,
            payload: format!("{{\"n\":{i}}}"),
            request_id: Some(format!("{tag}-{i}")),
        })
        .collect()
}

/// What a store's tables say after a script, without ids and clocks.
async fn delivery_snapshot(db: &Db, tenant: &str, tag: &str) -> Vec<String> {
    use sqlx::Row;
    let queries = [
        "SELECT 'contact ' || wa_id || ' ' || name FROM contacts WHERE tenant_id = $1 ORDER BY wa_id",
        "SELECT 'conversation ' || k.wa_id || ' ' || c.state || ' unread=' || CAST(c.unread AS TEXT)
           FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE c.tenant_id = $1 ORDER BY k.wa_id",
        "SELECT 'message ' || k.wa_id || ' ' || m.direction || ' ' || m.body || ' ' || m.status
           || ' code=' || COALESCE(CAST(m.error_code AS TEXT), '-') || ' ' || COALESCE(m.error_message, '-')
           || ' same-conversation=' || CAST(CASE WHEN m.conversation_id = c.id THEN 1 ELSE 0 END AS TEXT)
           FROM messages m JOIN contacts k ON k.id = m.contact_id JOIN conversations c ON c.contact_id = k.id
           WHERE m.tenant_id = $1 ORDER BY m.created_at, m.id",
        "SELECT 'job ' || j.kind || ' ' || k.wa_id || ' ' || j.status
           || ' payload-ok=' || CAST(CASE WHEN j.payload_json LIKE '%' || c.id || '%' THEN 1 ELSE 0 END AS TEXT)
           FROM jobs j JOIN contacts k ON k.id = j.serial_key JOIN conversations c ON c.contact_id = k.id
           WHERE j.tenant_id = $1 ORDER BY j.created_at, j.id",
    ];
    let mut out = Vec::new();
    for q in queries {
        for r in sqlx::query(q)
            .bind(tenant)
            .fetch_all(db.read())
            .await
            .unwrap()
        {
            out.push(r.try_get::<String, _>(0).unwrap());
        }
    }
    let events = sqlx::query(
        "SELECT outcome, COALESCE(phone_number_id, '-'),
                CASE WHEN tenant_id IS NULL THEN 'no-store' ELSE 'store' END
                  || CASE WHEN channel_id IS NULL THEN '' ELSE '+channel' END, payload
         FROM webhook_events WHERE request_id LIKE $1 ORDER BY request_id",
    )
    .bind(format!("{tag}-%"))
    .fetch_all(db.read())
    .await
    .unwrap();
    for r in events {
        let mut cols: Vec<String> = (0..4).map(|i| r.try_get::<String, _>(i).unwrap()).collect();
        if cols[1] == format!("pn-{tag}") {
            cols[1] = "own-channel".into();
        }
        out.push(format!("event {}", cols.join(" ")));
    }
    out
}

/// Runs the script of [`delivery_script`] for a new store `slug`, after a first message from a
/// returning customer and one outbound reply; batched or one delivery at a time. Returns the
/// outcomes and the snapshot of the store.
async fn run_delivery_script(
    db: &Db,
    slug: &str,
    batched: bool,
) -> (Vec<Vec<store::inbound::EventOutcome>>, Vec<String>) {
    use store::inbound::{record_deliveries, record_delivery, EventOutcome::*};
    let (tenant, _) = seed_tenant(db, slug).await;
    let pnid = format!("pn-{slug}");
    let first = Delivery {
        events: vec![DeliveryEvent::Message(store::inbound::DeliveredMessage {
            phone_number_id: pnid.clone(),
            wa_id: "5511900000002".into(),
            user_id: None,
            username: None,
            name: "Bia".into(),
            wamid: format!("{slug}.b1"),
            kind: "text".into(),
            body: "oi".into(),
            payload_json: "{}".into(),
            timestamp: 1_764_000_000,
        })],
        payload: "{}".into(),
        request_id: Some(format!("{slug}-pre")),
    };
    assert_eq!(record_delivery(db, first).await.unwrap(), vec![Accepted]);
    let conv = conversations::list(db, &tenant, None, 1)
        .await
        .unwrap()
        .remove(0);
    sent_reply(
        db,
        &tenant,
        &conv.id,
        &conv.contact_id,
        &format!("{slug}.out"),
    )
    .await;
    let script = delivery_script(&pnid, slug);
    let outcomes = if batched {
        record_deliveries(db, script).await.unwrap()
    } else {
        let mut all = Vec::new();
        for d in script {
            all.push(record_delivery(db, d).await.unwrap());
        }
        all
    };
    (outcomes, delivery_snapshot(db, &tenant, slug).await)
}

async fn deliveries_batched_equal_one_by_one(t: &TestDb) {
    use store::inbound::EventOutcome::*;
    let mut snapshots = Vec::new();
    for (slug, batched) in [("loja-lote", true), ("loja-um", false)] {
        let (outcomes, snapshot) = run_delivery_script(&t.db, slug, batched).await;
        assert_eq!(
            outcomes,
            vec![
                vec![Accepted],
                vec![Accepted],
                vec![Duplicate],
                vec![UnknownChannel],
                vec![Status, Status, Status],
                vec![Ignored],
                vec![Accepted],
                vec![Accepted, Accepted],
                vec![Ignored, Accepted],
            ],
            "{slug}"
        );
        snapshots.push(snapshot);
    }
    let batched = &snapshots[0];
    assert_eq!(
        batched, &snapshots[1],
        "a batch stores exactly what one-by-one stores"
    );
    let expected_lines = [
        "contact 5511900000001 Ana",
        "contact 5511900000002 Bia",
        "contact 5511900000003 Caio",
        "contact 5511900000004 Duda",
        "conversation 5511900000001 INBOUND unread=2",
        "conversation 5511900000002 INBOUND unread=2",
        "conversation 5511900000003 INBOUND unread=2",
        "message 5511900000001 in 10 sacos de cimento received code=- - same-conversation=1",
        "message 5511900000002 out olá failed code=131047 fora da janela same-conversation=1",
        "job conversation.advance 5511900000003 ready payload-ok=1",
        "event accepted own-channel store+channel {\"n\":8}",
        "event duplicate own-channel store+channel {\"n\":2}",
        "event unknown_channel pn-desconhecido no-store {\"n\":3}",
        "event status own-channel no-store {\"n\":4}",
        "event ignored own-channel no-store {\"n\":5}",
    ];
    for line in expected_lines {
        assert!(
            batched.iter().any(|l| l == line),
            "missing {line:?} in {batched:#?}"
        );
    }
    let count = |prefix: &str| batched.iter().filter(|l| l.starts_with(prefix)).count();
    // Ana 2, Bia 2 (one before the script), Caio 2, Duda 1, plus the outbound reply.
    assert_eq!(count("message "), 8, "{batched:#?}");
    assert_eq!(count("job "), 7, "{batched:#?}");
    // The returning customer's first message and deliveries 0, 1, 6, 7 and 8.
    assert_eq!(count("event accepted"), 6, "{batched:#?}");
}

/// Stores an outbound text in the conversation and marks it sent with Meta's id `wamid`.
async fn sent_reply(
    db: &Db,
    tenant: &str,
    conversation_id: &str,
    contact_id: &str,
    wamid: &str,
) -> String {
    let (tn, cv, ct, wamid) = (
        tenant.to_string(),
        conversation_id.to_string(),
        contact_id.to_string(),
        wamid.to_string(),
    );
    db.tx(move |c| {
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
            messages::mark_sent(c, &tn, &id, &wamid).await?;
            Ok(id)
        })
    })
    .await
    .unwrap()
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
    let out = sent_reply(&t.db, &tenant, &conv.id, &conv.contact_id, "wamid.out").await;
    let mut c = t.db.write().acquire().await.unwrap();
    assert_eq!(
        messages::apply_receipt(&mut c, "wamid.out", MessageStatus::Read, None, None)
            .await
            .unwrap(),
        Some(tenant.clone())
    );
    messages::apply_receipt(&mut c, "wamid.out", MessageStatus::Delivered, None, None)
        .await
        .unwrap();
    assert_eq!(
        messages::by_id(&mut c, &tenant, &out).await.unwrap().status,
        "read"
    );
    messages::apply_receipt(
        &mut c,
        "wamid.out",
        MessageStatus::Failed,
        Some(131047),
        Some("janela"),
    )
    .await
    .unwrap();
    let m = messages::by_id(&mut c, &tenant, &out).await.unwrap();
    assert_eq!((m.status.as_str(), m.error_code), ("failed", Some(131047)));
    assert_eq!(
        messages::apply_receipt(&mut c, "wamid.unknown", MessageStatus::Read, None, None)
            .await
            .unwrap(),
        None
    );
}

/// Rows written as they always have been (through each engine's own path: PostgreSQL's
/// function, SQLite's statements) read back into the enums and the inbound-content type;
/// a word that names no variant is a decode error, never a silent default.
async fn stored_words_read_back(t: &TestDb) {
    use domain::conversation::State;
    use domain::inbound::InboundContent;
    use domain::status::MessageDirection;
    use store::inbound::DeliveredMessage;
    let (tenant, _channel) = seed_tenant(&t.db, "loja-w").await;
    let msg = |wamid: &str, kind: &str, body: &str, payload_json: &str| {
        DeliveryEvent::Message(DeliveredMessage {
            phone_number_id: "pn-loja-w".into(),
            wa_id: "5511977776666".into(),
            user_id: None,
            username: None,
            name: "Bia".into(),
            wamid: wamid.into(),
            kind: kind.into(),
            body: body.into(),
            payload_json: payload_json.into(),
            timestamp: 1_764_000_000,
        })
    };
    let delivery = Delivery {
        events: vec![
            msg("w.1", "button", "Confirmar", r#"{"id":"quote_accept"}"#),
            msg(
                "w.2",
                "location",
                "Obra - Rua A, 10",
                r#"{"latitude":"-23.5","longitude":"-46.6"}"#,
            ),
            msg("w.3", "video", "", "{}"),
        ],
        payload: "{}".into(),
        request_id: None,
    };
    store::inbound::record_delivery(&t.db, delivery)
        .await
        .unwrap();
    let conv = conversations::list(&t.db, &tenant, None, 1)
        .await
        .unwrap()
        .remove(0);
    assert_eq!(conv.state, State::Inbound);
    let mut c = t.db.write().acquire().await.unwrap();
    let mut rows = messages::unprocessed_inbound(&mut c, &tenant, &conv.id)
        .await
        .unwrap();
    rows.sort_by(|a, b| a.provider_message_id.cmp(&b.provider_message_id));
    let got: Vec<_> = rows
        .iter()
        .map(|m| (m.direction, m.status, m.inbound_content()))
        .collect();
    let inbound = |content| (MessageDirection::In, MessageStatus::Received, content);
    assert_eq!(
        got,
        vec![
            inbound(InboundContent::Button {
                id: "quote_accept".into(),
                title: "Confirmar".into(),
                // Stored without Meta's context.id: reads as none.
                context_id: String::new(),
            }),
            inbound(InboundContent::Location {
                place: "Obra - Rua A, 10".into(),
                latitude: "-23.5".into(),
                longitude: "-46.6".into()
            }),
            inbound(InboundContent::Unsupported {
                meta_type: "video".into(),
                error_code: None
            }),
        ]
    );
    sqlx::query("UPDATE messages SET status = 'bogus' WHERE provider_message_id = 'w.1'")
        .execute(&mut *c)
        .await
        .unwrap();
    let err = messages::by_id(&mut c, &tenant, &rows[0].id)
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("unknown message status \"bogus\""),
        "{err}"
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

/// PostgreSQL stores deliveries with its PL/pgSQL function, SQLite with the Rust path: the
/// same script must leave the same rows on both, batched and one by one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_leave_the_same_rows_on_both_engines() {
    let mut per_engine = Vec::new();
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let Some(t) = TestDb::new(engine).await else {
            continue;
        };
        let batched = run_delivery_script(&t.db, "loja-lote", true).await;
        let one_by_one = run_delivery_script(&t.db, "loja-um", false).await;
        per_engine.push((engine, batched, one_by_one));
    }
    let Some((_, lite_batched, lite_single)) = per_engine.first() else {
        panic!("SQLite is always available")
    };
    for (engine, batched, single) in &per_engine[1..] {
        assert_eq!(
            batched, lite_batched,
            "{engine:?} batched differs from SQLite"
        );
        assert_eq!(
            single, lite_single,
            "{engine:?} one by one differs from SQLite"
        );
    }
}

/// Deliveries waiting together share one transaction; one the database refuses (PostgreSQL
/// text cannot hold NUL) fails alone and the others of its batch are stored.
#[tokio::test]
async fn recorder_shares_transactions_and_isolates_a_refused_delivery() {
    use store::inbound::{DeliveredMessage, EventOutcome};
    use store::recorder::Recorder;
    for engine in [Engine::Sqlite, Engine::Postgres] {
        let Some(t) = TestDb::new(engine).await else {
            continue;
        };
        seed_tenant(&t.db, "loja-fila").await;
        let recorder = Recorder::start(t.db.clone());
        // Delivery 7 is one PostgreSQL refuses and SQLite stores: a Meta id too long for a
        // B-tree entry (PostgreSQL's limit is ~2.7 kB; pseudo-random hex so compression cannot
        // bring it under). (It used to be a NUL in the body; NUL is now replaced before
        // storing, on both engines: `storable_deliveries`.)
        let unindexable = {
            let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
            (0..20_000)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    char::from_digit((x % 16) as u32, 16).unwrap_or('0')
                })
                .collect::<String>()
        };
        let delivery = |i: usize| Delivery {
            events: vec![DeliveryEvent::Message(DeliveredMessage {
                phone_number_id: "pn-loja-fila".into(),
                wa_id: format!("55119000001{i:02}"),
                user_id: None,
                username: None,
                name: "Cliente".into(),
                wamid: if i == 7 {
                    format!("fila.7.{unindexable}")
                } else {
                    format!("fila.{i}")
                },
                kind: "text".into(),
                body: format!("pedido {i}"),
                payload_json: "{}".into(),
                timestamp: 1_764_000_000,
            })],
            payload: "{}".into(),
            request_id: Some(format!("fila-{i}")),
        };
        // This test runs on a current-thread runtime: all twenty are queued before the
        // committer first runs, so they reach it together.
        let results =
            futures_util::future::join_all((0..20).map(|i| recorder.record(delivery(i)))).await;
        for (i, r) in results.iter().enumerate() {
            match (i, engine) {
                (7, Engine::Postgres) => {
                    let e = r.as_ref().expect_err("unindexable id stored");
                    // The log line says what was being done, then the database's reason; a
                    // refusal that fails the same way every time is not worth retrying.
                    let line = store::error::report(e);
                    assert!(
                        line.starts_with("recording webhook delivery: ") && line.contains("index"),
                        "{line}"
                    );
                    assert!(!e.is_transient(), "{line}");
                }
                _ => assert_eq!(
                    r.as_ref().unwrap(),
                    &vec![EventOutcome::Accepted],
                    "delivery {i}"
                ),
            }
        }
        let (batches, split) = recorder.batch_counts();
        assert!(batches >= 1, "no shared transaction ran");
        let expected_split = u64::from(engine == Engine::Postgres);
        assert_eq!(split, expected_split, "{engine:?}");
    }
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

/// `templates::current_all` (one query, the worker's context load) answers what `current`
/// answers kind by kind: the latest version of each kind, only the store's own.
async fn templates_current_all_is_the_latest_of_each_kind(t: &TestDb) {
    let (a, _) = seed_tenant(&t.db, "modelos-a").await;
    let (b, _) = seed_tenant(&t.db, "modelos-b").await;
    let (a2, b2) = (a.clone(), b.clone());
    t.db.tx(move |c| {
        Box::pin(async move {
            store::templates::save(c, &a2, "quote", "orçamento v1", None).await?;
            store::templates::save(c, &a2, "quote", "orçamento v2", None).await?;
            store::templates::save(c, &a2, "declined", "recusado v1", None).await?;
            store::templates::save(c, &b2, "quote", "da outra loja", None).await?;
            Ok(())
        })
    })
    .await
    .unwrap();
    let mut c = t.db.read().acquire().await.unwrap();
    let all = store::templates::current_all(&mut c, &a).await.unwrap();
    assert_eq!(
        all,
        vec![
            ("declined".to_string(), "recusado v1".to_string()),
            ("quote".to_string(), "orçamento v2".to_string()),
        ]
    );
    for (kind, source) in &all {
        assert_eq!(
            store::templates::current(&mut c, &a, kind)
                .await
                .unwrap()
                .as_ref(),
            Some(source)
        );
    }
    assert_eq!(
        store::templates::current_all(&mut c, &b).await.unwrap(),
        vec![("quote".to_string(), "da outra loja".to_string())]
    );
}

/// Migration 0012: every write to a store's rules or templates (insert, update, delete, each
/// table) bumps that store's `settings_version` and no other store's — the worker's cached
/// rules and templates are current exactly while it is unchanged.
async fn settings_version_moves_with_every_rule_and_template_write(t: &TestDb) {
    use store::rules::{self, FreightRuleRow, FreightZoneRow, PricingRulesRow};
    let (a, _) = seed_tenant(&t.db, "versao-a").await;
    let (b, _) = seed_tenant(&t.db, "versao-b").await;
    let b_before = settings_version(&t.db, &b).await;
    let freight = FreightRuleRow {
        id: String::new(),
        position: 1,
        label: "Centro".into(),
        zone: FreightZoneRow::Bairros(vec!["Centro".into()]),
        base_cents: 1500,
        per_kg_cents: 0,
        free_above_cents: None,
    };
    let pricing = |pix| PricingRulesRow {
        pix_discount_bp: pix,
        quote_validity_hours: 48,
        ..Default::default()
    };

    let v = settings_version(&t.db, &a).await;
    let (a2, p) = (a.clone(), pricing(300));
    t.db.tx(move |c| Box::pin(async move { rules::save_pricing(c, &a2, &p).await }))
        .await
        .unwrap();
    let v = bumped(&t.db, &a, v, "pricing insert").await;
    let (a2, p) = (a.clone(), pricing(500));
    t.db.tx(move |c| Box::pin(async move { rules::save_pricing(c, &a2, &p).await }))
        .await
        .unwrap();
    let v = bumped(&t.db, &a, v, "pricing update").await;

    let a2 = a.clone();
    let vol =
        t.db.tx(move |c| {
            Box::pin(async move {
                rules::add_volume_discount(c, &a2, Some("CIM-50"), 10_000, 200).await
            })
        })
        .await
        .unwrap();
    let v = bumped(&t.db, &a, v, "volume insert").await;
    let a2 = a.clone();
    t.db.tx(move |c| Box::pin(async move { rules::delete_volume_discount(c, &a2, &vol).await }))
        .await
        .unwrap();
    let v = bumped(&t.db, &a, v, "volume delete").await;

    let (a2, f) = (a.clone(), freight.clone());
    let fr =
        t.db.tx(move |c| Box::pin(async move { rules::add_freight_rule(c, &a2, &f).await }))
            .await
            .unwrap();
    let v = bumped(&t.db, &a, v, "freight insert").await;
    let (a2, f, id) = (
        a.clone(),
        FreightRuleRow {
            base_cents: 2500,
            ..freight
        },
        fr.clone(),
    );
    t.db.tx(move |c| Box::pin(async move { rules::update_freight_rule(c, &a2, &id, &f).await }))
        .await
        .unwrap();
    let v = bumped(&t.db, &a, v, "freight update").await;
    let (a2, id) = (a.clone(), fr.clone());
    t.db.tx(move |c| Box::pin(async move { rules::set_freight_position(c, &a2, &id, 2).await }))
        .await
        .unwrap();
    let v = bumped(&t.db, &a, v, "freight move").await;
    let a2 = a.clone();
    t.db.tx(move |c| Box::pin(async move { rules::delete_freight_rule(c, &a2, &fr).await }))
        .await
        .unwrap();
    let v = bumped(&t.db, &a, v, "freight delete").await;

    let a2 = a.clone();
    t.db.tx(move |c| {
        Box::pin(
            async move { store::templates::save(c, &a2, "quote", "orçamento novo", None).await },
        )
    })
    .await
    .unwrap();
    let v = bumped(&t.db, &a, v, "template insert").await;
    // A template row changed in place (no code path does it today; the trigger covers it).
    sqlx::query("UPDATE message_templates SET source = 'editado' WHERE tenant_id = $1")
        .bind(&a)
        .execute(t.db.write())
        .await
        .unwrap();
    bumped(&t.db, &a, v, "template update").await;

    assert_eq!(
        settings_version(&t.db, &b).await,
        b_before,
        "store A's writes moved store B's version"
    );
}

async fn settings_version(db: &Db, tenant: &str) -> i64 {
    tenants::by_id(db, tenant)
        .await
        .unwrap()
        .unwrap()
        .settings_version
}

/// Asserts the store's version moved past `before` (after `what`); returns it.
async fn bumped(db: &Db, tenant: &str, before: i64, what: &str) -> i64 {
    let now = settings_version(db, tenant).await;
    assert!(now > before, "{what}: settings_version {before} → {now}");
    now
}

/// The send job's one read (`store::outgoing::load`) answers what the three reads it
/// replaced answer — message, its conversation's window, the conversation's channel — and a
/// missing message (or another store's) is `NotFound`.
async fn outgoing_reads_message_conversation_and_channel_at_once(t: &TestDb) {
    let (tenant, channel) = seed_tenant(&t.db, "saida").await;
    let (other, _) = seed_tenant(&t.db, "saida-b").await;
    ingest(
        &t.db,
        &tenant,
        &channel,
        "5511977776666",
        "wamid.saida",
        "oi",
    )
    .await;
    let conv = conversations::list(&t.db, &tenant, None, 10)
        .await
        .unwrap()
        .remove(0);
    let (tn, cv, ct) = (tenant.clone(), conv.id.clone(), conv.contact_id.clone());
    let id =
        t.db.tx(move |c| {
            Box::pin(async move {
                messages::insert_outbound(
                    c,
                    &messages::NewOutbound {
                        tenant_id: &tn,
                        conversation_id: &cv,
                        contact_id: &ct,
                        kind: "text",
                        body: "olá",
                        payload_json: "{\"x\":1}",
                        sent_by: None,
                        request_id: None,
                    },
                )
                .await
            })
        })
        .await
        .unwrap();
    let out = store::outgoing::load(&t.db, &tenant, &id).await.unwrap();
    let ch = store::channels::by_id(&t.db, &tenant, &channel)
        .await
        .unwrap()
        .unwrap();
    let conv = conversations::get(&t.db, &tenant, &conv.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(out.id, id);
    assert_eq!(out.conversation_id, conv.id);
    assert_eq!(out.status, MessageStatus::Pending);
    assert_eq!(out.payload_json, "{\"x\":1}");
    assert_eq!(out.window_expires_at, conv.window_expires_at);
    assert!(out.window_expires_at.is_some());
    assert_eq!(out.channel_id, ch.id);
    assert_eq!(out.phone_number_id, ch.phone_number_id);
    assert_eq!(out.access_token_enc, ch.access_token_enc);
    assert_eq!(out.last_error_code, ch.last_error_code);
    assert!(matches!(
        store::outgoing::load(&t.db, &other, &id).await,
        Err(store::StoreError::NotFound)
    ));
    assert!(matches!(
        store::outgoing::load(&t.db, &tenant, "no-such-message").await,
        Err(store::StoreError::NotFound)
    ));
}

/// The read receipt's one read (`channels::of_bot_conversation`): the conversation's channel
/// while the bot answers it; nothing once a person took it over or it closed, nothing for
/// another store.
async fn bot_conversation_channel_only_while_the_bot_answers(t: &TestDb) {
    let (tenant, channel) = seed_tenant(&t.db, "recibo").await;
    let (other, _) = seed_tenant(&t.db, "recibo-b").await;
    ingest(
        &t.db,
        &tenant,
        &channel,
        "5511955554444",
        "wamid.recibo",
        "oi",
    )
    .await;
    let conv = conversations::list(&t.db, &tenant, None, 10)
        .await
        .unwrap()
        .remove(0);
    let found = store::channels::of_bot_conversation(&t.db, &tenant, &conv.id)
        .await
        .unwrap()
        .expect("the bot answers a new conversation");
    assert_eq!(found.id, channel);
    assert_eq!(found.phone_number_id, "pn-recibo");
    assert!(
        store::channels::of_bot_conversation(&t.db, &other, &conv.id)
            .await
            .unwrap()
            .is_none(),
        "another store's id reads nothing"
    );
    // Taken over by a person: no receipt from the bot.
    let (tn, cv) = (tenant.clone(), conv.id.clone());
    t.db.tx(move |c| {
        Box::pin(async move {
            let u = store::users::create(
                c,
                &tn,
                "pessoa@recibo.test",
                "Pessoa",
                "x",
                store::users::Role::Owner,
            )
            .await?;
            conversations::set_taken_over(c, &tn, &cv, Some(&u.id)).await
        })
    })
    .await
    .unwrap();
    assert!(
        store::channels::of_bot_conversation(&t.db, &tenant, &conv.id)
            .await
            .unwrap()
            .is_none()
    );
    // Handed back: the bot answers again; then closed: nothing.
    let (tn, cv) = (tenant.clone(), conv.id.clone());
    t.db.tx(move |c| {
        Box::pin(async move { conversations::set_taken_over(c, &tn, &cv, None).await })
    })
    .await
    .unwrap();
    assert!(
        store::channels::of_bot_conversation(&t.db, &tenant, &conv.id)
            .await
            .unwrap()
            .is_some()
    );
    let (tn, cv) = (tenant.clone(), conv.id.clone());
    t.db.tx(move |c| {
        Box::pin(async move {
            conversations::save_state(c, &tn, &cv, domain::conversation::State::Lost, "{}", None)
                .await
        })
    })
    .await
    .unwrap();
    assert!(
        store::channels::of_bot_conversation(&t.db, &tenant, &conv.id)
            .await
            .unwrap()
            .is_none()
    );
}

/// The hot path's statements are prepared once per connection and reused (sqlx's statement
/// cache, on by default for `sqlx::query`): after many claims, completions and send reads on
/// one PostgreSQL connection, each statement is one named prepared statement of that session
/// (`pg_prepared_statements` lists named ones only; an unprepared or one-shot statement would
/// not be there, a re-prepared one would be there more than once).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_hot_path_statements_are_prepared_once() {
    let Some(t) = TestDb::new(Engine::Postgres).await else {
        return;
    };
    let mut cfg = store::DbConfig::new(&t.url);
    cfg.max_connections = 1;
    let db = Db::connect(&cfg).await.unwrap();
    let (tenant, channel) = seed_tenant(&db, "preparadas").await;
    for i in 0..6 {
        let wamid = format!("wamid.prep{i}");
        ingest(
            &db,
            &tenant,
            &channel,
            &format!("551190000{i:04}"),
            &wamid,
            "oi",
        )
        .await;
        let job = jobs::claim(&db, "w-prep", 60_000).await.unwrap().unwrap();
        assert!(jobs::mark_done(&db, &job.id, "w-prep").await.unwrap());
        let _ = store::outgoing::load(&db, &tenant, "no-such-message").await;
    }
    let count = |prefix: &'static str| {
        let db = db.clone();
        async move {
            let row = sqlx::query(
                "SELECT CAST(COUNT(*) AS BIGINT) FROM pg_prepared_statements WHERE statement LIKE $1",
            )
            .bind(format!("{prefix}%"))
            .fetch_one(db.write())
            .await
            .unwrap();
            sqlx::Row::get::<i64, _>(&row, 0)
        }
    };
    assert_eq!(
        count("UPDATE jobs SET status = 'running'").await,
        1,
        "the claim"
    );
    assert_eq!(
        count("UPDATE jobs SET status = 'done'").await,
        1,
        "the completion"
    );
    assert_eq!(
        count("SELECT m.id, m.conversation_id").await,
        1,
        "the send's read"
    );
}
