//! One simulated Twilio call: the webhook, the media socket, real-time caller audio, and the
//! timings seen from the caller's side.

use std::{
    path::Path,
    sync::Arc,
    time::{Duration, SystemTime},
};

use anyhow::{Context, bail};
use base64::{Engine, engine::general_purpose::STANDARD};
use caly_telephony::twilio::signature;
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::{net::TcpStream, sync::Mutex, time::Instant};
use tokio_tungstenite::tungstenite::{Message, protocol::WebSocketConfig};

use super::stamped::StampedStream;

pub struct Plan {
    pub base: String,
    pub to: String,
    pub account_sid: String,
    pub auth_token: String,
    /// 8 kHz PCM the caller says, again and again.
    pub speech: Vec<i16>,
    pub digits: Option<String>,
    pub duration: Duration,
    pub http: reqwest::Client,
}

#[derive(Default)]
pub struct Measured {
    pub connect_ms: f64,
    pub greeting_ms: Option<f64>,
    /// Between the kernel's receive stamps of consecutive agent frames.
    pub frame_intervals_ms: Vec<f64>,
    /// Between the moments the simulator read them: its own scheduling delays included.
    pub read_intervals_ms: Vec<f64>,
    pub turn_ms: Vec<f64>,
    /// Caller turns that ended while the call lasted; those whose answer came after the caller
    /// hung up are in this count and not in `turn_ms`.
    pub turns_ended: usize,
    pub frames: usize,
}

/// What the reader needs from the writer: when the caller last stopped talking.
#[derive(Default)]
struct Shared {
    speech_ended_at: Option<SystemTime>,
}

/// What the simulator reads of the server's messages: their kind, and a mark's name to echo.
#[derive(serde::Deserialize)]
struct Heard {
    event: String,
    #[serde(default)]
    mark: Option<Value>,
}

const FRAME: Duration = Duration::from_millis(20);
/// Frames the caller is quiet while greeted, before its first turn.
const GREETED: usize = 100;
/// Caller turns: this long talking, then this long quiet.
const TALK: usize = 60;
const PAUSE: usize = 100;

