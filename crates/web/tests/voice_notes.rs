//! Voice notes and photos (issue 16), end to end over real sockets: a signed webhook names a
//! media id; the worker fetches it from the mock Graph API (`GET /{version}/{media-id}` →
//! URL → download with the channel's token), stores it encrypted, decodes the real Ogg/Opus
//! fixture (`fixtures/audio/dez_sacos_de_cimento.ogg`, espeak-ng + opusenc) to 16 kHz mono
//! and uploads it as WAV to a local OpenAI-compatible transcription server
//! ([`MockTranscriber`]); the transcript goes through the same understanding as text and the
//! customer gets a quote. Every way a voice note can fail to be heard ends with the customer
//! told in pt-BR, the conversation in the person queue with the reason, and the message
//! kept. Staff hear and see the files through an authenticated, tenant-checked route.
//! SQLite always, PostgreSQL too when `ORCAZAP_TEST_POSTGRES_URL` is set.

use testkit::*;
use worker::media::MediaConfig;

both_engines!(
    TestApp;
    a_voice_note_becomes_a_quote_and_staff_can_hear_it,
    a_voice_note_nobody_can_write_down_goes_to_a_person,
    a_photo_goes_to_a_person_and_its_caption_is_read,
);

const OGG: &[u8] = include_bytes!("../../../fixtures/audio/dez_sacos_de_cimento.ogg");
const KEY: &str = "sk-test-transcribe-0123456789";
/// What espeak-ng was told to say in the fixture.
const SAID: &str = "dez sacos de cimento";
/// The start of a JPEG file (the worker never decodes photos: it keeps and shows them).
const JPEG: &[u8] = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9";

/// The customer sends a file: it is put on the mock Graph API, the webhook names it, and the
/// worker runs until the queue is empty.
async fn customer_sends(
    app: &TestApp,
    from: &str,
    mime: &str,
    bytes: &[u8],
    caption: Option<&str>,
) {
    let id = app.graph.add_media(mime, bytes.to_vec());
    let body = whatsapp::webhook::build_media_webhook(
        &app.demo.pnid,
        "5511933334444",
        from,
        Some("Cliente"),
        &format!("wamid.M{}", uuid::Uuid::new_v4().simple()),
        &whatsapp::webhook::MediaRef {
            id: &id,
            mime_type: mime,
            sha256: "",
            caption,
        },
        store::now_ms() / 1000,
    );
    app.webhook(body)
        .answer()
        .await
        .expect_status_because(200, "webhook accepted");
    app.drain().await;
}

/// The texts the bot sent to `to`, in order.
fn replies_to(app: &TestApp, to: &str) -> Vec<String> {
    app.graph
        .accepted()
        .iter()
        .filter(|c| c.to() == to)
        .map(|c| c.text())
        .collect()
}

async fn one_text(app: &TestApp, sql: &str, bind: &str) -> Option<String> {
    let (sql, bind) = (sql.to_string(), bind.to_string());
    app.db
        .tx(move |c| {
            Box::pin(async move {
                use sqlx::Row;
                let row = sqlx::query(&sql)
                    .bind(&bind)
                    .fetch_optional(&mut *c)
                    .await?;
                Ok(row.map(|r| r.try_get::<String, _>(0)).transpose()?)
            })
        })
        .await
        .unwrap()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_one(app.db.read())
        .await
        .unwrap()
        .try_get(0)
        .unwrap()
}

async fn conversation_of(app: &TestApp, wa_id: &str) -> String {
    one_text(
        app,
        "SELECT c.id FROM conversations c JOIN contacts k ON k.id = c.contact_id WHERE k.wa_id = $1 ORDER BY c.created_at DESC",
        wa_id,
    )
    .await
    .expect("a conversation")
}

/// The media route's URL in the conversation page (autoescaping writes `/` as `&#x2f;`).
fn media_url(page: &str) -> Option<String> {
    let page = page.replace("&#x2f;", "/");
    let at = page.find("/midia/")?;
    let start = page[..at].rfind('"')? + 1;
    let end = at + page[at..].find('"')?;
    Some(page[start..end].to_string())
}

