//! Hand-worked cases. Each comment shows the arithmetic; `Z` times are UTC.

use super::zone::offset_at;
use super::*;
use chrono::{NaiveDate, NaiveDateTime, Weekday};
use chrono_tz::Tz;

fn at(s: &str) -> Instant {
    parse_at(s).unwrap()
}

fn hm(s: &str) -> u16 {
    let (h, m) = s.split_once(':').unwrap();
    h.parse::<u16>().unwrap() * 60 + m.parse::<u16>().unwrap()
}

fn wall(days: Days, start: &str, end: &str, tz: Tz) -> WindowStream {
    let shape = Shape::Weekly {
        days,
        start: hm(start),
        end: End::Wall(hm(end)),
    };
    WindowStream::new(&ZonedWindow::new(shape, tz)).unwrap()
}

fn elapsed(days: Days, start: &str, secs: i64, tz: Tz) -> WindowStream {
    let shape = Shape::Weekly {
        days,
        start: hm(start),
        end: End::Elapsed(secs),
    };
    WindowStream::new(&ZonedWindow::new(shape, tz)).unwrap()
}

fn naive(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").unwrap()
}

fn once(start: &str, end: &str, tz: Tz) -> WindowStream {
    let shape = Shape::Once {
        start: naive(start),
        end: OnceEnd::Wall(naive(end)),
    };
    WindowStream::new(&ZonedWindow::new(shape, tz)).unwrap()
}

fn day(d: Weekday) -> Days {
    Days::empty().with(d)
}

fn iv(a: &str, b: &str) -> Interval {
    Interval::new(at(a), at(b))
}

/// The zone data says: offset `before` up to `t`, `after` from `t` (seconds east).
fn transition(tz: Tz, t: &str, before: i64, after: i64) {
    let t = at(t);
    assert_eq!(offset_at(tz, t - 1), before, "{tz} before {t}");
    assert_eq!(offset_at(tz, t), after, "{tz} at {t}");
}

const H: i64 = 3600;

#[test]
fn new_york_spring_forward_shortens_a_range() {
    // 2026-03-08 02:00 EST (-5) jumps to 03:00 EDT (-4) at 07:00Z.
    transition(
        Tz::America__New_York,
        "2026-03-08T07:00:00Z",
        -5 * H,
        -4 * H,
    );
    // sun 01:00-04:00: EST piece [01:00+5h, 04:00+5h) ∩ (-∞, 07:00Z) = [06:00Z, 07:00Z);
    // EDT piece [01:00+4h, 04:00+4h) ∩ [07:00Z, ∞) = [07:00Z, 08:00Z). Total 2h.
    let w = wall(day(Weekday::Sun), "01:00", "04:00", Tz::America__New_York);
    let got = w.next_interval(at("2026-03-08T00:00:00Z")).unwrap();
    assert_eq!(got, iv("2026-03-08T06:00:00Z", "2026-03-08T08:00:00Z"));
    assert_eq!(got.len(), 2 * H);
}

#[test]
fn new_york_start_in_the_gap_opens_when_the_clock_jumps() {
    // sun 02:30-05:00: 02:30 does not exist on 2026-03-08; the first instant whose
    // local time is >= 02:30 is 07:00Z (03:00 EDT); 05:00 EDT = 09:00Z.
    let w = wall(day(Weekday::Sun), "02:30", "05:00", Tz::America__New_York);
    let got = w.next_interval(at("2026-03-08T00:00:00Z")).unwrap();
    assert_eq!(got, iv("2026-03-08T07:00:00Z", "2026-03-08T09:00:00Z"));
    // sun 02:30 for 1h: starts when the clock jumps (07:00Z), lasts one elapsed hour.
    let e = elapsed(day(Weekday::Sun), "02:30", H, Tz::America__New_York);
    let got = e.next_interval(at("2026-03-08T00:00:00Z")).unwrap();
    assert_eq!(got, iv("2026-03-08T07:00:00Z", "2026-03-08T08:00:00Z"));
}

#[test]
fn new_york_fall_back_lengthens_a_range() {
    // 2026-11-01 02:00 EDT (-4) falls back to 01:00 EST (-5) at 06:00Z.
    transition(
        Tz::America__New_York,
        "2026-11-01T06:00:00Z",
        -4 * H,
        -5 * H,
    );
    // sun 00:00-03:00: EDT piece [04:00Z, 07:00Z) ∩ (-∞, 06:00Z) = [04:00Z, 06:00Z);
    // EST piece [05:00Z, 08:00Z) ∩ [06:00Z, ∞) = [06:00Z, 08:00Z). Total 4h.
    let w = wall(day(Weekday::Sun), "00:00", "03:00", Tz::America__New_York);
    let got = w.next_interval(at("2026-10-31T12:00:00Z")).unwrap();
    assert_eq!(got, iv("2026-11-01T04:00:00Z", "2026-11-01T08:00:00Z"));
    assert_eq!(got.len(), 4 * H);
}

#[test]
fn new_york_repeated_hour_is_literal() {
    // sun 01:30-05:00 on 2026-11-01: EDT piece [05:30Z, 09:00Z) ∩ (-∞, 06:00Z) =
    // [05:30Z, 06:00Z); EST piece [06:30Z, 10:00Z) ∩ [06:00Z, ∞) = [06:30Z, 10:00Z).
    // Closed 06:00Z-06:30Z, i.e. 01:00-01:30 EST, whose local time is before 01:30.
    let w = wall(day(Weekday::Sun), "01:30", "05:00", Tz::America__New_York);
    let t = at("2026-11-01T00:00:00Z");
    assert_eq!(
        w.next_interval(t).unwrap(),
        iv("2026-11-01T05:30:00Z", "2026-11-01T06:00:00Z")
    );
    assert_eq!(
        w.next_interval(at("2026-11-01T06:00:00Z")).unwrap(),
        iv("2026-11-01T06:30:00Z", "2026-11-01T10:00:00Z")
    );
    assert!(!w.is_open(at("2026-11-01T06:15:00Z")));
    assert!(w.is_open(at("2026-11-01T05:45:00Z")));
    // sun 01:30 for 1h starts at the first 01:30 (EDT, 05:30Z).
    let e = elapsed(day(Weekday::Sun), "01:30", H, Tz::America__New_York);
    assert_eq!(
        e.next_interval(t).unwrap(),
        iv("2026-11-01T05:30:00Z", "2026-11-01T06:30:00Z")
    );
}

