//! Questions about streams: is it open, when does it next open, what blocks.

use super::stream::{Complement, IntervalStream, Union, WEEK_SECS};
use super::{Instant, Interval, DAY_SECS, HORIZON_DAYS, RUN_CUT_DAYS};

/// Whether `window` is open at `t` (only the tests ask about a lone window).
#[cfg(test)]
pub(crate) fn is_open(window: &super::ZonedWindow, t: Instant) -> Result<bool, super::ShapeError> {
    Ok(super::WindowStream::new(window)?.is_open(t))
}

/// The end of the run of `stream` that contains `s` (with `iv` the interval
/// `next_interval(s)` returned), following cut runs up to `cap`.
fn run_end(stream: &dyn IntervalStream, s: Instant, iv: Interval, cap: Instant) -> Instant {
    let mut end = iv.end;
    let cut = s.saturating_add(RUN_CUT_DAYS * DAY_SECS);
    while end >= cut && end < cap {
        match stream.next_interval(end) {
            Some(next) if next.start <= end && next.end > end => end = next.end,
            _ => break,
        }
    }
    end
}

/// The first instant `s >= from`, `s <= limit`, at which every stream is open and
/// stays open until `s + runway`; returns `[s, common end)`.
///
/// A runway of 0 (or less) only asks for the streams to be open at `s`. An empty set
/// of streams is always open. The common end is exact up to `limit + runway`; beyond
/// that it is a lower bound. The search jumps from interval edge to interval edge.
///
/// Once a whole week has gone by without an opening, the search asks how long every
/// stream keeps repeating itself weekly ([`IntervalStream::repeats_until`]: until the
/// next change of offset in any of the zones) and skips to there: an opening in a
/// later week of that stretch would mean one in the week already searched. The first
/// time, it also searches that week with only the streams that repeat over the whole
/// search: if they never open together, nothing will.
pub(crate) fn earliest(
    streams: &[&dyn IntervalStream],
    from: Instant,
    runway: i64,
    limit: Instant,
) -> Option<Interval> {
    search(streams, from, runway, limit, true)
}

pub(crate) fn search(
    streams: &[&dyn IntervalStream],
    from: Instant,
    runway: i64,
    limit: Instant,
    skip_weeks: bool,
) -> Option<Interval> {
    let runway = runway.max(0);
    let cap = limit.saturating_add(runway);
    let mut s = from;
    // Each stream's first interval ending after `s`; refreshed only once `s` passes it.
    let mut current = Vec::with_capacity(streams.len());
    for stream in streams {
        current.push(stream.next_interval(s)?);
    }
    // Every start in [week_from, s) has been ruled out.
    let mut week_from = s;
    let mut steady_checked = false;
    loop {
        if s > limit {
            return None;
        }
        if skip_weeks && s >= week_from.saturating_add(WEEK_SECS) {
            let untils: Vec<Instant> = streams
                .iter()
                .map(|st| st.repeats_until(week_from, cap))
                .collect();
            if !steady_checked {
                // The streams that repeat weekly over the whole search (zones without
                // a change of offset in it): if they never open together within a
                // week, they never do, and neither does the whole set.
                steady_checked = true;
                let steady: Vec<&dyn IntervalStream> = streams
                    .iter()
                    .zip(&untils)
                    .filter(|&(_, &u)| u >= cap)
                    .map(|(st, _)| *st)
                    .collect();
                let week_end = week_from.saturating_add(WEEK_SECS - 1);
                if !steady.is_empty()
                    && steady.len() < streams.len()
                    && search(&steady, week_from, runway, week_end, false).is_none()
                {
                    return None;
                }
            }
            let until = untils.into_iter().min().unwrap_or(Instant::MAX);
            // Every start up to `until - runway` has its whole runway inside the
            // repeating stretch, so it would repeat one a week earlier.
            s = s.max(until.saturating_sub(runway));
            week_from = s;
            continue;
        }
        let mut jump = s;
        for (stream, iv) in streams.iter().zip(current.iter_mut()) {
            if iv.end <= s {
                *iv = stream.next_interval(s)?;
            }
            jump = jump.max(iv.start);
        }
        if jump > s {
            s = jump;
            continue;
        }
        let mut end = Instant::MAX;
        for (stream, iv) in streams.iter().zip(current.iter()) {
            end = end.min(run_end(*stream, s, *iv, cap));
        }
        if end.saturating_sub(s) >= runway {
            return Some(Interval::new(s, end));
        }
        if end <= s {
            return None;
        }
        s = end;
    }
}

