//! Reusable HTTP guard layers for axum services.
//!
//! Nothing here knows about Caly's domain: layers take configuration and callbacks, and errors
//! leave as [`Problem`]s that [`problem::render_problems`] turns into RFC 9457 bodies in one place.

pub mod anomaly;
pub mod around;
pub mod client_ip;
pub mod detector;
pub mod edge;
pub mod problem;
pub mod rate_limit;
pub mod redact;
pub mod request_id;
pub mod request_log;
pub mod security_headers;
pub mod transport;

pub use client_ip::ClientIp;
pub use problem::{FieldError, Problem};
pub use request_id::RequestId;
