//! `/api/v1/calls`: filters, cursor pages, one call's detail, notes, CSV export and tenant
//! isolation, on both engines. Calls are written through the store's call API, as the call
//! runtime writes them.

mod support;

use caly_core::call::{CallStatus, Direction, Outcome, Speaker};
use caly_store::{CallEnd, NewCall, Store, Turn};
use reqwest::Method;
use serde_json::{Value, json};
use support::{Engine, TestApp, problem};

fn at(rfc3339: &str) -> i64 {
    rfc3339.parse::<jiff::Timestamp>().unwrap().as_microsecond()
}

/// A finished call with a caller turn (with `intent`) and an agent turn.
struct Seed<'a> {
    started: &'a str,
    caller: &'a str,
    direction: Direction,
    outcome: Option<Outcome>,
    language: &'a str,
    said: &'a str,
    intent: &'a str,
}

async fn seed(store: &Store, tenant: &str, seed: Seed<'_>) -> String {
    let started = at(seed.started);
    let call = store
        .insert_call(
            tenant,
            NewCall {
                direction: seed.direction,
                carrier: "twilio",
                carrier_call_id: None,
                caller_number: Some(seed.caller),
                called_number: Some("+918000000001"),
                language: None,
                started_at: started,
            },
        )
        .await
        .unwrap();
    store.answer_call(tenant, &call.id, started + 1_000_000).await.unwrap();
    let turn = |speaker, text: &str, intent: Option<&str>, offset: i64| Turn {
        seq: 0,
        speaker,
        text: text.into(),
        language: Some(seed.language.into()),
        intent: intent.map(str::to_owned),
        started_at: started + offset,
        ended_at: Some(started + offset + 2_000_000),
        interrupted_at: None,
        stt_ms: Some(120),
        dialogue_ms: Some(80),
        tts_ms: Some(150),
        latency: caly_store::TurnLatency {
            eos_ms: Some(500),
            llm_ms: Some(300),
            tool_ms: Some(4),
            overhead_ms: Some(3),
            response_ms: Some(610),
        },
    };
    store
        .append_turn(tenant, &call.id, &turn(Speaker::Caller, seed.said, Some(seed.intent), 2_000_000), None)
        .await
        .unwrap();
    store
        .append_turn(tenant, &call.id, &turn(Speaker::Agent, "Ji, dekhti hoon.", None, 5_000_000), Some(700))
        .await
        .unwrap();
    if let Some(outcome) = seed.outcome {
        let end = CallEnd {
            status: CallStatus::Completed,
            outcome: Some(outcome),
            end_reason: "caller_hung_up",
            ended_at: started + 61_000_000,
            summary: Some("Asked about an order."),
        };
        assert!(store.finish_call(tenant, &call.id, end).await.unwrap());
    }
    call.id
}

async fn calls(app: &TestApp, token: &str, query: &str) -> Value {
    let response = app.request(Method::GET, &format!("/api/v1/calls{query}"), token).send().await.unwrap();
    assert_eq!(response.status(), 200, "{query}");
    response.json().await.unwrap()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"].as_array().unwrap().iter().map(|c| c["id"].as_str().unwrap().to_owned()).collect()
}

