//! `changegate windows --format ics`: the calendar as RFC 5545 iCalendar.
//!
//! One `VEVENT` per opening of each window (per site for `local` windows), per
//! active stretch of each freeze, and, for a change's calendar, per interval in which
//! the change may start. Times are UTC (`DTSTART:20261127T030000Z`); the summary
//! names the window, its zone and its local times. Lines end in CRLF and are folded
//! at 75 octets (never inside a UTF-8 character); TEXT values escape `\`, `;`, `,`
//! and line breaks.
//!
//! The output is a pure function of the policy, the inputs and `--from`: each UID is
//! derived from the policy's name, the kind and name of the window or freeze (and its
//! site) and the opening's start, so importing a later export updates the same events
//! instead of duplicating them; `DTSTAMP` is the start of the period (`--from`), not
//! the clock, so the same command gives the same bytes.

use chrono_tz::Tz;
use sha2::{Digest, Sha256};

use changegate::calendar::change::ChangeCalendar;
use changegate::calendar::Calendar;
use changegate::time::{self, Instant};

/// One event, before it is written.
struct Event {
    uid: String,
    start: Instant,
    end: Instant,
    summary: String,
    description: String,
    categories: &'static str,
}

/// The policy calendar as iCalendar. `policy` is the policy's name.
pub(crate) fn policy_calendar(policy: &str, cal: &Calendar) -> String {
    let stamp = parse(&cal.from).unwrap_or(0);
    let mut events = Vec::new();
    push_entries(policy, cal, None, &mut events);
    write_calendar(policy, stamp, &events)
}

/// A change's calendar as iCalendar: the intervals in which it may start, and the
/// stretches of the freezes that apply to it (taken from `policy_cal`).
pub(crate) fn change_calendar(cal: &ChangeCalendar, policy_cal: &Calendar) -> String {
    let stamp = parse(&cal.from).unwrap_or(0);
    let period_end = parse(&cal.to).unwrap_or(stamp);
    let id = cal.change.as_deref().unwrap_or("change");
    let key = digest(&[&cal.policy, "change", id]);
    let mut events = Vec::new();
    let windows: Vec<String> = cal
        .windows
        .iter()
        .map(|w| {
            if w.sites.is_empty() {
                format!("{} ({})", w.name, w.zone)
            } else {
                format!("{} at {} ({})", w.name, w.sites.join(", "), w.zone)
            }
        })
        .collect();
    for o in &cal.openings {
        let end = o.end_secs.unwrap_or(period_end).max(o.start_secs + 1);
        let local = |t: Instant| match cal.display_zone {
            Some(tz) => time::format_human(t, tz),
            None => time::format_rfc3339_utc(t),
        };
        let mut description = format!(
            "Change {id} may start from {} until {} under policy {}.",
            o.starts,
            o.last_start.as_deref().unwrap_or("the end of the period"),
            cal.policy
        );
        if !windows.is_empty() {
            description.push_str(&format!("\nWindows: {}.", windows.join(", ")));
        }
        if cal.runway_minutes > 0 {
            description.push_str(&format!("\nRunway: {} minutes.", cal.runway_minutes));
        }
        events.push(Event {
            uid: format!("start-{key}-{}@changegate", basic(o.start_secs)),
            start: o.start_secs,
            end,
            summary: format!(
                "{id} may start: {} -> {}{}",
                local(o.start_secs).unwrap_or_default(),
                local(end).unwrap_or_default(),
                if windows.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", windows.join(", "))
                }
            ),
            description,
            categories: "CHANGE",
        });
    }
    let freezes: Vec<&str> = cal.freezes.iter().map(|f| f.name.as_str()).collect();
    push_entries(&cal.policy, policy_cal, Some(&freezes), &mut events);
    write_calendar(&cal.policy, stamp, &events)
}

