//! The rules engine's cost per turn: one utterance understood (intent, language, entities),
//! over every shipped labelled example in turn.

use caly_core::dialogue::{EXAMPLES, Rules, labelled};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn utterances() -> Vec<&'static str> {
    EXAMPLES.iter().flat_map(|file| labelled(file)).map(|(_, _, utterance)| utterance).collect()
}

fn understand(c: &mut Criterion) {
    let rules = Rules::new();
    let utterances = utterances();
    let mut group = c.benchmark_group("rules");
    group.throughput(Throughput::Elements(utterances.len() as u64));
    group.bench_function("understand_every_labelled_utterance", |b| {
        b.iter(|| utterances.iter().map(|u| rules.understand(u).confidence).sum::<f32>())
    });
    group.finish();
    c.bench_function("rules/build", |b| b.iter(Rules::new));
}

criterion_group!(benches, understand);
criterion_main!(benches);
