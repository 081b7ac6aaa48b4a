//! XML answers (TwiML, Plivo XML) with every value escaped.

use quick_xml::escape::escape;

/// `<Response>…</Response>` with the XML declaration carriers expect.
pub(crate) fn response(body: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response>{body}</Response>")
}

/// An attribute or text value, escaped.
pub(crate) fn text(value: &str) -> std::borrow::Cow<'_, str> {
    escape(value)
}
