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
    #[test]
    fn out_of_range_numbers_are_errors_naming_the_key_and_the_range() {
        for (text, key, range) in [
            (
                "[digest]\nclosing_soon_days = 100000000\n",
                "digest.closing_soon_days",
                "from 0 to 365 days",
            ),
            (
                "[mail]\nclaim_lease_secs = 9223372036854775807\n",
                "mail.claim_lease_secs",
                "from 0 to 604800 seconds",
            ),
            (
                "[fetch]\nmin_spacing_ms = 9000000000000\n",
                "fetch.min_spacing_ms",
                "from 0 to 60000 milliseconds",
            ),
            (
                "[crawl]\nconcurrency = 0\n",
                "crawl.concurrency",
                "from 1 to 256 sources",
            ),
            (
                "[service]\nbackoff_max_secs = 9223372036854775807\n",
                "service.backoff_max_secs",
                "from 1 to 604800 seconds",
            ),
            (
                "[curators]\ndrop_window = 0\n",
                "curators.drop_window",
                "from 1 to 100 runs",
            ),
        ] {
            let err = Config::from_layers(layer(text), std::iter::empty())
                .unwrap_err()
                .to_string();
            assert!(err.starts_with("custom.toml: "), "{err}");
            assert!(err.contains(key) && err.contains(range), "{err}");
        }
        let env = vec![(
            "VIGIE_FETCH__TIMEOUT_SECS".to_string(),
            "86400000".to_string(),
        )];
        let err = Config::from_layers(None, env.into_iter())
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("VIGIE_FETCH__TIMEOUT_SECS") && err.contains("from 1 to 600 seconds"),
            "{err}"
        );
    }

    #[test]
    fn wrong_types_and_negative_numbers_name_the_key() {
        for (text, key) in [
            ("[fetch]\nmin_spacing_ms = -1\n", "min_spacing_ms"),
            ("[mail]\npool_size = \"NaN\"\n", "pool_size"),
            ("[digest]\nmax_calls = 1e400\n", "max_calls"),
            (
                "[crawl]\nmax_details = 99999999999999999999\n",
                "max_details",
            ),
        ] {
            let shown = match toml::from_str::<toml::Table>(text) {
                Ok(t) => Config::from_layers(Some(("custom.toml".into(), t)), std::iter::empty())
                    .unwrap_err()
                    .to_string(),
                // Not TOML at all: the file reader names the file and the line.
                Err(e) => e.to_string(),
            };
            assert!(shown.contains(key), "{text}: {shown}");
        }
    }

    #[test]
    fn the_embedded_defaults_are_within_their_ranges() {
        Config::embedded().check_ranges().unwrap();
    }

    #[test]
    fn explain_names_the_layer_of_each_value_and_masks_secrets() {
        let env = vec![
            (
                "VIGIE_MAIL__SMTP_PASSWORD".to_string(),
                "hunter2".to_string(),
            ),
            ("VIGIE_CRAWL__CONCURRENCY".into(), "2".into()),
            ("HOME".into(), "/root".into()),
        ];
        let flags = vec![(
            "database.path".to_string(),
            "--db".to_string(),
            toml::Value::String("/tmp/f.db".into()),
        )];
        let shown = explain_layers(
            layer(
                "[digest]\nsite_url = \"https://vigie.example.fr\"\n[database]\npath = \"x.db\"\n",
            ),
            env.into_iter(),
            flags,
        )
        .unwrap();
        let get = |section: &str, key: &str| {
            shown
                .iter()
                .find(|v| v.section == section && v.key == key)
                .unwrap_or_else(|| panic!("{section}.{key} missing"))
                .clone()
        };
        let pw = get("mail", "smtp_password");
        assert_eq!(pw.value, MASK);
        assert_eq!(pw.layer, Layer::Env("VIGIE_MAIL__SMTP_PASSWORD".into()));
        assert!(shown.iter().all(|v| !v.value.contains("hunter2")));
        assert_eq!(get("crawl", "concurrency").value, "2");
        assert_eq!(
            get("digest", "site_url").layer,
            Layer::File("custom.toml".into())
        );
        assert_eq!(get("database", "path").layer, Layer::Flag("--db".into()));
        assert_eq!(get("database", "path").value, "\"/tmp/f.db\"");
        assert_eq!(get("fetch", "robots").layer, Layer::Embedded);
        assert_eq!(get("mail", "dkim_key_file").value, "\"\"");
        let text = render_shown(&shown);
        assert!(text.contains("\n[mail]\n"), "{text}");
        let line = text
            .lines()
            .find(|l| l.starts_with("smtp_password "))
            .unwrap();
        assert!(line.ends_with("# env VIGIE_MAIL__SMTP_PASSWORD"), "{line}");
        // What it prints reads back as a configuration (comments and all).
        let back: toml::Table = toml::from_str(&text).unwrap();
        assert_eq!(back["crawl"]["concurrency"].as_integer(), Some(2));
    }

    #[test]
    fn secrets_are_recognised_by_name_and_empty_ones_stay_visible() {
        for key in ["smtp_password", "api_token", "client_secret", "PASSWORD"] {
            assert!(is_secret(key), "{key}");
            assert_eq!(redact(key, &toml::Value::String("s3cr3t".into())), MASK);
        }
        assert!(!is_secret("dkim_key_file"));
        assert_eq!(
            redact("smtp_password", &toml::Value::String(String::new())),
            "\"\""
        );
        assert_eq!(redact("api_token", &toml::Value::Integer(12345)), MASK);
    }

    proptest::proptest! {
        /// Whatever a secret is set to, and through whichever layer, its
        /// value never reaches the output.
        #[test]
        fn a_secret_value_never_shows(
            tail in "[a-zA-Z0-9!#%&*+.:;=?@^_~ -]{0,40}",
            key in proptest::sample::select(vec!["smtp_password", "api_token", "client_secret"]),
            by_env in proptest::bool::ANY,
        ) {
            // A marker no configuration text holds, so that a hit is a leak.
            let value = format!("Xq7z{tail}");
            let (file, env) = if by_env {
                (None, vec![(format!("VIGIE_MAIL__{}", key.to_uppercase()), value.clone())])
            } else {
                (layer(&format!("[mail]\n{key} = {}\n", toml::Value::String(value.clone()))), vec![])
            };
            let shown = explain_layers(file, env.into_iter(), Vec::new()).unwrap();
            let text = render_shown(&shown);
            proptest::prop_assert!(!text.contains("Xq7z"), "{} shows in\n{}", value, text);
            let line = text.lines().find(|l| l.starts_with(&format!("{key} = "))).unwrap();
            proptest::prop_assert!(line.contains(MASK), "{}", line);
        }
    }
}