#[test]
fn berlin_both_changes() {
    // 2026-03-29 01:00Z: CET (+1) -> CEST (+2), local 02:00 -> 03:00.
    transition(Tz::Europe__Berlin, "2026-03-29T01:00:00Z", H, 2 * H);
    // sun 01:00-04:00: CET piece [00:00Z, 03:00Z) ∩ (-∞, 01:00Z) = [00:00Z, 01:00Z);
    // CEST piece [23:00Z, 02:00Z) ∩ [01:00Z, ∞) = [01:00Z, 02:00Z). 2h.
    let w = wall(day(Weekday::Sun), "01:00", "04:00", Tz::Europe__Berlin);
    assert_eq!(
        w.next_interval(at("2026-03-28T12:00:00Z")).unwrap(),
        iv("2026-03-29T00:00:00Z", "2026-03-29T02:00:00Z")
    );
    // 2026-10-25 01:00Z: CEST (+2) -> CET (+1), local 03:00 -> 02:00.
    transition(Tz::Europe__Berlin, "2026-10-25T01:00:00Z", 2 * H, H);
    // sun 02:00-03:00: CEST piece [00:00Z, 01:00Z); CET piece [01:00Z, 02:00Z). 2h.
    let w = wall(day(Weekday::Sun), "02:00", "03:00", Tz::Europe__Berlin);
    assert_eq!(
        w.next_interval(at("2026-10-24T12:00:00Z")).unwrap(),
        iv("2026-10-25T00:00:00Z", "2026-10-25T02:00:00Z")
    );
}

#[test]
fn sydney_both_changes() {
    // 2026-04-05 03:00 AEDT (+11) -> 02:00 AEST (+10) at 2026-04-04 16:00Z.
    transition(
        Tz::Australia__Sydney,
        "2026-04-04T16:00:00Z",
        11 * H,
        10 * H,
    );
    // sun 02:00-03:00: AEDT piece [15:00Z, 16:00Z); AEST piece [16:00Z, 17:00Z). 2h.
    let w = wall(day(Weekday::Sun), "02:00", "03:00", Tz::Australia__Sydney);
    assert_eq!(
        w.next_interval(at("2026-04-04T00:00:00Z")).unwrap(),
        iv("2026-04-04T15:00:00Z", "2026-04-04T17:00:00Z")
    );
    // 2026-10-04 02:00 AEST (+10) -> 03:00 AEDT (+11) at 2026-10-03 16:00Z.
    transition(
        Tz::Australia__Sydney,
        "2026-10-03T16:00:00Z",
        10 * H,
        11 * H,
    );
    // sun 02:00-03:00 lies wholly in the gap: AEST piece [16:00Z, 17:00Z) ∩ (-∞, 16:00Z)
    // and AEDT piece [15:00Z, 16:00Z) ∩ [16:00Z, ∞) are both empty. The next opening is
    // sun 2026-10-11 02:00 AEDT = 2026-10-10 15:00Z.
    assert!(!w.is_open(at("2026-10-03T16:00:00Z")));
    assert_eq!(
        w.next_interval(at("2026-10-03T12:00:00Z")).unwrap(),
        iv("2026-10-10T15:00:00Z", "2026-10-10T16:00:00Z")
    );
    // sun 02:00 for 1h opens when the clock jumps, 16:00Z.
    let e = elapsed(day(Weekday::Sun), "02:00", H, Tz::Australia__Sydney);
    assert_eq!(
        e.next_interval(at("2026-10-03T12:00:00Z")).unwrap(),
        iv("2026-10-03T16:00:00Z", "2026-10-03T17:00:00Z")
    );
}

#[test]
fn lord_howe_half_hour_shift() {
    // 2026-04-05 02:00 (+11) -> 01:30 (+10:30) at 2026-04-04 15:00Z.
    transition(
        Tz::Australia__Lord_Howe,
        "2026-04-04T15:00:00Z",
        11 * H,
        10 * H + 1800,
    );
    // sun 01:30-02:00: +11 piece [14:30Z, 15:00Z) ∩ (-∞, 15:00Z) = [14:30Z, 15:00Z);
    // +10:30 piece [15:00Z, 15:30Z) ∩ [15:00Z, ∞) = [15:00Z, 15:30Z). One hour.
    let w = wall(
        day(Weekday::Sun),
        "01:30",
        "02:00",
        Tz::Australia__Lord_Howe,
    );
    assert_eq!(
        w.next_interval(at("2026-04-04T00:00:00Z")).unwrap(),
        iv("2026-04-04T14:30:00Z", "2026-04-04T15:30:00Z")
    );
    // 2026-10-04 02:00 (+10:30) -> 02:30 (+11) at 2026-10-03 15:30Z.
    transition(
        Tz::Australia__Lord_Howe,
        "2026-10-03T15:30:00Z",
        10 * H + 1800,
        11 * H,
    );
    // sun 02:00-03:00: +10:30 piece [15:30Z, 16:30Z) ∩ (-∞, 15:30Z) = ∅;
    // +11 piece [15:00Z, 16:00Z) ∩ [15:30Z, ∞) = [15:30Z, 16:00Z). Half an hour.
    let w = wall(
        day(Weekday::Sun),
        "02:00",
        "03:00",
        Tz::Australia__Lord_Howe,
    );
    assert_eq!(
        w.next_interval(at("2026-10-03T00:00:00Z")).unwrap(),
        iv("2026-10-03T15:30:00Z", "2026-10-03T16:00:00Z")
    );
}

