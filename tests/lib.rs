//! The integration tests, as one test crate (`cargo test --test integration`): each
//! `tests/NAME.rs` is the module `NAME`, so the crate is linked once rather than once
//! per file. `cargo test --test integration cli::` runs one file's tests.
//!
//! Snapshots are named after the module path: `tests/snapshots/integration__cli__NAME.snap`.

// Tests may unwrap, expect, panic and index (clippy.toml allows these in `#[test]`
// functions; this covers the helpers too).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

mod audit;
mod bad;
mod calendar;
mod cases;
mod cli;
mod conventions;
mod diagnostics;
mod diff;
mod docs;
mod editor;
mod examples;
mod expectations;
mod install;
mod instants;
mod limits;
mod modules;
mod pipeline;
mod regressions;
mod reports;
mod reviews;
mod schemas;
mod tooling;
mod topology;
mod trust;
mod trust_input;
mod verdict_text;
mod workload;
