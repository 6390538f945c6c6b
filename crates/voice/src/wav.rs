//! 16-bit PCM WAV: what the transcription upload carries. Every OpenAI-compatible server
//! takes WAV (whisper.cpp's server and some local ones take nothing else), so the decoded
//! PCM is sent rather than the Ogg file.

use crate::decode::{Pcm, SAMPLE_RATE};

/// A RIFF/WAVE file of the samples: 16 kHz, mono, 16-bit little-endian.
pub fn encode(pcm: &Pcm) -> Vec<u8> {
    let data_len = (pcm.samples.len() * 2) as u32;
    let mut out = Vec::with_capacity(44 + data_len as usize);
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data_len).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes()); // fmt chunk size
    out.extend_from_slice(&1u16.to_le_bytes()); // PCM
    out.extend_from_slice(&1u16.to_le_bytes()); // mono
    out.extend_from_slice(&SAMPLE_RATE.to_le_bytes());
    out.extend_from_slice(&(SAMPLE_RATE * 2).to_le_bytes()); // byte rate
    out.extend_from_slice(&2u16.to_le_bytes()); // block align
    out.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_len.to_le_bytes());
    for s in &pcm.samples {
        out.extend_from_slice(&s.to_le_bytes());
    }
    out
}

/// (sample rate, channels, bits, number of samples) of a WAV made by [`encode`] — or any
/// canonical 44-byte-header PCM WAV. Used by the mock transcription server to check uploads.
pub fn describe(wav: &[u8]) -> Option<(u32, u16, u16, usize)> {
    if wav.len() < 44 || &wav[..4] != b"RIFF" || &wav[8..16] != b"WAVEfmt " {
        return None;
    }
    let u16_at = |i: usize| u16::from_le_bytes([wav[i], wav[i + 1]]);
    let u32_at = |i: usize| u32::from_le_bytes([wav[i], wav[i + 1], wav[i + 2], wav[i + 3]]);
    if u16_at(20) != 1 || &wav[36..40] != b"data" {
        return None;
    }
    let (channels, rate, bits) = (u16_at(22), u32_at(24), u16_at(34));
    let data = (u32_at(40) as usize).min(wav.len() - 44);
    let frame = usize::from(channels.max(1)) * usize::from(bits / 8).max(1);
    Some((rate, channels, bits, data / frame))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_round_trip() {
        let pcm = Pcm {
            samples: vec![0, 1, -1, i16::MAX, i16::MIN],
        };
        let wav = encode(&pcm);
        assert_eq!(wav.len(), 44 + 10);
        assert_eq!(describe(&wav), Some((16_000, 1, 16, 5)));
        assert_eq!(describe(b"not a wav"), None);
    }
}
