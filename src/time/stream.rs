//! Interval streams: windows, unions and complements.

use super::shape::{End, OnceEnd, Shape, ShapeError, ZonedWindow};
use super::zone::{OffsetTable, CLAMP, OFFSET_BOUND};
use super::{merge_sorted, Instant, Interval, DAY_SECS, RUN_CUT_DAYS};
use chrono_tz::Tz;
use rustc_hash::FxHashMap;
use std::cell::RefCell;
use std::rc::Rc;

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
///   `RUN_CUT_DAYS` (800 days) past `t` may be cut: asking again at its end
///   then returns an interval starting at that end.
pub(crate) trait IntervalStream {
    /// The first interval whose end is after `t`.
    fn next_interval(&self, t: Instant) -> Option<Interval>;

    /// Whether `t` is inside.
    #[cfg(test)]
    fn contains(&self, t: Instant) -> bool {
        self.next_interval(t).is_some_and(|iv| iv.start <= t)
    }

    /// An instant `u >= t` up to which the stream repeats itself every week: for every
    /// `x >= t` with `x + WEEK < u`, `x` is inside exactly when `x + WEEK` is. There is
    /// no need to look past `limit`. Returning `t` (the default) promises nothing.
    ///
    /// A search that has gone a whole week without an opening uses it to skip ahead:
    /// while every stream repeats weekly, the weeks after hold no opening either.
    fn repeats_until(&self, t: Instant, limit: Instant) -> Instant {
        let _ = limit;
        t
    }
}

/// A week, in seconds.
pub(crate) const WEEK_SECS: i64 = 7 * DAY_SECS;

impl<S: IntervalStream + ?Sized> IntervalStream for &S {
    fn next_interval(&self, t: Instant) -> Option<Interval> {
        (**self).next_interval(t)
    }

    fn repeats_until(&self, t: Instant, limit: Instant) -> Instant {
        (**self).repeats_until(t, limit)
    }
}

/// What a window reduces to once validated.
#[derive(Debug, Clone)]
enum Plan {
    Never,
    Always,
    /// Pre-computed intervals, merged and sorted.
    Fixed(Vec<Interval>),
    Weekly(Weekly),
}

/// A weekly window, in local seconds.
#[derive(Debug, Clone, Copy)]
struct Weekly {
    days: super::Days,
    /// Start, seconds after local midnight.
    start: i64,
    /// Wall end: local seconds after the start's midnight (may be the next day);
    /// elapsed: duration.
    end: WeeklyEnd,
    /// How many days before a query's local date an occurrence may start and still
    /// reach past the query.
    back_days: i64,
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

type SharedTable = Rc<RefCell<OffsetTable>>;

/// The zone offsets that the streams of one query share: streams built with
/// [`WindowStream::with_zones`] from the same `Zones` look each zone up once, however
/// many windows speak of it.
///
/// The tables come from a small per-thread pool, so the next query on the same
/// thread finds the transitions it needs already in place. They only save work: what
/// they hold never changes a result.
#[derive(Debug, Default)]
pub(crate) struct Zones {
    tables: FxHashMap<Tz, SharedTable>,
}

thread_local! {
    /// Each zone's table, kept between queries on this thread (a table spans at most
    /// a few years; there are a few hundred zones).
    static POOL: RefCell<FxHashMap<Tz, SharedTable>> = RefCell::new(FxHashMap::default());
}

impl Zones {
    /// No zone yet.
    pub(crate) fn new() -> Self {
        Zones::default()
    }

    fn table(&mut self, tz: Tz) -> SharedTable {
        let shared = self.tables.entry(tz).or_insert_with(|| {
            POOL.try_with(|pool| {
                pool.try_borrow_mut().ok().map(|mut pool| {
                    Rc::clone(
                        pool.entry(tz)
                            .or_insert_with(|| Rc::new(RefCell::new(OffsetTable::new(tz)))),
                    )
                })
            })
            .ok()
            .flatten()
            .unwrap_or_else(|| Rc::new(RefCell::new(OffsetTable::new(tz))))
        });
        Rc::clone(shared)
    }
}

/// The intervals of one [`ZonedWindow`], generated lazily around each query (a few
/// days before it onward, never the whole year).
///
/// A stream keeps a small cache of zone offsets and of recent results, so it is a
/// cheap, per-query object: build it, ask it, drop it. It is neither `Send` nor `Sync`.
///
/// Between a zone's transitions a weekly window is its local pattern shifted by the
/// zone's offset, and the stream answers from the pattern, piece by constant-offset
/// piece (an elapsed window: occurrence by occurrence near a transition); what that
/// does not settle, such as runs longer than a fortnight, it builds from the
/// occurrences around the query (see the module's rules).
#[derive(Debug, Clone)]
pub(crate) struct WindowStream {
    plan: Plan,
    table: SharedTable,
    cache: RefCell<Option<Box<Cache>>>,
}

impl WindowStream {
    /// The stream of `window`'s openings; fails when its numbers are out of range.
    pub(crate) fn new(window: &ZonedWindow) -> Result<WindowStream, ShapeError> {
        Self::with_table(window, Rc::new(RefCell::new(OffsetTable::new(window.tz))))
    }

