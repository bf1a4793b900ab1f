//! Time: the windows the matched rules name and the freezes that apply, assessed
//! at the instant of evaluation.

use chrono_tz::Tz;

use super::{format_duration, Ctx};
use crate::policy::{Policy, WindowDef, ZoneDef};
use crate::time::{self, Assessment, IntervalStream, WindowStream, ZonedWindow, Zones};
use crate::verdict::{ErrorSource, EvalError, FreezeStatus, WindowStatus};

/// The time part of a verdict.
pub(super) struct TimeState {
    pub(super) earliest: Option<i64>,
    pub(super) window: WindowStatus,
    pub(super) freeze: Option<FreezeStatus>,
    pub(super) reasons: Vec<String>,
    pub(super) blocked: bool,
}

impl TimeState {
    /// Open now, with nothing in the way: what no window and no freeze give.
    fn new(names: Vec<String>, at: i64) -> TimeState {
        TimeState {
            earliest: Some(at),
            window: WindowStatus {
                open: true,
                names,
                next_open: None,
                closes: None,
                sites: Vec::new(),
            },
            freeze: None,
            reasons: Vec::new(),
            blocked: false,
        }
    }
}

/// The streams of the named windows: one per fixed window, one per (local window,
/// site zone).
#[derive(Default)]
struct Windows {
    streams: Vec<WindowStream>,
    /// Each stream's name in messages.
    names: Vec<String>,
    /// Each stream's zone.
    zones: Vec<Tz>,
    /// The sites whose zones `local` windows follow, sorted.
    sites: Vec<String>,
    site_set: rustc_hash::FxHashSet<String>,
    /// Whether a window could not be placed (then it is not open).
    unplaced: bool,
}

/// The streams of the freezes that apply, and their names.
#[derive(Default)]
struct Freezes {
    streams: Vec<WindowStream>,
    names: Vec<String>,
}

/// An assessment at `at` for a change needing `runway` seconds, and how its times
/// are shown.
struct Assessed<'s> {
    a: Assessment,
    at: i64,
    runway: i64,
    /// The windows' zone when they share one (times are shown in it), else `None`
    /// (UTC).
    zone: Option<Tz>,
    /// `" for the change's 1h runway"`, or nothing without a runway.
    runway_note: String,
    windows: &'s Windows,
    freezes: &'s Freezes,
}

fn refs(streams: &[WindowStream]) -> Vec<&dyn IntervalStream> {
    streams.iter().map(|s| s as &dyn IntervalStream).collect()
}

