//! Inbound media through the mock Graph API (issue 16): `GET /{version}/{media-id}` in Meta's
//! JSON shape, then the short-lived URL, downloaded with the channel's token; limits on size
//! and type; the token required on both steps.

use secrecy::SecretString;
use whatsapp::graph::{GraphClient, GraphConfig, MediaError, MediaLimits};
use whatsapp::mock::MockGraph;

const TOKEN: &str = "EAAG-media-token-0123456789";
const OGG: &[u8] = include_bytes!("../../../fixtures/audio/dez_sacos_de_cimento.ogg");
const AUDIO: MediaLimits<'static> = MediaLimits {
    max_bytes: 1024 * 1024,
    types: &["audio/ogg"],
};

async fn setup() -> (MockGraph, GraphClient) {
    let mock = MockGraph::builder().token(TOKEN).start().await;
    let client = GraphClient::new(GraphConfig {
        base_url: mock.url.clone(),
        ..GraphConfig::default()
    })
    .unwrap();
    (mock, client)
}

#[tokio::test]
async fn media_info_has_metas_shape_and_the_download_needs_the_token() {
    let (mock, g) = setup().await;
    let id = mock.add_media("audio/ogg; codecs=opus", OGG.to_vec());
    // Meta's shape, read raw: every documented field.
    let raw: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/v25.0/{id}", mock.url))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for field in [
        "url",
        "mime_type",
        "sha256",
        "file_size",
        "id",
        "messaging_product",
    ] {
        assert!(raw.get(field).is_some(), "{field} in {raw}");
    }
    assert_eq!(raw["file_size"], OGG.len().to_string());
    let url = raw["url"].as_str().unwrap();
    // The URL alone, without the token, is refused.
    let bare = reqwest::get(url).await.unwrap();
    assert_eq!(bare.status(), 401);

    let got = g
        .fetch_media(&id, &SecretString::from(TOKEN), &AUDIO)
        .await
        .unwrap();
    assert_eq!(got.bytes, OGG);
    assert_eq!(got.mime_type, "audio/ogg");
    assert_eq!(got.sha256, raw["sha256"].as_str().unwrap());
    let fetches = mock.media_fetches();
    assert_eq!(
        fetches
            .iter()
            .filter(|f| f.2)
            .map(|f| f.0.as_str())
            .collect::<Vec<_>>(),
        // The raw look-up above, then the client's two steps (the bare download was refused).
        ["info", "info", "download"]
    );
    assert_eq!(fetches.iter().filter(|f| !f.2).count(), 1);
}

#[tokio::test]
async fn limits_wrong_token_and_unknown_ids() {
    let (mock, g) = setup().await;
    let token = SecretString::from(TOKEN);
    let big = mock.add_media("audio/ogg", vec![0u8; 4096]);
    let small = MediaLimits {
        max_bytes: 4095,
        types: &["audio/ogg"],
    };
    assert!(matches!(
        g.fetch_media(&big, &token, &small).await,
        Err(MediaError::TooLarge {
            size: 4096,
            limit: 4095
        })
    ));
    let video = mock.add_media("video/mp4", vec![1, 2, 3]);
    assert_eq!(
        g.fetch_media(&video, &token, &AUDIO).await,
        Err(MediaError::WrongType("video/mp4".into()))
    );
    // Nothing was downloaded for either: refused from Meta's description.
    assert!(mock.media_fetches().iter().all(|f| f.0 == "info"));

    let ok = mock.add_media("audio/ogg", OGG.to_vec());
    let err = g
        .fetch_media(&ok, &SecretString::from("EAAG-wrong"), &AUDIO)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, MediaError::Graph(e) if e.code() == Some(190)),
        "{err:?}"
    );
    assert!(!err.to_string().contains("EAAG-wrong"));
    let err = g.fetch_media("999", &token, &AUDIO).await.unwrap_err();
    assert!(
        !err.is_transient(),
        "an unknown (expired) id is permanent: {err:?}"
    );
    assert_eq!(
        g.fetch_media("../x", &token, &AUDIO).await,
        Err(MediaError::BadId)
    );
    // Nothing listening: transient.
    let offline = GraphClient::new(GraphConfig {
        base_url: "http://127.0.0.1:1".into(),
        ..GraphConfig::default()
    })
    .unwrap();
    assert!(offline
        .fetch_media(&ok, &token, &AUDIO)
        .await
        .unwrap_err()
        .is_transient());
}
