//! Reading durations and instants, writing instants.

use super::Instant;
use chrono::{DateTime, Offset, TimeZone, Utc};
use chrono_tz::Tz;
use std::fmt;

/// A duration string that could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DurationError {
    /// The string is empty.
    Empty,
    /// A character that is neither a digit nor a unit (`d`, `h`, `m`, `s`), a unit
    /// without a number before it, or digits without a unit after them.
    Malformed(String),
    /// Units must appear at most once and from the largest to the smallest (`1h30m`).
    UnitOrder(String),
    /// The total is zero.
    Zero,
    /// The total does not fit in 64-bit seconds.
    Overflow,
}

impl fmt::Display for DurationError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DurationError::Empty => f.write_str("empty duration"),
            DurationError::Malformed(s) => write!(
                f,
                "invalid duration {s:?}: expected numbers with units d, h, m or s, like \"45m\" or \"1h30m\""
            ),
            DurationError::UnitOrder(s) => write!(
                f,
                "invalid duration {s:?}: each unit at most once, largest first (\"1h30m\")"
            ),
            DurationError::Zero => f.write_str("duration must be longer than zero"),
            DurationError::Overflow => f.write_str("duration is too long"),
        }
    }
}

impl std::error::Error for DurationError {}

/// Reads a duration such as `"45m"`, `"2h"`, `"1h30m"`, `"2d"` or `"90s"` into seconds.
///
/// A duration is one or more `<digits><unit>` groups, units `d` (86 400 s), `h`, `m`
/// and `s`, each at most once and largest first; no spaces, signs or fractions. Zero
/// and totals beyond `i64` seconds are rejected.
pub fn parse_duration(text: &str) -> Result<i64, DurationError> {
    read_duration(text, true)
}

/// Reads the policy language's duration token (`6h`, `90m`, `1d12h`; the grammar
/// allows `d`, `h` and `m`) into seconds. Unlike [`parse_duration`], units may repeat
/// or come in any order and the total may be zero: the grammar accepts those, and
/// the checker reports them with their place in the policy.
pub(crate) fn parse_duration_token(text: &str) -> Result<i64, DurationError> {
    read_duration(text, false)
}

/// The one duration reader; `strict` holds units to at most once, largest first,
/// and rejects a zero total.
fn read_duration(text: &str, strict: bool) -> Result<i64, DurationError> {
    if text.is_empty() {
        return Err(DurationError::Empty);
    }
    let malformed = || DurationError::Malformed(text.to_owned());
    let mut total: i64 = 0;
    let mut number: Option<i64> = None;
    // Rank of the last unit seen: d = 4 .. s = 1; units must strictly decrease.
    let mut last_rank = 5;
    for c in text.chars() {
        if let Some(digit) = c.to_digit(10) {
            let n = number.unwrap_or(0);
            number = Some(
                n.checked_mul(10)
                    .and_then(|n| n.checked_add(i64::from(digit)))
                    .ok_or(DurationError::Overflow)?,
            );
            continue;
        }
        let (rank, unit) = match c {
            'd' => (4, 86_400),
            'h' => (3, 3_600),
            'm' => (2, 60),
            's' => (1, 1),
            _ => return Err(malformed()),
        };
        let n = number.take().ok_or_else(malformed)?;
        if strict && rank >= last_rank {
            return Err(DurationError::UnitOrder(text.to_owned()));
        }
        last_rank = rank;
        total = n
            .checked_mul(unit)
            .and_then(|secs| total.checked_add(secs))
            .ok_or(DurationError::Overflow)?;
    }
    if number.is_some() {
        return Err(malformed());
    }
    if strict && total == 0 {
        return Err(DurationError::Zero);
    }
    Ok(total)
}

/// Writes `secs` exactly, in the grammar [`parse_duration`] reads: the units from the
/// largest to the smallest that is not zero, each once, and every unit between them
/// even when zero. `14401` is `4h0m1s` (never "4h"), 16 days are `16d`, `5400` is
/// `1h30m`, `90061` is `1d1h1m1s`; zero (and anything below) is `0s`.
///
/// ```
/// use changegate::time::{format_duration, parse_duration};
/// assert_eq!(format_duration(4 * 3600 + 1), "4h0m1s");
/// assert_eq!(format_duration(16 * 86_400), "16d");
/// assert_eq!(parse_duration(&format_duration(93_784)), Ok(93_784));
/// ```
pub fn format_duration(secs: i64) -> String {
    let secs = secs.max(0);
    if secs == 0 {
        return "0s".to_owned();
    }
    let parts = [
        (secs / 86_400, 'd'),
        (secs % 86_400 / 3_600, 'h'),
        (secs % 3_600 / 60, 'm'),
        (secs % 60, 's'),
    ];
    let first = parts.iter().position(|(n, _)| *n != 0).unwrap_or(0);
    let last = parts.iter().rposition(|(n, _)| *n != 0).unwrap_or(0);
    let mut out = String::new();
    for (n, unit) in parts.iter().take(last + 1).skip(first) {
        out.push_str(&n.to_string());
        out.push(*unit);
    }
    out
}

