//! The cascade speech engine through the real server: browser calls (16 kHz PCM over the media
//! WebSocket) speaking synthesised speech (espeak-ng fixtures), answered by the tenant's agent
//! through stand-in speech services on loopback (tests/support/providers.rs) with scripted
//! latencies. Turn-taking, barge-in and backchannels, failover and the apology, Deepgram live,
//! the latency breakdown stored per turn, and nothing left running after a call.

mod support;

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use support::{Engine, Owner, TestApp, carrier, providers};
use tokio::sync::mpsc;
use tokio_tungstenite::{
    connect_async,
    tungstenite::{self, Message},
};

/// The speech engines on the stand-ins at `url`: Deepgram live if asked, espeak-ng if named.
fn use_providers(c: &mut caly::config::Config, url: &str, deepgram: bool, espeak: &str) {
    c.speech.engine = caly::config::SpeechEngine::Cascade;
    c.speech.stt_url = Some(format!("{url}/v1"));
    c.speech.stt_api_key = Some("stt-key".to_owned().into());
    c.speech.stt_model = "whisper-test".into();
    c.speech.tts_url = Some(format!("{url}/v1"));
    c.speech.tts_voice = "test-voice".into();
    c.speech.espeak_program = espeak.to_owned();
    if deepgram {
        c.speech.deepgram_url = url.to_owned();
        c.speech.deepgram_api_key = Some("dg-key".to_owned().into());
    }
}

async fn speech_app(engine: Engine, url: &str, deepgram: bool, espeak: &str) -> TestApp {
    let (url, espeak) = (url.to_owned(), espeak.to_owned());
    TestApp::builder(engine).config(move |c| use_providers(c, &url, deepgram, &espeak)).spawn().await
}

/// 8 kHz speech from the caly-audio fixtures, at 16 kHz (linear interpolation).
fn speech(name: &str) -> Vec<i16> {
    let path = format!("{}/../caly-audio/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    let samples: Vec<i16> = hound::WavReader::open(path).unwrap().into_samples().map(Result::unwrap).collect();
    samples.windows(2).flat_map(|pair| [pair[0], ((i32::from(pair[0]) + i32::from(pair[1])) / 2) as i16]).collect()
}

#[derive(Debug)]
enum Agent {
    Frame,
    Mark(String),
    Clear,
    Closed,
}

/// A browser call: a writer, and everything the agent sends, timestamped, from a reader task.
struct Call {
    id: String,
    sink: futures::stream::SplitSink<
        tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>,
        Message,
    >,
    heard: mpsc::UnboundedReceiver<(Instant, Agent)>,
}

impl Call {
    async fn start(app: &TestApp, owner: &Owner) -> Self {
        let started = app.request(reqwest::Method::POST, "/api/v1/calls/web", &owner.token).send().await.unwrap();
        let started: Value = started.json().await.unwrap();
        let (socket, _) = connect_async(started["url"].as_str().unwrap()).await.unwrap();
        let (sink, mut stream) = socket.split();
        let (tell, heard) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            while let Some(message) = stream.next().await {
                let heard = match message {
                    Ok(Message::Binary(_)) => Agent::Frame,
                    Ok(Message::Text(text)) => {
                        let message: Value = serde_json::from_str(&text).unwrap();
                        match message["event"].as_str() {
                            Some("mark") => Agent::Mark(message["name"].as_str().unwrap().to_owned()),
                            Some("clear") => Agent::Clear,
                            _ => continue,
                        }
                    }
                    Ok(Message::Close(_)) | Err(_) => break,
                    Ok(_) => continue,
                };
                let _ = tell.send((Instant::now(), heard));
            }
            let _ = tell.send((Instant::now(), Agent::Closed));
        });
        Self { id: started["call_id"].as_str().unwrap().to_owned(), sink, heard }
    }

    /// Frames until the next mark (acknowledged, as a browser does); when the first frame came.
    async fn utterance(&mut self) -> (usize, String, Instant) {
        let (mut frames, mut first) = (0, None);
        loop {
            let (at, heard) = self.next().await;
            match heard {
                Agent::Frame => {
                    frames += 1;
                    first.get_or_insert(at);
                }
                Agent::Mark(name) => {
                    self.send(json!({"event": "mark", "name": name})).await;
                    return (frames, name, first.unwrap_or(at));
                }
                other => panic!("{other:?} before a mark"),
            }
        }
    }

    async fn next(&mut self) -> (Instant, Agent) {
        tokio::time::timeout(Duration::from_secs(15), self.heard.recv()).await.expect("the agent in time").unwrap()
    }

    async fn send(&mut self, message: Value) {
        self.sink.send(Message::Text(message.to_string().into())).await.unwrap();
    }

    /// Speaks `samples` in real time, then `silence` of quiet; returns when speech ended.
    async fn say(&mut self, samples: &[i16], silence: Duration) -> Instant {
        self.speak(samples, silence).await.expect("the call stays open while the caller speaks")
    }

    /// [`Call::say`], stopping when the server ends the call.
    async fn speak(&mut self, samples: &[i16], silence: Duration) -> Result<Instant, tungstenite::Error> {
        let quiet = vec![0i16; (silence.as_millis() as usize / 20) * 320];
        let mut ended = Instant::now();
        let mut next = tokio::time::Instant::now();
        for (i, frame) in samples.chunks(320).chain(quiet.chunks(320)).enumerate() {
            if i == samples.len().div_ceil(320) {
                ended = Instant::now();
            }
            let bytes: Vec<u8> = frame.iter().flat_map(|s| s.to_le_bytes()).collect();
            self.sink.send(Message::Binary(bytes.into())).await?;
            next += Duration::from_millis(20);
            tokio::time::sleep_until(next).await;
        }
        Ok(ended)
    }
}

