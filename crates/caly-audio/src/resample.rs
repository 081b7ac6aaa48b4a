//! Resampling between the rates calls use — 8 kHz (telephone), 16 kHz (browser, speech
//! recognition), 24 kHz (speech synthesis) — by a polyphase FIR: a Kaiser-windowed sinc low-pass
//! at the lower rate's band edge, evaluated only at the output instants.
//!
//! Written here rather than taken from rubato: the ratios are fixed for a stream and mostly small
//! (2:1, 3:1, 3:2), and a polyphase filter is then a short dot product per output sample with a
//! few hundred bytes of state, where rubato's FFT resampler (made for any ratio and long blocks)
//! kept kilobytes of buffers per call direction and cleared them every 20 ms frame — about a
//! tenth of the server's CPU with a few hundred calls (see BENCHMARKS.md).

#[derive(Debug, thiserror::Error)]
pub enum ResampleError {
    #[error("cannot resample from {from} Hz to {to} Hz: {reason}")]
    Unsupported { from: u32, to: u32, reason: &'static str },
}

/// The filter keeps the lower rate's band up to 43.75 % of that rate (3.5 kHz of 8 kHz) and
/// stops from 53.75 % (4.3 kHz): what lies above would fold back into the band.
const PASS_EDGE: f64 = 0.4375;
const STOP_EDGE: f64 = 0.5375;
/// Stopband attenuation in dB, which sets the Kaiser window's shape and the filter's length.
const ATTENUATION: f64 = 60.0;
/// Dot products run over this many lanes at once; each phase's taps are padded to a multiple.
const LANES: usize = 8;
/// The most coefficients a filter may have: rates with few common factors (22,050 → 16,000 Hz
/// is 320:441) need about 18,000; this refuses only ratios no audio source uses.
const MAX_COEFFICIENTS: usize = 1 << 18;

/// One direction of one call's audio, fed 20 ms frames or any other chunking; the same input
/// gives the same output however it is cut.
#[derive(Debug, Clone)]
pub struct Resampler {
    filter: Filter,
    /// The last `taps - 1` inputs already used, then the inputs not yet used.
    history: Vec<f32>,
    /// Where the next output's window starts in `history`, and which phase it uses.
    next: usize,
    phase: usize,
    delay: usize,
}

/// The polyphase filter of one ratio.
#[derive(Debug, Clone)]
struct Filter {
    up: usize,
    down: usize,
    /// `up` phases of `taps` coefficients each, every phase in reverse order so that an output
    /// sample is the dot product of one phase with a window of consecutive inputs.
    phases: Vec<f32>,
    taps: usize,
}

impl Resampler {
    pub fn new(from: u32, to: u32) -> Result<Self, ResampleError> {
        let unsupported = |reason| ResampleError::Unsupported { from, to, reason };
        if from == 0 || to == 0 {
            return Err(unsupported("rates must be positive"));
        }
        let common = gcd(from, to);
        let (up, down) = (to / common, from / common);
        let high = f64::from(from * up);
        let low = f64::from(from.min(to));
        let cutoff = (PASS_EDGE + STOP_EDGE) / 2.0 * low / high;
        let transition = (STOP_EDGE - PASS_EDGE) * low / high;
        // Kaiser's estimates of the window's shape and the length that reach ATTENUATION.
        let beta = 0.1102 * (ATTENUATION - 8.7);
        let length = ((ATTENUATION - 8.0) / (2.285 * std::f64::consts::TAU * transition)).ceil() as usize + 1;
        let (up, down) = (up as usize, down as usize);
        let taps = length.div_ceil(up).next_multiple_of(LANES);
        if taps * up > MAX_COEFFICIENTS {
            return Err(unsupported("the rates have too few common factors"));
        }
        let centre = (length - 1) as f64 / 2.0;
        let gain = up as f64;
        let prototype = |n: usize| {
            if n >= length {
                return 0.0;
            }
            let t = n as f64 - centre;
            let sinc = if t == 0.0 {
                2.0 * cutoff
            } else {
                (std::f64::consts::TAU * cutoff * t).sin() / (std::f64::consts::PI * t)
            };
            let window = bessel_i0(beta * (1.0 - (t / centre).powi(2)).max(0.0).sqrt()) / bessel_i0(beta);
            gain * sinc * window
        };
        let phases = (0..up)
            .flat_map(|phase| (0..taps).rev().map(move |k| phase + k * up))
            .map(|n| prototype(n) as f32)
            .collect();
        Ok(Self {
            filter: Filter { up, down, phases, taps },
            history: vec![0.0; taps - 1],
            next: 0,
            phase: 0,
            delay: (length - 1).div_ceil(2 * down),
        })
    }

