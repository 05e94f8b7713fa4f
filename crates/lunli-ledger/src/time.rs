//! [`Timestamp`]: an instant in UTC at millisecond precision, written one way only.
//!
//! The text form is RFC 3339 restricted to a single spelling: `YYYY-MM-DDTHH:MM:SS.sssZ`
//! (24 characters, four-digit year, exactly three fractional digits, upper-case `T` and `Z`,
//! no offset other than `Z`, no leap second). Entries and signed heads are hashed and signed
//! over this text, so anything else — `+00:00`, a missing fraction, six fractional digits — is
//! rejected rather than silently rewritten.
//!
//! The crate has no clock: callers pass the time in ([`Timestamp::from_system_time`] for "now").

use std::fmt;
use std::str::FromStr;
use std::time::SystemTime;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::ParseError;

/// 0000-01-01T00:00:00.000Z in milliseconds since the Unix epoch.
const MIN_MILLIS: i64 = -62_167_219_200_000;
/// 9999-12-31T23:59:59.999Z in milliseconds since the Unix epoch.
const MAX_MILLIS: i64 = 253_402_300_799_999;
/// `YYYY-MM-DDTHH:MM:SS.sssZ`.
const TEXT_LEN: usize = 24;

/// An instant in UTC with millisecond precision, between the years 0000 and 9999.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp {
    millis: i64,
}

impl Timestamp {
    /// The instant `millis` milliseconds after 1970-01-01T00:00:00.000Z.
    pub fn from_unix_millis(millis: i64) -> Result<Self, ParseError> {
        if (MIN_MILLIS..=MAX_MILLIS).contains(&millis) {
            Ok(Timestamp { millis })
        } else {
            Err(ParseError::TimestampOutOfRange { millis: i128::from(millis) })
        }
    }

    /// A system time, truncated to the millisecond (towards the past).
    pub fn from_system_time(time: SystemTime) -> Result<Self, ParseError> {
        let millis = match time.duration_since(SystemTime::UNIX_EPOCH) {
            Ok(after) => i128::try_from(after.as_millis()).unwrap_or(i128::MAX),
            Err(before) => {
                // Truncating towards the past: 1.5 ms before the epoch is -2 ms.
                let before = before.duration();
                let whole = i128::try_from(before.as_millis()).unwrap_or(i128::MAX);
                let rest = if before.as_nanos() % 1_000_000 == 0 { 0 } else { 1 };
                -whole - rest
            }
        };
        i64::try_from(millis)
            .ok()
            .and_then(|millis| Timestamp::from_unix_millis(millis).ok())
            .ok_or(ParseError::TimestampOutOfRange { millis })
    }

    /// Milliseconds since 1970-01-01T00:00:00.000Z.
    pub fn unix_millis(self) -> i64 {
        self.millis
    }

    /// Parses exactly `YYYY-MM-DDTHH:MM:SS.sssZ`.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let invalid = || ParseError::InvalidTimestamp { input: text.to_owned() };
        if !has_canonical_shape(text) {
            return Err(invalid());
        }
        // The shape is right; jiff checks the calendar (month 13, 30 February, hour 24 …).
        let civil: jiff::civil::DateTime = text[..TEXT_LEN - 1].parse().map_err(|_| invalid())?;
        let millis = i64::try_from(civil.duration_since(epoch()).as_millis()).map_err(|_| invalid())?;
        let parsed = Timestamp::from_unix_millis(millis).map_err(|_| invalid())?;
        // A leap second (…:60) is accepted by the parser and folded into :59; writing it back
        // shows the difference, and the text would not be the one that was hashed.
        if parsed.to_string() != text {
            return Err(invalid());
        }
        Ok(parsed)
    }
}

