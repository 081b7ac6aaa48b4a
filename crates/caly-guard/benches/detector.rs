//! Cost of the attack detector: a typical 2 KB API request, and bodies built to be expensive
//! (every byte an escape to undo, no early match) at growing sizes to show the cost is linear.
//!
//! `cargo bench -p caly-guard --bench detector`

use std::hint::black_box;

use caly_guard::detector::{Detector, Mode, RequestView};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// A settings update from the dashboard: greetings in three languages, an address with `#`,
/// `'` and `-`, notes, a webhook URL, behind a session cookie, a browser User-Agent and a
/// Referer.
fn typical_body() -> String {
    serde_json::json!({
        "agent": {"name": "Caly", "voice": "alloy", "greeting": {
            "hi": "नमस्ते! मैं कैली हूँ, बताइए मैं आपकी क्या मदद करूँ? आपका ऑर्डर नंबर क्या है?",
            "en": "Hello! This is Caly from Demo Store. How can I help you with your order today?",
            "hinglish": "Namaste! Main Caly hoon, Demo Store se. Aapka order number bata dijiye, main check karti hoon."
        }},
        "business_hours": {"days": "Mon-Sat", "open": "10:00", "close": "19:00", "timezone": "Asia/Kolkata"},
        "after_hours_message": "Hum abhi band hain. Kal subah 10 baje se 7 baje tak call karein. Dhanyavaad!",
        "policies": {"return_window_days": 7, "refund_auto_approve_limit_inr": "2000.00", "address_change_window_hours": 12},
        "pickup_address": "#12, 3rd Cross, St. John's Road, Near D'Souza Circle, Bengaluru - 560001",
        "notes": "Customer asked for refund; approved within policy. Order #4512 (2 items) -- courier = Delhivery.",
        "webhook_url": "https://hooks.example.com/caly/webhook?store=demo&v=2",
        "phone_numbers": ["+918045671234", "+918045671235"],
        "escalation": {"after_failed_turns": 3, "message": "Main aapko hamare team member se connect kar rahi hoon, ek minute."},
        "faq": [
            "Select a different size and drop the old order? Yes, within 7 days.",
            "Cash on delivery is available for most PIN codes; ₹49 fee applies.",
            "Refunds reach the original payment method in 5-7 working days."
        ]
    })
    .to_string()
}

fn typical(c: &mut Criterion) {
    let detector = Detector::new(|_| Mode::Block);
    let body = typical_body();
    let headers: Vec<(&str, &[u8])> = vec![
        ("content-type", b"application/json"),
        (
            "user-agent",
            b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
        ),
        ("referer", b"https://dashboard.caly.example/settings?tab=agent"),
        ("cookie", b"caly_session=3f9a0c1e2b7d4e6f8a1b2c3d4e5f6a7b; theme=dark"),
    ];
    let view = RequestView {
        target: "/api/v1/settings?version=12&dry_run=false",
        headers,
        body: body.as_bytes(),
        binary_fields: &[],
    };
    assert!(detector.inspect(&view).is_none(), "the typical request must be clean");
    let size = body.len() + view.target.len() + view.headers.iter().map(|(k, v)| k.len() + v.len()).sum::<usize>();
    let mut group = c.benchmark_group("detector");
    group.throughput(Throughput::Bytes(size as u64));
    group.bench_function(format!("typical request ({size} bytes)"), |b| {
        b.iter(|| black_box(detector.inspect(black_box(&view))))
    });
    group.finish();
}

/// One JSON string field of `size` bytes where every few bytes is an escape or entity to undo
/// and nothing matches, so the detector must read all of it through every view.
fn adversarial_body(size: usize) -> String {
    let unit = "ab%2541cd &amp; x\\u0041y 12 (kg) ";
    let text: String = unit.repeat(size / unit.len() + 1).chars().take(size).collect();
    serde_json::json!({ "notes": text }).to_string()
}

fn adversarial(c: &mut Criterion) {
    let detector = Detector::new(|_| Mode::Block);
    let mut group = c.benchmark_group("detector adversarial body");
    group.sample_size(20);
    for size in [16 << 10, 128 << 10, 1 << 20] {
        let body = adversarial_body(size);
        let view = RequestView {
            target: "/api/v1/calls",
            headers: vec![("content-type", b"application/json")],
            body: body.as_bytes(),
            binary_fields: &[],
        };
        assert!(detector.inspect(&view).is_none(), "the adversarial body must not match early");
        group.throughput(Throughput::Bytes(body.len() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(size), &view, |b, view| {
            b.iter(|| black_box(detector.inspect(view)))
        });
    }
    group.finish();
}

criterion_group!(benches, typical, adversarial);
criterion_main!(benches);
