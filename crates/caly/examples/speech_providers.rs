//! The tests' stand-in speech and language services (tests/support/providers.rs) as a process,
//! for `benches/simulate.sh` with speech turns: OpenAI-compatible transcriptions (STT final in
//! 150 ms, always "where is my order"), chat completions (first token in 300 ms) and speech
//! (first audio in 150 ms) on loopback. Prints its base URL, then serves until killed.

// The stand-ins also record what they were asked, for the tests; nothing reads that here.
#[allow(dead_code)]
#[path = "../tests/support/providers.rs"]
mod providers;

use std::time::Duration;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let (url, script) = providers::start().await;
    {
        let mut script = script.lock().unwrap();
        script.words = std::iter::repeat_n("where is my order".to_owned(), 1_000_000).collect();
        script.stt_delay = Duration::from_millis(150);
        script.llm_delay = Duration::from_millis(300);
        script.tts_delay = Duration::from_millis(150);
    }
    println!("{url}");
    std::future::pending::<()>().await;
}
