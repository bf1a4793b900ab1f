//! Property tests: the time module against a brute-force scanner written separately
//! here, which converts each instant to local time with chrono-tz and applies the
//! literal rules of the design (no intervals, no segments, no caching).

use super::*;
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, Offset, TimeZone};
use chrono_tz::Tz;
use proptest::prelude::*;
use proptest::test_runner::FileFailurePersistence;
use std::cell::RefCell;
use std::collections::HashMap;

/// Proptest's configuration with `cases` cases, its failures kept next to this file
/// (`properties.proptest-regressions`) rather than under `proptest-regressions/`.
fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..ProptestConfig::default()
    }
}

const ZONES: &[Tz] = &[
    Tz::UTC,
    Tz::America__New_York,
    Tz::America__Los_Angeles,
    Tz::America__Santiago,
    Tz::Europe__London,
    Tz::Europe__Berlin,
    Tz::Asia__Tokyo,
    Tz::Asia__Kolkata,
    Tz::Asia__Kathmandu,
    Tz::Australia__Sydney,
    Tz::Australia__Lord_Howe,
    Tz::Pacific__Chatham,
];

fn local(tz: Tz, t: i64) -> NaiveDateTime {
    tz.timestamp_opt(t, 0).unwrap().naive_local()
}

/// The first instant whose local time reaches `s`, by scanning minutes (every
/// transition of the zones above in 2026..2031 falls on a whole minute). Starts two
/// hours before the naive guess, stepping further back until the local time is before
/// `s`.
fn brute_first_reaching(tz: Tz, s: NaiveDateTime) -> i64 {
    let guess = s.and_utc().timestamp();
    let mut m =
        guess - i64::from(tz.offset_from_utc_datetime(&s).fix().local_minus_utc()) - 2 * 3600;
    while local(tz, m) >= s {
        m -= 3600;
    }
    while local(tz, m) < s {
        m += 60;
    }
    m
}

/// The literal rules of the design, with the elapsed starts remembered.
struct Brute {
    w: ZonedWindow,
    starts: RefCell<HashMap<NaiveDateTime, i64>>,
}

impl Brute {
    fn new(w: &ZonedWindow) -> Self {
        Brute {
            w: *w,
            starts: RefCell::new(HashMap::new()),
        }
    }

    fn first_reaching(&self, s: NaiveDateTime) -> i64 {
        *self
            .starts
            .borrow_mut()
            .entry(s)
            .or_insert_with(|| brute_first_reaching(self.w.tz, s))
    }

    /// Whether the window is open at `t`.
    fn open(&self, t: i64) -> bool {
        let tz = self.w.tz;
        let l = local(tz, t);
        match self.w.shape {
            Shape::Weekly { days, start, end } => {
                let start = Duration::minutes(i64::from(start));
                let back = match end {
                    End::Wall(_) => 1,
                    End::Elapsed(d) => d / 86_400 + 2,
                };
                (0..=back).any(|k| {
                    let d = l.date() - Duration::days(k);
                    if !days.contains(d.weekday()) {
                        return false;
                    }
                    let s = d.and_hms_opt(0, 0, 0).unwrap() + start;
                    match end {
                        End::Wall(e) => {
                            let mut e =
                                d.and_hms_opt(0, 0, 0).unwrap() + Duration::minutes(i64::from(e));
                            if e <= s {
                                e += Duration::days(1);
                            }
                            s <= l && l < e
                        }
                        End::Elapsed(secs) => {
                            let first = self.first_reaching(s);
                            first <= t && t < first + secs
                        }
                    }
                })
            }
            Shape::Once { start, end } => match end {
                OnceEnd::Wall(e) => start <= l && l < e,
                OnceEnd::Elapsed(secs) => {
                    let first = self.first_reaching(start);
                    first <= t && t < first + secs
                }
            },
        }
    }
}

fn zone() -> impl Strategy<Value = Tz> {
    proptest::sample::select(ZONES)
}

/// Minutes of the day, biased toward the small hours where transitions happen.
fn minute() -> impl Strategy<Value = u16> {
    prop_oneof![0u16..1440, (0u16..16).prop_map(|q| q * 15), Just(0u16)]
}

fn days() -> impl Strategy<Value = Days> {
    prop_oneof![1u8..128, Just(0x7f)].prop_map(Days::from_bits)
}

fn weekly() -> impl Strategy<Value = Shape> {
    let end = prop_oneof![
        minute().prop_map(End::Wall),
        (1i64..=48 * 4).prop_map(|q| End::Elapsed(q * 900)),
        (1i64..=200).prop_map(|h| End::Elapsed(h * 3600)),
    ];
    (days(), minute(), end).prop_map(|(days, start, end)| Shape::Weekly { days, start, end })
}

/// The instants in `year` at which `tz`'s offset changes, by an hourly scan refined
/// to the minute.
fn transitions(tz: Tz, year: i32) -> Vec<i64> {
    thread_local! {
        static MEMO: RefCell<HashMap<(Tz, i32), Vec<i64>>> = RefCell::new(HashMap::new());
    }
    let offset = |t: i64| tz.offset_from_utc_datetime(&utc(t)).fix().local_minus_utc();
    MEMO.with(|memo| {
        memo.borrow_mut()
            .entry((tz, year))
            .or_insert_with(|| {
                let start = year_start(year);
                let end = year_start(year + 1);
                let mut out = Vec::new();
                let mut t = start;
                while t < end {
                    if offset(t) != offset(t + 3600) {
                        let mut m = t;
                        while offset(m) == offset(t) {
                            m += 60;
                        }
                        out.push(m);
                    }
                    t += 3600;
                }
                out
            })
            .clone()
    })
}