/// An `--at` value that is not an RFC 3339 instant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtError {
    /// The text given.
    pub text: String,
    /// What chrono's parser said.
    pub reason: String,
}

impl fmt::Display for AtError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid instant {:?}: {} (expected RFC 3339, like 2026-11-26T10:00:00Z)",
            self.text, self.reason
        )
    }
}

impl std::error::Error for AtError {}

/// Reads an RFC 3339 instant (`2026-11-26T10:00:00Z`, any offset such as `+05:45` or
/// `-00:00`) into seconds since the epoch.
///
/// Fractional seconds are truncated toward the past (`…:00.9Z` and, before 1970,
/// `…:00.5Z` both give the whole second they lie in). A leap second `23:59:60` is
/// accepted and read as `23:59:59` of that minute: it never rolls into the next day.
/// The years RFC 3339 can write (0000..9999) never panic.
pub fn parse_at(text: &str) -> Result<Instant, AtError> {
    DateTime::parse_from_rfc3339(text)
        .map(|dt| dt.timestamp())
        .map_err(|e| AtError {
            text: text.to_owned(),
            reason: e.to_string(),
        })
}

/// `t` as RFC 3339 in zone `tz`, like `2026-11-26T22:00:00-05:00`.
///
/// When the zone's offset at `t` has a seconds part (local mean time, before about
/// 1900), which RFC 3339 cannot write, `t` is written in UTC instead. `None` when `t`
/// is outside the years chrono can represent.
pub(crate) fn format_rfc3339(t: Instant, tz: Tz) -> Option<String> {
    let local = tz.timestamp_opt(t, 0).single()?;
    let offset = local.offset().fix().local_minus_utc();
    if offset % 60 != 0 {
        return format_rfc3339_utc(t);
    }
    let mut out = String::with_capacity(25);
    if !naive_local(&local).is_some_and(|n| write_date_time(&mut out, &n, 'T', true)) {
        return Some(local.format("%Y-%m-%dT%H:%M:%S%:z").to_string());
    }
    let sign = if offset < 0 { '-' } else { '+' };
    let m = offset.unsigned_abs() / 60;
    out.push(sign);
    push_2(&mut out, m / 60);
    out.push(':');
    push_2(&mut out, m % 60);
    Some(out)
}

/// `t` as RFC 3339 in UTC, like `2026-11-27T03:00:00Z`; `None` when out of range.
pub fn format_rfc3339_utc(t: Instant) -> Option<String> {
    let utc = Utc.timestamp_opt(t, 0).single()?;
    let mut out = String::with_capacity(20);
    if !write_date_time(&mut out, &utc.naive_utc(), 'T', true) {
        return Some(utc.format("%Y-%m-%dT%H:%M:%SZ").to_string());
    }
    out.push('Z');
    Some(out)
}

/// `t` for people, like `Thu 2026-11-26 22:00 EST`; `None` when out of range.
pub fn format_human(t: Instant, tz: Tz) -> Option<String> {
    use chrono::Datelike;
    use std::fmt::Write;
    let local = tz.timestamp_opt(t, 0).single()?;
    let mut out = String::with_capacity(24);
    let written = naive_local(&local).is_some_and(|n| {
        let _ = write!(out, "{} ", n.weekday());
        write_date_time(&mut out, &n, ' ', false)
    });
    if !written {
        return Some(local.format("%a %Y-%m-%d %H:%M %Z").to_string());
    }
    let _ = write!(out, " {}", local.offset());
    Some(out)
}

/// The local date and time of `dt`; `None` where it would leave chrono's range
/// (`DateTime::naive_local` panics there).
fn naive_local(dt: &DateTime<Tz>) -> Option<chrono::NaiveDateTime> {
    let offset = chrono::TimeDelta::try_seconds(i64::from(dt.offset().fix().local_minus_utc()))?;
    dt.naive_utc().checked_add_signed(offset)
}

/// Writes `YYYY-MM-DD`, `sep`, `HH:MM` and, with `seconds`, `:SS`; `false` (writing
/// nothing) for years outside 0..=9999, which chrono writes with a sign.
fn write_date_time(out: &mut String, dt: &chrono::NaiveDateTime, sep: char, seconds: bool) -> bool {
    use chrono::{Datelike, Timelike};
    let Ok(year) = u32::try_from(dt.year()) else {
        return false;
    };
    if year > 9999 {
        return false;
    }
    push_2(out, year / 100);
    push_2(out, year % 100);
    out.push('-');
    push_2(out, dt.month());
    out.push('-');
    push_2(out, dt.day());
    out.push(sep);
    push_2(out, dt.hour());
    out.push(':');
    push_2(out, dt.minute());
    if seconds {
        out.push(':');
        push_2(out, dt.second());
    }
    true
}

/// Two decimal digits of `n` (below 100).
fn push_2(out: &mut String, n: u32) {
    out.push(char::from(b'0' + (n / 10 % 10) as u8));
    out.push(char::from(b'0' + (n % 10) as u8));
}
