//! Standard output for command results, and the one test that tells a
//! closed pipe from a real failure.
//!
//! Rust ignores SIGPIPE, so writing to a pipe whose reader has gone
//! (`vigie calls | head -1`) fails with `EPIPE`; `println!` turns that into
//! a panic. Every command therefore prints through [`outln!`](crate::outln)
//! or a writer from [`stdout`], which return the error, and `main` maps an
//! error caused by a broken pipe to a quiet exit 0, as Unix tools end when
//! nobody reads them any more. `clippy::print_stdout` is denied in the
//! library so that no `println!` comes back.

use std::io::{self, Write};

/// Writes one line to standard output; the error is returned, never a panic.
#[macro_export]
macro_rules! outln {
    () => {
        $crate::report::out::write_line(format_args!(""))
    };
    ($($arg:tt)*) => {
        $crate::report::out::write_line(format_args!($($arg)*))
    };
}

/// What [`outln!`](crate::outln) calls.
pub fn write_line(args: std::fmt::Arguments<'_>) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_fmt(args)?;
    out.write_all(b"\n")
}

/// Writes `text` as is (no line added) to standard output.
pub fn write_text(text: &str) -> io::Result<()> {
    let mut out = io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()
}

/// A buffered writer to standard output, for long outputs (JSON, CSV).
/// Flush it before dropping it, so that a failed last write is seen.
pub fn stdout() -> io::BufWriter<io::StdoutLock<'static>> {
    io::BufWriter::new(io::stdout().lock())
}

/// Whether `error`, or any error that caused it, is a write to a closed
/// pipe (directly, or inside a CSV or JSON writer's error).
pub fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        if let Some(e) = cause.downcast_ref::<io::Error>() {
            return e.kind() == io::ErrorKind::BrokenPipe;
        }
        if let Some(e) = cause.downcast_ref::<csv::Error>() {
            return matches!(e.kind(), csv::ErrorKind::Io(io) if io.kind() == io::ErrorKind::BrokenPipe);
        }
        if let Some(e) = cause.downcast_ref::<serde_json::Error>() {
            return e.io_error_kind() == Some(io::ErrorKind::BrokenPipe);
        }
        false
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn broken() -> io::Error {
        io::Error::from(io::ErrorKind::BrokenPipe)
    }

    #[test]
    fn a_broken_pipe_is_recognised_through_context_csv_and_json() {
        let plain = anyhow::Error::from(broken()).context("printing the calls");
        assert!(is_broken_pipe(&plain));
        let csv = anyhow::Error::from(csv::Error::from(broken()));
        assert!(is_broken_pipe(&csv));
        let json = anyhow::Error::from(serde_json::Error::io(broken()));
        assert!(is_broken_pipe(&json));
    }

    #[test]
    fn other_errors_are_not_a_broken_pipe() {
        let denied = anyhow::Error::from(io::Error::from(io::ErrorKind::PermissionDenied));
        assert!(!is_broken_pipe(&denied));
        assert!(!is_broken_pipe(&anyhow::anyhow!("broken pipe")));
        let csv = anyhow::Error::from(csv::Error::from(io::Error::from(io::ErrorKind::Other)));
        assert!(!is_broken_pipe(&csv));
    }
}
