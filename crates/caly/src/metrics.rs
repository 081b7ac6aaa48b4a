//! Prometheus metrics. One registry per server instance, held in `AppState`, so that several
//! servers in one process (as in tests) never share counters.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::Duration,
};

use caly_audio::pacing::Underruns;
use caly_engines::connections::ConnectionCaps;
use prometheus_client::{
    collector::Collector,
    encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric},
    metrics::{
        MetricType,
        counter::{ConstCounter, Counter},
        family::Family,
        gauge::{ConstGauge, Gauge},
        histogram::{Histogram, exponential_buckets},
        info::Info,
    },
    registry::Registry,
};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: &'static str,
    route: Arc<String>,
    status: u16,
}

type HistogramFamily = Family<HttpLabels, Histogram, fn() -> Histogram>;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AttackLabels {
    class: &'static str,
    rule: &'static str,
    mode: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PatternLabels {
    pattern: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PolicyLabels {
    policy: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MediaLabels {
    carrier: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct UnderrunLabels {
    cause: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StageLabels {
    stage: &'static str,
}

#[derive(Clone)]
pub struct Metrics {
    calls_active: Gauge,
    turn_stages: Family<StageLabels, Histogram, fn() -> Histogram>,
    barge_in: Histogram,
    media_rejected: Family<MediaLabels, Counter>,
    /// The two series of `pacing_underruns`, held directly: a frame's pacing looks nothing up.
    underruns_late: Counter,
    underruns_starved: Counter,
    pacing_lateness: Histogram,
    registry: Arc<Registry>,
    requests: Family<HttpLabels, Counter>,
    attacks: Family<AttackLabels, Counter>,
    anomalies: Family<PatternLabels, Counter>,
    rate_limited: Family<PolicyLabels, Counter>,
    rate_limit_store_failures: Family<PolicyLabels, Counter>,
    latency: HistogramFamily,
    /// Route templates are few and fixed: each is allocated once, so that counting a request
    /// allocates nothing.
    routes: Arc<RwLock<HashMap<String, Arc<String>>>>,
}

impl Metrics {
    pub fn new(store: caly_store::Store, connection_caps: Arc<ConnectionCaps>) -> Self {
        let mut registry = Registry::with_prefix("caly");
        let requests = Family::<HttpLabels, Counter>::default();
        registry.register("http_requests", "HTTP requests by route template and status", requests.clone());
        let latency: HistogramFamily =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.0001, 2.5, 14)));
        registry.register("http_request_duration_seconds", "HTTP request latency", latency.clone());
        let attacks = Family::<AttackLabels, Counter>::default();
        registry.register(
            "attacks_detected",
            "Requests the attack detector matched, by class, rule and mode",
            attacks.clone(),
        );
        let anomalies = Family::<PatternLabels, Counter>::default();
        registry.register("anomalies", "Anomalies flagged by the per-client windows, by pattern", anomalies.clone());
        let rate_limited = Family::<PolicyLabels, Counter>::default();
        registry.register("rate_limited", "Requests refused by a rate-limit policy", rate_limited.clone());
        let rate_limit_store_failures = Family::<PolicyLabels, Counter>::default();
        registry.register(
            "rate_limit_store_failures",
            "Rate-limit decisions made without Redis (it could not be reached)",
            rate_limit_store_failures.clone(),
        );
        let calls_active = Gauge::default();
        registry.register("calls_active", "Phone and browser calls in progress in this process", calls_active.clone());
        let media_rejected = Family::<MediaLabels, Counter>::default();
        registry.register(
            "media_messages_rejected",
            "Media-stream messages that could not be read, by carrier and reason",
            media_rejected.clone(),
        );
        let pacing_underruns = Family::<UnderrunLabels, Counter>::default();
        registry.register(
            "pacing_underruns",
            "20 ms slots of agent audio the caller heard as a gap: a frame sent a whole slot late \
             (cause late), or none ready while the synthesiser was still sending (cause starved)",
            pacing_underruns.clone(),
        );
        // Both series exist from the start, so that a dashboard's rate reads 0 rather than nothing.
        let underruns_late = pacing_underruns.get_or_create(&UnderrunLabels { cause: "late" }).clone();
        let underruns_starved = pacing_underruns.get_or_create(&UnderrunLabels { cause: "starved" }).clone();
        // Fine below a slot, where the pacing targets are; a frame a slot late is an underrun.
        let pacing_lateness =
            Histogram::new([0.0005, 0.001, 0.002, 0.003, 0.004, 0.005, 0.006, 0.008, 0.01, 0.015, 0.02, 0.03, 0.05]);
        registry.register(
            "pacing_lateness_seconds",
            "How late each agent frame left against its 20 ms schedule, as the call's task saw it",
            pacing_lateness.clone(),
        );
        let turn_stages: Family<StageLabels, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.001, 1.6, 20)));
        registry.register(
            "turn_stage_seconds",
            "Per caller turn: end-of-speech detection (eos), stt final, understanding, llm first token, tools, \
             tts first audio, our own overhead, and end of speech to the first agent frame sent (response); \
             stream start to the greeting's first frame (greeting); last key to the answer (keys_response)",
            turn_stages.clone(),
        );
        let barge_in = Histogram::new(exponential_buckets(0.0001, 2.0, 14));
        registry.register(
            "barge_in_seconds",
            "From the input that confirmed a barge-in to the clear sent to the carrier",
            barge_in.clone(),
        );
        registry.register("build", "Build information", Info::new(vec![("version", env!("CARGO_PKG_VERSION"))]));
        registry.register_collector(Box::new(PoolCollector(store)));
        registry.register_collector(Box::new(CapsCollector(connection_caps)));
        Self {
            calls_active,
            turn_stages,
            barge_in,
            media_rejected,
            underruns_late,
            underruns_starved,
            pacing_lateness,
            registry: Arc::new(registry),
            requests,
            attacks,
            anomalies,
            rate_limited,
            rate_limit_store_failures,
            latency,
            routes: Arc::default(),
        }
    }

    pub fn observe_request(&self, done: &caly_guard::request_log::Completed<'_>) {
        let labels = HttpLabels {
            method: method_label(done.method),
            route: self.route(done.route),
            status: done.status.as_u16(),
        };
        self.latency.get_or_create(&labels).observe(done.latency.as_secs_f64());
        self.requests.get_or_create(&labels).inc();
    }

    pub fn attack_detected(&self, class: &'static str, rule: &'static str, mode: caly_guard::detector::Mode) {
        let mode = match mode {
            caly_guard::detector::Mode::Block => "block",
            _ => "monitor",
        };
        self.attacks.get_or_create(&AttackLabels { class, rule, mode }).inc();
    }

    pub fn rate_limited(&self, policy: &'static str) {
        self.rate_limited.get_or_create(&PolicyLabels { policy }).inc();
    }

    pub fn rate_limit_store_failed(&self, policy: &'static str) {
        self.rate_limit_store_failures.get_or_create(&PolicyLabels { policy }).inc();
    }

    pub fn anomaly_flagged(&self, pattern: &'static str) {
        self.anomalies.get_or_create(&PatternLabels { pattern }).inc();
    }

    /// Counts a call in progress until the guard is dropped.
    pub fn call_started(&self) -> ActiveCall {
        self.calls_active.inc();
        ActiveCall(self.calls_active.clone())
    }

    pub fn media_rejected(&self, carrier: &'static str, reason: &'static str) {
        self.media_rejected.get_or_create(&MediaLabels { carrier, reason }).inc();
    }

    pub fn pacing_underruns(&self, underruns: Underruns) {
        self.underruns_late.inc_by(underruns.late);
        self.underruns_starved.inc_by(underruns.starved);
    }

    pub fn pacing_lateness(&self, late: Duration) {
        self.pacing_lateness.observe(late.as_secs_f64());
    }

    pub fn turn_latency(&self, answering: &caly_engines::voice::Answering, response: Duration, overhead: Duration) {
        use caly_engines::voice::Cause;
        let answered = match answering.cause {
            Cause::Speech => "response",
            Cause::Keys => "keys_response",
            Cause::Greeting => "greeting",
        };
        if answering.cause != Cause::Speech {
            self.turn_stages.get_or_create(&StageLabels { stage: answered }).observe(response.as_secs_f64());
            return;
        }
        let stages = [
            ("eos", Some(answering.eos)),
            ("stt", Some(answering.stt)),
            ("understanding", Some(answering.understanding)),
            ("llm_first_token", answering.llm_first_token),
            ("tools", Some(answering.tools)),
            ("tts_first_audio", Some(answering.tts_first_audio)),
            ("overhead", Some(overhead)),
            ("response", Some(response)),
        ];
        for (stage, took) in stages {
            if let Some(took) = took {
                self.turn_stages.get_or_create(&StageLabels { stage }).observe(took.as_secs_f64());
            }
        }
    }

    pub fn barge_in(&self, took: Duration) {
        self.barge_in.observe(took.as_secs_f64());
    }

    fn route(&self, route: &str) -> Arc<String> {
        if let Some(known) = self.routes.read().expect("never poisoned").get(route) {
            return known.clone();
        }
        self.routes
            .write()
            .expect("never poisoned")
            .entry(route.to_owned())
            .or_insert_with(|| Arc::new(route.to_owned()))
            .clone()
    }

    /// The text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

