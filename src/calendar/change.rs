//! A change's own calendar (`changegate windows -p POLICY -c CHANGE`): the intervals
//! in which that change may start.
//!
//! The windows are those the verdict names (every window of every matched rule; a
//! `local` window once per distinct zone of the change's targets' sites), the freezes
//! those that apply to the change (its `when` holds), and the runway the change's
//! `duration`. A start `s` is allowed when every window is open and no freeze is active
//! over all of `[s, s + runway)` (at `s` alone without a runway): exactly what the
//! verdict's `earliest` asks, searched with the same function
//! (`time::earliest`) over the same streams, so the first interval starts at
//! the verdict's `earliest` whenever that lies in the period.

use chrono::DateTime;
use chrono_tz::Tz;
use serde::Serialize;

use crate::change::Change;
use crate::eval::Ctx;
use crate::policy::{Policy, ZoneDef};
use crate::time::{
    self, Complement, Instant, IntervalStream, Union, WindowStream, ZonedWindow, Zones,
};
use crate::topology::Inventory;
use crate::verdict::Decision;

/// The intervals in which one change may start, within a period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChangeCalendar {
    /// The policy's name.
    pub policy: String,
    /// The change's id.
    pub change: Option<String>,
    /// Start of the period, RFC 3339 UTC.
    pub from: String,
    /// End of the period (exclusive), RFC 3339 UTC.
    pub to: String,
    /// The verdict's decision at the start of the period.
    pub decision: Decision,
    /// The verdict's `earliest` at the start of the period.
    pub earliest: Option<String>,
    /// The change's runway in minutes (its `duration`; 0 without one).
    pub runway_minutes: i64,
    /// The windows that constrain it, one per window and zone (`site_night at FRA`).
    pub windows: Vec<Constraint>,
    /// The freezes that apply to it.
    pub freezes: Vec<Constraint>,
    /// When it may start.
    pub openings: Vec<StartInterval>,
    /// Why there are no intervals, or why the period is open throughout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The zone times are shown in (the windows' common zone), if any.
    #[serde(skip)]
    pub display_zone: Option<Tz>,
}

/// A window or freeze that constrains the change, in one zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Constraint {
    /// Its name.
    pub name: String,
    /// The zone it is placed in.
    pub zone: String,
    /// For a `local` window: the sites in that zone.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sites: Vec<String>,
}

/// An interval of allowed starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StartInterval {
    /// The first allowed start, RFC 3339 UTC.
    pub starts: String,
    /// The last allowed start, RFC 3339 UTC: the change, with its runway, then ends
    /// exactly when the first of its windows closes or a freeze begins.
    pub last_start: Option<String>,
    /// When the first of its windows closes or a freeze begins, RFC 3339 UTC; null
    /// when that is more than the horizon (400 days) after the start.
    pub ends: Option<String>,
    /// Seconds since the epoch, for renderers.
    #[serde(skip)]
    pub start_secs: Instant,
    /// Seconds since the epoch; `None` as for `ends`.
    #[serde(skip)]
    pub end_secs: Option<Instant>,
}

impl Policy {
    /// The intervals in `[from, to)` in which `change` may start (see the module
    /// documentation). A change the verdict denies has none; a change that breaks
    /// glass may start at any time of the period.
    pub fn change_calendar(
        &self,
        change: &Change,
        inventory: &Inventory,
        from: Instant,
        to: Instant,
    ) -> ChangeCalendar {
        let at = DateTime::from_timestamp(from, 0).unwrap_or_default();
        let verdict = self.evaluate(change, inventory, at);
        let runway = change.duration.unwrap_or(0).max(0);
        let mut cal = ChangeCalendar {
            policy: self.name.clone(),
            change: verdict.change.clone(),
            from: time::format_rfc3339_utc(from).unwrap_or_default(),
            to: time::format_rfc3339_utc(to).unwrap_or_default(),
            decision: verdict.decision,
            earliest: verdict.earliest.clone(),
            runway_minutes: runway / 60,
            windows: Vec::new(),
            freezes: Vec::new(),
            openings: Vec::new(),
            note: None,
            display_zone: None,
        };
        if verdict.decision == Decision::Deny {
            cal.note = Some(format!(
                "the change is denied, so it may never start: {}",
                verdict.reasons.join("; ")
            ));
            return cal;
        }
        let cx = Ctx::new(self, change, inventory);
        let mut tables = Zones::new();
        let (streams, zones) =
            window_streams(&cx, &verdict.window.names, &mut tables, &mut cal.windows);
        let freeze_streams = freeze_streams(&cx, &mut tables, &mut cal.freezes);
        cal.display_zone = match zones.split_first() {
            Some((first, rest)) if rest.iter().all(|z| z == first) => Some(*first),
            _ => None,
        };
        if verdict.break_glass {
            cal.note = Some(
                "the change breaks glass: windows and freezes are lifted, so it may start at any time"
                    .into(),
            );
            cal.openings.push(StartInterval {
                starts: cal.from.clone(),
                last_start: None,
                ends: None,
                start_secs: from,
                end_secs: None,
            });
            return cal;
        }
        cal.openings = openings(&streams, &freeze_streams, from, to, runway);
        if cal.openings.is_empty() {
            cal.note = Some(format!(
                "no instant of the period is inside every window and outside every freeze{}",
                if runway > 0 {
                    " for the change's whole runway"
                } else {
                    ""
                }
            ));
        }
        cal
    }
}

