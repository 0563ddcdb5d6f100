//! `vigie run`: the daemon from the command line. With `main`, the only
//! place that touches OS signals: SIGTERM and SIGINT become the shutdown
//! future, SIGHUP the reload stream.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use clap::Args;
use futures::StreamExt;

use super::{ConfigLoader, RunOptions};
use crate::config::Common;

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub common: Common,
    /// Address of the HTTP listener (/healthz, /metrics); default service.bind
    /// (127.0.0.1:8080). Port 0 picks a free port; the address is printed.
    #[arg(long, value_name = "ADDRESS:PORT")]
    pub bind: Option<SocketAddr>,
    /// Run every source, the digests and the outbox every DURATION instead of
    /// on their schedules (demos, tests): `30s`, `5m`, `1h`, or seconds.
    #[arg(long, value_name = "DURATION", value_parser = parse_every)]
    pub every: Option<Duration>,
}

/// `30s`, `5m`, `2h` or a number of seconds; at least 1 second.
fn parse_every(raw: &str) -> Result<Duration, String> {
    let raw = raw.trim();
    let (digits, unit) = match raw.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => raw.split_at(i),
        None => (raw, "s"),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{raw}` is not a duration: expected e.g. 30s, 5m or 1h"))?;
    let secs = match unit {
        "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        other => {
            return Err(format!(
                "unknown unit `{other}` in `{raw}`: use s, m or h (30s, 5m, 1h)"
            ));
        }
    }
    .ok_or_else(|| format!("`{raw}` is too long"))?;
    if secs == 0 {
        return Err("the interval must be at least 1s".into());
    }
    Ok(Duration::from_secs(secs))
}

/// Runs the daemon until SIGTERM or SIGINT; exits 0 after a clean stop.
pub fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let config = args.common.load()?;
    let common = args.common.clone();
    let loader: ConfigLoader = Arc::new(move || common.load());
    let web = crate::web::WebState::new(
        config.database.path.clone(),
        Arc::new(config.clone()),
        Arc::new(chrono::Utc::now),
    )?;
    let options = RunOptions {
        bind: args.bind,
        every: args.every,
        reload_config: Some(loader),
        routes: Some(crate::web::router(web)),
        ..RunOptions::default()
    };
    crate::crawl::runtime()?.block_on(async move {
        let (shutdown, reload) = signals()?;
        let handle = super::start(config, options, shutdown, reload).await?;
        // Tests and scripts read the bound address from this line.
        let mut out = std::io::stdout().lock();
        writeln!(out, "listening on http://{}", handle.local_addr())?;
        out.flush()?;
        drop(out);
        handle.wait().await
    })?;
    Ok(ExitCode::SUCCESS)
}

type Reload = futures::stream::BoxStream<'static, ()>;

#[cfg(unix)]
fn signals() -> anyhow::Result<(impl Future<Output = ()> + Send + 'static, Reload)> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let hup = signal(SignalKind::hangup())?;
    let shutdown = async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM received"),
            _ = int.recv() => tracing::info!("SIGINT received"),
        }
    };
    let reload = futures::stream::unfold(hup, |mut s| async move {
        s.recv().await.map(|()| {
            tracing::info!("SIGHUP received: reloading");
            ((), s)
        })
    })
    .boxed();
    Ok((shutdown, reload))
}

#[cfg(not(unix))]
fn signals() -> anyhow::Result<(impl Future<Output = ()> + Send + 'static, Reload)> {
    let shutdown = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    Ok((shutdown, futures::stream::pending().boxed()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intervals_read_units_and_refuse_nonsense() {
        assert_eq!(parse_every("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_every("5m"), Ok(Duration::from_secs(300)));
        assert_eq!(parse_every("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_every("7"), Ok(Duration::from_secs(7)));
        assert!(parse_every("0s").is_err());
        assert!(parse_every("5d").unwrap_err().contains("unknown unit"));
        assert!(parse_every("").is_err());
        assert!(parse_every("99999999999999999999h").is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_interval_text_is_a_duration_or_an_error_never_a_panic(raw in "\\PC{0,12}") {
            if let Ok(d) = parse_every(&raw) {
                proptest::prop_assert!(d >= Duration::from_secs(1));
            }
        }
    }
}
