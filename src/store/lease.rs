//! Crawl leases: at most one crawl of a source at a time on one database,
//! whichever process runs it (two `vigie crawl`, or the daemon and a
//! manual crawl). A lease row names its holder (process id, host name and
//! a random token per acquisition) and expires unless renewed; the crawl
//! orchestrator (`crawl::lease`) takes, renews and releases it.
//!
//! A lease can be taken over when it has expired, or when its holder ran
//! on this host and its process is gone (a crawl killed with SIGKILL
//! leaves its row behind: waiting for the expiry would be needless). A
//! holder on another host is trusted until its lease expires.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, TransactionBehavior, params};
use serde::Serialize;

use super::{Store, ts};

/// Who holds (or asks for) a lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeaseHolder {
    pub pid: u32,
    pub host: String,
    /// Random per acquisition: two crawls in one process are told apart.
    pub token: String,
}

impl LeaseHolder {
    /// This process, with a fresh token.
    pub fn this_process() -> LeaseHolder {
        LeaseHolder {
            pid: std::process::id(),
            host: host_name(),
            token: uuid::Uuid::new_v4().simple().to_string(),
        }
    }

    /// Whether the holder can be seen to be gone: it ran on this host and
    /// no process has its id any more.
    fn is_gone(&self) -> bool {
        self.host == host_name() && !process_exists(self.pid)
    }
}

/// A lease as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Lease {
    pub source_id: String,
    pub holder: LeaseHolder,
    pub since: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What asking for a lease gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LeaseAttempt {
    /// The caller holds the lease until `expires_at` (renew before).
    Acquired { expires_at: DateTime<Utc> },
    /// Another live crawl holds it.
    Held(Lease),
}

impl Store {
    /// Takes the lease of `source_id` for `holder` until `now + ttl`, unless
    /// another live holder has it. One immediate transaction: two
    /// processes asking at once cannot both get it.
    pub fn try_acquire_lease(
        &mut self,
        source_id: &str,
        holder: &LeaseHolder,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> anyhow::Result<LeaseAttempt> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current = read_lease(&tx, source_id)?;
        if let Some(lease) = current {
            let free = lease.expires_at <= now
                || lease.holder.token == holder.token
                || lease.holder.is_gone();
            if !free {
                return Ok(LeaseAttempt::Held(lease));
            }
        }
        let expires_at = now + ttl;
        tx.execute(
            "INSERT INTO crawl_leases (source_id, holder_pid, holder_host, token, since, expires_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)
             ON CONFLICT(source_id) DO UPDATE SET holder_pid = ?2, holder_host = ?3, token = ?4,
               since = ?5, expires_at = ?6",
            params![
                source_id,
                holder.pid,
                holder.host,
                holder.token,
                ts(&now),
                ts(&expires_at)
            ],
        )?;
        tx.commit()?;
        Ok(LeaseAttempt::Acquired { expires_at })
    }

    /// Pushes the expiry of a lease `token` still holds to `now + ttl`.
    /// Returns false when the lease was lost (taken over after expiring).
    pub fn renew_lease(
        &self,
        source_id: &str,
        token: &str,
        now: DateTime<Utc>,
        ttl: Duration,
    ) -> anyhow::Result<bool> {
        let n = self.conn.execute(
            "UPDATE crawl_leases SET expires_at = ?3 WHERE source_id = ?1 AND token = ?2",
            params![source_id, token, ts(&(now + ttl))],
        )?;
        Ok(n == 1)
    }

    /// Gives a lease back (nothing happens if `token` no longer holds it).
    pub fn release_lease(&self, source_id: &str, token: &str) -> anyhow::Result<()> {
        self.conn.execute(
            "DELETE FROM crawl_leases WHERE source_id = ?1 AND token = ?2",
            params![source_id, token],
        )?;
        Ok(())
    }

    /// The lease of a source, if any row is there (expired or not).
    pub fn lease_of(&self, source_id: &str) -> anyhow::Result<Option<Lease>> {
        read_lease(&self.conn, source_id)
    }
}