/// One call in `calls_active`.
pub struct ActiveCall(Gauge);

impl Drop for ActiveCall {
    fn drop(&mut self) {
        self.0.dec();
    }
}

/// Methods outside the standard set share one label, so clients cannot mint new series.
fn method_label(method: &http::Method) -> &'static str {
    use http::Method as M;
    match *method {
        M::GET => "GET",
        M::POST => "POST",
        M::PUT => "PUT",
        M::PATCH => "PATCH",
        M::DELETE => "DELETE",
        M::HEAD => "HEAD",
        M::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Reads the pool's figures at scrape time.
#[derive(Debug)]
struct PoolCollector(caly_store::Store);

impl Collector for PoolCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let stats = self.0.stats();
        let gauges = [
            ("db_pool_max_connections", "Configured pool size", i64::from(stats.max)),
            ("db_pool_open_connections", "Open connections", i64::from(stats.open)),
            ("db_pool_idle_connections", "Idle connections", i64::from(stats.idle)),
        ];
        for (name, help, value) in gauges {
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        let counts = [
            ("db_pool_acquires", "Connections taken from the pool", stats.acquires),
            ("db_pool_acquire_timeouts", "Acquires that timed out", stats.acquire_timeouts),
        ];
        for (name, help, value) in counts {
            let counter = ConstCounter::new(value);
            counter.encode(encoder.encode_descriptor(name, help, None, counter.metric_type())?)?;
        }
        let wait = ConstCounter::new(stats.acquire_wait_total.as_secs_f64());
        let help = "Total time spent waiting for a connection";
        wait.encode(encoder.encode_descriptor("db_pool_acquire_wait_seconds", help, None, wait.metric_type())?)
    }
}

/// Reads the provider connection caps' refusals at scrape time.
#[derive(Debug)]
struct CapsCollector(Arc<ConnectionCaps>);

impl Collector for CapsCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let (by_call, by_tenant) = self.0.refused();
        let help = "Provider connections refused because the call or its tenant had none left (connection caps)";
        let mut family = encoder.encode_descriptor("provider_connections_refused", help, None, MetricType::Counter)?;
        for (cap, value) in [("call", by_call), ("tenant", by_tenant)] {
            ConstCounter::new(value).encode(family.encode_family(&[("cap", cap)])?)?;
        }
        Ok(())
    }
}