fn utc(t: i64) -> NaiveDateTime {
    chrono::DateTime::from_timestamp(t, 0).unwrap().naive_utc()
}

fn year_start(year: i32) -> i64 {
    NaiveDate::from_ymd_opt(year, 1, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc()
        .timestamp()
}

/// Where a test instant lies: anywhere in 2026..=2030, or within a few days of one of
/// the zone's clock changes that year.
#[derive(Debug, Clone, Copy)]
enum When {
    Anywhere(i64),
    NearChange { year: i32, index: usize, delta: i64 },
}

impl When {
    fn instant(self, tz: Tz) -> i64 {
        match self {
            When::Anywhere(t) => t,
            When::NearChange { year, index, delta } => {
                let changes = transitions(tz, year);
                match changes.get(index % changes.len().max(1)) {
                    Some(t) => t + delta,
                    None => year_start(year) + 150 * 86_400 + delta,
                }
            }
        }
    }
}

/// An instant in 2026..=2030, often near the seasons' clock changes.
fn instant() -> impl Strategy<Value = i64> {
    let day = prop_oneof![0i64..365, 55i64..100, 235i64..310];
    (2026i32..=2030, day, 0i64..86_400).prop_map(|(y, d, s)| year_start(y) + d * 86_400 + s)
}

fn when() -> impl Strategy<Value = When> {
    prop_oneof![
        instant().prop_map(When::Anywhere),
        (2026i32..=2030, 0usize..4, -3 * 86_400i64..86_400)
            .prop_map(|(year, index, delta)| { When::NearChange { year, index, delta } }),
        (2026i32..=2030, 0usize..4, -4 * 3600i64..4 * 3600)
            .prop_map(|(year, index, delta)| { When::NearChange { year, index, delta } }),
    ]
}

fn once() -> impl Strategy<Value = Shape> {
    let end = prop_oneof![
        (1i64..=20 * 24 * 4).prop_map(|q| (true, q * 900)),
        (1i64..=48 * 4).prop_map(|q| (false, q * 900)),
    ];
    (instant(), end).prop_map(|(t, (wall, len))| {
        let start = utc(t / 900 * 900);
        Shape::Once {
            start,
            end: if wall {
                OnceEnd::Wall(start + Duration::seconds(len))
            } else {
                OnceEnd::Elapsed(len)
            },
        }
    })
}

fn window() -> impl Strategy<Value = ZonedWindow> {
    (prop_oneof![3 => weekly(), 1 => once()], zone()).prop_map(|(s, tz)| ZonedWindow::new(s, tz))
}

const SCAN_DAYS: i64 = 9;

proptest! {
    #![proptest_config(config(300))]

    #[test]
    fn is_open_matches_the_literal_rule(w in window(), when in when()) {
        let t = when.instant(w.tz);
        let stream = WindowStream::new(&w).unwrap();
        let brute = Brute::new(&w).open(t);
        prop_assert_eq!(stream.is_open(t), brute, "{:?} at {}", w, t);
        prop_assert_eq!(is_open(&w, t), Ok(brute));
    }

    #[test]
    fn next_interval_matches_a_minute_scan(w in window(), when in when()) {
        let t = when.instant(w.tz) / 60 * 60;
        let stream = WindowStream::new(&w).unwrap();
        let got = stream.next_interval(t);
        let brute = Brute::new(&w);
        let end_of_scan = t + SCAN_DAYS * 86_400;
        // First open minute at or after t.
        let mut m = t;
        while m < end_of_scan && !brute.open(m) {
            m += 60;
        }
        if m >= end_of_scan {
            prop_assert!(got.is_none_or(|iv| iv.start >= end_of_scan), "{:?}: {:?}", w, got);
            return Ok(());
        }
        let iv = got.unwrap();
        if m == t {
            prop_assert!(iv.start <= t, "{:?}: {:?} should contain {}", w, iv, t);
        } else {
            prop_assert_eq!(iv.start, m, "{:?}: {:?}", w, iv);
        }
        // First closed minute after that.
        let mut e = m;
        while e < end_of_scan && brute.open(e) {
            e += 60;
        }
        if e < end_of_scan {
            prop_assert_eq!(iv.end, e, "{:?}: {:?}", w, iv);
        } else {
            prop_assert!(iv.end >= end_of_scan, "{:?}: {:?}", w, iv);
        }
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn earliest_matches_a_minute_scan(
        a in window(),
        b in window(),
        runway in prop_oneof![Just(0i64), Just(900), Just(3600), Just(3 * 3600)],
        when in when(),
    ) {
        let from = when.instant(a.tz) / 60 * 60;
        let minutes = (SCAN_DAYS * 1440) as usize;
        let (ba, bb) = (Brute::new(&a), Brute::new(&b));
        let open: Vec<bool> = (0..minutes)
            .map(|k| {
                let m = from + 60 * k as i64;
                ba.open(m) && bb.open(m)
            })
            .collect();
        let need = (runway / 60).max(1) as usize;
        // Candidates s with the whole runway inside the scan.
        let last = minutes - need;
        let brute = (0..=last)
            .find(|&k| open[k..k + need].iter().all(|&o| o))
            .map(|k| from + 60 * k as i64);
        let sa = WindowStream::new(&a).unwrap();
        let sb = WindowStream::new(&b).unwrap();
        let streams: [&dyn IntervalStream; 2] = [&sa, &sb];
        let got = earliest(&streams, from, runway, from + 60 * last as i64);
        prop_assert_eq!(got.map(|iv| iv.start), brute, "{:?} {:?} runway {}", a, b, runway);
        if let Some(iv) = got {
            prop_assert!(iv.end - iv.start >= runway);
        }
    }
}
