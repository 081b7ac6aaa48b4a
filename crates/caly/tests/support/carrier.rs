//! A carrier's side of a call, for tests: signed webhooks (signed by the carriers' own Python
//! libraries where they exist) and the media WebSocket, read message by message.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream, connect_async, tungstenite::Message};

pub const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";
pub const TWILIO_TOKEN: &str = "twilio auth token for tests";
pub const PLIVO_ID: &str = "MAXXXXXXXXXXXXXXXXXX";
pub const PLIVO_TOKEN: &str = "plivo auth token for tests";
pub const EXOTEL_KEY: &str = "exotel-key";
pub const EXOTEL_TOKEN: &str = "exotel token for tests";
pub const STORE_NUMBER: &str = "+918035000001";
pub const ESCALATION_NUMBER: &str = "+919812300000";

/// The Python with the `twilio` and `plivo` packages, or `None` (and a visible skip) when
/// `CALY_TEST_PYTHON` is unset. CI sets it.
pub fn python(test: &str) -> Option<String> {
    let python = std::env::var("CALY_TEST_PYTHON").ok().filter(|p| !p.is_empty());
    if python.is_none() {
        super::skip(test, "CALY_TEST_PYTHON");
    }
    python
}

pub fn run_python(python: &str, script: &str, input: Value) -> String {
    use std::io::Write;
    let mut child = std::process::Command::new(python)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    child.stdin.take().unwrap().write_all(input.to_string().as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success(), "python failed");
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

/// `X-Twilio-Signature` as the `twilio` package's `RequestValidator` computes it.
pub fn twilio_signature(python: &str, token: &str, url: &str, params: &[(&str, &str)]) -> String {
    let script = "import json, sys\nfrom twilio.request_validator import RequestValidator\n\
                  a = json.load(sys.stdin)\n\
                  print(RequestValidator(a['token']).compute_signature(a['url'], dict(a['params'])))";
    run_python(python, script, json!({"token": token, "url": url, "params": params}))
}

/// `X-Plivo-Signature-V3` as the `plivo` package builds it.
pub fn plivo_signature(python: &str, token: &str, url: &str, nonce: &str, params: &[(&str, &str)]) -> String {
    let script = "import json, sys\nfrom plivo.utils.signature_v3 import construct_post_url, get_signature_v3\n\
                  a = json.load(sys.stdin)\n\
                  base = construct_post_url(a['url'], dict(a['params']))\n\
                  print(get_signature_v3(a['token'].encode(), base, a['nonce'].encode()).decode())";
    run_python(python, script, json!({"token": token, "url": url, "nonce": nonce, "params": params}))
}

pub fn twilio_params(call_sid: &str) -> Vec<(&str, &str)> {
    vec![
        ("AccountSid", TWILIO_SID),
        ("CallSid", call_sid),
        ("CallStatus", "ringing"),
        ("Direction", "inbound"),
        ("From", "+919876543210"),
        ("To", STORE_NUMBER),
    ]
}

pub async fn post_form(
    app: &super::TestApp,
    path: &str,
    params: &[(&str, &str)],
    signature: &str,
) -> reqwest::Response {
    app.client.post(app.url(path)).header("x-twilio-signature", signature).form(params).send().await.unwrap()
}

/// Answers a Twilio call; returns the stream URL and the call id from the TwiML.
pub async fn answer_twilio(app: &super::TestApp, python: &str, call_sid: &str) -> (String, String) {
    let params = twilio_params(call_sid);
    let url = app.url("/telephony/twilio/voice");
    let signed = twilio_signature(python, TWILIO_TOKEN, &url, &params);
    let response = post_form(app, "/telephony/twilio/voice", &params, &signed).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/xml; charset=utf-8");
    let twiml = response.text().await.unwrap();
    let shape = regex::Regex::new(
        r#"^<\?xml version="1.0" encoding="UTF-8"\?><Response><Connect><Stream url="(ws://127\.0\.0\.1:\d+/telephony/twilio/media\?token=[A-Za-z0-9_\-.]+)"><Parameter name="call_id" value="([0-9a-f-]{36})"/></Stream></Connect></Response>$"#,
    )
    .unwrap();
    let captures = shape.captures(&twiml).unwrap_or_else(|| panic!("unexpected TwiML: {twiml}"));
    (captures[1].to_owned(), captures[2].to_owned())
}

/// The tenant's number, escalation number and carrier credentials.
pub async fn configure(app: &super::TestApp, owner: &super::Owner, settings: Value) {
    let mut body = json!({"phone_numbers": [STORE_NUMBER], "telephony": {"escalation_number": ESCALATION_NUMBER}});
    merge(&mut body, settings);
    let update = json!({"version": 0, "settings": body, "credentials": {
        "twilio_account_sid": TWILIO_SID, "twilio_auth_token": TWILIO_TOKEN,
        "plivo_auth_id": PLIVO_ID, "plivo_auth_token": PLIVO_TOKEN,
        "exotel_api_key": EXOTEL_KEY, "exotel_api_token": EXOTEL_TOKEN}});
    let response =
        app.request(reqwest::Method::PUT, "/api/v1/settings", &owner.token).json(&update).send().await.unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

fn merge(into: &mut Value, from: Value) {
    if let (Some(into), Value::Object(from)) = (into.as_object_mut(), from) {
        into.extend(from);
    }
}

pub struct Media {
    socket: WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>,
}

/// What a media socket said next.
#[derive(Debug)]
pub enum Heard {
    Json(Value),
    Binary(Vec<u8>),
    Closed(Option<u16>),
}

impl Media {
    pub async fn connect(url: &str) -> Self {
        let (socket, _) = connect_async(url).await.expect("media socket connects");
        Self { socket }
    }

    pub async fn send(&mut self, message: Value) {
        self.socket.send(Message::Text(message.to_string().into())).await.unwrap();
    }

    pub async fn send_binary(&mut self, bytes: Vec<u8>) {
        self.socket.send(Message::Binary(bytes.into())).await.unwrap();
    }

    pub async fn next(&mut self) -> Heard {
        loop {
            let message =
                tokio::time::timeout(Duration::from_secs(10), self.socket.next()).await.expect("a message in time");
            return match message {
                Some(Ok(Message::Text(text))) => Heard::Json(serde_json::from_str(&text).unwrap()),
                Some(Ok(Message::Binary(bytes))) => Heard::Binary(bytes.to_vec()),
                Some(Ok(Message::Close(frame))) => Heard::Closed(frame.map(|f| u16::from(f.code))),
                Some(Ok(_)) => continue,
                None | Some(Err(_)) => Heard::Closed(None),
            };
        }
    }

    /// Messages until (and with) the next one whose `event` is `event`.
    pub async fn until(&mut self, event: &str) -> Vec<Value> {
        let mut seen = Vec::new();
        loop {
            match self.next().await {
                Heard::Json(message) => {
                    let done = message["event"] == event;
                    seen.push(message);
                    if done {
                        return seen;
                    }
                }
                Heard::Binary(_) => seen.push(json!({"event": "binary"})),
                Heard::Closed(code) => panic!("closed ({code:?}) before {event}; saw {} messages", seen.len()),
            }
        }
    }
}

/// μ-law of 20 ms of a loud tone (speech to the VAD), base64.
pub fn loud_ulaw() -> String {
    use base64::Engine;
    let bytes: Vec<u8> =
        (0..160).map(|i| caly_audio::g711::pcm_to_ulaw((8_000.0 * (f64::from(i) * 0.3).sin()) as i16)).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// μ-law of 20 ms of silence, base64.
pub fn quiet_ulaw() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode([0xFFu8; 160])
}

/// The call's detail once `done` holds for it (its writes trail the call by a moment), or as it
/// is after 5 s.
pub async fn call_when(app: &super::TestApp, token: &str, call_id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let path = format!("/api/v1/calls/{call_id}");
    let mut detail = app.get_json(&path, token).await;
    for _ in 0..100 {
        if done(&detail) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        detail = app.get_json(&path, token).await;
    }
    detail
}

/// Saves settings again over the current version.
pub async fn configure_again(app: &super::TestApp, owner: &super::Owner, settings: Value) {
    let current = app.get_json("/api/v1/settings", &owner.token).await;
    let mut body = current["settings"].clone();
    merge(&mut body, settings);
    let update = json!({"version": current["version"], "settings": body});
    let response =
        app.request(reqwest::Method::PUT, "/api/v1/settings", &owner.token).json(&update).send().await.unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

/// Requests a fake carrier REST API received: method, path, `Authorization`, body.
pub type Seen = std::sync::Arc<std::sync::Mutex<Vec<(String, String, String, String)>>>;

/// A carrier's REST API on loopback that records every request and answers `answer`.
pub async fn fake_rest(answer: Value) -> (String, Seen) {
    use axum::{
        extract::State,
        http::{HeaderMap, Method, Uri},
    };
    let seen: Seen = Seen::default();
    let record = |State((seen, answer)): State<(Seen, Value)>,
                  method: Method,
                  uri: Uri,
                  headers: HeaderMap,
                  body: String| async move {
        let auth = headers.get("authorization").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
        seen.lock().unwrap().push((method.to_string(), uri.path().to_owned(), auth, body));
        axum::Json(answer)
    };
    let fake = axum::Router::new().route("/{*path}", axum::routing::any(record)).with_state((seen.clone(), answer));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, fake).await.unwrap() });
    (url, seen)
}

/// The requests seen once there are `count` of them (the call makes them as it ends), or after 2 s.
pub async fn requests_seen(seen: &Seen, count: usize) -> Vec<(String, String, String, String)> {
    for _ in 0..100 {
        if seen.lock().unwrap().len() >= count {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    seen.lock().unwrap().clone()
}
