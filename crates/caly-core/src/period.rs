//! Time ranges as people type them: dates and times in the tenant's time zone, and the hours
//! or days a range is cut into for charts. Times are µs since the Unix epoch, UTC.

use jiff::{
    Timestamp, ToSpan, ZonedDateTime,
    civil::{Date, DateTime},
    tz::TimeZone,
};

use crate::{Invalid, choice};

/// One day in µs.
const DAY: i64 = 86_400_000_000;

/// A half-open range `[from, to)`; either end may be open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Period {
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// Which end of a range a typed time is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    From,
    To,
}

impl Period {
    /// Reads `from` and `to`, each an RFC 3339 time with offset, a local date (`2026-11-27`:
    /// the whole day, so `to` takes in all of it) or a local date and time (`2026-11-27T18:30`),
    /// local meaning in `tz`. Refuses `from` after `to` and ranges longer than `max_days`.
    /// Errors name the field.
    pub fn parse(
        from: Option<&str>,
        to: Option<&str>,
        tz: &TimeZone,
        max_days: i64,
    ) -> Result<Self, Vec<(&'static str, Invalid)>> {
        let from = from.map(|text| bound(text, tz, End::From).map_err(|e| ("from", e))).transpose();
        let to = to.map(|text| bound(text, tz, End::To).map_err(|e| ("to", e))).transpose();
        let (from, to) = match (from, to) {
            (Ok(from), Ok(to)) => (from, to),
            (from, to) => return Err([from.err(), to.err()].into_iter().flatten().collect()),
        };
        if let (Some(from), Some(to)) = (from, to) {
            if from >= to {
                return Err(vec![("from", Invalid::new("after_to", "must be before `to`"))]);
            }
            if to - from > max_days * DAY {
                let message = format!("the range must span at most {max_days} days");
                return Err(vec![("to", Invalid::new("range_too_long", message))]);
            }
        }
        Ok(Self { from, to })
    }

    /// This period with open ends closed — `to` defaults to `now`, `from` to `default_days`
    /// before `to` — refused (naming `from`) if it then spans more than `max_days`.
    pub fn closed(self, now: i64, default_days: i64, max_days: i64) -> Result<(i64, i64), (&'static str, Invalid)> {
        let to = self.to.unwrap_or(now);
        let from = self.from.unwrap_or(to - default_days * DAY);
        if to - from > max_days * DAY {
            let message = format!("the range must span at most {max_days} days");
            return Err(("from", Invalid::new("range_too_long", message)));
        }
        Ok((from, to))
    }
}

fn bound(text: &str, tz: &TimeZone, end: End) -> Result<i64, Invalid> {
    let invalid = || {
        Invalid::new("invalid_time", "must be a date (2026-11-27), a local time (2026-11-27T18:30) or an RFC 3339 time")
    };
    if let Ok(instant) = text.parse::<Timestamp>() {
        // An exact instant is inclusive at both ends.
        let micros = instant.as_microsecond();
        return Ok(if end == End::To { micros + 1 } else { micros });
    }
    let local = |civil: DateTime| civil.to_zoned_datetime(tz.clone()).map(|z| z.timestamp().as_microsecond());
    // jiff reads a date out of a longer date-time too; only a bare date means a whole day.
    if let Some(date) = text.parse::<Date>().ok().filter(|_| text.len() == 10) {
        let day = if end == End::To { date.checked_add(1.day()).map_err(|_| invalid())? } else { date };
        return local(day.to_datetime(jiff::civil::Time::midnight())).map_err(|_| invalid());
    }
    let civil = text.parse::<DateTime>().map_err(|_| invalid())?;
    local(civil).map(|micros| if end == End::To { micros + 1 } else { micros }).map_err(|_| invalid())
}

choice! {
    /// The width of a chart's buckets.
    pub enum Interval, invalid = "invalid_interval" {
        Hour = "hour",
        Day = "day",
    }
}

impl Interval {
    /// The start of the local hour or day that `at` falls in.
    pub fn bucket_of(self, at: i64, tz: &TimeZone) -> i64 {
        let zoned = Timestamp::from_microsecond(at).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned_datetime(tz.clone());
        let start = match self {
            Self::Hour => zoned.start_of_day().ok().and_then(|day| {
                // Whole hours since local midnight, so that half-hour offsets (India) cut at :00.
                let hours = (zoned.timestamp().as_microsecond() - day.timestamp().as_microsecond()) / 3_600_000_000;
                day.checked_add(hours.hours()).ok()
            }),
            Self::Day => zoned.start_of_day().ok(),
        };
        start.map_or(at, |z: ZonedDateTime| z.timestamp().as_microsecond())
    }

