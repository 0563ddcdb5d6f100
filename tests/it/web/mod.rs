//! The public web over HTTP: pages, sign-up, feeds, calendars and API
//! served from a catalogue filled by a real crawl (see `support::web`).

mod api;
mod browser;
mod feeds;
mod pages;
mod security;
mod signup;
mod xss;
