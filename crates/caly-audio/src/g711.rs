//! G.711 μ-law (Twilio, Plivo) and A-law, bit-exact with the ITU reference algorithm (the one
//! in ITU-T G.191's `g711.c`, also behind Python's `audioop`). Both directions are tables built
//! at compile time: decoding is one lookup per byte, encoding one lookup per sample.

const BIAS: i32 = 0x84;
const ULAW_CLIP: i32 = 8159;
/// The top of each μ-law segment, in 14-bit magnitude plus bias.
const ULAW_SEGMENT_END: [i32; 8] = [0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF];
/// The top of each A-law segment, in 13-bit magnitude.
const ALAW_SEGMENT_END: [i32; 8] = [0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF];

const fn segment(value: i32, ends: &[i32; 8]) -> usize {
    let mut segment = 0;
    while segment < 8 && value > ends[segment] {
        segment += 1;
    }
    segment
}

/// μ-law of a 14-bit sample (a 16-bit one shifted right by 2).
const fn ulaw_of_14(sample: i32) -> u8 {
    let (mut magnitude, mask) = if sample < 0 { (-sample, 0x7F) } else { (sample, 0xFF) };
    if magnitude > ULAW_CLIP {
        magnitude = ULAW_CLIP;
    }
    magnitude += BIAS >> 2;
    let segment = segment(magnitude, &ULAW_SEGMENT_END);
    if segment >= 8 {
        return 0x7F ^ mask;
    }
    (((segment as i32) << 4) | ((magnitude >> (segment + 1)) & 0xF)) as u8 ^ mask
}

/// A-law of a 13-bit sample (a 16-bit one shifted right by 3).
const fn alaw_of_13(sample: i32) -> u8 {
    let (magnitude, mask) = if sample >= 0 { (sample, 0xD5) } else { (-sample - 1, 0x55) };
    let segment = segment(magnitude, &ALAW_SEGMENT_END);
    if segment >= 8 {
        return 0x7F ^ mask;
    }
    let shift = if segment < 2 { 1 } else { segment };
    ((((segment as i32) << 4) | ((magnitude >> shift) & 0xF)) as u8) ^ mask
}

const fn ulaw_decoded(byte: u8) -> i16 {
    let byte = !byte as i32;
    let magnitude = (((byte & 0xF) << 3) + BIAS) << ((byte & 0x70) >> 4);
    (if byte & 0x80 != 0 { BIAS - magnitude } else { magnitude - BIAS }) as i16
}

const fn alaw_decoded(byte: u8) -> i16 {
    let byte = (byte ^ 0x55) as i32;
    let mut magnitude = (byte & 0xF) << 4;
    let segment = (byte & 0x70) >> 4;
    magnitude += if segment == 0 { 8 } else { 0x108 };
    if segment > 1 {
        magnitude <<= segment - 1;
    }
    (if byte & 0x80 != 0 { magnitude } else { -magnitude }) as i16
}

static ULAW_DECODE: [i16; 256] = {
    let mut table = [0; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = ulaw_decoded(i as u8);
        i += 1;
    }
    table
};

static ALAW_DECODE: [i16; 256] = {
    let mut table = [0; 256];
    let mut i = 0;
    while i < 256 {
        table[i] = alaw_decoded(i as u8);
        i += 1;
    }
    table
};

/// μ-law by 14-bit sample, offset so that index 0 is -8192.
static ULAW_ENCODE: [u8; 16384] = {
    let mut table = [0; 16384];
    let mut i = 0;
    while i < 16384 {
        table[i] = ulaw_of_14(i as i32 - 8192);
        i += 1;
    }
    table
};

/// A-law by 13-bit sample, offset so that index 0 is -4096.
static ALAW_ENCODE: [u8; 8192] = {
    let mut table = [0; 8192];
    let mut i = 0;
    while i < 8192 {
        table[i] = alaw_of_13(i as i32 - 4096);
        i += 1;
    }
    table
};

pub fn ulaw_to_pcm(byte: u8) -> i16 {
    ULAW_DECODE[byte as usize]
}

pub fn pcm_to_ulaw(sample: i16) -> u8 {
    ULAW_ENCODE[((sample >> 2) as i32 + 8192) as usize]
}

pub fn alaw_to_pcm(byte: u8) -> i16 {
    ALAW_DECODE[byte as usize]
}

pub fn pcm_to_alaw(sample: i16) -> u8 {
    ALAW_ENCODE[((sample >> 3) as i32 + 4096) as usize]
}

/// Decodes a μ-law payload (one byte per sample) onto the end of `pcm`.
pub fn decode_ulaw(bytes: &[u8], pcm: &mut Vec<i16>) {
    pcm.extend(bytes.iter().map(|&b| ulaw_to_pcm(b)));
}

/// Encodes PCM samples as μ-law onto the end of `bytes`.
pub fn encode_ulaw(pcm: &[i16], bytes: &mut Vec<u8>) {
    bytes.extend(pcm.iter().map(|&s| pcm_to_ulaw(s)));
}

pub fn decode_alaw(bytes: &[u8], pcm: &mut Vec<i16>) {
    pcm.extend(bytes.iter().map(|&b| alaw_to_pcm(b)));
}

pub fn encode_alaw(pcm: &[i16], bytes: &mut Vec<u8>) {
    bytes.extend(pcm.iter().map(|&s| pcm_to_alaw(s)));
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn the_published_end_points() {
        assert_eq!((ulaw_to_pcm(0x00), ulaw_to_pcm(0x80), ulaw_to_pcm(0xFF), ulaw_to_pcm(0x7F)), (-32124, 32124, 0, 0));
        assert_eq!(
            (alaw_to_pcm(0xD5), alaw_to_pcm(0x55), alaw_to_pcm(0xAA), alaw_to_pcm(0x2A)),
            (8, -8, 32256, -32256)
        );
        assert_eq!((pcm_to_ulaw(0), pcm_to_ulaw(i16::MAX), pcm_to_ulaw(i16::MIN)), (0xFF, 0x80, 0x00));
        assert_eq!((pcm_to_alaw(0), pcm_to_alaw(i16::MAX), pcm_to_alaw(i16::MIN)), (0xD5, 0xAA, 0x2A));
    }

    #[test]
    fn every_code_survives_a_round_trip() {
        for byte in 0..=255u8 {
            // μ-law has two zeros (0x7F is -0); both decode to 0, which encodes as 0xFF.
            let expected = if byte == 0x7F { 0xFF } else { byte };
            assert_eq!(pcm_to_ulaw(ulaw_to_pcm(byte)), expected, "μ-law {byte:#04x}");
            assert_eq!(pcm_to_alaw(alaw_to_pcm(byte)), byte, "A-law {byte:#04x}");
        }
    }

    proptest! {
        /// Companding error grows with the magnitude but stays within one step of its segment.
        #[test]
        fn encoding_error_is_within_one_step(sample in any::<i16>()) {
            let ulaw_error = (i32::from(ulaw_to_pcm(pcm_to_ulaw(sample))) - i32::from(sample)).abs();
            prop_assert!(ulaw_error <= (i32::from(sample).abs() / 16).max(8) + 4, "μ-law {sample}: {ulaw_error}");
            let alaw_error = (i32::from(alaw_to_pcm(pcm_to_alaw(sample))) - i32::from(sample)).abs();
            prop_assert!(alaw_error <= (i32::from(sample).abs() / 16).max(16) + 8, "A-law {sample}: {alaw_error}");
        }
    }
}
