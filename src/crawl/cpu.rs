//! The CPU stage's pool: parsing and normalizing are pure CPU work (and
//! `scraper::Html` is not `Send`), so each page's is done in one closure on
//! [`CPU_POOL`], one thread per core: as many pages are worked on at once as
//! there are cores, whatever the number of sources in flight. The runtime's
//! workers stay free for I/O. Part of the crawl orchestrator.

use std::sync::{Arc, LazyLock};

/// How much less CPU priority the pool threads take (a `nice` increment).
const POOL_NICENESS: i32 = 10;

/// Lowers the calling thread's CPU priority by [`POOL_NICENESS`].
///
/// Every source's items go through one store writer, a serial stage the
/// crawl waits on; at equal priority it competed with the pool's threads
/// for the cores and got about two thirds of one. Measured on the
/// `crawl_farm` bench (2 cores): the pool at `nice` +10 lets the process
/// use 181–185 % of one core instead of 163–172 %, for the same CPU per
/// page. Parsing is batch work: it also yields to anything more urgent on
/// the machine. Best effort: where the change is refused, the pool runs as
/// it is.
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: plain system calls on the calling thread (on Linux,
        // `PRIO_PROCESS` with id 0 designates the calling thread only);
        // `errno` is reset first because -1 is also a valid priority.
        unsafe {
            *libc::__errno_location() = 0;
            let current = libc::getpriority(libc::PRIO_PROCESS, 0);
            if current != -1 || *libc::__errno_location() == 0 {
                libc::setpriority(libc::PRIO_PROCESS, 0, current + POOL_NICENESS);
            }
        }
    }
}

/// A CPU job: runs on a pool thread and sends its own result back.
type Job = Box<dyn FnOnce() + Send>;

/// A fixed pool of one thread per core for CPU-bound work (see the module
/// documentation). Fixed rather than tokio's blocking pool, which grows a
/// thread whenever none is idle at the instant a job arrives: every extra
/// thread keeps its own malloc arena and regex caches warm, which cost
/// tens of MiB of resident memory for no extra parallelism.
struct CpuPool {
    jobs: std::sync::mpsc::Sender<Job>,
}

static CPU_POOL: LazyLock<Option<CpuPool>> = LazyLock::new(|| {
    let (jobs, queue) = std::sync::mpsc::channel::<Job>();
    let queue = Arc::new(std::sync::Mutex::new(queue));
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut started = 0;
    for n in 0..threads {
        let queue = Arc::clone(&queue);
        let spawned = std::thread::Builder::new()
            .name(format!("vigie-cpu-{n}"))
            .spawn(move || {
                lower_priority();
                loop {
                    // Take one job and release the queue before running it.
                    let job = match queue.lock() {
                        Ok(queue) => queue.recv(),
                        Err(_) => return,
                    };
                    match job {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
        started += usize::from(spawned.is_ok());
    }
    (started > 0).then_some(CpuPool { jobs })
});

/// Runs CPU-bound work on the CPU pool, in the order asked. A panic in `f`
/// is resumed here, as if `f` had run inline. Without a pool (no thread
/// could be started), `f` runs on the blocking pool instead.
pub(crate) async fn cpu<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)));
    });
    let unsent = match CPU_POOL.as_ref() {
        Some(pool) => pool.jobs.send(job).err().map(|e| e.0),
        None => Some(job),
    };
    if let Some(job) = unsent {
        let _ = tokio::task::spawn_blocking(job).await;
    }
    match result.await {
        Ok(Ok(value)) => value,
        Ok(Err(panic)) => std::panic::resume_unwind(panic),
        // The job was dropped without running: only at process exit.
        Err(_) => std::panic::panic_any("CPU job dropped before it ran".to_string()),
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    fn priority() -> i32 {
        // SAFETY: reads the calling thread's nice value.
        unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) }
    }

    #[tokio::test]
    async fn pool_threads_yield_to_the_store_writer() {
        let here = priority();
        let pool = super::cpu(priority).await;
        assert_eq!(pool, (here + super::POOL_NICENESS).min(19));
    }
}
