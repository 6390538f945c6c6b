//! Operations on real data made by the real pipeline, on SQLite and PostgreSQL: backups
//! (create, verify, corruption detection, restore), secret rotation, LGPD export/erase and
//! webhook payload retention.

mod common;

use std::path::{Path, PathBuf};

use common::{text_webhook, TestApp};
use orcazap::backup;
use store::testing::TestDb;

testkit::both_engines!(
    TestApp;
    backup_verifies_and_restores_with_equal_counts,
    corrupted_or_truncated_backup_is_refused,
    rotation_moves_every_token_to_the_new_key,
    contact_export_and_erase,
    old_webhook_payloads_are_purged,
    scheduled_backup_runs_and_keeps_the_newest,
    worker_housekeeping_applies_the_retention_setting,
);

const QUOTE_TEXT: &str = "bom dia, preciso de 10 sacos de cimento e 2 metros de areia média, entrega amanhã no Grajaú, pago no pix";

/// Two customers: one with a full quote, one with a greeting.
async fn make_traffic(app: &TestApp) {
    app.webhook(&text_webhook("5511922220000", "wamid.B1", QUOTE_TEXT))
        .await;
    app.webhook(&text_webhook("5511933330000", "wamid.B2", "oi, bom dia"))
        .await;
    app.drain().await;
    assert!(app.count("SELECT COUNT(*) FROM quotes").await >= 1);
}

fn temp_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("orcazap-ops-{}", store::new_id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn server_url(app: &TestApp) -> Option<String> {
    match app.db.engine() {
        store::Engine::Postgres => store::testing::postgres_admin_url(),
        store::Engine::Sqlite => None,
    }
}

async fn make_backup(app: &TestApp, dir: &Path) -> (PathBuf, backup::Manifest) {
    let file = dir.join("b.data");
    let m = backup::create(&app.db, &app.cfg.database_url, &file)
        .await
        .expect("backup created");
    (file, m)
}

async fn backup_verifies_and_restores_with_equal_counts(app: &TestApp) {
    make_traffic(app).await;
    let dir = temp_dir();
    let (file, m) = make_backup(app, &dir).await;
    assert_eq!(m.engine, app.db.engine().name());
    assert_eq!(m.schema_version, store::migrate::latest_version());
    let live = store::backup::inspect(&app.db).await.unwrap();
    assert_eq!(m.row_counts, live.row_counts, "manifest = live data");
    assert!(m.row_counts["messages"] >= 4, "{:?}", m.row_counts);
    assert!(backup::create(&app.db, &app.cfg.database_url, &file)
        .await
        .is_err());

    let v = backup::verify(&file, server_url(app).as_deref())
        .await
        .expect("a good backup verifies");
    assert_eq!(v.rows, m.row_counts.values().sum::<i64>());

    // Restore into a fresh, empty database and compare counts with the source.
    let target = TestDb::empty(app.db.engine()).await.unwrap();
    target.db.close().await;
    let url = match app.db.engine() {
        store::Engine::Sqlite => format!("sqlite://{}", dir.join("restored.db").display()),
        store::Engine::Postgres => target.url.clone(),
    };
    backup::restore(&file, &url, false)
        .await
        .expect("restore works");
    let restored = store::Db::connect(&store::DbConfig::new(&url))
        .await
        .unwrap();
    let after = store::backup::inspect(&restored).await.unwrap();
    assert_eq!(after.row_counts, live.row_counts);
    assert!(after.problems.is_empty(), "{:?}", after.problems);
    restored.close().await;
    // A second restore onto the now non-empty database needs --force.
    let err = backup::restore(&file, &url, false).await.unwrap_err();
    assert!(format!("{err:#}").contains("--force"), "{err:#}");
    backup::restore(&file, &url, true)
        .await
        .expect("forced restore replaces the data");
    std::fs::remove_dir_all(&dir).unwrap();
}

async fn corrupted_or_truncated_backup_is_refused(app: &TestApp) {
    make_traffic(app).await;
    let dir = temp_dir();
    let (file, _) = make_backup(app, &dir).await;
    let server = server_url(app);
    let good = std::fs::read(&file).unwrap();

    // Truncated.
    std::fs::write(&file, &good[..good.len() / 2]).unwrap();
    let err = backup::verify(&file, server.as_deref()).await.unwrap_err();
    assert!(format!("{err:#}").contains("CORROMPIDO"), "{err:#}");
    let err = backup::restore(&file, "sqlite:///nonexistent/x.db", true)
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("CORROMPIDO"), "{err:#}");

    // Same size, one byte flipped.
    let mut bad = good.clone();
    let at = bad.len() / 3;
    bad[at] ^= 0x40;
    std::fs::write(&file, &bad).unwrap();
    let err = backup::verify(&file, server.as_deref()).await.unwrap_err();
    assert!(format!("{err:#}").contains("sha256"), "{err:#}");

    // Intact data but a manifest that disagrees: the restored counts catch it.
    std::fs::write(&file, &good).unwrap();
    let mp = backup::manifest_path(&file);
    let mut m: backup::Manifest =
        serde_json::from_str(&std::fs::read_to_string(&mp).unwrap()).unwrap();
    *m.row_counts.get_mut("messages").unwrap() += 1;
    std::fs::write(&mp, serde_json::to_string(&m).unwrap()).unwrap();
    let err = backup::verify(&file, server.as_deref()).await.unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("REPROVADO") && msg.contains("messages"),
        "{msg}"
    );

    // Missing manifest.
    std::fs::remove_file(&mp).unwrap();
    assert!(backup::verify(&file, server.as_deref()).await.is_err());
    std::fs::remove_dir_all(&dir).unwrap();
}

