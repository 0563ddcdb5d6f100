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
use crate::limits::Limit;

mod common;
mod service;

pub use common::Common;
pub use service::{CuratorsConfig, ServiceConfig};

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
    pub service: ServiceConfig,
    pub curators: CuratorsConfig,
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

    pub(crate) fn from_layers(
        file: Option<(String, toml::Table)>,
        env: impl Iterator<Item = (String, String)>,
    ) -> anyhow::Result<Config> {
        let mut table: toml::Table = toml::from_str(EMBEDDED).context("embedded configuration")?;
        if let Some((origin, layer)) = file {
            merge(&mut table, layer);
            // Check now, so that an error names the file it comes from.
            Config::checked(table.clone()).map_err(|e| anyhow::anyhow!("{origin}: {e}"))?;
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
            Config::checked(table.clone())
                .map_err(|e| anyhow::anyhow!("environment variable {name}: {e}"))?;
        }
        Config::checked(table).map_err(|e| anyhow::anyhow!("configuration: {e}"))
    }

    /// Deserializes the merged layers and checks every numeric range.
    fn checked(table: toml::Table) -> Result<Config, String> {
        // The path names the key of a wrong type or value (`fetch.retries:
        // invalid value: integer `-1`, expected u32`), which toml's message
        // alone does not.
        let config: Config = serde_path_to_error::deserialize(table).map_err(|e| {
            let path = e.path().to_string();
            let message = with_suggestion(e.inner().message());
            if path.is_empty() || path == "." {
                message
            } else {
                format!("{path}: {message}")
            }
        })?;
        config.check_ranges()?;
        Ok(config)
    }
}

/// Accepted ranges of the numeric settings (see `crate::limits`); each
/// section declares its own.
impl CrawlConfig {
    pub const CONCURRENCY: Limit<usize> = Limit::new(1, 256, "sources");
    pub const MAX_DETAILS: Limit<usize> = Limit::new(0, 10_000, "pages");

    pub fn check_ranges(&self) -> Result<(), String> {
        Self::CONCURRENCY.check("crawl.concurrency", self.concurrency)?;
        Self::MAX_DETAILS.check("crawl.max_details", self.max_details)?;
        Ok(())
    }
}

impl Config {
    /// Every numeric key of every section within its range: the error
    /// names the key and the accepted range.
    pub fn check_ranges(&self) -> Result<(), String> {
        self.crawl.check_ranges()?;
        self.fetch.check_ranges()?;
        self.mail.check_ranges()?;
        self.digest.check_ranges()?;
        self.service.check_ranges()?;
        self.curators.check_ranges()?;
        Ok(())
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

/// The layer an effective configuration value comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layer {
    /// The embedded `config/vigie.toml`.
    Embedded,
    /// A configuration file, by path.
    File(String),
    /// A `VIGIE_SECTION__KEY` environment variable, by name.
    Env(String),
    /// A command-line flag, by name (`--db`).
    Flag(String),
}

impl std::fmt::Display for Layer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Layer::Embedded => f.write_str("default"),
            Layer::File(path) => write!(f, "file {path}"),
            Layer::Env(name) => write!(f, "env {name}"),
            Layer::Flag(name) => write!(f, "flag {name}"),
        }
    }
}

/// One effective value, for `vigie config show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShownValue {
    /// The section (`mail`).
    pub section: String,
    /// The key inside it, dotted when nested (`smtp_password`).
    pub key: String,
    /// The value as TOML, or a mask for a secret.
    pub value: String,
    pub layer: Layer,
}

/// What a masked secret prints as (its length is not shown either).
pub const MASK: &str = "\"********\"";

/// Whether a key names a secret: anything with `password`, `token` or
/// `secret` in its name. Its value is never printed.
pub fn is_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["password", "token", "secret"]
        .iter()
        .any(|word| k.contains(word))
}

/// A value as printed: TOML, or [`MASK`] for a non-empty secret (an empty
/// one prints `""`, so that "not set" stays visible).
pub fn redact(key: &str, value: &toml::Value) -> String {
    let empty = matches!(value, toml::Value::String(s) if s.is_empty());
    if is_secret(key) && !empty {
        MASK.to_string()
    } else {
        value.to_string()
    }
}

