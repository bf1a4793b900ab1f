//! `changegate windows --format html`: one self-contained page (no network, no
//! external scripts, fonts or styles) showing the period as a grid.
//!
//! Every row is one zone (or one site, for `local` windows) with its day and hour
//! marks in that zone's local time; all rows share one time axis, so what happens at
//! the same instant lines up. Windows are shaded green, freezes red and hatched, and
//! with `-c` the intervals in which the change may start are a highlighted row of
//! their own. Each block carries its instants (`data-start`, `data-end`, seconds since
//! the epoch) and a small inline script writes where the browser actually drew it
//! (`data-drawn-start-hours`, `data-drawn-end-hours`: hours from the start of the
//! period, measured from the layout) so a test can check the page in a real browser.

use std::fmt::Write as _;

use chrono::{Datelike, NaiveDate, TimeZone, Timelike};
use chrono_tz::Tz;

use changegate::calendar::change::ChangeCalendar;
use changegate::calendar::Calendar;
use changegate::time::{self, Instant};

/// Pixels per hour of the grid.
const PX_PER_HOUR: i64 = 12;
/// Height of one lane (one window or freeze) in a row.
const LANE_PX: i64 = 22;

struct Block {
    kind: &'static str,
    name: String,
    start: Instant,
    end: Instant,
    label: String,
}

struct Row {
    label: String,
    /// The windows and freezes drawn in it.
    names: Vec<String>,
    tz: Tz,
    /// One lane per window or freeze.
    lanes: Vec<Vec<Block>>,
}

/// The page for the policy calendar, and for a change's calendar when given.
pub(crate) fn page(policy: &str, cal: &Calendar, change: Option<&ChangeCalendar>) -> String {
    let from = time::parse_at(&cal.from).unwrap_or(0);
    let to = time::parse_at(&cal.to).unwrap_or(from).max(from + 3600);
    let mut rows: Vec<Row> = Vec::new();
    if let Some(c) = change {
        rows.push(change_row(c, to));
    }
    add_entry_rows(&mut rows, cal);

    let hours = (to - from) / 3600;
    let mut out = String::new();
    let title = match change {
        Some(c) => format!(
            "{} under {}",
            c.change.as_deref().unwrap_or("change"),
            policy
        ),
        None => format!("{policy}: windows and freezes"),
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n",
        esc(&title)
    );
    let _ = writeln!(
        out,
        "<h1>{}</h1>\n<p>From {} to {} (UTC). Each row is in its own local time; rows share one time axis.</p>",
        esc(&title),
        esc(&cal.from),
        esc(&cal.to)
    );
    let _ = writeln!(
        out,
        "<div class=\"grid\" data-from=\"{from}\" data-to=\"{to}\" data-hours=\"{hours}\">"
    );
    for (ri, row) in rows.iter().enumerate() {
        write_row(&mut out, ri, row, from, to);
    }
    let _ = writeln!(out, "</div>\n<script>\n{SCRIPT}</script>\n</body>\n</html>");
    out
}

/// The row of a change's allowed starts, in its display zone (UTC without one); an
/// interval without an end runs to `to`.
fn change_row(c: &ChangeCalendar, to: Instant) -> Row {
    let tz = c.display_zone.unwrap_or(Tz::UTC);
    let id = c.change.as_deref().unwrap_or("the change");
    let blocks = c
        .openings
        .iter()
        .map(|o| {
            let end = o.end_secs.unwrap_or(to).max(o.start_secs + 1);
            Block {
                kind: "start",
                name: id.to_owned(),
                start: o.start_secs,
                end,
                label: format!(
                    "{id} may start {} → {}",
                    time::format_human(o.start_secs, tz).unwrap_or_default(),
                    time::format_human(end, tz).unwrap_or_default()
                ),
            }
        })
        .collect();
    Row {
        label: format!("{id} may start ({})", tz.name()),
        names: Vec::new(),
        tz,
        lanes: vec![blocks],
    }
}

