//! Helpers shared by the in-process benchmarks.

/// A `kB` line of `/proc/self/status` (`VmRSS:`, `VmHWM:`), in MiB; NaN
/// off Linux.
pub fn status_mib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with(key))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// This process's peak resident memory (VmHWM), in MiB.
pub fn peak_rss_mib() -> f64 {
    status_mib("VmHWM:")
}

/// This process's current resident memory (VmRSS), in MiB.
pub fn rss_mib() -> f64 {
    status_mib("VmRSS:")
}

/// CPU seconds (user + system) of this whole process, all threads, exited
/// ones included: on a machine shared with other builds, the part of a
/// wall-clock figure that is the benchmark's own work.
pub fn process_cpu() -> f64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut r) };
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(r.ru_utime) + t(r.ru_stime)
}

/// A numeric parameter from the environment, or its default.
pub fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// `n` open calls for communes and EPCIs across France, closing within
/// six months, inserted in one transaction (a catalogue of a realistic size
/// for the daemon's benchmarks).
pub fn insert_calls(store: &mut vigie::store::Store, n: usize) -> anyhow::Result<()> {
    let tx = store.conn_mut().transaction()?;
    {
        let mut stmt = tx.prepare(
            "INSERT INTO calls (title, summary_text, funder, kind, url, audiences, perimeter,
                 themes, deadline, deadline_ts, deadlines, recurrence, first_seen, updated,
                 last_seen)
             VALUES (?1, ?2, 'Agence nationale de la cohésion des territoires', 'aap', ?3,
                 '[\"commune\",\"epci\"]', 'france', '[\"numerique\"]', ?4, ?5,
                 json_array(?4), 'oneoff', ?6, ?6, ?6)",
        )?;
        let now = chrono::Utc::now();
        for i in 0..n {
            let deadline = now + chrono::Duration::days(1 + (i % 180) as i64);
            stmt.execute(rusqlite::params![
                format!("Appel à projets « Inclusion numérique » n° {i}"),
                "Cet appel soutient les projets des collectivités : études, investissements \
                 et accompagnement. Les dossiers sont déposés en ligne.",
                format!("https://financeur.example/appels/{i}"),
                deadline.to_rfc3339(),
                deadline.timestamp(),
                vigie::store::ts(&now),
            ])?;
        }
    }
    tx.commit()?;
    Ok(())
}