    /// Output samples the filter delays everything by.
    pub fn delay(&self) -> usize {
        self.delay
    }

    /// Resamples `samples`, appending every output sample they complete to `out`.
    pub fn push(&mut self, samples: &[i16], out: &mut Vec<i16>) {
        self.history.extend(samples.iter().map(|&s| f32::from(s)));
        (self.next, self.phase) = convolve(&self.filter, &self.history, self.next, self.phase, out);
        self.history.drain(..self.next);
        self.next = 0;
    }
}

/// Every output sample whose window `history` holds, from the window at `next` with `phase`;
/// returns where the next output's window starts and its phase.
///
/// Compiled also for AVX and chosen at run time when the CPU has it: the dot products then
/// take eight lanes in one instruction instead of two, with the same sums in the same order
/// (no fused multiply-add), so every CPU gives the same samples.
#[multiversion::multiversion(targets("x86_64+avx"))]
fn convolve(filter: &Filter, history: &[f32], mut next: usize, mut phase: usize, out: &mut Vec<i16>) -> (usize, usize) {
    let taps = filter.taps;
    while next + taps <= history.len() {
        let window = &history[next..next + taps];
        let coefficients = &filter.phases[phase * taps..(phase + 1) * taps];
        let sample = dot(window, coefficients);
        // Rounded half away from zero; `as` saturates at the i16 range.
        out.push((sample + 0.5f32.copysign(sample)) as i16);
        // Subtraction, not division: a division per sample cost more than the filter.
        phase += filter.down;
        while phase >= filter.up {
            phase -= filter.up;
            next += 1;
        }
    }
    (next, phase)
}

/// A dot product over lanes the compiler turns into vector instructions; both slices are the
/// same multiple of `LANES` long. Always inlined, so that it is compiled with the instructions
/// of the [`convolve`] it is in.
#[inline(always)]
fn dot(window: &[f32], coefficients: &[f32]) -> f32 {
    let mut sums = [0.0f32; LANES];
    for (x, c) in window.as_chunks::<LANES>().0.iter().zip(coefficients.as_chunks::<LANES>().0) {
        for lane in 0..LANES {
            sums[lane] += x[lane] * c[lane];
        }
    }
    sums.iter().sum()
}

/// The modified Bessel function of the first kind, order 0, by its power series.
fn bessel_i0(x: f64) -> f64 {
    let (mut sum, mut term, mut k) = (1.0, 1.0, 1.0);
    while term > sum * 1e-12 {
        term *= (x / (2.0 * k)).powi(2);
        sum += term;
        k += 1.0;
    }
    sum
}

fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use std::f32::consts::PI;

    use super::*;
    use crate::frame::samples_per_frame;

    /// A sine sweep from `low` to `high` Hz over one second at `rate`, at half full scale.
    fn sweep(rate: u32, low: f32, high: f32) -> Vec<i16> {
        let n = rate as usize;
        (0..n)
            .map(|i| {
                let t = i as f32 / rate as f32;
                let phase = 2.0 * PI * (low * t + (high - low) * t * t / 2.0);
                (phase.sin() * 16_000.0) as i16
            })
            .collect()
    }

    fn rms(samples: &[i16]) -> f32 {
        (samples.iter().map(|&s| f32::from(s).powi(2)).sum::<f32>() / samples.len() as f32).sqrt()
    }

    fn resample(from: u32, to: u32, samples: &[i16]) -> Vec<i16> {
        let mut resampler = Resampler::new(from, to).unwrap();
        let mut out = Vec::new();
        for frame in samples.chunks(samples_per_frame(from)) {
            resampler.push(frame, &mut out);
        }
        out
    }

    #[test]
    fn downsampling_keeps_the_band_and_rejects_what_would_alias() {
        // 16 → 8 kHz: a sweep below 3.5 kHz passes; a sweep over 4.3–7.8 kHz would fold back
        // into 0.2–3.7 kHz without the filter, and must come out at least 54 dB down.
        let band = sweep(16_000, 100.0, 3_500.0);
        let kept = resample(16_000, 8_000, &band);
        assert!((kept.len() as i32 - 8_000).abs() <= 160, "{} samples", kept.len());
        let ratio = rms(&kept[400..]) / rms(&band);
        assert!((0.9..1.1).contains(&ratio), "passband level {ratio}");
        let above = sweep(16_000, 4_300.0, 7_800.0);
        let folded = resample(16_000, 8_000, &above);
        // Away from the sweep's abrupt start and end, which are clicks across every band.
        let leak = rms(&folded[200..7_800]) / rms(&above);
        println!("aliases from a 4.3–7.8 kHz sweep: {:.1} dB", 20.0 * leak.log10());
        assert!(leak < 0.002, "aliases at {:.1} dB", 20.0 * leak.log10());
    }

