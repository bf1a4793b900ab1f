//! Warnings about policies that check but are likely wrong.

use chrono::{NaiveDate, TimeZone, Utc};

use crate::diag::Diagnostic;
use crate::policy::{Policy, ZoneDef};
use crate::time::{self, Complement, IntervalStream, Shape, Union, WindowStream, ZonedWindow};

/// Where the check-time search for openings starts when no date anchors it: Monday
/// 2026-01-05, 00:00 UTC. Weekly windows repeat, so any year serves.
fn reference_start() -> i64 {
    NaiveDate::from_ymd_opt(2026, 1, 5)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map_or(0, |d| Utc.from_utc_datetime(&d).timestamp())
}

/// Windows that can never open: a window wholly inside unconditional freezes, and
/// windows named together (by one rule or the default) that are never open at once.
/// Searched over [`time::HORIZON_DAYS`] from the window's own start (one-time
/// windows) or from 2026-01-05. `local` windows depend on the inventory and are
/// not checked here.
pub(crate) fn never_open(policy: &Policy) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let streams: Vec<Option<WindowStream>> = policy
        .windows
        .iter()
        .map(|w| match w.zone {
            ZoneDef::Fixed(tz) => WindowStream::new(&ZonedWindow::new(w.shape, tz)).ok(),
            ZoneDef::Local => None,
        })
        .collect();
    let freezes: Vec<WindowStream> = policy
        .freezes
        .iter()
        .filter(|f| f.when.is_none())
        .filter_map(|f| WindowStream::new(&ZonedWindow::new(f.shape, f.tz)).ok())
        .collect();
    let freeze_refs: Vec<&dyn IntervalStream> =
        freezes.iter().map(|f| f as &dyn IntervalStream).collect();
    let union = Union::new(&freeze_refs);
    let free = Complement::new(&union);

    let start_of = |i: usize| -> i64 {
        match (
            policy.windows.get(i),
            streams.get(i).and_then(Option::as_ref),
        ) {
            (Some(w), Some(s)) if matches!(w.shape, Shape::Once { .. }) => s
                .next_interval(i64::MIN / 2)
                .map_or_else(reference_start, |iv| iv.start),
            _ => reference_start(),
        }
    };

    for (i, w) in policy.windows.iter().enumerate() {
        let Some(stream) = streams.get(i).and_then(Option::as_ref) else {
            continue;
        };
        if freezes.is_empty() {
            continue;
        }
        let from = start_of(i);
        let limit = from.saturating_add(time::HORIZON_DAYS * time::DAY_SECS);
        if time::earliest(&[stream, &free], from, 0, limit).is_none() {
            if let Some(file) = policy.files.get(w.file) {
                out.push(
                    Diagnostic::warning(
                        "changegate::never_open",
                        file,
                        format!("window `{}` is never open outside the freezes", w.name),
                    )
                    .label(w.span, "always frozen")
                    .help("every opening of this window falls inside a freeze, so a change waiting for it never goes"),
                );
            }
        }
    }

    let mut outcomes: Vec<(&[usize], crate::syntax::Span, String)> = policy
        .rules
        .iter()
        .map(|r| {
            (
                r.outcome.windows.as_slice(),
                r.span,
                format!("rule {:?}", r.name),
            )
        })
        .collect();
    outcomes.push((
        policy.default.windows.as_slice(),
        policy.default_span,
        "the default".into(),
    ));
    for (windows, span, name) in outcomes {
        if windows.len() < 2 {
            continue;
        }
        let refs: Vec<&dyn IntervalStream> = windows
            .iter()
            .filter_map(|&w| streams.get(w).and_then(Option::as_ref))
            .map(|s| s as &dyn IntervalStream)
            .collect();
        if refs.len() != windows.len() {
            continue;
        }
        let from = windows
            .iter()
            .map(|&w| start_of(w))
            .min()
            .unwrap_or_else(reference_start);
        let limit = from.saturating_add(time::HORIZON_DAYS * time::DAY_SECS);
        if time::earliest(&refs, from, 0, limit).is_some() {
            continue;
        }
        let names: Vec<String> = windows
            .iter()
            .filter_map(|&w| policy.windows.get(w).map(|d| format!("`{}`", d.name)))
            .collect();
        let why = match time::why_no_opening(&refs, from, 0, limit) {
            Some(time::NoOpening::NeverOverlap(a, b)) => format!(
                "{} and {} are never open at the same time",
                names.get(a).map_or("?", String::as_str),
                names.get(b).map_or("?", String::as_str)
            ),
            _ => format!("{} are never all open at once", names.join(", ")),
        };
        if let Some(file) = policy.files.first() {
            out.push(
                Diagnostic::warning(
                    "changegate::never_open",
                    file,
                    format!("{name} can never go: {why}"),
                )
                .label(span, "its windows never line up")
                .help("a change may go only while every window it names is open; pick windows that overlap"),
            );
        }
    }
    out
}
