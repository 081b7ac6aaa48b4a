//! `/api/v1/analytics/*`: exact figures from seeded calls and actions, on both engines, with
//! days and hours cut in the tenant's time zone (Asia/Kolkata, UTC+05:30).

mod support;

use caly_core::{
    action::{ActionKind, ActionStatus},
    call::{CallStatus, Direction, Outcome, Speaker},
};
use caly_store::{CallEnd, NewAction, NewCall, Store, Turn};
use reqwest::Method;
use serde_json::{Value, json};
use support::{Engine, TestApp, problem};

fn at(rfc3339: &str) -> i64 {
    rfc3339.parse::<jiff::Timestamp>().unwrap().as_microsecond()
}

struct Seed {
    started: &'static str,
    answered: bool,
    handle_secs: i64,
    outcome: Outcome,
    first_response_ms: Option<i64>,
    language: Option<&'static str>,
    intents: &'static [&'static str],
}

async fn seed(store: &Store, tenant: &str, seed: Seed) {
    let started = at(seed.started);
    let new = NewCall {
        direction: Direction::Inbound,
        carrier: "exotel",
        carrier_call_id: None,
        caller_number: Some("+919876543210"),
        called_number: None,
        language: None,
        started_at: started,
    };
    let call = store.insert_call(tenant, new).await.unwrap();
    let answered = started + 1_000_000;
    if seed.answered {
        store.answer_call(tenant, &call.id, answered).await.unwrap();
    }
    for (i, intent) in seed.intents.iter().enumerate() {
        let turn = Turn {
            seq: 0,
            speaker: Speaker::Caller,
            text: "…".into(),
            language: seed.language.map(str::to_owned),
            intent: Some((*intent).to_owned()),
            started_at: answered + i as i64,
            ended_at: None,
            interrupted_at: None,
            stt_ms: None,
            dialogue_ms: None,
            tts_ms: None,
            latency: Default::default(),
        };
        let first = if i == 0 { seed.first_response_ms } else { None };
        store.append_turn(tenant, &call.id, &turn, first).await.unwrap();
    }
    let end = CallEnd {
        status: CallStatus::Completed,
        outcome: Some(seed.outcome),
        end_reason: "hangup",
        ended_at: answered + seed.handle_secs * 1_000_000,
        summary: None,
    };
    store.finish_call(tenant, &call.id, end).await.unwrap();
}

async fn seed_all(store: &Store, tenant: &str) {
    let calls = [
        // 09:30 on the 20th in Kolkata.
        Seed {
            started: "2026-11-20T04:00:00Z",
            answered: true,
            handle_secs: 60,
            outcome: Outcome::Resolved,
            first_response_ms: Some(400),
            language: Some("hi"),
            intents: &["order_status"],
        },
        // 10:40 on the 20th.
        Seed {
            started: "2026-11-20T05:10:00Z",
            answered: true,
            handle_secs: 120,
            outcome: Outcome::Transferred,
            first_response_ms: Some(800),
            language: Some("hinglish"),
            intents: &["cancel_order", "talk_to_human", "cancel_order"],
        },
        // 01:30 on the 21st, though still the 20th in UTC.
        Seed {
            started: "2026-11-20T20:00:00Z",
            answered: false,
            handle_secs: 5,
            outcome: Outcome::Abandoned,
            first_response_ms: None,
            language: None,
            intents: &[],
        },
        // 11:30 on the 21st.
        Seed {
            started: "2026-11-21T06:00:00Z",
            answered: true,
            handle_secs: 30,
            outcome: Outcome::Resolved,
            first_response_ms: Some(1200),
            language: Some("en"),
            intents: &["order_status"],
        },
        // 23:30 on the 19th and midnight starting the 22nd: outside the period.
        Seed {
            started: "2026-11-19T18:00:00Z",
            answered: true,
            handle_secs: 9,
            outcome: Outcome::Resolved,
            first_response_ms: Some(9),
            language: Some("en"),
            intents: &["greeting"],
        },
        Seed {
            started: "2026-11-21T18:30:00Z",
            answered: true,
            handle_secs: 9,
            outcome: Outcome::Resolved,
            first_response_ms: Some(9),
            language: Some("en"),
            intents: &["greeting"],
        },
    ];
    for call in calls {
        seed(store, tenant, call).await;
    }
    let actions = [
        ("a", ActionKind::Refund, ActionStatus::Approved, Some(129_900)),
        ("b", ActionKind::Refund, ActionStatus::AwaitingApproval, Some(50_000)),
        ("c", ActionKind::Cancel, ActionStatus::Proposed, None),
    ];
    for (key, kind, status, paise) in actions {
        let new = NewAction {
            call_id: None,
            kind,
            order_number: "#7",
            params: "{}",
            amount_paise: paise,
            status,
            idempotency_key: key,
            requested_at: at("2026-11-20T06:00:00Z"),
        };
        let (action, _) = store.insert_action(tenant, new).await.unwrap();
        if status == ActionStatus::Approved {
            store
                .record_action_result(tenant, &action.id, ActionStatus::Executed, "{}", at("2026-11-20T06:01:00Z"))
                .await
                .unwrap();
        }
    }
}

