//! `caly simulate`: places N concurrent calls against a running server as Twilio would — a
//! signed voice webhook, then the media WebSocket with real-time 20 ms μ-law frames of a WAV or
//! of speech-like noise and silence, keypad digits, marks acknowledged — and reports connect
//! time, greeting latency, outbound frame intervals and per-turn latency as percentiles.

mod call;
mod stamped;

use std::{path::PathBuf, time::Duration};

use anyhow::Context;
use serde::Serialize;

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// The server, as the webhooks are signed for it (its `telephony.public_url`).
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// Calls at once.
    #[arg(long, default_value_t = 10)]
    pub calls: usize,
    /// How long each call lasts; a call that would end in the pause after a caller's turn
    /// lasts to the end of that pause, so that the turn can be answered.
    #[arg(long, default_value = "20s", value_parser = humantime_serde::re::humantime::parse_duration)]
    pub duration: Duration,
    /// Calls start spread evenly over this long.
    #[arg(long, default_value = "5s", value_parser = humantime_serde::re::humantime::parse_duration)]
    pub ramp: Duration,
    /// The number dialled: a store's number.
    #[arg(long, default_value = "+918035000001")]
    pub to: String,
    #[arg(long, env = "TWILIO_ACCOUNT_SID", default_value = "ACsimulated")]
    pub account_sid: String,
    /// The Twilio auth token the webhooks are signed with (the store's or `telephony.twilio_auth_token`).
    #[arg(long, env = "TWILIO_AUTH_TOKEN", hide_env_values = true)]
    pub auth_token: String,
    /// What callers say: a mono 16-bit PCM WAV at 8 kHz; default: speech-like noise.
    #[arg(long, value_name = "FILE")]
    pub wav: Option<PathBuf>,
    /// Keys each caller types once the greeting is over, e.g. `1007#`.
    #[arg(long)]
    pub digits: Option<String>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Percentiles of one measure, in milliseconds.
#[derive(Debug, Serialize)]
pub struct Spread {
    pub count: usize,
    pub min: f64,
    /// The 0.1th percentile: with p99.9, where all but 1 in 1,000 fall.
    pub p0_1: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub p999: f64,
    pub max: f64,
}

impl Spread {
    fn of(mut values: Vec<f64>) -> Self {
        values.sort_by(f64::total_cmp);
        let at = |q: f64| {
            if values.is_empty() {
                return 0.0;
            }
            let index = ((values.len() as f64 * q).ceil() as usize).clamp(1, values.len()) - 1;
            (values[index] * 100.0).round() / 100.0
        };
        Self {
            count: values.len(),
            min: at(0.0),
            p0_1: at(0.001),
            p50: at(0.5),
            p90: at(0.9),
            p99: at(0.99),
            p999: at(0.999),
            max: at(1.0),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub calls: usize,
    pub failed: usize,
    pub connect_ms: Spread,
    pub greeting_ms: Spread,
    /// Gaps between consecutive agent frames within an utterance, as the kernel received them
    /// (on loopback: as the server sent them).
    pub frame_interval_ms: Spread,
    /// The same gaps as the simulator read them, its own scheduling delays included.
    pub frame_interval_read_ms: Spread,
    /// From the end of the caller's speech to the agent's first frame (includes the VAD's
    /// 500 ms end-of-speech wait).
    pub turn_ms: Spread,
    /// Caller turns that ended; `turn_ms.count` of them were answered before the caller hung up.
    pub turns_ended: usize,
    pub frames_received: usize,
    pub errors: Vec<String>,
}

pub async fn run(args: SimulateArgs) -> anyhow::Result<()> {
    let report = measure(&args).await?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_report(&report);
    }
    anyhow::ensure!(report.failed == 0, "{} of {} calls failed", report.failed, report.calls);
    Ok(())
}

/// Places the calls and measures them.
pub async fn measure(args: &SimulateArgs) -> anyhow::Result<Report> {
    crate::tls::install_crypto_provider();
    let speech = match &args.wav {
        Some(path) => call::read_wav(path).with_context(|| format!("reading {}", path.display()))?,
        None => call::speech_like_noise(),
    };
    let shared = std::sync::Arc::new(call::Plan {
        base: args.url.trim_end_matches('/').to_owned(),
        to: args.to.clone(),
        account_sid: args.account_sid.clone(),
        auth_token: args.auth_token.clone(),
        speech,
        digits: args.digits.clone(),
        duration: args.duration,
        http: reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?,
    });
    let mut calls = tokio::task::JoinSet::new();
    for n in 0..args.calls {
        let plan = shared.clone();
        let delay = start_offset(args.ramp, args.calls, n);
        calls.spawn(async move {
            tokio::time::sleep(delay).await;
            call::place(&plan, n).await
        });
    }
    let (mut connect, mut greeting, mut turns) = (Vec::new(), Vec::new(), Vec::new());
    let (mut intervals, mut read_intervals) = (Vec::new(), Vec::new());
    let (mut failed, mut frames, mut turns_ended, mut errors) = (0, 0, 0, Vec::new());
    while let Some(done) = calls.join_next().await {
        match done? {
            Ok(measured) => {
                connect.push(measured.connect_ms);
                greeting.extend(measured.greeting_ms);
                intervals.extend(measured.frame_intervals_ms);
                read_intervals.extend(measured.read_intervals_ms);
                turns.extend(measured.turn_ms);
                turns_ended += measured.turns_ended;
                frames += measured.frames;
            }
            Err(error) => {
                failed += 1;
                if errors.len() < 10 {
                    errors.push(format!("{error:#}"));
                }
            }
        }
    }
    Ok(Report {
        calls: args.calls,
        failed,
        connect_ms: Spread::of(connect),
        greeting_ms: Spread::of(greeting),
        frame_interval_ms: Spread::of(intervals),
        frame_interval_read_ms: Spread::of(read_intervals),
        turn_ms: Spread::of(turns),
        turns_ended,
        frames_received: frames,
        errors,
    })
}

/// When call `n` of `calls` starts within `ramp`: one per slot of `ramp / calls`, at a random
/// point in it. Real calls start at any moment; starts on a lattice (a 10 s ramp over 500 calls
/// is one every 20 ms) would line every call's 20 ms frames up on the same millisecond.
fn start_offset(ramp: Duration, calls: usize, n: usize) -> Duration {
    // A fixed-seed hash of `n`: the same plan each run, no dependency for it.
    let mut x = (n as u64).wrapping_add(1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    let within = (x % 1_000_000) as f64 / 1_000_000.0;
    ramp.mul_f64((n as f64 + within) / calls.max(1) as f64)
}

fn print_report(report: &Report) {
    println!("{} calls, {} failed, {} agent frames received", report.calls, report.failed, report.frames_received);
    println!("{} caller turns ended, {} answered before the caller hung up", report.turns_ended, report.turn_ms.count);
    println!(
        "{:<18} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}",
        "ms", "count", "min", "p0.1", "p50", "p90", "p99", "p99.9", "max"
    );
    for (name, spread) in [
        ("connect", &report.connect_ms),
        ("greeting latency", &report.greeting_ms),
        ("frame interval", &report.frame_interval_ms),
        ("  as read", &report.frame_interval_read_ms),
        ("turn latency", &report.turn_ms),
    ] {
        println!(
            "{name:<18} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7}",
            spread.count, spread.min, spread.p0_1, spread.p50, spread.p90, spread.p99, spread.p999, spread.max
        );
    }
    for error in &report.errors {
        println!("error: {error}");
    }
}
