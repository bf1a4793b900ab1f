//! Interval streams: windows, unions and complements.

use super::shape::{End, OnceEnd, Shape, ShapeError, ZonedWindow};
use super::zone::{OffsetTable, OFFSET_BOUND};
use super::{merge_sorted, Instant, Interval, DAY_SECS, RUN_CUT_DAYS};
use std::cell::RefCell;

const RUN_CUT: i64 = RUN_CUT_DAYS * DAY_SECS;

/// A set of instants, read as a sequence of intervals in time order.
///
/// `next_interval(t)` returns the first maximal interval whose end is after `t` (its
/// start may be at or before `t`, meaning `t` is inside), or `None` when the set has
/// no instant after `t`. Two promises make the sequence usable:
///
/// * if `t` is inside, the returned interval contains `t` (its start may be reported
///   later than the true start of the run, never after `t`);
/// * an interval is maximal, except that a run extending more than
///   [`RUN_CUT_DAYS`](super::RUN_CUT_DAYS) past `t` may be cut: asking again at its end
///   then returns an interval starting at that end.
pub trait IntervalStream {
    /// The first interval whose end is after `t`.
    fn next_interval(&self, t: Instant) -> Option<Interval>;

    /// Whether `t` is inside.
    fn contains(&self, t: Instant) -> bool {
        self.next_interval(t).is_some_and(|iv| iv.start <= t)
    }
}

impl<S: IntervalStream + ?Sized> IntervalStream for &S {
    fn next_interval(&self, t: Instant) -> Option<Interval> {
        (**self).next_interval(t)
    }
}

/// What a window reduces to once validated.
#[derive(Debug, Clone)]
enum Plan {
    Never,
    Always,
    /// Pre-computed intervals, merged and sorted.
    Fixed(Vec<Interval>),
    Weekly {
        days: super::Days,
        /// Start, seconds after local midnight.
        start: i64,
        /// Wall end: local seconds after the start's midnight (may be the next day);
        /// elapsed: duration.
        end: WeeklyEnd,
        /// How many days before a query's local date an occurrence may start and still
        /// reach past the query.
        back_days: i64,
    },
}

#[derive(Debug, Clone, Copy)]
enum WeeklyEnd {
    Wall(i64),
    Elapsed(i64),
}

/// Merged intervals computed for one query, reused by later queries they answer.
#[derive(Debug, Clone, Default)]
struct Cache {
    /// Queries at or after this instant saw every relevant occurrence.
    valid_from: Instant,
    /// No occurrence not yet generated starts before this instant.
    frontier: Instant,
    merged: Vec<Interval>,
}

/// The intervals of one [`ZonedWindow`], generated lazily around each query (a few
/// days before it onward, never the whole year).
///
/// A stream keeps a small cache of zone offsets and of recent results, so it is a
/// cheap, per-query object: build it, ask it, drop it. It is not `Sync`.
#[derive(Debug, Clone)]
pub struct WindowStream {
    window: ZonedWindow,
    plan: Plan,
    table: RefCell<OffsetTable>,
    cache: RefCell<Option<Cache>>,
}

impl WindowStream {
    /// The stream of `window`'s openings; fails when its numbers are out of range.
    pub fn new(window: &ZonedWindow) -> Result<WindowStream, ShapeError> {
        window.validate()?;
        let mut table = OffsetTable::new(window.tz);
        let plan = match window.shape {
            Shape::Weekly { days, .. } if days.is_empty() => Plan::Never,
            Shape::Weekly { days, start, end } => {
                let start = i64::from(start) * 60;
                match end {
                    End::Wall(end) => {
                        let mut end = i64::from(end) * 60;
                        if end <= start {
                            end += DAY_SECS;
                        }
                        if days == super::Days::all() && end - start == DAY_SECS {
                            Plan::Always
                        } else {
                            Plan::Weekly {
                                days,
                                start,
                                end: WeeklyEnd::Wall(end),
                                back_days: back_days(2 * DAY_SECS),
                            }
                        }
                    }
                    End::Elapsed(d) if d >= 8 * DAY_SECS => Plan::Always,
                    End::Elapsed(d) => Plan::Weekly {
                        days,
                        start,
                        end: WeeklyEnd::Elapsed(d),
                        back_days: back_days(DAY_SECS + d),
                    },
                }
            }
            Shape::Once { start, end } => {
                let s = start.and_utc().timestamp();
                let mut pieces = Vec::new();
                match end {
                    OnceEnd::Wall(e) => table.preimage(s, e.and_utc().timestamp(), &mut pieces),
                    OnceEnd::Elapsed(d) => {
                        let first = table.first_reaching(s);
                        pieces.push(Interval::new(first, first.saturating_add(d)));
                    }
                }
                merge_sorted(&mut pieces);
                Plan::Fixed(pieces)
            }
        };
        Ok(WindowStream {
            window: *window,
            plan,
            table: RefCell::new(table),
            cache: RefCell::new(None),
        })
    }

    /// The window this stream speaks of.
    pub fn window(&self) -> &ZonedWindow {
        &self.window
    }

    /// Whether the window is open at `t`.
    pub fn is_open(&self, t: Instant) -> bool {
        self.contains(t)
    }

