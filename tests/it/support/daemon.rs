//! `vigie run` as a real process for tests: started in a [`Scenario`]
//! folder on `127.0.0.1:0`; the bound address is read from its first
//! stdout line; stderr (the log) goes to a file the test can read. Signals
//! are real (`kill(2)`). Killed when dropped.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use super::Scenario;

pub struct Daemon {
    child: Child,
    pub addr: SocketAddr,
    log: PathBuf,
}

impl Daemon {
    /// Starts `vigie run --bind 127.0.0.1:0 ARGS` in the scenario and waits
    /// until it listens.
    pub fn start(sc: &Scenario, args: &[&str]) -> Daemon {
        let n = std::fs::read_dir(sc.dir.path()).map_or(0, |d| d.count());
        let log = sc.path(&format!("daemon-{n}.log"));
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("vigie"));
        cmd.current_dir(sc.dir.path())
            .args(["run", "--bind", "127.0.0.1:0", "--config"])
            .arg(sc.path("vigie.toml"))
            .args(args)
            .env("VIGIE_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"));
        for (k, _) in std::env::vars().filter(|(k, _)| k.starts_with("VIGIE_") && k != "VIGIE_LOG")
        {
            cmd.env_remove(k);
        }
        let mut child = cmd.spawn().expect("vigie runs");
        let mut line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout
            .read_line(&mut line)
            .expect("reading the daemon's stdout");
        let Some(addr) = line
            .trim()
            .strip_prefix("listening on http://")
            .and_then(|a| a.parse().ok())
        else {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "the daemon did not print its address (got {line:?}); log:\n{}",
                std::fs::read_to_string(&log).unwrap_or_default()
            );
        };
        // Keep reading stdout so that the daemon never blocks on it.
        std::thread::spawn(move || {
            let mut sink = Vec::new();
            let _ = stdout.read_to_end(&mut sink);
        });
        Daemon { child, addr, log }
    }

    /// The log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn signal(&self, signal: i32) {
        let pid = self.child.id() as i32;
        // SAFETY: kill(2) on our own child's pid.
        let rc = unsafe { libc::kill(pid, signal) };
        assert_eq!(rc, 0, "kill({pid}, {signal})");
    }

    /// Sends SIGTERM and waits for the exit.
    pub fn stop(mut self, timeout: Duration) -> (ExitStatus, String) {
        self.signal(libc::SIGTERM);
        let status = self.wait(timeout);
        (status, self.log())
    }

    /// Waits for the process to exit (panics after `timeout`).
    pub fn wait(&mut self, timeout: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                return status;
            }
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                panic!(
                    "the daemon did not exit within {timeout:?}; log:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("try_wait").is_none()
    }

    /// `GET path` on the daemon: status code and body.
    pub fn get(&self, path: &str) -> (u16, String) {
        let mut s = TcpStream::connect(self.addr).expect("connect to the daemon");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
            self.addr
        )
        .unwrap();
        let mut raw = String::new();
        s.read_to_string(&mut raw).expect("read the response");
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (status, body.to_string())
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `f` until it returns `Some`, or panics with `what` after `timeout`.
pub fn wait_until<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            start.elapsed() < timeout,
            "timed out after {timeout:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