    /// Every bucket start from the one holding `from` up to `to` (exclusive).
    pub fn buckets(self, from: i64, to: i64, tz: &TimeZone) -> Vec<i64> {
        let mut starts = Vec::new();
        let mut at = self.bucket_of(from, tz);
        while at < to {
            starts.push(at);
            let zoned = Timestamp::from_microsecond(at).unwrap_or(Timestamp::UNIX_EPOCH).to_zoned_datetime(tz.clone());
            let next = match self {
                Self::Hour => zoned.checked_add(1.hour()),
                Self::Day => zoned.checked_add(1.day()),
            };
            match next {
                Ok(next) => at = self.bucket_of(next.timestamp().as_microsecond(), tz),
                Err(_) => break,
            }
        }
        starts
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kolkata() -> TimeZone {
        TimeZone::get("Asia/Kolkata").unwrap()
    }

    fn micros(rfc3339: &str) -> i64 {
        rfc3339.parse::<Timestamp>().unwrap().as_microsecond()
    }

    #[test]
    fn dates_are_whole_local_days() {
        let period = Period::parse(Some("2026-11-27"), Some("2026-11-27"), &kolkata(), 366).unwrap();
        assert_eq!(period.from, Some(micros("2026-11-26T18:30:00Z")));
        assert_eq!(period.to, Some(micros("2026-11-27T18:30:00Z")));
    }

    #[test]
    fn local_times_and_instants() {
        let period = Period::parse(Some("2026-11-27T09:00"), Some("2026-11-27T10:00:00Z"), &kolkata(), 1).unwrap();
        assert_eq!(period.from, Some(micros("2026-11-27T03:30:00Z")));
        assert_eq!(period.to, Some(micros("2026-11-27T10:00:00Z") + 1), "an instant `to` is inclusive");
    }

    #[test]
    fn open_ends_close_with_defaults_within_the_limit() {
        let now = micros("2026-11-27T00:00:00Z");
        let last_month = Period::default().closed(now, 30, 366).unwrap();
        assert_eq!(last_month, (now - 30 * DAY, now));
        let from = Period { from: Some(micros("2024-01-01T00:00:00Z")), to: None };
        assert_eq!(from.closed(now, 30, 366).unwrap_err().0, "from");
    }

    #[test]
    fn bad_ranges_name_their_field() {
        let errors = Period::parse(Some("yesterday"), Some("soon"), &kolkata(), 366).unwrap_err();
        let fields: Vec<_> = errors.iter().map(|(field, e)| (*field, e.code)).collect();
        assert_eq!(fields, [("from", "invalid_time"), ("to", "invalid_time")]);
        let reversed = Period::parse(Some("2026-11-28"), Some("2026-11-27"), &kolkata(), 366).unwrap_err();
        assert_eq!(reversed[0].1.code, "after_to");
        let long = Period::parse(Some("2025-01-01"), Some("2026-11-27"), &kolkata(), 366).unwrap_err();
        assert_eq!((long[0].0, long[0].1.code), ("to", "range_too_long"));
    }

    #[test]
    fn hours_and_days_are_cut_at_local_boundaries() {
        let tz = kolkata();
        let at = micros("2026-11-27T04:10:00Z"); // 09:40 in Kolkata
        assert_eq!(Interval::Hour.bucket_of(at, &tz), micros("2026-11-27T03:30:00Z"));
        assert_eq!(Interval::Day.bucket_of(at, &tz), micros("2026-11-26T18:30:00Z"));
        let days = Interval::Day.buckets(micros("2026-11-26T18:30:00Z"), micros("2026-11-29T18:30:00Z"), &tz);
        assert_eq!(days.len(), 3);
    }

    #[test]
    fn days_follow_daylight_saving_changes() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        let hours = Interval::Hour.buckets(micros("2026-03-28T23:00:00Z"), micros("2026-03-29T22:00:00Z"), &tz);
        assert_eq!(hours.len(), 23, "the day clocks go forward has 23 hours");
        let days = Interval::Day.buckets(micros("2026-03-28T23:00:00Z"), micros("2026-03-30T22:00:00Z"), &tz);
        assert_eq!(days, [micros("2026-03-28T23:00:00Z"), micros("2026-03-29T22:00:00Z")]);
    }
}
