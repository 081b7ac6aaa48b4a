//! Resampling between the rates calls use — 8 kHz (telephone), 16 kHz (browser, speech
//! recognition), 24 kHz (speech synthesis) — with rubato's FFT resampler, whose anti-aliasing
//! filter keeps everything above the lower rate's Nyquist frequency out of the result.

use rubato::{Fft, FixedSync, Resampler as _, audioadapter_buffers::direct::InterleavedSlice};

use crate::frame::samples_per_frame;

#[derive(Debug, thiserror::Error)]
pub enum ResampleError {
    #[error("cannot resample from {from} Hz to {to} Hz: {reason}")]
    Unsupported { from: u32, to: u32, reason: String },
}

/// One direction of one call's audio, fed 20 ms frames or any other chunking.
pub struct Resampler {
    fft: Fft<f32>,
    /// Input samples not yet resampled (less than one chunk).
    pending: Vec<f32>,
    output: Vec<f32>,
    chunk: usize,
}

impl Resampler {
    pub fn new(from: u32, to: u32) -> Result<Self, ResampleError> {
        let unsupported = |reason: String| ResampleError::Unsupported { from, to, reason };
        let chunk = samples_per_frame(from);
        let fft = Fft::<f32>::new(from as usize, to as usize, chunk, 1, 1, FixedSync::Input)
            .map_err(|e| unsupported(e.to_string()))?;
        let output = vec![0.0; fft.output_frames_max()];
        Ok(Self { fft, pending: Vec::with_capacity(chunk), output, chunk })
    }

    /// Output samples the filter delays everything by.
    pub fn delay(&self) -> usize {
        self.fft.output_delay()
    }

    /// Resamples `samples`, appending every whole chunk's result to `out`.
    pub fn push(&mut self, samples: &[i16], out: &mut Vec<i16>) {
        self.pending.extend(samples.iter().map(|&s| f32::from(s) / 32768.0));
        let mut start = 0;
        while self.pending.len() - start >= self.chunk {
            let input = &self.pending[start..start + self.chunk];
            let frames_out = self.output.len();
            let (Ok(input), Ok(mut output)) = (
                InterleavedSlice::new(input, 1, self.chunk),
                InterleavedSlice::new_mut(&mut self.output, 1, frames_out),
            ) else {
                unreachable!("the buffers are sized for one channel and one chunk")
            };
            let (_, written) =
                self.fft.process_into_buffer(&input, &mut output, None).expect("buffers sized by the resampler itself");
            out.extend(self.output[..written].iter().map(|&s| (s * 32768.0).round().clamp(-32768.0, 32767.0) as i16));
            start += self.chunk;
        }
        self.pending.drain(..start);
    }
}

#[cfg(test)]
mod tests {
    use std::f32::consts::PI;

    use super::*;

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
        // into 0.2–3.7 kHz without the filter, and must come out at least 40 dB down.
        let band = sweep(16_000, 100.0, 3_500.0);
        let kept = resample(16_000, 8_000, &band);
        assert!((kept.len() as i32 - 8_000).abs() <= 160, "{} samples", kept.len());
        let ratio = rms(&kept[400..]) / rms(&band);
        assert!((0.9..1.1).contains(&ratio), "passband level {ratio}");
        let above = sweep(16_000, 4_300.0, 7_800.0);
        let folded = resample(16_000, 8_000, &above);
        let leak = rms(&folded) / rms(&above);
        println!("aliases from a 4.3–7.8 kHz sweep: {:.1} dB", 20.0 * leak.log10());
        assert!(leak < 0.01, "aliases at {:.1} dB", 20.0 * leak.log10());
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
        for (from, to) in [(8_000, 16_000), (16_000, 8_000), (16_000, 24_000), (24_000, 8_000), (24_000, 16_000)] {
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
}