/// Events for the calendar's entries; with `only_freezes`, just those freezes.
fn push_entries(policy: &str, cal: &Calendar, only_freezes: Option<&[&str]>, out: &mut Vec<Event>) {
    for e in &cal.entries {
        if let Some(names) = only_freezes {
            if e.kind != "freeze" || !names.contains(&e.name.as_str()) {
                continue;
            }
        }
        let zone = e.zone.as_deref().unwrap_or("UTC");
        let tz: Tz = zone.parse().unwrap_or(Tz::UTC);
        let site = e.site.as_deref().unwrap_or("");
        let key = digest(&[policy, e.kind, &e.name, site]);
        let place = if site.is_empty() {
            zone.to_owned()
        } else {
            format!("{site}, {zone}")
        };
        for o in &e.openings {
            let (Some(start), Some(end)) = (parse(&o.opens_utc), parse(&o.closes_utc)) else {
                continue;
            };
            let what = if e.kind == "freeze" {
                "freeze"
            } else {
                "window"
            };
            out.push(Event {
                uid: format!("{what}-{key}-{}@changegate", basic(start)),
                start,
                end: end.max(start + 1),
                summary: format!(
                    "{what} {} ({place}): {} -> {}",
                    e.name,
                    time::format_human(start, tz).unwrap_or_default(),
                    time::format_human(end, tz).unwrap_or_default()
                ),
                description: format!(
                    "{}\nPolicy {policy}.{}",
                    e.declaration,
                    e.note
                        .as_deref()
                        .map(|n| format!("\nNote: {n}."))
                        .unwrap_or_default()
                ),
                categories: if e.kind == "freeze" {
                    "FREEZE"
                } else {
                    "WINDOW"
                },
            });
        }
    }
}

fn write_calendar(policy: &str, stamp: Instant, events: &[Event]) -> String {
    let mut out = String::new();
    line(&mut out, "BEGIN:VCALENDAR");
    line(&mut out, "VERSION:2.0");
    line(
        &mut out,
        &format!(
            "PRODID:-//changegate//changegate {}//EN",
            env!("CARGO_PKG_VERSION")
        ),
    );
    line(&mut out, "CALSCALE:GREGORIAN");
    line(&mut out, "METHOD:PUBLISH");
    line(&mut out, &format!("X-WR-CALNAME:{}", text(policy)));
    for e in events {
        line(&mut out, "BEGIN:VEVENT");
        line(&mut out, &format!("UID:{}", e.uid));
        line(&mut out, &format!("DTSTAMP:{}", basic(stamp)));
        line(&mut out, &format!("DTSTART:{}", basic(e.start)));
        line(&mut out, &format!("DTEND:{}", basic(e.end)));
        line(&mut out, &format!("SUMMARY:{}", text(&e.summary)));
        line(&mut out, &format!("DESCRIPTION:{}", text(&e.description)));
        line(&mut out, &format!("CATEGORIES:{}", e.categories));
        line(&mut out, "TRANSP:TRANSPARENT");
        line(&mut out, "END:VEVENT");
    }
    line(&mut out, "END:VCALENDAR");
    out
}

/// Appends one content line, folded at 75 octets, ending in CRLF.
fn line(out: &mut String, content: &str) {
    let mut width = 0usize;
    for c in content.chars() {
        let n = c.len_utf8();
        if width + n > 75 {
            out.push_str("\r\n ");
            width = 1;
        }
        out.push(c);
        width += n;
    }
    out.push_str("\r\n");
}

/// A TEXT value (RFC 5545 §3.3.11): `\`, `;`, `,` escaped, line breaks as `\n`,
/// other control characters dropped (TEXT allows none).
pub(crate) fn text(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push_str("\\n");
                }
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

/// `20261127T030000Z`.
fn basic(t: Instant) -> String {
    time::format_rfc3339_utc(t)
        .map(|s| s.replace(['-', ':'], ""))
        .unwrap_or_default()
}

fn parse(rfc3339: &str) -> Option<Instant> {
    time::parse_at(rfc3339).ok()
}

/// The first 16 hex digits of the SHA-256 of the parts, NUL-separated.
fn digest(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0u8]);
    }
    h.finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_escapes_what_rfc_5545_says() {
        assert_eq!(text("a,b;c\\d\ne\r\nf"), "a\\,b\\;c\\\\d\\ne\\nf");
    }

    #[test]
    fn folding_never_splits_a_character_and_keeps_75_octets() {
        let mut out = String::new();
        let long = format!("SUMMARY:{}", "é".repeat(80));
        line(&mut out, &long);
        for l in out.split("\r\n").filter(|l| !l.is_empty()) {
            assert!(l.len() <= 75, "{} octets: {l:?}", l.len());
        }
        assert_eq!(out.replace("\r\n ", "").trim_end(), long);
    }
}