    /// Like [`WindowStream::new`], sharing zone offsets with the other streams built
    /// from `zones`.
    pub(crate) fn with_zones(
        window: &ZonedWindow,
        zones: &mut Zones,
    ) -> Result<WindowStream, ShapeError> {
        Self::with_table(window, zones.table(window.tz))
    }

    fn with_table(window: &ZonedWindow, shared: SharedTable) -> Result<WindowStream, ShapeError> {
        window.validate()?;
        let mut table = shared.borrow_mut();
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
                            Plan::Weekly(Weekly {
                                days,
                                start,
                                end: WeeklyEnd::Wall(end),
                                back_days: back_days(2 * DAY_SECS),
                            })
                        }
                    }
                    End::Elapsed(d) if d >= 8 * DAY_SECS => Plan::Always,
                    End::Elapsed(d) => Plan::Weekly(Weekly {
                        days,
                        start,
                        end: WeeklyEnd::Elapsed(d),
                        back_days: back_days(DAY_SECS + d),
                    }),
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
        drop(table);
        Ok(WindowStream {
            plan,
            table: shared,
            cache: RefCell::new(None),
        })
    }

    /// Whether the window is open at `t`.
    #[cfg(test)]
    pub(crate) fn is_open(&self, t: Instant) -> bool {
        self.contains(t)
    }

    fn weekly(&self, t: Instant, w: Weekly) -> Option<Interval> {
        self.direct(t, w).or_else(|| self.occurrences(t, w))
    }

    /// The answer without building occurrences: from the zone's constant-offset
    /// pieces for a wall-clock window, from the local pattern or the chain of
    /// occurrences for an elapsed one. `None` when that does not settle it (a run
    /// longer than a fortnight or so, instants near the ends of time): the general
    /// path then answers.
    fn direct(&self, t: Instant, w: Weekly) -> Option<Interval> {
        let Weekly {
            days, start, end, ..
        } = w;
        let mut table = self.table.try_borrow_mut().ok()?;
        match end {
            WeeklyEnd::Wall(e) => walk(&mut table, t, days, start, e - start),
            WeeklyEnd::Elapsed(d) => steady_elapsed(&mut table, t, days, start, d)
                .or_else(|| chain_elapsed(&mut table, t, days, start, d)),
        }
    }

    /// For tests: the direct answer (when it gives one) and the general path's.
    #[cfg(test)]
    pub(crate) fn both_paths(&self, t: Instant) -> (Option<Interval>, Option<Interval>) {
        match self.plan {
            Plan::Weekly(w) => (self.direct(t, w), self.occurrences(t, w)),
            _ => (None, self.next_interval(t)),
        }
    }

    /// The answer built occurrence by occurrence, around `t`.
    fn occurrences(&self, t: Instant, w: Weekly) -> Option<Interval> {
        let Weekly {
            days,
            start,
            end,
            back_days,
        } = w;
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
                if in_days(days, day) {
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
                    *self.cache.borrow_mut() = Some(Box::new(Cache {
                        valid_from,
                        frontier,
                        merged,
                    }));
                    return Some(iv);
                }
                Some(iv) if iv.end.saturating_sub(t) > RUN_CUT => return Some(iv),
                _ if stop >= last_day => return found,
                _ => stop = stop.saturating_add(4),
            }
        }
    }
}

/// Whether local day `d` (days since 1970-01-01) falls on one of `days`.
fn in_days(days: super::Days, d: i64) -> bool {
    // 1970-01-01 was a Thursday (index 3, Monday = 0).
    let weekday = d.checked_add(3).map(|v| v.rem_euclid(7));
    weekday.is_some_and(|w| days.contains_index(u32::try_from(w).unwrap_or(7)))
}

