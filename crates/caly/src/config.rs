//! Typed configuration, layered: defaults → `caly.toml` (optional) → `CALY_*` environment.
//!
//! Environment names map onto keys by section: `CALY_DATABASE_MAX_CONNECTIONS` is
//! `database.max_connections`, `CALY_LISTEN` is `listen`. Every problem stops start-up with one
//! line naming the key, the bad value and what was expected. `caly.example.toml` documents each key.

use std::{collections::BTreeMap, net::SocketAddr, path::PathBuf, time::Duration};

use caly_guard::{
    anomaly::AnomalySettings,
    detector::{AttackClass, Mode},
};
use figment::{
    Figment,
    providers::{Env, Format, Serialized, Toml},
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize, Serializer};

const ENV_PREFIX: &str = "CALY_";
const SECTIONS: [&str; 14] = [
    "database",
    "redis",
    "log",
    "http",
    "auth",
    "detector",
    "anomaly",
    "policies",
    "mail",
    "commerce",
    "llm",
    "telephony",
    "speech",
    "recordings",
];

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the HTTP server listens on.
    pub listen: SocketAddr,
    /// Directory for the SQLite database and other local files.
    pub data_dir: PathBuf,
    /// Bearer token that may read `/health` and `/metrics`.
    #[serde(serialize_with = "redacted")]
    pub health_token: Option<SecretString>,
    /// Release identifier reported by `/health` (e.g. a git commit).
    pub release_id: Option<String>,
    /// On first start with an empty database, create a demo tenant and print its owner's
    /// credentials once.
    pub demo: bool,
    /// `off` disables every rate-limit policy (for benchmarks; never in production).
    pub rate_limits: Switch,
    /// A RustSec advisory database directory for `caly scan`'s dependency audit.
    pub advisory_db: Option<PathBuf>,
    pub database: DatabaseConfig,
    pub redis: RedisConfig,
    pub log: LogConfig,
    pub http: HttpConfig,
    pub auth: AuthConfig,
    pub detector: DetectorConfig,
    /// Per-client anomaly detection over a sliding window.
    pub anomaly: AnomalySettings,
    pub policies: PoliciesConfig,
    pub mail: MailConfig,
    pub commerce: CommerceConfig,
    pub llm: LlmConfig,
    pub telephony: TelephonyConfig,
    pub speech: SpeechConfig,
    pub recordings: RecordingsConfig,
}

/// Where call recordings are kept: `<data_dir>/recordings`, or an S3-compatible bucket (AWS S3,
/// MinIO, Ceph, Cloudflare R2, …) when `s3_bucket` is set. Settings not given here are taken from
/// the standard `AWS_*` environment (credentials, region, an instance or task role).
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RecordingsConfig {
    pub s3_bucket: Option<String>,
    /// The S3 API's base URL of a service other than AWS, e.g. `http://127.0.0.1:9000`.
    pub s3_endpoint: Option<String>,
    pub s3_region: Option<String>,
    pub s3_access_key_id: Option<String>,
    #[serde(serialize_with = "redacted")]
    pub s3_secret_access_key: Option<SecretString>,
    /// Keys start with it (`caly/`), so that one bucket can hold other things too.
    pub s3_prefix: Option<String>,
}

