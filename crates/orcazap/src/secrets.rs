//! `orcazap secrets rotate`: re-encrypts every channel access token with the current
//! `ORCAZAP_SECRET_KEY`, reading old ones with the keys of `ORCAZAP_SECRET_KEY_OLD`.

use store::crypto::{KeyId, Origin, TokenCipher};
use store::{Db, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rotation {
    /// Tokens re-encrypted with the current key.
    pub rotated: usize,
    /// Tokens already on the current key (a re-run after an interrupted rotation).
    pub already_current: usize,
    /// The fingerprint of the current key, as stored in every token now.
    pub key_id: KeyId,
}

/// All or nothing: one transaction, so a token the configured keys cannot read aborts the
/// rotation before anything changes. Each re-encrypted channel gets an audit entry.
pub async fn rotate(db: &Db, cipher: &TokenCipher, actor: &str) -> anyhow::Result<Rotation> {
    let cipher = cipher.clone();
    let actor = actor.to_string();
    let current = cipher.current_key_id();
    let result = db
        .tx(move |c| {
            Box::pin(async move {
                let mut r = Rotation {
                    rotated: 0,
                    already_current: 0,
                    key_id: current,
                };
                for ch in store::channels::all_with_tokens(c).await? {
                    let Some(enc) = ch.access_token_enc.as_deref() else {
                        continue;
                    };
                    let origin = TokenCipher::origin_of(enc);
                    if origin == Some(Origin::Key(current)) {
                        r.already_current += 1;
                        continue;
                    }
                    let plain = cipher.decrypt(enc).map_err(|e| {
                        StoreError::Corrupt(format!(
                            "o token do canal {} não pôde ser lido ({e}); configure a chave antiga em ORCAZAP_SECRET_KEY_OLD — nada foi alterado",
                            ch.id
                        ))
                    })?;
                    let fresh = cipher.encrypt(&plain);
                    store::channels::set_token(c, &ch.tenant_id, &ch.id, &fresh, current.as_i64())
                        .await?;
                    store::audit::record(
                        c,
                        &store::audit::Entry {
                            tenant_id: Some(&ch.tenant_id),
                            actor_user_id: None,
                            actor_label: &actor,
                            action: "secrets.rotate",
                            entity: "channel",
                            entity_id: Some(&ch.id),
                            before: Some(serde_json::json!({ "key_id": origin_label(origin) })),
                            after: Some(serde_json::json!({ "key_id": current.to_string() })),
                            request_id: None,
                        },
                    )
                    .await?;
                    r.rotated += 1;
                }
                Ok(r)
            })
        })
        .await?;
    tracing::info!(
        rotated = result.rotated,
        already_current = result.already_current,
        key_id = %result.key_id,
        "channel tokens rotated"
    );
    Ok(result)
}

/// How the audit log names the key a token was on before rotation.
fn origin_label(origin: Option<Origin>) -> String {
    match origin {
        Some(Origin::Key(id)) => id.to_string(),
        Some(Origin::Legacy) => "legada (antes dos ids de chave)".into(),
        None => "ilegível".into(),
    }
}