/// Everything a verdict needs to know about time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Assessment {
    /// Every window is open at `at` and stays open for the runway.
    pub windows_open: bool,
    /// When open: the end of the common open interval; `None` when closed, or when
    /// the windows stay open past the horizon.
    pub closes: Option<Instant>,
    /// When closed: the first instant at or after `at` at which every window is open
    /// for the runway; `None` when open or when there is none within the horizon.
    pub next_open: Option<Instant>,
    /// Indexes (into the freezes given) of the freezes active at any point of
    /// `[at, at + runway)` (at `at` itself when the runway is 0).
    pub blocking: Vec<usize>,
    /// When some freeze blocks: the first instant at or after `at` from which no freeze
    /// is active for the runway; `None` when nothing blocks or there is none within the
    /// horizon.
    pub freeze_until: Option<Instant>,
    /// The first instant at or after `at` at which every window is open and no freeze
    /// is active, for the runway; `None` when there is none within the horizon.
    pub earliest: Option<Instant>,
}

/// Assesses windows `windows` and the applicable freezes `freezes` at `at` for a change
/// needing `runway` seconds, searching [`HORIZON_DAYS`] ahead.
pub(crate) fn assess(
    windows: &[&dyn IntervalStream],
    freezes: &[&dyn IntervalStream],
    at: Instant,
    runway: i64,
) -> Assessment {
    let runway = runway.max(0);
    let limit = at.saturating_add(HORIZON_DAYS * DAY_SECS);
    let open = earliest(windows, at, runway, limit);
    let windows_open = open.is_some_and(|iv| iv.start == at);
    let closes = open
        .filter(|iv| iv.start == at && iv.end < limit.saturating_add(runway))
        .map(|iv| iv.end);
    let next_open = open.filter(|iv| iv.start > at).map(|iv| iv.start);

    let until = at.saturating_add(runway.max(1));
    let blocking: Vec<usize> = freezes
        .iter()
        .enumerate()
        .filter(|(_, f)| f.next_interval(at).is_some_and(|iv| iv.start < until))
        .map(|(i, _)| i)
        .collect();

    let union = Union::new(freezes);
    let free = Complement::new(&union);
    let freeze_until = if blocking.is_empty() {
        None
    } else {
        earliest(&[&free], at, runway, limit).map(|iv| iv.start)
    };
    let earliest_all = if freezes.is_empty() {
        open.map(|iv| iv.start)
    } else {
        let mut all: Vec<&dyn IntervalStream> = windows.to_vec();
        all.push(&free);
        earliest(&all, at, runway, limit).map(|iv| iv.start)
    };
    Assessment {
        windows_open,
        closes,
        next_open,
        blocking,
        freeze_until,
        earliest: earliest_all,
    }
}

/// Why a set of streams has no common opening.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NoOpening {
    /// This stream (an index into the streams given) never opens for the runway.
    Never(usize),
    /// These two streams are never open together for the runway.
    NeverOverlap(usize, usize),
    /// Every pair overlaps, but not all of them at once.
    Combination,
}

/// Explains why `streams` have no opening for `runway` in `[from, limit]`: the first
/// single stream that never opens, else the first pair (in index order) that never
/// overlaps, else [`NoOpening::Combination`]. Returns `None` when there is an opening.
///
/// This tries every pair, so it costs up to `n²/2` searches: call it only when
/// [`earliest`] found nothing.
pub(crate) fn why_no_opening(
    streams: &[&dyn IntervalStream],
    from: Instant,
    runway: i64,
    limit: Instant,
) -> Option<NoOpening> {
    if earliest(streams, from, runway, limit).is_some() {
        return None;
    }
    for (i, s) in streams.iter().enumerate() {
        if earliest(&[*s], from, runway, limit).is_none() {
            return Some(NoOpening::Never(i));
        }
    }
    for (i, a) in streams.iter().enumerate() {
        for (j, b) in streams.iter().enumerate().skip(i + 1) {
            if earliest(&[*a, *b], from, runway, limit).is_none() {
                return Some(NoOpening::NeverOverlap(i, j));
            }
        }
    }
    Some(NoOpening::Combination)
}

/// Every opening of `stream` that overlaps `[from, to)`, in order, touching pieces
/// merged (intervals are not clipped to the period).
pub(crate) fn calendar(stream: &dyn IntervalStream, from: Instant, to: Instant) -> Vec<Interval> {
    let mut out: Vec<Interval> = Vec::new();
    let mut t = from;
    while t < to {
        let Some(iv) = stream.next_interval(t) else {
            break;
        };
        if iv.start >= to || iv.end <= t {
            break;
        }
        match out.last_mut() {
            Some(last) if iv.start <= last.end => last.end = last.end.max(iv.end),
            _ => out.push(iv),
        }
        t = iv.end;
    }
    out
}
