//! Source definitions: `sources/*.toml` loaded, validated and compiled into
//! [`SourceDef`]s. An error names the file, the line and the field, and says
//! what was expected. First stage of the pipeline:
//! **sources** → schedule → fetch → extract → normalize → store.

pub mod schema;