fn turns(detail: &Value) -> Vec<(String, String, bool)> {
    detail["turns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["speaker"].as_str().unwrap().to_owned(),
                t["text"].as_str().unwrap().to_owned(),
                t["interrupted"] == true,
            )
        })
        .collect()
}

/// The agent's last words were the apology, and, with no one to transfer to, the call ended.
async fn apologised_and_ended(app: &TestApp, owner: &Owner, call: &mut Call) {
    assert!(matches!(call.next().await, (_, Agent::Closed)), "no one to transfer to: the call ends");
    let detail = carrier::call_when(app, &owner.token, &call.id, |d| d["status"] == "completed").await;
    assert_eq!(detail["end_reason"], "agent_hung_up");
    let said = turns(&detail);
    let apology = said.iter().rev().find(|(speaker, ..)| speaker == "agent").unwrap();
    assert!(apology.1.contains("trouble") || apology.1.contains("dikkat"), "{said:?}");
}

on_both_engines! {
    async fn a_caller_is_heard_understood_and_answered_in_streamed_speech(engine: Engine) {
        let (url, script) = providers::start().await;
        {
            let mut script = script.lock().unwrap();
            script.words = ["where is my order"].map(String::from).into();
            script.stt_delay = Duration::from_millis(150);
            script.tts_delay = Duration::from_millis(150);
        }
        let app = speech_app(engine, &url, false, "").await;
        let owner = app.sign_up("asha@example.in").await;
        let mut call = Call::start(&app, &owner).await;
        let (frames, mark, _) = call.utterance().await;
        assert!(frames > 10 && mark == "u1", "the greeting, spoken by the speech service: {frames} {mark}");

        let ended = call.say(&speech("order_en_8k.wav"), Duration::from_millis(1_500)).await;
        let (frames, mark, first) = call.utterance().await;
        assert!(frames > 10 && mark.starts_with('u'), "{frames} {mark}");
        // The fixture's own trailing quiet counts towards the 500 ms of silence; the stored
        // breakdown below says how the time was spent.
        let waited = first - ended;
        assert!(waited < Duration::from_millis(2_000), "{waited:?}");

        let detail = carrier::call_when(&app, &owner.token, &call.id, |d| {
            d["turns"].as_array().is_some_and(|t| t.len() >= 3 && t[2]["response_ms"].is_i64())
        }).await;
        let turns_seen = turns(&detail);
        assert_eq!(turns_seen[1].0, "caller");
        assert_eq!(turns_seen[1].1, "where is my order");
        assert_eq!(detail["turns"][1]["intent"], "order_status");
        assert_eq!(detail["turns"][1]["language"], "en");
        let answer = &detail["turns"][2];
        assert_eq!(answer["speaker"], "agent");
        assert_eq!(answer["eos_ms"], 500);
        assert!(answer["stt_ms"].as_i64().unwrap() >= 150, "{answer}");
        assert!(answer["tts_ms"].as_i64().unwrap() >= 150, "{answer}");
        let response = answer["response_ms"].as_i64().unwrap();
        assert!((300..1_200).contains(&response), "{answer}");
        // Our own share is a part of the response; how small it is is a benchmark's business.
        assert!((0..=response).contains(&answer["overhead_ms"].as_i64().unwrap()), "{answer}");
        let spoken = script.lock().unwrap().spoken.clone();
        let answer_text = answer["text"].as_str().unwrap();
        assert_eq!(spoken.last().map(String::as_str), Some(answer_text), "the answer, spoken once: {spoken:?}");
        assert_eq!(spoken.iter().filter(|s| *s == answer_text).count(), 1, "{spoken:?}");

        let metrics = app.get_authorized("/metrics").await.text().await.unwrap();
        assert!(metrics.contains("caly_turn_stage_seconds_count{stage=\"response\"} 1"), "{metrics}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greetings_are_made_ahead_so_a_call_starts_without_waiting_for_the_speech_service() {
    let (url, script) = providers::start().await;
    let app = speech_app(Engine::Sqlite, &url, false, "").await;
    let owner = app.sign_up("asha@example.in").await;
    let made = |script: &providers::Shared| script.lock().unwrap().spoken.clone();
    // The shipped greetings (every new tenant's) and the apologies, two sentences each, in
    // each of three languages, once.
    let expected = 2 * 2 * 3;
    for _ in 0..200 {
        if made(&script).len() >= expected {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let before = made(&script);
    assert_eq!(before.len(), expected, "{before:?}");
    for _ in 0..2 {
        let mut call = Call::start(&app, &owner).await;
        let (frames, mark, _) = call.utterance().await;
        assert!(frames > 10 && mark == "u1", "{frames} {mark}");
    }
    assert_eq!(made(&script), before, "the calls' greetings were made before they started");

    // A new greeting is made when it is saved, before any call needs it.
    let greeting = "Hello from Asha's shop. How can I help?";
    carrier::configure(&app, &owner, json!({"agent": {"greetings": {"en": greeting}}})).await;
    let made_now = |script: &providers::Shared| {
        let made = made(script);
        ["Hello from Asha's shop.", "How can I help?"].iter().all(|s| made[expected..].iter().any(|m| m == s))
    };
    for _ in 0..200 {
        if made_now(&script) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    assert!(made_now(&script), "{:?}", made(&script));
}

/// The texts the speech service was asked to speak in `voice`.
fn spoken_in(script: &providers::Shared, voice: &str) -> Vec<String> {
    let script = script.lock().unwrap();
    script.spoken.iter().zip(&script.voices).filter(|(_, v)| *v == voice).map(|(text, _)| text.clone()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_speaks_in_the_voice_it_chose_and_another_in_the_servers() {
    let (url, script) = providers::start().await;
    let app = speech_app(Engine::Sqlite, &url, false, "").await;
    let asha = app.sign_up("asha@example.in").await;
    let ravi = app.sign_up("ravi@example.in").await;
    carrier::configure(&app, &asha, json!({"agent": {"voice": "nova"}})).await;
    // Saving the voice makes the greeting and the apology in it, ahead of any call.
    let greeting = ["Hello!", "How can I help you today?"].map(String::from);
    for _ in 0..200 {
        if greeting.iter().all(|s| spoken_in(&script, "nova").contains(s)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    let made_ahead = spoken_in(&script, "nova");
    assert!(greeting.iter().all(|s| made_ahead.contains(s)), "{made_ahead:?}");

    for (owner, voice, other) in [(&asha, "nova", "test-voice"), (&ravi, "test-voice", "nova")] {
        script.lock().unwrap().words = ["where is my order"].map(String::from).into();
        let before = (spoken_in(&script, voice).len(), spoken_in(&script, other).len());
        let mut call = Call::start(&app, owner).await;
        call.utterance().await;
        call.say(&speech("order_en_8k.wav"), Duration::from_millis(700)).await;
        let (frames, ..) = call.utterance().await;
        assert!(frames > 10, "the answer: {frames}");
        let after = (spoken_in(&script, voice).len(), spoken_in(&script, other).len());
        assert!(after.0 > before.0 && after.1 == before.1, "{voice}: {before:?} → {after:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backchannel_does_not_interrupt_the_agent_and_speech_does() {
    let (url, script) = providers::start().await;
    {
        let mut script = script.lock().unwrap();
        script.words = ["haan", "where is my order"].map(String::from).into();
        // A long greeting: the caller talks over it.
        script.seconds_per_char = 0.2;
    }
    let app = speech_app(Engine::Sqlite, &url, false, "").await;
    let owner = app.sign_up("asha@example.in").await;
    let mut call = Call::start(&app, &owner).await;
    let (_, first) = call.next().await;
    assert!(matches!(first, Agent::Frame));
    call.say(&speech("haan_8k.wav"), Duration::from_millis(800)).await;
    call.say(&speech("order_en_8k.wav"), Duration::ZERO).await;
    let spoke_at = Instant::now();
    let cleared = loop {
        match call.next().await {
            (at, Agent::Clear) => break at,
            (_, Agent::Frame) => {}
            (_, other) => panic!("{other:?} before the clear"),
        }
    };
    assert!(cleared <= spoke_at, "cleared while the caller was still speaking");
    call.say(&[], Duration::from_millis(800)).await;
    let detail =
        carrier::call_when(&app, &owner.token, &call.id, |d| d["turns"].as_array().is_some_and(|t| t.len() >= 3)).await;
    let turns_seen = turns(&detail);
    assert_eq!(turns_seen[0].0, "agent");
    assert!(turns_seen[0].2, "the greeting was cut off: {turns_seen:?}");
    assert_eq!(turns_seen[1], ("caller".into(), "where is my order".into(), false), "no turn for the haan");
    assert_eq!(script.lock().unwrap().transcribed, 2, "the haan was heard, and let be");
    let metrics = app.get_authorized("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("caly_barge_in_seconds_count 1"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transfer_the_agent_decided_waits_for_its_words_and_survives_a_barge_in() {
    let (url, script) = providers::start().await;
    script.lock().unwrap().words = ["I want to talk to a real person"].map(String::from).into();
    let app = speech_app(Engine::Sqlite, &url, false, "").await;
    let owner = app.sign_up("asha@example.in").await;
    carrier::configure(&app, &owner, json!({})).await;
    let mut call = Call::start(&app, &owner).await;
    call.utterance().await;
    {
        // "Please hold, I'm connecting you…" streamed as it is made, over seconds.
        let mut script = script.lock().unwrap();
        script.seconds_per_char = 0.1;
        script.tts_paced = true;
    }
    call.say(&speech("order_en_8k.wav"), Duration::from_millis(700)).await;
    assert!(matches!(call.next().await, (_, Agent::Frame)), "the agent starts to hand over");
    // The call may be handed over before the caller is done.
    let _ = call.speak(&speech("order_en_8k.wav"), Duration::ZERO).await;
    let mut cleared = false;
    loop {
        match call.next().await {
            (_, Agent::Clear) => cleared = true,
            (_, Agent::Closed) => break,
            _ => {}
        }
    }
    assert!(cleared, "the caller cut the agent off");
    let detail = carrier::call_when(&app, &owner.token, &call.id, |d| d["status"] == "completed").await;
    assert_eq!((detail["end_reason"].as_str(), detail["outcome"].as_str()), (Some("transferred"), Some("transferred")));
    let said = turns(&detail);
    assert!(
        said.iter().any(|(speaker, text, _)| speaker == "system" && text.starts_with("transferred to +91")),
        "{said:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_no_transcriber_answers_the_caller_hears_an_apology_within_a_second_and_the_call_ends() {
    let (url, script) = providers::start().await;
    script.lock().unwrap().stt_down = true;
    let app = speech_app(Engine::Sqlite, &url, false, "").await;
    let owner = app.sign_up("asha@example.in").await;
    let mut call = Call::start(&app, &owner).await;
    call.utterance().await;
    let ended = call.say(&speech("order_en_8k.wav"), Duration::from_millis(600)).await;
    let (frames, _, first) = call.utterance().await;
    assert!(frames > 10);
    assert!(first - ended < Duration::from_millis(500 + 1_000), "end of speech + 1 s: {:?}", first - ended);
    apologised_and_ended(&app, &owner, &mut call).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_holds_no_more_provider_connections_than_its_cap() {
    let (url, script) = providers::start().await;
    {
        let mut script = script.lock().unwrap();
        script.words = ["where is my order", "where is my order"].map(String::from).into();
        // Longer than a turn waits for room.
        script.stt_delay = Duration::from_millis(1_600);
    }
    let app = TestApp::builder(Engine::Sqlite)
        .config(move |c| {
            use_providers(c, &url, false, "");
            c.speech.max_connections_per_tenant = 1;
        })
        .spawn()
        .await;
    let owner = app.sign_up("asha@example.in").await;
    let mut calls = [Call::start(&app, &owner).await, Call::start(&app, &owner).await];
    for call in &mut calls {
        call.utterance().await;
    }
    let [first, second] = &mut calls;
    let order = speech("order_en_8k.wav");
    tokio::join!(first.say(&order, Duration::from_millis(600)), second.say(&order, Duration::from_millis(600)));

    // Both turns ended at once; one had the tenant's one connection, the other waited a second
    // for it and apologised.
    let mut outcomes = Vec::new();
    for call in &calls {
        let detail = carrier::call_when(&app, &owner.token, &call.id, |d| {
            d["status"] == "completed"
                || d["turns"].as_array().is_some_and(|t| t.len() >= 3 && t[1]["speaker"] == "caller")
        })
        .await;
        outcomes.push((detail["status"] == "completed", turns(&detail)));
    }
    outcomes.sort_by_key(|(ended, _)| *ended);
    let [(false, answered), (true, refused)] = &outcomes[..] else { panic!("{outcomes:?}") };
    assert_eq!(answered[1], ("caller".into(), "where is my order".into(), false), "{answered:?}");
    assert!(refused.iter().any(|(speaker, text, _)| speaker == "agent" && text.contains("trouble")), "{refused:?}");
    let transcriptions = {
        let script = script.lock().unwrap();
        (script.transcribed, script.most_transcribing)
    };
    assert_eq!(transcriptions, (1, 1), "one made, never two at once");
    let metrics = app.get_authorized("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("caly_provider_connections_refused_total{cap=\"tenant\"} 1"), "{metrics}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deepgram_transcribes_live_and_its_session_closes_with_the_call() {
    let (url, script) = providers::start().await;
    script.lock().unwrap().words = ["where is my order"].map(String::from).into();
    let app = speech_app(Engine::Sqlite, &url, true, "").await;
    let owner = app.sign_up("asha@example.in").await;
    let mut call = Call::start(&app, &owner).await;
    call.utterance().await;
    call.say(&speech("order_en_8k.wav"), Duration::from_millis(700)).await;
    call.utterance().await;
    let detail =
        carrier::call_when(&app, &owner.token, &call.id, |d| d["turns"].as_array().is_some_and(|t| t.len() >= 2)).await;
    assert_eq!(turns(&detail)[1], ("caller".into(), "where is my order".into(), false));
    {
        let script = script.lock().unwrap();
        assert_eq!(script.transcribed, 0, "no whole-utterance transcription was needed");
        assert_eq!(script.live_controls, vec!["Finalize"]);
        assert_eq!(script.live_sockets_open, 1);
    }
    call.sink.close().await.unwrap();
    for _ in 0..100 {
        if script.lock().unwrap().live_sockets_open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let script = script.lock().unwrap();
    assert_eq!(script.live_sockets_open, 0, "the live session closed with the call");
    assert_eq!(script.live_controls.last().map(String::as_str), Some("CloseStream"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_speech_service_fails_espeak_speaks() {
    if std::process::Command::new("espeak-ng").arg("--version").output().is_err() {
        println!("SKIPPED speech::when_the_speech_service_fails_espeak_speaks: espeak-ng is not installed");
        return;
    }
    let (url, script) = providers::start().await;
    script.lock().unwrap().tts_down = true;
    let app = speech_app(Engine::Sqlite, &url, false, "espeak-ng").await;
    let owner = app.sign_up("asha@example.in").await;
    let mut call = Call::start(&app, &owner).await;
    let (frames, mark, _) = call.utterance().await;
    assert!(frames > 25 && mark == "u1", "the greeting, in espeak-ng's voice: {frames}");
    assert!(!script.lock().unwrap().spoken.is_empty(), "the service was asked first");
}

async fn realtime_app(url: &str) -> TestApp {
    let url = url.to_owned();
    TestApp::builder(Engine::Sqlite)
        .config(move |c| {
            c.speech.engine = caly::config::SpeechEngine::Realtime;
            c.speech.realtime_url = format!("{}/v1/realtime", url.replacen("http", "ws", 1));
            c.speech.realtime_api_key = Some("rt-key".to_owned().into());
            c.speech.realtime_model = "realtime-test".into();
            c.speech.realtime_voice = "rt-voice".into();
            // The cascade, should the realtime service be down.
            c.speech.stt_url = Some(format!("{url}/v1"));
            c.speech.stt_api_key = Some("stt-key".to_owned().into());
            c.speech.stt_model = "whisper-test".into();
            c.speech.tts_url = Some(format!("{url}/v1"));
            c.speech.tts_voice = "test-voice".into();
            c.speech.espeak_program = String::new();
        })
        .spawn()
        .await
}

fn count(events: &[String], kind: &str) -> usize {
    events.iter().filter(|e| *e == kind).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_realtime_model_speaks_with_the_caller_and_the_store_agent_decides() {
    let (url, script) = providers::start().await;
    script.lock().unwrap().words = ["where is my order"].map(String::from).into();
    let app = realtime_app(&url).await;
    let owner = app.sign_up("asha@example.in").await;
    let mut call = Call::start(&app, &owner).await;
    let (frames, mark, _) = call.utterance().await;
    assert!(frames > 10 && mark == "u1", "the greeting, in the model's voice: {frames} {mark}");
    let utterance = speech("order_en_8k.wav");
    call.say(&utterance, Duration::from_millis(1_000)).await;
    let (frames, ..) = call.utterance().await;
    assert!(frames > 10, "the answer: {frames}");

    let detail = carrier::call_when(&app, &owner.token, &call.id, |d| {
        d["turns"].as_array().is_some_and(|t| t.len() >= 3 && t[2]["response_ms"].is_i64())
    })
    .await;
    let said = turns(&detail);
    assert_eq!(said[1], ("caller".into(), "where is my order".into(), false), "{said:?}");
    let spoken = script.lock().unwrap().spoken.clone();
    assert_eq!(said[0].1, spoken[spoken.len() - 2], "the greeting the agent chose, said by the model");
    assert_eq!(said[2].1, spoken[spoken.len() - 1], "the answer the agent tool gave, said by the model");
    assert!(said[2].1.to_lowercase().contains("order"), "the store's agent asks for the order: {said:?}");
    let answer = &detail["turns"][2];
    let (overhead, response) = (answer["overhead_ms"].as_i64().unwrap(), answer["response_ms"].as_i64().unwrap());
    assert!(answer["llm_ms"].is_i64() && (0..=response).contains(&overhead), "{answer}");

    let script = script.lock().unwrap();
    let session = script.realtime_session.clone().expect("the session was configured");
    assert_eq!(session["audio"]["output"]["voice"], "rt-voice");
    assert_eq!(session["tools"][0]["name"], "store_agent");
    assert_eq!(session["audio"]["input"]["turn_detection"]["silence_duration_ms"], 500);
    // Every 20 ms frame the caller sent, at 24 kHz (the resampler holds back a few samples).
    let sent = (utterance.len().div_ceil(320) + 50) * 320 * 3 / 2;
    assert!(
        script.realtime_samples <= sent && script.realtime_samples + 2 * 480 > sent,
        "{} of {sent}",
        script.realtime_samples
    );
    let events = &script.realtime_events;
    assert_eq!(count(events, "response.create"), 3, "the greeting, the turn, the tool's answer: {events:?}");
    assert_eq!(count(events, "conversation.item.create"), 1, "{events:?}");
    assert_eq!(count(events, "response.cancel"), 0, "{events:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_realtime_model_is_cut_off_by_speech_not_by_a_backchannel() {
    let (url, script) = providers::start().await;
    {
        let mut script = script.lock().unwrap();
        script.words = ["haan", "where is my order"].map(String::from).into();
        script.seconds_per_char = 0.2;
    }
    let app = realtime_app(&url).await;
    let owner = app.sign_up("asha@example.in").await;
    let mut call = Call::start(&app, &owner).await;
    let (_, first) = call.next().await;
    assert!(matches!(first, Agent::Frame));
    call.say(&speech("haan_8k.wav"), Duration::from_millis(800)).await;
    call.say(&speech("order_en_8k.wav"), Duration::ZERO).await;
    let mut heard_frames = 1;
    loop {
        match call.next().await {
            (_, Agent::Clear) => break,
            (_, Agent::Frame) => heard_frames += 1,
            (_, other) => panic!("{other:?} before the clear"),
        }
    }
    script.lock().unwrap().seconds_per_char = 0.02;
    call.say(&[], Duration::from_millis(1_000)).await;
    call.utterance().await;
    let detail = carrier::call_when(&app, &owner.token, &call.id, |d| {
        d["turns"].as_array().is_some_and(|t| t.iter().filter(|t| t["speaker"] == "agent").count() >= 2)
    })
    .await;
    let said = turns(&detail);
    assert!(said[0].2, "the greeting was cut off: {said:?}");
    let script = script.lock().unwrap();
    let events = &script.realtime_events;
    assert_eq!(count(events, "response.create"), 3, "the haan got no answer: {events:?}");
    assert_eq!(count(events, "response.cancel"), 0, "the greeting was made before the caller spoke: {events:?}");
    let [(item, played_ms)] = script.realtime_truncations.as_slice() else {
        panic!("{:?}", script.realtime_truncations)
    };
    assert!(item.starts_with("item_out_"), "{item}");
    // Truncated where the caller's audio stopped: the frames it had, a frame in flight aside.
    let heard_ms = heard_frames * 20;
    assert!(played_ms.abs_diff(heard_ms) <= 40, "truncated at {played_ms} ms, {heard_ms} ms heard");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_realtime_model_speaks_in_the_voice_the_tenant_chose() {
    let (url, script) = providers::start().await;
    let app = realtime_app(&url).await;
    let owner = app.sign_up("asha@example.in").await;
    carrier::configure(&app, &owner, json!({"agent": {"voice": "cedar"}})).await;
    let mut call = Call::start(&app, &owner).await;
    call.utterance().await;
    let session = script.lock().unwrap().realtime_session.clone().expect("the session was configured");
    assert_eq!(session["audio"]["output"]["voice"], "cedar");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_realtime_service_is_down_the_cascade_answers() {
    let (url, script) = providers::start().await;
    {
        let mut script = script.lock().unwrap();
        script.words = ["where is my order"].map(String::from).into();
        script.realtime_down = true;
    }
    let app = realtime_app(&url).await;
    let owner = app.sign_up("asha@example.in").await;
    let mut call = Call::start(&app, &owner).await;
    call.utterance().await;
    call.say(&speech("order_en_8k.wav"), Duration::from_millis(700)).await;
    call.utterance().await;
    let script = script.lock().unwrap();
    assert_eq!(script.transcribed, 1, "the cascade transcribed the turn");
    assert!(script.realtime_events.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_realtime_session_breaks_the_caller_hears_an_apology_and_the_call_ends() {
    let (url, script) = providers::start().await;
    {
        let mut script = script.lock().unwrap();
        script.words = ["where is my order"].map(String::from).into();
        script.realtime_breaks = true;
    }
    let app = realtime_app(&url).await;
    let owner = app.sign_up("asha@example.in").await;
    let mut call = Call::start(&app, &owner).await;
    call.utterance().await;
    call.say(&speech("order_en_8k.wav"), Duration::from_millis(1_000)).await;
    let (frames, ..) = call.utterance().await;
    assert!(frames > 10, "the apology: {frames}");
    apologised_and_ended(&app, &owner, &mut call).await;
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// The "done when" latencies of issue 6, not a pass/fail test: run it on purpose with
/// `cargo test --release -p caly --test speech -- --ignored --nocapture latency_benchmark`.
/// Stand-ins answer STT final in 150 ms, the model's first token in 300 ms, TTS first audio in
/// 150 ms; each of `CALLS` browser calls hears the greeting, says one sentence and hangs up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: prints figures, run on purpose"]
async fn latency_benchmark() {
    const CALLS: usize = 30;
    let (url, script) = providers::start().await;
    {
        let mut script = script.lock().unwrap();
        script.words = std::iter::repeat_n("where is my order".to_owned(), CALLS).collect();
        script.stt_delay = Duration::from_millis(150);
        script.llm_delay = Duration::from_millis(300);
        script.tts_delay = Duration::from_millis(150);
    }
    let llm_url = format!("{url}/v1");
    let app = TestApp::builder(Engine::Sqlite)
        .config(move |c| {
            c.speech.engine = caly::config::SpeechEngine::Cascade;
            c.speech.stt_url = Some(llm_url.clone());
            c.speech.stt_api_key = Some("stt-key".to_owned().into());
            c.speech.stt_model = "whisper-test".into();
            c.speech.tts_url = Some(llm_url.clone());
            c.speech.tts_voice = "test-voice".into();
            c.speech.espeak_program = String::new();
            c.llm.base_url = Some(llm_url);
            c.llm.model = "test-model".into();
        })
        .spawn()
        .await;
    let owner = app.sign_up("asha@example.in").await;
    carrier::configure(&app, &owner, json!({"dialogue": {"engine": "llm"}})).await;
    let (mut greetings, mut responses, mut overheads) = (Vec::new(), Vec::new(), Vec::new());
    let utterance = speech("order_en_8k.wav");
    for _ in 0..CALLS {
        let connected = Instant::now();
        let mut call = Call::start(&app, &owner).await;
        let (_, _, first) = call.utterance().await;
        greetings.push((first - connected).as_secs_f64() * 1e3);
        call.say(&utterance, Duration::from_millis(700)).await;
        call.utterance().await;
        call.sink.close().await.unwrap();
        let detail = carrier::call_when(&app, &owner.token, &call.id, |d| {
            d["turns"].as_array().is_some_and(|t| t.iter().any(|t| t["response_ms"].is_i64() && t["stt_ms"].is_i64()))
        })
        .await;
        let answer = detail["turns"].as_array().unwrap().iter().find(|t| t["stt_ms"].is_i64()).unwrap().clone();
        assert_eq!(answer["llm_ms"].as_i64().map(|ms| ms >= 300), Some(true), "{answer}");
        responses.push(answer["response_ms"].as_f64().unwrap());
        overheads.push(answer["overhead_ms"].as_f64().unwrap());
    }
    for (name, values) in [
        ("greeting (socket open → first frame)", &mut greetings),
        ("end of speech → first frame", &mut responses),
        ("our overhead within it", &mut overheads),
    ] {
        values.sort_by(f64::total_cmp);
        println!(
            "{name}: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms (n = {})",
            percentile(values, 0.5),
            percentile(values, 0.95),
            values[values.len() - 1],
            values.len()
        );
    }
}

/// Issue 6's barge-in figure, not a pass/fail test: run it on purpose with
/// `cargo test --release -p caly --test speech -- --ignored --nocapture barge_in_benchmark`.
/// Each of `CALLS` browser calls hears a long greeting and talks over it; the caller's side
/// times its first speech frame to the clear, the server's histogram the input that confirmed
/// the barge-in to the clear sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark: prints figures, run on purpose"]
async fn barge_in_benchmark() {
    const CALLS: usize = 30;
    let (url, script) = providers::start().await;
    script.lock().unwrap().seconds_per_char = 0.2;
    let app = speech_app(Engine::Sqlite, &url, false, "").await;
    let owner = app.sign_up("asha@example.in").await;
    let utterance = speech("order_en_8k.wav");
    let mut heard = Vec::new();
    for _ in 0..CALLS {
        let mut call = Call::start(&app, &owner).await;
        call.next().await;
        let mut agent = std::mem::replace(&mut call.heard, mpsc::unbounded_channel().1);
        let speaking = Instant::now();
        let talk = call.say(&utterance, Duration::from_millis(600));
        let listen = async {
            loop {
                if let (at, Agent::Clear) = agent.recv().await.unwrap() {
                    return at;
                }
            }
        };
        let (_, cleared) = tokio::join!(talk, listen);
        heard.push((cleared - speaking).as_secs_f64() * 1e3);
        call.sink.close().await.unwrap();
    }
    heard.sort_by(f64::total_cmp);
    println!(
        "caller: first speech frame → clear: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms (n = {CALLS}); the rule waits 300 + 400 ms of speech",
        percentile(&heard, 0.5),
        percentile(&heard, 0.95),
        heard[heard.len() - 1]
    );
    let metrics = app.get_authorized("/metrics").await.text().await.unwrap();
    let lines: Vec<&str> = metrics.lines().filter(|l| l.starts_with("caly_barge_in_seconds")).collect();
    println!("server: confirming input → clear sent:\n{}", lines.join("\n"));
}
