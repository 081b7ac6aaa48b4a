//! Mail over SMTP to a real SMTP server (Python's `smtpd`, run from tests/fixtures), and
//! retries while the server is down.

mod support;

use std::{
    io::{BufRead, BufReader},
    process::{Child, Command, Stdio},
    time::Duration,
};

use secrecy::SecretString;
use support::{Engine, TestApp};

struct Sink {
    child: Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// Starts the SMTP sink on `port`; `None` (and a visible skip) without Python's `smtpd`.
fn sink(port: u16, test: &str) -> Option<Sink> {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/smtp_sink.py");
    let spawned =
        Command::new("python3").arg(script).arg(port.to_string()).stdout(Stdio::piped()).stderr(Stdio::null()).spawn();
    let Ok(mut child) = spawned else {
        support::skip(test, "python3");
        return None;
    };
    let stdout = child.stdout.take().unwrap();
    let (send, lines) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = send.send(line);
        }
    });
    match lines.recv_timeout(Duration::from_secs(10)) {
        Ok(ready) if ready == "READY" => Some(Sink { child, lines }),
        _ => {
            support::skip(test, "python3 with the smtpd module");
            None
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verification_mail_is_sent_over_smtp() {
    let port = free_port();
    let Some(sink) = sink(port, "mail::verification_mail_is_sent_over_smtp") else { return };
    let app = TestApp::builder(Engine::Sqlite)
        .config(|config| {
            config.mail.smtp_url = Some(SecretString::from(format!("smtp://127.0.0.1:{port}")));
            config.mail.from = "Kurta Ghar <support@kurtaghar.in>".into();
            config.mail.public_url = "https://caly.kurtaghar.in".into();
        })
        .spawn()
        .await;
    app.sign_up("asha@example.in").await;
    let mut received = Vec::new();
    while let Ok(line) = sink.lines.recv_timeout(Duration::from_secs(10)) {
        let end = line == "END";
        received.push(line);
        if end {
            break;
        }
    }
    // The body is quoted-printable (its link line is long): undo soft breaks and `=3D`.
    let text = received.join("\n").replace("=\n", "").replace("=3D", "=");
    assert!(text.starts_with("FROM support@kurtaghar.in TO asha@example.in"), "{text}");
    assert!(text.contains("Subject: Confirm your email for Caly"), "{text}");
    let token = app.mailed_token("asha@example.in", "/verify-email").await;
    assert!(text.contains(&format!("https://caly.kurtaghar.in/verify-email?token={token}")), "{text}");
    for _ in 0..50 {
        if app.store().mail_to("asha@example.in").await.unwrap()[0].sent_at.is_some() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the delivered mail was not marked sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undelivered_mail_stays_in_the_outbox() {
    let port = free_port();
    let app = TestApp::builder(Engine::Sqlite)
        .config(|config| config.mail.smtp_url = Some(SecretString::from(format!("smtp://127.0.0.1:{port}"))))
        .spawn()
        .await;
    app.sign_up("asha@example.in").await;
    for _ in 0..100 {
        let mail = app.store().mail_to("asha@example.in").await.unwrap();
        if mail[0].attempts >= 1 {
            assert!(mail[0].sent_at.is_none(), "nothing listens on port {port}");
            assert!(app.store().due_mail(i64::MAX, 10).await.unwrap().len() == 1, "it will be tried again");
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no delivery was attempted");
}