#[test]
fn kathmandu_and_kolkata_odd_offsets() {
    // Kathmandu is +05:45: thu 22:00 = 16:15Z, fri 04:00 = 22:15Z.
    let w = wall(Days::all(), "22:00", "04:00", Tz::Asia__Kathmandu);
    assert!(!w.is_open(at("2026-11-26T16:14:59Z")));
    assert!(w.is_open(at("2026-11-26T16:15:00Z")));
    assert_eq!(
        w.next_interval(at("2026-11-26T12:00:00Z")).unwrap(),
        iv("2026-11-26T16:15:00Z", "2026-11-26T22:15:00Z")
    );
    // Kolkata is +05:30: mon..fri 09:00-17:00 = 03:30Z-11:30Z.
    let w = wall(
        Days::range(Weekday::Mon, Weekday::Fri),
        "09:00",
        "17:00",
        Tz::Asia__Kolkata,
    );
    assert_eq!(
        w.next_interval(at("2026-11-26T12:00:00Z")).unwrap(),
        iv("2026-11-27T03:30:00Z", "2026-11-27T11:30:00Z")
    );
    // Friday 11:30Z closes; Saturday and Sunday are not in the set: Monday 03:30Z.
    assert_eq!(
        w.next_interval(at("2026-11-27T11:30:00Z")).unwrap(),
        iv("2026-11-30T03:30:00Z", "2026-11-30T11:30:00Z")
    );
}

#[test]
fn santiago_changes_at_midnight() {
    // 2026-04-05 00:00 (-03) falls back to 2026-04-04 23:00 (-04) at 03:00Z.
    transition(
        Tz::America__Santiago,
        "2026-04-05T03:00:00Z",
        -3 * H,
        -4 * H,
    );
    // sat 23:00-00:00 (Saturday 2026-04-04): -03 piece [02:00Z, 03:00Z);
    // -04 piece [03:00Z, 04:00Z) ∩ [03:00Z, ∞). Two hours.
    let w = wall(day(Weekday::Sat), "23:00", "00:00", Tz::America__Santiago);
    assert_eq!(
        w.next_interval(at("2026-04-04T00:00:00Z")).unwrap(),
        iv("2026-04-05T02:00:00Z", "2026-04-05T04:00:00Z")
    );
    // 2026-09-06 00:00 (-04) jumps to 01:00 (-03) at 04:00Z.
    transition(
        Tz::America__Santiago,
        "2026-09-06T04:00:00Z",
        -4 * H,
        -3 * H,
    );
    // sun 00:00-02:00: -04 piece [04:00Z, 06:00Z) ∩ (-∞, 04:00Z) = ∅;
    // -03 piece [03:00Z, 05:00Z) ∩ [04:00Z, ∞) = [04:00Z, 05:00Z). One hour.
    let w = wall(day(Weekday::Sun), "00:00", "02:00", Tz::America__Santiago);
    assert_eq!(
        w.next_interval(at("2026-09-05T12:00:00Z")).unwrap(),
        iv("2026-09-06T04:00:00Z", "2026-09-06T05:00:00Z")
    );
}

#[test]
fn crossing_midnight_and_the_week_boundary() {
    // sun 22:00-02:00 UTC: Sunday 2026-11-29 22:00Z to Monday 02:00Z.
    let w = wall(day(Weekday::Sun), "22:00", "02:00", Tz::UTC);
    assert_eq!(
        w.next_interval(at("2026-11-26T00:00:00Z")).unwrap(),
        iv("2026-11-29T22:00:00Z", "2026-11-30T02:00:00Z")
    );
    assert!(w.is_open(at("2026-11-30T01:59:59Z")));
    assert!(!w.is_open(at("2026-11-30T02:00:00Z")));
    // mon..thu 22:00-04:00 New York at Thu 2026-11-26 10:00Z (05:00 EST, after Wednesday's
    // occurrence closed at 04:00 EST): next is Thu 22:00 EST = Fri 03:00Z, until
    // Fri 04:00 EST = 09:00Z.
    let w = wall(
        Days::range(Weekday::Mon, Weekday::Thu),
        "22:00",
        "04:00",
        Tz::America__New_York,
    );
    let got = w.next_interval(at("2026-11-26T10:00:00Z")).unwrap();
    assert_eq!(got, iv("2026-11-27T03:00:00Z", "2026-11-27T09:00:00Z"));
    assert_eq!(
        format_rfc3339(got.start, Tz::America__New_York).unwrap(),
        "2026-11-26T22:00:00-05:00"
    );
    assert_eq!(
        format_rfc3339_utc(got.start).unwrap(),
        "2026-11-27T03:00:00Z"
    );
    assert_eq!(
        format_human(got.start, Tz::America__New_York).unwrap(),
        "Thu 2026-11-26 22:00 EST"
    );
    // After Friday 04:00 EST nothing until Monday 22:00 EST = Tue 2026-12-01 03:00Z.
    assert_eq!(
        w.next_interval(at("2026-11-27T09:00:00Z")).unwrap().start,
        at("2026-12-01T03:00:00Z")
    );
}