impl Config {
    /// Every effective value with the layer it comes from, secrets
    /// masked: the layers [`Config::load`] reads, then the path flags
    /// given, as `(dotted key, flag name, value)`. The layers are read the
    /// same way as `load` reads them; call `load` first for its error
    /// messages.
    pub fn explain(
        file: Option<&Path>,
        flags: &[(&str, &str, &Option<PathBuf>)],
    ) -> anyhow::Result<Vec<ShownValue>> {
        let flags = flags
            .iter()
            .filter_map(|(key, flag, path)| {
                let value = toml::Value::String(path.as_ref()?.display().to_string());
                Some((key.to_string(), flag.to_string(), value))
            })
            .collect();
        let file = match file {
            Some(path) => Some(read_layer(path)?),
            None if Path::new(DEFAULT_FILE).exists() => Some(read_layer(Path::new(DEFAULT_FILE))?),
            None => None,
        };
        explain_layers(file, std::env::vars(), flags)
    }
}

/// The values as a TOML document, each line commented with its layer:
/// what `vigie config show` prints (it reads back as a configuration file).
pub fn render_shown(values: &[ShownValue]) -> String {
    let width = values
        .iter()
        .map(|v| v.key.len() + v.value.len() + 3)
        .max()
        .unwrap_or(0);
    let mut out = String::from(
        "# Effective configuration. Layers, lowest first: default (embedded), file, env \
         (VIGIE_SECTION__KEY), flag.\n# Secrets (keys naming a password, token or secret) are masked.\n",
    );
    let mut section = None;
    for v in values {
        if section != Some(&v.section) {
            if !v.section.is_empty() {
                out.push_str(&format!("\n[{}]\n", v.section));
            }
            section = Some(&v.section);
        }
        let line = format!("{} = {}", v.key, v.value);
        out.push_str(&format!("{line:<width$}  # {}\n", v.layer));
    }
    out
}

fn explain_layers(
    file: Option<(String, toml::Table)>,
    env: impl Iterator<Item = (String, String)>,
    flags: Vec<(String, String, toml::Value)>,
) -> anyhow::Result<Vec<ShownValue>> {
    let mut values: std::collections::BTreeMap<(String, String), (toml::Value, Layer)> =
        Default::default();
    let embedded: toml::Table = toml::from_str(EMBEDDED).context("embedded configuration")?;
    overlay(&mut values, &embedded, &|| Layer::Embedded);
    if let Some((origin, table)) = file {
        overlay(&mut values, &table, &|| Layer::File(origin.clone()));
    }
    let mut env: Vec<(String, String)> = env.collect();
    env.sort();
    for (name, raw) in env {
        let Some((section, key)) = name
            .strip_prefix("VIGIE_")
            .and_then(|path| path.split_once("__"))
        else {
            continue;
        };
        let (section, key) = (section.to_ascii_lowercase(), key.to_ascii_lowercase());
        values.insert((section, key), (env_value(&raw), Layer::Env(name)));
    }
    for (dotted, flag, value) in flags {
        let (section, key) = dotted
            .split_once('.')
            .with_context(|| format!("flag {flag}: `{dotted}` is not a section.key"))?;
        values.insert((section.into(), key.into()), (value, Layer::Flag(flag)));
    }
    Ok(values
        .into_iter()
        .map(|((section, key), (value, layer))| ShownValue {
            value: redact(&key, &value),
            section,
            key,
            layer,
        })
        .collect())
}

/// Records every leaf of `table` (`section.key`, nested keys dotted) as
/// coming from `layer`.
fn overlay(
    values: &mut std::collections::BTreeMap<(String, String), (toml::Value, Layer)>,
    table: &toml::Table,
    layer: &dyn Fn() -> Layer,
) {
    fn leaves(prefix: &str, table: &toml::Table, out: &mut Vec<(String, toml::Value)>) {
        for (key, value) in table {
            let key = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            match value {
                toml::Value::Table(t) => leaves(&key, t, out),
                v => out.push((key, v.clone())),
            }
        }
    }
    for (section, value) in table {
        let mut out = Vec::new();
        let section = match value {
            toml::Value::Table(t) => {
                leaves("", t, &mut out);
                section.clone()
            }
            // A top-level key outside any section: shown in section "".
            v => {
                out.push((section.clone(), v.clone()));
                String::new()
            }
        };
        for (key, v) in out {
            values.insert((section.clone(), key), (v, layer()));
        }
    }
}

#[cfg(test)]
mod tests;
