//! `GET /api/v1/calls/{id}/recording`: the whole file or one byte range, to supervisors and up,
//! audited, on both engines. Recordings are put in the object store as the recorder will.

mod support;

use caly_core::call::Direction;
use caly_store::NewCall;
use object_store::{ObjectStoreExt, PutPayload, path::Path};
use reqwest::{Method, header};
use support::{Engine, TestApp, problem};

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
        app.server().state.recordings.put(&Path::from(key.as_str()), PutPayload::from(audio.clone())).await.unwrap();
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
            app.server().state.recordings.put(&Path::from(key.as_str()), PutPayload::from(wav(10))).await.unwrap();
            store.set_recording(&owner.tenant_id, &call, Some(&key), 1).await.unwrap();
            keys.push((call, key));
        }
        let deleted = caly::call::retention::sweep(&app.server().state, now).await.unwrap();
        assert_eq!(deleted, 1);
        let recordings = &app.server().state.recordings;
        assert!(matches!(recordings.head(&Path::from(keys[0].1.as_str())).await, Err(object_store::Error::NotFound { .. })));
        assert!(recordings.head(&Path::from(keys[1].1.as_str())).await.is_ok());
        let old = app.get_json(&format!("/api/v1/calls/{}", keys[0].0), &owner.token).await;
        assert!(old["recording_url"].is_null());
        let recent = app.get_json(&format!("/api/v1/calls/{}", keys[1].0), &owner.token).await;
        assert!(recent["recording_url"].is_string());
        assert_eq!(caly::call::retention::sweep(&app.server().state, now).await.unwrap(), 0, "nothing twice");
    }
}
