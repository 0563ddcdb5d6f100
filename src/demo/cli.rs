//! `vigie demo`: parses its flags, runs [`super::run`] on a runtime with
//! Ctrl-C as the shutdown signal, and prints its lines on stdout.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::DemoOptions;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address of the daemon's listener (/healthz, /metrics, and the web
    /// pages once they exist), e.g. 127.0.0.1:8080; also the base of the
    /// digests' links. Default: a free port on 127.0.0.1.
    #[arg(long, value_name = "ADDR")]
    pub bind: Option<SocketAddr>,
    /// Remove the demo folder (database, sources, outbox) on exit; by
    /// default it is kept and its path printed.
    #[arg(long)]
    pub clean: bool,
    /// Seconds between two runs of the compressed schedule.
    #[arg(long, value_name = "SECONDS", default_value_t = 10,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub every: u64,
    /// Create the demo folder inside this folder (default: the system's
    /// temporary folder).
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let options = DemoOptions {
        bind: args.bind,
        clean: args.clean,
        every: Duration::from_secs(args.every),
        parent: args.dir,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let shutdown = shutdown_signal()?;
        super::run(options, shutdown, |line| {
            let mut out = std::io::stdout().lock();
            // A closed stdout (piped into `head`) must not stop the demo.
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        })
        .await
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM. The handlers are installed
/// now, before anything is printed: a Ctrl-C right after the first line
/// stops the demo cleanly instead of killing it.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    Ok(async move {
        tokio::select! {
            _ = interrupt.recv() => {}
            _ = terminate.recv() => {}
        }
    })
}

#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()>> {
    Ok(async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    })
}
