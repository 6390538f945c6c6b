//! Voice notes and photos (issue 16), before the conversation engine reads them.
//!
//! When `conversation.advance` starts, each unread voice note or photo of the conversation is
//! fetched from Meta with the channel's token (`GET /{media-id}` → short-lived URL →
//! download; Meta's ids expire, so on arrival), checked against the size and type limits,
//! stored encrypted (`store::media`), and — for a voice note — decoded from Ogg/Opus to
//! 16 kHz mono PCM and written down by the configured [`voice::Transcriber`]. What was heard
//! is recorded on the message itself (`transcript`), or why nothing was (`unheard`, pt-BR):
//! the engine then reads the transcript exactly as a text message, and an unheard voice note
//! goes to a person with a word to the customer ([`unheard_notice`]). All of it runs outside
//! the step's transaction (network calls never hold one); every outcome is counted.
//!
//! A photo is stored for the people who look at it; with a caption, the caption is the text.

use std::sync::Arc;
use std::time::{Duration, Instant};

use domain::inbound::InboundContent;
use secrecy::SecretString;
use store::{channels, conversations, media, messages, StoreError};
use voice::Transcriber;
use whatsapp::graph::{MediaError, MediaLimits};

use crate::job::{JobCtx, Outcome};

/// Voice-note types Meta sends (`audio/ogg; codecs=opus`; `audio/opus` from some clients).
pub const AUDIO_TYPES: &[&str] = &["audio/ogg", "audio/opus"];
/// Photo types Meta sends ("Supported media types": JPEG and PNG; WebP for stickers).
pub const IMAGE_TYPES: &[&str] = &["image/jpeg", "image/png", "image/webp"];

/// Limits and settings of media handling (`ORCAZAP_MEDIA_*`, `ORCAZAP_TRANSCRIBE_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaConfig {
    /// Largest voice note downloaded (Meta's audio limit is 16 MB).
    pub max_audio_bytes: usize,
    /// Largest photo downloaded (Meta's image limit is 5 MB).
    pub max_image_bytes: usize,
    /// Longest voice note transcribed; a longer one goes to a person.
    pub max_voice_seconds: u64,
    /// Stored files are emptied after this (LGPD), like raw webhook payloads.
    pub retention: Duration,
    /// The transcription call's deadline (the job's own timeout must be longer).
    pub transcribe_timeout: Duration,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            max_audio_bytes: 16 * 1024 * 1024,
            max_image_bytes: 5 * 1024 * 1024,
            max_voice_seconds: 120,
            retention: Duration::from_secs(30 * 24 * 3600),
            transcribe_timeout: Duration::from_secs(20),
        }
    }
}

/// Why a voice note has no transcript, in the words staff read beside it (pt-BR) and the
/// words the customer is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unheard {
    /// No transcription provider configured.
    Off,
    TooLong {
        seconds: u64,
        limit: u64,
    },
    /// The provider is down, timed out or refused.
    ProviderFailed(String),
    /// The provider heard no words.
    Empty,
    /// The file could not be downloaded or read.
    NotFetched(String),
}

impl Unheard {
    /// What staff read beside the audio.
    pub fn for_staff(&self) -> String {
        match self {
            Unheard::Off => {
                "transcrição desligada (ORCAZAP_TRANSCRIBE_BASE_URL não configurada)".into()
            }
            Unheard::TooLong { seconds, limit } => {
                format!("áudio de {seconds} s, acima do limite de {limit} s")
            }
            Unheard::ProviderFailed(why) => format!("serviço de transcrição falhou: {why}"),
            Unheard::Empty => "a transcrição não encontrou palavras".into(),
            Unheard::NotFetched(why) => format!("áudio não baixado: {why}"),
        }
    }

    fn metric_label(&self) -> &'static str {
        match self {
            Unheard::Off => "off",
            Unheard::TooLong { .. } => "too_long",
            Unheard::ProviderFailed(_) => "provider_error",
            Unheard::Empty => "empty",
            Unheard::NotFetched(_) => "not_fetched",
        }
    }
}

