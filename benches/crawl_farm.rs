//! The ingestion benchmark: a local fixture farm crawled end to end by the
//! release `vigie` binary.
//!
//! ```sh
//! cargo bench --bench crawl_farm
//! FARM_HOSTS=20 FARM_SOURCES_PER_HOST=25 FARM_PAGES=5 cargo bench --bench crawl_farm
//! ```
//!
//! The bench process serves a farm of generated listing pages from memory,
//! on one raw HTTP/1.1 (keep-alive) listener per host `127.0.0.2`,
//! `127.0.0.3`, …; each page holds `FARM_ITEMS` calls for projects in
//! DSFR-like markup padded to about `FARM_PAGE_KB` KB, carries an `ETag` and
//! answers `304` to a matching `If-None-Match`. It writes one `html` source
//! per (host, source) with `next_page` pagination and a `vigie.toml` with
//! politeness lifted into a temporary folder, then runs `vigie crawl
//! --format json` as a child process three times:
//!
//! 1. `startup` — no sources at all: the fixed cost of starting the binary;
//! 2. `first`   — every page fetched, extracted, normalized and stored;
//! 3. `recrawl` — nothing changed: every page answers 304 (conditional GET
//!    is per page, and a 304 page is replayed from its stored state).
//!
//! For each run it reports wall time, pages/s and items/s (from the JSON
//! summary), the requests the server answered, the child's peak RSS and
//! CPU time (`wait4`) and the server's CPU time (`getrusage(RUSAGE_SELF)`
//! of this process, which does nothing else while the child runs). The
//! server shares the machine's cores with `vigie`; `others cpu` is the CPU
//! time the rest of the machine's processes took during the run (from
//! `/proc/stat`), so that a run slowed by a neighbour shows it.
//!
//! Parameters (environment variables, defaults in brackets):
//! `FARM_HOSTS` [20], `FARM_SOURCES_PER_HOST` [25], `FARM_PAGES` (listing
//! pages per source, 1–100) [5], `FARM_ITEMS` (items per page) [20],
//! `FARM_PAGE_KB` [50], `FARM_CRAWL_CONCURRENCY` [32],
//! `FARM_TOTAL_CONCURRENCY` [32], `FARM_PER_HOST_CONCURRENCY` [4],
//! `FARM_SERVER_THREADS` [1], `FARM_KEEP=1` keeps the temporary folder.
//! The process exits with status 1 if a crawl fails or does not see every
//! page and item, so that a broken farm cannot pass for a fast one.

#[path = "common/farm.rs"]
#[allow(dead_code)]
mod farm;

use std::collections::HashMap;
use std::io::Read as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use farm::{CountSnapshot, Counters};

/// The release binary: Cargo builds it (bench profile, which inherits
/// release) before the bench and passes its path.
const VIGIE: &str = env!("CARGO_BIN_EXE_vigie");

// ---------------------------------------------------------------------------
// Parameters

#[derive(Debug, Clone)]
struct Params {
    hosts: usize,
    sources_per_host: usize,
    pages: usize,
    items: usize,
    page_kb: usize,
    crawl_concurrency: usize,
    total_concurrency: usize,
    per_host_concurrency: usize,
    server_threads: usize,
    keep: bool,
}

fn env_usize(name: &str, default: usize) -> Result<usize, String> {
    match std::env::var(name) {
        Ok(v) => v
            .trim()
            .parse()
            .map_err(|_| format!("{name}={v:?}: expected a whole number")),
        Err(_) => Ok(default),
    }
}