/// Adds each calendar entry (window or freeze) with a zone as a lane of the row of its
/// zone (or site and zone), a new row for a new one.
fn add_entry_rows(rows: &mut Vec<Row>, cal: &Calendar) {
    for e in &cal.entries {
        let Some(zone) = e.zone.as_deref() else {
            continue;
        };
        let tz: Tz = zone.parse().unwrap_or(Tz::UTC);
        let label = match &e.site {
            Some(site) => format!("{site} ({zone})"),
            None => zone.to_owned(),
        };
        let kind = if e.kind == "freeze" {
            "freeze"
        } else {
            "window"
        };
        let blocks: Vec<Block> = e
            .openings
            .iter()
            .filter_map(|o| {
                let start = time::parse_at(&o.opens_utc).ok()?;
                let end = time::parse_at(&o.closes_utc).ok()?;
                Some(Block {
                    kind,
                    name: e.name.clone(),
                    start,
                    end,
                    label: format!(
                        "{kind} {}: {} → {}",
                        e.name,
                        time::format_human(start, tz).unwrap_or_default(),
                        time::format_human(end, tz).unwrap_or_default()
                    ),
                })
            })
            .collect();
        let named = format!("{kind} {}", e.name);
        match rows.iter_mut().find(|r| r.label == label) {
            Some(r) => {
                r.lanes.push(blocks);
                r.names.push(named);
            }
            None => rows.push(Row {
                label,
                names: vec![named],
                tz,
                lanes: vec![blocks],
            }),
        }
    }
}

/// Row `ri` of the grid over `[from, to)`: its label, its day and six-hour marks in
/// its zone, and its blocks, one lane under another.
fn write_row(out: &mut String, ri: usize, row: &Row, from: Instant, to: Instant) {
    let width = (to - from) / 3600 * PX_PER_HOUR;
    let lanes = i64::try_from(row.lanes.len().max(1)).unwrap_or(1);
    let _ = writeln!(
        out,
        "<div class=\"row\" data-row=\"{ri}\" data-zone=\"{}\"><div class=\"label\">{}<br><small>{}</small></div><div class=\"track\" style=\"width:{width}px;height:{}px\">",
        esc(row.tz.name()),
        esc(&row.label),
        esc(&row.names.join(", ")),
        LANE_PX * lanes + 18
    );
    // Day and six-hour marks in the row's local time.
    for (t, text, day) in marks(row.tz, from, to) {
        let x = (t - from) * PX_PER_HOUR / 3600;
        let _ = writeln!(
            out,
            "<div class=\"mark{}\" style=\"left:{x}px\" data-at=\"{t}\">{}</div>",
            if day { " day" } else { "" },
            esc(&text)
        );
    }
    for (li, lane) in row.lanes.iter().enumerate() {
        let top = i64::try_from(li).unwrap_or(0) * LANE_PX + 16;
        for b in lane {
            write_block(out, b, top, from, to);
        }
    }
    let _ = writeln!(out, "</div></div>");
}

/// One block at `top` pixels, cut to `[from, to)`; nothing when none of it is inside.
fn write_block(out: &mut String, b: &Block, top: i64, from: Instant, to: Instant) {
    let s = b.start.max(from);
    let e = b.end.min(to);
    if e <= s {
        return;
    }
    let left = (s - from) * PX_PER_HOUR * 60 / 3600;
    let w = ((e - s) * PX_PER_HOUR * 60 / 3600).max(1);
    let _ = writeln!(
        out,
        "<div class=\"block {}\" data-kind=\"{}\" data-name=\"{}\" data-start=\"{}\" data-end=\"{}\" style=\"left:{}px;width:{}px;top:{top}px\" title=\"{}\">{}</div>",
        b.kind,
        b.kind,
        esc(&b.name),
        b.start,
        b.end,
        Frac(left),
        Frac(w),
        esc(&b.label),
        esc(&b.name)
    );
}

/// Sixtieths of a pixel, written as a decimal.
struct Frac(i64);

impl std::fmt::Display for Frac {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let whole = self.0.div_euclid(60);
        let rest = self.0.rem_euclid(60) * 1000 / 60;
        write!(f, "{whole}.{rest:03}")
    }
}

/// Local midnights and 06:00/12:00/18:00 in `tz` within `[from, to)`: (instant,
/// label, whether it is a day mark).
fn marks(tz: Tz, from: Instant, to: Instant) -> Vec<(Instant, String, bool)> {
    let mut out = Vec::new();
    let Some(start) = tz.timestamp_opt(from, 0).single() else {
        return out;
    };
    let mut date: NaiveDate = start.date_naive();
    for _ in 0..410 {
        for hour in [0u32, 6, 12, 18] {
            let Some(naive) = date.and_hms_opt(hour, 0, 0) else {
                continue;
            };
            // In a gap the mark is skipped; in an overlap the first instant is used.
            let Some(local) = tz.from_local_datetime(&naive).earliest() else {
                continue;
            };
            let t = local.timestamp();
            if t < from || t >= to {
                continue;
            }
            let label = if hour == 0 {
                format!("{} {}", weekday(local.weekday()), local.day())
            } else {
                format!("{:02}", local.hour())
            };
            out.push((t, label, hour == 0));
        }
        if tz
            .from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
            .earliest()
            .is_some_and(|l| l.timestamp() >= to)
        {
            break;
        }
        match date.succ_opt() {
            Some(d) => date = d,
            None => break,
        }
    }
    out
}

