//! A change's own calendar (`windows -c`), and the calendar as ICS and HTML.
//!
//! * The first interval in which a change may start is the verdict's `earliest`, for
//!   every case of every `policies/*.test.yaml` and every `tests/cases/*` case.
//! * `--format ics` is read back with an independent parser (the `icalendar` crate):
//!   events, times and UIDs; CRLF and folding are checked byte by byte.
//! * `--format html` is rendered in headless Chromium and the blocks' drawn positions
//!   are checked against their instants.

use std::path::PathBuf;
use std::process::Command;

use changegate::{Change, Inventory, Policy};
use serde_json::Value;

use crate::common::{temp_path, BIN};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn secs(t: &str) -> i64 {
    changegate::time::parse_at(t).unwrap_or_else(|e| panic!("{t}: {e}"))
}

/// (case name, policy, inventory, change, at) for every case with an instant.
fn all_cases() -> Vec<(String, PathBuf, Option<PathBuf>, Change, String)> {
    let mut out = Vec::new();
    let limits = changegate::Limits::default();
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("policies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(".test.yaml"))
        .collect();
    files.sort();
    assert!(files.len() >= 5, "{files:?}");
    for file in files {
        let dir = file.parent().unwrap();
        let spec = changegate::input::read_file(&file, &limits)
            .unwrap()
            .to_json();
        let name = file.file_name().unwrap().to_string_lossy().to_string();
        let stem = name.split(".test.").next().unwrap();
        let policy = spec["policy"]
            .as_str()
            .map_or(dir.join(format!("{stem}.gate")), |p| dir.join(p));
        for case in spec["cases"].as_array().unwrap() {
            let change = match &case["change"] {
                Value::String(p) => changegate::input::read_file(&dir.join(p), &limits).unwrap(),
                v => changegate::Value::from_json(v.clone()),
            };
            let inventory = case["inventory"]
                .as_str()
                .or(spec["inventory"].as_str())
                .map(|p| dir.join(p));
            out.push((
                format!("{name}: {}", case["name"].as_str().unwrap()),
                policy.clone(),
                inventory,
                Change::from_value(change).unwrap(),
                case["at"].as_str().unwrap().to_owned(),
            ));
        }
    }
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root().join("tests/cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("at").exists() && p.join("change.json").exists())
        .collect();
    dirs.sort();
    for d in dirs {
        let value = changegate::input::read_file(&d.join("change.json"), &limits).unwrap();
        let Ok(change) = Change::from_value(value) else {
            continue;
        };
        let inventory = ["inventory.json", "inventory.yaml", "inventory.toml"]
            .iter()
            .map(|n| d.join(n))
            .find(|p| p.exists());
        out.push((
            format!("tests/cases/{}", d.file_name().unwrap().to_string_lossy()),
            d.join("policy.gate"),
            inventory,
            change,
            std::fs::read_to_string(d.join("at"))
                .unwrap()
                .trim()
                .to_owned(),
        ));
    }
    out
}

#[test]
fn the_first_start_is_the_verdicts_earliest_for_every_case() {
    let cases = all_cases();
    assert!(cases.len() > 40, "only {} cases", cases.len());
    let mut checked_some = 0;
    let mut failures = Vec::new();
    for (name, policy_path, inventory, change, at) in cases {
        let Ok(policy) = Policy::from_file(&policy_path) else {
            continue; // cases of policies that must not compile
        };
        let inventory = match &inventory {
            Some(p) => match Inventory::from_file(p) {
                Ok(i) => i,
                Err(_) => continue,
            },
            None => Inventory::empty(),
        };
        let from = secs(&at);
        let verdict = policy.evaluate(&change, &inventory, at.parse().unwrap());
        // The period is the verdict's horizon, so both searches look equally far.
        let to = from + changegate::time::HORIZON_DAYS * changegate::time::DAY_SECS;
        let cal = policy.change_calendar(&change, &inventory, from, to);
        let first = cal.openings.first().map(|o| o.starts.clone());
        if first.as_deref().map(secs) != verdict.earliest.as_deref().map(secs) {
            failures.push(format!(
                "{name}: calendar starts {first:?}, verdict earliest {:?} ({:?})",
                verdict.earliest, verdict.decision
            ));
        }
        if first.is_some() {
            checked_some += 1;
        }
        // Every interval is sorted, non-empty and within the period.
        for w in cal.openings.windows(2) {
            assert!(
                w[0].start_secs < w[1].start_secs,
                "{name}: {:?}",
                cal.openings
            );
            if let Some(e) = w[0].end_secs {
                assert!(e <= w[1].start_secs, "{name}: {:?}", cal.openings);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(
        checked_some > 30,
        "only {checked_some} cases had an opening"
    );
}

fn run(args: &[&str]) -> (i32, String) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(root())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn every_start_interval_is_allowed_and_the_instants_around_it_are_not() {
    // The firewall change: weeknights in New York, 45 minutes of runway, the
    // Friday freeze. Each interval's first and last start deploy once approved;
    // a second before the first start and a second after the last do not.
    let mut change: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("policies/changes/firewall-acl.json")).unwrap(),
    )
    .unwrap();
    // Approvals of the change's own revision (one on one side only is stale).
    let revision = change["revision"].clone();
    change["approvals"] = serde_json::json!([
        { "by": "dave", "revision": revision },
        { "by": "erin", "revision": revision },
        { "by": "frank", "revision": revision },
    ]);
    change["duration"] = serde_json::json!("45m");
    let dir = temp_dir("runway");
    let file = dir.join("change.json");
    std::fs::write(&file, change.to_string()).unwrap();
    let (code, json) = run(&[
        "windows",
        "-p",
        "policies/netops.gate",
        "-i",
        "policies/netops.inventory.json",
        "-c",
        file.to_str().unwrap(),
        "--from",
        "2026-11-23T00:00:00Z",
        "--days",
        "14",
        "--format",
        "json",
    ]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(code, 0);
    let cal: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(cal["runway_minutes"], 45);
    let openings = cal["openings"].as_array().unwrap();
    assert!(openings.len() >= 6, "{json}");
    let policy = Policy::from_file(root().join("policies/netops.gate")).unwrap();
    let inventory = Inventory::from_file(root().join("policies/netops.inventory.json")).unwrap();
    let change = Change::from_json(change).unwrap();
    let decide = |t: i64| {
        let at = chrono::DateTime::from_timestamp(t, 0).unwrap();
        policy.evaluate(&change, &inventory, at).decision
    };
    for o in openings {
        let start = secs(o["starts"].as_str().unwrap());
        let last = secs(o["last_start"].as_str().unwrap());
        let ends = secs(o["ends"].as_str().unwrap());
        assert_eq!(ends - last, 45 * 60, "{o}");
        assert_eq!(decide(start), changegate::Decision::Deploy, "{o}");
        assert_eq!(decide(last), changegate::Decision::Deploy, "{o}");
        assert_eq!(decide(start - 1), changegate::Decision::Wait, "{o}");
        assert_eq!(decide(last + 1), changegate::Decision::Wait, "{o}");
    }
}

#[test]
fn without_a_change_the_calendar_is_unchanged() {
    let args = [
        "windows",
        "-p",
        "policies/netops.gate",
        "-i",
        "policies/netops.inventory.json",
        "--from",
        "2026-11-23T00:00:00Z",
        "--days",
        "3",
    ];
    let (code, text) = run(&args);
    assert_eq!(code, 0);
    assert!(text.starts_with("from 2026-11-23T00:00:00Z to 2026-11-26T00:00:00Z\n\nwindow weeknights (America/New_York)\n"), "{text}");
    assert!(!text.contains("may start"), "{text}");
}

fn ics(args: &[&str]) -> String {
    let mut all = vec![
        "windows",
        "-p",
        "policies/netops.gate",
        "-i",
        "policies/netops.inventory.json",
        "--format",
        "ics",
    ];
    all.extend_from_slice(args);
    let (code, text) = run(&all);
    assert_eq!(code, 0, "{text}");
    text
}

struct Event {
    uid: String,
    start: String,
    end: String,
    summary: String,
    categories: String,
}

/// Parses with the `icalendar` crate (unfolding first, as RFC 5545 §3.1 says).
fn parse_events(text: &str) -> Vec<Event> {
    let unfolded = icalendar::parser::unfold(text);
    let cal = icalendar::parser::read_calendar(&unfolded).unwrap();
    let prop = |name: &str| {
        cal.properties
            .iter()
            .find(|p| p.name.as_str() == name)
            .map(|p| p.val.as_str().to_owned())
    };
    assert_eq!(prop("VERSION").as_deref(), Some("2.0"));
    assert!(prop("PRODID").unwrap().contains("changegate"));
    cal.components
        .iter()
        .map(|c| {
            assert_eq!(c.name.as_str(), "VEVENT");
            let get = |name: &str| {
                c.find_prop(name)
                    .unwrap_or_else(|| panic!("VEVENT without {name}"))
                    .val
                    .as_str()
                    .to_owned()
            };
            let summary = c.find_prop("SUMMARY").unwrap().val.clone().unescape_text();
            Event {
                uid: get("UID"),
                start: get("DTSTART"),
                end: get("DTEND"),
                summary: summary.as_str().to_owned(),
                categories: get("CATEGORIES"),
            }
        })
        .collect()
}

fn basic(rfc3339: &str) -> String {
    let t = secs(rfc3339);
    changegate::time::format_rfc3339_utc(t)
        .unwrap()
        .replace(['-', ':'], "")
}

#[test]
fn ics_round_trips_through_an_independent_parser() {
    let from = "2026-11-23T00:00:00Z";
    let text = ics(&["--from", from, "--days", "14"]);
    // Byte-wise: CRLF everywhere, at most 75 octets a line, folds start with a space.
    assert!(text.ends_with("END:VCALENDAR\r\n"));
    assert!(!text.replace("\r\n", "").contains('\n'), "a bare LF");
    assert!(!text.replace("\r\n", "").contains('\r'), "a bare CR");
    let mut folded = 0;
    for line in text.split("\r\n") {
        assert!(line.len() <= 75, "{} octets: {line:?}", line.len());
        if line.starts_with(' ') {
            folded += 1;
        }
    }
    assert!(folded > 0, "expected some folded lines");

    // Every opening of the JSON calendar is one event, with its times and kind.
    let (_, json) = run(&[
        "windows",
        "-p",
        "policies/netops.gate",
        "-i",
        "policies/netops.inventory.json",
        "--from",
        from,
        "--days",
        "14",
        "--format",
        "json",
    ]);
    let cal: Value = serde_json::from_str(&json).unwrap();
    let mut expected = Vec::new();
    for e in cal["entries"].as_array().unwrap() {
        for o in e["openings"].as_array().unwrap() {
            expected.push((
                e["kind"].as_str().unwrap().to_uppercase(),
                basic(o["opens_utc"].as_str().unwrap()),
                basic(o["closes_utc"].as_str().unwrap()),
                e["name"].as_str().unwrap().to_owned(),
                e["zone"].as_str().unwrap().to_owned(),
                e["site"].as_str().map(str::to_owned),
            ));
        }
    }
    let events = parse_events(&text);
    assert_eq!(events.len(), expected.len());
    let mut uids: Vec<&str> = events.iter().map(|e| e.uid.as_str()).collect();
    uids.sort();
    uids.dedup();
    assert_eq!(uids.len(), events.len(), "UIDs are not unique");
    for (ev, (kind, start, end, name, zone, site)) in events.iter().zip(&expected) {
        assert_eq!(&ev.categories, kind);
        assert_eq!(&ev.start, start);
        assert_eq!(&ev.end, end);
        assert!(ev.start.ends_with('Z') && ev.end.ends_with('Z'));
        assert!(ev.summary.contains(name.as_str()), "{}", ev.summary);
        assert!(ev.summary.contains(zone.as_str()), "{}", ev.summary);
        if let Some(site) = site {
            // `FRA, Europe/Berlin`: the comma is escaped on the wire.
            assert!(
                ev.summary.contains(&format!("{site}, {zone}")),
                "{}",
                ev.summary
            );
        }
    }
    assert!(
        text.contains("FRA\\, Europe/Berlin"),
        "TEXT escaping of ','"
    );
    // Local times in the summary: weeknights open at 22:00 New York time.
    let first = events
        .iter()
        .find(|e| e.summary.starts_with("window weeknights"))
        .unwrap();
    assert!(first.summary.contains("22:00 EST"), "{}", first.summary);
    assert_eq!(first.start, "20261124T030000Z");

    // DTSTAMP comes from --from: the same command gives the same bytes.
    assert!(text.contains("DTSTAMP:20261123T000000Z\r\n"));
    assert_eq!(text, ics(&["--from", from, "--days", "14"]));

    // Stable UIDs: a later export names the same openings with the same UIDs.
    let later = parse_events(&ics(&["--from", "2026-11-30T00:00:00Z", "--days", "7"]));
    let mut shared = 0;
    for ev in &later {
        if let Some(same) = events
            .iter()
            .find(|e| e.start == ev.start && e.summary == ev.summary)
        {
            assert_eq!(same.uid, ev.uid);
            shared += 1;
        }
    }
    assert!(shared > 5, "only {shared} events in common");
}

#[test]
fn a_changes_ics_lists_its_starts_and_its_freezes() {
    let text = ics(&[
        "-c",
        "policies/changes/access-port.json",
        "--from",
        "2026-12-15T00:00:00Z",
        "--days",
        "30",
    ]);
    let (_, json) = run(&[
        "windows",
        "-p",
        "policies/netops.gate",
        "-i",
        "policies/netops.inventory.json",
        "-c",
        "policies/changes/access-port.json",
        "--from",
        "2026-12-15T00:00:00Z",
        "--days",
        "30",
        "--format",
        "json",
    ]);
    let cal: Value = serde_json::from_str(&json).unwrap();
    let events = parse_events(&text);
    let starts: Vec<&Event> = events.iter().filter(|e| e.categories == "CHANGE").collect();
    let openings = cal["openings"].as_array().unwrap();
    assert_eq!(starts.len(), openings.len());
    for (ev, o) in starts.iter().zip(openings) {
        assert_eq!(ev.start, basic(o["starts"].as_str().unwrap()));
        assert_eq!(ev.end, basic(o["ends"].as_str().unwrap()));
        assert!(ev.summary.contains("site_night"), "{}", ev.summary);
    }
    // The year-end freeze applies to it and is in the calendar.
    assert!(events
        .iter()
        .any(|e| e.categories == "FREEZE" && e.summary.contains("year_end")));
}

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("CHANGEGATE_CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    if path.exists() {
        return Some(path);
    }
    if std::env::var("CHANGEGATE_REQUIRE_CHROMIUM").is_ok_and(|v| v == "1") {
        panic!(
            "CHANGEGATE_REQUIRE_CHROMIUM=1 but there is no Chromium at {}",
            path.display()
        );
    }
    eprintln!(
        "SKIPPED: the HTML calendar test needs Chromium at {} (apt-get install chromium); set CHANGEGATE_REQUIRE_CHROMIUM=1 to make this a failure",
        path.display()
    );
    None
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = temp_path(tag);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let re = regex::Regex::new(&format!(r#"\b{name}="([^"]*)""#)).unwrap();
    re.captures(tag).map(|c| c[1].to_owned())
}

#[test]
fn html_blocks_sit_at_the_right_hours_in_a_real_browser() {
    let from = "2026-11-23T00:00:00Z";
    let (code, html) = run(&[
        "windows",
        "-p",
        "policies/netops.gate",
        "-i",
        "policies/netops.inventory.json",
        "-c",
        "policies/changes/firewall-acl.json",
        "--from",
        from,
        "--days",
        "7",
        "--format",
        "html",
    ]);
    assert_eq!(code, 0);
    // Self-contained: nothing to fetch.
    for needle in ["http://", "https://", " src=", " href=", "@import", "url("] {
        assert!(!html.contains(needle), "the page refers to {needle}");
    }
    let Some(browser) = chromium() else {
        return;
    };
    let dir = temp_dir("html");
    let page = dir.join("calendar.html");
    std::fs::write(&page, &html).unwrap();
    let profile = dir.join("profile");
    let out = Command::new(browser)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .output()
        .unwrap();
    let dom = String::from_utf8_lossy(&out.stdout).to_string();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        dom.contains("data-measured=\"yes\""),
        "the page's script did not run: {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        dom.chars().take(500).collect::<String>()
    );
    let from_s = secs(from);
    let to_s = from_s + 7 * 86_400;
    let block = regex::Regex::new(r#"<div class="block [^"]*"[^>]*>"#).unwrap();
    let mut seen = std::collections::BTreeMap::<String, usize>::new();
    for m in block.find_iter(&dom) {
        let tag = m.as_str();
        let kind = attr(tag, "data-kind").unwrap();
        let start: i64 = attr(tag, "data-start").unwrap().parse().unwrap();
        let end: i64 = attr(tag, "data-end").unwrap().parse().unwrap();
        let drawn_start: f64 = attr(tag, "data-drawn-start-hours")
            .unwrap()
            .parse()
            .unwrap();
        let drawn_end: f64 = attr(tag, "data-drawn-end-hours").unwrap().parse().unwrap();
        let want_start = (start.max(from_s) - from_s) as f64 / 3600.0;
        let want_end = (end.min(to_s) - from_s) as f64 / 3600.0;
        assert!(
            (drawn_start - want_start).abs() < 0.1,
            "{tag}: drawn at {drawn_start}h, expected {want_start}h"
        );
        assert!(
            (drawn_end - want_end).abs() < 0.1,
            "{tag}: ends at {drawn_end}h, expected {want_end}h"
        );
        *seen.entry(kind).or_default() += 1;
    }
    assert!(seen.get("window").copied().unwrap_or(0) > 10, "{seen:?}");
    assert!(seen.get("freeze").copied().unwrap_or(0) >= 1, "{seen:?}");
    // The change's own openings: Mon..Thu nights in New York, the first at
    // Tue 2026-11-24 03:00 UTC (Mon 22:00 EST), 27 hours into the period.
    let starts: Vec<f64> = block
        .find_iter(&dom)
        .filter(|m| attr(m.as_str(), "data-kind").as_deref() == Some("start"))
        .map(|m| {
            attr(m.as_str(), "data-drawn-start-hours")
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(starts.len(), 4, "{starts:?}");
    assert!((starts[0] - 27.0).abs() < 0.1, "{starts:?}");
    // A row per zone or site, labelled in its local time.
    assert!(dom.contains("FRA (Europe/Berlin)"));
    assert!(dom.contains("America/New_York"));
}

fn two_sites() -> Inventory {
    let text = r#"{
        "sites": { "KTM": { "timezone": "Asia/Kathmandu" },
                   "ADL": { "timezone": "Australia/Adelaide" } },
        "devices": { "r-ktm": { "site": "KTM" }, "r-adl": { "site": "ADL" } }
    }"#;
    Inventory::parse(
        text,
        changegate::input::Format::Json,
        "sites.json",
        &changegate::Limits::default(),
    )
    .unwrap()
}

#[test]
fn local_windows_intersect_across_the_targets_sites() {
    // 00:00-12:00 local in Kathmandu (UTC+05:45) is 18:15-06:15 UTC; in Adelaide in
    // December (ACDT, UTC+10:30) it is 13:30-01:30 UTC. Together: 18:15-01:30 UTC.
    let policy = Policy::parse(
        "policy \"p\"\ngroup ops = [\"a\", \"b\"]\nwindow half = daily 00:00-12:00 local\ndefault deploy during half\n",
        "p.gate",
    )
    .unwrap();
    let change =
        Change::from_json(serde_json::json!({"id": "C", "targets": ["r-ktm", "r-adl"]})).unwrap();
    let from = secs("2026-12-01T00:00:00Z");
    let cal = policy.change_calendar(&change, &two_sites(), from, from + 3 * 86_400);
    let got: Vec<(String, String)> = cal
        .openings
        .iter()
        .map(|o| (o.starts.clone(), o.ends.clone().unwrap_or_default()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("2026-12-01T00:00:00Z".into(), "2026-12-01T01:30:00Z".into()),
            ("2026-12-01T18:15:00Z".into(), "2026-12-02T01:30:00Z".into()),
            ("2026-12-02T18:15:00Z".into(), "2026-12-03T01:30:00Z".into()),
            ("2026-12-03T18:15:00Z".into(), "2026-12-04T01:30:00Z".into()),
        ]
    );
    let zones: Vec<&str> = cal.windows.iter().map(|w| w.zone.as_str()).collect();
    assert_eq!(zones, ["Asia/Kathmandu", "Australia/Adelaide"]);
    // The HTML page of this calendar is checked with the renderer, in the binary
    // (src/cli/calendar/html.rs: `local_windows_one_row_per_site_change_first`).
}

#[test]
fn a_denied_change_never_starts_and_break_glass_starts_any_time() {
    let policy = Policy::from_file(root().join("policies/netops.gate")).unwrap();
    let inventory = Inventory::from_file(root().join("policies/netops.inventory.json")).unwrap();
    let from = secs("2026-12-20T00:00:00Z");
    let read = |p: &str| {
        let v =
            changegate::input::read_file(&root().join(p), &changegate::Limits::default()).unwrap();
        Change::from_value(v).unwrap()
    };
    let denied = policy.change_calendar(
        &read("policies/changes/no-rollback.json"),
        &inventory,
        from,
        from + 86_400,
    );
    assert!(denied.openings.is_empty());
    assert!(denied.note.unwrap().contains("denied"));
    // Inside the year-end freeze, the emergency still may start at once.
    let glass = policy.change_calendar(
        &read("policies/changes/emergency.json"),
        &inventory,
        from,
        from + 86_400,
    );
    assert_eq!(glass.openings.len(), 1);
    assert_eq!(glass.openings[0].starts, "2026-12-20T00:00:00Z");
    assert!(glass.note.unwrap().contains("break"));
    // An ordinary change waits for the end of the freeze.
    let frozen = policy.change_calendar(
        &read("policies/changes/access-port.json"),
        &inventory,
        from,
        from + 20 * 86_400,
    );
    assert_eq!(frozen.openings[0].starts, "2027-01-04T01:00:00Z");
}
