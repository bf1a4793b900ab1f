//! Zone offsets found by sampling chrono-tz, and preimages of local ranges.

use super::{Instant, Interval};
use chrono::{DateTime, Offset, TimeZone};
use chrono_tz::Tz;
use rustc_hash::FxHashMap;
use std::sync::{Arc, OnceLock, RwLock};

/// Step of the sampling grid (aligned to the epoch) used to find a zone's transitions.
/// Two transitions closer than this that cancel out are not seen.
pub(crate) const SAMPLE_STEP_SECS: i64 = 3 * 3600;

/// Bound on the magnitude of any zone offset, in seconds.
pub(crate) const OFFSET_BOUND: i64 = 16 * 3600;

/// Instants are clamped to ±this before asking chrono (about ±250 000 years, inside
/// chrono's range), so that every conversion succeeds.
pub(crate) const CLAMP: i64 = 7_900_000_000_000;

/// A table is rebuilt rather than extended when asked about a range this far away
/// from what it covers.
const MAX_GAP: i64 = 16 * 86_400;

/// A table is rebuilt rather than extended past this span, so a long-lived table
/// (see `Zones`) stays small however far its queries wander.
const MAX_SPAN: i64 = 1_000 * 86_400;

/// Zone transitions are computed and remembered in chunks of this many seconds
/// (a multiple of the sampling step), aligned to the epoch.
const CHUNK_SECS: i64 = 8 * 86_400;

/// The process-wide memo of chunks is emptied when it grows past this many entries.
const MAX_CHUNKS: usize = 1 << 16;

/// The transitions of one zone in one chunk `(k * CHUNK_SECS, (k + 1) * CHUNK_SECS]`.
#[derive(Debug)]
struct Chunk {
    /// Offset at the chunk's first instant.
    base: i64,
    /// `(instant, offset from then on)`, ascending.
    changes: Box<[(i64, i64)]>,
}

type ChunkMemo = RwLock<FxHashMap<(Tz, i64), Arc<Chunk>>>;

/// A memo of sampled chunks shared by every stream. It only saves work: a chunk is a
/// pure function of the zone and its index, so results never depend on what is cached.
fn memo() -> &'static ChunkMemo {
    static MEMO: OnceLock<ChunkMemo> = OnceLock::new();
    MEMO.get_or_init(|| RwLock::new(FxHashMap::default()))
}

/// The chunk `index` of `tz`, from the memo or freshly sampled.
fn chunk(tz: Tz, index: i64) -> Arc<Chunk> {
    let key = (tz, index);
    if let Some(found) = memo()
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .get(&key)
    {
        return Arc::clone(found);
    }
    let start = index.saturating_mul(CHUNK_SECS);
    let (base, changes) = scan(tz, start, start.saturating_add(CHUNK_SECS));
    let fresh = Arc::new(Chunk {
        base,
        changes: changes.into_boxed_slice(),
    });
    let mut map = memo()
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if map.len() >= MAX_CHUNKS {
        map.clear();
    }
    Arc::clone(map.entry(key).or_insert(fresh))
}

/// The offset at `ca` and every change in `(ca, cb]`, for chunk boundaries `ca < cb`.
fn chunks(tz: Tz, ca: i64, cb: i64) -> (i64, Vec<(i64, i64)>) {
    let first = ca.div_euclid(CHUNK_SECS);
    let last = cb.div_euclid(CHUNK_SECS);
    let mut base = None;
    let mut changes = Vec::new();
    for index in first..last {
        let c = chunk(tz, index);
        base.get_or_insert(c.base);
        changes.extend_from_slice(&c.changes);
    }
    (base.unwrap_or_else(|| offset_at(tz, ca)), changes)
}

/// The UTC offset of `tz` at instant `t`, in seconds.
pub(crate) fn offset_at(tz: Tz, t: Instant) -> i64 {
    let t = t.clamp(-CLAMP, CLAMP);
    match DateTime::from_timestamp(t, 0) {
        Some(dt) => i64::from(
            tz.offset_from_utc_datetime(&dt.naive_utc())
                .fix()
                .local_minus_utc(),
        ),
        None => 0,
    }
}

/// The transitions of one zone over a grid-aligned range, extended on demand.
#[derive(Debug, Clone)]
pub(crate) struct OffsetTable {
    tz: Tz,
    /// Covered range `[lo, hi]`, both chunk boundaries; `lo > hi` when empty.
    lo: i64,
    hi: i64,
    /// Offset at `lo`.
    base: i64,
    /// `(instant, offset from that instant on)`, ascending, all in `(lo, hi]`.
    changes: Vec<(i64, i64)>,
}