impl Params {
    fn from_env() -> Result<Params, String> {
        let p = Params {
            hosts: env_usize("FARM_HOSTS", 20)?,
            sources_per_host: env_usize("FARM_SOURCES_PER_HOST", 25)?,
            pages: env_usize("FARM_PAGES", 5)?,
            items: env_usize("FARM_ITEMS", 20)?,
            page_kb: env_usize("FARM_PAGE_KB", 50)?,
            crawl_concurrency: env_usize("FARM_CRAWL_CONCURRENCY", 32)?,
            total_concurrency: env_usize("FARM_TOTAL_CONCURRENCY", 32)?,
            per_host_concurrency: env_usize("FARM_PER_HOST_CONCURRENCY", 4)?,
            server_threads: env_usize("FARM_SERVER_THREADS", 1)?,
            keep: std::env::var("FARM_KEEP").is_ok_and(|v| v == "1"),
        };
        if !(1..=250).contains(&p.hosts) {
            return Err("FARM_HOSTS must be from 1 to 250 (127.0.0.2 to 127.0.0.251)".into());
        }
        if !(1..=100).contains(&p.pages) {
            return Err("FARM_PAGES must be from 1 to 100 (html.max_pages)".into());
        }
        for (name, v) in [
            ("FARM_SOURCES_PER_HOST", p.sources_per_host),
            ("FARM_ITEMS", p.items),
            ("FARM_CRAWL_CONCURRENCY", p.crawl_concurrency),
            ("FARM_TOTAL_CONCURRENCY", p.total_concurrency),
            ("FARM_PER_HOST_CONCURRENCY", p.per_host_concurrency),
            ("FARM_SERVER_THREADS", p.server_threads),
        ] {
            if v == 0 {
                return Err(format!("{name} must be at least 1"));
            }
        }
        Ok(p)
    }

    fn shape(&self) -> farm::Shape {
        farm::Shape {
            hosts: self.hosts,
            sources_per_host: self.sources_per_host,
            pages: self.pages,
            items: self.items,
            page_kb: self.page_kb,
        }
    }

    fn sources(&self) -> usize {
        self.hosts * self.sources_per_host
    }

    fn total_pages(&self) -> usize {
        self.sources() * self.pages
    }
}

// ---------------------------------------------------------------------------
// The crawl runs

fn write_farm_config(
    dir: &Path,
    params: &Params,
    addrs: &[SocketAddr],
) -> std::io::Result<(PathBuf, PathBuf)> {
    let sources = dir.join("sources");
    std::fs::create_dir_all(&sources)?;
    std::fs::create_dir_all(dir.join("no-sources"))?;
    for (h, addr) in addrs.iter().enumerate() {
        for s in 0..params.sources_per_host {
            let text = farm::source_toml(h, s, *addr, params.pages);
            std::fs::write(
                sources.join(format!("{}.toml", farm::source_id(h, s))),
                text,
            )?;
        }
    }
    let config = dir.join("vigie.toml");
    let text = format!(
        r#"# Written by benches/crawl_farm.rs: politeness lifted for a local farm.
[database]
path = "{db}"

[crawl]
sources_dir = "{sources}"
concurrency = {crawl_concurrency}
follow_details = false
themes = "{themes}"

[fetch]
per_host_concurrency = {per_host}
total_concurrency = {total}
min_spacing_ms = 0
robots = true
retries = 0
allow_hosts = ["127.0.0.0/8"]
"#,
        db = dir.join("farm.db").display(),
        sources = sources.display(),
        crawl_concurrency = params.crawl_concurrency,
        per_host = params.per_host_concurrency,
        total = params.total_concurrency,
        themes = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("config/themes.toml")
            .display(),
    );
    std::fs::write(&config, text)?;
    Ok((config, dir.join("no-sources")))
}

/// CPU seconds (user, system) from an `rusage`.
fn cpu(r: &libc::rusage) -> (f64, f64) {
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    (t(r.ru_utime), t(r.ru_stime))
}

fn self_cpu() -> (f64, f64) {
    // SAFETY: getrusage only writes the struct it is given.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut r) };
    cpu(&r)
}

struct RunResult {
    name: &'static str,
    /// Busy CPU seconds of the whole machine during the run.
    machine_cpu: f64,
    wall: Duration,
    pages: u64,
    items: u64,
    new: u64,
    outcomes: HashMap<String, usize>,
    failures: Vec<String>,
    peak_rss_kib: i64,
    child_cpu: (f64, f64),
    server_cpu: (f64, f64),
    served: CountSnapshot,
    exit_status: i32,
}

