//! Every 16-bit sample and every code against Python's `audioop`, which implements the ITU
//! reference algorithm (a codec nobody here wrote).

use std::process::Command;

use caly_audio::g711;

/// Runs `code` in Python 3 and returns what it printed, as hex-decoded bytes.
fn python(code: &str) -> Vec<u8> {
    let output = Command::new("python3")
        .args(["-W", "ignore::DeprecationWarning", "-c", code])
        .output()
        .expect("python3 is installed (the reference for G.711 is its audioop module)");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let hex = String::from_utf8(output.stdout).unwrap();
    (0..hex.trim().len()).step_by(2).map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap()).collect()
}

const EVERY_SAMPLE: &str = "import audioop, struct; pcm = struct.pack('<65536h', *range(-32768, 32768)); ";
const EVERY_CODE: &str = "import audioop; codes = bytes(range(256)); ";

#[test]
fn encoding_every_sample_matches_the_reference() {
    let ulaw = python(&format!("{EVERY_SAMPLE}print(audioop.lin2ulaw(pcm, 2).hex())"));
    let alaw = python(&format!("{EVERY_SAMPLE}print(audioop.lin2alaw(pcm, 2).hex())"));
    for (i, sample) in (i16::MIN..=i16::MAX).enumerate() {
        assert_eq!(g711::pcm_to_ulaw(sample), ulaw[i], "μ-law of {sample}");
        assert_eq!(g711::pcm_to_alaw(sample), alaw[i], "A-law of {sample}");
    }
}

#[test]
fn decoding_every_code_matches_the_reference() {
    let ulaw = python(&format!("{EVERY_CODE}print(audioop.ulaw2lin(codes, 2).hex())"));
    let alaw = python(&format!("{EVERY_CODE}print(audioop.alaw2lin(codes, 2).hex())"));
    for code in 0..=255u8 {
        let at = usize::from(code) * 2;
        assert_eq!(g711::ulaw_to_pcm(code), i16::from_le_bytes([ulaw[at], ulaw[at + 1]]), "μ-law {code:#04x}");
        assert_eq!(g711::alaw_to_pcm(code), i16::from_le_bytes([alaw[at], alaw[at + 1]]), "A-law {code:#04x}");
    }
}
