//! The `vigie` binary: parse the command line, set up logging, dispatch.
//! Everything else lives in the library.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    vigie::alloc::configure();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("VIGIE_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match vigie::cli::run(vigie::cli::Cli::parse()) {
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