#[test]
fn overlapping_occurrences_merge() {
    // daily 00:00-00:00 is 24h every day: always open.
    let w = wall(Days::all(), "00:00", "00:00", Tz::America__New_York);
    assert_eq!(
        w.next_interval(at("2026-03-08T07:00:00Z")),
        Some(Interval::ALL)
    );
    // daily 20:00 for 30h overlaps the next day's occurrence: one run.
    let w = elapsed(Days::all(), "20:00", 30 * H, Tz::UTC);
    let got = w.next_interval(at("2026-11-26T12:00:00Z")).unwrap();
    assert!(got.start <= at("2026-11-26T12:00:00Z"));
    assert!(got.end > at("2027-06-01T00:00:00Z"));
    // sat 20:00 for 30h (Sat 20:00Z .. Mon 02:00Z) and sun 20:00 for 30h
    // (Sun 20:00Z .. Tue 02:00Z) merge: Sat 2026-11-28 20:00Z .. Tue 2026-12-01 02:00Z.
    let w = elapsed(
        Days::empty().with(Weekday::Sat).with(Weekday::Sun),
        "20:00",
        30 * H,
        Tz::UTC,
    );
    assert_eq!(
        w.next_interval(at("2026-11-26T12:00:00Z")).unwrap(),
        iv("2026-11-28T20:00:00Z", "2026-12-01T02:00:00Z")
    );
    // sat 23:00 for 6h (the design's example): Sat 23:00Z .. Sun 05:00Z.
    let w = elapsed(day(Weekday::Sat), "23:00", 6 * H, Tz::UTC);
    assert_eq!(
        w.next_interval(at("2026-11-26T12:00:00Z")).unwrap(),
        iv("2026-11-28T23:00:00Z", "2026-11-29T05:00:00Z")
    );
}

#[test]
fn one_time_windows() {
    // 2026-12-05 22:00 .. 2026-12-06 06:00 London (GMT, +0).
    let w = once("2026-12-05 22:00", "2026-12-06 06:00", Tz::Europe__London);
    assert_eq!(
        w.next_interval(at("2026-01-01T00:00:00Z")).unwrap(),
        iv("2026-12-05T22:00:00Z", "2026-12-06T06:00:00Z")
    );
    assert_eq!(w.next_interval(at("2026-12-06T06:00:00Z")), None);
    // Three weeks in New York across the fall-back: Oct 20 00:00 EDT = 04:00Z to
    // Nov 10 00:00 EST = 05:00Z.
    let w = once(
        "2026-10-20 00:00",
        "2026-11-10 00:00",
        Tz::America__New_York,
    );
    assert_eq!(
        w.next_interval(at("2026-10-01T00:00:00Z")).unwrap(),
        iv("2026-10-20T04:00:00Z", "2026-11-10T05:00:00Z")
    );
    // An end not after the start: never open.
    let w = once("2026-10-20 00:00", "2026-10-20 00:00", Tz::UTC);
    assert_eq!(w.next_interval(at("2026-10-01T00:00:00Z")), None);
    // Elapsed end from a start in the gap: 2026-03-08 02:30 New York -> 07:00Z, + 2h.
    let shape = Shape::Once {
        start: naive("2026-03-08 02:30"),
        end: OnceEnd::Elapsed(2 * H),
    };
    let w = WindowStream::new(&ZonedWindow::new(shape, Tz::America__New_York)).unwrap();
    assert_eq!(
        w.next_interval(at("2026-03-01T00:00:00Z")).unwrap(),
        iv("2026-03-08T07:00:00Z", "2026-03-08T09:00:00Z")
    );
}

#[test]
fn runway_that_does_not_fit() {
    let w = wall(
        Days::range(Weekday::Mon, Weekday::Thu),
        "22:00",
        "04:00",
        Tz::America__New_York,
    );
    let s: [&dyn IntervalStream; 1] = [&w];
    // Thu 03:30 EST (08:30Z) is inside Wednesday's occurrence, but only 30 minutes of
    // the 1h runway remain: the next fit is Thu 22:00 EST = Fri 2026-11-27 03:00Z.
    let a = assess(&s, &[], at("2026-11-26T08:30:00Z"), H);
    assert!(!a.windows_open);
    assert_eq!(a.closes, None);
    assert_eq!(a.next_open, Some(at("2026-11-27T03:00:00Z")));
    assert_eq!(a.earliest, Some(at("2026-11-27T03:00:00Z")));
    // Fri 03:30 EST (08:30Z), 30 minutes before Thursday's closes: the next fit is
    // Mon 22:00 EST = Tue 2026-12-01 03:00Z.
    let a = assess(&s, &[], at("2026-11-27T08:30:00Z"), H);
    assert_eq!(a.next_open, Some(at("2026-12-01T03:00:00Z")));
    // Without the runway it is open until 04:00 EST = 09:00Z.
    let a = assess(&s, &[], at("2026-11-26T08:30:00Z"), 0);
    assert!(a.windows_open);
    assert_eq!(a.closes, Some(at("2026-11-26T09:00:00Z")));
    assert_eq!(a.earliest, Some(at("2026-11-26T08:30:00Z")));
    // 7h never fits a 6h window.
    let limit = at("2026-11-26T08:30:00Z") + HORIZON_DAYS * DAY_SECS;
    assert_eq!(earliest(&s, at("2026-11-26T08:30:00Z"), 7 * H, limit), None);
    assert_eq!(
        why_no_opening(&s, at("2026-11-26T08:30:00Z"), 7 * H, limit),
        Some(NoOpening::Never(0))
    );
}