/// Five calls over two days; ids returned oldest first.
async fn seed_five(app: &TestApp, tenant: &str) -> Vec<String> {
    let store = app.store();
    let mut ids = Vec::new();
    for seed_call in [
        Seed {
            started: "2026-11-26T10:00:00Z",
            caller: "+919876543210",
            direction: Direction::Inbound,
            outcome: Some(Outcome::Resolved),
            language: "hi",
            said: "मेरा ऑर्डर कहाँ है",
            intent: "order_status",
        },
        Seed {
            started: "2026-11-26T19:00:00Z",
            caller: "+919811111111",
            direction: Direction::Inbound,
            outcome: Some(Outcome::Transferred),
            language: "hinglish",
            said: "Order cancel karna hai",
            intent: "cancel_order",
        },
        Seed {
            started: "2026-11-27T05:00:00Z",
            caller: "+919876543210",
            direction: Direction::Web,
            outcome: Some(Outcome::Abandoned),
            language: "en",
            said: "Where is my REFUND? 50% of it",
            intent: "refund",
        },
        Seed {
            started: "2026-11-27T06:00:00Z",
            caller: "+919822222222",
            direction: Direction::Inbound,
            outcome: None,
            language: "en",
            said: "I want to cancel my order",
            intent: "cancel_order",
        },
        Seed {
            started: "2026-11-27T06:00:00Z",
            caller: "+919833333333",
            direction: Direction::Sandbox,
            outcome: Some(Outcome::Resolved),
            language: "en",
            said: "hello",
            intent: "greeting",
        },
    ] {
        ids.push(seed(store, tenant, seed_call).await);
    }
    ids
}

