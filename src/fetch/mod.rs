//! Fetch stage: HTTP with manners. Pipeline: schedule → **fetch** → extract.
//!
//! [`Fetcher::fetch`] is the entry point: it takes a [`FetchRequest`] (what a
//! source asks for, with its stored validators and overrides) and returns a
//! decoded [`Page`] or [`FetchOutcome::NotModified`], or a [`FetchError`]
//! whose [`FetchError::is_retryable`] tells the scheduler what to do.
//!
//! - [`client`]: the fetcher, its redirect loop and its retry loop;
//! - [`address`]: which addresses may be reached (the SSRF guard), and
//!   [`resolve`]: the DNS resolver that applies it to host names;
//! - `redirect`: the next hop of a redirect chain;
//! - `robots_fetch`: robots.txt requests, for every hop's host;
//! - [`request`]: what a caller asks for and gets back;
//! - [`config`]: settings with named defaults, per-source overrides;
//! - [`robots`]: robots.txt verdicts and their cache;
//! - [`politeness`]: per-host and total concurrency, per-host spacing;
//! - [`retry`]: backoff and `Retry-After`;
//! - [`charset`]: bytes to text;
//! - [`error`]: why a fetch failed;
//! - [`page`]: the request and page types shared with extract;
//! - `link`: which links read from a page may be followed or stored.

pub mod address;
pub mod body;
pub mod charset;
pub mod client;
pub mod config;
pub mod error;
mod link;
pub mod page;
pub mod politeness;
mod redirect;
pub mod request;
pub mod resolve;
pub mod retry;
pub mod robots;
mod robots_fetch;

pub use address::{AddressClass, AllowList};
pub use body::{FormPart, RequestBody};
pub use client::{
    ACCEPT_DOCUMENT, ACCEPT_FEED, ACCEPT_JSON, FetchOutcome, FetchRequest, Fetcher, Validators,
};
pub use config::{FetchConfig, FetchOverrides};
pub use error::FetchError;
pub use link::web_link;
pub use page::{HttpMethod, Page, PageRequest};
