//! Layered configuration: the defaults embedded from `config/vigie.toml`,
//! then a file (`--config FILE`, else `./vigie.toml` when present), then
//! `VIGIE_SECTION__KEY` environment variables, then command-line flags
//! (applied by the CLI). Unknown keys are errors at every layer.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::deliver::MailConfig;
use crate::digest::DigestConfig;
use crate::fetch::FetchConfig;

/// The configuration file shipped with Vigie.
pub const EMBEDDED: &str = include_str!("../config/vigie.toml");

/// The file read when `--config` is not given and it exists.
pub const DEFAULT_FILE: &str = "vigie.toml";

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub database: DatabaseConfig,
    pub crawl: CrawlConfig,
    pub fetch: FetchConfig,
    pub mail: MailConfig,
    pub digest: DigestConfig,
    pub service: crate::service::ServiceConfig,
    pub curators: crate::service::CuratorsConfig,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    pub path: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CrawlConfig {
    pub sources_dir: PathBuf,
    pub concurrency: usize,
    pub follow_details: bool,
    pub max_details: usize,
    pub themes: PathBuf,
}

impl Config {
    /// The embedded defaults alone.
    pub fn embedded() -> Config {
        Config::from_layers(None, std::iter::empty()).expect("embedded configuration is valid")
    }

    /// Loads every layer. `file` must exist when given; without it,
    /// `./vigie.toml` is read if present.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Config> {
        let file = match file {
            Some(path) => Some(read_layer(path)?),
            None if Path::new(DEFAULT_FILE).exists() => Some(read_layer(Path::new(DEFAULT_FILE))?),
            None => None,
        };
        Config::from_layers(file, std::env::vars())
    }

    fn from_layers(
        file: Option<(String, toml::Table)>,
        env: impl Iterator<Item = (String, String)>,
    ) -> anyhow::Result<Config> {
        let mut table: toml::Table = toml::from_str(EMBEDDED).context("embedded configuration")?;
        if let Some((origin, layer)) = file {
            merge(&mut table, layer);
            // Check now, so that an error names the file it comes from.
            Config::deserialize(table.clone())
                .map_err(|e| anyhow::anyhow!("{origin}: {}", with_suggestion(e.message())))?;
        }
        for (name, value) in env {
            let Some(path) = name.strip_prefix("VIGIE_") else {
                continue;
            };
            let Some((section, key)) = path.split_once("__") else {
                continue;
            };
            let (section, key) = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
            let Some(toml::Value::Table(t)) = table.get_mut(&section) else {
                bail!("environment variable {name}: there is no configuration section `{section}`");
            };
            t.insert(key, env_value(&value));
            Config::deserialize(table.clone()).map_err(|e| {
                anyhow::anyhow!(
                    "environment variable {name}: {}",
                    with_suggestion(e.message())
                )
            })?;
        }
        Config::deserialize(table).map_err(|e| anyhow::anyhow!("configuration: {}", e.message()))
    }
}

/// A deserialization message, with "did you mean" for a misspelt key.
fn with_suggestion(message: &str) -> String {
    match crate::source::locate::closest_field(message) {
        Some(known) if message.starts_with("unknown field") => {
            format!("{message} (did you mean `{known}`?)")
        }
        _ => message.to_string(),
    }
}

fn read_layer(path: &Path) -> anyhow::Result<(String, toml::Table)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading configuration file {}", path.display()))?;
    let table = toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Ok((path.display().to_string(), table))
}

/// An environment value is read as a TOML value when it is one (`0`,
/// `true`, `[1, 2]`), else as a string, so `VIGIE_DATABASE__PATH=/tmp/v.db`
/// needs no quotes.
fn env_value(raw: &str) -> toml::Value {
    toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.to_string()))
}

/// Overlays `top` onto `base`, table by table.
fn merge(base: &mut toml::Table, top: toml::Table) {
    for (key, value) in top {
        match (base.get_mut(&key), value) {
            (Some(toml::Value::Table(b)), toml::Value::Table(t)) => merge(b, t),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(text: &str) -> Option<(String, toml::Table)> {
        Some(("custom.toml".into(), toml::from_str(text).unwrap()))
    }

    #[test]
    fn embedded_defaults_run_anywhere() {
        let c = Config::embedded();
        assert_eq!(c.database.path, PathBuf::from("vigie.db"));
        assert_eq!(c.crawl.sources_dir, PathBuf::from("sources"));
        assert_eq!(c.fetch.max_body_bytes, 10 * 1024 * 1024);
    }

    #[test]
    fn a_file_then_the_environment_override_defaults() {
        let env = vec![
            ("VIGIE_FETCH__MIN_SPACING_MS".to_string(), "0".to_string()),
            ("VIGIE_DATABASE__PATH".into(), "/tmp/x.db".into()),
        ];
        let c = Config::from_layers(
            layer("[crawl]\nconcurrency = 3\n[database]\npath = \"f.db\"\n"),
            env.into_iter(),
        )
        .unwrap();
        assert_eq!(c.crawl.concurrency, 3);
        assert_eq!(c.fetch.min_spacing_ms, 0);
        assert_eq!(c.database.path, PathBuf::from("/tmp/x.db"));
        assert!(c.crawl.follow_details, "untouched keys keep their default");
    }

    #[test]
    fn unknown_keys_are_errors_that_name_their_origin() {
        let err = Config::from_layers(layer("[crawl]\nconcurency = 3\n"), std::iter::empty())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("custom.toml") && err.contains("concurency"),
            "{err}"
        );
        assert!(err.ends_with("(did you mean `concurrency`?)"), "{err}");
        let env = vec![("VIGIE_FETCH__TIMEOUT".to_string(), "3".to_string())];
        let err = Config::from_layers(None, env.into_iter())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("VIGIE_FETCH__TIMEOUT") && err.contains("timeout"),
            "{err}"
        );
        let env = vec![("VIGIE_NOPE__X".to_string(), "3".to_string())];
        assert!(
            Config::from_layers(None, env.into_iter())
                .unwrap_err()
                .to_string()
                .contains("nope")
        );
    }
}
