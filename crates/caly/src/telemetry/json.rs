//! A JSON line formatter for `tracing`, written out because tracing-subscriber's own re-parses
//! every span's fields on every event; here span fields are stored as a ready JSON fragment
//! and copied, so a request's log line costs one pass over its fields. Numbers, the timestamp
//! and escaping are written without `core::fmt`: at one line per request the timestamp alone
//! was a third of the formatting (`perf`).
//!
//! Line shape: `{"timestamp", "level", "target", "span": {…fields of the event's span…},
//! "message", …event fields}`.

use std::{
    fmt::{self, Write},
    time::{Duration, SystemTime},
};

use tracing::{
    Event, Subscriber,
    field::{Field, Visit},
};
use tracing_subscriber::{
    field::RecordFields,
    fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, format::Writer},
    registry::LookupSpan,
};

/// Event formatter; pair it with [`JsonFields`].
pub struct JsonLines;

/// Span field formatter: stores `"key":value` pairs separated by commas.
pub struct JsonFields;

impl<S, N> FormatEvent<S, N> for JsonLines
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let meta = event.metadata();
        writer.write_str("{\"timestamp\":\"")?;
        write_timestamp(&mut writer, SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).unwrap_or_default())?;
        writer.write_str("\",\"level\":\"")?;
        writer.write_str(meta.level().as_str())?;
        writer.write_str("\",\"target\":")?;
        write_json_str(&mut writer, meta.target())?;
        if let Some(span) = ctx.parent_span() {
            writer.write_str(",\"span\":{")?;
            if let Some(fields) = span.extensions().get::<FormattedFields<N>>() {
                writer.write_str(fields)?;
            }
            writer.write_char('}')?;
        }
        let mut visitor = JsonVisitor { writer: &mut writer, first: false, result: Ok(()) };
        event.record(&mut visitor);
        visitor.result?;
        writer.write_str("}\n")
    }
}

impl<'writer> FormatFields<'writer> for JsonFields {
    fn format_fields<R: RecordFields>(&self, mut writer: Writer<'writer>, fields: R) -> fmt::Result {
        let mut visitor = JsonVisitor { writer: &mut writer, first: true, result: Ok(()) };
        fields.record(&mut visitor);
        visitor.result
    }

    fn add_fields(
        &self,
        current: &'writer mut FormattedFields<Self>,
        fields: &tracing::span::Record<'_>,
    ) -> fmt::Result {
        let first = current.fields.is_empty();
        let mut visitor = JsonVisitor { writer: &mut current.as_writer(), first, result: Ok(()) };
        fields.record(&mut visitor);
        visitor.result
    }
}

struct JsonVisitor<'a, W> {
    writer: &'a mut W,
    /// No comma before the first pair.
    first: bool,
    result: fmt::Result,
}

impl<W: Write> JsonVisitor<'_, W> {
    fn pair(&mut self, field: &Field, value: impl FnOnce(&mut W) -> fmt::Result) {
        if self.result.is_err() {
            return;
        }
        self.result = (|| {
            if !std::mem::take(&mut self.first) {
                self.writer.write_char(',')?;
            }
            write_json_str(self.writer, field.name())?;
            self.writer.write_char(':')?;
            value(self.writer)
        })();
    }
}

impl<W: Write> Visit for JsonVisitor<'_, W> {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.pair(field, |w| write_json_str(w, value));
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.pair(field, |w| w.write_str(itoa::Buffer::new().format(value)));
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.pair(field, |w| w.write_str(itoa::Buffer::new().format(value)));
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.pair(field, |w| w.write_str(if value { "true" } else { "false" }));
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if value.is_finite() {
            self.pair(field, |w| write!(w, "{value}"));
        } else {
            self.pair(field, |w| write!(w, "\"{value}\""));
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.pair(field, |w| {
            w.write_char('"')?;
            write!(Escaped(w), "{value:?}")?;
            w.write_char('"')
        });
    }
}

fn write_json_str(w: &mut impl Write, value: &str) -> fmt::Result {
    w.write_char('"')?;
    Escaped(&mut *w).write_str(value)?;
    w.write_char('"')
}

/// Escapes what passes through it for the inside of a JSON string.
struct Escaped<'a, W>(&'a mut W);