/// The streams of the policy's windows named in `names`, each placed in its zone (a
/// `local` window once per zone of the change's sites), with their zones; each is
/// described in `constraints`.
fn window_streams(
    cx: &Ctx<'_>,
    names: &[String],
    tables: &mut Zones,
    constraints: &mut Vec<Constraint>,
) -> (Vec<WindowStream>, Vec<Tz>) {
    let mut streams: Vec<WindowStream> = Vec::new();
    let mut zones: Vec<Tz> = Vec::new();
    for def in cx.policy.windows.iter().filter(|w| names.contains(&w.name)) {
        let placed: Vec<(Tz, Vec<String>)> = match def.zone {
            ZoneDef::Fixed(tz) => vec![(tz, Vec::new())],
            // The verdict would be `deny` if the sites could not be found.
            ZoneDef::Local => sites_by_zone(cx),
        };
        for (tz, sites) in placed {
            if let Ok(s) = WindowStream::with_zones(&ZonedWindow::new(def.shape, tz), tables) {
                streams.push(s);
                zones.push(tz);
                constraints.push(Constraint {
                    name: def.name.clone(),
                    zone: tz.name().to_owned(),
                    sites,
                });
            }
        }
    }
    (streams, zones)
}

/// The zones of the change's targets' sites, each with its sites, in order of first
/// appearance.
fn sites_by_zone(cx: &Ctx<'_>) -> Vec<(Tz, Vec<String>)> {
    let mut by_zone: Vec<(Tz, Vec<String>)> = Vec::new();
    for (site, tz) in cx.site_zones().unwrap_or_default() {
        match by_zone.iter_mut().find(|(z, _)| *z == tz) {
            Some((_, sites)) => sites.push(site),
            None => by_zone.push((tz, vec![site])),
        }
    }
    by_zone
}

/// The streams of the freezes that apply to the change (their `when` holds); each is
/// described in `constraints`.
fn freeze_streams(
    cx: &Ctx<'_>,
    tables: &mut Zones,
    constraints: &mut Vec<Constraint>,
) -> Vec<WindowStream> {
    let mut streams: Vec<WindowStream> = Vec::new();
    for f in &cx.policy.freezes {
        let applies = match &f.when {
            None => true,
            // An error in `when` makes the verdict `deny` (handled before this is asked).
            Some(cond) => cx.truth(cond).unwrap_or(true),
        };
        if !applies {
            continue;
        }
        if let Ok(s) = WindowStream::with_zones(&ZonedWindow::new(f.shape, f.tz), tables) {
            streams.push(s);
            constraints.push(Constraint {
                name: f.name.clone(),
                zone: f.tz.name().to_owned(),
                sites: Vec::new(),
            });
        }
    }
    streams
}

/// The allowed starts in `[from, to)`: inside every window and outside every freeze
/// (over the runway).
fn openings(
    windows: &[WindowStream],
    freezes: &[WindowStream],
    from: Instant,
    to: Instant,
    runway: i64,
) -> Vec<StartInterval> {
    let f_refs: Vec<&dyn IntervalStream> =
        freezes.iter().map(|s| s as &dyn IntervalStream).collect();
    let union = Union::new(&f_refs);
    let free = Complement::new(&union);
    let mut all: Vec<&dyn IntervalStream> =
        windows.iter().map(|s| s as &dyn IntervalStream).collect();
    if !f_refs.is_empty() {
        all.push(&free);
    }
    start_intervals(&all, from, to, runway)
}

