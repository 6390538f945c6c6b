//! The store's WhatsApp message templates at Meta: `meta_template.submit` sends one the owner
//! saved for review; `meta_template.sync` reads every template's review status back (the
//! dashboard's "Atualizar"; the `message_template_status_update` webhook brings the same news
//! unasked). Graph calls happen here, in the worker, never in a web request.

use secrecy::SecretString;
use store::channels::{self, Channel};
use store::meta_templates::{self, MetaTemplate};
use store::StoreError;
use whatsapp::graph::{check_template_body, SendError, TemplateSubmission};

use crate::job::{JobCtx, Outcome};

/// Example values Meta reviews a body with, one per variable: the purpose's parameters as a
/// customer would read them.
fn examples(t: &MetaTemplate) -> Vec<String> {
    let n = check_template_body(&t.body).unwrap_or(0);
    let samples = ["Ana", "ORC-2026-000123", "05/12 às 18h", "R$ 885,60"];
    (0..n)
        .map(|i| samples.get(i).unwrap_or(&"exemplo").to_string())
        .collect()
}

/// The store's channel and its token (every channel of a store shares its WABA).
async fn channel_token(
    jc: &JobCtx<'_>,
    tenant_id: &str,
) -> Result<Result<(Channel, SecretString), String>, StoreError> {
    let Some(ch) = channels::for_tenant(jc.db, tenant_id)
        .await?
        .into_iter()
        .next()
    else {
        return Ok(Err("a loja não tem número de WhatsApp conectado".into()));
    };
    if ch.waba_id.trim().is_empty() || !ch.waba_id.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(Err(
            "a conta do WhatsApp Business (WABA) da loja não está configurada em /whatsapp".into(),
        ));
    }
    let Some(token) = ch
        .access_token_enc
        .as_deref()
        .and_then(|enc| jc.cipher.decrypt(enc).ok())
    else {
        return Ok(Err(
            "o número de WhatsApp da loja não tem token de acesso".into()
        ));
    };
    Ok(Ok((ch, SecretString::from(token))))
}

pub async fn submit(jc: &JobCtx<'_>, template_id: &str) -> Outcome {
    let Some(tenant_id) = jc.job.tenant_id.clone() else {
        return Outcome::Dead("meta_template.submit without tenant".into());
    };
    let loaded = async {
        let mut c = jc.db.read().acquire().await?;
        meta_templates::get(&mut c, &tenant_id, template_id).await
    }
    .await;
    let t = match loaded {
        Ok(t) => t,
        Err(StoreError::NotFound) => return Outcome::Done,
        Err(e) => return Outcome::from_store(e),
    };
    if t.status != meta_templates::SUBMITTING {
        return Outcome::Done;
    }
    let (ch, token) = match channel_token(jc, &tenant_id).await {
        Ok(Ok(v)) => v,
        Ok(Err(why)) => return refused(jc, &tenant_id, &t.id, &why).await,
        Err(e) => return Outcome::from_store(e),
    };
    let submission = TemplateSubmission {
        name: t.name.clone(),
        language: t.language.clone(),
        category: t.category.clone(),
        body: t.body.clone(),
        examples: examples(&t),
    };
    match jc
        .graph
        .submit_template(&ch.waba_id, &token, &submission)
        .await
    {
        Ok(sent) => {
            let (tenant, id) = (tenant_id.clone(), t.id.clone());
            let res = jc
                .db
                .tx(move |c| {
                    Box::pin(async move {
                        meta_templates::mark_submitted(c, &tenant, &id, &sent.id, &sent.status)
                            .await
                    })
                })
                .await;
            match res {
                Ok(()) => Outcome::Done,
                Err(e) => Outcome::from_store(e),
            }
        }
        Err(e) if e.is_transient() && jc.job.attempts < jc.job.max_attempts => Outcome::Retry {
            after_ms: 0,
            error: e.message().to_string(),
        },
        Err(e) => refused(jc, &tenant_id, &t.id, &meta_reason(&e)).await,
    }
}

/// Meta's refusal as the owner reads it: its code and its own (English) words.
fn meta_reason(e: &SendError) -> String {
    match e.code() {
        Some(code) => format!("a Meta recusou o modelo (código {code}): {}", e.message()),
        None => format!("o modelo não pôde ser enviado à Meta: {}", e.message()),
    }
}

async fn refused(jc: &JobCtx<'_>, tenant_id: &str, id: &str, why: &str) -> Outcome {
    let (tenant, id, why) = (tenant_id.to_string(), id.to_string(), why.to_string());
    match jc
        .db
        .tx(move |c| {
            Box::pin(async move {
                meta_templates::set_status(
                    c,
                    &tenant,
                    &id,
                    meta_templates::SUBMIT_FAILED,
                    Some(&why),
                )
                .await
            })
        })
        .await
    {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::from_store(e),
    }
}

/// Reads every template's status from Meta and records it on the store's templates of the
/// same name and language.
pub async fn sync(jc: &JobCtx<'_>) -> Outcome {
    let Some(tenant_id) = jc.job.tenant_id.clone() else {
        return Outcome::Dead("meta_template.sync without tenant".into());
    };
    let (ch, token) = match channel_token(jc, &tenant_id).await {
        Ok(Ok(v)) => v,
        Ok(Err(why)) => return Outcome::Dead(why),
        Err(e) => return Outcome::from_store(e),
    };
    let listed = match jc.graph.list_templates(&ch.waba_id, &token).await {
        Ok(l) => l,
        Err(e) if e.is_transient() && jc.job.attempts < jc.job.max_attempts => {
            return Outcome::Retry {
                after_ms: 0,
                error: e.message().to_string(),
            }
        }
        Err(e) => return Outcome::Dead(meta_reason(&e)),
    };
    let res = jc
        .db
        .tx(move |c| {
            Box::pin(async move {
                for t in &listed {
                    let reason = t
                        .rejected_reason
                        .as_deref()
                        .filter(|r| !r.is_empty() && *r != "NONE");
                    meta_templates::apply_review(
                        c,
                        &tenant_id,
                        &t.name,
                        &t.language,
                        Some(&t.id),
                        &t.status,
                        reason,
                    )
                    .await?;
                }
                Ok(())
            })
        })
        .await;
    match res {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::from_store(e),
    }
}
