//! The `sessiond` binary: parse the command line, then either run the
//! server until SIGTERM or SIGINT, probe a running one (`healthcheck`), or
//! hash a token for the tokens file (`hash-token`).

use std::process::ExitCode;

use sessiond::app::{shutdown_signal, Application};
use sessiond::auth::hash_token_line;
use sessiond::cli::{Cli, Command};
use sessiond::config::Config;
use sessiond::session::Namespace;
use sessiond::{healthcheck, telemetry};

/// mimalloc: less CPU per request and memory per session than glibc's
/// malloc, and freed memory goes back to the OS (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: sessiond::alloc::MiMalloc = sessiond::alloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    // clap prints --help and --version, and exits 2 on a malformed flag.
    let cli = Cli::parse_args();
    match cli.command {
        None => serve(cli.config).await,
        Some(Command::Healthcheck { timeout }) => {
            match healthcheck::check(cli.config.listeners.admin_addr, timeout).await {
                Ok(()) => ExitCode::SUCCESS,
                Err(message) => {
                    eprintln!("sessiond healthcheck: {message}");
                    ExitCode::FAILURE
                }
            }
        }
        Some(Command::HashToken {
            namespace,
            read_only,
        }) => hash_token(&namespace, read_only),
    }
}

/// Prints the tokens file line for the token on stdin (its first line).
fn hash_token(namespace: &str, read_only: bool) -> ExitCode {
    let namespace = match Namespace::parse(namespace) {
        Ok(namespace) => namespace,
        Err(e) => {
            eprintln!("sessiond hash-token: {e}");
            return ExitCode::from(2);
        }
    };
    let mut token = String::new();
    if let Err(e) = std::io::stdin().read_line(&mut token) {
        eprintln!("sessiond hash-token: cannot read the token from stdin: {e}");
        return ExitCode::FAILURE;
    }
    let token = token.trim_end_matches(['\r', '\n']);
    if token.is_empty() {
        eprintln!("sessiond hash-token: no token on stdin (e.g. `openssl rand -hex 32 | tee token | sessiond hash-token NAMESPACE`)");
        return ExitCode::from(2);
    }
    println!("{}", hash_token_line(&namespace, token, read_only));
    ExitCode::SUCCESS
}

async fn serve(config: Config) -> ExitCode {
    if let Err(message) = config.validate() {
        eprintln!("sessiond: error: {message}");
        return ExitCode::from(2);
    }
    telemetry::init(config.log_format);
    let shutdown = match shutdown_signal() {
        Ok(shutdown) => shutdown,
        Err(e) => {
            eprintln!("sessiond: error: cannot listen for SIGTERM/SIGINT: {e}");
            return ExitCode::FAILURE;
        }
    };
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            eprintln!("sessiond: error: {e}");
            return ExitCode::FAILURE;
        }
    };
    match app.run_until_stopped(shutdown).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %e, "sessiond failed");
            ExitCode::FAILURE
        }
    }
}