/// The intervals of allowed starts in `[from, to)`: each found with
/// [`time::earliest`] (the search behind a verdict's `earliest`), the next searched
/// from just after the previous one's last start.
fn start_intervals(
    streams: &[&dyn IntervalStream],
    from: Instant,
    to: Instant,
    runway: i64,
) -> Vec<StartInterval> {
    let cap = to.saturating_add(runway);
    let mut out: Vec<StartInterval> = Vec::new();
    let mut s = from;
    // Bounded: every step moves past at least one second, and a period has at most
    // 400 days; this also bounds pathological streams.
    for _ in 0..100_000 {
        if s >= to {
            break;
        }
        // The same limit as the verdict's search when the period is the horizon.
        let Some(iv) = time::earliest(streams, s, runway, to) else {
            break;
        };
        if iv.start >= to {
            break;
        }
        // The search's end is exact up to `to + runway`; past that, ask again from
        // this start with a whole horizon ahead, so an interval that runs past the
        // period still shows where it ends.
        let end = if iv.end < cap {
            Some(iv.end)
        } else {
            let limit = iv.start.saturating_add(time::HORIZON_DAYS * time::DAY_SECS);
            time::earliest(streams, iv.start, runway, limit)
                .filter(|again| again.start == iv.start && again.end < limit.saturating_add(runway))
                .map(|again| again.end)
        };
        let last = end.map(|e| e.saturating_sub(runway));
        match out.last_mut() {
            // A run reported in pieces: join them.
            Some(prev)
                if prev
                    .end_secs
                    .is_some_and(|e| iv.start <= e.saturating_sub(runway).saturating_add(1)) =>
            {
                prev.end_secs = end;
                prev.ends = end.and_then(time::format_rfc3339_utc);
                prev.last_start = last.and_then(time::format_rfc3339_utc);
            }
            _ => out.push(StartInterval {
                starts: time::format_rfc3339_utc(iv.start).unwrap_or_default(),
                last_start: last.and_then(time::format_rfc3339_utc),
                ends: end.and_then(time::format_rfc3339_utc),
                start_secs: iv.start,
                end_secs: end,
            }),
        }
        let Some(e) = end else { break };
        let next = if runway > 0 {
            e.saturating_sub(runway).saturating_add(1)
        } else {
            e
        };
        s = next.max(iv.start.saturating_add(1));
    }
    out
}

impl ChangeCalendar {
    /// The calendar for people.
    pub fn to_text(&self) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "change {} under {}: from {} to {}",
            esc(self.change.as_deref().unwrap_or("(no id)")),
            esc(&self.policy),
            self.from,
            self.to
        );
        let _ = writeln!(out, "windows: {}", esc(&constraint_list(&self.windows)));
        let _ = writeln!(out, "freezes: {}", esc(&constraint_list(&self.freezes)));
        if self.runway_minutes > 0 {
            let _ = writeln!(
                out,
                "runway: {}h{:02}m",
                self.runway_minutes / 60,
                self.runway_minutes % 60
            );
        }
        if let Some(note) = &self.note {
            let _ = writeln!(out, "note: {}", esc(note));
        }
        if !self.openings.is_empty() {
            let _ = writeln!(out, "may start:");
        }
        for o in &self.openings {
            let _ = writeln!(out, "{}", self.opening_line(o));
        }
        out
    }

    /// An instant for people: in the display zone, else in UTC.
    fn show(&self, t: Instant) -> String {
        match self.display_zone {
            Some(tz) => time::format_human(t, tz),
            None => time::format_rfc3339_utc(t),
        }
        .unwrap_or_default()
    }

    /// One interval of [`ChangeCalendar::to_text`]'s `may start:`, without the newline.
    fn opening_line(&self, o: &StartInterval) -> String {
        match o.end_secs {
            Some(end) => {
                let last = if self.runway_minutes > 0 {
                    format!(
                        " (last start {})",
                        self.show(end.saturating_sub(self.runway_minutes * 60))
                    )
                } else {
                    String::new()
                };
                format!(
                    "  {} -> {}{last}   UTC {} -> {}",
                    self.show(o.start_secs),
                    self.show(end),
                    o.starts,
                    o.ends.as_deref().unwrap_or("")
                )
            }
            None => format!(
                "  {} -> beyond the period   UTC {} ->",
                self.show(o.start_secs),
                o.starts
            ),
        }
    }
}

/// `name (zone)` or `name at site, … (zone)`, comma-separated; `none` for none.
fn constraint_list(cs: &[Constraint]) -> String {
    if cs.is_empty() {
        return "none".into();
    }
    cs.iter()
        .map(|c| {
            if c.sites.is_empty() {
                format!("{} ({})", c.name, c.zone)
            } else {
                format!("{} at {} ({})", c.name, c.sites.join(", "), c.zone)
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

// Control characters as `\n`, `\u{1b}`, bidi and invisible characters as
// `\u{202e}`: input never controls the terminal.
use crate::terminal::escape_default as esc;

#[cfg(test)]
mod tests {
    #[test]
    fn bidi_and_invisible_characters_are_escaped() {
        assert_eq!(super::esc("x\u{2066}y"), "x\\u{2066}y");
    }
}