    fn weekly(
        &self,
        t: Instant,
        days: super::Days,
        start: i64,
        end: WeeklyEnd,
        back_days: i64,
    ) -> Option<Interval> {
        if let Some(cache) = self.cache.borrow().as_ref() {
            if t >= cache.valid_from {
                let i = cache.merged.partition_point(|iv| iv.end <= t);
                if let Some(iv) = cache.merged.get(i) {
                    if iv.end < cache.frontier {
                        return Some(*iv);
                    }
                }
            }
        }
        let mut table = self.table.borrow_mut();
        let today = table.local(t).div_euclid(DAY_SECS);
        let first_day = today.saturating_sub(back_days);
        let mut day = first_day;
        let mut pieces = Vec::new();
        let mut merged = Vec::new();
        let mut stop = today.saturating_add(2);
        let last_day = today.saturating_add(RUN_CUT_DAYS + 16);
        loop {
            while day < stop {
                // 1970-01-01 was a Thursday (index 3, Monday = 0).
                let weekday = day.saturating_add(3).rem_euclid(7);
                if days.contains_index(u32::try_from(weekday).unwrap_or(7)) {
                    let s = day.saturating_mul(DAY_SECS).saturating_add(start);
                    match end {
                        WeeklyEnd::Wall(e) => {
                            let e = day.saturating_mul(DAY_SECS).saturating_add(e);
                            table.preimage(s, e, &mut pieces);
                        }
                        WeeklyEnd::Elapsed(d) => {
                            let first = table.first_reaching(s);
                            pieces.push(Interval::new(first, first.saturating_add(d)));
                        }
                    }
                }
                day += 1;
            }
            merged.clone_from(&pieces);
            merge_sorted(&mut merged);
            // Occurrences of later days start at or after this instant.
            let frontier = stop
                .saturating_mul(DAY_SECS)
                .saturating_add(start)
                .saturating_sub(OFFSET_BOUND);
            let i = merged.partition_point(|iv| iv.end <= t);
            let found = merged.get(i).copied();
            match found {
                Some(iv) if iv.end < frontier => {
                    let valid_from = first_day
                        .saturating_add(back_days)
                        .saturating_mul(DAY_SECS)
                        .saturating_add(OFFSET_BOUND);
                    *self.cache.borrow_mut() = Some(Cache {
                        valid_from,
                        frontier,
                        merged,
                    });
                    return Some(iv);
                }
                Some(iv) if iv.end.saturating_sub(t) > RUN_CUT => return Some(iv),
                _ if stop >= last_day => return found,
                _ => stop = stop.saturating_add(4),
            }
        }
    }
}

/// Days to look back: an occurrence spanning `span` seconds of local time from its
/// date's midnight, plus two offset bounds, plus one for rounding.
fn back_days(span: i64) -> i64 {
    span.saturating_add(2 * OFFSET_BOUND)
        .saturating_add(DAY_SECS - 1)
        / DAY_SECS
        + 1
}

impl IntervalStream for WindowStream {
    fn next_interval(&self, t: Instant) -> Option<Interval> {
        match &self.plan {
            Plan::Never => None,
            Plan::Always => (t < Instant::MAX).then_some(Interval::ALL),
            Plan::Fixed(ivs) => ivs.get(ivs.partition_point(|iv| iv.end <= t)).copied(),
            Plan::Weekly {
                days,
                start,
                end,
                back_days,
            } => self.weekly(t, *days, *start, *end, *back_days),
        }
    }
}

/// The union of several streams (for instance every active freeze).
#[derive(Clone, Copy)]
pub struct Union<'a> {
    parts: &'a [&'a dyn IntervalStream],
}

impl<'a> Union<'a> {
    /// The union of `parts`; empty when there is none.
    pub fn new(parts: &'a [&'a dyn IntervalStream]) -> Self {
        Union { parts }
    }
}

impl IntervalStream for Union<'_> {
    fn next_interval(&self, t: Instant) -> Option<Interval> {
        let mut next: Vec<Option<Interval>> =
            self.parts.iter().map(|p| p.next_interval(t)).collect();
        let mut cur = next.iter().flatten().min_by_key(|iv| iv.start).copied()?;
        loop {
            let mut grew = false;
            for (part, slot) in self.parts.iter().zip(next.iter_mut()) {
                while let Some(iv) = *slot {
                    if iv.start > cur.end || cur.end.saturating_sub(t) > RUN_CUT {
                        break;
                    }
                    if iv.end > cur.end {
                        cur.end = iv.end;
                        grew = true;
                    }
                    *slot = part.next_interval(iv.end);
                }
            }
            if !grew || cur.end.saturating_sub(t) > RUN_CUT {
                return Some(cur);
            }
        }
    }
}

/// The instants a stream does not contain (for instance: no freeze is active).
///
/// An interval containing the query instant `t` may be reported as starting at `t`.
/// When the inner stream stays covered for more than
/// [`RUN_CUT_DAYS`](super::RUN_CUT_DAYS) after `t`, the complement reports nothing.
#[derive(Clone, Copy)]
pub struct Complement<'a> {
    inner: &'a dyn IntervalStream,
}

impl<'a> Complement<'a> {
    /// The complement of `inner`.
    pub fn new(inner: &'a dyn IntervalStream) -> Self {
        Complement { inner }
    }
}

impl IntervalStream for Complement<'_> {
    fn next_interval(&self, t: Instant) -> Option<Interval> {
        if t == Instant::MAX {
            return None;
        }
        let Some(mut iv) = self.inner.next_interval(t) else {
            return Some(Interval::new(t, Instant::MAX));
        };
        if iv.start > t {
            return Some(Interval::new(t, iv.start));
        }
        loop {
            let from = iv.end;
            if from == Instant::MAX || from.saturating_sub(t) > RUN_CUT {
                return None;
            }
            match self.inner.next_interval(from) {
                None => return Some(Interval::new(from, Instant::MAX)),
                Some(next) if next.start > from => return Some(Interval::new(from, next.start)),
                Some(next) => iv = next,
            }
        }
    }
}
