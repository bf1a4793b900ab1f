//! The data a compiled policy hands to the time module.

use chrono::{NaiveDateTime, Weekday};
use chrono_tz::Tz;
use std::fmt;

/// A set of weekdays: bit 0 is Monday, bit 6 is Sunday.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct Days(u8);

impl Days {
    /// No day at all.
    pub(crate) const fn empty() -> Days {
        Days(0)
    }

    /// Every day of the week.
    pub(crate) const fn all() -> Days {
        Days(0x7f)
    }

    /// From a bitmask (bit 0 = Monday .. bit 6 = Sunday); bit 7 is ignored.
    pub(crate) const fn from_bits(bits: u8) -> Days {
        Days(bits & 0x7f)
    }

    /// The bitmask.
    pub(crate) const fn bits(self) -> u8 {
        self.0
    }

    /// This set with `day` added.
    pub(crate) const fn with(self, day: Weekday) -> Days {
        Days(self.0 | (1 << day.num_days_from_monday()))
    }

    /// The days from `first` to `last` inclusive, wrapping past Sunday (`fri..mon`).
    pub(crate) fn range(first: Weekday, last: Weekday) -> Days {
        let mut days = Days::empty().with(first);
        let mut day = first;
        while day != last {
            day = day.succ();
            days = days.with(day);
        }
        days
    }

    /// Whether `day` is in the set.
    #[cfg(test)]
    pub(crate) const fn contains(self, day: Weekday) -> bool {
        self.contains_index(day.num_days_from_monday())
    }

    /// Whether the day with Monday-based index `index` (0..=6) is in the set.
    pub(crate) const fn contains_index(self, index: u32) -> bool {
        index < 7 && self.0 & (1 << index) != 0
    }

    /// Whether the set has no day.
    pub(crate) const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

/// How a weekly window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum End {
    /// A wall-clock minute of the day, `0..=1439`. An end not after the start means
    /// the next day (`22:00-04:00`, and `22:00-22:00` is 24 hours).
    Wall(u16),
    /// An elapsed duration in seconds (`> 0`), counted from the start instant.
    Elapsed(i64),
}

/// How a one-time window ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum OnceEnd {
    /// A local wall-clock datetime in the window's zone (exclusive).
    Wall(NaiveDateTime),
    /// An elapsed duration in seconds (`> 0`), counted from the start instant.
    Elapsed(i64),
}

/// The shape of a window or freeze, independent of its zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Shape {
    /// Every week on `days`, from the wall-clock minute `start` (`0..=1439`).
    Weekly {
        /// The weekdays on which an occurrence starts.
        days: Days,
        /// Minute of the day at which it starts.
        start: u16,
        /// How it ends.
        end: End,
    },
    /// One time only, from the local datetime `start`.
    Once {
        /// Local start (whole seconds; sub-second parts are ignored).
        start: NaiveDateTime,
        /// How it ends.
        end: OnceEnd,
    },
}

/// A window (or freeze) shape in a concrete zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct ZonedWindow {
    /// When it is open, in local time.
    pub(crate) shape: Shape,
    /// The zone whose wall clock the shape speaks of.
    pub(crate) tz: Tz,
}

impl ZonedWindow {
    /// A window of `shape` in zone `tz`.
    pub(crate) const fn new(shape: Shape, tz: Tz) -> Self {
        ZonedWindow { shape, tz }
    }

    /// Checks the shape's numbers: minutes of the day below 1440, durations above 0.
    pub(crate) fn validate(&self) -> Result<(), ShapeError> {
        match self.shape {
            Shape::Weekly { start, end, .. } => {
                if start >= 1440 {
                    return Err(ShapeError::MinuteOutOfRange(start));
                }
                match end {
                    End::Wall(m) if m >= 1440 => Err(ShapeError::MinuteOutOfRange(m)),
                    End::Elapsed(d) if d <= 0 => Err(ShapeError::NonPositiveDuration(d)),
                    _ => Ok(()),
                }
            }
            Shape::Once { end, .. } => match end {
                OnceEnd::Elapsed(d) if d <= 0 => Err(ShapeError::NonPositiveDuration(d)),
                _ => Ok(()),
            },
        }
    }
}

/// A shape whose numbers are out of range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ShapeError {
    /// A minute of the day that is not in `0..=1439`.
    MinuteOutOfRange(u16),
    /// An elapsed duration that is zero or negative.
    NonPositiveDuration(i64),
}

impl fmt::Display for ShapeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ShapeError::MinuteOutOfRange(m) => {
                write!(f, "minute of the day {m} is out of range (0..=1439)")
            }
            ShapeError::NonPositiveDuration(d) => {
                write!(f, "duration of {d} seconds is not positive")
            }
        }
    }
}

impl std::error::Error for ShapeError {}
