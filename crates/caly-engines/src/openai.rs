//! An OpenAI-compatible chat completions client (OpenAI, Groq, OpenRouter, Ollama, vLLM…),
//! streaming: the answer arrives as server-sent events, so the time to the model's first token
//! is known, and a timeout covers the whole answer.

use std::time::Duration;

use eventsource_stream::Eventsource;
use futures::StreamExt;
use serde_json::{Value, json};
use tokio::time::Instant;

use crate::provider::{self, ProviderError};

#[derive(Debug, Clone)]
pub struct ChatClient {
    pub base_url: String,
    pub api_key: Option<String>,
    pub model: String,
    pub timeout: Duration,
    pub http: reqwest::Client,
}

/// A function the model called, and how long its first token took.
#[derive(Debug, Clone)]
pub struct ToolCalled {
    pub arguments: Value,
    pub first_token: Duration,
}

impl ChatClient {
    /// Asks the model with `messages`, forcing a call of the one function in `tool`; returns
    /// the function's arguments, parsed.
    pub async fn call_tool(&self, messages: Value, tool: Value) -> Result<ToolCalled, ProviderError> {
        let name = tool["function"]["name"].clone();
        let body = json!({
            "model": self.model,
            "messages": messages,
            "tools": [tool],
            "tool_choice": { "type": "function", "function": { "name": name } },
            "temperature": 0,
            "stream": true,
        });
        let (called, arguments, first_token) =
            tokio::time::timeout(self.timeout, self.stream(&body)).await.map_err(|_| ProviderError::Timeout)??;
        if called != name {
            return Err(ProviderError::Unusable(format!("no call of {name}")));
        }
        let arguments = serde_json::from_str(&arguments)
            .map_err(|e| ProviderError::Unusable(format!("arguments are not JSON: {e}")))?;
        Ok(ToolCalled { arguments, first_token })
    }

    /// The streamed answer's first tool call: its name and arguments, put together from the
    /// deltas, and when the first delta came.
    async fn stream(&self, body: &Value) -> Result<(String, String, Duration), ProviderError> {
        let url = format!("{}/chat/completions", self.base_url.trim_end_matches('/'));
        let asked = Instant::now();
        let response = provider::send(
            || provider::bearer(self.http.post(&url).json(body), self.api_key.as_ref()),
            "the model's service",
        )
        .await?;
        let mut events = response.bytes_stream().eventsource();
        let (mut name, mut arguments, mut first_token) = (String::new(), String::new(), None);
        while let Some(event) = events.next().await {
            let event = event.map_err(|e| ProviderError::Unavailable(format!("the stream broke: {e}")))?;
            if event.data.trim() == "[DONE]" {
                break;
            }
            let chunk: Value = serde_json::from_str(&event.data)
                .map_err(|e| ProviderError::Unusable(format!("a chunk is not JSON: {e}")))?;
            let delta = &chunk["choices"][0]["delta"];
            first_token.get_or_insert_with(|| asked.elapsed());
            if let Some(call) = delta["tool_calls"].get(0).map(|call| &call["function"]) {
                name.push_str(call["name"].as_str().unwrap_or_default());
                arguments.push_str(call["arguments"].as_str().unwrap_or_default());
            }
        }
        let first_token = first_token.ok_or_else(|| ProviderError::Unusable("an empty answer".into()))?;
        Ok((name, arguments, first_token))
    }
}
