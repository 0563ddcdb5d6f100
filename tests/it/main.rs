//! Vigie's one integration test binary: each module tests one stage or flow
//! against real local servers (see `support`).

mod cli;
mod crawl;
mod crawl_feeds;
mod crawl_lease;
mod crawl_pages;
mod curator;
mod dedup;
mod deliver;
mod demo;
mod digest;
mod feed_fields;
mod fetch;
mod fetch_forms;
mod fetch_guard;
mod fetch_tls;
mod layering;
mod ops;
mod perimeter;
mod redaction;
mod service;
mod sources;
mod subscribers;
mod support;
mod unlisted;
mod web;
