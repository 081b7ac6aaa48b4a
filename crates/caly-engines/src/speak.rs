//! The agent's voice: synthesisers tried in order, each behind its circuit breaker, sentence by
//! sentence so the first sentence plays while the next is made; fixed phrases (greetings,
//! apologies) synthesised once and kept.

use std::{sync::Arc, time::Duration};

use caly_core::Language;
use tokio::{sync::mpsc, time::Instant};

use crate::{
    provider::{Breaker, ProviderError},
    tts::Synthesizer,
};

pub struct Voice {
    synthesizers: Vec<(Arc<dyn Synthesizer>, Breaker)>,
    /// Keyed by language, the tenant's voice (`None`: the synthesisers' own) and text.
    phrases: moka::future::Cache<(Language, Option<String>, String), Arc<[i16]>>,
}

/// How a text was spoken.
#[derive(Debug, Clone, Copy, Default)]
pub struct Spoken {
    /// From the request to the first audio.
    pub first_audio: Option<Duration>,
}

/// Phrases kept: a few per tenant and language.
const PHRASES: u64 = 2_048;

impl Voice {
    /// `synthesizers` in the order they are tried.
    pub fn new(synthesizers: Vec<Arc<dyn Synthesizer>>) -> Self {
        Self {
            synthesizers: synthesizers.into_iter().map(|s| (s, Breaker::default())).collect(),
            phrases: moka::future::Cache::new(PHRASES),
        }
    }

    /// Speaks `text` in `voice` (the tenant's; `None`: the synthesisers' own), sentence by
    /// sentence, sending its audio to `out`. A synthesiser that fails before its first audio of
    /// a sentence hands that sentence to the next one.
    pub async fn speak(
        &self,
        text: &str,
        language: Language,
        voice: Option<&str>,
        out: &mpsc::Sender<Vec<i16>>,
    ) -> Result<Spoken, ProviderError> {
        let asked = Instant::now();
        let mut spoken = Spoken::default();
        for sentence in sentences(text) {
            self.sentence(sentence, language, voice, out, asked, &mut spoken).await?;
        }
        Ok(spoken)
    }

    async fn sentence(
        &self,
        sentence: &str,
        language: Language,
        voice: Option<&str>,
        out: &mpsc::Sender<Vec<i16>>,
        asked: Instant,
        spoken: &mut Spoken,
    ) -> Result<(), ProviderError> {
        let mut last = ProviderError::Unavailable("no synthesiser is configured".into());
        for (synthesizer, breaker) in &self.synthesizers {
            if !breaker.allows() {
                last = ProviderError::BreakerOpen;
                continue;
            }
            let (pieces, mut received) = mpsc::channel(16);
            let mut sent_any = false;
            let relay = async {
                while let Some(piece) = received.recv().await {
                    spoken.first_audio.get_or_insert_with(|| asked.elapsed());
                    sent_any = true;
                    if out.send(piece).await.is_err() {
                        break;
                    }
                }
            };
            let synthesis = async {
                let result = synthesizer.synthesize(sentence, language, voice, &pieces).await;
                drop(pieces);
                result
            };
            let (result, ()) = tokio::join!(synthesis, relay);
            breaker.record(&result);
            match result {
                Ok(()) => return Ok(()),
                Err(error) if sent_any => {
                    tracing::warn!(synthesizer = synthesizer.name(), %error, "speech broke off mid-sentence");
                    return Ok(());
                }
                Err(error) => {
                    tracing::warn!(synthesizer = synthesizer.name(), %error, "speech failed; the next synthesiser speaks");
                    last = error;
                }
            }
        }
        Err(last)
    }

    /// A fixed phrase's audio, synthesised the first time it is asked for; callers asking
    /// while it is being made wait for that one synthesis.
    pub async fn phrase(
        &self,
        text: &str,
        language: Language,
        voice: Option<&str>,
    ) -> Result<Arc<[i16]>, ProviderError> {
        let synthesis = async {
            let (out, mut received) = mpsc::channel(16);
            let collect = async {
                let mut audio = Vec::new();
                while let Some(piece) = received.recv().await {
                    audio.extend(piece);
                }
                audio
            };
            let speak = async {
                let result = self.speak(text, language, voice, &out).await;
                drop(out);
                result
            };
            let (result, audio) = tokio::join!(speak, collect);
            result.map(|_| Arc::<[i16]>::from(audio))
        };
        let key = (language, voice.map(str::to_owned), text.to_owned());
        self.phrases.try_get_with(key, synthesis).await.map_err(|error| (*error).clone())
    }

    /// Makes a phrase ahead of its first call, in the background.
    pub fn prepare(self: &Arc<Self>, text: String, language: Language, voice: Option<String>) {
        if self.phrases.contains_key(&(language, voice.clone(), text.clone())) {
            return;
        }
        let speaker = self.clone();
        tokio::spawn(async move {
            if let Err(error) = speaker.phrase(&text, language, voice.as_deref()).await {
                tracing::warn!(%error, "a phrase could not be made ahead");
            }
        });
    }
}

/// `text` cut after each sentence's end (`.`, `!`, `?`, `।`), keeping the marks.
pub fn sentences(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text.trim();
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let end = rest
            .char_indices()
            .find(|&(i, c)| {
                matches!(c, '.' | '!' | '?' | '।')
                    && rest[i + c.len_utf8()..].chars().next().is_none_or(char::is_whitespace)
            })
            .map_or(rest.len(), |(i, c)| i + c.len_utf8());
        let (sentence, after) = rest.split_at(end);
        rest = after.trim_start();
        Some(sentence.trim())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_cut_into_sentences_at_their_marks_only() {
        let cut: Vec<_> = sentences("Namaste! Aapka order 4521 hai. ₹1,299.50 lagenge? ठीक है। bye").collect();
        assert_eq!(cut, vec!["Namaste!", "Aapka order 4521 hai.", "₹1,299.50 lagenge?", "ठीक है।", "bye"]);
        assert_eq!(sentences("  ").count(), 0);
    }
}