/// How calls are heard and spoken to. A provider is used when its address (or key) is set;
/// transcribers are tried Deepgram first, then the OpenAI-compatible one; synthesisers the
/// OpenAI-compatible one first, then the local espeak-ng.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct SpeechConfig {
    /// `cascade` (speech to text → the tenant's agent → text to speech), `realtime` (a
    /// speech-to-speech model with the tenant's agent as its tool; the cascade when it cannot
    /// be reached) or `echo` (the test engine: greets with a tone, echoes the caller; for load
    /// tests, needs no provider).
    pub engine: SpeechEngine,
    /// Deepgram's key; set: Deepgram transcribes, live.
    #[serde(serialize_with = "redacted")]
    pub deepgram_api_key: Option<SecretString>,
    pub deepgram_url: String,
    pub deepgram_model: String,
    /// `hi`, `en` or `multi`; unset: the call's language.
    pub deepgram_language: Option<String>,
    /// An OpenAI-compatible transcription service (`…/v1`): OpenAI, Groq, Speaches.
    pub stt_url: Option<String>,
    #[serde(serialize_with = "redacted")]
    pub stt_api_key: Option<SecretString>,
    pub stt_model: String,
    /// An OpenAI-compatible speech service (`…/v1`): OpenAI, Kokoro-FastAPI, Speaches.
    pub tts_url: Option<String>,
    #[serde(serialize_with = "redacted")]
    pub tts_api_key: Option<SecretString>,
    pub tts_model: String,
    pub tts_voice: String,
    /// The local synthesiser, always the last resort; empty: none.
    pub espeak_program: String,
    /// The Realtime API, for `engine = "realtime"`: OpenAI's, or a compatible server.
    pub realtime_url: String,
    #[serde(serialize_with = "redacted")]
    pub realtime_api_key: Option<SecretString>,
    pub realtime_model: String,
    pub realtime_voice: String,
    /// Transcribes the caller's turns for the transcript.
    pub realtime_transcription_model: String,
    /// How long a provider may take to answer (a transcription, the first audio).
    #[serde(with = "humantime_serde")]
    pub provider_timeout: Duration,
    /// Quiet that ends the caller's turn.
    #[serde(with = "humantime_serde")]
    pub end_silence: Duration,
    /// The longest wait for the rest of a sentence the caller broke off.
    #[serde(with = "humantime_serde")]
    pub max_wait: Duration,
    /// Caller speech over the agent this long stops the agent…
    #[serde(with = "humantime_serde")]
    pub barge_in: Duration,
    /// …once its words are more than "haan" or "hmm", or it has gone on this much longer.
    #[serde(with = "humantime_serde")]
    pub barge_in_wait: Duration,
    /// 0–3: how sure the voice detector must be that a frame is speech.
    pub vad_aggressiveness: u8,
    /// Live transcriptions open at once (server-wide); calls beyond it are transcribed per turn.
    pub max_live_sessions: usize,
    /// Provider connections one call may hold at once (a live transcription or a realtime
    /// session, and each turn being answered).
    pub max_connections_per_call: usize,
    /// Provider connections all of one tenant's calls may hold at once.
    pub max_connections_per_tenant: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SpeechEngine {
    Cascade,
    Realtime,
    Echo,
}

impl Default for SpeechConfig {
    fn default() -> Self {
        Self {
            engine: SpeechEngine::Cascade,
            deepgram_api_key: None,
            deepgram_url: "https://api.deepgram.com".into(),
            deepgram_model: "nova-3".into(),
            deepgram_language: None,
            stt_url: None,
            stt_api_key: None,
            stt_model: "whisper-1".into(),
            tts_url: None,
            tts_api_key: None,
            tts_model: "gpt-4o-mini-tts".into(),
            tts_voice: "alloy".into(),
            espeak_program: "espeak-ng".into(),
            realtime_url: "wss://api.openai.com/v1/realtime".into(),
            realtime_api_key: None,
            realtime_model: "gpt-realtime".into(),
            realtime_voice: "marin".into(),
            realtime_transcription_model: "gpt-4o-mini-transcribe".into(),
            provider_timeout: Duration::from_secs(3),
            end_silence: Duration::from_millis(500),
            max_wait: Duration::from_secs(2),
            barge_in: Duration::from_millis(300),
            barge_in_wait: Duration::from_millis(400),
            vad_aggressiveness: 2,
            max_live_sessions: 1_000,
            max_connections_per_call: 3,
            max_connections_per_tenant: 300,
        }
    }
}

/// Carriers: where they reach us, single-account credentials, and the carriers' REST APIs.
/// Tenants' own carrier credentials live in their encrypted settings and take precedence.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelephonyConfig {
    /// Caly's address as carriers reach it (`https://voice.example.in`): webhook signatures are
    /// checked against it and media-stream URLs built from it. Unset: the request's `Host`.
    pub public_url: Option<String>,
    /// How long a media-stream token minted by a webhook answer stays valid.
    #[serde(with = "humantime_serde")]
    pub media_token_ttl: Duration,
    /// A pause this long ends digits typed on the keypad.
    #[serde(with = "humantime_serde")]
    pub dtmf_timeout: Duration,
    pub twilio_account_sid: Option<String>,
    #[serde(serialize_with = "redacted")]
    pub twilio_auth_token: Option<SecretString>,
    pub exotel_account_sid: Option<String>,
    pub exotel_api_key: Option<String>,
    #[serde(serialize_with = "redacted")]
    pub exotel_api_token: Option<SecretString>,
    pub plivo_auth_id: Option<String>,
    #[serde(serialize_with = "redacted")]
    pub plivo_auth_token: Option<SecretString>,
    /// The carriers' REST APIs (transfers, hang-ups); changed only to reach a stand-in.
    pub twilio_api_url: String,
    pub exotel_api_url: String,
    pub plivo_api_url: String,
}