#[test]
fn freeze_that_begins_during_the_runway() {
    // Window fri 10:00-18:00 UTC, freeze fri 12:00-23:59 UTC.
    let w = wall(day(Weekday::Fri), "10:00", "18:00", Tz::UTC);
    let f = wall(day(Weekday::Fri), "12:00", "23:59", Tz::UTC);
    let ws: [&dyn IntervalStream; 1] = [&w];
    let fs: [&dyn IntervalStream; 1] = [&f];
    // Fri 2026-11-27 11:30Z with 45m: the runway [11:30, 12:15) meets the freeze at 12:00.
    let a = assess(&ws, &fs, at("2026-11-27T11:30:00Z"), 45 * 60);
    assert!(a.windows_open);
    assert_eq!(a.closes, Some(at("2026-11-27T18:00:00Z")));
    assert_eq!(a.blocking, vec![0]);
    // The freeze ends at 23:59Z.
    assert_eq!(a.freeze_until, Some(at("2026-11-27T23:59:00Z")));
    // Window and no freeze for 45m: next Friday 10:00Z.
    assert_eq!(a.earliest, Some(at("2026-12-04T10:00:00Z")));
    // At 11:00Z, [11:00, 11:45) is clear.
    let a = assess(&ws, &fs, at("2026-11-27T11:00:00Z"), 45 * 60);
    assert!(a.blocking.is_empty());
    assert_eq!(a.freeze_until, None);
    assert_eq!(a.earliest, Some(at("2026-11-27T11:00:00Z")));
}

#[test]
fn windows_that_never_overlap() {
    // weeknights mon..thu 22:00-04:00 New York vs sunday 01:00-05:00 Berlin
    // (= Sat 19:00-23:00 New York): never together.
    let a = wall(
        Days::range(Weekday::Mon, Weekday::Thu),
        "22:00",
        "04:00",
        Tz::America__New_York,
    );
    let b = wall(day(Weekday::Sun), "01:00", "05:00", Tz::Europe__Berlin);
    let c = wall(Days::all(), "00:00", "12:00", Tz::UTC);
    let s: [&dyn IntervalStream; 3] = [&c, &a, &b];
    let from = at("2026-11-26T10:00:00Z");
    let limit = from + HORIZON_DAYS * DAY_SECS;
    assert_eq!(earliest(&s, from, 0, limit), None);
    assert_eq!(
        why_no_opening(&s, from, 0, limit),
        Some(NoOpening::NeverOverlap(1, 2))
    );
    let a = assess(&s, &[], from, 0);
    assert_eq!((a.next_open, a.earliest), (None, None));
}

#[test]
fn calendar_lists_openings() {
    let w = wall(day(Weekday::Sun), "01:00", "04:00", Tz::America__New_York);
    let got = calendar(&w, at("2026-03-01T00:00:00Z"), at("2026-03-16T00:00:00Z"));
    assert_eq!(
        got,
        vec![
            iv("2026-03-01T06:00:00Z", "2026-03-01T09:00:00Z"),
            iv("2026-03-08T06:00:00Z", "2026-03-08T08:00:00Z"),
            iv("2026-03-15T05:00:00Z", "2026-03-15T08:00:00Z"),
        ]
    );
}

#[test]
fn union_and_complement() {
    let a = once("2026-01-01 00:00", "2026-01-02 00:00", Tz::UTC);
    let b = once("2026-01-02 00:00", "2026-01-03 00:00", Tz::UTC);
    let c = once("2026-01-05 00:00", "2026-01-06 00:00", Tz::UTC);
    let parts: [&dyn IntervalStream; 3] = [&c, &b, &a];
    let u = Union::new(&parts);
    assert_eq!(
        u.next_interval(at("2025-12-01T00:00:00Z")),
        Some(iv("2026-01-01T00:00:00Z", "2026-01-03T00:00:00Z"))
    );
    let free = Complement::new(&u);
    assert_eq!(
        free.next_interval(at("2026-01-01T12:00:00Z")),
        Some(iv("2026-01-03T00:00:00Z", "2026-01-05T00:00:00Z"))
    );
    assert_eq!(
        free.next_interval(at("2026-01-06T00:00:00Z")),
        Some(Interval::new(at("2026-01-06T00:00:00Z"), Instant::MAX))
    );
}

#[test]
fn shapes_are_validated() {
    let bad = Shape::Weekly {
        days: Days::all(),
        start: 1440,
        end: End::Wall(0),
    };
    assert_eq!(
        WindowStream::new(&ZonedWindow::new(bad, Tz::UTC)).err(),
        Some(ShapeError::MinuteOutOfRange(1440))
    );
    let bad = Shape::Weekly {
        days: Days::all(),
        start: 0,
        end: End::Elapsed(0),
    };
    assert_eq!(
        is_open(&ZonedWindow::new(bad, Tz::UTC), 0),
        Err(ShapeError::NonPositiveDuration(0))
    );
}

#[test]
fn extreme_instants_do_not_panic() {
    let w = wall(day(Weekday::Sun), "01:00", "04:00", Tz::America__New_York);
    let e = elapsed(day(Weekday::Sat), "23:00", 6 * H, Tz::Pacific__Chatham);
    let first = at("0001-01-01T00:00:00Z");
    let last = at("9999-12-31T23:59:59Z");
    for t in [Instant::MIN, first, 0, last, Instant::MAX] {
        let _ = w.next_interval(t);
        let _ = e.next_interval(t);
        let _ = format_rfc3339(t, Tz::America__New_York);
        let _ = format_human(t, Tz::Asia__Kathmandu);
    }
    assert!(w.next_interval(first).is_some());
    assert!(w.next_interval(last).is_some());
    // Local mean time in New York (-04:56:02) cannot be written in RFC 3339: UTC instead.
    assert_eq!(
        format_rfc3339(first, Tz::America__New_York).unwrap(),
        "0001-01-01T00:00:00Z"
    );
    let limit = last + HORIZON_DAYS * DAY_SECS;
    let s: [&dyn IntervalStream; 2] = [&w, &e];
    let _ = earliest(&s, last, 3600, limit);
    let _ = assess(&s, &s, Instant::MAX, i64::MAX);
    let _ = assess(&s, &s, Instant::MIN, i64::MAX);
}

