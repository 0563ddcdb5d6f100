//! The `vigie` binary: parse the command line, set up logging, dispatch.
//! Everything else lives in the library.

use std::io::IsTerminal;
use std::process::ExitCode;

use clap::Parser;
use tracing_subscriber::EnvFilter;
use vigie::cli::{Cli, Command, LogFormat};

/// Dependencies whose parse warnings are noise for Vigie's users (html5ever
/// reports every "foster parenting" of a malformed table): shown only when
/// VIGIE_LOG asks for debug or trace.
const NOISY: &[&str] = &["html5ever", "selectors", "markup5ever"];

fn filter(daemon: bool) -> EnvFilter {
    let wanted = std::env::var("VIGIE_LOG").unwrap_or_default();
    let base = match wanted.trim() {
        // The daemon's log is its record: runs, alerts, reloads.
        "" if daemon => "info".to_string(),
        "" => "warn".to_string(),
        other => other.to_string(),
    };
    let verbose = base.contains("debug") || base.contains("trace");
    let mut directives = base.clone();
    if !verbose {
        for target in NOISY {
            if !base.contains(target) {
                directives.push_str(&format!(",{target}=off"));
            }
        }
    }
    EnvFilter::try_new(&directives).unwrap_or_else(|e| {
        eprintln!("warning: VIGIE_LOG=`{wanted}` is not a valid filter ({e}); using `warn`");
        EnvFilter::new("warn")
    })
}

fn init_logging(format: LogFormat, daemon: bool) {
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter(daemon))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .init(),
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
    }
}

fn main() -> ExitCode {
    vigie::alloc::configure();
    let cli = Cli::parse();
    init_logging(cli.log_format, matches!(cli.command, Command::Run(_)));
    match vigie::cli::run(cli) {
        Ok(code) => code,
        // The reader of our output went away (`vigie calls | head -1`):
        // what it wanted was written; end quietly, as Unix tools do.
        Err(e) if vigie::report::out::is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
