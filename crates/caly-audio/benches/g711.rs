//! G.711 throughput, as real-time factors: one second of 8 kHz audio is 8,000 samples.

use caly_audio::g711;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn codecs(c: &mut Criterion) {
    let second: Vec<i16> = (0..8_000).map(|i| ((i as f32 * 0.05).sin() * 12_000.0) as i16).collect();
    let mut ulaw = Vec::with_capacity(8_000);
    g711::encode_ulaw(&second, &mut ulaw);
    let mut group = c.benchmark_group("g711_one_second_at_8khz");
    group.throughput(Throughput::Elements(8_000));
    group.bench_function("encode_ulaw", |b| {
        let mut out = Vec::with_capacity(8_000);
        b.iter(|| {
            out.clear();
            g711::encode_ulaw(&second, &mut out);
            out.len()
        })
    });
    group.bench_function("decode_ulaw", |b| {
        let mut out = Vec::with_capacity(8_000);
        b.iter(|| {
            out.clear();
            g711::decode_ulaw(&ulaw, &mut out);
            out.len()
        })
    });
    group.finish();
}

criterion_group!(benches, codecs);
criterion_main!(benches);