/// What the customer is told when a voice note could not be understood (before the usual
/// "Já chamei alguém da equipe" of the hand-off). `staff_reason`: the stored `unheard`.
pub fn unheard_notice(staff_reason: &str) -> String {
    let detail = match staff_reason {
        r if r.starts_with("áudio de ") => {
            // "áudio de 300 s, acima do limite de 120 s"
            let limit = r
                .rsplit("limite de ")
                .next()
                .unwrap_or_default()
                .trim_end_matches(" s");
            format!(" — ele passa do limite de {limit} segundos que eu consigo ouvir")
        }
        _ => String::new(),
    };
    format!(
        "🎤 Não consegui entender seu áudio{detail}. Uma pessoa da equipe vai ouvi-lo; se preferir, \
         escreva o pedido por aqui (ex.: _10 sc de cimento, entrega amanhã, PIX_)."
    )
}

/// Registers the media families with zero values (`crate::families`).
pub fn register_metrics() {
    for kind in ["audio", "image"] {
        for outcome in [
            "ok",
            "too_large",
            "wrong_type",
            "hash_mismatch",
            "bad_id",
            "unavailable",
            "refused",
            "no_token",
        ] {
            metrics::counter!("orcazap_media_downloads_total", "kind" => kind, "outcome" => outcome)
                .absolute(0);
        }
    }
    for outcome in [
        "ok",
        "off",
        "too_long",
        "provider_error",
        "empty",
        "not_fetched",
    ] {
        metrics::counter!("orcazap_voice_transcriptions_total", "outcome" => outcome).absolute(0);
    }
    let _ = metrics::histogram!("orcazap_voice_transcription_seconds");
}

/// Fetches, stores and hears the conversation's unread media. `Err(outcome)`: the job must
/// end with it (the database failed, or Meta is briefly unreachable and the job will retry);
/// the messages stay unread for that retry. `unread`: the conversation's unread messages,
/// read by the caller.
pub async fn prepare(
    jc: &JobCtx<'_>,
    tenant_id: &str,
    conversation_id: &str,
    unread: Vec<messages::Message>,
) -> Result<(), Outcome> {
    let todo: Vec<_> = unread
        .into_iter()
        .filter(|m| match m.inbound_content() {
            InboundContent::Audio {
                media_id,
                transcript: None,
                unheard: None,
                ..
            } => !media_id.is_empty(),
            InboundContent::Image {
                media_id,
                media_error: None,
                ..
            } => !media_id.is_empty(),
            _ => false,
        })
        .collect();
    if todo.is_empty() {
        return Ok(());
    }
    let token = channel_token(jc, tenant_id, conversation_id)
        .await
        .map_err(Outcome::from_store)?;
    for msg in todo {
        let content = msg.inbound_content();
        let updated = hear(jc, tenant_id, &msg, content, token.as_ref()).await?;
        if let Some(content) = updated {
            let payload = content.to_stored().payload_json;
            let (t, id) = (tenant_id.to_string(), msg.id.clone());
            jc.db
                .tx(move |c| {
                    Box::pin(async move { media::set_inbound_payload(c, &t, &id, &payload).await })
                })
                .await
                .map_err(Outcome::from_store)?;
        }
    }
    Ok(())
}

fn store_err(e: sqlx::Error) -> Outcome {
    Outcome::from_store(StoreError::from(e))
}

/// The conversation's channel token, None when it has none (or it does not decrypt).
async fn channel_token(
    jc: &JobCtx<'_>,
    tenant_id: &str,
    conversation_id: &str,
) -> Result<Option<SecretString>, StoreError> {
    let Some(conv) = conversations::get(jc.db, tenant_id, conversation_id).await? else {
        return Ok(None);
    };
    let Some(channel) = channels::by_id(jc.db, tenant_id, &conv.channel_id).await? else {
        return Ok(None);
    };
    Ok(channel
        .access_token_enc
        .as_deref()
        .and_then(|enc| jc.cipher.decrypt(enc).ok())
        .map(SecretString::from))
}

