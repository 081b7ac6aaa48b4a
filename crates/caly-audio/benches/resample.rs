//! Resampling throughput, as real-time factors: one second of audio through the resampler in
//! 20 ms frames, as a call feeds it.

use caly_audio::{frame::samples_per_frame, resample::Resampler};
use criterion::{Criterion, criterion_group, criterion_main};

fn one_second(c: &mut Criterion) {
    let mut group = c.benchmark_group("resample_one_second");
    for (from, to) in [(8_000u32, 16_000u32), (16_000, 8_000), (24_000, 16_000), (24_000, 8_000), (22_050, 16_000)] {
        let audio: Vec<i16> = (0..from).map(|i| ((i as f32 * 0.07).sin() * 12_000.0) as i16).collect();
        let mut resampler = Resampler::new(from, to).unwrap();
        let mut out = Vec::with_capacity(to as usize);
        group.bench_function(format!("{from}_to_{to}"), |b| {
            b.iter(|| {
                out.clear();
                for frame in audio.chunks(samples_per_frame(from)) {
                    resampler.push(frame, &mut out);
                }
                out.len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, one_second);
criterion_main!(benches);