impl Ctx<'_> {
    pub(super) fn time(
        &self,
        window_ids: &[usize],
        at: i64,
        topology_ok: bool,
        errors: &mut Vec<EvalError>,
    ) -> TimeState {
        let policy = self.policy;
        let names: Vec<String> = window_ids
            .iter()
            .filter_map(|&w| policy.windows.get(w).map(|d| d.name.clone()))
            .collect();
        let mut state = TimeState::new(names.clone(), at);
        let freeze_ids = self.applying_freezes(topology_ok, errors);
        if window_ids.is_empty() && freeze_ids.is_empty() {
            return state;
        }

        let mut tables = Zones::new();
        let mut windows = Windows::default();
        for &w in window_ids {
            if let Some(def) = policy.windows.get(w) {
                self.window_streams(def, &mut windows, &mut tables, errors);
            }
        }
        windows.sites.sort();
        let freezes = freeze_streams(policy, &freeze_ids, &mut tables);
        let runway = self.change.duration.unwrap_or(0);
        let a = time::assess(&refs(&windows.streams), &refs(&freezes.streams), at, runway);

        // Times are shown in the windows' zone when they share one, else in UTC.
        let zone = match windows.zones.split_first() {
            Some((first, rest)) if rest.iter().all(|z| z == first) => Some(*first),
            _ => None,
        };
        let fmt = |t: i64| match zone {
            Some(tz) => time::format_rfc3339(t, tz),
            None => time::format_rfc3339_utc(t),
        };
        state.window.open = a.windows_open && !windows.unplaced;
        state.window.closes = a.closes.and_then(fmt);
        state.window.next_open = a.next_open.and_then(fmt);
        state.window.sites = std::mem::take(&mut windows.sites);
        state.earliest = a.earliest;
        let runway_note = if runway > 0 {
            format!(" for the change's {} runway", format_duration(runway))
        } else {
            String::new()
        };
        let assessed = Assessed {
            a,
            at,
            runway,
            zone,
            runway_note,
            windows: &windows,
            freezes: &freezes,
        };
        if !names.is_empty() && !assessed.a.windows_open {
            state.reasons.push(assessed.outside(&names));
            state.blocked = true;
        }
        if !assessed.a.blocking.is_empty() {
            let (reason, status) = assessed.frozen();
            state.reasons.push(reason);
            state.freeze = Some(status);
            state.blocked = true;
        }
        if state.blocked && assessed.a.earliest.is_none() && assessed.a.next_open.is_some() {
            state.reasons.push(format!(
                "no instant within {} days is both inside the windows and outside every freeze",
                time::HORIZON_DAYS
            ));
        }
        state
    }

    /// The freezes that apply to this change (by index), noting them for coverage.
    /// With the topology in error nothing is evaluated, freezes included: the
    /// verdict is already `deny`.
    fn applying_freezes(&self, topology_ok: bool, errors: &mut Vec<EvalError>) -> Vec<usize> {
        let policy = self.policy;
        let mut freeze_ids = Vec::new();
        let freezes = if topology_ok {
            &policy.freezes[..]
        } else {
            &[]
        };
        for (i, f) in freezes.iter().enumerate() {
            let applies = match &f.when {
                None => {
                    self.coverage.borrow_mut().freezes_applied.push(i);
                    true
                }
                Some(cond) => match self.truth(cond) {
                    Ok(b) => {
                        if b {
                            self.coverage.borrow_mut().freezes_applied.push(i);
                        }
                        b
                    }
                    Err(fault) => {
                        let mut e = self.error(ErrorSource::Freeze(f.name.clone()), fault);
                        e.location = e.location.or_else(|| Some(f.location.clone()));
                        errors.push(e);
                        true
                    }
                },
            };
            if applies {
                freeze_ids.push(i);
            }
        }
        freeze_ids
    }

    /// Adds the streams of window `def` to `out`: its own, or, for a `local` window,
    /// one per distinct zone of the targets' sites.
    fn window_streams(
        &self,
        def: &WindowDef,
        out: &mut Windows,
        tables: &mut Zones,
        errors: &mut Vec<EvalError>,
    ) {
        match def.zone {
            ZoneDef::Fixed(tz) => {
                if let Ok(s) = WindowStream::with_zones(&ZonedWindow::new(def.shape, tz), tables) {
                    out.streams.push(s);
                    out.names.push(def.name.clone());
                    out.zones.push(tz);
                }
            }
            ZoneDef::Local => match self.site_zones() {
                Ok(site_zones) => {
                    let mut seen: rustc_hash::FxHashSet<Tz> = rustc_hash::FxHashSet::default();
                    for (site, tz) in site_zones {
                        if out.site_set.insert(site.clone()) {
                            out.sites.push(site.clone());
                        }
                        if !seen.insert(tz) {
                            continue;
                        }
                        if let Ok(s) =
                            WindowStream::with_zones(&ZonedWindow::new(def.shape, tz), tables)
                        {
                            out.streams.push(s);
                            out.names
                                .push(format!("{} (at {site}, {})", def.name, tz.name()));
                            out.zones.push(tz);
                        }
                    }
                }
                Err(message) => {
                    // A window that cannot be placed is not open (fail closed).
                    out.unplaced = true;
                    errors.push(EvalError {
                        rule: Some(ErrorSource::Window(def.name.clone())),
                        location: Some(def.location.clone()),
                        message,
                    })
                }
            },
        }
    }
}