async fn rotation_moves_every_token_to_the_new_key(app: &TestApp) {
    use store::crypto::{KeyId, Origin, TokenCipher};
    const A: &[u8] = b"key-A-0123456789abcdef0123456789";
    const B: &[u8] = b"key-B-0123456789abcdef0123456789";
    // The configurations the documented procedure produces, in order: A; B with A as old;
    // B alone (after the old key is removed).
    let a = TokenCipher::new(A, &[]);
    let ab = TokenCipher::new(B, &[A]);
    let b_only = TokenCipher::new(B, &[]);
    let t = app.demo_tenant().await;
    // Every channel of the database on key A: the demo one and a second store's.
    let tid = t.id.clone();
    let enc = a.encrypt("EAAG-token-second");
    app.db
        .tx(move |c| {
            Box::pin(async move {
                store::channels::create(c, &tid, "100000000000099", "", "", Some(&enc), 1).await?;
                Ok(())
            })
        })
        .await
        .unwrap();
    for ch in store::channels::for_tenant(&app.db, &t.id).await.unwrap() {
        let (tid, id) = (ch.tenant_id.clone(), ch.id.clone());
        let plain = if ch.phone_number_id == "100000000000099" {
            "EAAG-token-second".to_string()
        } else {
            common::ACCESS_TOKEN.to_string()
        };
        let enc = a.encrypt(&plain);
        app.db
            .tx(move |c| {
                Box::pin(async move { store::channels::set_token(c, &tid, &id, &enc, 1).await })
            })
            .await
            .unwrap();
    }
    // B alone cannot read yet; a rotation with B only must refuse and change nothing.
    assert!(orcazap::secrets::rotate(&app.db, &b_only, "test")
        .await
        .is_err());

    let r = orcazap::secrets::rotate(&app.db, &ab, "test")
        .await
        .unwrap();
    assert_eq!(
        (r.rotated, r.already_current, r.key_id),
        (2, 0, KeyId::of_secret(B))
    );
    let mut read = Vec::new();
    for ch in store::channels::for_tenant(&app.db, &t.id).await.unwrap() {
        let enc = ch.access_token_enc.unwrap();
        assert_eq!(
            TokenCipher::origin_of(&enc),
            Some(Origin::Key(KeyId::of_secret(B)))
        );
        assert_eq!(ch.key_version, KeyId::of_secret(B).as_i64());
        read.push(b_only.decrypt(&enc).expect("B alone reads every token"));
    }
    read.sort();
    assert_eq!(
        read,
        vec![common::ACCESS_TOKEN.to_string(), "EAAG-token-second".into()]
    );
    // Idempotent, and audit-logged once per channel.
    let again = orcazap::secrets::rotate(&app.db, &ab, "test")
        .await
        .unwrap();
    assert_eq!((again.rotated, again.already_current), (0, 2));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_log WHERE action = 'secrets.rotate'")
            .await,
        2
    );
}

