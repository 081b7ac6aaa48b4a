//! `X-Request-Id`: accepted from the caller when well formed, otherwise a fresh UUIDv7; stored
//! in the request's extensions and echoed on every response.

use axum::{
    extract::Request,
    http::{HeaderName, HeaderValue},
    response::Response,
};

pub static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served. Held as the header value itself, so that passing it
/// around and echoing it costs no allocation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(HeaderValue);

impl RequestId {
    /// The caller's id if it is 1–128 characters of `[A-Za-z0-9._-]`.
    pub fn parse(value: &HeaderValue) -> Option<Self> {
        let bytes = value.as_bytes();
        let valid = (1..=128).contains(&bytes.len())
            && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        valid.then(|| Self(value.clone()))
    }

    pub fn generate() -> Self {
        let mut buffer = uuid::Uuid::encode_buffer();
        let text = uuid::Uuid::now_v7().hyphenated().encode_lower(&mut buffer);
        Self(HeaderValue::from_str(text).expect("a UUID is visible ASCII"))
    }

    pub fn as_str(&self) -> &str {
        self.0.to_str().expect("checked to be ASCII when made")
    }
}

/// The request's id: the caller's when well formed, else a new one; written back into the
/// request's headers and extensions for everything downstream.
pub fn assign(request: &mut Request) -> RequestId {
    let id = request.headers().get(&X_REQUEST_ID).and_then(RequestId::parse).unwrap_or_else(RequestId::generate);
    request.headers_mut().insert(X_REQUEST_ID.clone(), id.0.clone());
    request.extensions_mut().insert(id.clone());
    id
}

/// Sets `X-Request-Id` on the response.
pub fn echo(response: &mut Response, id: RequestId) {
    response.headers_mut().insert(X_REQUEST_ID.clone(), id.0);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_only_short_safe_ids() {
        let parse = |bytes: &[u8]| RequestId::parse(&HeaderValue::from_bytes(bytes).unwrap());
        assert!(parse(b"abc-DEF_1.2").is_some());
        assert!(parse(&[b'a'; 128]).is_some());
        assert!(parse(&[b'a'; 129]).is_none());
        assert!(parse(b"").is_none());
        for bad in [&b"a b"[..], b"a/b", b"a\tb", b"\xc3\xa9", b"a;b", b"<script>"] {
            assert!(parse(bad).is_none(), "{bad:?}");
        }
    }

    proptest::proptest! {
        /// Only well-formed ids are accepted, and they are kept byte for byte.
        #[test]
        fn parse_accepts_exactly_the_safe_alphabet(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..140)) {
            let Ok(value) = HeaderValue::from_bytes(&bytes) else { return Ok(()) };
            let safe = (1..=128).contains(&bytes.len())
                && bytes.iter().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
            match RequestId::parse(&value) {
                Some(id) => proptest::prop_assert!(safe && id.as_str().as_bytes() == bytes.as_slice()),
                None => proptest::prop_assert!(!safe),
            }
        }
    }

    #[test]
    fn generated_ids_are_uuid_v7() {
        let id = RequestId::generate();
        let uuid = uuid::Uuid::parse_str(id.as_str()).unwrap();
        assert_eq!(uuid.get_version_num(), 7);
    }
}
