//! A call cut off by a crash: the process is killed mid-call (SIGKILL, nothing runs on the way
//! down); at the next start the call is closed as `interrupted`, with everything said kept.

mod support;

use std::{process::Child, time::Duration};

use caly_telephony::twilio::signature;
use serde_json::json;
use support::carrier::{Media, STORE_NUMBER};

const TOKEN: &str = "single account auth token";
const SID: &str = "ACcrashtest";

fn start(dir: &std::path::Path, port: u16) -> Child {
    support::caly_command(dir)
        .args(["serve"])
        .env("CALY_LISTEN", format!("127.0.0.1:{port}"))
        .env("CALY_DEMO", "false")
        .env("CALY_RATE_LIMITS", "off")
        .env("CALY_LOG_LEVEL", "warn")
        .env("CALY_SPEECH_ENGINE", "echo")
        .env("CALY_TELEPHONY_TWILIO_ACCOUNT_SID", SID)
        .env("CALY_TELEPHONY_TWILIO_AUTH_TOKEN", TOKEN)
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("caly starts")
}

async fn ready(client: &reqwest::Client, base: &str) {
    for _ in 0..300 {
        if client.get(format!("{base}/startupz")).send().await.is_ok_and(|r| r.status() == 200) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("caly did not start");
}

async fn sign_in(client: &reqwest::Client, base: &str) -> String {
    let login: serde_json::Value = client
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"email": "asha@example.in", "password": "a long enough passphrase 7"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["access_token"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_cut_off_by_a_crash_is_closed_as_interrupted_with_what_was_said() {
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let base = format!("http://127.0.0.1:{port}");
    let client = support::http_client();
    let mut server = start(dir.path(), port);
    ready(&client, &base).await;
    let account = json!({"email": "asha@example.in", "password": "a long enough passphrase 7", "name": "Asha",
        "store_name": "Kurta Ghar", "timezone": "Asia/Kolkata", "language": "en"});
    assert_eq!(client.post(format!("{base}/api/v1/auth/register")).json(&account).send().await.unwrap().status(), 201);
    let token = sign_in(&client, &base).await;
    let settings = json!({"version": 0, "settings": {"phone_numbers": [STORE_NUMBER]}});
    assert_eq!(
        client
            .put(format!("{base}/api/v1/settings"))
            .bearer_auth(&token)
            .json(&settings)
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    let url = format!("{base}/telephony/twilio/voice");
    let params: Vec<(String, String)> =
        [("AccountSid", SID), ("CallSid", "CAcrash"), ("From", "+919876543210"), ("To", STORE_NUMBER)]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect();
    let answer = client
        .post(&url)
        .header("x-twilio-signature", signature::sign(TOKEN, &url, &params))
        .form(&params)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start_at = answer.find("url=\"").unwrap() + 5;
    let stream_url = &answer[start_at..start_at + answer[start_at..].find('"').unwrap()];
    let mut call = Media::connect(stream_url).await;
    call.send(json!({"event": "start", "streamSid": "MZ1", "start": {"streamSid": "MZ1", "callSid": "CAcrash"}})).await;
    call.until("mark").await;
    for digit in ["5", "#"] {
        call.send(json!({"event": "dtmf", "streamSid": "MZ1", "dtmf": {"digit": digit}})).await;
    }
    // The agent answers the digits: by then they were handed to the writer.
    call.until("media").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    server.kill().unwrap();
    server.wait().unwrap();

    let mut server = start(dir.path(), port);
    ready(&client, &base).await;
    let token = &sign_in(&client, &base).await;
    let calls: serde_json::Value =
        client.get(format!("{base}/api/v1/calls")).bearer_auth(token).send().await.unwrap().json().await.unwrap();
    let call_id = calls["items"][0]["id"].as_str().unwrap();
    let detail: serde_json::Value = client
        .get(format!("{base}/api/v1/calls/{call_id}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    server.kill().unwrap();
    server.wait().unwrap();
    assert_eq!(detail["status"], "interrupted", "{detail}");
    assert_eq!(detail["end_reason"], "server_stopped");
    let said: Vec<&str> = detail["turns"].as_array().unwrap().iter().map(|t| t["text"].as_str().unwrap()).collect();
    assert!(said.contains(&"keypad: 5") && said.contains(&"5") && said.contains(&"You typed 5."), "{said:?}");
}
