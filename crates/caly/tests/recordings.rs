//! `GET /api/v1/calls/{id}/recording`: the whole file or one byte range, to supervisors and up,
//! audited, on both engines. Recordings are put in the object store as the recorder will, or
//! recorded from a call into an S3 bucket.

mod support;

use caly_core::call::Direction;
use caly_store::NewCall;
use object_store::{ObjectStoreExt, PutPayload, path::Path};
use reqwest::{Method, header};
use serde_json::json;
use support::{
    Engine, TestApp,
    carrier::{self, Heard, Media},
    problem,
    s3::S3,
};

/// A stereo 8 kHz PCM16 WAV of `samples` frames, each sample its own index.
fn wav(samples: u32) -> Vec<u8> {
    let data = samples * 4;
    let mut bytes = Vec::new();
    for part in [
        &b"RIFF"[..],
        &(36 + data).to_le_bytes(),
        b"WAVEfmt ",
        &16u32.to_le_bytes(),
        &1u16.to_le_bytes(),
        &2u16.to_le_bytes(),
        &8000u32.to_le_bytes(),
        &32000u32.to_le_bytes(),
        &4u16.to_le_bytes(),
        &16u16.to_le_bytes(),
        b"data",
        &data.to_le_bytes(),
    ] {
        bytes.extend_from_slice(part);
    }
    for i in 0..samples * 2 {
        bytes.extend_from_slice(&(i as u16).to_le_bytes());
    }
    bytes
}

on_both_engines! {
    async fn recordings_stream_whole_or_by_range_to_supervisors(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        let viewer = app.add_member(&owner, "viewer@example.in", "viewer").await;
        let store = app.store();
        let new = NewCall {
            direction: Direction::Inbound, carrier: "twilio", carrier_call_id: None, caller_number: None,
            called_number: None, language: None, started_at: 1_795_000_000_000_000,
        };
        let call = store.insert_call(&owner.tenant_id, new).await.unwrap().id;
        let path = format!("/api/v1/calls/{call}/recording");
        problem(app.request(Method::GET, &path, &owner.token).send().await.unwrap(), 404, "not_found").await;

        let audio = wav(4_000);
        let key = format!("{}/{call}.wav", owner.tenant_id);
        app.server().state.recordings.objects().put(&Path::from(key.as_str()), PutPayload::from(audio.clone())).await.unwrap();
        assert!(store.set_recording(&owner.tenant_id, &call, Some(&key), 1).await.unwrap());
        let detail = app.get_json(&format!("/api/v1/calls/{call}"), &owner.token).await;
        assert_eq!(detail["recording_url"], path.as_str());

        let whole = app.request(Method::GET, &path, &owner.token).send().await.unwrap();
        assert_eq!(whole.status(), 200);
        assert_eq!(whole.headers()[header::CONTENT_TYPE], "audio/wav");
        assert_eq!(whole.headers()[header::ACCEPT_RANGES], "bytes");
        assert_eq!(whole.bytes().await.unwrap().as_ref(), audio.as_slice());

        let header_only = app.request(Method::GET, &path, &owner.token).header(header::RANGE, "bytes=0-43").send().await.unwrap();
        assert_eq!(header_only.status(), 206);
        assert_eq!(header_only.headers()[header::CONTENT_RANGE], format!("bytes 0-43/{}", audio.len()));
        assert_eq!(header_only.bytes().await.unwrap().as_ref(), &audio[..44]);
        let tail = app.request(Method::GET, &path, &owner.token).header(header::RANGE, "bytes=-100").send().await.unwrap();
        assert_eq!(tail.status(), 206);
        assert_eq!(tail.bytes().await.unwrap().as_ref(), &audio[audio.len() - 100..]);
        let seek = app.request(Method::GET, &path, &owner.token).header(header::RANGE, "bytes=16000-").send().await.unwrap();
        assert_eq!(seek.bytes().await.unwrap().as_ref(), &audio[16_000..]);
        let beyond = app.request(Method::GET, &path, &owner.token).header(header::RANGE, "bytes=99999-").send().await.unwrap();
        assert_eq!(beyond.headers()[header::CONTENT_RANGE], format!("bytes */{}", audio.len()));
        problem(beyond, 416, "range_not_satisfiable").await;

        problem(app.request(Method::GET, &path, &viewer).send().await.unwrap(), 403, "forbidden").await;
        let other = app.sign_up("ravi@example.in").await;
        problem(app.request(Method::GET, &path, &other.token).send().await.unwrap(), 404, "not_found").await;
        let downloads = store.audit_events(&owner.tenant_id).await.unwrap();
        assert_eq!(downloads.iter().filter(|e| e.event == "recording.downloaded").count(), 4, "each download audited");
    }

    async fn recordings_past_their_tenants_retention_are_deleted_and_unlinked(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        let store = app.store();
        let now = 1_800_000_000_000_000_i64;
        let day = 86_400_000_000_i64;
        let mut keys = Vec::new();
        // The default retention is 90 days: 91 days old goes, 89 days old stays.
        for age in [91, 89] {
            let new = NewCall {
                direction: Direction::Inbound, carrier: "twilio", carrier_call_id: None, caller_number: None,
                called_number: None, language: None, started_at: now - age * day,
            };
            let call = store.insert_call(&owner.tenant_id, new).await.unwrap().id;
            let key = format!("{}/{call}.wav", owner.tenant_id);
            app.server().state.recordings.objects().put(&Path::from(key.as_str()), PutPayload::from(wav(10))).await.unwrap();
            store.set_recording(&owner.tenant_id, &call, Some(&key), 1).await.unwrap();
            keys.push((call, key));
        }
        let deleted = caly::call::retention::sweep(&app.server().state, now).await.unwrap();
        assert_eq!(deleted, 1);
        let recordings = app.server().state.recordings.objects();
        assert!(matches!(recordings.head(&Path::from(keys[0].1.as_str())).await, Err(object_store::Error::NotFound { .. })));
        assert!(recordings.head(&Path::from(keys[1].1.as_str())).await.is_ok());
        let old = app.get_json(&format!("/api/v1/calls/{}", keys[0].0), &owner.token).await;
        assert!(old["recording_url"].is_null());
        let recent = app.get_json(&format!("/api/v1/calls/{}", keys[1].0), &owner.token).await;
        assert!(recent["recording_url"].is_string());
        assert_eq!(caly::call::retention::sweep(&app.server().state, now).await.unwrap(), 0, "nothing twice");
    }
}

