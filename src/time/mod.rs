//! Time: change windows, freezes and the search for the next opening.
//!
//! Public here is only the text of time: `--at` instants ([`parse_at`],
//! [`format_rfc3339_utc`], [`format_human`]) and durations ([`parse_duration`],
//! [`format_duration`]), as [`Instant`]s and seconds. The rest is the evaluator's.
//!
//! Everything here works on [`Instant`]s, whole seconds since the Unix epoch in UTC,
//! and all arithmetic is in seconds. The policy compiler builds `ZonedWindow`s (a
//! `Shape` in a concrete [`chrono_tz::Tz`]); this module turns them into
//! `IntervalStream`s and answers the questions a verdict needs (`assess`,
//! `earliest`, `why_no_opening`, `calendar`).
//!
//! # The rules
//!
//! Let `L(t)` be the local wall-clock (naive) datetime of instant `t` in the window's
//! zone.
//!
//! * **Wall-clock weekly** (`mon 22:00-04:00`): for each local date `D` whose weekday is
//!   in the window's days, `S = D + start` and `E = D + end` when `end > start`, else
//!   `E = (D + 1 day) + end` (so `22:00-22:00` is a 24 hour window). The window is the
//!   set of instants with `S <= L(t) < E`, literally: shorter across a spring-forward
//!   gap, longer across a fall-back overlap, and an instant in a repeated hour is inside
//!   iff its local time is in `[S, E)`.
//! * **Elapsed weekly** (`sat 23:00 for 6h`): an occurrence starts at the first instant
//!   whose local time reaches `D + start` (in a gap: when the clock jumps; in a repeated
//!   hour: the first occurrence) and lasts exactly the elapsed duration. Durations of 8
//!   days or more make the window always open.
//! * **Once** (`2026-12-05 22:00 .. 2026-12-06 06:00`): the instants with
//!   `S <= L(t) < E` (empty when `E <= S`); with an elapsed end, the first instant
//!   reaching `S` plus the duration.
//! * Occurrences that overlap or touch merge into one interval.
//!
//! # Zone data
//!
//! chrono-tz does not expose its transition table, so offsets are found by sampling
//! `offset_from_utc_datetime` on a fixed grid of `SAMPLE_STEP_SECS` (3 h) (aligned to the
//! epoch, so results never depend on query order) and binary-searching each change to
//! the exact second. Two transitions that are closer together than the sampling step
//! and cancel each other out (the offset returns to its earlier value) are assumed not
//! to exist; closer transitions that do not cancel are all found. chrono-tz's table
//! ends in 2099: after its last transition the zone's last offset holds forever. Zone
//! offsets are assumed to lie within ±16 hours (the widest in the database, local mean
//! times of the 19th century, are within ±16h).
//!
//! Sampled transitions are remembered process-wide in chunks of eight days per zone
//! (a bounded memo behind a lock, emptied when it grows large). A chunk depends only on
//! its zone and position, so the memo saves work without ever changing a result.
//!
//! # Bounds
//!
//! Searches for an opening look [`HORIZON_DAYS`] ahead. A run of touching occurrences
//! that would be longer than `RUN_CUT_DAYS` (800 days) is reported in pieces (see
//! `IntervalStream`). Instants far outside years 1..9999 are clamped when the zone
//! is consulted, and all arithmetic saturates: no input can make this module panic.

mod query;
mod shape;
mod stream;
mod text;
mod zone;

#[cfg(test)]
pub(crate) use query::is_open;
pub(crate) use query::{assess, calendar, earliest, why_no_opening, Assessment, NoOpening};
#[cfg(test)]
pub(crate) use shape::ShapeError;
pub(crate) use shape::{Days, End, OnceEnd, Shape, ZonedWindow};
pub(crate) use stream::{Complement, IntervalStream, Union, WindowStream, Zones};
pub use text::{
    format_duration, format_human, format_rfc3339_utc, parse_at, parse_duration, AtError,
    DurationError,
};
pub(crate) use text::{format_rfc3339, parse_duration_token};

/// Seconds since the Unix epoch, UTC.
pub type Instant = i64;

/// Seconds in a day.
pub const DAY_SECS: i64 = 86_400;

/// How far ahead (in days) the search for an opening looks.
pub const HORIZON_DAYS: i64 = 400;

/// A run of merged occurrences is reported in pieces once it extends this many days
/// past the query instant (only windows that are open for very long stretches, such as
/// `daily 00:00 for 24h` in a zone without daylight saving, ever reach it).
pub(crate) const RUN_CUT_DAYS: i64 = 2 * HORIZON_DAYS;

/// A half-open interval of instants, `[start, end)`.
///
/// `start == i64::MIN` and `end == i64::MAX` stand for "unbounded".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct Interval {
    /// First instant inside.
    pub(crate) start: Instant,
    /// First instant after the interval.
    pub(crate) end: Instant,
}

impl Interval {
    /// The interval `[start, end)`.
    pub(crate) const fn new(start: Instant, end: Instant) -> Self {
        Interval { start, end }
    }

    /// The interval covering every instant.
    pub(crate) const ALL: Interval = Interval {
        start: Instant::MIN,
        end: Instant::MAX,
    };

    /// Whether `t` lies in `[start, end)`.
    #[cfg(test)]
    pub(crate) const fn contains(&self, t: Instant) -> bool {
        self.start <= t && t < self.end
    }

    /// Length in seconds (saturating).
    #[cfg(test)]
    pub(crate) const fn len(&self) -> i64 {
        self.end.saturating_sub(self.start)
    }

    /// Whether the interval contains no instant.
    pub(crate) const fn is_empty(&self) -> bool {
        self.end <= self.start
    }
}

/// Sorts intervals by start and merges those that overlap or touch, dropping empty ones.
pub(crate) fn merge_sorted(pieces: &mut Vec<Interval>) {
    pieces.retain(|p| !p.is_empty());
    pieces.sort_unstable();
    let mut out: Vec<Interval> = Vec::with_capacity(pieces.len());
    for p in pieces.drain(..) {
        match out.last_mut() {
            Some(last) if p.start <= last.end => last.end = last.end.max(p.end),
            _ => out.push(p),
        }
    }
    *pieces = out;
}

#[cfg(test)]
mod properties;
#[cfg(test)]
mod tests;