impl<W: Write> Write for Escaped<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        // Every character JSON escapes is ASCII, so scanning bytes finds them in UTF-8 text.
        let bytes = s.as_bytes();
        let mut start = 0;
        for (at, &byte) in bytes.iter().enumerate() {
            let escape = match byte {
                b'"' => "\\\"",
                b'\\' => "\\\\",
                b'\n' => "\\n",
                b'\r' => "\\r",
                b'\t' => "\\t",
                0..0x20 => "",
                _ => continue,
            };
            self.0.write_str(&s[start..at])?;
            if escape.is_empty() {
                write!(self.0, "\\u{byte:04x}")?;
            } else {
                self.0.write_str(escape)?;
            }
            start = at + 1;
        }
        self.0.write_str(&s[start..])
    }
}

/// RFC 3339 in UTC with microseconds (`2026-11-29T04:47:04.123456Z`), the shape
/// tracing-subscriber's `SystemTime` writes, for times from 1970 to 9999.
fn write_timestamp(w: &mut impl Write, since_epoch: Duration) -> fmt::Result {
    let secs = since_epoch.as_secs();
    let (year, month, day) = civil_date(secs / 86_400);
    let of_day = secs % 86_400;
    let mut text = *b"0000-00-00T00:00:00.000000Z";
    let mut put = |at: usize, width: usize, mut value: u64| {
        for slot in text[at..at + width].iter_mut().rev() {
            *slot = b'0' + (value % 10) as u8;
            value /= 10;
        }
    };
    put(0, 4, year);
    put(5, 2, month);
    put(8, 2, day);
    put(11, 2, of_day / 3600);
    put(14, 2, of_day / 60 % 60);
    put(17, 2, of_day % 60);
    put(20, 6, u64::from(since_epoch.subsec_micros()));
    w.write_str(std::str::from_utf8(&text).expect("ASCII digits"))
}

/// (year, month, day) of a day counted from 1970-01-01, by Howard Hinnant's `civil_from_days`.
fn civil_date(days: u64) -> (u64, u64, u64) {
    let shifted = days + 719_468;
    let era = shifted / 146_097;
    let day_of_era = shifted % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_valid_json_with_span_and_event_fields() {
        let file = tempfile::NamedTempFile::new().unwrap();
        let subscriber = tracing_subscriber::fmt()
            .event_format(JsonLines)
            .fmt_fields(JsonFields)
            .with_writer(file.reopen().unwrap())
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("request", id = "a\"b", n = 3u64, later = tracing::field::Empty);
            span.record("later", true);
            let _entered = span.enter();
            tracing::info!(quote = "x\n\u{1}y", negative = -2i64, ratio = 0.5, debug = ?vec!["é"], "done \\ ok");
        });
        let text = std::fs::read_to_string(file.path()).unwrap();
        let line: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["span"], serde_json::json!({"id": "a\"b", "n": 3, "later": true}));
        assert_eq!(line["message"], "done \\ ok");
        assert_eq!(line["quote"], "x\n\u{1}y");
        assert_eq!((line["negative"].as_i64(), line["ratio"].as_f64()), (Some(-2), Some(0.5)));
        assert_eq!(line["debug"], "[\"é\"]");
        assert!(line["timestamp"].as_str().unwrap().ends_with('Z'));
    }

    proptest::proptest! {
        /// The hand-written timestamp is the one jiff writes, for any moment up to year 9999.
        #[test]
        fn timestamps_match_jiff(secs in 0u64..253_402_300_800, micros in 0u32..1_000_000) {
            let mut ours = String::new();
            write_timestamp(&mut ours, Duration::new(secs, micros * 1000)).unwrap();
            let expected = jiff::Timestamp::new(secs as i64, (micros * 1000) as i32).unwrap();
            proptest::prop_assert_eq!(ours, expected.strftime("%Y-%m-%dT%H:%M:%S.%6fZ").to_string());
        }

        /// Escaped text is a JSON string that reads back as the text.
        #[test]
        fn escaping_round_trips(text in "\\PC*|[\\x00-\\x7f]*") {
            let mut json = String::new();
            write_json_str(&mut json, &text).unwrap();
            proptest::prop_assert_eq!(serde_json::from_str::<String>(&json).unwrap(), text);
        }
    }
}