impl Default for TelephonyConfig {
    fn default() -> Self {
        Self {
            public_url: None,
            media_token_ttl: Duration::from_secs(60),
            dtmf_timeout: Duration::from_secs(3),
            twilio_account_sid: None,
            twilio_auth_token: None,
            exotel_account_sid: None,
            exotel_api_key: None,
            exotel_api_token: None,
            plivo_auth_id: None,
            plivo_auth_token: None,
            twilio_api_url: "https://api.twilio.com".into(),
            exotel_api_url: "https://api.exotel.com".into(),
            plivo_api_url: "https://api.plivo.com".into(),
        }
    }
}

/// The LLM that tenants choosing `dialogue.engine = "llm"` are understood by: any
/// OpenAI-compatible chat completions API (OpenAI, Groq, OpenRouter, Ollama, vLLM).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LlmConfig {
    /// E.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`. Unset: no LLM; every
    /// tenant is understood by the rules engine.
    pub base_url: Option<String>,
    pub model: String,
    #[serde(serialize_with = "redacted")]
    pub api_key: Option<SecretString>,
    /// How long one understanding may take before the rules engine answers instead.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

impl Default for LlmConfig {
    fn default() -> Self {
        Self { base_url: None, model: "gpt-4o-mini".into(), api_key: None, timeout: Duration::from_secs(3) }
    }
}

/// Requests to tenants' shops (Shopify).
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct CommerceConfig {
    /// Sends every tenant's Shopify requests to this base URL instead of `https://<shop>`: an
    /// egress proxy, or a local stand-in for testing; `{shop}` in it becomes the tenant's shop
    /// domain. Operators only; tenants name their shop.
    pub shopify_endpoint: Option<String>,
    /// How long one request to a shop may take.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
}

impl Default for CommerceConfig {
    fn default() -> Self {
        Self { shopify_endpoint: None, timeout: Duration::from_secs(10) }
    }
}

/// Mail to users: verification, password reset, invitations. It goes through the outbox
/// table; with no mail server configured it is written to the log at info level.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailConfig {
    /// Where links in mail point: Caly's address as users reach it.
    pub public_url: String,
    /// The mail server: `smtps://USER:PASSWORD@HOST:465` (TLS) or
    /// `smtp://USER:PASSWORD@HOST:587?tls=required` (STARTTLS). Unset: mail goes to the log.
    #[serde(serialize_with = "redacted_url")]
    pub smtp_url: Option<SecretString>,
    /// The sender, e.g. `Kurta Ghar Support <support@kurtaghar.in>`.
    pub from: String,
}

impl Default for MailConfig {
    fn default() -> Self {
        Self {
            public_url: "http://127.0.0.1:8080".into(),
            smtp_url: None,
            from: "Caly <no-reply@caly.localhost>".into(),
        }
    }
}

/// The rate-limit policies (GCRA): `limit` requests per `window`, at most `burst` at once.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct PoliciesConfig {
    /// Sign-in attempts, per client IP and separately per account.
    pub login: PolicyConfig,
    /// Registrations per client IP.
    pub register: PolicyConfig,
    /// Other unauthenticated API requests per client IP.
    pub public: PolicyConfig,
    /// Carrier webhooks and media streams per client IP (carriers send many calls from few IPs).
    pub telephony: PolicyConfig,
    /// Authenticated API requests per user.
    pub api: PolicyConfig,
    /// Password-reset requests per account.
    pub password_reset: PolicyConfig,
    /// Verification mails per account.
    pub verify: PolicyConfig,
    /// Keys each policy tracks at once in memory; beyond it the least valuable are forgotten.
    pub max_keys: u64,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct PolicyConfig {
    pub limit: u32,
    #[serde(with = "humantime_serde")]
    pub window: Duration,
    pub burst: u32,
    /// When Redis cannot be reached: `closed` refuses (429), `open` lets requests through.
    pub on_store_failure: FailMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FailMode {
    Open,
    Closed,
}

impl PolicyConfig {
    const fn new(limit: u32, window_secs: u64, burst: u32, on_store_failure: FailMode) -> Self {
        Self { limit, window: Duration::from_secs(window_secs), burst, on_store_failure }
    }
}

impl Default for PoliciesConfig {
    fn default() -> Self {
        Self {
            login: PolicyConfig::new(6, 900, 6, FailMode::Closed),
            register: PolicyConfig::new(5, 900, 5, FailMode::Open),
            public: PolicyConfig::new(120, 60, 120, FailMode::Open),
            telephony: PolicyConfig::new(6_000, 60, 1_000, FailMode::Open),
            api: PolicyConfig::new(600, 60, 100, FailMode::Open),
            password_reset: PolicyConfig::new(3, 900, 3, FailMode::Closed),
            verify: PolicyConfig::new(5, 300, 5, FailMode::Closed),
            max_keys: 100_000,
        }
    }
}

/// The request attack detector: what it does with a finding, per class.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DetectorConfig {
    /// `off`, `monitor` (log, audit and count) or `block` (also answer 403), for every class.
    pub mode: Mode,
    /// Per-class overrides of `mode`.
    pub classes: BTreeMap<AttackClass, Mode>,
}