on_both_engines! {
    async fn calls_are_filtered_and_paged(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        let t = &owner.token;
        let ids_oldest_first = seed_five(&app, &owner.tenant_id).await;
        let mut newest_first = ids_oldest_first.clone();
        newest_first.reverse();
        // The last two started at the same instant: ids break the tie, newest (larger) first.
        assert_eq!(ids(&calls(&app, t, "").await), newest_first);
        assert_eq!(ids(&calls(&app, t, "?sort=started_at").await), ids_oldest_first);

        let only = |query: &'static str| {
            let app = &app;
            async move { ids(&calls(app, t, query).await) }
        };
        assert_eq!(only("?status=in_progress").await, [ids_oldest_first[3].clone()]);
        assert_eq!(only("?direction=web").await, [ids_oldest_first[2].clone()]);
        assert_eq!(only("?outcome=transferred").await, [ids_oldest_first[1].clone()]);
        assert_eq!(only("?language=hi").await, [ids_oldest_first[0].clone()]);
        assert_eq!(only("?intent=cancel_order").await, [ids_oldest_first[3].clone(), ids_oldest_first[1].clone()]);
        // Any common way of writing the number finds the same caller.
        assert_eq!(only("?caller=098765%2043210").await, [ids_oldest_first[2].clone(), ids_oldest_first[0].clone()]);
        // Transcript search: case-insensitive, Devanagari too, and `%` is a literal.
        assert_eq!(only("?q=refund").await, [ids_oldest_first[2].clone()]);
        assert_eq!(only("?q=%E0%A4%91%E0%A4%B0%E0%A5%8D%E0%A4%A1%E0%A4%B0").await, [ids_oldest_first[0].clone()]);
        assert_eq!(only("?q=50%25").await, [ids_oldest_first[2].clone()]);
        assert!(only("?q=5%25%25").await.is_empty());
        // Dates are the tenant's (Asia/Kolkata): 19:00Z on the 26th is already the 27th there.
        assert_eq!(only("?from=2026-11-26&to=2026-11-26").await, [ids_oldest_first[0].clone()]);
        assert_eq!(only("?from=2026-11-27&to=2026-11-27").await.len(), 4);
        assert_eq!(only("?from=2026-11-27T11:00&sort=started_at").await, ids_oldest_first[3..].to_vec());
        assert_eq!(only("?status=completed&direction=inbound&language=hinglish").await, [ids_oldest_first[1].clone()]);

        // Pages of two, following the cursor; a call arriving mid-way does not shift them.
        let first = calls(&app, t, "?limit=2").await;
        assert_eq!(ids(&first), newest_first[..2]);
        let cursor = first["next_cursor"].as_str().unwrap().to_owned();
        seed(app.store(), &owner.tenant_id, Seed { started: "2026-11-28T06:00:00Z", caller: "+919844444444",
            direction: Direction::Inbound, outcome: None, language: "en", said: "hi", intent: "greeting" }).await;
        let second = calls(&app, t, &format!("?limit=2&cursor={cursor}")).await;
        assert_eq!(ids(&second), newest_first[2..4]);
        let cursor = second["next_cursor"].as_str().unwrap().to_owned();
        let last = calls(&app, t, &format!("?limit=2&cursor={cursor}")).await;
        assert_eq!(ids(&last), newest_first[4..]);
        assert!(last["next_cursor"].is_null());

        let item = &calls(&app, t, "?status=completed&language=hi").await["items"][0];
        assert_eq!(item["caller_number"], "+919876543210");
        assert_eq!(item["started_at"], "2026-11-26T10:00:00Z");
        assert_eq!(item["duration_secs"], 61);
        assert_eq!(item["first_response_ms"], 700);
        assert_eq!(item["resolved"], false);
    }

    async fn bad_parameters_are_all_named(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        let get = |query: &str| app.request(Method::GET, &format!("/api/v1/calls{query}"), &owner.token).send();
        let body = problem(
            get("?status=ringing&limit=0&caller=12345&sort=name&cursor=x&from=2026-11-28&to=2026-11-01").await.unwrap(),
            422,
            "validation",
        )
        .await;
        let mut fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        fields.sort();
        assert_eq!(fields, ["caller", "cursor", "from", "limit", "sort", "status"], "{body}");
        problem(get("?from=2025-01-01&to=2026-11-27").await.unwrap(), 422, "validation").await;
        problem(get("?colour=blue").await.unwrap(), 400, "malformed_request").await;
        problem(app.get("/api/v1/calls").await, 401, "unauthenticated").await;
    }

    async fn one_call_in_full_and_annotated(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        let id = seed_five(&app, &owner.tenant_id).await.remove(1);
        let path = format!("/api/v1/calls/{id}");
        let call: Value = app.request(Method::GET, &path, &owner.token).send().await.unwrap().json().await.unwrap();
        assert_eq!(call["id"], id.as_str());
        assert_eq!(call["outcome"], "transferred");
        assert_eq!(call["language"], "hinglish", "the caller's language");
        assert_eq!(call["answered_at"], "2026-11-26T19:00:01Z");
        assert_eq!(call["intents"], json!(["cancel_order"]));
        let turns = call["turns"].as_array().unwrap();
        assert_eq!(turns.len(), 2);
        assert_eq!((turns[0]["seq"].as_i64(), turns[0]["speaker"].as_str()), (Some(1), Some("caller")));
        assert_eq!(turns[0]["text"], "Order cancel karna hai");
        assert_eq!((turns[1]["speaker"].as_str(), turns[1]["tts_ms"].as_i64()), (Some("agent"), Some(150)));
        assert_eq!((turns[1]["response_ms"].as_i64(), turns[1]["overhead_ms"].as_i64()), (Some(610), Some(3)));
        assert_eq!((turns[1]["eos_ms"].as_i64(), turns[1]["llm_ms"].as_i64()), (Some(500), Some(300)));
        assert!(call["recording_url"].is_null());

        let patch = json!({"notes": "Called back.\nAll good.", "resolved": true});
        let updated: Value =
            app.request(Method::PATCH, &path, &owner.token).json(&patch).send().await.unwrap().json().await.unwrap();
        assert_eq!((updated["notes"].as_str(), updated["resolved"].as_bool()), (Some("Called back.\nAll good."), Some(true)));
        // Fields left out stay as they are.
        let updated: Value = app
            .request(Method::PATCH, &path, &owner.token)
            .json(&json!({"resolved": false}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!((updated["notes"].as_str(), updated["resolved"].as_bool()), (Some("Called back.\nAll good."), Some(false)));
        let audit = app.store().audit_events(&owner.tenant_id).await.unwrap();
        assert_eq!(audit.iter().filter(|e| e.event == "call.annotated").count(), 2);

        let bad = app.request(Method::PATCH, &path, &owner.token).json(&json!({"notes": "a\u{7}b"})).send().await.unwrap();
        problem(bad, 422, "validation").await;
        let unknown = app.request(Method::PATCH, &path, &owner.token).json(&json!({"status": "completed"})).send().await.unwrap();
        problem(unknown, 422, "validation").await;
        let junk = app.request(Method::GET, "/api/v1/calls/not-a-uuid", &owner.token).send().await.unwrap();
        problem(junk, 400, "malformed_request").await;
        let missing = format!("/api/v1/calls/{}", uuid::Uuid::now_v7());
        problem(app.request(Method::GET, &missing, &owner.token).send().await.unwrap(), 404, "not_found").await;
    }

    async fn another_tenant_sees_nothing(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let asha = app.sign_up("asha@example.in").await;
        let ravi = app.sign_up("ravi@example.in").await;
        let id = seed_five(&app, &asha.tenant_id).await.remove(0);
        assert!(ids(&calls(&app, &ravi.token, "").await).is_empty());
        let path = format!("/api/v1/calls/{id}");
        problem(app.request(Method::GET, &path, &ravi.token).send().await.unwrap(), 404, "not_found").await;
        let patch = app.request(Method::PATCH, &path, &ravi.token).json(&json!({"notes": "mine"})).send().await.unwrap();
        problem(patch, 404, "not_found").await;
        let call: Value = app.request(Method::GET, &path, &asha.token).send().await.unwrap().json().await.unwrap();
        assert_eq!(call["notes"], "", "untouched");
    }

    async fn calls_export_as_csv(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        let ids = seed_five(&app, &owner.tenant_id).await;
        let path = format!("/api/v1/calls/{}", ids[0]);
        let formula = json!({"notes": "=HYPERLINK(\"http://evil.example\")"});
        assert_eq!(app.request(Method::PATCH, &path, &owner.token).json(&formula).send().await.unwrap().status(), 200);

        let response =
            app.request(Method::GET, "/api/v1/calls/export.csv?sort=started_at", &owner.token).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/csv; charset=utf-8");
        let text = response.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(reader.headers().unwrap().get(0), Some("id"));
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.iter().map(|r| r[0].to_owned()).collect::<Vec<_>>(), ids);
        assert_eq!(&rows[0][13], "'=HYPERLINK(\"http://evil.example\")");
        assert_eq!(&rows[0][9], "61");

        let filtered = app.request(Method::GET, "/api/v1/calls/export.csv?outcome=resolved", &owner.token).send().await.unwrap();
        assert_eq!(filtered.text().await.unwrap().lines().count(), 3, "header and two calls");
        let paged = app.request(Method::GET, "/api/v1/calls/export.csv?limit=5", &owner.token).send().await.unwrap();
        problem(paged, 422, "validation").await;
        let audit = app.store().audit_events(&owner.tenant_id).await.unwrap();
        assert_eq!(audit.iter().filter(|e| e.event == "calls.exported").count(), 2);
    }
}

/// More calls than one export page: the stream continues across pages with nothing lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exports_span_many_pages() {
    let app = TestApp::spawn(Engine::Sqlite).await;
    let owner = app.sign_up("asha@example.in").await;
    for i in 0..1_203 {
        let started = at("2026-11-01T00:00:00Z") + i * 60_000_000;
        let new = NewCall {
            direction: Direction::Inbound,
            carrier: "twilio",
            carrier_call_id: None,
            caller_number: Some("+919876543210"),
            called_number: None,
            language: None,
            started_at: started,
        };
        app.store().insert_call(&owner.tenant_id, new).await.unwrap();
    }
    let text =
        app.request(Method::GET, "/api/v1/calls/export.csv", &owner.token).send().await.unwrap().text().await.unwrap();
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let ids: std::collections::HashSet<String> = reader.records().map(|r| r.unwrap()[0].to_owned()).collect();
    assert_eq!(ids.len(), 1_203);
}
