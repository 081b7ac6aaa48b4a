//! The LLM dialogue engine through the sandbox, against a stand-in OpenAI-compatible server on
//! loopback that checks what we send (a forced `understand` tool call, streamed; the agent's
//! last words as context; the key) and answers as OpenAI does: server-sent events whose deltas
//! carry the call's arguments in pieces. When the model fails, is slow or makes up an intent,
//! the rules answer.

mod support;

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    routing::post,
};
use reqwest::Method;
use serde_json::{Value, json};
use support::{Engine, Owner, TestApp};

/// What the stand-in answers next, and every request it received.
#[derive(Default)]
struct Model {
    answers: Vec<Answer>,
    received: Vec<Value>,
}

#[derive(Clone)]
enum Answer {
    Call(Value),
    Fail,
    Slow,
}

async fn completions(
    State(model): State<Arc<Mutex<Model>>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<([(header::HeaderName, &'static str); 1], String), StatusCode> {
    assert_eq!(headers["authorization"], "Bearer sk-test");
    assert_eq!(body["model"], "test-model");
    assert_eq!(body["stream"], true);
    assert_eq!(body["tool_choice"]["function"]["name"], "understand");
    let intents = &body["tools"][0]["function"]["parameters"]["properties"]["intent"]["enum"];
    assert!(intents.as_array().unwrap().iter().any(|i| i == "cancel_order"));
    assert_eq!(body["messages"][0]["role"], "system");
    let answer = {
        let mut model = model.lock().unwrap();
        model.received.push(body);
        model.answers.remove(0)
    };
    match answer {
        Answer::Fail => Err(StatusCode::INTERNAL_SERVER_ERROR),
        Answer::Slow => {
            tokio::time::sleep(Duration::from_secs(3)).await;
            Err(StatusCode::GATEWAY_TIMEOUT)
        }
        Answer::Call(arguments) => {
            let arguments = arguments.to_string();
            let (first, rest) = arguments.split_at(arguments.len() / 2);
            let chunk = |delta: Value| format!("data: {}\n\n", json!({ "choices": [{ "index": 0, "delta": delta }] }));
            let body = [
                chunk(json!({ "role": "assistant", "tool_calls": [{ "index": 0, "id": "call_1", "type": "function",
                    "function": { "name": "understand", "arguments": "" } }] })),
                chunk(json!({ "tool_calls": [{ "index": 0, "function": { "arguments": first } }] })),
                chunk(json!({ "tool_calls": [{ "index": 0, "function": { "arguments": rest } }] })),
                "data: [DONE]\n\n".to_owned(),
            ];
            Ok(([(header::CONTENT_TYPE, "text/event-stream")], body.concat()))
        }
    }
}

async fn app_with_model(engine: Engine) -> (TestApp, Arc<Mutex<Model>>) {
    let model = Arc::new(Mutex::new(Model::default()));
    let router = Router::new().route("/v1/chat/completions", post(completions)).with_state(model.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    let app = TestApp::builder(engine)
        .config(|c| {
            c.llm.base_url = Some(base);
            c.llm.model = "test-model".into();
            c.llm.api_key = Some("sk-test".to_owned().into());
            c.llm.timeout = Duration::from_millis(800);
        })
        .spawn()
        .await;
    (app, model)
}

async fn start(app: &TestApp, owner: &Owner) -> String {
    let settings = json!({"version": 0, "settings": {"dialogue": {"engine": "llm"}}});
    assert_eq!(
        app.request(Method::PUT, "/api/v1/settings", &owner.token).json(&settings).send().await.unwrap().status(),
        200
    );
    let started = app
        .request(Method::POST, "/api/v1/sandbox/conversations", &owner.token)
        .json(&json!({"caller": "+919876543210", "language": "en"}))
        .send()
        .await
        .unwrap();
    let started: Value = started.json().await.unwrap();
    format!("/api/v1/sandbox/conversations/{}/messages", started["call_id"].as_str().unwrap())
}

async fn say(app: &TestApp, owner: &Owner, path: &str, text: &str) -> Value {
    let response = app.request(Method::POST, path, &owner.token).json(&json!({"text": text})).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

on_both_engines! {
    async fn the_model_understands_what_the_rules_cannot_and_the_agent_still_decides(engine: Engine) {
        let (app, model) = app_with_model(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        let path = start(&app, &owner).await;
        model.lock().unwrap().answers = vec![
            Answer::Call(json!({"intent": "cancel_order", "order_number": "#1001", "language": "en"})),
            Answer::Call(json!({"intent": "yes"})),
        ];
        let rules_alone = caly_core::dialogue::Rules::new().understand("make 1001 vanish, I regret buying it");
        assert_ne!(rules_alone.intent.as_str(), "cancel_order", "a sentence the rules do not get");
        let reply = say(&app, &owner, &path, "make 1001 vanish, I regret buying it").await;
        assert_eq!(reply["engine"], "llm");
        assert_eq!(reply["understanding"]["intent"], "cancel_order");
        let readback = reply["replies"][0].as_str().unwrap().to_owned();
        assert!(readback.contains("cancel order 1 0 0 1"), "{readback}");
        let done = say(&app, &owner, &path, "sure thing, go for it").await;
        assert!(done["replies"][0].as_str().unwrap().contains("is cancelled"), "{done}");
        let second = model.lock().unwrap().received[1].clone();
        assert_eq!(second["messages"][1], json!({"role": "assistant", "content": readback}), "the model sees what it answers");
        assert_eq!(second["messages"][2]["content"], "sure thing, go for it");
    }

    async fn a_failing_slow_or_inventive_model_leaves_the_turn_to_the_rules(engine: Engine) {
        let (app, model) = app_with_model(engine).await;
        let owner = app.sign_up("asha@example.in").await;
        let path = start(&app, &owner).await;
        model.lock().unwrap().answers = vec![
            Answer::Fail, Answer::Fail,
            Answer::Slow,
            Answer::Call(json!({"intent": "order_pizza", "order_number": "1001"})),
            Answer::Call(json!({"intent": "cancel_order", "order_number": "1001 OR name:*", "pincode": "abc"})),
        ];
        let failed = say(&app, &owner, &path, "what is the status of order 1001").await;
        assert_eq!(failed["engine"], "rules_fallback", "two 500s");
        assert!(failed["replies"][0].as_str().unwrap().contains("is confirmed"));
        let slow = say(&app, &owner, &path, "what is the status of order 1001").await;
        assert_eq!(slow["engine"], "rules_fallback", "slower than the timeout");
        let inventive = say(&app, &owner, &path, "what is the status of order 1001").await;
        assert_eq!(inventive["engine"], "rules_fallback", "an intent that does not exist");
        let sloppy = say(&app, &owner, &path, "cancel my order 1001").await;
        assert_eq!(sloppy["engine"], "llm");
        assert_eq!(sloppy["understanding"]["entities"]["order_number"], "1001", "the rules' number, not the model's");
        assert!(sloppy["understanding"]["entities"]["pincode"].is_null());
    }
}