/// One message: the content with what was heard, or None when nothing changes.
async fn hear(
    jc: &JobCtx<'_>,
    tenant_id: &str,
    msg: &messages::Message,
    content: InboundContent,
    token: Option<&SecretString>,
) -> Result<Option<InboundContent>, Outcome> {
    let cfg = jc.media;
    let (kind, media_id, limits) = match &content {
        InboundContent::Audio { media_id, .. } => (
            "audio",
            media_id.clone(),
            MediaLimits {
                max_bytes: cfg.max_audio_bytes,
                types: AUDIO_TYPES,
            },
        ),
        InboundContent::Image { media_id, .. } => (
            "image",
            media_id.clone(),
            MediaLimits {
                max_bytes: cfg.max_image_bytes,
                types: IMAGE_TYPES,
            },
        ),
        _ => return Ok(None),
    };
    // Stored by an earlier attempt of this job: not downloaded again.
    let stored = {
        let mut c = jc.db.read().acquire().await.map_err(store_err)?;
        media::for_message(&mut c, tenant_id, &msg.id)
            .await
            .map_err(Outcome::from_store)?
    };
    let bytes = match stored {
        Some(file) => {
            match media::content(jc.db, jc.cipher, tenant_id, &file.id)
                .await
                .map_err(Outcome::from_store)?
            {
                Some((_, _, Some(b))) => Ok(b),
                _ => Err("arquivo não está mais guardado".to_string()),
            }
        }
        None => download(jc, tenant_id, msg, kind, &media_id, &limits, token).await?,
    };
    match content {
        InboundContent::Image {
            caption,
            media_id,
            mime_type,
            ..
        } => Ok(match bytes {
            Ok(_) => None,
            Err(why) => Some(InboundContent::Image {
                caption,
                media_id,
                mime_type,
                media_error: Some(why),
            }),
        }),
        InboundContent::Audio {
            media_id, voice, ..
        } => {
            let heard = match bytes {
                Ok(b) => transcribe(jc, &b).await,
                Err(why) => Err(Unheard::NotFetched(why)),
            };
            let (transcript, unheard) = match heard {
                Ok(t) => {
                    metrics::counter!("orcazap_voice_transcriptions_total", "outcome" => "ok")
                        .increment(1);
                    (Some(t), None)
                }
                Err(u) => {
                    metrics::counter!("orcazap_voice_transcriptions_total", "outcome" => u.metric_label())
                        .increment(1);
                    tracing::info!(reason = %u.for_staff(), "voice note not transcribed: a person is told");
                    (None, Some(u.for_staff()))
                }
            };
            Ok(Some(InboundContent::Audio {
                media_id,
                voice,
                transcript,
                unheard,
            }))
        }
        _ => Ok(None),
    }
}

/// Downloads and stores one file. `Ok(Err(why))`: it cannot be had (pt-BR reason);
/// `Err(outcome)`: retry the job (Meta briefly unreachable on an early attempt) or a
/// database failure.
async fn download(
    jc: &JobCtx<'_>,
    tenant_id: &str,
    msg: &messages::Message,
    kind: &'static str,
    media_id: &str,
    limits: &MediaLimits<'_>,
    token: Option<&SecretString>,
) -> Result<Result<Vec<u8>, String>, Outcome> {
    let Some(token) = token else {
        metrics::counter!("orcazap_media_downloads_total", "kind" => kind, "outcome" => "no_token")
            .increment(1);
        return Ok(Err("o número da loja não tem token de acesso".into()));
    };
    let fetched = jc.graph.fetch_media(media_id, token, limits).await;
    let file = match fetched {
        Ok(f) => f,
        Err(e) => {
            metrics::counter!("orcazap_media_downloads_total", "kind" => kind, "outcome" => e.metric_label())
                .increment(1);
            tracing::warn!(kind, error = %e, "inbound media not downloaded");
            // Meta briefly away: the job tries again (the message waits, in order); after
            // a few attempts the message goes to a person rather than block the chat.
            if e.is_transient() && jc.job.attempts < 3 {
                return Err(Outcome::Retry {
                    after_ms: 0,
                    error: format!("downloading inbound media: {e}"),
                });
            }
            return Ok(Err(media_reason(&e, limits)));
        }
    };
    metrics::counter!("orcazap_media_downloads_total", "kind" => kind, "outcome" => "ok")
        .increment(1);
    let (t, m_id, mid) = (tenant_id.to_string(), msg.id.clone(), media_id.to_string());
    let cipher = jc.cipher.clone();
    let stored = Arc::new(file);
    let keep = stored.clone();
    jc.db
        .tx(move |c| {
            Box::pin(async move {
                media::insert(
                    c,
                    &cipher,
                    &media::NewMediaFile {
                        tenant_id: &t,
                        message_id: &m_id,
                        media_id: &mid,
                        mime_type: &keep.mime_type,
                        bytes: &keep.bytes,
                        sha256: &keep.sha256,
                    },
                )
                .await
            })
        })
        .await
        .map_err(Outcome::from_store)?;
    Ok(Ok(Arc::try_unwrap(stored)
        .map(|f| f.bytes)
        .unwrap_or_else(|f| f.bytes.clone())))
}

