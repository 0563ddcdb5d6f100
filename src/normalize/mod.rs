//! Normalize stage: raw items to calls. Pipeline: extract → **normalize** → store.

pub mod item;
pub mod kind;
pub mod text;
pub mod themes;
pub mod url;