/// The streams of the freezes `freeze_ids`.
fn freeze_streams(policy: &Policy, freeze_ids: &[usize], tables: &mut Zones) -> Freezes {
    let mut out = Freezes::default();
    for &i in freeze_ids {
        if let Some(f) = policy.freezes.get(i) {
            if let Ok(s) = WindowStream::with_zones(&ZonedWindow::new(f.shape, f.tz), tables) {
                out.streams.push(s);
                out.names.push(f.name.clone());
            }
        }
    }
    out
}

impl Assessed<'_> {
    /// Why the change is outside the windows `names`: when they next open, or why
    /// they do not within the horizon.
    fn outside(&self, names: &[String]) -> String {
        let (a, at, runway, runway_note) = (&self.a, self.at, self.runway, &self.runway_note);
        let list = names.join(", ");
        let plural = if names.len() == 1 {
            "window"
        } else {
            "windows"
        };
        match a.next_open {
            Some(t) => {
                let human = self
                    .zone
                    .and_then(|tz| time::format_human(t, tz))
                    .or_else(|| time::format_rfc3339_utc(t))
                    .unwrap_or_default();
                format!("outside {plural} {list}{runway_note}: waits for the next opening, {human}")
            }
            None => {
                let limit = at.saturating_add(time::HORIZON_DAYS * time::DAY_SECS);
                let stream_names = &self.windows.names;
                let w_refs = refs(&self.windows.streams);
                let why = match time::why_no_opening(&w_refs, at, runway, limit) {
                    Some(time::NoOpening::Never(i)) => format!(
                        "{} never opens{runway_note}",
                        stream_names.get(i).map_or("a window", String::as_str)
                    ),
                    Some(time::NoOpening::NeverOverlap(i, j)) => format!(
                        "{} and {} are never open at the same time{runway_note}",
                        stream_names.get(i).map_or("a window", String::as_str),
                        stream_names.get(j).map_or("another", String::as_str)
                    ),
                    _ => format!("{plural} {list} are never all open at once{runway_note}"),
                };
                format!(
                    "outside {plural} {list}, and no opening within {} days: {why}",
                    time::HORIZON_DAYS
                )
            }
        }
    }

    /// The freezes that block the change, and why, when some do.
    fn frozen(&self) -> (String, FreezeStatus) {
        let (a, at, runway) = (&self.a, self.at, self.runway);
        let chain = self.freeze_chain();
        let names: Vec<String> = chain
            .iter()
            .filter_map(|&i| self.freezes.names.get(i).cloned())
            .collect();
        let until = a.freeze_until.and_then(time::format_rfc3339_utc);
        let frozen_now = a
            .blocking
            .iter()
            .filter_map(|&i| self.freezes.streams.get(i))
            .any(|s| s.next_interval(at).is_some_and(|iv| iv.start <= at));
        let reason = match &until {
            Some(t) if !frozen_now => format!(
                "{} begins before the change's {} runway ends; it may start from {t}",
                names.join(", "),
                format_duration(runway)
            ),
            Some(t) => format!("frozen by {} until {t}", names.join(", ")),
            None => format!(
                "frozen by {} beyond the {}-day horizon",
                names.join(", "),
                time::HORIZON_DAYS
            ),
        };
        (reason, FreezeStatus { names, until })
    }

    /// The freezes that block now, and those that take over before the change is
    /// free (a freeze followed by a weekend freeze, say): follow the chain, each
    /// time to the freeze that holds the change longest.
    fn freeze_chain(&self) -> Vec<usize> {
        let (a, runway) = (&self.a, self.runway);
        let mut chain: Vec<usize> = a.blocking.clone();
        if let Some(until) = a.freeze_until {
            let mut t = self.at;
            for _ in 0..64 {
                if t >= until {
                    break;
                }
                let next = self
                    .freezes
                    .streams
                    .iter()
                    .enumerate()
                    .filter_map(|(i, s)| s.next_interval(t).map(|iv| (i, iv)))
                    .filter(|(_, iv)| iv.start < t.saturating_add(runway.max(1)))
                    .max_by_key(|(_, iv)| iv.end);
                let Some((i, iv)) = next else { break };
                if !chain.contains(&i) {
                    chain.push(i);
                }
                if iv.end <= t {
                    break;
                }
                t = iv.end;
            }
        }
        chain
    }
}
