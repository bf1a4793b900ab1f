//! The calendar of a policy's windows and freezes over a period (`changegate windows`).

pub mod change;

use std::fmt::Write as _;

use chrono_tz::Tz;
use serde::Serialize;

use crate::policy::{Policy, ZoneDef};
use crate::time::{self, Instant, WindowStream, ZonedWindow};
use crate::topology::Inventory;

/// Every opening and closing of a policy's windows and freezes in a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Calendar {
    /// Start of the period, RFC 3339 UTC.
    pub from: String,
    /// End of the period (exclusive), RFC 3339 UTC.
    pub to: String,
    /// One entry per window (per site for `local` windows) and per freeze.
    pub entries: Vec<CalendarEntry>,
}

/// One window or freeze in one zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarEntry {
    /// `window` or `freeze`.
    pub kind: &'static str,
    /// Its name.
    pub name: String,
    /// Its declaration as written.
    pub declaration: String,
    /// The zone its times are in.
    pub zone: Option<String>,
    /// For `local` windows, the site.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    /// When it is open (window) or active (freeze) within the period; an opening that
    /// began before the period or ends after it is shown whole.
    pub openings: Vec<Opening>,
    /// Why there are no openings to show, when that needs saying.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One opening: in the zone's wall clock and in UTC.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Opening {
    /// Opens, RFC 3339 in the zone.
    pub opens: String,
    /// Closes, RFC 3339 in the zone.
    pub closes: String,
    /// Opens, RFC 3339 UTC.
    pub opens_utc: String,
    /// Closes, RFC 3339 UTC.
    pub closes_utc: String,
    /// Length in minutes (real elapsed time, so DST days show 60 more or fewer).
    pub minutes: i64,
    #[serde(skip)]
    opens_human: String,
    #[serde(skip)]
    closes_human: String,
}

impl Policy {
    /// The calendar of every window and freeze in `[from, to)`. `local` windows are
    /// listed once per inventory site.
    pub fn calendar(&self, inventory: &Inventory, from: Instant, to: Instant) -> Calendar {
        let mut entries = Vec::new();
        let declaration = |file: usize, span: crate::syntax::Span| -> String {
            self.files
                .get(file)
                .and_then(|f| f.text().get(span.start..span.end))
                .map(|s| s.split_whitespace().collect::<Vec<_>>().join(" "))
                .unwrap_or_default()
        };
        for w in &self.windows {
            let decl = declaration(w.file, w.span);
            match w.zone {
                ZoneDef::Fixed(tz) => {
                    entries.push(entry("window", &w.name, &decl, w.shape, tz, None, from, to))
                }
                ZoneDef::Local => {
                    let mut sites: Vec<(&str, Tz)> = inventory.sites().collect();
                    sites.sort_by(|a, b| a.0.cmp(b.0));
                    if sites.is_empty() {
                        entries.push(CalendarEntry {
                            kind: "window",
                            name: w.name.clone(),
                            declaration: decl.clone(),
                            zone: None,
                            site: None,
                            openings: Vec::new(),
                            note: Some(
                                "a `local` window follows each site's zone: pass an inventory (`-i`) to place it".into(),
                            ),
                        });
                    }
                    for (site, tz) in sites {
                        entries.push(entry(
                            "window",
                            &w.name,
                            &decl,
                            w.shape,
                            tz,
                            Some(site),
                            from,
                            to,
                        ));
                    }
                }
            }
        }
        for f in &self.freezes {
            let decl = declaration(f.file, f.span);
            let mut e = entry("freeze", &f.name, &decl, f.shape, f.tz, None, from, to);
            if f.when.is_some() {
                e.note = Some("applies only to the changes its `when` condition selects".into());
            }
            entries.push(e);
        }
        Calendar {
            from: time::format_rfc3339_utc(from).unwrap_or_default(),
            to: time::format_rfc3339_utc(to).unwrap_or_default(),
            entries,
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn entry(
    kind: &'static str,
    name: &str,
    declaration: &str,
    shape: crate::time::Shape,
    tz: Tz,
    site: Option<&str>,
    from: Instant,
    to: Instant,
) -> CalendarEntry {
    let openings = match WindowStream::new(&ZonedWindow::new(shape, tz)) {
        Ok(stream) => time::calendar(&stream, from, to)
            .into_iter()
            .map(|iv| Opening {
                opens: time::format_rfc3339(iv.start, tz).unwrap_or_default(),
                closes: time::format_rfc3339(iv.end, tz).unwrap_or_default(),
                opens_utc: time::format_rfc3339_utc(iv.start).unwrap_or_default(),
                closes_utc: time::format_rfc3339_utc(iv.end).unwrap_or_default(),
                minutes: iv.end.saturating_sub(iv.start) / 60,
                opens_human: time::format_human(iv.start, tz).unwrap_or_default(),
                closes_human: time::format_human(iv.end, tz).unwrap_or_default(),
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    CalendarEntry {
        kind,
        name: name.to_owned(),
        declaration: declaration.to_owned(),
        zone: Some(tz.name().to_owned()),
        site: site.map(str::to_owned),
        openings,
        note: None,
    }
}

impl Calendar {
    /// The calendar for people: each window and freeze, its openings in its own zone
    /// and in UTC.
    ///
    /// Names, sites and notes are escaped ([`crate::terminal::escape`]); lengths are
    /// exact ([`crate::time::format_duration`]: `16d`, `1h30m`).
    pub fn to_text(&self) -> String {
        use crate::terminal::escape as esc;
        let mut out = String::new();
        let _ = writeln!(out, "from {} to {}", self.from, self.to);
        for e in &self.entries {
            let _ = write!(out, "\n{} {}", e.kind, esc(&e.name));
            if let Some(site) = &e.site {
                let _ = write!(out, " at {}", esc(site));
            }
            if let Some(zone) = &e.zone {
                let _ = write!(out, " ({})", esc(zone));
            }
            out.push('\n');
            if let Some(note) = &e.note {
                let _ = writeln!(out, "  note: {}", esc(note));
            }
            if e.openings.is_empty() && e.note.is_none() {
                let _ = writeln!(
                    out,
                    "  {} in this period",
                    if e.kind == "freeze" {
                        "not active"
                    } else {
                        "no opening"
                    }
                );
            }
            for o in &e.openings {
                let _ = writeln!(
                    out,
                    "  {} -> {}   UTC {} -> {}   {}",
                    o.opens_human,
                    o.closes_human,
                    o.opens_utc,
                    o.closes_utc,
                    crate::time::format_duration(o.minutes.saturating_mul(60))
                );
            }
        }
        out
    }
}
