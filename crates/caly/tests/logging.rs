//! One structured line per request, with secrets redacted.
//!
//! The server runs on this test's current-thread runtime, so a thread-local subscriber sees
//! every line it writes.

mod support;

use std::{
    io::Write,
    sync::{Arc, Mutex},
};

use support::{Engine, TestApp};
use tracing_subscriber::fmt::MakeWriter;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;
    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

impl Captured {
    fn lines(&self) -> Vec<serde_json::Value> {
        let text = String::from_utf8(self.0.lock().unwrap().clone()).unwrap();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }
}

fn capture() -> (Captured, tracing::subscriber::DefaultGuard) {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .event_format(caly::telemetry::JsonLines)
        .fmt_fields(caly::telemetry::JsonFields)
        .with_writer(captured.clone())
        .finish();
    (captured.clone(), tracing::subscriber::set_default(subscriber))
}

#[tokio::test]
async fn each_request_logs_one_line_with_its_facts() {
    let (captured, _guard) = capture();
    let app = TestApp::spawn(Engine::Sqlite).await;
    let response = app.client.get(app.url("/health")).header("x-request-id", "log-me").send().await.unwrap();
    assert_eq!(response.status(), 401);

    let lines: Vec<_> = captured.lines().into_iter().filter(|l| l["span"]["request_id"] == "log-me").collect();
    let done: Vec<_> = lines.iter().filter(|l| l["message"] == "request completed").collect();
    assert_eq!(done.len(), 1, "{lines:#?}");
    let line = done[0];
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["span"]["method"], "GET");
    assert_eq!(line["route"], "/health");
    assert_eq!(line["span"]["client_ip"], "127.0.0.1");
    assert_eq!(line["status"], 401);
    assert!(line["latency_us"].as_u64().is_some());
    assert!(line["bytes_out"].as_u64().unwrap() > 0);
    assert_eq!(line["bytes_in"], 0);
}

#[tokio::test]
async fn secrets_never_reach_the_log() {
    let (captured, _guard) = capture();
    let app = TestApp::builder(Engine::Sqlite).config(|c| c.log.headers = true).spawn().await;
    app.client
        .get(app.url("/metrics?token=tok-SECRET1&page=2&client_secret=SECRET2&password=SECRET3"))
        .header("authorization", "Bearer SECRET4")
        .header("cookie", "session=SECRET5")
        .header("x-api-token", "SECRET6")
        .header("user-agent", "visible-agent")
        .send()
        .await
        .unwrap();
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(!text.contains("SECRET"), "{text}");
    let line = captured.lines().into_iter().find(|l| l["route"] == "/metrics").unwrap();
    assert_eq!(line["query"], "token=[REDACTED]&page=2&client_secret=[REDACTED]&password=[REDACTED]");
    let headers = line["headers"].as_str().unwrap();
    assert!(headers.contains("authorization: [REDACTED]") && headers.contains("cookie: [REDACTED]"), "{headers}");
    assert!(headers.contains("user-agent: visible-agent"), "{headers}");
}