/// The run containing `t`, or the first after it, of the occurrences `occ(D)` of the
/// days `D` in `days`, merged where they overlap or touch. Occurrences must be
/// monotone: a later day's neither starts nor ends before an earlier day's. The
/// search starts at day `from_day`: no earlier day's occurrence may end after `t`.
///
/// `None` when a gap does not show within a few weeks either side (the caller then
/// takes the general path) or on overflow.
fn chain(
    t: i64,
    from_day: i64,
    days: super::Days,
    mut occ: impl FnMut(i64) -> Option<(i64, i64)>,
) -> Option<(i64, i64)> {
    let nearest = |d: i64, step: i64| -> Option<i64> {
        let mut d = d;
        for _ in 0..7 {
            if in_days(days, d) {
                return Some(d);
            }
            d = d.checked_add(step)?;
        }
        None
    };
    // The first day whose occurrence ends after t.
    let mut first = nearest(from_day, 1)?;
    let (mut s, mut e) = occ(first)?;
    let mut steps = 0;
    while e <= t {
        steps += 1;
        if steps > 24 {
            return None;
        }
        first = nearest(first.checked_add(1)?, 1)?;
        (s, e) = occ(first)?;
    }
    // Back to the run's start: every earlier occurrence ends no later.
    let mut day = first;
    let mut gap_before = false;
    for _ in 0..16 {
        let prev = nearest(day.checked_sub(1)?, -1)?;
        let (ps, pe) = occ(prev)?;
        if pe < s {
            gap_before = true;
            break;
        }
        s = s.min(ps);
        day = prev;
    }
    if !gap_before {
        return None;
    }
    // On to its end.
    let mut day = first;
    for _ in 0..16 {
        let next = nearest(day.checked_add(1)?, 1)?;
        let (ns, ne) = occ(next)?;
        if ns > e {
            return Some((s, e));
        }
        e = e.max(ne);
        day = next;
    }
    None
}

/// The run of a weekly pattern in local time (no zone) that contains local time `x`
/// or is the first after it: occurrences `[D + start, D + start + len)` for each
/// local day `D` in `days`, merged where they overlap or touch.
fn local_run(x: i64, days: super::Days, start: i64, len: i64) -> Option<(i64, i64)> {
    let from_day = x.checked_sub(start)?.checked_sub(len)?.div_euclid(DAY_SECS) + 1;
    chain(x, from_day, days, |d| {
        let s = d.checked_mul(DAY_SECS)?.checked_add(start)?;
        Some((s, s.checked_add(len)?))
    })
}

/// A wall-clock window's interval at `t`, walking the zone's constant-offset pieces.
///
/// The window is the set of instants whose local time lies in the local pattern
/// `P`; on a piece `[a, b)` with offset `o` that is exactly `P - o`. The walk finds
/// the first piece from `t` on where `P - o` has an instant, then follows the run
/// across piece boundaries for as long as it continues; if `t` is inside a run that
/// began in an earlier piece, it follows the run back to its start (or reports the
/// start of `t`'s piece, never after `t` as [`IntervalStream`] allows, when the run
/// goes back through more than a few pieces).
fn walk(
    table: &mut OffsetTable,
    t: Instant,
    days: super::Days,
    start: i64,
    len: i64,
) -> Option<Interval> {
    let shifted = |x: i64, o: i64| -> Option<(i64, i64)> {
        let (ls, le) = local_run(x.checked_add(o)?, days, start, len)?;
        Some((ls.checked_sub(o)?, le.checked_sub(o)?))
    };
    // The piece `[a, b)` around `x` and the first run `[rs, re)` of the shifted
    // pattern that ends after `x`; `None` past 64 pieces in all.
    let mut steps = 0;
    let mut piece = |table: &mut OffsetTable, x: i64| -> Option<(i64, i64, i64, i64)> {
        steps += 1;
        if steps > 64 {
            return None;
        }
        let (a, b, o) = table.segment(x)?;
        let (rs, re) = shifted(x, o)?;
        Some((a, b, rs, re))
    };
    let mut cursor = t;
    let (first, mut end, mut piece_end) = loop {
        let (a, b, rs, re) = piece(table, cursor)?;
        if rs >= b {
            // Nothing of the window in [cursor, b).
            cursor = b;
            continue;
        }
        let first = if rs > cursor {
            rs
        } else if cursor == t && rs <= a {
            // t is inside a run that reaches back past its piece.
            start_before(table, a, &shifted).unwrap_or(a)
        } else if cursor == t {
            rs
        } else {
            // cursor starts a piece, and the instant before it is outside.
            cursor
        };
        break (first, re, b);
    };
    while end >= piece_end {
        let (_, b, rs, re) = piece(table, piece_end)?;
        if rs > piece_end {
            end = piece_end;
            break;
        }
        end = re;
        piece_end = b;
    }
    Some(Interval::new(first, end))
}

/// The start of the run that reaches piece start `a` from before, following it back
/// through earlier pieces (a few at most); `None` when it goes back further.
fn start_before(
    table: &mut OffsetTable,
    a: Instant,
    shifted: &impl Fn(i64, i64) -> Option<(i64, i64)>,
) -> Option<Instant> {
    let mut a = a;
    for _ in 0..8 {
        let last = a.checked_sub(1)?;
        let (pa, _, o) = table.segment(last)?;
        let (rs, _) = shifted(last, o)?;
        if rs > last {
            // The instant before the piece start is outside.
            return Some(a);
        }
        if rs >= pa {
            return Some(rs);
        }
        a = pa;
    }
    None
}