/// Digits, dashes and colons where `YYYY-MM-DDTHH:MM:SS.sssZ` has them.
fn has_canonical_shape(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.len() == TEXT_LEN
        && bytes.iter().enumerate().all(|(position, &byte)| match position {
            4 | 7 => byte == b'-',
            10 => byte == b'T',
            13 | 16 => byte == b':',
            19 => byte == b'.',
            23 => byte == b'Z',
            _ => byte.is_ascii_digit(),
        })
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The constructor keeps `millis` within years 0000–9999, which jiff's civil time covers;
        // the fallback is unreachable.
        match epoch().checked_add(jiff::SignedDuration::from_millis(self.millis)) {
            Ok(civil) => write!(f, "{}", civil.strftime("%Y-%m-%dT%H:%M:%S%.3fZ")),
            Err(_) => write!(f, "<{} ms since 1970>", self.millis),
        }
    }
}

/// 1970-01-01T00:00:00 as a civil (zone-less) date and time: UTC wall-clock arithmetic with
/// no time zone involved, over the whole of years 0000–9999.
fn epoch() -> jiff::civil::DateTime {
    jiff::civil::DateTime::constant(1970, 1, 1, 0, 0, 0, 0)
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Timestamp({self})")
    }
}

impl FromStr for Timestamp {
    type Err = ParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        Timestamp::parse(text)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn formats_with_exactly_three_fractional_digits() {
        assert_eq!(Timestamp::from_unix_millis(0).unwrap().to_string(), "1970-01-01T00:00:00.000Z");
        assert_eq!(Timestamp::from_unix_millis(1_777_627_800_123).unwrap().to_string(), "2026-05-01T09:30:00.123Z");
        assert_eq!(Timestamp::from_unix_millis(MIN_MILLIS).unwrap().to_string(), "0000-01-01T00:00:00.000Z");
        assert_eq!(Timestamp::from_unix_millis(MAX_MILLIS).unwrap().to_string(), "9999-12-31T23:59:59.999Z");
        assert_eq!(Timestamp::from_unix_millis(-1).unwrap().to_string(), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn parses_only_the_canonical_spelling() {
        let ts = Timestamp::parse("2026-05-01T09:30:00.123Z").unwrap();
        assert_eq!(ts.unix_millis(), 1_777_627_800_123);
        for bad in [
            "2026-05-01T09:30:00Z",
            "2026-05-01T09:30:00.1234Z",
            "2026-05-01T09:30:00.123+00:00",
            "2026-05-01t09:30:00.123z",
            "2026-05-01 09:30:00.123Z",
            "2026-13-01T09:30:00.123Z",
            "2026-02-30T09:30:00.123Z",
            "2026-05-01T24:00:00.000Z",
            "2016-12-31T23:59:60.000Z",
            "+2026-05-01T09:30:00.123Z",
            "",
            "2026-05-01T09:30:00.12éZ",
        ] {
            assert!(Timestamp::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn range_is_years_0000_to_9999() {
        assert!(Timestamp::from_unix_millis(MIN_MILLIS - 1).is_err());
        assert!(Timestamp::from_unix_millis(MAX_MILLIS + 1).is_err());
        assert!(Timestamp::from_unix_millis(i64::MIN).is_err());
    }

    #[test]
    fn system_time_truncates_towards_the_past() {
        let after = SystemTime::UNIX_EPOCH + Duration::from_micros(1_500);
        assert_eq!(Timestamp::from_system_time(after).unwrap().unix_millis(), 1);
        let before = SystemTime::UNIX_EPOCH - Duration::from_micros(1_500);
        assert_eq!(Timestamp::from_system_time(before).unwrap().unix_millis(), -2);
        let exact = SystemTime::UNIX_EPOCH - Duration::from_millis(3);
        assert_eq!(Timestamp::from_system_time(exact).unwrap().unix_millis(), -3);
    }

    #[test]
    fn serde_round_trips_through_the_text_form() {
        let ts = Timestamp::from_unix_millis(1_777_627_800_123).unwrap();
        let json = serde_json::to_string(&ts).unwrap();
        assert_eq!(json, "\"2026-05-01T09:30:00.123Z\"");
        assert_eq!(serde_json::from_str::<Timestamp>(&json).unwrap(), ts);
        assert!(serde_json::from_str::<Timestamp>("\"2026-05-01T09:30:00Z\"").is_err());
    }
}
