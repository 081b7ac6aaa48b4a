//! An OpenAI-compatible chat completions client (OpenAI, Groq, OpenRouter, Ollama, vLLM…):
//! one request, one answer, with a timeout, and one retry after 429/5xx with jitter.

use std::time::Duration;

use serde_json::{Value, json};

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    #[error("the model did not answer in time")]
    Timeout,
    #[error("the model's service failed: {0}")]
    Unavailable(String),
    #[error("the model's answer could not be used: {0}")]
    Unusable(String),
}

#[derive(Debug, Clone)]
pub struct ChatClient {
    pub base_url: String,
    pub api_key: Option<String>,
    pub model: String,
    pub timeout: Duration,
    pub http: reqwest::Client,
}

const ATTEMPTS: u32 = 2;

impl ChatClient {
    /// Asks the model with `messages`, forcing a call of the one function in `tool`; returns
    /// the function's arguments, parsed.
    pub async fn call_tool(&self, messages: Value, tool: Value) -> Result<Value, LlmError> {
        let name = tool["function"]["name"].clone();
        let body = json!({
            "model": self.model,
            "messages": messages,
            "tools": [tool],
            "tool_choice": { "type": "function", "function": { "name": name } },
            "temperature": 0,
        });
        let answer = tokio::time::timeout(self.timeout, self.post(&body)).await.map_err(|_| LlmError::Timeout)??;
        let call = &answer["choices"][0]["message"]["tool_calls"][0]["function"];
        if call["name"] != name {
            return Err(LlmError::Unusable(format!("no call of {name}")));
        }
        let arguments = call["arguments"].as_str().ok_or_else(|| LlmError::Unusable("no arguments".into()))?;
        serde_json::from_str(arguments).map_err(|e| LlmError::Unusable(format!("arguments are not JSON: {e}")))
    }

    async fn post(&self, body: &Value) -> Result<Value, LlmError> {
        let url = format!("{}/chat/completions", self.base_url.trim_end_matches('/'));
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request = self.http.post(&url).json(body);
            if let Some(key) = &self.api_key {
                request = request.bearer_auth(key);
            }
            let failure = match request.send().await {
                Ok(response) if response.status().is_success() => {
                    return response.json().await.map_err(|e| LlmError::Unusable(format!("not JSON: {e}")));
                }
                Ok(response) if response.status().as_u16() == 429 || response.status().is_server_error() => {
                    format!("answered {}", response.status())
                }
                Ok(response) => return Err(LlmError::Unavailable(format!("answered {}", response.status()))),
                Err(error) => error.to_string(),
            };
            if attempt >= ATTEMPTS {
                return Err(LlmError::Unavailable(failure));
            }
            let pause = 100 + rand::random_range(0..100);
            tracing::warn!(attempt, "the model's service {failure}; retrying in {pause} ms");
            tokio::time::sleep(Duration::from_millis(pause)).await;
        }
    }
}
