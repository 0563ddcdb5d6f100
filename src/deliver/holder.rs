//! Who holds an outbox claim, and whether that holder can be seen to be
//! gone. A row is claimed (`sending`) by one process; if that process dies
//! (SIGKILL, OOM, power loss) the row stays `sending`. Waiting for
//! `mail.claim_lease_secs` before sending it again left a ten-minute hole
//! after every crash; the claim now names its holder so that the next
//! start on the same host reclaims it at once.
//!
//! A holder is its host name, its pid, and an identity that tells a pid
//! apart from a later process given the same number: on Linux
//! `<boot id>:<pid namespace>:<start time>` (the start time is field 22 of
//! `/proc/<pid>/stat`, in clock ticks since boot); elsewhere a random
//! `token:<uuid>`, which only the lease can expire.

use std::sync::OnceLock;

/// The process holding a claim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub host: String,
    pub pid: u32,
    /// `<boot id>:<pid namespace>:<start ticks>`, or `token:<uuid>`.
    pub start: String,
}

/// What can be told about a holder from here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Liveness {
    /// Still running (or this very process): its claims are left alone
    /// until the lease expires.
    Alive,
    /// Seen gone on this host, with why: its claims are reclaimed at once.
    Gone(String),
    /// Another host or container, or a holder without a checkable identity:
    /// only the lease tells.
    Unknown,
}

impl Holder {
    /// This process, computed once.
    pub fn current() -> &'static Holder {
        static CURRENT: OnceLock<Holder> = OnceLock::new();
        CURRENT.get_or_init(|| {
            let pid = std::process::id();
            let start = linux_identity(pid)
                .unwrap_or_else(|| format!("token:{}", uuid::Uuid::new_v4().simple()));
            Holder {
                host: hostname(),
                pid,
                start,
            }
        })
    }

    /// Whether this holder (read from a claim) is known to be gone, as seen
    /// from the current process.
    pub fn liveness(&self) -> Liveness {
        liveness_from(self, Holder::current(), read_start_ticks)
    }
}

/// The decision, with the current process and the `/proc` reader passed in
/// so that tests can play other processes.
fn liveness_from(
    holder: &Holder,
    me: &Holder,
    start_ticks: impl Fn(u32) -> Option<u64>,
) -> Liveness {
    if holder == me {
        return Liveness::Alive;
    }
    if holder.host != me.host {
        return Liveness::Unknown;
    }
    let (Some(theirs), Some(mine)) = (Identity::parse(&holder.start), Identity::parse(&me.start))
    else {
        return Liveness::Unknown;
    };
    if theirs.boot != mine.boot {
        return Liveness::Gone(format!(
            "process {} ran before this host last started",
            holder.pid
        ));
    }
    if theirs.pid_ns != mine.pid_ns {
        // Same host name, another container: its pids are not ours to read.
        return Liveness::Unknown;
    }
    match start_ticks(holder.pid) {
        None => Liveness::Gone(format!("process {} has exited", holder.pid)),
        Some(ticks) if ticks != theirs.start_ticks => Liveness::Gone(format!(
            "process {} has exited (its pid now names another process)",
            holder.pid
        )),
        Some(_) => Liveness::Alive,
    }
}

/// The parsed Linux identity of a process.
struct Identity<'a> {
    boot: &'a str,
    pid_ns: &'a str,
    start_ticks: u64,
}

impl<'a> Identity<'a> {
    fn parse(s: &'a str) -> Option<Identity<'a>> {
        let mut parts = s.splitn(3, ':');
        let boot = parts.next()?;
        let pid_ns = parts.next()?;
        let start_ticks = parts.next()?.parse().ok()?;
        (boot != "token" && !boot.is_empty()).then_some(Identity {
            boot,
            pid_ns,
            start_ticks,
        })
    }
}

fn linux_identity(pid: u32) -> Option<String> {
    let boot = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
    let ns = std::fs::read_link("/proc/self/ns/pid").ok()?;
    // `pid:[4026531836]` → `4026531836`
    let ns = ns.to_string_lossy();
    let ns = ns.trim_start_matches("pid:[").trim_end_matches(']');
    let ticks = read_start_ticks(pid)?;
    Some(format!("{}:{ns}:{ticks}", boot.trim()))
}

/// Field 22 of `/proc/<pid>/stat`: the process's start time in clock ticks
/// since boot. `None` when the process does not exist.
fn read_start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    start_ticks_of(&stat)
}

