//! The `sessiond` binary: parse the configuration, start telemetry, run the
//! application until SIGTERM or SIGINT.

use std::process::ExitCode;

use clap::Parser;
use sessiond::app::{shutdown_signal, Application};
use sessiond::config::Config;
use sessiond::telemetry;

#[tokio::main]
async fn main() -> ExitCode {
    // clap prints --help and --version, and exits 2 on a malformed flag.
    let config = Config::parse();
    if let Err(message) = config.validate() {
        eprintln!("sessiond: error: {message}");
        return ExitCode::from(2);
    }
    telemetry::init(config.log_format);
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("sessiond: error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match app.run_until_stopped(shutdown_signal()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "sessiond failed");
            ExitCode::FAILURE
        }
    }
}
