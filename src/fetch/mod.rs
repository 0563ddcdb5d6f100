//! Fetch stage: HTTP with manners. Pipeline: schedule → **fetch** → extract.

pub mod page;
