//! Vigie's one integration test binary: each module tests one stage or flow
//! against real local servers (see `support`).

mod crawl;
mod fetch;
mod subscribers;
mod support;