    /// Power of `samples` at `freq` Hz (Goertzel).
    fn power_at(samples: &[i16], rate: u32, freq: f64) -> f64 {
        let coeff = 2.0 * (2.0 * std::f64::consts::PI * freq / f64::from(rate)).cos();
        let (mut s1, mut s2) = (0.0, 0.0);
        for &x in samples {
            let s = f64::from(x) + coeff * s1 - s2;
            s2 = s1;
            s1 = s;
        }
        s1 * s1 + s2 * s2 - coeff * s1 * s2
    }

    #[test]
    fn upsampling_adds_no_images() {
        // 8 → 16 kHz: a 1 kHz tone must not bring its mirror image at 7 kHz along.
        let tone: Vec<i16> =
            (0..8_000).map(|i| ((2.0 * PI * 1_000.0 * i as f32 / 8_000.0).sin() * 16_000.0) as i16).collect();
        let up = resample(8_000, 16_000, &tone);
        let steady = &up[1_000..15_000];
        let image = power_at(steady, 16_000, 7_000.0) / power_at(steady, 16_000, 1_000.0);
        println!("image at 7 kHz: {:.1} dB", 10.0 * image.log10());
        assert!(image < 1e-4, "image at {:.1} dB", 10.0 * image.log10());
    }

    #[test]
    fn the_rates_calls_use_are_supported_and_any_chunking_gives_the_same_audio() {
        for (from, to) in [
            (8_000, 16_000),
            (16_000, 8_000),
            (16_000, 24_000),
            (24_000, 8_000),
            (24_000, 16_000),
            (22_050, 8_000),
            (44_100, 16_000),
        ] {
            let audio = sweep(from, 200.0, 3_000.0);
            let whole = resample(from, to, &audio);
            let mut odd = Resampler::new(from, to).unwrap();
            let mut pieces = Vec::new();
            for piece in audio.chunks(97) {
                odd.push(piece, &mut pieces);
            }
            assert_eq!(whole, pieces, "{from} → {to}");
        }
    }

    #[test]
    fn rates_without_common_factors_are_refused_with_the_rates_named() {
        let error = Resampler::new(44_101, 8_000).unwrap_err().to_string();
        assert!(error.contains("44101 Hz to 8000 Hz"), "{error}");
        assert!(Resampler::new(0, 8_000).is_err());
    }

    #[test]
    fn the_stated_delay_is_where_an_impulse_comes_out() {
        for (from, to) in
            [(8_000, 16_000), (16_000, 8_000), (24_000, 8_000), (16_000, 24_000), (24_000, 16_000), (22_050, 16_000)]
        {
            let mut resampler = Resampler::new(from, to).unwrap();
            let mut impulse = vec![0i16; from as usize / 10];
            impulse[0] = 30_000;
            let mut out = Vec::new();
            resampler.push(&impulse, &mut out);
            let peak = (0..out.len()).max_by_key(|&i| out[i].unsigned_abs()).unwrap();
            assert!(
                peak.abs_diff(resampler.delay()) <= 1,
                "{from} → {to}: peak at {peak}, delay {}",
                resampler.delay()
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn any_cutting_of_any_audio_gives_the_same_output(
            audio in proptest::collection::vec(proptest::num::i16::ANY, 0..2_000),
            cuts in proptest::collection::vec(1usize..400, 1..20),
            ratio in 0usize..6,
        ) {
            let (from, to) =
                [(8_000, 16_000), (16_000, 8_000), (24_000, 8_000), (16_000, 24_000), (24_000, 16_000), (22_050, 16_000)][ratio];
            let mut whole = Vec::new();
            Resampler::new(from, to).unwrap().push(&audio, &mut whole);
            let mut resampler = Resampler::new(from, to).unwrap();
            let mut pieces = Vec::new();
            let mut rest = &audio[..];
            for &cut in cuts.iter().cycle() {
                if rest.is_empty() {
                    break;
                }
                let (piece, after) = rest.split_at(cut.min(rest.len()));
                resampler.push(piece, &mut pieces);
                rest = after;
            }
            proptest::prop_assert_eq!(whole, pieces);
        }
    }
}