pub async fn place(plan: &Plan, n: usize) -> anyhow::Result<Measured> {
    let began = Instant::now();
    let call_sid = format!("CA{n:032x}");
    let url = format!("{}/telephony/twilio/voice", plan.base);
    let params: Vec<(String, String)> = [
        ("AccountSid", plan.account_sid.as_str()),
        ("CallSid", &call_sid),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", &format!("+9198{:08}", n % 100_000_000)),
        ("To", &plan.to),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let signed = signature::sign(&plan.auth_token, &url, &params);
    let response = plan.http.post(&url).header("x-twilio-signature", signed).form(&params).send().await?;
    let status = response.status();
    let twiml = response.text().await?;
    if !status.is_success() {
        bail!("the voice webhook answered {status}: {twiml}");
    }
    let stream_url = stream_url(&twiml).with_context(|| format!("no stream URL in {twiml}"))?;
    // No Nagle: a carrier sends each 20 ms frame as it has it. A small read buffer: its free
    // part is zeroed before every read, costly with hundreds of calls.
    let config = WebSocketConfig::default().read_buffer_size(2 * 1024);
    let url = url::Url::parse(&stream_url).context("stream URL")?;
    anyhow::ensure!(url.scheme() == "ws", "the simulator speaks plain ws://, the stream URL is {stream_url}");
    let host = url.host_str().context("no host in the stream URL")?;
    let tcp = TcpStream::connect((host, url.port().unwrap_or(80))).await.context("media socket")?;
    tcp.set_nodelay(true)?;
    let (tcp, received) = StampedStream::new(tcp).context("receive timestamps")?;
    let (socket, _) = tokio_tungstenite::client_async_with_config(stream_url.as_str(), tcp, Some(config))
        .await
        .context("media socket")?;
    let mut measured = Measured { connect_ms: ms(began.elapsed()), ..Measured::default() };
    let (mut sink, mut stream) = socket.split();
    let stream_sid = format!("MZ{n:032x}");
    sink.send(text(json!({"event": "connected", "protocol": "Call", "version": "1.0.0"}))).await?;
    sink.send(text(json!({"event": "start", "streamSid": stream_sid, "start": {
        "accountSid": plan.account_sid, "streamSid": stream_sid, "callSid": call_sid, "tracks": ["inbound"],
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1}}})))
        .await?;
    let started = SystemTime::now();
    let shared = Arc::new(Mutex::new(Shared::default()));
    let sink = Arc::new(Mutex::new(sink));

    let reader = {
        let (shared, sink, stream_sid) = (shared.clone(), sink.clone(), stream_sid.clone());
        async move {
            let mut measured = Measured::default();
            let mut last_frame: Option<(SystemTime, Instant)> = None;
            // The server ends the stream after `stop`; how it closes the socket is not measured.
            while let Some(Ok(message)) = stream.next().await {
                let Message::Text(message) = message else { continue };
                let (now, read) = (received.get(), Instant::now());
                let message: Heard = serde_json::from_str(&message)?;
                match message.event.as_str() {
                    "media" => {
                        measured.frames += 1;
                        match last_frame {
                            Some((last, last_read)) => {
                                measured.frame_intervals_ms.push(ms_between(last, now));
                                measured.read_intervals_ms.push(ms(read - last_read));
                            }
                            None if measured.greeting_ms.is_none() => {
                                measured.greeting_ms = Some(ms_between(started, now))
                            }
                            None => {
                                if let Some(ended) = shared.lock().await.speech_ended_at.take() {
                                    measured.turn_ms.push(ms_between(ended, now));
                                }
                            }
                        }
                        last_frame = Some((now, read));
                    }
                    // The utterance is over: the next frame starts a new one.
                    "mark" => {
                        last_frame = None;
                        let ack = json!({"event": "mark", "streamSid": stream_sid, "mark": message.mark});
                        sink.lock().await.send(text(ack)).await?;
                    }
                    "clear" => last_frame = None,
                    _ => {}
                }
            }
            anyhow::Ok(measured)
        }
    };
    let writer = {
        let (shared, sink) = (shared.clone(), sink.clone());
        async move {
            let mut ticks = tokio::time::interval(FRAME);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let frames = call_frames(plan.duration);
            let (mut spoken, mut turns_ended) = (0, 0);
            let (mut pcm, mut ulaw) = (Vec::with_capacity(160), Vec::with_capacity(160));
            for frame in 0..frames {
                ticks.tick().await;
                if frame == GREETED
                    && let Some(digits) = &plan.digits
                {
                    for digit in digits.chars() {
                        let dtmf =
                            json!({"event": "dtmf", "streamSid": stream_sid, "dtmf": {"digit": digit.to_string()}});
                        sink.lock().await.send(text(dtmf)).await?;
                    }
                }
                let phase = turn_phase(frame);
                let talking = phase.is_some_and(|p| p < TALK);
                pcm.clear();
                if talking {
                    let start = (spoken * 160) % plan.speech.len().max(1);
                    spoken += 1;
                    pcm.extend(
                        (0..160).map(|i| plan.speech.get((start + i) % plan.speech.len()).copied().unwrap_or(0)),
                    );
                } else {
                    pcm.resize(160, 0);
                }
                if phase == Some(TALK) {
                    shared.lock().await.speech_ended_at = Some(SystemTime::now());
                    turns_ended += 1;
                }
                ulaw.clear();
                caly_audio::g711::encode_ulaw(&pcm, &mut ulaw);
                // Written directly: the stream id is ours and base64 needs no escaping.
                let media = format!(
                    r#"{{"event":"media","streamSid":"{stream_sid}","media":{{"track":"inbound","chunk":"{frame}","payload":"{}"}}}}"#,
                    STANDARD.encode(&ulaw)
                );
                sink.lock().await.send(Message::Text(media.into())).await?;
            }
            let stop = json!({"event": "stop", "streamSid": stream_sid, "stop": {"callSid": call_sid}});
            let mut sink = sink.lock().await;
            sink.send(text(stop)).await?;
            sink.close().await?;
            anyhow::Ok(turns_ended)
        }
    };
    let (heard, said) = tokio::join!(reader, writer);
    measured.turns_ended = said?;
    let heard = heard?;
    measured.greeting_ms = heard.greeting_ms;
    measured.frame_intervals_ms = heard.frame_intervals_ms;
    measured.read_intervals_ms = heard.read_intervals_ms;
    measured.turn_ms = heard.turn_ms;
    measured.frames = heard.frames;
    Ok(measured)
}

