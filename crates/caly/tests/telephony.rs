//! Calls through the carriers, end to end: the real server, driven by a fake carrier over real
//! HTTP and a real WebSocket. Webhooks are signed by the carriers' own Python libraries;
//! the wire output (TwiML/XML, frames, marks, clear) is checked exactly.

mod support;

use caly_telephony::twilio::signature;
use regex::Regex;
use serde_json::{Value, json};
use support::{
    Engine, TestApp,
    carrier::{
        self, ESCALATION_NUMBER, Heard, Media, STORE_NUMBER, TWILIO_SID, TWILIO_TOKEN, answer_twilio, post_form,
        twilio_params,
    },
    problem,
};

const CALL_SID: &str = "CA11112222333344445555666677778888";

async fn refusals_audited(app: &TestApp) -> usize {
    let events = app.store().audit_events(caly_store::SYSTEM_CHAIN).await.unwrap();
    events.iter().filter(|event| event.event == "telephony.refused").count()
}

fn media(payload: &str) -> Value {
    json!({"event": "media", "streamSid": "MZ1", "media": {"track": "inbound", "payload": payload}})
}

/// Frames until the next mark: their count, each checked to be 20 ms of μ-law.
fn frames_before_mark(messages: &[Value]) -> (usize, String) {
    let (mark, frames) = messages.split_last().unwrap();
    for frame in frames {
        assert_eq!(frame["event"], "media", "{frame}");
        assert_eq!(frame["streamSid"], "MZ1");
        use base64::Engine;
        let payload =
            base64::engine::general_purpose::STANDARD.decode(frame["media"]["payload"].as_str().unwrap()).unwrap();
        assert_eq!(payload.len(), 160, "20 ms of 8 kHz μ-law");
    }
    (frames.len(), mark["mark"]["name"].as_str().unwrap().to_owned())
}

