//! The speech engines' providers as `[speech]` configures them, built once at start-up.

use std::{sync::Arc, time::Duration};

use caly_core::dialogue::Rules;
use caly_engines::{
    cascade::Speech,
    listen::ListenSettings,
    speak::Voice,
    stt::{Deepgram, OpenAiTranscriber, Transcriber},
    tts::{Espeak, OpenAiSpeech, Synthesizer},
};
use secrecy::ExposeSecret;

use crate::config::SpeechConfig;

pub fn build(config: &SpeechConfig, rules: Arc<Rules>) -> anyhow::Result<Speech> {
    // No overall timeout: speech streams for as long as it speaks; each provider bounds its
    // own waits.
    let http = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(3))
        .user_agent(concat!("caly/", env!("CARGO_PKG_VERSION")))
        .build()?;
    let key = |secret: &Option<secrecy::SecretString>| secret.as_ref().map(|k| k.expose_secret().to_owned());
    let mut transcribers: Vec<Arc<dyn Transcriber>> = Vec::new();
    if let Some(api_key) = key(&config.deepgram_api_key) {
        transcribers.push(Arc::new(Deepgram {
            base_url: config.deepgram_url.clone(),
            api_key,
            model: config.deepgram_model.clone(),
            language: config.deepgram_language.clone(),
            timeout: config.provider_timeout,
            http: http.clone(),
        }));
    }
    if let Some(base_url) = &config.stt_url {
        transcribers.push(Arc::new(OpenAiTranscriber {
            base_url: base_url.clone(),
            api_key: key(&config.stt_api_key),
            model: config.stt_model.clone(),
            timeout: config.provider_timeout,
            http: http.clone(),
        }));
    }
    let mut synthesizers: Vec<Arc<dyn Synthesizer>> = Vec::new();
    if let Some(base_url) = &config.tts_url {
        synthesizers.push(Arc::new(OpenAiSpeech {
            base_url: base_url.clone(),
            api_key: key(&config.tts_api_key),
            model: config.tts_model.clone(),
            voice: config.tts_voice.clone(),
            timeout: config.provider_timeout,
            http,
        }));
    }
    if !config.espeak_program.is_empty() {
        synthesizers.push(Arc::new(Espeak { program: config.espeak_program.clone(), ..Espeak::default() }));
    }
    let listen = ListenSettings {
        end_silence: config.end_silence,
        max_wait: config.max_wait,
        barge_in: config.barge_in,
        barge_in_wait: config.barge_in_wait,
        aggressiveness: config.vad_aggressiveness,
    };
    Ok(Speech::new(transcribers, Voice::new(synthesizers), listen, config.max_live_sessions, rules))
}