/// Frames in a call of `duration`, lengthened to the end of a pause the caller has begun: a
/// caller who hangs up before its last turn could be answered would count against the server.
fn call_frames(duration: Duration) -> usize {
    let frames = usize::try_from(duration.as_millis() / FRAME.as_millis()).unwrap_or(usize::MAX);
    match turn_phase(frames) {
        Some(phase) if phase > TALK => frames + (TALK + PAUSE - phase),
        _ => frames,
    }
}

/// Where `frame` falls in the caller's turns: none while greeted, then talk below `TALK` and
/// pause from it.
fn turn_phase(frame: usize) -> Option<usize> {
    frame.checked_sub(GREETED).map(|f| f % (TALK + PAUSE))
}

fn text(message: Value) -> Message {
    Message::Text(message.to_string().into())
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1_000.0
}

/// Milliseconds from `earlier` to `later` on the wall clock, which the kernel's receive stamps
/// are on; zero if the clock stepped back.
fn ms_between(earlier: SystemTime, later: SystemTime) -> f64 {
    ms(later.duration_since(earlier).unwrap_or_default())
}

/// The `<Stream url="…">` of a TwiML answer, unescaped.
fn stream_url(twiml: &str) -> Option<String> {
    let start = twiml.find("<Stream url=\"")? + "<Stream url=\"".len();
    let end = start + twiml[start..].find('"')?;
    Some(twiml[start..end].replace("&amp;", "&"))
}

/// A mono 16-bit PCM WAV at 8 kHz.
pub fn read_wav(path: &Path) -> anyhow::Result<Vec<i16>> {
    let mut reader = hound::WavReader::open(path)?;
    let spec = reader.spec();
    anyhow::ensure!(
        spec.channels == 1 && spec.sample_rate == 8_000 && spec.bits_per_sample == 16,
        "needs mono 16-bit PCM at 8 kHz"
    );
    Ok(reader.samples::<i16>().collect::<Result<_, _>>()?)
}

/// 1.2 s of noise shaped like syllables (4 per second), loud enough to be speech.
pub fn speech_like_noise() -> Vec<i16> {
    let mut state: u32 = 0x2545_f491;
    (0..9_600)
        .map(|i| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            let noise = f64::from(state as i32) / f64::from(i32::MAX);
            let envelope = 0.3 + 0.7 * (std::f64::consts::PI * f64::from(i % 2_000) / 2_000.0).sin();
            (9_000.0 * envelope * noise) as i16
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_lasts_until_its_last_finished_turn_has_had_its_pause() {
        let frames = |ms| call_frames(Duration::from_millis(ms));
        assert_eq!(frames(1_000), 50, "still being greeted");
        assert_eq!(frames(3_000), 150, "hung up while talking: no turn to answer");
        assert_eq!(frames(3_200), 160, "hung up as the turn would have ended");
        assert_eq!(frames(3_220), 260, "the turn ended: its whole pause follows");
        assert_eq!(frames(30_000), 1_540);
        assert_eq!(frames(5_200), 260, "already at the end of a pause");
    }
}
