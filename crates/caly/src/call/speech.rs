//! The speech engines' providers as `[speech]` configures them, built once at start-up.

use std::{sync::Arc, time::Duration};

use caly_core::{Language, agent::greeting, dialogue::Rules, settings::Settings};
use caly_engines::{
    cascade::{Speech, apology},
    connections::ConnectionCaps,
    listen::ListenSettings,
    realtime::RealtimeSettings,
    speak::Voice,
    stt::{Deepgram, OpenAiTranscriber, Transcriber},
    tts::{Espeak, OpenAiSpeech, Synthesizer},
};
use secrecy::ExposeSecret;

use crate::{
    config::{SpeechConfig, SpeechEngine},
    state::AppState,
};

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
    let caps = ConnectionCaps::new(config.max_connections_per_call, config.max_connections_per_tenant);
    Ok(Speech::new(transcribers, Voice::new(synthesizers), listen, config.max_live_sessions, caps, rules))
}

/// Makes a tenant's greeting and apology in each of its languages ahead, in its voice, in the
/// background, so a call's first words start at once even when the speech service is cold.
/// Made once per text and voice: a phrase already kept costs a lookup.
pub fn prepare_greetings(state: &AppState, settings: &Settings) {
    if state.config.speech.engine == SpeechEngine::Echo {
        return;
    }
    let voice = settings.agent.chosen_voice().map(str::to_owned);
    for language in settings.languages.iter().filter_map(|code| code.parse::<Language>().ok()) {
        let text = greeting(settings, &state.dialogue.replies, language);
        state.speech.voice.prepare(text, language, voice.clone());
        state.speech.voice.prepare(apology(language).to_owned(), language, voice.clone());
    }
}

/// Tenants whose greetings are made at start-up: those with the latest calls.
const PREPARED_TENANTS: i64 = 500;

/// At start-up: the shipped greetings and apologies in the server's voice (every new tenant's,
/// in all three languages) and those of the tenants that take calls.
pub async fn prepare_at_start(state: &AppState) -> anyhow::Result<()> {
    if state.config.speech.engine == SpeechEngine::Echo {
        return Ok(());
    }
    prepare_greetings(state, &Settings::default());
    for tenant_id in state.store.tenants_by_latest_call(PREPARED_TENANTS).await? {
        prepare_greetings(state, &crate::commerce::settings_of(state, &tenant_id).await?);
    }
    Ok(())
}

/// Where the realtime engine connects, from `[speech]`, in the tenant's voice if it chose one.
pub fn realtime_settings(config: &SpeechConfig, voice: Option<&str>) -> RealtimeSettings {
    RealtimeSettings {
        url: config.realtime_url.clone(),
        api_key: config.realtime_api_key.as_ref().map(|k| k.expose_secret().to_owned()),
        model: config.realtime_model.clone(),
        voice: voice.unwrap_or(&config.realtime_voice).to_owned(),
        transcription_model: config.realtime_transcription_model.clone(),
        timeout: config.provider_timeout,
    }
}
