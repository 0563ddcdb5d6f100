//! Normalize stage: raw items to calls.

pub mod dates;