/// Staff's words for a download that failed.
fn media_reason(e: &MediaError, limits: &MediaLimits<'_>) -> String {
    match e {
        MediaError::TooLarge { size, .. } => format!(
            "arquivo de {:.1} MB, acima do limite de {:.1} MB",
            *size as f64 / 1_048_576.0,
            limits.max_bytes as f64 / 1_048_576.0
        ),
        MediaError::WrongType(t) => format!("tipo de arquivo não aceito ({t})"),
        MediaError::HashMismatch => "o arquivo chegou diferente do que a Meta descreveu".into(),
        MediaError::BadId => "identificador de mídia inválido".into(),
        MediaError::Graph(g) if g.is_transient() => "a Meta não respondeu a tempo".into(),
        MediaError::Graph(_) => {
            "a Meta recusou o download (mídia expirada ou token inválido)".into()
        }
    }
}

/// Decode (on a blocking thread: CPU work), check the length, transcribe with a deadline.
async fn transcribe(jc: &JobCtx<'_>, ogg: &[u8]) -> Result<String, Unheard> {
    let max_ms = jc.media.max_voice_seconds * 1000;
    let ogg = ogg.to_vec();
    let decoded = tokio::task::spawn_blocking(move || voice::decode_ogg_opus(&ogg, max_ms))
        .await
        .map_err(|e| Unheard::NotFetched(format!("decodificação interrompida: {e}")))?;
    let pcm = match decoded {
        Ok(p) => p,
        Err(voice::DecodeError::TooLong { seconds, limit }) => {
            return Err(Unheard::TooLong { seconds, limit })
        }
        Err(e) => {
            return Err(Unheard::NotFetched(format!(
                "áudio em formato que não consigo ler ({e})"
            )))
        }
    };
    let Some(transcriber) = jc.transcriber else {
        return Err(Unheard::Off);
    };
    let wav = voice::wav::encode(&pcm);
    let started = Instant::now();
    let answer = tokio::time::timeout(jc.media.transcribe_timeout, transcriber.transcribe(&wav))
        .await
        .unwrap_or_else(|_| Err(voice::TranscribeError::Unavailable("tempo esgotado".into())));
    metrics::histogram!("orcazap_voice_transcription_seconds")
        .record(started.elapsed().as_secs_f64());
    match answer {
        Ok(text) => {
            tracing::info!(
                provider = transcriber.name(),
                audio_ms = pcm.duration_ms(),
                chars = text.chars().count(),
                "voice note transcribed"
            );
            Ok(text)
        }
        Err(voice::TranscribeError::Empty) => Err(Unheard::Empty),
        Err(e) => {
            tracing::warn!(provider = transcriber.name(), error = %e, kind = e.metric_label(), "transcription failed");
            Err(Unheard::ProviderFailed(match e {
                voice::TranscribeError::Unavailable(_) => "indisponível".to_string(),
                voice::TranscribeError::Refused { status, .. } => {
                    format!("recusou (HTTP {status})")
                }
                _ => "resposta inválida".to_string(),
            }))
        }
    }
}

/// Whether the transcriber is configured (for logs at start-up).
pub fn describe(t: Option<&Arc<dyn Transcriber>>) -> &'static str {
    t.map(|t| t.name()).unwrap_or("off")
}