fn run_crawl(
    name: &'static str,
    dir: &Path,
    config: &Path,
    sources_dir: Option<&Path>,
    counters: &Counters,
) -> Result<RunResult, String> {
    // The bench re-executes itself as a small launcher that runs `vigie` and
    // reports its rusage: a child forked from this process would inherit the
    // farm's pages in its peak RSS (Linux counts the pre-exec image).
    let rusage_path = dir.join(format!("{name}.rusage"));
    let _ = std::fs::remove_file(&rusage_path);
    let mut cmd = Command::new(std::env::current_exe().map_err(|e| e.to_string())?);
    cmd.env(LAUNCH_ENV, &rusage_path)
        .arg("--")
        .arg(VIGIE)
        .arg("crawl")
        .arg("--config")
        .arg(config)
        .args(["--format", "json"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    if let Some(sources) = sources_dir {
        cmd.arg("--sources").arg(sources);
    }
    // Only the farm's configuration counts: no VIGIE_* from the caller.
    for (key, _) in std::env::vars() {
        if key.starts_with("VIGIE_") {
            cmd.env_remove(key);
        }
    }
    let stderr_path = dir.join(format!("{name}.stderr"));
    let stderr = std::fs::File::create(&stderr_path).map_err(|e| e.to_string())?;
    cmd.stderr(stderr);

    let before = counters.snapshot();
    let server_before = self_cpu();
    let machine_before = farm::machine_busy();
    let started = Instant::now();
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", cmd.get_program().to_string_lossy()))?;
    let mut stdout = String::new();
    child
        .stdout
        .take()
        .expect("stdout is piped")
        .read_to_string(&mut stdout)
        .map_err(|e| e.to_string())?;
    let status = child.wait().map_err(|e| e.to_string())?;
    let wall = started.elapsed();
    let server_after = self_cpu();
    let machine_cpu = farm::machine_busy() - machine_before;
    let served = counters.snapshot() - before;
    let measured = std::fs::read_to_string(&rusage_path).map_err(|e| {
        format!(
            "{name}: the launcher did not write {}: {e} (exit {status})",
            rusage_path.display()
        )
    })?;
    let fields: Vec<f64> = measured
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(f64::NAN))
        .collect();
    let [exit_status, maxrss, user, sys, child_wall] = fields[..] else {
        return Err(format!("{name}: unexpected launcher output {measured:?}"));
    };
    let exit_status = exit_status as i32;
    let usage = (maxrss as i64, (user, sys));
    // The launcher's own start is not the crawl's: use the time it measured
    // around `vigie` alone.
    let wall = Duration::from_secs_f64(child_wall).min(wall);

    let rows: Vec<serde_json::Value> = serde_json::from_str(&stdout).map_err(|e| {
        let err = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        format!("{name}: the JSON summary could not be read ({e}); exit status {exit_status}; stderr:\n{err}")
    })?;
    let mut result = RunResult {
        name,
        machine_cpu,
        wall,
        pages: 0,
        items: 0,
        new: 0,
        outcomes: HashMap::new(),
        failures: Vec::new(),
        peak_rss_kib: usage.0,
        child_cpu: usage.1,
        server_cpu: (
            server_after.0 - server_before.0,
            server_after.1 - server_before.1,
        ),
        served,
        exit_status,
    };
    for row in &rows {
        let n = |k: &str| row[k].as_u64().unwrap_or(0);
        result.pages += n("pages");
        result.items += n("items");
        // Items that joined a call already found (cross-source dedup of the
        // farm's similar generated titles) are stored too.
        result.new += n("new") + n("merged");
        let outcome = row["outcome"].as_str().unwrap_or("?").to_string();
        if outcome == "failed" {
            result.failures.push(format!(
                "{}: {}",
                row["source"].as_str().unwrap_or("?"),
                row["error"].as_str().unwrap_or("?")
            ));
        }
        *result.outcomes.entry(outcome).or_default() += 1;
    }
    Ok(result)
}

fn mib(kib: i64) -> f64 {
    kib as f64 / 1024.0
}

fn print_results(params: &Params, runs: &[RunResult]) {
    println!();
    println!(
        "{:<8} {:>8} {:>7} {:>8} {:>10} {:>10} {:>5} {:>5} {:>6} {:>9} {:>14} {:>14} {:>10}",
        "run",
        "wall s",
        "pages",
        "items",
        "pages/s",
        "items/s",
        "200",
        "304",
        "conns",
        "peak RSS",
        "vigie cpu u+s",
        "server cpu u+s",
        "others cpu",
    );
    for r in runs {
        let secs = r.wall.as_secs_f64();
        println!(
            "{:<8} {:>8.3} {:>7} {:>8} {:>10.0} {:>10.0} {:>5} {:>5} {:>6} {:>5.1} MiB {:>6.2}+{:<5.2}s {:>6.2}+{:<5.2}s {:>8.2} s",
            r.name,
            secs,
            r.pages,
            r.items,
            r.pages as f64 / secs,
            r.items as f64 / secs,
            r.served.ok,
            r.served.not_modified,
            r.served.connections,
            mib(r.peak_rss_kib),
            r.child_cpu.0,
            r.child_cpu.1,
            r.server_cpu.0,
            r.server_cpu.1,
            r.machine_cpu - (r.child_cpu.0 + r.child_cpu.1) - (r.server_cpu.0 + r.server_cpu.1),
        );
    }
    println!();
    let first = runs.iter().find(|r| r.name == "first");
    let recrawl = runs.iter().find(|r| r.name == "recrawl");
    if let (Some(first), Some(recrawl)) = (first, recrawl) {
        let fs = first.wall.as_secs_f64();
        let pages_per_s = first.pages as f64 / fs;
        let speedup = fs / recrawl.wall.as_secs_f64();
        let rss = mib(first.peak_rss_kib.max(recrawl.peak_rss_kib));
        let verdict = |ok: bool| if ok { "PASS" } else { "MISS" };
        println!(
            "target  first crawl >= 1000 pages/s      {:>8.0} pages/s  {}",
            pages_per_s,
            verdict(pages_per_s >= 1000.0)
        );
        println!(
            "target  peak RSS < 64 MiB                {:>8.1} MiB      {}",
            rss,
            verdict(rss < 64.0)
        );
        println!(
            "target  unchanged re-crawl >= 5x faster  {:>8.1}x         {}",
            speedup,
            verdict(speedup >= 5.0)
        );
        let busy = first.child_cpu.0 + first.child_cpu.1;
        println!(
            "first crawl: vigie used {:.2} CPU-s ({:.0} % of one core, {:.2} ms per page), the server {:.2} CPU-s",
            busy,
            100.0 * busy / fs,
            1000.0 * busy / first.pages.max(1) as f64,
            first.server_cpu.0 + first.server_cpu.1,
        );
    }
    println!(
        "farm: {} hosts x {} sources x {} pages x {} items, pages of ~{} KB; crawl.concurrency {}, fetch.total_concurrency {}, fetch.per_host_concurrency {}, min_spacing_ms 0, server threads {}",
        params.hosts,
        params.sources_per_host,
        params.pages,
        params.items,
        params.page_kb,
        params.crawl_concurrency,
        params.total_concurrency,
        params.per_host_concurrency,
        params.server_threads,
    );
}

/// Checks that a run did what it should; returns the problems.
fn check_run(r: &RunResult, params: &Params) -> Vec<String> {
    let mut problems: Vec<String> = r.failures.iter().take(5).cloned().collect();
    if r.failures.len() > 5 {
        problems.push(format!("... {} failed sources in all", r.failures.len()));
    }
    let pages = params.total_pages() as u64;
    let items = pages * params.items as u64;
    if r.name == "first" && (r.pages != pages || r.items != items || r.new != items) {
        problems.push(format!(
            "first crawl: {} pages, {} items, {} new or merged; expected {pages} pages and {items} stored items",
            r.pages, r.items, r.new
        ));
    }
    if r.name == "recrawl" && (r.served.not_modified != pages || r.served.ok != 0) {
        problems.push(format!(
            "re-crawl: the server answered {} × 304 and {} × 200; expected {pages} × 304 (one per page) and no 200",
            r.served.not_modified, r.served.ok
        ));
    }
    if r.served.not_found > 0 {
        problems.push(format!(
            "{}: {} requests got 404",
            r.name, r.served.not_found
        ));
    }
    if r.exit_status != 0 {
        problems.push(format!(
            "{}: vigie exited with status {}",
            r.name, r.exit_status
        ));
    }
    problems
}

/// Set (to the file where the rusage goes) when this binary runs as the
/// launcher of one `vigie` process.
const LAUNCH_ENV: &str = "CRAWL_FARM_LAUNCH_RUSAGE";

/// Launcher mode: runs the program after `--` with this process's stdio,
/// waits for it with `wait4` and writes `exit maxrss_kib user_s sys_s wall_s`.
fn launch(rusage_path: &str) -> ExitCode {
    let mut args = std::env::args_os().skip_while(|a| a != "--").skip(1);
    let Some(program) = args.next() else {
        eprintln!("crawl_farm launcher: nothing to run");
        return ExitCode::FAILURE;
    };
    let started = Instant::now();
    let child = match Command::new(&program)
        .args(args)
        .env_remove(LAUNCH_ENV)
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            eprintln!(
                "crawl_farm launcher: cannot run {}: {e}",
                program.to_string_lossy()
            );
            return ExitCode::FAILURE;
        }
    };
    let mut status = 0;
    // SAFETY: wait4 writes the status and the rusage it is given; the child
    // is ours and is reaped here (std's Child is not waited on afterwards).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as libc::pid_t, &mut status, 0, &mut usage) };
    let wall = started.elapsed().as_secs_f64();
    if pid < 0 {
        eprintln!(
            "crawl_farm launcher: wait4: {}",
            std::io::Error::last_os_error()
        );
        return ExitCode::FAILURE;
    }
    let exit = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    let (user, sys) = cpu(&usage);
    let line = format!("{exit} {} {user} {sys} {wall}\n", usage.ru_maxrss);
    if let Err(e) = std::fs::write(rusage_path, line) {
        eprintln!("crawl_farm launcher: cannot write {rusage_path}: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

fn main() -> ExitCode {
    // The allocator set up as the `vigie` binary sets it up.
    vigie::alloc::configure();
    if let Ok(path) = std::env::var(LAUNCH_ENV) {
        return launch(&path);
    }
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("crawl_farm: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<bool, String> {
    // `cargo bench` passes `--bench` (and any filter): nothing to select here.
    let params = Params::from_env()?;
    if !Path::new(VIGIE).is_file() {
        return Err(format!(
            "the vigie binary is missing at {VIGIE}: run `cargo bench --bench crawl_farm` (or `cargo build --release`) from the repository"
        ));
    }
    println!("vigie binary: {VIGIE}");

    let generated = Instant::now();
    let (sites, body_bytes) = farm::generate(&params.shape());
    println!(
        "farm: {} pages of {:.1} KB on average ({:.1} MiB), generated in {:.2} s",
        params.total_pages(),
        body_bytes as f64 / params.total_pages() as f64 / 1024.0,
        body_bytes as f64 / (1024.0 * 1024.0),
        generated.elapsed().as_secs_f64()
    );

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(params.server_threads)
        .thread_name("farm-server")
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let counters = Arc::new(Counters::default());
    let addrs = runtime.block_on(farm::start_server(sites, Arc::clone(&counters)))?;
    println!(
        "server: {} hosts, {} to {}",
        addrs.len(),
        addrs[0],
        addrs[addrs.len() - 1]
    );

    let tmp = tempfile::Builder::new()
        .prefix("vigie-crawl-farm-")
        .tempdir()
        .map_err(|e| e.to_string())?;
    let dir = tmp.path().to_path_buf();
    let (config, no_sources) =
        write_farm_config(&dir, &params, &addrs).map_err(|e| e.to_string())?;

    let mut runs = Vec::new();
    let mut problems = Vec::new();
    for (name, sources) in [
        ("startup", Some(no_sources.as_path())),
        ("first", None),
        ("recrawl", None),
    ] {
        let r = run_crawl(name, &dir, &config, sources, &counters)?;
        println!(
            "{name}: {:.3} s, exit {}, outcomes {:?}",
            r.wall.as_secs_f64(),
            r.exit_status,
            r.outcomes
        );
        problems.extend(check_run(&r, &params));
        runs.push(r);
    }
    print_results(&params, &runs);
    if let Ok(meta) = std::fs::metadata(dir.join("farm.db")) {
        println!(
            "database after the runs: {:.1} MiB",
            meta.len() as f64 / (1024.0 * 1024.0)
        );
    }

    if params.keep {
        let kept = tmp.keep();
        println!("kept {}", kept.display());
    }
    for p in &problems {
        eprintln!("problem: {p}");
    }
    Ok(problems.is_empty())
}