#[test]
fn offsets_are_within_the_bound() {
    let instants = [
        at("0001-01-01T00:00:00Z"),
        at("1850-01-01T00:00:00Z"),
        at("1900-06-01T00:00:00Z"),
        at("2026-01-01T00:00:00Z"),
        at("2026-07-01T00:00:00Z"),
        at("9999-01-01T00:00:00Z"),
    ];
    for tz in chrono_tz::TZ_VARIANTS {
        for t in instants {
            assert!(offset_at(tz, t).abs() < zone::OFFSET_BOUND, "{tz}");
        }
    }
}

#[test]
fn durations() {
    assert_eq!(parse_duration("45m"), Ok(2700));
    assert_eq!(parse_duration("2h"), Ok(7200));
    assert_eq!(parse_duration("1h30m"), Ok(5400));
    assert_eq!(parse_duration("2d"), Ok(172_800));
    assert_eq!(parse_duration("1d2h3m4s"), Ok(93_784));
    assert_eq!(parse_duration(""), Err(DurationError::Empty));
    assert_eq!(parse_duration("0m"), Err(DurationError::Zero));
    assert_eq!(parse_duration("0h0m"), Err(DurationError::Zero));
    for bad in ["45", "m", "4 5m", "-5m", "1.5h", "5w", "h5"] {
        assert!(
            matches!(parse_duration(bad), Err(DurationError::Malformed(_))),
            "{bad}"
        );
    }
    assert!(matches!(
        parse_duration("30m1h"),
        Err(DurationError::UnitOrder(_))
    ));
    assert!(matches!(
        parse_duration("1h1h"),
        Err(DurationError::UnitOrder(_))
    ));
    assert_eq!(
        parse_duration("99999999999999999999s"),
        Err(DurationError::Overflow)
    );
    assert_eq!(
        parse_duration("999999999999999999d"),
        Err(DurationError::Overflow)
    );
}

#[test]
fn at_values() {
    assert_eq!(parse_at("2026-11-26T10:00:00Z"), Ok(1_795_687_200));
    assert_eq!(parse_at("2026-11-26T15:45:00+05:45"), Ok(1_795_687_200));
    assert_eq!(parse_at("2026-11-26T10:00:00-00:00"), Ok(1_795_687_200));
    assert_eq!(parse_at("2026-11-26T10:00:00.999Z"), Ok(1_795_687_200));
    // Before the epoch, truncation is toward the past.
    assert_eq!(parse_at("1969-12-31T23:59:59.5Z"), Ok(-1));
    // A leap second reads as 23:59:59 of its minute.
    assert_eq!(
        parse_at("2016-12-31T23:59:60Z"),
        Ok(at("2016-12-31T23:59:59Z"))
    );
    assert_eq!(parse_at("0001-01-01T00:00:00Z"), Ok(-62_135_596_800));
    assert_eq!(parse_at("9999-12-31T23:59:59Z"), Ok(253_402_300_799));
    for bad in [
        "",
        "2026-11-26",
        "2026-11-26T10:00:00",
        "2026-13-01T00:00:00Z",
        "x",
    ] {
        assert!(parse_at(bad).is_err(), "{bad}");
    }
    let _ = NaiveDate::from_ymd_opt(2026, 1, 1);
}

mod steady_path {
    //! The pattern shortcut of weekly streams against the occurrence-by-occurrence
    //! path, over every zone chrono-tz knows and instants from 1900 to 2100, many of
    //! them next to a transition.
    use super::*;
    use proptest::prelude::*;

    fn shape() -> impl Strategy<Value = Shape> {
        let end = prop_oneof![
            (0u16..1440).prop_map(End::Wall),
            prop_oneof![
                60i64..=36 * 3600,
                Just(7 * 86_400 - 60),
                Just(7 * 86_400),
                (86_400i64..8 * 86_400)
            ]
            .prop_map(|d| End::Elapsed(d / 60 * 60)),
        ];
        (1u8..128, 0u16..1440, end).prop_map(|(bits, start, end)| Shape::Weekly {
            days: Days::from_bits(bits),
            start,
            end,
        })
    }

    /// An instant, or an instant within a day of a zone's change of offset.
    fn instant(tz: Tz) -> impl Strategy<Value = Instant> {
        let lo = -2_208_988_800i64; // 1900-01-01
        let hi = 4_102_444_800i64; // 2100-01-01
        (lo..hi, any::<bool>(), -86_400i64..86_400).prop_map(move |(t, near, d)| {
            if !near {
                return t;
            }
            // The next change of offset after t, within 400 days.
            let limit = t + 400 * 86_400;
            match crate::time::zone::OffsetTable::new(tz).offset_steady_until(t, limit) {
                Some(u) if u < limit => return u + d,
                _ => {}
            }
            t
        })
    }

    fn case() -> impl Strategy<Value = (ZonedWindow, Instant)> {
        (
            proptest::sample::select(chrono_tz::TZ_VARIANTS.to_vec()),
            shape(),
        )
            .prop_flat_map(|(tz, shape)| (Just(ZonedWindow::new(shape, tz)), instant(tz)))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

        #[test]
        fn agrees_with_the_occurrences((w, t) in case()) {
            let fresh = || WindowStream::new(&w).unwrap();
            let (steady, _) = fresh().both_paths(t);
            let (_, general) = fresh().both_paths(t);
            // When t is inside, either path may report the run's start later than it
            // is (never after t); the ends agree.
            let same = |a: Option<Interval>, b: Option<Interval>| match (a, b) {
                (Some(a), Some(b)) if a.start <= t => b.start <= t && a.end == b.end,
                _ => a == b,
            };
            if let Some(iv) = steady {
                prop_assert!(same(steady, general), "{:?} at {}: {:?} {:?}", w, t, steady, general);
                // The direct path's start is a true start: the instant before it is
                // outside.
                let (_, before) = fresh().both_paths(iv.start - 1);
                prop_assert!(
                    before.is_none_or(|b| !b.contains(iv.start - 1)),
                    "{:?} at {}: {:?} continues before its start: {:?}", w, t, iv, before
                );
            }
            let got = fresh().next_interval(t);
            prop_assert!(same(got, general), "{:?} at {}: {:?} {:?}", w, t, got, general);
        }
    }
}

