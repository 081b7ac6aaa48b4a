//! The rules engine's cost per turn: one utterance understood (intent, language, entities),
//! over every shipped labelled example in turn.

use caly_core::dialogue::Rules;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn utterances() -> Vec<String> {
    let folder = concat!(env!("CARGO_MANIFEST_DIR"), "/src/dialogue/examples");
    let mut lines = Vec::new();
    for entry in std::fs::read_dir(folder).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        lines.extend(text.lines().filter_map(|l| l.splitn(3, '\t').nth(2)).map(str::to_owned));
    }
    lines
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