/// An elapsed window's interval at `t` while the zone's offset stays constant, or
/// `None`.
///
/// With offset `o` constant on `[a, b)`, an occurrence whose local start `s` has
/// `s - o >= a + 2 * OFFSET_BOUND` starts at `s - o` (no earlier instant reaches
/// `s`), and every occurrence starting earlier ends before `a + 2 * OFFSET_BOUND + d`;
/// so past that point the window is the local pattern shifted by `-o`.
fn steady_elapsed(
    table: &mut OffsetTable,
    t: Instant,
    days: super::Days,
    start: i64,
    d: i64,
) -> Option<Interval> {
    let margin = d.checked_add(2 * OFFSET_BOUND)?;
    let o = table.constant_over(t, t)?;
    let (ls, le) = local_run(t.checked_add(o)?, days, start, d)?;
    let (s, e) = (ls.checked_sub(o)?, le.checked_sub(o)?);
    let from = t.min(s.checked_sub(1)?).checked_sub(margin)?;
    (table.constant_over(from, e)? == o).then_some(Interval::new(s, e))
}

/// An elapsed window's interval at `t` from its occurrences one by one: each starts
/// at the first instant reaching its local start and lasts `d`, so a later day's
/// occurrence neither starts nor ends earlier, and [`chain`] applies.
fn chain_elapsed(
    table: &mut OffsetTable,
    t: Instant,
    days: super::Days,
    start: i64,
    d: i64,
) -> Option<Interval> {
    if !(-CLAMP / 2..=CLAMP / 2).contains(&t) {
        return None;
    }
    // An occurrence starts at most OFFSET_BOUND after its local start, so no day
    // before this one has an occurrence ending after t.
    let from_day = (t - d - OFFSET_BOUND - start).div_euclid(DAY_SECS) - 1;
    let (s, e) = chain(t, from_day, days, |day| {
        let s = table.first_reaching(day.checked_mul(DAY_SECS)?.checked_add(start)?);
        Some((s, s.checked_add(d)?))
    })?;
    Some(Interval::new(s, e))
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
            Plan::Weekly(w) => self.weekly(t, *w),
        }
    }

    /// Weekly windows repeat while the zone's offset stays the same (for an elapsed
    /// one, since its duration plus two offset bounds before `t`: see `steady_elapsed`);
    /// a one-time window repeats (as nothing) once it is over.
    fn repeats_until(&self, t: Instant, limit: Instant) -> Instant {
        match &self.plan {
            Plan::Never | Plan::Always => Instant::MAX,
            Plan::Fixed(ivs) => {
                if ivs.last().is_none_or(|iv| iv.end <= t) {
                    Instant::MAX
                } else {
                    t
                }
            }
            Plan::Weekly(Weekly { end, .. }) => {
                let margin = match end {
                    WeeklyEnd::Wall(_) => 0,
                    WeeklyEnd::Elapsed(d) => d.saturating_add(2 * OFFSET_BOUND),
                };
                let Ok(mut table) = self.table.try_borrow_mut() else {
                    return t;
                };
                let from = t.saturating_sub(margin);
                table
                    .offset_steady_until(from, limit)
                    .filter(|&u| u > t)
                    .unwrap_or(t)
            }
        }
    }
}

/// The union of several streams (for instance every active freeze).
#[derive(Clone, Copy)]
pub(crate) struct Union<'a> {
    parts: &'a [&'a dyn IntervalStream],
}

impl<'a> Union<'a> {
    /// The union of `parts`; empty when there is none.
    pub(crate) fn new(parts: &'a [&'a dyn IntervalStream]) -> Self {
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

    fn repeats_until(&self, t: Instant, limit: Instant) -> Instant {
        self.parts
            .iter()
            .map(|p| p.repeats_until(t, limit))
            .min()
            .unwrap_or(Instant::MAX)
    }
}

/// The instants a stream does not contain (for instance: no freeze is active).
///
/// An interval containing the query instant `t` may be reported as starting at `t`.
/// When the inner stream stays covered for more than
/// [`RUN_CUT_DAYS`](super::RUN_CUT_DAYS) after `t`, the complement reports nothing.
#[derive(Clone, Copy)]
pub(crate) struct Complement<'a> {
    inner: &'a dyn IntervalStream,
}

impl<'a> Complement<'a> {
    /// The complement of `inner`.
    pub(crate) fn new(inner: &'a dyn IntervalStream) -> Self {
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

    fn repeats_until(&self, t: Instant, limit: Instant) -> Instant {
        self.inner.repeats_until(t, limit)
    }
}