impl DetectorConfig {
    pub fn mode_of(&self, class: AttackClass) -> Mode {
        self.classes.get(&class).copied().unwrap_or(self.mode)
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// HMAC key (32+ characters) that signs access tokens. Unset: a random key is created in
    /// `<data_dir>/jwt-secret` on first start and reused.
    #[serde(serialize_with = "redacted")]
    pub jwt_secret: Option<SecretString>,
    /// AES-256 key (64 hex characters) that encrypts provider credentials in tenants'
    /// settings. Unset: a random key is created in `<data_dir>/settings-key` and reused.
    /// Losing it makes stored credentials unreadable.
    #[serde(serialize_with = "redacted")]
    pub settings_key: Option<SecretString>,
    /// Lifetime of an access token; also the longest a revoked session keeps working.
    #[serde(with = "humantime_serde")]
    pub access_token_ttl: Duration,
    #[serde(with = "humantime_serde")]
    pub refresh_token_ttl: Duration,
    /// Password hashes computed at once; more wait, so a login flood cannot starve the server.
    pub hash_concurrency: usize,
    /// Failed sign-ins for one account within `lockout_window` after which further attempts
    /// for it are refused (429) until the window has passed, whatever the client's IP.
    pub lockout_threshold: u32,
    #[serde(with = "humantime_serde")]
    pub lockout_window: Duration,
}

impl Default for AuthConfig {
    fn default() -> Self {
        Self {
            jwt_secret: None,
            settings_key: None,
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            hash_concurrency: 2,
            lockout_threshold: 10,
            lockout_window: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    /// `sqlite://…` or `postgres://…`; defaults to `sqlite://<data_dir>/caly.db`.
    #[serde(serialize_with = "redacted_url")]
    pub url: Option<SecretString>,
    pub max_connections: u32,
    pub min_connections: u32,
    #[serde(with = "humantime_serde")]
    pub acquire_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub idle_timeout: Duration,
    /// PostgreSQL only.
    #[serde(with = "humantime_serde")]
    pub statement_timeout: Duration,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct RedisConfig {
    /// `redis://…`; when unset Caly runs without Redis (rate limits are then per instance).
    #[serde(serialize_with = "redacted_url")]
    pub url: Option<SecretString>,
    /// Prefix of every key Caly writes, so that several deployments can share one Redis.
    pub key_prefix: String,
}

impl Default for RedisConfig {
    fn default() -> Self {
        Self { url: None, key_prefix: "caly:".into() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Switch {
    On,
    Off,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    /// A `tracing` filter such as `info` or `caly=debug,sqlx=warn`.
    pub level: String,
    /// Add the (redacted) request headers to each request's log line.
    pub headers: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct HttpConfig {
    pub body_limit_bytes: usize,
    #[serde(with = "humantime_serde")]
    pub request_timeout: Duration,
    pub concurrency_limit: usize,
    /// After SIGTERM: how long readiness reports 503 while still accepting, so that load
    /// balancers stop sending before the listener closes.
    #[serde(with = "humantime_serde")]
    pub drain_delay: Duration,
    /// After the listener closes: how long in-flight requests may take to finish.
    #[serde(with = "humantime_serde")]
    pub shutdown_timeout: Duration,
    /// Networks (CIDR) of reverse proxies whose `Forwarded` / `X-Forwarded-For` are believed.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// PEM certificate chain and private key: serve HTTPS in-process. Both or neither.
    pub tls_cert: Option<PathBuf>,
    pub tls_key: Option<PathBuf>,
    /// Answer plain-HTTP requests with a 308 to HTTPS (behind a trusted proxy, its
    /// `X-Forwarded-Proto` says which scheme the client used). Probes are exempt.
    pub enforce_https: bool,
    /// Origins (`https://dashboard.example.com`) whose pages may call the API from a browser,
    /// with credentials. Empty: same-origin only. `*` is refused.
    pub cors_origins: Vec<String>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("data"),
            health_token: None,
            release_id: None,
            demo: true,
            rate_limits: Switch::On,
            advisory_db: None,
            database: DatabaseConfig::default(),
            redis: RedisConfig::default(),
            log: LogConfig::default(),
            http: HttpConfig::default(),
            auth: AuthConfig::default(),
            detector: DetectorConfig::default(),
            anomaly: AnomalySettings::default(),
            policies: PoliciesConfig::default(),
            mail: MailConfig::default(),
            commerce: CommerceConfig::default(),
            llm: LlmConfig::default(),
            telephony: TelephonyConfig::default(),
            speech: SpeechConfig::default(),
            recordings: RecordingsConfig::default(),
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: None,
            max_connections: 10,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(5),
            idle_timeout: Duration::from_secs(600),
            statement_timeout: Duration::from_secs(30),
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        Self { format: LogFormat::Pretty, level: "info".into(), headers: false }
    }
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            body_limit_bytes: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            concurrency_limit: 1024,
            drain_delay: Duration::ZERO,
            shutdown_timeout: Duration::from_secs(30),
            trusted_proxies: Vec::new(),
            tls_cert: None,
            tls_key: None,
            enforce_https: false,
            cors_origins: Vec::new(),
        }
    }
}

/// A configuration problem, as one line naming the key.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration: {key}{value}: {expected}")]
pub struct ConfigError {
    key: String,
    value: String,
    expected: String,
}

impl Config {
    /// Loads defaults, then `file` if it exists, then the process environment.
    pub fn load(file: &std::path::Path) -> Result<Self, ConfigError> {
        let figment =
            Figment::from(Serialized::defaults(Config::default())).merge(Toml::file(file)).merge(env_provider());
        let config: Config = figment.extract().map_err(|e| ConfigError::from_figment(&figment, e))?;
        config.validate().map_err(|(key, expected)| ConfigError::for_key(&figment, key, expected))?;
        Ok(config)
    }

    /// The database URL in force.
    pub fn database_url(&self) -> String {
        match &self.database.url {
            Some(url) => url.expose_secret().to_owned(),
            None => format!("sqlite://{}", self.data_dir.join("caly.db").display()),
        }
    }

    /// The effective configuration as TOML with secrets redacted.
    pub fn to_redacted_toml(&self) -> String {
        toml::to_string_pretty(self).expect("configuration always serialises")
    }

    fn validate(&self) -> Result<(), (&'static str, String)> {
        let db = &self.database;
        if db.max_connections == 0 {
            return Err(("database.max_connections", "at least 1".into()));
        }
        if db.min_connections > db.max_connections {
            return Err((
                "database.min_connections",
                format!("at most database.max_connections ({})", db.max_connections),
            ));
        }
        if let Err(e) = caly_store::Backend::from_url(&self.database_url()) {
            return Err(("database.url", e.to_string()));
        }
        if self.redis.url.as_ref().is_some_and(|u| !u.expose_secret().starts_with("redis")) {
            return Err(("redis.url", "a redis://… or rediss://… URL".into()));
        }
        if let Err(e) = self.log.level.parse::<tracing_subscriber::filter::Targets>() {
            return Err(("log.level", format!("a tracing filter such as `info` or `caly=debug` ({e})")));
        }
        if let Some(endpoint) = &self.commerce.shopify_endpoint
            && !(endpoint.starts_with("https://") || endpoint.starts_with("http://"))
        {
            return Err(("commerce.shopify_endpoint", "an http:// or https:// base URL".into()));
        }
        if let Some(base) = &self.llm.base_url
            && !(base.starts_with("https://") || base.starts_with("http://"))
        {
            return Err(("llm.base_url", "an http:// or https:// base URL such as https://api.openai.com/v1".into()));
        }
        let speech = &self.speech;
        let urls = [
            ("speech.deepgram_url", Some(&speech.deepgram_url)),
            ("speech.stt_url", speech.stt_url.as_ref()),
            ("speech.tts_url", speech.tts_url.as_ref()),
        ];
        for (key, url) in urls {
            if url.is_some_and(|u| !(u.starts_with("https://") || u.starts_with("http://"))) {
                return Err((key, "an http:// or https:// base URL".into()));
            }
        }
        if !(speech.realtime_url.starts_with("wss://") || speech.realtime_url.starts_with("ws://")) {
            return Err((
                "speech.realtime_url",
                "a wss:// or ws:// URL such as wss://api.openai.com/v1/realtime".into(),
            ));
        }
        if speech.vad_aggressiveness > 3 {
            return Err(("speech.vad_aggressiveness", "0, 1, 2 or 3".into()));
        }
        if speech.max_connections_per_call < 2 {
            return Err(("speech.max_connections_per_call", "at least 2 (a live transcription and a turn)".into()));
        }
        if speech.max_connections_per_tenant == 0 {
            return Err(("speech.max_connections_per_tenant", "at least 1".into()));
        }
        if speech.end_silence < Duration::from_millis(100) || speech.max_wait < speech.end_silence {
            return Err(("speech.end_silence", "at least 100ms, and at most speech.max_wait".into()));
        }
        let telephony = &self.telephony;
        for (key, url) in [
            ("telephony.public_url", telephony.public_url.as_deref()),
            ("telephony.twilio_api_url", Some(telephony.twilio_api_url.as_str())),
            ("telephony.exotel_api_url", Some(telephony.exotel_api_url.as_str())),
            ("telephony.plivo_api_url", Some(telephony.plivo_api_url.as_str())),
            ("recordings.s3_endpoint", self.recordings.s3_endpoint.as_deref()),
        ] {
            if let Some(url) = url
                && !((url.starts_with("https://") || url.starts_with("http://")) && !url.ends_with('/'))
            {
                return Err((key, "an http:// or https:// base URL without a trailing slash".into()));
            }
        }
        if telephony.media_token_ttl.is_zero() || telephony.dtmf_timeout.is_zero() {
            let key =
                if telephony.dtmf_timeout.is_zero() { "telephony.dtmf_timeout" } else { "telephony.media_token_ttl" };
            return Err((key, "a duration above zero".into()));
        }
        let recordings = &self.recordings;
        if recordings.s3_bucket.as_ref().is_some_and(|bucket| bucket.trim().is_empty()) {
            return Err(("recordings.s3_bucket", "a bucket name".into()));
        }
        if recordings.s3_access_key_id.is_some() != recordings.s3_secret_access_key.is_some() {
            let missing = if recordings.s3_access_key_id.is_some() {
                "recordings.s3_secret_access_key"
            } else {
                "recordings.s3_access_key_id"
            };
            return Err((
                missing,
                "set together with the other of recordings.s3_access_key_id / s3_secret_access_key".into(),
            ));
        }
        let s3_set =
            [&recordings.s3_endpoint, &recordings.s3_region, &recordings.s3_access_key_id, &recordings.s3_prefix];
        if recordings.s3_bucket.is_none() && s3_set.iter().any(|key| key.is_some()) {
            return Err(("recordings.s3_bucket", "set when any other recordings.s3_* key is".into()));
        }
        if self.http.body_limit_bytes == 0 {
            return Err(("http.body_limit_bytes", "at least 1".into()));
        }
        if self.http.concurrency_limit == 0 {
            return Err(("http.concurrency_limit", "at least 1".into()));
        }
        let policies = &self.policies;
        let named = [
            ("policies.login", policies.login),
            ("policies.register", policies.register),
            ("policies.public", policies.public),
            ("policies.telephony", policies.telephony),
            ("policies.api", policies.api),
            ("policies.password_reset", policies.password_reset),
            ("policies.verify", policies.verify),
        ];
        if let Some((key, _)) = named.iter().find(|(_, p)| p.limit == 0 || p.burst == 0 || p.window.is_zero()) {
            return Err((key, "limit and burst of at least 1 and a window above zero".into()));
        }
        if self.http.tls_cert.is_some() != self.http.tls_key.is_some() {
            let missing = if self.http.tls_cert.is_some() { "http.tls_key" } else { "http.tls_cert" };
            return Err((missing, "set together with the other of http.tls_cert / http.tls_key".into()));
        }
        if !self.http.cors_origins.iter().all(|origin| is_origin(origin)) {
            return Err((
                "http.cors_origins",
                "explicit origins such as https://dashboard.example.com (scheme and host, no path; never *)".into(),
            ));
        }
        let public_url = self.mail.public_url.as_str();
        if !(public_url.starts_with("http://") || public_url.starts_with("https://")) || public_url.ends_with('/') {
            return Err((
                "mail.public_url",
                "an http(s) URL without a trailing slash, such as https://caly.example.com".into(),
            ));
        }
        if self.mail.from.parse::<lettre::message::Mailbox>().is_err() {
            return Err(("mail.from", "a mailbox such as `Caly <no-reply@example.com>`".into()));
        }
        if let Some(url) = &self.mail.smtp_url
            && lettre::AsyncSmtpTransport::<lettre::Tokio1Executor>::from_url(url.expose_secret()).is_err()
        {
            return Err((
                "mail.smtp_url",
                "smtps://USER:PASSWORD@HOST:465 or smtp://USER:PASSWORD@HOST:587?tls=required".into(),
            ));
        }
        if self.http.request_timeout.is_zero() {
            return Err(("http.request_timeout", "a duration above zero such as `30s`".into()));
        }
        if self.auth.settings_key.as_ref().is_some_and(|k| crate::secrets::key_bytes(k.expose_secret()).is_none()) {
            return Err((
                "auth.settings_key",
                "64 hex characters (32 random bytes), e.g. from `openssl rand -hex 32`".into(),
            ));
        }
        if self.auth.jwt_secret.as_ref().is_some_and(|t| t.expose_secret().len() < 32) {
            return Err(("auth.jwt_secret", "at least 32 characters".into()));
        }
        if self.auth.access_token_ttl.is_zero() || self.auth.refresh_token_ttl <= self.auth.access_token_ttl {
            return Err((
                "auth.refresh_token_ttl",
                "longer than auth.access_token_ttl, which must be above zero".into(),
            ));
        }
        if self.auth.lockout_threshold == 0 || self.auth.lockout_window.is_zero() {
            return Err(("auth.lockout_threshold", "at least 1, with auth.lockout_window above zero".into()));
        }
        if self.auth.hash_concurrency == 0 {
            return Err(("auth.hash_concurrency", "at least 1".into()));
        }
        if self.health_token.as_ref().is_some_and(|t| t.expose_secret().len() < 16) {
            return Err(("health_token", "at least 16 characters".into()));
        }
        Ok(())
    }
}

fn env_provider() -> Env {
    Env::prefixed(ENV_PREFIX).filter(|key| !key.as_str().to_ascii_lowercase().starts_with("test_")).map(|key| {
        let key = key.as_str().to_ascii_lowercase();
        match SECTIONS.iter().find(|s| key.starts_with(&format!("{s}_"))) {
            Some(section) => format!("{section}.{}", &key[section.len() + 1..]).into(),
            None => key.into(),
        }
    })
}

/// `scheme://host[:port]` and nothing else.
fn is_origin(origin: &str) -> bool {
    let Some(rest) = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://")) else {
        return false;
    };
    !rest.is_empty() && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
}

/// The environment variable that sets `key`.
fn env_name(key: &str) -> String {
    format!("{ENV_PREFIX}{}", key.replace('.', "_").to_ascii_uppercase())
}

impl ConfigError {
    fn from_figment(figment: &Figment, error: figment::Error) -> Self {
        let key = error.path.join(".");
        let expected = match &error.kind {
            figment::error::Kind::UnknownField(..) => "no such key (see caly.example.toml)".into(),
            _ if key == "listen" => "an address and port such as 127.0.0.1:8080".into(),
            kind => kind.to_string(),
        };
        Self::for_key(figment, key, expected)
    }

    fn for_key(figment: &Figment, key: impl Into<String>, expected: String) -> Self {
        let key = key.into();
        let from_env = figment.find_metadata(&key).is_some_and(|m| m.name.contains("environment"));
        let value = if is_secret(&key) {
            String::new()
        } else {
            let set = figment.find_value(&key).ok().filter(|v| !matches!(v, figment::value::Value::Empty(..)));
            set.map(|v| format!(" = {}", value_text(&v))).unwrap_or_default()
        };
        let key = if from_env { format!("{} ({key})", env_name(&key)) } else { key };
        Self { key, value, expected: format!("expected {expected}") }
    }
}

fn value_text(value: &figment::value::Value) -> String {
    match value.as_str() {
        Some(s) => format!("{s:?}"),
        None => serde_json::to_string(value).unwrap_or_default(),
    }
}

fn is_secret(key: &str) -> bool {
    caly_guard::redact::is_sensitive(key) || key.ends_with("url")
}

fn redacted<S: Serializer>(secret: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match secret {
        Some(_) => s.serialize_str(caly_guard::redact::REDACTED),
        None => s.serialize_none(),
    }
}

/// URLs are shown with their password masked: `postgres://caly:****@db/caly`.
fn redacted_url<S: Serializer>(url: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
    match url {
        Some(url) => s.serialize_str(&mask_password(url.expose_secret())),
        None => s.serialize_none(),
    }
}

fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else { return url.to_owned() };
    let Some((userinfo, host)) = rest.split_once('@') else { return url.to_owned() };
    match userinfo.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:****@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
// figment's `Jail` fixes the closures' error type to its own large `figment::Error`.
#[allow(clippy::result_large_err)]
mod tests {
    use super::*;
    use figment::Jail;

    fn load_error(jail: &mut Jail) -> String {
        Config::load(&jail.directory().join("caly.toml")).unwrap_err().to_string()
    }

    #[test]
    fn defaults_then_file_then_environment() {
        Jail::expect_with(|jail| {
            jail.create_file("caly.toml", "listen = \"127.0.0.1:9000\"\n[database]\nmax_connections = 3\n")?;
            jail.set_env("CALY_DATABASE_MAX_CONNECTIONS", "7");
            jail.set_env("CALY_LOG_FORMAT", "json");
            jail.set_env("CALY_TEST_DATABASE_URL", "ignored");
            jail.set_env("CALY_HTTP_TRUSTED_PROXIES", r#"["10.0.0.0/8", "2001:db8::/32"]"#);
            let config = Config::load(&jail.directory().join("caly.toml")).unwrap();
            assert_eq!(config.listen.port(), 9000);
            assert_eq!(config.database.max_connections, 7);
            assert_eq!(config.log.format, LogFormat::Json);
            assert_eq!(config.http.body_limit_bytes, 1024 * 1024);
            assert_eq!(config.http.trusted_proxies.len(), 2);
            assert!(config.database_url().starts_with("sqlite://data/caly.db"));
            Ok(())
        });
    }

    #[test]
    fn errors_name_the_variable_the_value_and_what_is_expected() {
        Jail::expect_with(|jail| {
            jail.set_env("CALY_LISTEN", "not-an-address");
            let message = load_error(jail);
            assert!(message.contains("CALY_LISTEN (listen)"), "{message}");
            assert!(message.contains("\"not-an-address\""), "{message}");
            assert!(message.contains("127.0.0.1:8080"), "{message}");
            assert_eq!(message.lines().count(), 1);
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("CALY_DATABASE_MAX_CONNECTIONS", "0");
            let message = load_error(jail);
            assert!(message.contains("CALY_DATABASE_MAX_CONNECTIONS (database.max_connections) = 0"), "{message}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("CALY_LOG_FORMAT", "xml");
            assert!(load_error(jail).contains("CALY_LOG_FORMAT (log.format) = \"xml\""));
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.create_file("caly.toml", "[http]\nrequest_timeout = \"soon\"\n")?;
            let message = load_error(jail);
            assert!(message.starts_with("invalid configuration: http.request_timeout = \"soon\""), "{message}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("CALY_DATABSE_URL", "sqlite://x.db");
            assert!(load_error(jail).contains("CALY_DATABSE_URL (databse_url)"));
            Ok(())
        });
    }

    #[test]
    fn secrets_never_appear_in_messages_or_printed_config() {
        Jail::expect_with(|jail| {
            jail.set_env("CALY_HEALTH_TOKEN", "short");
            let message = load_error(jail);
            assert!(message.contains("CALY_HEALTH_TOKEN") && !message.contains("short"), "{message}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("CALY_HEALTH_TOKEN", "a-very-long-health-token");
            jail.set_env("CALY_DATABASE_URL", "postgres://caly:hunter2hunter2@db:5432/caly");
            let printed = Config::load(&jail.directory().join("caly.toml")).unwrap().to_redacted_toml();
            assert!(!printed.contains("a-very-long-health-token") && !printed.contains("hunter2"), "{printed}");
            assert!(printed.contains("postgres://caly:****@db:5432/caly"), "{printed}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("CALY_RECORDINGS_S3_BUCKET", "calls");
            jail.set_env("CALY_RECORDINGS_S3_ACCESS_KEY_ID", "AKIAEXAMPLE");
            jail.set_env("CALY_RECORDINGS_S3_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG");
            let config = Config::load(&jail.directory().join("caly.toml")).unwrap();
            assert_eq!(config.recordings.s3_bucket.as_deref(), Some("calls"));
            let printed = config.to_redacted_toml();
            assert!(printed.contains("AKIAEXAMPLE") && !printed.contains("wJalrXUtnFEMI"), "{printed}");
            Ok(())
        });
    }

    #[test]
    fn a_recordings_bucket_is_configured_whole() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "caly.toml",
                "[recordings]\ns3_bucket = \"calls\"\ns3_endpoint = \"http://127.0.0.1:9000/\"\n",
            )?;
            let message = load_error(jail);
            assert!(message.contains("recordings.s3_endpoint = \"http://127.0.0.1:9000/\""), "{message}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("CALY_RECORDINGS_S3_BUCKET", "calls");
            jail.set_env("CALY_RECORDINGS_S3_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG");
            let message = load_error(jail);
            assert!(message.starts_with("invalid configuration: recordings.s3_access_key_id"), "{message}");
            assert!(!message.contains("wJalrXUtnFEMI"), "{message}");
            Ok(())
        });
        Jail::expect_with(|jail| {
            jail.set_env("CALY_RECORDINGS_S3_ENDPOINT", "http://127.0.0.1:9000");
            let message = load_error(jail);
            let expected =
                "invalid configuration: recordings.s3_bucket: expected set when any other recordings.s3_* key is";
            assert_eq!(message, expected);
            Ok(())
        });
    }
}
