//! The real fixture (`fixtures/audio/dez_sacos_de_cimento.ogg`, made with Debian's tools:
//! `espeak-ng -v pt-br -w x.wav "dez sacos de cimento" && opusenc --bitrate 16 x.wav x.ogg`,
//! a 22,050 Hz mono WAV of 34,707 samples = 1.574 s) decodes to 16 kHz mono PCM of the
//! length the sender recorded.

use voice::decode::{decode_ogg_opus, duration_ms, DecodeError, SAMPLE_RATE};

const OGG: &[u8] = include_bytes!("../../../fixtures/audio/dez_sacos_de_cimento.ogg");

#[test]
fn fixture_decodes_to_16k_mono_of_the_recorded_length() {
    let pcm = decode_ogg_opus(OGG, 60_000).unwrap();
    // 34,707 samples at 22,050 Hz are 25,184.3 samples at 16 kHz; opusenc's granule
    // position rounds at 48 kHz, so one sample either way is the encoder's rounding.
    let want = 34_707.0 * f64::from(SAMPLE_RATE) / 22_050.0;
    let got = pcm.samples.len() as f64;
    assert!((got - want).abs() <= 2.0, "{got} samples, want ~{want}");
    assert_eq!(pcm.duration_ms(), 1574);
    assert_eq!(duration_ms(OGG).unwrap(), 1574);
    // Speech, not silence: a real signal came out of libopus.
    let peak = pcm.samples.iter().map(|s| s.unsigned_abs()).max().unwrap();
    assert!(peak > 3000, "peak {peak}");
    let wav = voice::wav::encode(&pcm);
    assert_eq!(
        voice::wav::describe(&wav),
        Some((16_000, 1, 16, pcm.samples.len()))
    );
}

#[test]
fn too_long_is_refused_before_decoding() {
    assert_eq!(
        decode_ogg_opus(OGG, 1_000),
        Err(DecodeError::TooLong {
            seconds: 2,
            limit: 1
        })
    );
}

#[test]
fn a_cut_file_or_another_format_is_an_error_not_a_panic() {
    for cut in [10, 60, 200, OGG.len() / 2] {
        let _ = decode_ogg_opus(&OGG[..cut], 60_000);
    }
    assert!(matches!(
        decode_ogg_opus(b"\xff\xd8\xff\xe0JFIF", 60_000),
        Err(DecodeError::NotOggOpus(_))
    ));
}
