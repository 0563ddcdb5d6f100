//! Vigie gathers public funders' calls for projects (AAP) and expressions of
//! interest (AMI) into one SQLite catalogue and brings them to French local
//! governments.
//!
//! Layout, in pipeline order:
//!
//! - [`source`]: `sources/*.toml` definitions, validated at load.
//! - [`fetch`]: HTTP with manners (robots.txt, conditional GET, spacing,
//!   retries, body cap, charset detection).
//! - [`extract`]: pages to raw items, per source kind (html, feed, json).
//! - [`normalize`]: raw items to calls (French dates, canonical URLs, clean
//!   text, kind, themes).
//! - [`store`]: SQLite catalogue (calls, sightings, history, runs, FTS).
//! - [`dedup`]: the pairwise "same call?" decision across sources.
//! - [`digest`]: digest emails rendered from templates (subject, HTML and
//!   text parts) in French.
//! - [`deliver`]: the outbox table and the worker that sends it over SMTP
//!   (or to `.eml` files), with retries and DKIM.
//! - [`crawl`]: the orchestrator that runs one source through every stage.
//! - [`territory`]: French regions, departments, EPCIs and communes (INSEE
//!   reference data) and perimeter containment.
//! - [`subscribers`]: the collectivities that receive digests, their
//!   profile and double opt-in state.
//! - [`matching`]: which calls fit which subscriber.
//! - [`redact`]: credentials masked in everything printed or logged.
//! - [`text`]: whitespace collapsing shared by every stage.
//! - [`demo`]: `vigie demo`, the whole flow on fixture sites served on
//!   loopback, with sample subscribers.
//! - [`service`]: the daemon (`vigie run`): schedules, source health and
//!   curator alerts, the HTTP listener (`/healthz`, `/metrics`).
//! - [`scaffold`]: `vigie sources new`, a commented skeleton definition
//!   with selectors guessed from DSFR listings.
//! - [`cli`]: the `vigie` command line; `main.rs` only calls it.

// Command output goes through `report::out`, never `println!`, which
// panics when stdout is a closed pipe.
#![deny(clippy::print_stdout)]
#![cfg_attr(test, allow(clippy::print_stdout))]

pub mod alloc;
pub mod cli;
pub mod config;
pub mod crawl;
pub mod dedup;
pub mod deliver;
pub mod demo;
pub mod digest;
pub mod domain;
pub mod extract;
pub mod fetch;
pub mod limits;
pub mod matching;
pub mod normalize;
pub mod redact;
pub mod report;
pub mod scaffold;
pub mod service;
pub mod source;
pub mod spreadsheet;
pub mod store;
pub mod subscribers;
pub mod territory;
pub mod text;
pub mod web;

#[cfg(test)]
mod loader_fuzz_tests;