fn read_lease(conn: &rusqlite::Connection, source_id: &str) -> anyhow::Result<Option<Lease>> {
    let row: Option<(u32, String, String, String, String)> = conn
        .prepare_cached(
            "SELECT holder_pid, holder_host, token, since, expires_at FROM crawl_leases
             WHERE source_id = ?1",
        )?
        .query_row([source_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    let Some((pid, host, token, since, expires_at)) = row else {
        return Ok(None);
    };
    let time = |text: &str| -> anyhow::Result<DateTime<Utc>> {
        Ok(DateTime::parse_from_rfc3339(text)
            .map_err(|e| anyhow::anyhow!("crawl_leases of {source_id}: bad time {text:?}: {e}"))?
            .with_timezone(&Utc))
    };
    Ok(Some(Lease {
        source_id: source_id.to_string(),
        holder: LeaseHolder { pid, host, token },
        since: time(&since)?,
        expires_at: time(&expires_at)?,
    }))
}

/// This machine's host name (empty if it cannot be read: then no holder is
/// ever judged gone by its process id, only by expiry).
pub fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: `buf` is writable for its whole length, which is passed.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return String::new();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// Whether a process with this id exists on this host. `kill(pid, 0)`
/// sends nothing; EPERM means it exists but belongs to another user.
fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: signal 0 only checks that the process can be signalled.
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holder(pid: u32, host: &str, token: &str) -> LeaseHolder {
        LeaseHolder {
            pid,
            host: host.into(),
            token: token.into(),
        }
    }

    fn store() -> Store {
        let store = Store::open_in_memory().unwrap();
        store
            .upsert_source("s", "S", "html", "http://x/", 0, false)
            .unwrap();
        store
    }

    #[test]
    fn a_live_holder_keeps_the_lease_until_it_expires() {
        let mut store = store();
        let now = Utc::now();
        let ttl = Duration::seconds(60);
        // This very process: alive.
        let first = LeaseHolder::this_process();
        let second = LeaseHolder::this_process();
        assert!(matches!(
            store.try_acquire_lease("s", &first, now, ttl).unwrap(),
            LeaseAttempt::Acquired { .. }
        ));
        match store.try_acquire_lease("s", &second, now, ttl).unwrap() {
            LeaseAttempt::Held(lease) => assert_eq!(lease.holder, first),
            other => panic!("expected held, got {other:?}"),
        }
        // Renewed, it still holds past the first expiry.
        assert!(
            store
                .renew_lease("s", &first.token, now + ttl, ttl)
                .unwrap()
        );
        assert!(matches!(
            store
                .try_acquire_lease("s", &second, now + ttl + Duration::seconds(1), ttl)
                .unwrap(),
            LeaseAttempt::Held(_)
        ));
        // Expired: taken over; the old holder's renewal then fails.
        let later = now + ttl * 3;
        assert!(matches!(
            store.try_acquire_lease("s", &second, later, ttl).unwrap(),
            LeaseAttempt::Acquired { .. }
        ));
        assert!(!store.renew_lease("s", &first.token, later, ttl).unwrap());
        store.release_lease("s", &first.token).unwrap();
        assert!(store.lease_of("s").unwrap().is_some(), "not the holder");
        store.release_lease("s", &second.token).unwrap();
        assert!(store.lease_of("s").unwrap().is_none());
    }

    #[test]
    fn a_dead_local_holder_is_taken_over_but_a_remote_one_is_not() {
        let mut store = store();
        let now = Utc::now();
        let ttl = Duration::seconds(600);
        // Far above any pid_max: no such process.
        let dead = holder(i32::MAX as u32, &host_name(), "dead");
        let remote = holder(i32::MAX as u32, "another-host.invalid", "remote");
        let me = LeaseHolder::this_process();
        store.try_acquire_lease("s", &dead, now, ttl).unwrap();
        assert!(matches!(
            store.try_acquire_lease("s", &me, now, ttl).unwrap(),
            LeaseAttempt::Acquired { .. }
        ));
        store.release_lease("s", &me.token).unwrap();
        store.try_acquire_lease("s", &remote, now, ttl).unwrap();
        assert!(matches!(
            store.try_acquire_lease("s", &me, now, ttl).unwrap(),
            LeaseAttempt::Held(_)
        ));
    }
}
