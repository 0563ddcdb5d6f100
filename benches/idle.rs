//! Idle daemon benchmark: `vigie run` (the release binary) with the shipped
//! sources and a database of 50,000 calls, between runs (every source's
//! next run is a day away, as after its morning crawl; nothing reaches the
//! network).
//!
//! 1. Start to `/healthz` answering 200: the time from spawning the process
//!    to the first 200 (polled every 2 ms). Target < 300 ms.
//! 2. Idle: after 12 s of settling, CPU time (utime + stime from
//!    `/proc/PID/stat`) over `IDLE_SECS` (default 60) seconds, as a share
//!    of one core (target < 0.5 %), and resident memory (`VmRSS`, sampled
//!    every second, and `VmHWM` at the end; target < 40 MiB).
//! 3. Stop: SIGTERM to exit.
//!
//! Run: `cargo bench --bench idle` (environment: `IDLE_SECS`, `IDLE_CALLS`).

#[allow(dead_code)]
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use chrono::Utc;
use common::{env, insert_calls};
use vigie::store::Store;

/// Every shipped source, due in a day: the daemon is between runs.
fn schedule_tomorrow(store: &Store, sources: &Path) -> anyhow::Result<usize> {
    let (defs, errors) = vigie::source::load_dir(sources);
    anyhow::ensure!(errors.is_empty(), "shipped sources: {errors:?}");
    let due = Utc::now() + chrono::Duration::days(1);
    for d in &defs {
        vigie::service::state::set_due(store.conn(), d.id.as_str(), &d.schedule, due)?;
    }
    Ok(defs.len())
}

fn get(addr: SocketAddr, path: &str) -> Option<u16> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(50)).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).ok()?;
    raw.split_whitespace().nth(1)?.parse().ok()
}

/// CPU time of each live thread of `pid`, by thread id, from
/// `/proc/PID/task/*/schedstat` (nanoseconds: finer than the 10 ms ticks
/// of `/proc/PID/stat`).
fn schedstat(pid: u32) -> std::collections::HashMap<String, f64> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Default::default();
    };
    tasks
        .filter_map(|t| {
            let t = t.ok()?;
            let s = std::fs::read_to_string(t.path().join("schedstat")).ok()?;
            let ns = s.split_whitespace().next()?.parse::<f64>().ok()?;
            Some((t.file_name().to_string_lossy().into_owned(), ns / 1e9))
        })
        .collect()
}

/// (utime + stime in seconds, VmRSS MiB, VmHWM MiB) of `pid`.
fn sample(pid: u32) -> (f64, f64, f64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which may hold spaces) start at ") ".
    let rest = stat.rsplit_once(") ").map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // SAFETY: sysconf has no side effect.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let cpu = (ticks(11) + ticks(12)) / hz;
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kb = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(f64::NAN, |v| v / 1024.0)
    };
    (cpu, kb("VmRSS:"), kb("VmHWM:"))
}

fn main() -> anyhow::Result<()> {
    // The aides-territoires source reads its API key from the
    // environment; nothing is fetched here, any value loads it.
    if std::env::var_os("AIDES_TERRITOIRES_API_KEY").is_none() {
        // SAFETY: set before any other thread starts.
        unsafe { std::env::set_var("AIDES_TERRITOIRES_API_KEY", "idle-benchmark") };
    }
    let secs = env("IDLE_SECS", 60) as u64;
    let calls = env("IDLE_CALLS", 50_000);
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("vigie.db");
    let sources = Path::new(env!("CARGO_MANIFEST_DIR")).join("sources");
    {
        let mut store = Store::open(&db)?;
        insert_calls(&mut store, calls)?;
        let n = schedule_tomorrow(&store, &sources)?;
        store.checkpoint()?;
        println!("database: {calls} calls, {n} shipped sources due in a day");
    }
    let config = dir.path().join("vigie.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\npath = \"{}\"\n[crawl]\nsources_dir = \"{}\"\nthemes = \"{}\"\n",
            db.display(),
            sources.display(),
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("config/themes.toml")
                .display()
        ),
    )?;

    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_vigie"))
        .args(["run", "--bind", "127.0.0.1:0", "--config"])
        .arg(&config)
        .current_dir(dir.path())
        .env("VIGIE_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()?;
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout")).read_line(&mut line)?;
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|a| a.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no address in {line:?}"))?;
    let ready = loop {
        if get(addr, "/healthz") == Some(200) {
            break started.elapsed();
        }
        anyhow::ensure!(
            started.elapsed() < Duration::from_secs(10),
            "/healthz never answered 200"
        );
        std::thread::sleep(Duration::from_millis(2));
    };
    println!(
        "start to /healthz 200: {:.0} ms (target < 300 ms)",
        ready.as_secs_f64() * 1e3
    );

    // Settle past the 10 s keep-alive of the start-up's blocking threads.
    std::thread::sleep(Duration::from_secs(12));
    let pid = child.id();
    let (cpu0, _, _) = sample(pid);
    let sched0 = schedstat(pid);
    let t0 = Instant::now();
    let mut max_rss = 0.0f64;
    while t0.elapsed() < Duration::from_secs(secs) {
        std::thread::sleep(Duration::from_secs(1));
        max_rss = max_rss.max(sample(pid).1);
    }
    let (cpu1, rss, hwm) = sample(pid);
    // Threads alive at the end: their time since the start of the window
    // (a thread started within it counts whole).
    let sched: f64 = schedstat(pid)
        .iter()
        .map(|(tid, t)| t - sched0.get(tid).copied().unwrap_or(0.0))
        .sum();
    let elapsed = t0.elapsed().as_secs_f64();
    let share = (cpu1 - cpu0).max(sched) / elapsed * 100.0;
    println!(
        "idle over {secs} s: CPU {:.2} s (stat, 10 ms ticks), {:.4} s (schedstat, live threads) \
         = {share:.3} % of one core (target < 0.5 %)",
        cpu1 - cpu0,
        sched
    );
    println!(
        "resident memory: {rss:.1} MiB now, {max_rss:.1} MiB max sampled, VmHWM {hwm:.1} MiB \
         (target < 40 MiB)"
    );

    let stop = Instant::now();
    // SAFETY: kill(2) on our own child.
    unsafe { libc::kill(pid as i32, libc::SIGTERM) };
    let status = child.wait()?;
    println!(
        "SIGTERM to exit: {:.0} ms ({status})",
        stop.elapsed().as_secs_f64() * 1e3
    );
    let ok = ready < Duration::from_millis(300) && share < 0.5 && hwm < 40.0;
    println!(
        "{}",
        if ok {
            "all targets met"
        } else {
            "TARGET MISSED"
        }
    );
    Ok(())
}