async fn get(app: &TestApp, token: &str, path: &str) -> Value {
    let response = app.request(Method::GET, path, token).send().await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

on_both_engines! {
    async fn the_summary_counts_exactly(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        seed_all(app.store(), &owner.tenant_id).await;
        let s = get(&app, &owner.token, "/api/v1/analytics/summary?from=2026-11-20&to=2026-11-21").await;
        assert_eq!(s["from"], "2026-11-19T18:30:00Z");
        assert_eq!(s["to"], "2026-11-21T18:30:00Z");
        assert_eq!(
            [&s["calls"], &s["answered"], &s["resolved"], &s["transferred"], &s["abandoned"]].map(|v| v.as_i64().unwrap()),
            [4, 3, 2, 1, 1]
        );
        assert_eq!(s["automation_rate"], 0.6667);
        assert_eq!(s["transfer_rate"], 0.3333);
        assert_eq!(s["abandonment_rate"], 0.25);
        assert_eq!(s["average_handle_time_secs"], 70.0);
        assert_eq!(s["average_first_response_ms"], 800.0);
        assert_eq!(s["p95_first_response_ms"], 1200);
        assert_eq!(s["refunded_inr"], "1299.00");
        assert_eq!(s["actions"], json!([
            {"kind": "cancel", "status": "proposed", "count": 1, "amount_inr": "0.00"},
            {"kind": "refund", "status": "awaiting_approval", "count": 1, "amount_inr": "500.00"},
            {"kind": "refund", "status": "executed", "count": 1, "amount_inr": "1299.00"},
        ]));
        assert_eq!(s["intents"], json!([
            {"key": "order_status", "calls": 2}, {"key": "cancel_order", "calls": 1}, {"key": "talk_to_human", "calls": 1},
        ]));
        assert_eq!(s["languages"], json!([
            {"key": null, "calls": 1}, {"key": "en", "calls": 1}, {"key": "hi", "calls": 1}, {"key": "hinglish", "calls": 1},
        ]));

        let empty = get(&app, &owner.token, "/api/v1/analytics/summary?from=2020-01-01&to=2020-01-02").await;
        assert_eq!((empty["calls"].as_i64(), empty["automation_rate"].is_null()), (Some(0), true));
        assert!(empty["p95_first_response_ms"].is_null());
    }

    async fn charts_cut_local_days_and_hours(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        seed_all(app.store(), &owner.tenant_id).await;
        let days = get(&app, &owner.token, "/api/v1/analytics/timeseries?metric=calls&from=2026-11-20&to=2026-11-21").await;
        assert_eq!(days["timezone"], "Asia/Kolkata");
        assert_eq!(days["points"], json!([
            {"start": "2026-11-19T18:30:00Z", "value": 2.0}, {"start": "2026-11-20T18:30:00Z", "value": 2.0},
        ]));
        let hours = get(
            &app,
            &owner.token,
            "/api/v1/analytics/timeseries?metric=automation_rate&interval=hour&from=2026-11-20&to=2026-11-20",
        )
        .await;
        let points = hours["points"].as_array().unwrap();
        assert_eq!(points.len(), 24);
        assert_eq!(points[9], json!({"start": "2026-11-20T03:30:00Z", "value": 1.0}));
        assert_eq!(points[10], json!({"start": "2026-11-20T04:30:00Z", "value": 0.0}));
        assert_eq!(points.iter().filter(|p| p["value"].is_null()).count(), 22);
        let handle = get(&app, &owner.token, "/api/v1/analytics/timeseries?metric=average_handle_time_secs&from=2026-11-20&to=2026-11-20").await;
        assert_eq!(handle["points"][0]["value"], 90.0);

        let bad = app
            .request(Method::GET, "/api/v1/analytics/timeseries?metric=vibes&interval=week&from=2026-11-30&to=2026-11-01", &owner.token)
            .send()
            .await
            .unwrap();
        let body = problem(bad, 422, "validation").await;
        let fields: Vec<&str> = body["errors"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["metric", "interval", "from"]);
        let too_long = app.request(Method::GET, "/api/v1/analytics/summary?from=2024-01-01", &owner.token).send().await.unwrap();
        problem(too_long, 422, "validation").await;
    }

    async fn figures_are_per_tenant(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let asha = app.sign_up("asha@example.in").await;
        let ravi = app.sign_up("ravi@example.in").await;
        seed_all(app.store(), &asha.tenant_id).await;
        let theirs = get(&app, &ravi.token, "/api/v1/analytics/summary?from=2026-11-20&to=2026-11-21").await;
        assert_eq!(theirs["calls"], 0);
        assert_eq!(theirs["actions"], json!([]));
    }
}