impl OffsetTable {
    /// An empty table for `tz`.
    pub(crate) fn new(tz: Tz) -> Self {
        OffsetTable {
            tz,
            lo: 1,
            hi: 0,
            base: 0,
            changes: Vec::new(),
        }
    }

    /// Makes sure the table covers `[a, b]` (after clamping).
    fn ensure(&mut self, a: i64, b: i64) {
        let a = a.clamp(-CLAMP, CLAMP);
        let b = b.clamp(-CLAMP, CLAMP).max(a);
        let ga = a.div_euclid(CHUNK_SECS) * CHUNK_SECS;
        let gb = b.div_euclid(CHUNK_SECS) * CHUNK_SECS + CHUNK_SECS;
        let empty = self.lo > self.hi;
        let too_wide = gb.max(self.hi) - ga.min(self.lo) > MAX_SPAN;
        if empty || too_wide || gb < self.lo - MAX_GAP || ga > self.hi + MAX_GAP {
            let (base, changes) = chunks(self.tz, ga, gb);
            self.lo = ga;
            self.hi = gb;
            self.base = base;
            self.changes = changes;
            return;
        }
        if ga < self.lo {
            let (base, mut changes) = chunks(self.tz, ga, self.lo);
            changes.append(&mut self.changes);
            self.changes = changes;
            self.base = base;
            self.lo = ga;
        }
        if gb > self.hi {
            let (_, mut changes) = chunks(self.tz, self.hi, gb);
            self.changes.append(&mut changes);
            self.hi = gb;
        }
    }

    /// Calls `f(start, end, offset)` for each constant-offset piece of `[a, b)`, in order.
    pub(crate) fn for_each_segment(&mut self, a: i64, b: i64, mut f: impl FnMut(i64, i64, i64)) {
        if b <= a {
            return;
        }
        self.ensure(a, b);
        let first = self.changes.partition_point(|&(at, _)| at <= a);
        let mut offset = match first.checked_sub(1).and_then(|i| self.changes.get(i)) {
            Some(&(_, o)) => o,
            None => self.base,
        };
        let mut start = a;
        for &(at, o) in self.changes.get(first..).unwrap_or_default() {
            if at >= b {
                break;
            }
            f(start, at, offset);
            start = at;
            offset = o;
        }
        f(start, b, offset);
    }

    /// Appends the instants `t` with `s <= L(t) < e` (local seconds) to `out`, as
    /// possibly touching pieces in ascending order.
    pub(crate) fn preimage(&mut self, s: i64, e: i64, out: &mut Vec<Interval>) {
        if e <= s {
            return;
        }
        let lo = s.saturating_sub(OFFSET_BOUND);
        let hi = e.saturating_add(OFFSET_BOUND);
        let piece = |table: &mut Self, a: i64, b: i64, out: &mut Vec<Interval>| {
            table.for_each_segment(a, b, |seg_start, seg_end, o| {
                let p = seg_start.max(s.saturating_sub(o));
                let q = seg_end.min(e.saturating_sub(o));
                if p < q {
                    out.push(Interval::new(p, q));
                }
            });
        };
        let inner_lo = s.saturating_add(OFFSET_BOUND);
        let inner_hi = e.saturating_sub(OFFSET_BOUND);
        if inner_hi.saturating_sub(inner_lo) <= 4 * OFFSET_BOUND {
            piece(self, lo, hi, out);
        } else {
            // Far from both ends every instant is inside: |L(t) - t| <= OFFSET_BOUND.
            piece(self, lo, inner_lo, out);
            out.push(Interval::new(inner_lo, inner_hi));
            piece(self, inner_hi, hi, out);
        }
    }

    /// The first instant whose local time (local seconds) is at least `s`.
    pub(crate) fn first_reaching(&mut self, s: i64) -> i64 {
        let mut found = None;
        let lo = s.saturating_sub(OFFSET_BOUND);
        let hi = s.saturating_add(OFFSET_BOUND).saturating_add(1);
        self.for_each_segment(lo, hi, |seg_start, seg_end, o| {
            if found.is_none() {
                let p = seg_start.max(s.saturating_sub(o));
                if p < seg_end {
                    found = Some(p);
                }
            }
        });
        found.unwrap_or(s)
    }