fn weekday(w: chrono::Weekday) -> &'static str {
    match w {
        chrono::Weekday::Mon => "Mon",
        chrono::Weekday::Tue => "Tue",
        chrono::Weekday::Wed => "Wed",
        chrono::Weekday::Thu => "Thu",
        chrono::Weekday::Fri => "Fri",
        chrono::Weekday::Sat => "Sat",
        chrono::Weekday::Sun => "Sun",
    }
}

/// Escapes text for HTML content and attribute values.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body { font-family: sans-serif; margin: 1em; }
.grid { display: block; }
.row { display: flex; align-items: flex-start; border-top: 1px solid #ccc; }
.label { flex: 0 0 14em; font-size: 0.9em; padding: 2px 4px; }
.label small { color: #555; }
.track { position: relative; flex: 0 0 auto; background: #fafafa; }
.mark { position: absolute; top: 0; height: 100%; border-left: 1px dotted #bbb; font-size: 9px; color: #666; padding-left: 2px; }
.mark.day { border-left: 1px solid #888; font-weight: bold; }
.block { position: absolute; height: 18px; overflow: hidden; white-space: nowrap; font-size: 10px; line-height: 18px; box-sizing: border-box; padding: 0 2px; }
.block.window { background: #9fd8a5; border: 1px solid #3c8d46; }
.block.freeze { background: repeating-linear-gradient(45deg, #f3a6a6, #f3a6a6 4px, #e57373 4px, #e57373 8px); border: 1px solid #b71c1c; }
.block.start { background: #ffd54f; border: 2px solid #1565c0; font-weight: bold; }
";

/// Writes where each block was drawn, in hours from the start of the period,
/// measured from the layout.
const SCRIPT: &str = "(function () {
  var grid = document.querySelector('.grid');
  var hours = Number(grid.getAttribute('data-hours'));
  var blocks = document.querySelectorAll('.block');
  for (var i = 0; i < blocks.length; i++) {
    var b = blocks[i];
    var track = b.parentElement.getBoundingClientRect();
    var r = b.getBoundingClientRect();
    var per = track.width / hours;
    b.setAttribute('data-drawn-start-hours', ((r.left - track.left) / per).toFixed(3));
    b.setAttribute('data-drawn-end-hours', ((r.right - track.left) / per).toFixed(3));
  }
  grid.setAttribute('data-measured', 'yes');
})();
";

#[cfg(test)]
mod tests {
    use super::page;

    /// From tests/calendar.rs (`local_windows_intersect_across_the_targets_sites`):
    /// the policy calendar has one row per site; the change's own row comes first.
    #[test]
    fn local_windows_one_row_per_site_change_first() {
        use changegate::{Change, Inventory, Limits, Policy};
        let text = r#"{
        "sites": { "KTM": { "timezone": "Asia/Kathmandu" },
                   "ADL": { "timezone": "Australia/Adelaide" } },
        "devices": { "r-ktm": { "site": "KTM" }, "r-adl": { "site": "ADL" } }
    }"#;
        let two_sites = || {
            Inventory::parse(
                text,
                changegate::input::Format::Json,
                "sites.json",
                &Limits::default(),
            )
            .unwrap()
        };
        let policy = Policy::parse(
            "policy \"p\"\ngroup ops = [\"a\", \"b\"]\nwindow half = daily 00:00-12:00 local\ndefault deploy during half\n",
            "p.gate",
        )
        .unwrap();
        let change =
            Change::from_json(serde_json::json!({"id": "C", "targets": ["r-ktm", "r-adl"]}))
                .unwrap();
        let from = changegate::time::parse_at("2026-12-01T00:00:00Z").unwrap();
        let cal = policy.change_calendar(&change, &two_sites(), from, from + 3 * 86_400);
        let html = page(
            "p",
            &policy.calendar(&two_sites(), from, from + 3 * 86_400),
            Some(&cal),
        );
        let ktm = html.find("KTM (Asia/Kathmandu)").unwrap();
        let adl = html.find("ADL (Australia/Adelaide)").unwrap();
        let own = html.find("C may start").unwrap();
        assert!(own < ktm && own < adl);
    }
}
