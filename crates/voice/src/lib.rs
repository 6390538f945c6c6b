//! Voice notes (issue 16): a WhatsApp voice note (Ogg/Opus) decoded to 16 kHz mono PCM
//! ([`decode`]), wrapped as WAV ([`wav`]) and turned into text by a [`Transcriber`]
//! ([`transcribe`]). No I/O here but the provider's HTTP call; fetching the audio from Meta
//! and storing it is the worker's (`worker::media`).
//!
//! A local whisper.cpp provider (through its Rust binding) is not built: a local
//! whisper.cpp *server* speaks the same OpenAI-compatible API (docs/voice-notes.md).

pub mod decode;
pub mod transcribe;
pub mod wav;

pub use decode::{decode_ogg_opus, DecodeError, Pcm, SAMPLE_RATE};
pub use transcribe::{
    HttpTranscriber, HttpTranscriberConfig, TranscribeError, TranscribeFuture, Transcriber,
};