/// The command name (field 2) is in parentheses and may itself hold spaces
/// and parentheses: fields are counted after the last `)`, where field 3
/// comes first, so field 22 is the 20th.
fn start_ticks_of(stat: &str) -> Option<u64> {
    let (_, rest) = stat.rsplit_once(')')?;
    rest.split_whitespace().nth(19)?.parse().ok()
}

fn hostname() -> String {
    if let Ok(name) = std::fs::read_to_string("/proc/sys/kernel/hostname") {
        let name = name.trim();
        if !name.is_empty() {
            return name.to_string();
        }
    }
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname writes at most
    // that many bytes and the result is read up to the first NUL.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    if ok && end > 0 {
        String::from_utf8_lossy(&buf[..end]).into_owned()
    } else {
        "unknown-host".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn me() -> Holder {
        Holder {
            host: "vigie-1".into(),
            pid: 100,
            start: "b00t:4026531836:5000".into(),
        }
    }

    fn other(host: &str, pid: u32, start: &str) -> Holder {
        Holder {
            host: host.into(),
            pid,
            start: start.into(),
        }
    }

    #[test]
    fn a_holder_on_this_host_is_gone_when_its_pid_is_free_or_reused() {
        let me = me();
        let dead = other("vigie-1", 200, "b00t:4026531836:4000");
        assert!(matches!(
            liveness_from(&dead, &me, |_| None),
            Liveness::Gone(_)
        ));
        assert!(matches!(
            liveness_from(&dead, &me, |_| Some(4999)),
            Liveness::Gone(_)
        ));
        assert_eq!(liveness_from(&dead, &me, |_| Some(4000)), Liveness::Alive);
        assert_eq!(liveness_from(&me, &me, |_| None), Liveness::Alive);
    }

    #[test]
    fn another_host_another_container_or_a_token_is_left_to_the_lease() {
        let me = me();
        let gone = |_| None;
        for holder in [
            other("vigie-2", 200, "b00t:4026531836:4000"),
            other("vigie-1", 200, "b00t:4026539999:4000"),
            other("vigie-1", 200, "token:abc"),
            other("vigie-1", 200, ""),
        ] {
            assert_eq!(
                liveness_from(&holder, &me, gone),
                Liveness::Unknown,
                "{holder:?}"
            );
        }
    }

    #[test]
    fn a_holder_from_before_the_host_restarted_is_gone() {
        let holder = other("vigie-1", 100, "oldboot:4026531836:5000");
        assert!(matches!(
            liveness_from(&holder, &me(), |_| Some(5000)),
            Liveness::Gone(_)
        ));
    }

    #[test]
    fn the_start_time_is_read_after_a_command_name_with_spaces_and_parentheses() {
        let stat = "4242 (we (ird) name) S 1 4242 4242 0 -1 4194560 100 0 0 0 1 2 0 0 20 0 \
                    1 0 987654 12345678 100 18446744073709551615";
        assert_eq!(start_ticks_of(stat), Some(987_654));
        assert_eq!(start_ticks_of("garbage"), None);
    }

    #[test]
    fn this_process_is_seen_alive_and_a_finished_child_gone() {
        let current = Holder::current();
        assert_eq!(current.liveness(), Liveness::Alive);
        if !current.start.starts_with("token:") {
            let mut child = std::process::Command::new("true").spawn().unwrap();
            let pid = child.id();
            let start = linux_identity(pid);
            child.wait().unwrap();
            if let Some(start) = start {
                let holder = Holder {
                    host: current.host.clone(),
                    pid,
                    start,
                };
                assert!(matches!(holder.liveness(), Liveness::Gone(_)), "{holder:?}");
            }
        }
    }
}
