//! The options every command that reads the configuration shares
//! (`--config`, `--db`, `--sources`), and how they layer over the file.

use std::path::PathBuf;

use clap::Args;

use super::Config;

/// Options shared by every command that touches the database.
#[derive(Debug, Clone, Args)]
pub struct Common {
    /// Configuration file (default: ./vigie.toml if present, else the embedded defaults).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// SQLite database file (overrides database.path).
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Folder of source definitions (overrides crawl.sources_dir).
    #[arg(long, global = true, value_name = "DIR")]
    pub sources: Option<PathBuf>,
}

impl Common {
    pub fn load(&self) -> anyhow::Result<Config> {
        let mut config = Config::load(self.config.as_deref())?;
        if let Some(db) = &self.db {
            config.database.path = db.clone();
        }
        if let Some(dir) = &self.sources {
            config.crawl.sources_dir = dir.clone();
        }
        Ok(config)
    }
}
