//! A real SMTP server for tests: `tests/smtp_sink.py` (aiosmtpd) run as a
//! child process on 127.0.0.1, port 0. It stores each accepted message as
//! a file; [`SmtpSink::messages`] reads them back, in order of acceptance.
//! Killed when dropped.
//!
//! ```ignore
//! let sink = SmtpSink::start(&[]);                          // always 250
//! let sink = SmtpSink::start(&["--transient-first", "1"]);  // 451, then 250
//! let sink = SmtpSink::start(&["--reject", "gone@x.fr"]);   // 550 at RCPT
//! ```

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct SmtpSink {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
}

impl SmtpSink {
    /// Starts the sink with extra arguments and waits until it listens.
    pub fn start(args: &[&str]) -> SmtpSink {
        let dir = tempfile::tempdir().expect("temp dir");
        let received = dir.path().join("received");
        let mut all: Vec<&std::ffi::OsStr> = vec![received.as_os_str()];
        all.extend(args.iter().map(std::ffi::OsStr::new));
        let (child, port) = start_python_server(
            "tests/smtp_sink.py",
            &all,
            "the SMTP sink (is aiosmtpd installed? `python3 -m pip install aiosmtpd`)",
        );
        SmtpSink { child, port, dir }
    }

    /// The folder where accepted messages are stored.
    pub fn received_dir(&self) -> PathBuf {
        self.dir.path().join("received")
    }

    /// Every accepted message, in order of acceptance.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut files: Vec<(u64, PathBuf)> = std::fs::read_dir(self.received_dir())
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok().map(|e| e.path()))
                    .filter_map(|p| {
                        let n = p
                            .file_name()?
                            .to_str()?
                            .strip_suffix(".eml")?
                            .parse()
                            .ok()?;
                        Some((n, p))
                    })
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        files
            .into_iter()
            .map(|(_, p)| std::fs::read(p).expect("reading a received message"))
            .collect()
    }

    /// Waits until at least `n` messages arrived, or `timeout`.
    pub fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Vec<u8>> {
        let start = Instant::now();
        loop {
            let got = self.messages();
            if got.len() >= n || start.elapsed() > timeout {
                return got;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `script` (a path from the crate root) with `args` under python3
/// and waits for the `PORT <n>` line it prints once it listens on
/// 127.0.0.1; fails the test with the server's stderr, naming `what`,
/// when it does not start.
pub fn start_python_server(script: &str, args: &[&std::ffi::OsStr], what: &str) -> (Child, u16) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join(script);
    let mut child = Command::new("python3")
        .arg(&script)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("python3 runs ({what} needs Python 3): {e}"));
    let mut line = String::new();
    let _ = BufReader::new(child.stdout.take().unwrap()).read_line(&mut line);
    let Some(port) = line
        .trim()
        .strip_prefix("PORT ")
        .and_then(|p| p.parse().ok())
    else {
        let _ = child.kill();
        let out = child.wait_with_output().expect("server output");
        panic!(
            "{what} did not start:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    (child, port)
}

/// Parses a stored message (mail-parser).
pub fn parse(bytes: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default()
        .parse(bytes)
        .expect("the message parses")
}

/// Fails the test, saying what to install, unless `python3` can import
/// `module`: a test whose real component is missing never passes silently.
pub fn require_python(module: &str, package: &str) {
    assert!(
        python_has(module),
        "this test needs the Python module `{module}`: python3 -m pip install {package} \
         (.ci/run installs it)"
    );
}

/// Whether `python3 -c "import MODULE"` works.
pub fn python_has(module: &str) -> bool {
    Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}
