//! WhatsApp voice notes are Ogg/Opus (RFC 7845): an `OpusHead` packet, an `OpusTags` packet,
//! then audio packets. Decoded here to 16 kHz mono 16-bit PCM, the input speech recognisers
//! expect: libopus resamples and downmixes itself (a decoder opened at 16 kHz, one channel),
//! the encoder's pre-skip is dropped and the end is trimmed to the last page's granule
//! position, so the PCM has the length the sender recorded.

use std::io::Cursor;

/// The rate everything here produces.
pub const SAMPLE_RATE: u32 = 16_000;

/// Opus granule positions count 48 kHz samples whatever the input rate was.
const GRANULE_RATE: u64 = 48_000;

/// The longest Opus frame: 120 ms at 16 kHz.
const MAX_FRAME: usize = 120 * SAMPLE_RATE as usize / 1000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    #[error("not an Ogg/Opus file: {0}")]
    NotOggOpus(String),
    #[error("audio of {seconds} s is longer than the limit of {limit} s")]
    TooLong { seconds: u64, limit: u64 },
    #[error("corrupt Opus audio: {0}")]
    Corrupt(String),
}

/// Decoded audio: 16 kHz, mono, signed 16-bit samples.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pcm {
    pub samples: Vec<i16>,
}

impl Pcm {
    pub fn duration_ms(&self) -> u64 {
        self.samples.len() as u64 * 1000 / u64::from(SAMPLE_RATE)
    }
}

/// What the `OpusHead` packet says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Head {
    channels: u8,
    pre_skip: u16,
}

fn parse_head(p: &[u8]) -> Result<Head, DecodeError> {
    if p.len() < 19 || &p[..8] != b"OpusHead" {
        return Err(DecodeError::NotOggOpus(
            "the first packet is not OpusHead".into(),
        ));
    }
    if p[8] >> 4 != 0 {
        return Err(DecodeError::NotOggOpus(format!(
            "unsupported OpusHead version {}",
            p[8]
        )));
    }
    let channels = p[9];
    let mapping_family = p[18];
    // Family 0 is mono or stereo in one stream: what WhatsApp and every phone records.
    if channels == 0 || channels > 2 || mapping_family != 0 {
        return Err(DecodeError::NotOggOpus(format!(
            "{channels} channels with mapping family {mapping_family}: only mono or stereo voice is read"
        )));
    }
    Ok(Head {
        channels,
        pre_skip: u16::from_le_bytes([p[10], p[11]]),
    })
}

/// The audio's length from its last granule position, without decoding: lets a too-long
/// voice note be refused before any work. None when the file is not Ogg/Opus.
pub fn duration_ms(ogg_opus: &[u8]) -> Result<u64, DecodeError> {
    let (head, packets) = packets(ogg_opus)?;
    let last = packets.last().map(|p| p.1).unwrap_or(0);
    Ok(last.saturating_sub(u64::from(head.pre_skip)) * 1000 / GRANULE_RATE)
}

/// An audio packet and its page's granule position.
type AudioPacket = (Vec<u8>, u64);

/// The head and the audio packets.
fn packets(ogg_opus: &[u8]) -> Result<(Head, Vec<AudioPacket>), DecodeError> {
    let mut reader = ogg::reading::PacketReader::new(Cursor::new(ogg_opus));
    let read = |r: Result<Option<ogg::Packet>, ogg::OggReadError>| {
        r.map_err(|e| DecodeError::NotOggOpus(e.to_string()))
    };
    let first =
        read(reader.read_packet())?.ok_or_else(|| DecodeError::NotOggOpus("empty file".into()))?;
    let serial = first.stream_serial();
    let head = parse_head(&first.data)?;
    let tags = read(reader.read_packet())?
        .ok_or_else(|| DecodeError::NotOggOpus("no OpusTags packet".into()))?;
    if !tags.data.starts_with(b"OpusTags") {
        return Err(DecodeError::NotOggOpus(
            "the second packet is not OpusTags".into(),
        ));
    }
    let mut out = Vec::new();
    loop {
        let packet = match reader.read_packet() {
            Ok(Some(p)) => p,
            Ok(None) => break,
            // A cut-off last page (a recording stopped mid-write): keep what was whole.
            Err(e) if !out.is_empty() => {
                tracing::debug!(error = %e, "Ogg stream ends early; decoding what arrived");
                break;
            }
            Err(e) => return Err(DecodeError::Corrupt(e.to_string())),
        };
        // Another logical stream (never in a voice note): ignored.
        if packet.stream_serial() != serial {
            continue;
        }
        let gp = packet.absgp_page();
        out.push((packet.data, gp));
    }
    Ok((head, out))
}

/// Decodes an Ogg/Opus file to 16 kHz mono PCM. `max_ms`: longer audio is refused (from
/// its granule position, before decoding).
pub fn decode_ogg_opus(ogg_opus: &[u8], max_ms: u64) -> Result<Pcm, DecodeError> {
    let (head, packets) = packets(ogg_opus)?;
    let last_gp = packets.last().map(|p| p.1).unwrap_or(0);
    let total_48k = last_gp.saturating_sub(u64::from(head.pre_skip));
    let ms = total_48k * 1000 / GRANULE_RATE;
    if ms > max_ms {
        return Err(DecodeError::TooLong {
            seconds: ms.div_ceil(1000),
            limit: max_ms / 1000,
        });
    }
    let _ = head.channels; // libopus downmixes to the one channel the decoder was opened with
    let mut decoder = opus::Decoder::new(SAMPLE_RATE, opus::Channels::Mono)
        .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
    let mut samples: Vec<i16> = Vec::with_capacity((total_48k / 3) as usize + MAX_FRAME);
    let mut frame = vec![0i16; MAX_FRAME];
    for (data, _) in &packets {
        if data.is_empty() {
            continue;
        }
        let n = decoder
            .decode(data, &mut frame, false)
            .map_err(|e| DecodeError::Corrupt(e.to_string()))?;
        samples.extend_from_slice(&frame[..n]);
    }
    // Pre-skip is in 48 kHz samples: a third of it at 16 kHz.
    let skip = (usize::from(head.pre_skip) / 3).min(samples.len());
    samples.drain(..skip);
    let want = (total_48k / 3) as usize;
    if want > 0 && samples.len() > want {
        samples.truncate(want);
    }
    if samples.is_empty() {
        return Err(DecodeError::Corrupt("no audio in the file".into()));
    }
    Ok(Pcm { samples })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_not_ogg_opus() {
        assert!(matches!(
            decode_ogg_opus(b"RIFF....WAVEfmt ", 60_000),
            Err(DecodeError::NotOggOpus(_))
        ));
        assert!(matches!(
            decode_ogg_opus(b"", 60_000),
            Err(DecodeError::NotOggOpus(_))
        ));
    }

    #[test]
    fn head_checks() {
        let mut head = b"OpusHead\x01\x01\x38\x01\x80\x3e\x00\x00\x00\x00\x00".to_vec();
        assert_eq!(
            parse_head(&head).unwrap(),
            Head {
                channels: 1,
                pre_skip: 312
            }
        );
        head[18] = 1;
        assert!(parse_head(&head).is_err(), "surround mapping refused");
        assert!(parse_head(b"OpusTags").is_err());
    }
}