/// With `[recordings] s3_bucket`, a call's recording goes to the bucket (moto's S3 on loopback,
/// read back with boto3), is streamed from it, and is deleted from it when it expires.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_recorded_into_an_s3_bucket_is_streamed_from_it_and_deleted_from_it_when_expired() {
    let Some(python) = carrier::python("recordings::a_call_recorded_into_an_s3_bucket") else { return };
    let s3 = S3::start(&python).await;
    let app = TestApp::builder(Engine::Sqlite).config(|c| c.recordings = s3.config("calls/")).spawn().await;
    let owner = app.sign_up("asha@example.in").await;
    carrier::configure(&app, &owner, json!({})).await;
    let (stream_url, call_id) = carrier::answer_twilio(&app, &python, "CA99998888777766665555444433332222").await;
    let mut call = Media::connect(&stream_url).await;
    call.send(json!({"event": "start", "streamSid": "MZ1", "start": {"streamSid": "MZ1", "callSid": "CA9"}})).await;
    call.until("mark").await;
    for _ in 0..50 {
        let payload = carrier::quiet_ulaw();
        call.send(json!({"event": "media", "streamSid": "MZ1", "media": {"track": "inbound", "payload": payload}}))
            .await;
    }
    call.send(json!({"event": "stop", "streamSid": "MZ1", "stop": {"callSid": "CA9"}})).await;
    assert!(matches!(call.next().await, Heard::Closed(_)));

    let detail = carrier::call_when(&app, &owner.token, &call_id, |d| d["recording_url"].is_string()).await;
    let path = detail["recording_url"].as_str().expect("the call has a recording").to_owned();
    let download = app.request(Method::GET, &path, &owner.token).send().await.unwrap();
    assert_eq!(download.status(), 200);
    let wav = download.bytes().await.unwrap();
    assert_eq!(&wav[..4], b"RIFF");
    assert!(wav.len() > 44 + 4 * 8_000, "a second of stereo at least: {} bytes", wav.len());
    let key = format!("calls/{}/{call_id}.wav", owner.tenant_id);
    assert_eq!(s3.objects(), vec![(key.clone(), wav.to_vec())], "the bucket holds the recording, under the prefix");
    assert_eq!(s3.parts(&key), 1, "a short recording is put in one request");
    let header_only =
        app.request(Method::GET, &path, &owner.token).header(header::RANGE, "bytes=0-43").send().await.unwrap();
    assert_eq!(header_only.status(), 206);
    assert_eq!(header_only.bytes().await.unwrap().as_ref(), &wav[..44]);
    let in_progress = std::fs::read_dir(app.server().state.config.data_dir.join("recordings-in-progress")).unwrap();
    assert_eq!(in_progress.count(), 0, "nothing left on this machine");
    let health: serde_json::Value = app.get_authorized("/health").await.json().await.unwrap();
    assert_eq!(health["checks"]["recordings:responseTime"][0]["status"], "pass", "{health:#}");

    let past_retention = caly::auth::now_micros() + 91 * 86_400_000_000;
    assert_eq!(caly::call::retention::sweep(&app.server().state, past_retention).await.unwrap(), 1);
    assert_eq!(s3.objects(), vec![], "deleted from the bucket");
    let detail = app.get_json(&format!("/api/v1/calls/{call_id}"), &owner.token).await;
    assert!(detail["recording_url"].is_null());
}

/// A recording longer than a part (5 MiB) goes to the bucket as a multipart upload, whole.
#[tokio::test]
async fn a_long_recording_is_uploaded_to_the_bucket_in_parts_and_arrives_whole() {
    let Some(python) = carrier::python("recordings::a_long_recording_is_uploaded_to_the_bucket_in_parts") else {
        return;
    };
    let s3 = S3::start(&python).await;
    let dir = tempfile::tempdir().unwrap();
    let store = caly::call::recording_store::RecordingStore::open(&s3.config(""), dir.path()).unwrap();
    let file = dir.path().join("long.wav.part");
    // Two and a half parts, each byte telling where it is.
    let bytes: Vec<u8> = (0..25 * 1024 * 1024 / 2).map(|i: u32| (i % 251) as u8).collect();
    std::fs::write(&file, &bytes).unwrap();
    store.keep(&file, "t1/long.wav").await.unwrap();
    let stored = s3.objects();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].0, "t1/long.wav");
    assert!(stored[0].1 == bytes, "{} bytes stored of {}", stored[0].1.len(), bytes.len());
    assert_eq!(s3.parts("t1/long.wav"), 3, "uploaded in three parts");
    assert!(!file.exists(), "the local file is gone once stored");
}
