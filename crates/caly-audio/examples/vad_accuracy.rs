//! How well the speech engines' voice detector tells speech from silence and telephone noise:
//! each WAV given (speech synthesised by espeak-ng, see benches/vad_accuracy.sh) is put between
//! stretches of silence, mixed with band-limited noise (300–3,400 Hz, a phone line's band) at
//! several signal-to-noise ratios, and judged frame by frame (20 ms) at 8 and 16 kHz for each
//! aggressiveness. The truth: a frame is speech when the clean speech in it is within 30 dB of
//! the utterance's loudest frame.
//!
//! `cargo run --release -p caly-audio --example vad_accuracy -- a.wav b.wav …`

use caly_audio::{
    resample::Resampler,
    vad::{Classifier, Neural},
};

fn read(path: &str) -> (Vec<i16>, u32) {
    let reader = hound::WavReader::open(path).expect("a WAV file");
    let rate = reader.spec().sample_rate;
    (reader.into_samples().map(Result::unwrap).collect(), rate)
}

fn resample(samples: &[i16], from: u32, to: u32) -> Vec<i16> {
    let mut resampler = Resampler::new(from, to).unwrap();
    let mut out = Vec::new();
    resampler.push(samples, &mut out);
    resampler.push(&vec![0; resampler.delay() * 2 + 64], &mut out);
    out
}

/// White noise through a one-pole high-pass (300 Hz) and low-pass (3,400 Hz); seeded.
fn phone_noise(len: usize, rate: u32, seed: &mut u64) -> Vec<f64> {
    let dt = 1.0 / f64::from(rate);
    let high = 1.0 / (1.0 + dt * std::f64::consts::TAU * 300.0);
    let low = dt / (dt + 1.0 / (std::f64::consts::TAU * 3_400.0));
    let (mut last_in, mut last_high, mut last_low) = (0.0, 0.0, 0.0);
    (0..len)
        .map(|_| {
            *seed ^= *seed << 13;
            *seed ^= *seed >> 7;
            *seed ^= *seed << 17;
            let white = (*seed >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0;
            let high_passed = high * (last_high + white - last_in);
            last_in = white;
            last_high = high_passed;
            last_low += low * (high_passed - last_low);
            last_low
        })
        .collect()
}

fn rms(samples: &[f64]) -> f64 {
    (samples.iter().map(|s| s * s).sum::<f64>() / samples.len().max(1) as f64).sqrt()
}

#[derive(Default, Clone, Copy)]
struct Tally {
    speech: u64,
    speech_heard: u64,
    quiet: u64,
    quiet_heard: u64,
}

fn main() {
    let files: Vec<String> = std::env::args().skip(1).collect();
    assert!(!files.is_empty(), "give the WAV files of benches/vad_accuracy.sh");
    let snrs: [Option<f64>; 5] = [None, Some(20.0), Some(10.0), Some(5.0), Some(0.0)];
    println!("| rate | aggressiveness | SNR | accuracy | speech frames heard | non-speech frames called speech |");
    println!("|---|---|---|---|---|---|");
    for rate in [8_000u32, 16_000] {
        let frame = rate as usize / 50;
        for aggressiveness in 0..=3u8 {
            for snr in snrs {
                let mut tally = Tally::default();
                let mut seed = 0x9e37_79b9_7f4a_7c15u64;
                for file in &files {
                    let (speech, from) = read(file);
                    let speech = resample(&speech, from, rate);
                    let gap = vec![0i16; rate as usize];
                    let clean: Vec<f64> = gap.iter().chain(&speech).chain(&gap).map(|&s| f64::from(s)).collect();
                    let frames: Vec<f64> = clean.chunks(frame).map(rms).collect();
                    let loudest = frames.iter().copied().fold(0.0, f64::max);
                    let truth: Vec<bool> = frames.iter().map(|&r| r >= loudest * 10f64.powf(-30.0 / 20.0)).collect();
                    let voiced: Vec<f64> =
                        clean.chunks(frame).zip(&truth).filter(|(_, t)| **t).flat_map(|(c, _)| c.to_vec()).collect();
                    let mixed: Vec<i16> = match snr {
                        None => clean.iter().map(|&s| s as i16).collect(),
                        Some(snr) => {
                            let noise = phone_noise(clean.len(), rate, &mut seed);
                            let gain = rms(&voiced) / rms(&noise) / 10f64.powf(snr / 20.0);
                            clean
                                .iter()
                                .zip(&noise)
                                .map(|(s, n)| (s + n * gain).clamp(-32_768.0, 32_767.0) as i16)
                                .collect()
                        }
                    };
                    let mut neural = Neural::new(rate, aggressiveness).unwrap();
                    for (chunk, is_speech) in mixed.chunks(frame).zip(&truth) {
                        let heard = neural.is_speech(chunk);
                        if *is_speech {
                            tally.speech += 1;
                            tally.speech_heard += u64::from(heard);
                        } else {
                            tally.quiet += 1;
                            tally.quiet_heard += u64::from(heard);
                        }
                    }
                }
                let correct = tally.speech_heard + tally.quiet - tally.quiet_heard;
                let percent = |a: u64, b: u64| 100.0 * a as f64 / b.max(1) as f64;
                println!(
                    "| {} kHz | {aggressiveness} | {} | {:.1}% | {:.1}% | {:.1}% |",
                    rate / 1_000,
                    snr.map_or("clean".to_owned(), |s| format!("{s} dB")),
                    percent(correct, tally.speech + tally.quiet),
                    percent(tally.speech_heard, tally.speech),
                    percent(tally.quiet_heard, tally.quiet),
                );
            }
        }
    }
}
