//! Scripted conversations through the sandbox API against the demo store, on both engines:
//! every intent, in Hindi, Hinglish, English and mixed; identity failures, declined
//! confirmations, repeated yeses, policy refusals, approvals and escalation
//! (`tests/fixtures/conversations/*.script`, format in `support/scripts.rs`).

mod support;

use support::{Engine, TestApp, scripts};

on_both_engines! {
    async fn every_scripted_conversation_goes_as_written(engine: Engine) {
        let app = TestApp::spawn(engine).await;
        let scripts = scripts::scripts(&[]);
        assert!(scripts.len() >= 200, "{} scripted conversations; at least 200 wanted", scripts.len());
        scripts::play_all(&app, &scripts, |_, _| async {}).await;
    }
}