#[test]
fn direct_path_answers_at_transitions() {
    use Weekday::*;
    // Both paths must give `expected`, and the direct one must answer.
    let check = |w: &WindowStream, t: &str, expected: Interval| {
        let (direct, general) = w.both_paths(at(t));
        assert_eq!(direct, Some(expected), "direct at {t}");
        assert_eq!(general, Some(expected), "general at {t}");
    };
    let berlin = Tz::Europe__Berlin;
    // Months from a change: Wed 22:00 CEST (20:00Z) to Thu 04:00 CEST (02:00Z).
    let w = wall(Days::range(Mon, Thu), "22:00", "04:00", berlin);
    check(
        &w,
        "2026-07-15T12:00:00Z",
        iv("2026-07-15T20:00:00Z", "2026-07-16T02:00:00Z"),
    );
    // Berlin springs forward on Sunday 2026-03-29 at 01:00Z (02:00 CET -> 03:00 CEST).
    // From Saturday night the next run is Mon 22:00 CEST = 20:00Z.
    check(
        &w,
        "2026-03-28T23:30:00Z",
        iv("2026-03-30T20:00:00Z", "2026-03-31T02:00:00Z"),
    );
    // A run across the change: Sat 22:00 CET (21:00Z) to Sun 04:00 CEST (02:00Z),
    // five hours of elapsed time.
    let sat = wall(day(Sat), "22:00", "04:00", berlin);
    check(
        &sat,
        "2026-03-28T20:00:00Z",
        iv("2026-03-28T21:00:00Z", "2026-03-29T02:00:00Z"),
    );
    // From inside it, after the change, the start is still found.
    check(
        &sat,
        "2026-03-29T01:30:00Z",
        iv("2026-03-28T21:00:00Z", "2026-03-29T02:00:00Z"),
    );
    // Saturday's occurrence ends (02:30) inside the skipped hour and Sunday's starts
    // (03:00) where the clock lands, so the run goes on: Sat 03:00 CET = 02:00Z to Mon
    // 02:30 CEST = 00:30Z, also when asked at the very instant of the change.
    let weekend = wall(Days::range(Sat, Sun), "03:00", "02:30", berlin);
    for t in ["2026-03-29T00:59:59Z", "2026-03-29T01:00:00Z"] {
        check(
            &weekend,
            t,
            iv("2026-03-28T02:00:00Z", "2026-03-30T00:30:00Z"),
        );
    }
    // Elapsed, next to the change: Sat 23:00 CET = 22:00Z, six hours.
    let e = elapsed(day(Sat), "23:00", 6 * 3600, berlin);
    check(
        &e,
        "2026-03-28T12:00:00Z",
        iv("2026-03-28T22:00:00Z", "2026-03-29T04:00:00Z"),
    );
    // The week after: Sat 23:00 CEST = 21:00Z.
    check(
        &e,
        "2026-03-30T00:00:00Z",
        iv("2026-04-04T21:00:00Z", "2026-04-05T03:00:00Z"),
    );
    // New York falls back on 2026-11-01 at 06:00Z (02:00 EDT -> 01:00 EST): 01:00-01:30
    // happens twice, 05:00Z-05:30Z (EDT) and 06:00Z-06:30Z (EST).
    let ny = wall(Days::all(), "01:00", "01:30", Tz::America__New_York);
    check(
        &ny,
        "2026-11-01T04:00:00Z",
        iv("2026-11-01T05:00:00Z", "2026-11-01T05:30:00Z"),
    );
    check(
        &ny,
        "2026-11-01T05:40:00Z",
        iv("2026-11-01T06:00:00Z", "2026-11-01T06:30:00Z"),
    );
}

mod week_skipping {
    //! The search that skips repeating weeks against the same search without skipping,
    //! over random sets of windows and freezes in zones with and without daylight
    //! saving time, across the whole 400-day horizon.
    use super::super::query::search;
    use super::*;
    use proptest::prelude::*;

    const ZONES: &[Tz] = &[
        Tz::UTC,
        Tz::America__New_York,
        Tz::America__Santiago,
        Tz::Europe__Berlin,
        Tz::Europe__Chisinau,
        Tz::Africa__Casablanca,
        Tz::Asia__Kathmandu,
        Tz::Australia__Lord_Howe,
        Tz::Asia__Tokyo,
    ];

    fn shape() -> impl Strategy<Value = Shape> {
        let weekly = (
            1u8..128,
            (0u16..96).prop_map(|q| q * 15),
            prop_oneof![
                (0u16..96).prop_map(|q| End::Wall(q * 15)),
                (1i64..200).prop_map(|q| End::Elapsed(q * 900)),
            ],
        )
            .prop_map(|(bits, start, end)| Shape::Weekly {
                days: Days::from_bits(bits),
                start,
                end,
            });
        let once = (0i64..500, 1i64..200).prop_map(|(day, hours)| {
            let start = NaiveDate::from_ymd_opt(2026, 1, 1)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                + chrono::Duration::days(day)
                + chrono::Duration::hours(day % 24);
            Shape::Once {
                start,
                end: OnceEnd::Elapsed(hours * 3600),
            }
        });
        prop_oneof![4 => weekly, 1 => once]
    }