on_both_engines! {
    async fn a_twilio_call_is_answered_streamed_paced_recorded_and_stored(engine: Engine) {
        let Some(python) = carrier::python("telephony::a_twilio_call_is_answered_streamed_paced_recorded_and_stored") else { return };
        let app = TestApp::spawn(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        carrier::configure(&app, &owner, json!({})).await;
        let (stream_url, call_id) = answer_twilio(&app, &python, CALL_SID).await;

        let mut call = Media::connect(&stream_url).await;
        call.send(json!({"event": "connected", "protocol": "Call", "version": "1.0.0"})).await;
        call.send(json!({"event": "start", "sequenceNumber": "1", "streamSid": "MZ1", "start": {
            "accountSid": TWILIO_SID, "streamSid": "MZ1", "callSid": CALL_SID, "tracks": ["inbound"],
            "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
            "customParameters": {"call_id": call_id}}})).await;
        // The greeting: 1.2 s, 60 frames of 20 ms, then its mark.
        let started = std::time::Instant::now();
        let greeting = call.until("mark").await;
        assert_eq!(frames_before_mark(&greeting), (60, "u1".to_owned()));
        assert!(started.elapsed() >= std::time::Duration::from_millis(1_100), "paced at real time, not sent at once");
        call.send(json!({"event": "mark", "streamSid": "MZ1", "mark": {"name": "u1"}})).await;

        // Digits typed, # ends them: read back as two DTMF tones (2 × 250 ms).
        for digit in ["4", "2", "#"] {
            call.send(json!({"event": "dtmf", "streamSid": "MZ1", "dtmf": {"track": "inbound_track", "digit": digit}})).await;
        }
        assert_eq!(frames_before_mark(&call.until("mark").await), (25, "u2".to_owned()));

        // Malformed and out-of-place messages are ignored; the call goes on.
        call.send(json!({"event": "media", "streamSid": "MZ1", "media": {"payload": "***"}})).await;
        call.send(json!({"event": "start", "streamSid": "MZ2", "start": {"streamSid": "MZ2", "callSid": "CA2"}})).await;

        // Keys again, then the caller talks over the read-back: it is cleared here and at Twilio.
        for digit in ["7", "7", "7", "#"] {
            call.send(json!({"event": "dtmf", "streamSid": "MZ1", "dtmf": {"digit": digit}})).await;
        }
        let first = call.next().await;
        assert!(matches!(&first, Heard::Json(m) if m["event"] == "media"), "{first:?}");
        for _ in 0..4 {
            call.send(media(&carrier::loud_ulaw())).await;
        }
        let cleared = call.until("clear").await;
        assert_eq!(cleared.last().unwrap(), &json!({"event": "clear", "streamSid": "MZ1"}));
        assert!(cleared.len() < 40, "audio stopped soon after speech began ({} messages)", cleared.len());
        // The caller goes on talking, then stops: the agent echoes what it heard.
        for _ in 0..20 {
            call.send(media(&carrier::loud_ulaw())).await;
        }
        for _ in 0..30 {
            call.send(media(&carrier::quiet_ulaw())).await;
        }
        let (frames, mark) = frames_before_mark(&call.until("mark").await);
        assert_eq!(mark, "u4");
        assert!((45..=52).contains(&frames), "the echo is as long as the speech plus the pause: {frames}");
        call.send(json!({"event": "stop", "sequenceNumber": "99", "streamSid": "MZ1",
            "stop": {"accountSid": TWILIO_SID, "callSid": CALL_SID}})).await;
        assert!(matches!(call.next().await, Heard::Closed(_)));

        // Stored: the call, every turn, the interrupted one cut short, and the recording.
        let path = format!("/api/v1/calls/{call_id}");
        let detail = carrier::call_when(&app, &owner.token, &call_id, |d| d["status"] == "completed" && d["recording_url"].is_string()).await;
        assert_eq!(detail["status"], "completed");
        assert_eq!(detail["end_reason"], "caller_hung_up");
        assert_eq!(detail["direction"], "inbound");
        assert_eq!(detail["caller_number"], "+919876543210");
        let turns: Vec<(String, String, bool)> = detail["turns"].as_array().unwrap().iter().map(|t| (
            t["speaker"].as_str().unwrap().to_owned(), t["text"].as_str().unwrap().to_owned(), t["interrupted"].as_bool().unwrap(),
        )).collect();
        let greeting = "नमस्ते! मैं आपकी क्या मदद कर सकती हूँ?".to_owned();
        assert_eq!(turns[0], ("agent".into(), greeting, false));
        assert_eq!(turns[1], ("system".into(), "keypad: 42".into(), false));
        assert_eq!(turns[2], ("caller".into(), "42".into(), false));
        assert_eq!(turns[3], ("agent".into(), "You typed 4 2.".into(), false));
        assert_eq!(turns[4], ("system".into(), "keypad: 777".into(), false));
        assert_eq!(turns[5], ("caller".into(), "777".into(), false));
        assert_eq!(turns[6].0, "agent");
        assert!(turns[6].2, "the read-back was interrupted: {:?}", turns[6]);
        assert!("You typed 7 7 7.".starts_with(&turns[6].1) && turns[6].1.len() < 16, "{:?}", turns[6]);
        assert_eq!(turns[7].0, "caller");
        assert!(turns[7].1.starts_with("[speech, "), "{:?}", turns[7]);
        assert_eq!(turns[8].0, "agent");
        assert_eq!(turns.len(), 9);

        let recording = app.request(reqwest::Method::GET, &format!("{path}/recording"), &owner.token).send().await.unwrap();
        assert_eq!(recording.status(), 200);
        let wav = recording.bytes().await.unwrap();
        assert_eq!(&wav[..4], b"RIFF");
        assert_eq!(u16::from_le_bytes([wav[22], wav[23]]), 2, "stereo: caller left, agent right");
        assert_eq!(u32::from_le_bytes(wav[24..28].try_into().unwrap()), 8_000);
        let seconds = (wav.len() - 44) as f64 / 32_000.0;
        assert!(seconds > 2.0, "the recording holds the call ({seconds:.2} s)");

        // The token was used: a second connection is closed as a policy violation, and audited.
        let mut again = Media::connect(&stream_url).await;
        assert!(matches!(again.next().await, Heard::Closed(Some(1008))));
        let refusals = refusals_audited(&app).await;
        assert_eq!(refusals, 1);

        // Every frame's lateness against its schedule is measured: greeting, read-backs, echo.
        let metrics = app.get_authorized("/metrics").await.text().await.unwrap();
        let paced: u64 = metrics.lines().find_map(|l| l.strip_prefix("caly_pacing_lateness_seconds_count ")).unwrap().parse().unwrap();
        assert!(paced >= 60 + 25 + 45, "{paced} frames");
        // Gaps the caller would hear are counted by cause, and both series exist from the start.
        for cause in ["late", "starved"] {
            let series = format!("caly_pacing_underruns_total{{cause=\"{cause}\"}} ");
            assert!(metrics.lines().any(|l| l.starts_with(&series)), "no {series}in\n{metrics}");
        }
    }

    async fn webhooks_with_bad_signatures_unknown_numbers_or_bad_tokens_are_refused_alike(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        carrier::configure(&app, &owner, json!({})).await;
        let url = app.url("/telephony/twilio/voice");
        let params = twilio_params(CALL_SID);
        let good = signature::sign(TWILIO_TOKEN, &url, &params.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect::<Vec<_>>());
        let bad_token = signature::sign("not the token", &url, &params.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect::<Vec<_>>());
        let mut unknown = twilio_params(CALL_SID);
        unknown[5].1 = "+918035009999";
        let unknown_signed = signature::sign(TWILIO_TOKEN, &url, &unknown.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect::<Vec<_>>());
        let mut tampered = twilio_params(CALL_SID);
        tampered[4].1 = "+919999999999";
        let mut bodies = Vec::new();
        for (params, signed) in [(&params, bad_token.as_str()), (&params, ""), (&unknown, unknown_signed.as_str()), (&tampered, good.as_str())] {
            let response = post_form(&app, "/telephony/twilio/voice", params, signed).await;
            let mut body = problem(response, 403, "forbidden").await;
            body.as_object_mut().unwrap().retain(|k, _| k != "request_id" && k != "instance");
            bodies.push(body);
        }
        assert!(bodies.windows(2).all(|pair| pair[0] == pair[1]), "refusals look alike: {bodies:?}");
        assert_eq!(post_form(&app, "/telephony/twilio/voice", &params, &good).await.status(), 200);
        for token in ["", "garbage", "e30.e30"] {
            let mut socket = Media::connect(&format!("ws://{}/telephony/twilio/media?token={token}", app.addr)).await;
            assert!(matches!(socket.next().await, Heard::Closed(Some(1008))));
        }
        assert_eq!(refusals_audited(&app).await, 7);
        let calls = app.get_json("/api/v1/calls", &owner.token).await;
        assert_eq!(calls["items"].as_array().unwrap().len(), 1, "refused webhooks opened no call");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pressing_zero_hands_a_twilio_call_to_the_escalation_number_through_the_rest_api() {
    let Some(python) = carrier::python("telephony::pressing_zero_hands_a_twilio_call_to_the_escalation_number") else {
        return;
    };
    let (fake_url, seen) = carrier::fake_rest(json!({"sid": CALL_SID, "status": "in-progress"})).await;
    let app = TestApp::builder(Engine::Sqlite).config(|c| c.telephony.twilio_api_url = fake_url).spawn().await;
    let owner = app.sign_up("asha@example.in").await;
    carrier::configure(&app, &owner, json!({"recording": {"enabled": false, "retention_days": 30}})).await;
    let (stream_url, call_id) = answer_twilio(&app, &python, CALL_SID).await;
    let mut call = Media::connect(&stream_url).await;
    call.send(json!({"event": "start", "streamSid": "MZ1", "start": {"streamSid": "MZ1", "callSid": CALL_SID}})).await;
    call.until("mark").await;
    call.send(json!({"event": "dtmf", "streamSid": "MZ1", "dtmf": {"digit": "0"}})).await;
    call.send(json!({"event": "dtmf", "streamSid": "MZ1", "dtmf": {"digit": "#"}})).await;
    assert!(matches!(call.next().await, Heard::Closed(Some(1000))));
    let seen = carrier::requests_seen(&seen, 1).await;
    assert_eq!(seen.len(), 1);
    let (method, path, auth, body) = &seen[0];
    assert_eq!(method, "POST");
    assert_eq!(path, &format!("/2010-04-01/Accounts/{TWILIO_SID}/Calls/{CALL_SID}.json"));
    use base64::Engine as _;
    let expected_auth =
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{TWILIO_SID}:{TWILIO_TOKEN}")));
    assert_eq!(auth, &expected_auth);
    let form: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let dial =
        format!(r#"<?xml version="1.0" encoding="UTF-8"?><Response><Dial>{ESCALATION_NUMBER}</Dial></Response>"#);
    assert_eq!(form, vec![("Twiml".to_owned(), dial)]);
    let detail = app.get_json(&format!("/api/v1/calls/{call_id}"), &owner.token).await;
    assert_eq!(detail["outcome"], "transferred");
    assert!(detail["recording_url"].is_null(), "recording is off for this tenant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exotel_call_needs_basic_credentials_and_gets_audio_in_chunks_of_3200_bytes() {
    use base64::Engine as _;
    let app = TestApp::spawn(Engine::Sqlite).await;
    let owner = app.sign_up("asha@example.in").await;
    carrier::configure(&app, &owner, json!({})).await;
    let path = "/telephony/exotel/voice?CallSid=ex1&CallFrom=09876543210&CallTo=08035000001";
    let refused = app.client.get(app.url(path)).basic_auth(carrier::EXOTEL_KEY, Some("wrong")).send().await.unwrap();
    problem(refused, 403, "forbidden").await;
    let answer = app
        .client
        .get(app.url(path))
        .basic_auth(carrier::EXOTEL_KEY, Some(carrier::EXOTEL_TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let answer: Value = answer.json().await.unwrap();
    let url = answer["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("ws://{}/telephony/exotel/media?token=", app.addr)), "{url}");

    let mut call = Media::connect(url).await;
    call.send(json!({"event": "connected"})).await;
    call.send(json!({"event": "start", "sequence_number": 1, "stream_sid": "st1", "start": {
        "stream_sid": "st1", "call_sid": "ex1", "account_sid": "acme", "from": "09876543210", "to": "08035000001",
        "media_format": {"encoding": "base64", "sample_rate": "8000", "bit_rate": "128kbps"}}}))
        .await;
    let greeting = call.until("mark").await;
    let sizes: Vec<usize> = greeting[..greeting.len() - 1]
        .iter()
        .map(|m| {
            assert_eq!(m["stream_sid"], "st1");
            base64::engine::general_purpose::STANDARD.decode(m["media"]["payload"].as_str().unwrap()).unwrap().len()
        })
        .collect();
    // 1.2 s of 8 kHz PCM16 = 19,200 bytes: six chunks of 3,200.
    assert_eq!(sizes, vec![3_200; 6]);
    assert_eq!(greeting.last().unwrap(), &json!({"event": "mark", "stream_sid": "st1", "mark": {"name": "u1"}}));
    call.send(json!({"event": "stop", "stream_sid": "st1", "stop": {"call_sid": "ex1", "reason": "callended"}})).await;
    assert!(matches!(call.next().await, Heard::Closed(_)));

    // An allow-list that does not hold the caller's address refuses it, credentials or not.
    carrier::configure_again(&app, &owner, json!({"telephony": {"exotel_allowed_ips": ["203.0.113.0/24"]}})).await;
    let refused = app
        .client
        .get(app.url(path))
        .basic_auth(carrier::EXOTEL_KEY, Some(carrier::EXOTEL_TOKEN))
        .send()
        .await
        .unwrap();
    problem(refused, 403, "forbidden").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plivo_call_is_answered_with_a_bidirectional_stream_when_signed_by_plivos_library() {
    let Some(python) = carrier::python("telephony::a_plivo_call_is_answered_with_a_bidirectional_stream") else {
        return;
    };
    let app = TestApp::spawn(Engine::Sqlite).await;
    let owner = app.sign_up("asha@example.in").await;
    carrier::configure(&app, &owner, json!({})).await;
    let params = [
        ("CallUUID", "5b9f2b0e-1c3d-4a7e-9f21-0d8c4b6a1e22"),
        ("Direction", "inbound"),
        ("From", "919876543210"),
        ("To", "918035000001"),
    ];
    let url = app.url("/telephony/plivo/answer");
    let signed = carrier::plivo_signature(&python, carrier::PLIVO_TOKEN, &url, "31625392716", &params);
    let post = |signature: String| {
        app.client
            .post(&url)
            .header("x-plivo-signature-v3", signature)
            .header("x-plivo-signature-v3-nonce", "31625392716")
            .form(&params)
            .send()
    };
    problem(post(format!("{signed}x")).await.unwrap(), 403, "forbidden").await;
    let answer = post(signed).await.unwrap();
    assert_eq!(answer.status(), 200);
    let xml = answer.text().await.unwrap();
    let shape = Regex::new(r#"^<\?xml version="1.0" encoding="UTF-8"\?><Response><Stream bidirectional="true" keepCallAlive="true" contentType="audio/x-mulaw;rate=8000">(ws://[^<]+)</Stream></Response>$"#).unwrap();
    let stream_url = shape.captures(&xml).unwrap_or_else(|| panic!("{xml}"))[1].to_owned();
    let mut call = Media::connect(&stream_url).await;
    call.send(
        json!({"event": "start", "sequenceNumber": 0, "start": {"callId": "5b9f2b0e-1c3d-4a7e-9f21-0d8c4b6a1e22",
        "streamId": "s-1", "accountId": carrier::PLIVO_ID, "tracks": ["inbound"],
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000}}}),
    )
    .await;
    let greeting = call.until("checkpoint").await;
    assert_eq!(greeting.len(), 61);
    assert_eq!(greeting[0]["media"]["contentType"], "audio/x-mulaw");
    assert_eq!(greeting[60], json!({"event": "checkpoint", "streamId": "s-1", "name": "u1"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_browser_test_call_streams_16_khz_pcm_to_a_signed_in_supervisor() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let owner = app.sign_up("asha@example.in").await;
    let started = app.request(reqwest::Method::POST, "/api/v1/calls/web", &owner.token).send().await.unwrap();
    assert_eq!(started.status(), 201);
    let started: Value = started.json().await.unwrap();
    let mut call = Media::connect(started["url"].as_str().unwrap()).await;
    let mut frames = 0;
    loop {
        match call.next().await {
            Heard::Binary(bytes) => {
                assert_eq!(bytes.len(), 640, "20 ms of 16 kHz PCM16");
                frames += 1;
            }
            Heard::Json(message) => {
                assert_eq!(message, json!({"event": "mark", "name": "u1"}));
                break;
            }
            Heard::Closed(code) => panic!("closed: {code:?}"),
        }
    }
    assert_eq!(frames, 60);
    call.send(json!({"event": "dtmf", "digit": "9"})).await;
    call.send(json!({"event": "dtmf", "digit": "#"})).await;
    // Goodbye, then the agent hangs up once it was played.
    call.until("mark").await;
    call.send(json!({"event": "mark", "name": "u2"})).await;
    assert!(matches!(call.next().await, Heard::Closed(Some(1000))));
    let call_id = started["call_id"].as_str().unwrap();
    let detail = carrier::call_when(&app, &owner.token, call_id, |d| d["status"] == "completed").await;
    assert_eq!(detail["direction"], "web");
    assert_eq!(detail["end_reason"], "agent_hung_up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pressing_zero_transfers_a_plivo_call_whose_dial_url_answers_the_escalation_number() {
    let Some(python) = carrier::python("telephony::pressing_zero_transfers_a_plivo_call") else { return };
    let (fake_url, seen) = carrier::fake_rest(json!({"message": "call transferred", "api_id": "a1"})).await;
    let app = TestApp::builder(Engine::Sqlite).config(|c| c.telephony.plivo_api_url = fake_url).spawn().await;
    let owner = app.sign_up("asha@example.in").await;
    carrier::configure(&app, &owner, json!({})).await;
    let call_uuid = "5b9f2b0e-1c3d-4a7e-9f21-0d8c4b6a1e22";
    let params = [("CallUUID", call_uuid), ("Direction", "inbound"), ("From", "919876543210"), ("To", "918035000001")];
    let signed_post = |url: String, params: Vec<(&'static str, &'static str)>| {
        let signature = carrier::plivo_signature(&python, carrier::PLIVO_TOKEN, &url, "4242", &params);
        app.client
            .post(url)
            .header("x-plivo-signature-v3", signature)
            .header("x-plivo-signature-v3-nonce", "4242")
            .form(&params)
            .send()
    };
    let xml = signed_post(app.url("/telephony/plivo/answer"), params.to_vec()).await.unwrap().text().await.unwrap();
    let start = xml.find("keepCallAlive").unwrap();
    let stream_url = &xml[xml[start..].find('>').unwrap() + start + 1..xml.find("</Stream>").unwrap()];
    let mut call = Media::connect(&stream_url.replace("&amp;", "&")).await;
    call.send(json!({"event": "start", "sequenceNumber": 0, "start": {"callId": call_uuid, "streamId": "s-1"}})).await;
    call.until("checkpoint").await;
    for digit in ["0", "#"] {
        call.send(json!({"event": "dtmf", "streamId": "s-1", "dtmf": {"digit": digit}})).await;
    }
    assert!(matches!(call.next().await, Heard::Closed(Some(1000))));

    let seen = carrier::requests_seen(&seen, 1).await;
    let (method, path, _, body) = &seen[0];
    assert_eq!(
        (method.as_str(), path.as_str()),
        ("POST", format!("/v1/Account/{}/Call/{call_uuid}/", carrier::PLIVO_ID).as_str())
    );
    let body: Value = serde_json::from_str(body).unwrap();
    assert_eq!(body["legs"], "aleg");
    assert_eq!(body["aleg_method"], "POST");
    let dial_url = body["aleg_url"].as_str().unwrap().to_owned();
    assert!(dial_url.starts_with(&app.url("/telephony/plivo/dial?tenant=")), "{dial_url}");
    // Plivo fetches the transfer's XML from that URL, signed like any webhook.
    let dial = signed_post(dial_url, vec![("CallUUID", call_uuid)]).await.unwrap();
    assert_eq!(dial.status(), 200);
    let expected = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><Response><Dial><Number>{ESCALATION_NUMBER}</Number></Dial></Response>"#
    );
    assert_eq!(dial.text().await.unwrap(), expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caly_simulate_places_signed_calls_and_measures_the_frames_it_hears() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let owner = app.sign_up("asha@example.in").await;
    carrier::configure(&app, &owner, json!({})).await;
    let args = caly::simulate::SimulateArgs {
        url: app.url(""),
        calls: 2,
        // Long enough for one caller turn (2 s quiet, 1.2 s talk) and its answer.
        duration: std::time::Duration::from_secs(5),
        ramp: std::time::Duration::from_millis(100),
        to: STORE_NUMBER.to_owned(),
        account_sid: TWILIO_SID.to_owned(),
        auth_token: TWILIO_TOKEN.to_owned(),
        wav: None,
        digits: Some("1007#".to_owned()),
        json: true,
    };
    let report = caly::simulate::measure(&args).await.unwrap();
    assert_eq!((report.calls, report.failed), (2, 0), "{:?}", report.errors);
    assert_eq!(report.greeting_ms.count, 2, "both greetings heard");
    let (stamped, read) = (&report.frame_interval_ms, &report.frame_interval_read_ms);
    assert!(stamped.count > 50 && stamped.count == read.count, "{stamped:?} {read:?}");
    assert!((19.0..=21.0).contains(&stamped.p50), "paced at 20 ms: {stamped:?}");
    assert!((19.0..=21.0).contains(&read.p50), "paced at 20 ms: {read:?}");
    assert!(report.frames_received >= stamped.count, "{report:?}");
    assert_eq!(report.turns_ended, 2, "one turn each: {report:?}");
    assert_eq!(report.turn_ms.count, 2, "each turn answered: {report:?}");
    assert!((500.0..1_500.0).contains(&report.turn_ms.p50), "the VAD's 500 ms wait and little more: {report:?}");
    let calls = app.get_json("/api/v1/calls", &owner.token).await;
    assert_eq!(calls["items"].as_array().map(Vec::len), Some(2), "both calls stored: {calls}");
}