async fn contact_export_and_erase(app: &TestApp) {
    make_traffic(app).await;
    let customer = "5511922220000";
    let json = orcazap::privacy::export(&app.db, "demo", customer)
        .await
        .unwrap();
    assert_eq!(json["contact"]["wa_id"], customer);
    assert_eq!(json["contact"]["name"], "Cliente Teste");
    let msgs = json["messages"].as_array().unwrap();
    assert!(msgs.len() >= 2, "{json}");
    assert!(msgs
        .iter()
        .any(|m| m["body"].as_str().unwrap_or("").contains("cimento")));
    let quotes = json["quotes"].as_array().unwrap();
    assert_eq!(quotes.len(), 1, "{json}");
    let snapshot_before = quotes[0]["snapshot_json"].as_str().unwrap().to_string();
    assert!(orcazap::privacy::export(&app.db, "demo", "5511900000001")
        .await
        .is_err());
    assert!(orcazap::privacy::export(&app.db, "demo", "not-a-phone")
        .await
        .is_err());

    let e = orcazap::privacy::erase(&app.db, "demo", customer)
        .await
        .unwrap();
    assert!(e.messages_deleted >= 2);
    assert_eq!(e.quotes_anonymised, 1);
    assert!(e.webhook_events_deleted >= 1);
    // Nothing carries the number or the words any more…
    for table_sql in [
        format!("SELECT COUNT(*) FROM contacts WHERE wa_id = '{customer}' OR name = 'Cliente Teste' AND wa_id LIKE '%22220000'"),
        format!("SELECT COUNT(*) FROM webhook_events WHERE payload LIKE '%{customer}%'"),
        format!("SELECT COUNT(*) FROM messages WHERE contact_id = '{}'", e.contact_id),
        format!("SELECT COUNT(*) FROM messages WHERE body = '{QUOTE_TEXT}'"),
    ] {
        assert_eq!(app.count(&table_sql).await, 0, "{table_sql}");
    }
    // …but the store's books keep the quote, with its priced snapshot.
    let t = app.demo_tenant().await;
    let q = store::quotes::list(&app.db, &t.id, None, None, None, None, 10)
        .await
        .unwrap();
    assert_eq!(q.len(), 1);
    let kept = store::quotes::get(&app.db, &t.id, &q[0].id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(kept.snapshot_json, snapshot_before);
    assert_eq!(kept.delivery, None);
    // The other customer is untouched.
    assert!(orcazap::privacy::export(&app.db, "demo", "5511933330000")
        .await
        .is_ok());
    assert!(orcazap::privacy::export(&app.db, "demo", customer)
        .await
        .is_err());
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_log WHERE action IN ('contact.erase', 'contact.export')"
        )
        .await,
        3
    );
    let audit = app
        .count(&format!(
            "SELECT COUNT(*) FROM audit_log WHERE before_json LIKE '%{customer}%' OR after_json LIKE '%{customer}%'"
        ))
        .await;
    assert_eq!(audit, 0, "the audit log holds the number masked only");
}

async fn old_webhook_payloads_are_purged(app: &TestApp) {
    make_traffic(app).await;
    let all = app.count("SELECT COUNT(*) FROM webhook_events").await;
    assert!(all >= 2);
    sqlx::query("UPDATE webhook_events SET received_at = received_at - CAST(3456000000 AS BIGINT) WHERE payload LIKE '%wamid.B1%'")
        .execute(app.db.write())
        .await
        .unwrap();
    let n = store::webhook_events::purge_older_than(&app.db, 30 * 86_400_000)
        .await
        .unwrap();
    assert_eq!(n, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_events").await,
        all - 1
    );
}

async fn scheduled_backup_runs_and_keeps_the_newest(app: &TestApp) {
    let dir = temp_dir();
    let schedule = backup::Schedule {
        dir: dir.clone(),
        interval: std::time::Duration::from_secs(3600),
        keep: 1,
    };
    // No backup yet: the loop backs up at once, then waits for the interval.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(backup::scheduled(
        app.db.clone(),
        app.cfg.database_url.clone(),
        schedule.clone(),
        stop_rx,
    ));
    for _ in 0..500 {
        if !backup::list_backups(&dir).is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let first = backup::list_backups(&dir);
    assert_eq!(first.len(), 1, "one backup written by the loop");
    stop_tx.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(10), task)
        .await
        .expect("the loop stops when asked")
        .unwrap();
    backup::verify(&first[0], server_url(app).as_deref())
        .await
        .expect("the scheduled backup verifies");
    // Names have one-second resolution.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let second = backup::run_scheduled_once(&app.db, &app.cfg.database_url, &schedule)
        .await
        .unwrap();
    assert_eq!(
        backup::list_backups(&dir),
        vec![second],
        "retention kept the newest only"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

async fn worker_housekeeping_applies_the_retention_setting(app: &TestApp) {
    make_traffic(app).await;
    let all = app.count("SELECT COUNT(*) FROM webhook_events").await;
    sqlx::query("UPDATE webhook_events SET received_at = received_at - CAST(259200000 AS BIGINT) WHERE payload LIKE '%wamid.B1%'")
        .execute(app.db.write())
        .await
        .unwrap();
    // Two days of retention, from configuration, in a real worker process role.
    let mut vars: std::collections::HashMap<String, String> = [
        ("ORCAZAP_DATABASE_URL", app.cfg.database_url.as_str()),
        (
            "ORCAZAP_SECRET_KEY",
            "test-secret-key-material-0123456789abcdef",
        ),
        ("ORCAZAP_WEBHOOK_RETENTION_DAYS", "2"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    vars.insert("ORCAZAP_LISTEN".into(), "127.0.0.1:0".into());
    let cfg = orcazap::config::Config::from_map(&vars).unwrap();
    assert_eq!(
        cfg.webhook_retention,
        std::time::Duration::from_secs(2 * 86_400)
    );
    let running = orcazap::run::start(
        cfg,
        app.db.clone(),
        orcazap::run::Roles::WorkerOnly,
        orcazap::run::DemoOptions::default(),
        None,
    )
    .await
    .unwrap();
    let mut left = all;
    for _ in 0..500 {
        left = app.count("SELECT COUNT(*) FROM webhook_events").await;
        if left < all {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(
        left,
        all - 1,
        "the 3-day-old payload is purged, the fresh ones stay"
    );
    // Graceful stop (it also closes the shared pool: this is the scenario's last step).
    running.stop().await;
}