    fn window() -> impl Strategy<Value = ZonedWindow> {
        (shape(), proptest::sample::select(ZONES)).prop_map(|(s, z)| ZonedWindow::new(s, z))
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

        #[test]
        fn skipping_weeks_finds_the_same_opening(
            windows in proptest::collection::vec(window(), 1..4),
            freezes in proptest::collection::vec(window(), 0..3),
            from in 1_767_225_600i64..1_893_456_000, // 2026..2030
            runway in prop_oneof![Just(0i64), Just(1800), Just(4 * 3600), Just(30 * 3600)],
        ) {
            let ws: Vec<WindowStream> = windows.iter().map(|w| WindowStream::new(w).unwrap()).collect();
            let fs: Vec<WindowStream> = freezes.iter().map(|w| WindowStream::new(w).unwrap()).collect();
            let f_refs: Vec<&dyn IntervalStream> = fs.iter().map(|f| f as &dyn IntervalStream).collect();
            let union = Union::new(&f_refs);
            let free = Complement::new(&union);
            let mut refs: Vec<&dyn IntervalStream> = ws.iter().map(|w| w as &dyn IntervalStream).collect();
            if !fs.is_empty() {
                refs.push(&free);
            }
            let limit = from + HORIZON_DAYS * DAY_SECS;
            let plain = search(&refs, from, runway, limit, false);
            let skipping = search(&refs, from, runway, limit, true);
            prop_assert_eq!(
                skipping.map(|iv| iv.start),
                plain.map(|iv| iv.start),
                "{:?} freezes {:?} from {} runway {}", windows, freezes, from, runway
            );
        }
    }

    #[test]
    fn a_search_with_no_opening_skips_to_the_next_change() {
        // Reykjavik (UTC all year) and Tokyo (UTC+9) are never both at 01:00-02:00:
        // nothing in 400 days, found by searching one week, not 57.
        let night = |tz| {
            WindowStream::new(&ZonedWindow::new(
                Shape::Weekly {
                    days: Days::all(),
                    start: 60,
                    end: End::Wall(120),
                },
                tz,
            ))
            .unwrap()
        };
        let (a, b) = (night(Tz::Atlantic__Reykjavik), night(Tz::Asia__Tokyo));
        let refs: [&dyn IntervalStream; 2] = [&a, &b];
        let from = at("2026-03-01T00:00:00Z");
        let limit = from + HORIZON_DAYS * DAY_SECS;
        assert_eq!(refs[0].repeats_until(from, limit), limit);
        assert_eq!(search(&refs, from, 0, limit, true), None);
        assert_eq!(search(&refs, from, 0, limit, false), None);
        // Berlin repeats until it springs forward on 2026-03-29 at 01:00Z.
        let berlin = night(Tz::Europe__Berlin);
        assert_eq!(
            berlin.repeats_until(from, limit),
            at("2026-03-29T01:00:00Z")
        );
    }
}

mod formatting {
    //! The hand-written writers against chrono's `format`, over every zone and
    //! instants from year 1 to 9999.
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

        #[test]
        fn writers_match_chrono(
            tz in proptest::sample::select(chrono_tz::TZ_VARIANTS.to_vec()),
            t in prop_oneof![
                -62_135_596_800i64..253_402_300_799, // 0001..9999
                1_735_689_600i64..1_893_456_000,     // 2025..2030
            ],
        ) {
            use chrono::{Offset, TimeZone, Utc};
            let local = tz.timestamp_opt(t, 0).single().unwrap();
            let rfc = if local.offset().fix().local_minus_utc() % 60 != 0 {
                Utc.timestamp_opt(t, 0).single().unwrap().format("%Y-%m-%dT%H:%M:%SZ").to_string()
            } else {
                local.format("%Y-%m-%dT%H:%M:%S%:z").to_string()
            };
            prop_assert_eq!(format_rfc3339(t, tz), Some(rfc));
            prop_assert_eq!(
                format_rfc3339_utc(t),
                Some(Utc.timestamp_opt(t, 0).single().unwrap().format("%Y-%m-%dT%H:%M:%SZ").to_string())
            );
            prop_assert_eq!(
                format_human(t, tz),
                Some(local.format("%a %Y-%m-%d %H:%M %Z").to_string())
            );
        }
    }

    #[test]
    fn years_past_9999_fall_back_to_chrono() {
        let t = 253_402_300_800; // 10000-01-01T00:00:00Z
        assert_eq!(
            format_rfc3339_utc(t).as_deref(),
            Some("+10000-01-01T00:00:00Z")
        );
        assert_eq!(
            format_rfc3339(t, Tz::UTC).as_deref(),
            Some("+10000-01-01T00:00:00+00:00")
        );
        assert_eq!(
            format_human(t, Tz::UTC).as_deref(),
            Some("Sat +10000-01-01 00:00 UTC")
        );
        assert_eq!(
            format_rfc3339_utc(0).as_deref(),
            Some("1970-01-01T00:00:00Z")
        );
    }
}

#[test]
fn writers_at_the_ends_of_chronos_range_do_not_panic() {
    // chrono's own limits, a second either side, in a zone far from UTC.
    for t in [
        chrono::DateTime::<chrono::Utc>::MIN_UTC.timestamp(),
        chrono::DateTime::<chrono::Utc>::MAX_UTC.timestamp(),
    ] {
        for dt in [-1, 0, 1] {
            for tz in [Tz::UTC, Tz::Pacific__Kiritimati, Tz::Etc__GMTPlus12] {
                let _ = format_rfc3339(t + dt, tz);
                let _ = format_human(t + dt, tz);
                let _ = format_rfc3339_utc(t + dt);
            }
        }
    }
}