    /// The offset in force over all of `[p, q]` (`p <= t <= q`), or `None` when it
    /// changes inside.
    ///
    /// Usually one binary search over what the table already holds; the table grows
    /// only when `[p, q]` reaches past it.
    pub(crate) fn constant_over(&mut self, p: i64, q: i64) -> Option<i64> {
        if !(-CLAMP..=CLAMP).contains(&p) || !(-CLAMP..=CLAMP).contains(&q) || q < p {
            return None;
        }
        if p < self.lo || q > self.hi {
            self.ensure(p, q);
        }
        let i = self.changes.partition_point(|&(at, _)| at <= p);
        if self.changes.get(i).is_some_and(|&(at, _)| at <= q) {
            return None;
        }
        match i.checked_sub(1).and_then(|i| self.changes.get(i)) {
            Some(&(_, o)) => Some(o),
            None => Some(self.base),
        }
    }

    /// The constant-offset piece around `x`: `(a, b, o)` with offset `o` on `[a, b)`
    /// and `a <= x < b`, where `a` and `b` are changes of offset or the edges of what
    /// the table holds (the table grows as pieces further out are asked for). `None`
    /// near the ends of time.
    pub(crate) fn segment(&mut self, x: i64) -> Option<(i64, i64, i64)> {
        if !(-CLAMP / 2..=CLAMP / 2).contains(&x) {
            return None;
        }
        if x < self.lo || x >= self.hi {
            self.ensure(x, x);
        }
        let i = self.changes.partition_point(|&(at, _)| at <= x);
        let (a, o) = match i.checked_sub(1).and_then(|i| self.changes.get(i)) {
            Some(&(at, o)) => (at, o),
            None => (self.lo, self.base),
        };
        let b = self.changes.get(i).map_or(self.hi, |&(at, _)| at);
        Some((a, b, o))
    }

    /// The first change of offset after `p`, or `limit` (at most 500 days after `p`)
    /// when there is none up to there (the offset is then the same over all of
    /// `[p, limit)`); `None` near the ends of time.
    pub(crate) fn offset_steady_until(&mut self, p: i64, limit: i64) -> Option<i64> {
        if !(-CLAMP / 2..=CLAMP / 2).contains(&p) {
            return None;
        }
        // Never more than half a table's span ahead: the answer may always be less.
        let limit = limit.min(CLAMP / 2).min(p.saturating_add(MAX_SPAN / 2));
        let mut q = p.saturating_add(CHUNK_SECS);
        loop {
            self.ensure(p, q.min(limit));
            let i = self.changes.partition_point(|&(at, _)| at <= p);
            if let Some(&(at, _)) = self.changes.get(i) {
                return Some(at.min(limit.max(p)));
            }
            if q >= limit {
                return Some(limit.max(p));
            }
            q = q.saturating_add(q.saturating_sub(p)).min(limit);
        }
    }

    /// The local seconds of instant `t`.
    pub(crate) fn local(&mut self, t: Instant) -> i64 {
        let mut offset = 0;
        self.for_each_segment(t, t.saturating_add(1), |_, _, o| offset = o);
        t.saturating_add(offset)
    }
}

/// Samples `[ga, gb]` (grid points) and returns the offset at `ga` and every change in
/// `(ga, gb]`.
fn scan(tz: Tz, ga: i64, gb: i64) -> (i64, Vec<(i64, i64)>) {
    let base = offset_at(tz, ga);
    let mut changes = Vec::new();
    let mut g = ga;
    let mut prev = base;
    while g < gb {
        let next = g.saturating_add(SAMPLE_STEP_SECS);
        let o = offset_at(tz, next);
        if o != prev {
            find_changes(tz, g, prev, next, o, &mut changes);
        }
        prev = o;
        g = next;
    }
    (base, changes)
}

/// Finds the changes in `(lo, hi]` given `offset(lo) == o_lo != o_hi == offset(hi)`.
fn find_changes(tz: Tz, mut lo: i64, mut o_lo: i64, hi: i64, o_hi: i64, out: &mut Vec<(i64, i64)>) {
    while o_lo != o_hi && lo < hi {
        // First instant in (lo, hi] whose offset differs from o_lo.
        let (mut a, mut b) = (lo, hi);
        while b - a > 1 {
            let mid = a + (b - a) / 2;
            if offset_at(tz, mid) == o_lo {
                a = mid;
            } else {
                b = mid;
            }
        }
        let o = offset_at(tz, b);
        out.push((b, o));
        lo = b;
        o_lo = o;
    }
}
