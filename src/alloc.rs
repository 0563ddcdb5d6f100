//! The process's memory allocator: mimalloc, set up for a small resident
//! set.
//!
//! Parsing pages (html5ever builds a tree of small nodes and strings),
//! serializing items and SQLite all allocate heavily; glibc's allocator was
//! 10–15 % of a crawl's profile. With mimalloc, set up as below, the
//! `crawl_farm` bench needed 4.9–5.5 ms of CPU per page against 5.5–6.5 in
//! alternated runs (see BENCHMARKS.md). Out of the box,
//! mimalloc keeps freed memory for a while and lets the kernel back its
//! arenas with transparent huge pages, which took the crawl's peak RSS from
//! 60 to 170–190 MiB; [`configure`] turns both off.
//!
//! Declared here rather than in `main.rs` so that the benches and tests run
//! on the allocator the binary ships with.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc 3's `mimalloc.h` (the binding
/// crate does not name it); a test checks that it is the purge delay.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Returns freed memory to the system at once and keeps transparent huge
/// pages off for this process. Call it first thing in `main`: it applies to
/// what is allocated after it.
pub fn configure() {
    // SAFETY: setting an option is a plain store that mimalloc reads at its
    // next purge decision; any value is valid for this option.
    unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, 0) };
    #[cfg(target_os = "linux")]
    {
        // SAFETY: PR_SET_THP_DISABLE takes a flag and touches nothing of
        // ours; on failure (old kernel) huge pages stay as the system says.
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_purge_delay_is_the_option_set() {
        // SAFETY: reads an option.
        let get = |o| unsafe { libmimalloc_sys::mi_option_get(o) };
        // mimalloc 3's documented default for the purge delay, in ms.
        if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
            assert_eq!(get(PURGE_DELAY), 1000, "option 15 is not the purge delay");
        }
        configure();
        assert_eq!(get(PURGE_DELAY), 0);
        #[cfg(target_os = "linux")]
        {
            // SAFETY: reads this process's flag.
            let thp_off = unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) };
            assert_eq!(thp_off, 1);
        }
    }
}