async fn a_voice_note_becomes_a_quote_and_staff_can_hear_it(app: &TestApp) {
    let stt = MockTranscriber::start(Some(KEY), SAID).await;
    app.worker.set_transcriber(Some(stt.provider(Some(KEY))));
    let ana = "5511940001111";
    app.customer_says(&app.demo, ana, "Ana", "entrega amanhã no Grajaú, pix")
        .await;
    customer_sends(app, ana, "audio/ogg; codecs=opus", OGG, None).await;

    // The provider got the fixture as 16 kHz mono 16-bit WAV of the recorded length
    // (34,707 samples at 22,050 Hz = 25,184 at 16 kHz), with the model and language.
    let uploads = stt.uploads();
    assert_eq!(uploads.len(), 1, "{uploads:?}");
    let (rate, channels, bits, samples) = uploads[0].wav.expect("a WAV upload");
    assert_eq!((rate, channels, bits), (16_000, 1, 16));
    assert!((25_182..=25_186).contains(&samples), "{samples} samples");
    assert_eq!(uploads[0].model, "whisper-1");
    assert_eq!(uploads[0].language.as_deref(), Some("pt"));
    assert_eq!(uploads[0].file_type, "audio/wav");

    // The transcript was read like text: the draft was complete, so a quote went out.
    let sent = replies_to(app, ana);
    let last = sent.last().expect("a reply");
    assert!(last.contains("ORC-"), "a quote: {sent:?}");
    assert!(last.contains("Cimento"), "{last}");
    // Meta was asked for the media with the channel's token, then the file was downloaded.
    let fetched: Vec<_> = app
        .graph
        .media_fetches()
        .into_iter()
        .map(|f| (f.0, f.2))
        .collect();
    assert_eq!(
        fetched,
        [("info".to_string(), true), ("download".to_string(), true)]
    );

    // Stored encrypted: the column holds no Ogg page, and the transcript sits on the message.
    let content = one_text(
        app,
        "SELECT content FROM media_files WHERE tenant_id = $1",
        &app.demo.tenant_id,
    )
    .await
    .unwrap();
    assert!(content.starts_with('k') && !content.contains("OggS"));
    let payload = one_text(
        app,
        "SELECT payload_json FROM messages WHERE kind = 'audio' AND tenant_id = $1",
        &app.demo.tenant_id,
    )
    .await
    .unwrap();
    assert!(payload.contains(SAID), "{payload}");

    // Staff read the transcript and hear the audio through the authenticated route.
    let conv = conversation_of(app, ana).await;
    let owner = app.as_owner().await;
    let page = owner.page(&format!("/conversas/{conv}")).await;
    assert!(
        page.contains("Áudio transcrito"),
        "transcript shown: {}",
        &page[page.find("id=\"transcript\"").unwrap_or(0)..][..3000.min(page.len())]
    );
    assert!(page.contains(SAID));
    assert!(page.contains("<audio"), "a player");
    let url = media_url(&page).expect("the media URL");
    assert!(
        url.starts_with(&format!("/conversas/{conv}/midia/")),
        "{url}"
    );
    let r = owner.get(&url).answer().await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.header_text("content-type"), Some("audio/ogg"));
    assert_eq!(r.header_text("cache-control"), Some("private, no-store"));
    assert_eq!(
        r.bytes().await.unwrap().as_ref(),
        OGG,
        "the customer's file"
    );

    // Never public: without a session, from another store, or under another conversation.
    let anon = app.get("demo", &url, None).answer().await;
    assert_ne!(anon.status(), 200, "no session, no file");
    let other = app.signed_in("outra", OWNER_EMAIL, PASSWORD).await;
    assert_eq!(
        other.get(&url).answer().await.status(),
        404,
        "another store"
    );
    let file_id = url.rsplit('/').next().unwrap();
    let elsewhere = format!("/conversas/{}/midia/{file_id}", uuid::Uuid::now_v7());
    assert_eq!(owner.get(&elsewhere).answer().await.status(), 404);

    // Retention empties the file; the conversation still says what was sent.
    assert_eq!(
        store::media::purge_older_than(&app.db, -1).await.unwrap(),
        1
    );
    assert_eq!(owner.get(&url).answer().await.status(), 404);
    let page = owner.page(&format!("/conversas/{conv}")).await;
    assert!(page.contains("apagado pela política de retenção"));
    assert!(page.contains(SAID));
}

