//! Helpers shared by every integration test module.
// Each test module uses a different part of the helpers.
#![allow(dead_code)]

pub mod daemon;
pub mod fixture_server;
pub mod response;
pub mod scenario;
pub mod smtp;
pub mod sources;
pub mod web;

#[allow(unused_imports)]
pub use fixture_server::{FixtureServer, RecordedRequest, replace_bytes};
#[allow(unused_imports)]
pub use response::Response;
#[allow(unused_imports)]
pub use scenario::{Scenario, all_output, fixtures, text};
#[allow(unused_imports)]
pub use smtp::SmtpSink;
#[allow(unused_imports)]
pub use sources::listing_source;
