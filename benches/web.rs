//! Public web benchmark: `vigie run` (the release binary) over a catalogue
//! of 50,000 calls, loaded by wrk at 16 connections, beside nginx (Debian)
//! serving the very bytes of the Atom feed as a static file, in the same
//! run, alternated.
//!
//! 1. The cached Atom feed of the 50 most recently changed calls
//!    (`/flux.atom`): requests/s of Vigie and of nginx on the same bytes,
//!    twice each, alternated. Target: Vigie ≥ 40 % of nginx.
//! 2. A filtered API search (`/api/v1/calls?theme=numerique&public=commune&
//!    region=76&limit=20`): p99 latency. Target < 50 ms.
//! 3. A catalogue page (`/appels?theme=numerique&page=3`): p99. Target
//!    < 100 ms.
//! 4. The daemon's resident memory, sampled every 200 ms during all of it
//!    (VmRSS max). Target < 80 MiB.
//!
//! Run: `cargo bench --bench web` (needs `wrk` and `nginx` from Debian;
//! environment: `WEB_CALLS` (50000), `WEB_SECS` per wrk run (10)).

#[allow(dead_code)]
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::{env, insert_calls};
use vigie::store::Store;

fn get(addr: SocketAddr, path: &str) -> anyhow::Result<(u16, Vec<u8>)> {
    let mut s = TcpStream::connect(addr)?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| anyhow::anyhow!("no header end"))?;
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    anyhow::ensure!(
        !head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked"),
        "chunked body: read it with a client"
    );
    Ok((status, raw[split + 4..].to_vec()))
}

/// wrk's requests/s and p99 latency (ms) for `url`.
fn wrk(url: &str, secs: u64) -> anyhow::Result<(f64, f64)> {
    let out = Command::new("wrk")
        .args(["-t2", "-c16", &format!("-d{secs}s"), "--latency", url])
        .output()
        .map_err(|e| anyhow::anyhow!("wrk (Debian's `wrk` package): {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    anyhow::ensure!(!text.contains("Non-2xx"), "wrk saw errors:\n{text}");
    let rps = text
        .lines()
        .find(|l| l.starts_with("Requests/sec:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .ok_or_else(|| anyhow::anyhow!("no Requests/sec in:\n{text}"))?;
    let p99 = text
        .lines()
        .find(|l| l.trim_start().starts_with("99%"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(millis)
        .ok_or_else(|| anyhow::anyhow!("no 99% line in:\n{text}"))?;
    Ok((rps, p99))
}

/// wrk's `1.23ms`, `456.00us`, `1.02s` in milliseconds.
fn millis(v: &str) -> Option<f64> {
    let (n, unit) = v.split_at(v.find(|c: char| c.is_ascii_alphabetic())?);
    let n: f64 = n.parse().ok()?;
    Some(match unit {
        "us" => n / 1000.0,
        "ms" => n,
        "s" => n * 1000.0,
        "m" => n * 60_000.0,
        _ => return None,
    })
}

fn rss_mib(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn main() -> anyhow::Result<()> {
    let calls = env("WEB_CALLS", 50_000);
    let secs = env("WEB_SECS", 10) as u64;
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("vigie.db");
    let sources = dir.path().join("sources");
    std::fs::create_dir(&sources)?;
    {
        let mut store = Store::open(&db)?;
        insert_calls(&mut store, calls)?;
        store.checkpoint()?;
    }
    let config = dir.path().join("vigie.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\npath = \"{}\"\n[crawl]\nsources_dir = \"{}\"\n[digest]\nsite_url = \"https://vigie.example.fr\"\n",
            db.display(),
            sources.display()
        ),
    )?;
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["run", "--bind", "127.0.0.1:0", "--config"])
        .arg(&config)
        .current_dir(dir.path())
        .env("VIGIE_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line)?;
    let vigie = Killed(child);
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no address in {line:?}"))?;
    let pid = vigie.0.id();

    // The feed's bytes, for nginx to serve as a file.
    let (status, feed) = get(addr, "/flux.atom")?;
    anyhow::ensure!(status == 200, "/flux.atom answered {status}");
    let www = dir.path().join("www");
    std::fs::create_dir(&www)?;
    std::fs::write(www.join("flux.atom"), &feed)?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let conf = dir.path().join("nginx.conf");
    std::fs::write(
        &conf,
        format!(
            "user root;\nworker_processes auto;\ndaemon off;\npid {d}/nginx.pid;\nerror_log {d}/nginx-error.log;\n\
             events {{ worker_connections 1024; }}\n\
             http {{ access_log off; types {{ application/atom+xml atom; }}\n\
               server {{ listen 127.0.0.1:{port}; root {www}; location / {{ }} }} }}\n",
            d = dir.path().display(),
            www = www.display()
        ),
    )?;
    let nginx = Killed(
        Command::new("nginx")
            .arg("-c")
            .arg(&conf)
            .arg("-p")
            .arg(dir.path())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| anyhow::anyhow!("nginx (Debian's `nginx-light` or `nginx`): {e}"))?,
    );
    let nginx_addr: SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let start = Instant::now();
    while get(nginx_addr, "/flux.atom").map(|r| r.0).ok() != Some(200) {
        anyhow::ensure!(
            start.elapsed() < Duration::from_secs(10),
            "nginx did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let (_, same) = get(nginx_addr, "/flux.atom")?;
    anyhow::ensure!(same == feed, "nginx serves other bytes");

    // Memory, sampled while everything runs.
    let stop = Arc::new(AtomicBool::new(false));
    let sampler = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut max = 0.0f64;
            while !stop.load(Ordering::Relaxed) {
                max = max.max(rss_mib(pid));
                std::thread::sleep(Duration::from_millis(200));
            }
            max
        })
    };
    println!(
        "catalogue: {calls} calls; Atom feed of 50 entries: {} bytes; wrk -t2 -c16 -d{secs}s",
        feed.len()
    );
    let vigie_feed = format!("http://{addr}/flux.atom");
    let nginx_feed = format!("http://{nginx_addr}/flux.atom");
    let mut ratios = Vec::new();
    for round in 1..=2 {
        let (v, vp) = wrk(&vigie_feed, secs)?;
        let (n, np) = wrk(&nginx_feed, secs)?;
        ratios.push(v / n);
        println!(
            "round {round}: Vigie {v:.0} req/s (p99 {vp:.2} ms), nginx {n:.0} req/s (p99 {np:.2} ms): {:.0} % of nginx (target ≥ 40 %)",
            100.0 * v / n
        );
    }
    let api =
        format!("http://{addr}/api/v1/calls?theme=numerique&public=commune&region=76&limit=20");
    let (rps, p99) = wrk(&api, secs)?;
    println!("filtered API search: {rps:.0} req/s, p99 {p99:.1} ms (target < 50 ms)");
    let page = format!("http://{addr}/appels?theme=numerique&page=3");
    let (rps, p99) = wrk(&page, secs)?;
    println!("catalogue page: {rps:.0} req/s, p99 {p99:.1} ms (target < 100 ms)");
    stop.store(true, Ordering::Relaxed);
    let max = sampler.join().unwrap_or(f64::NAN);
    println!("daemon resident memory under load: max {max:.1} MiB (target < 80 MiB)");
    drop(nginx);
    drop(vigie);
    Ok(())
}