/// Each case: how to set it up, and what staff must read in the queue's reason.
async fn a_voice_note_nobody_can_write_down_goes_to_a_person(app: &TestApp) {
    let stt = MockTranscriber::start(Some(KEY), SAID).await;
    let defaults = MediaConfig::default();
    struct Case {
        from: &'static str,
        mime: &'static str,
        media: MediaConfig,
        provider: bool,
        down: bool,
        reason: &'static str,
        told: &'static str,
    }
    let cases = [
        // No provider configured: "transcrição desligada".
        Case {
            from: "5511940002001",
            mime: "audio/ogg; codecs=opus",
            media: defaults,
            provider: false,
            down: false,
            reason: "transcrição desligada",
            told: "Não consegui entender seu áudio",
        },
        // The provider is down (503).
        Case {
            from: "5511940002002",
            mime: "audio/ogg; codecs=opus",
            media: defaults,
            provider: true,
            down: true,
            reason: "serviço de transcrição falhou: indisponível",
            told: "Não consegui entender seu áudio",
        },
        // Longer than the limit (the fixture is 1.6 s; the limit 1 s).
        Case {
            from: "5511940002003",
            mime: "audio/ogg; codecs=opus",
            media: MediaConfig {
                max_voice_seconds: 1,
                ..defaults
            },
            provider: true,
            down: false,
            reason: "áudio de 2 s, acima do limite de 1 s",
            told: "limite de 1 segundos",
        },
        // Larger than the download limit.
        Case {
            from: "5511940002004",
            mime: "audio/ogg; codecs=opus",
            media: MediaConfig {
                max_audio_bytes: 1024,
                ..defaults
            },
            provider: true,
            down: false,
            reason: "acima do limite de 0.0 MB",
            told: "Não consegui entender seu áudio",
        },
        // A type that is no voice note.
        Case {
            from: "5511940002005",
            mime: "audio/mpeg",
            media: defaults,
            provider: true,
            down: false,
            reason: "tipo de arquivo não aceito (audio/mpeg)",
            told: "Não consegui entender seu áudio",
        },
    ];
    for case in cases {
        app.worker.set_media(case.media);
        app.worker
            .set_transcriber(case.provider.then(|| stt.provider(Some(KEY))));
        let uploads_before = stt.uploads().len();
        if case.down {
            stt.fail_with(503);
        }
        customer_sends(app, case.from, case.mime, OGG, None).await;
        let sent = replies_to(app, case.from);
        assert!(
            sent.first().is_some_and(|t| t.contains(case.told)),
            "{}: the customer is told: {sent:?}",
            case.reason
        );
        // One message: the notice says a person will listen (the hand-off's own "Já chamei
        // alguém da equipe" would repeat it).
        assert_eq!(sent.len(), 1, "{}: {sent:?}", case.reason);
        assert!(
            sent[0].contains("Uma pessoa da equipe vai ouvi-lo"),
            "{}: {sent:?}",
            case.reason
        );
        let conv = conversation_of(app, case.from).await;
        let (state, why) = {
            let c = store::conversations::get(&app.db, &app.demo.tenant_id, &conv)
                .await
                .unwrap()
                .unwrap();
            (c.state, c.waiting_reason.unwrap_or_default())
        };
        assert_eq!(state, domain::conversation::State::WaitingPerson, "{why}");
        assert!(
            why.contains(case.reason),
            "queue reason {why:?} should say {:?}",
            case.reason
        );
        // Only a provider that was reached got an upload.
        let reached = stt.uploads().len() - uploads_before;
        assert_eq!(reached, usize::from(case.down), "{}", case.reason);
        // Nothing lost: the message is stored, processed, and shown with its reason.
        let page = app
            .as_attendant()
            .await
            .page(&format!("/conversas/{conv}"))
            .await;
        assert!(page.contains("Áudio sem transcrição"), "{}", case.reason);
    }
    app.worker.set_media(defaults);
    assert_eq!(
        count(
            app,
            "SELECT COUNT(*) FROM messages WHERE kind = 'audio' AND status = 'processed'"
        )
        .await,
        5
    );
}

async fn a_photo_goes_to_a_person_and_its_caption_is_read(app: &TestApp) {
    let bia = "5511940003001";
    customer_sends(app, bia, "image/jpeg", JPEG, None).await;
    let sent = replies_to(app, bia);
    assert!(
        sent.iter()
            .any(|t| t.contains("Já chamei alguém da equipe")),
        "{sent:?}"
    );
    let conv = conversation_of(app, bia).await;
    let c = store::conversations::get(&app.db, &app.demo.tenant_id, &conv)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.state, domain::conversation::State::WaitingPerson);
    assert_eq!(
        c.waiting_reason.as_deref(),
        Some("o cliente mandou uma imagem sem legenda")
    );
    let owner = app.as_owner().await;
    let page = owner.page(&format!("/conversas/{conv}")).await;
    assert!(page.contains("<img class=\"thumb\""), "a thumbnail");
    let url = media_url(&page).unwrap();
    let r = owner.get(&url).answer().await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.header_text("content-type"), Some("image/jpeg"));
    assert_eq!(r.bytes().await.unwrap().as_ref(), JPEG);

    // With a caption, the caption is the customer's words (and the photo is still kept).
    let caio = "5511940003002";
    customer_sends(
        app,
        caio,
        "image/jpeg",
        JPEG,
        Some("10 sacos de cimento, entrega amanhã no Grajaú, pix"),
    )
    .await;
    let sent = replies_to(app, caio);
    assert!(
        sent.last().is_some_and(|t| t.contains("ORC-")),
        "the caption is read as an order: {sent:?}"
    );
    assert_eq!(
        count(
            app,
            "SELECT COUNT(*) FROM media_files WHERE mime_type = 'image/jpeg'"
        )
        .await,
        2
    );
}
