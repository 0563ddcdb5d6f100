//! A throw-away Vigie installation for tests that run the real `vigie`
//! binary: a temporary folder with `sources/`, a `vigie.toml` that lifts
//! politeness delays, shortens timeouts and allow-lists 127.0.0.1 (where
//! every fixture server listens), and its own SQLite file.

use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;

pub struct Scenario {
    pub dir: tempfile::TempDir,
}

impl Scenario {
    pub fn new() -> Scenario {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir(dir.path().join("sources")).unwrap();
        let config = format!(
            "[database]\npath = \"{db}\"\n\
             [crawl]\nsources_dir = \"{src}\"\nconcurrency = 16\n\
             [fetch]\nmin_spacing_ms = 0\nretries = 1\nbackoff_base_ms = 20\ntimeout_secs = 2\n\
             connect_timeout_secs = 2\nmax_body_bytes = 300000\nmax_retry_after_secs = 3\n\
             allow_hosts = [\"127.0.0.1\"]\n",
            db = dir.path().join("vigie.db").display(),
            src = dir.path().join("sources").display(),
        );
        std::fs::write(dir.path().join("vigie.toml"), config).unwrap();
        Scenario { dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    pub fn db(&self) -> PathBuf {
        self.path("vigie.db")
    }

    /// Writes `sources/{id}.toml`.
    pub fn source(&self, id: &str, toml: &str) -> PathBuf {
        let path = self.path(&format!("sources/{id}.toml"));
        std::fs::write(&path, toml).unwrap();
        path
    }

    /// Runs `vigie ARGS --config <scenario>/vigie.toml` in the scenario folder.
    pub fn vigie(&self, args: &[&str]) -> Output {
        self.vigie_with_env(args, &[])
    }

    /// Like [`Scenario::vigie`], with extra environment variables (secrets
    /// that source definitions read from the environment).
    pub fn vigie_with_env(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::cargo_bin("vigie").expect("the vigie binary is built");
        cmd.current_dir(self.dir.path())
            .args(args)
            .arg("--config")
            .arg(self.path("vigie.toml"))
            .env_remove("VIGIE_LOG");
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("VIGIE_")) {
            cmd.env_remove(k);
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.output().expect("vigie runs")
    }

    /// `vigie calls --format json` parsed.
    pub fn calls(&self, extra: &[&str]) -> Vec<serde_json::Value> {
        let mut args = vec!["calls", "--format", "json"];
        args.extend_from_slice(extra);
        let out = self.vigie(&args);
        assert!(
            out.status.success(),
            "vigie calls failed: {}",
            text(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("calls --format json is JSON")
    }
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Stdout and stderr together, for assertions and failure messages.
pub fn all_output(out: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// The repository's fixture folder.
pub fn fixtures(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(rel)
}
