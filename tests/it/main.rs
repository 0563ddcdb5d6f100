//! Vigie's one integration test binary: each module tests one stage or flow
//! against real local servers (see `support`).

mod crawl;
mod deliver;
mod fetch;
mod support;
