//! The command line: `sessiond` runs the server; `sessiond healthcheck`
//! probes a running one; `sessiond hash-token` makes a tokens file line.
//! Every server setting lives in [`Config`].

use std::time::Duration;

use clap::{Parser, Subcommand};

use crate::config::{parse_duration, Config};

/// sessiond: a standalone session server (gRPC API over a sharded in-memory
/// store with TTL eviction). Every flag can also be set by its environment
/// variable. With no subcommand, runs the server.
#[derive(Debug, Clone, Parser)]
#[command(name = "sessiond", version, about, long_about = None)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,

    #[command(subcommand)]
    pub command: Option<Command>,
}

impl Cli {
    /// Parses the command line and the environment (exiting on a malformed
    /// flag, or for --help), noting which memory-only flags were given (see
    /// [`Storage::given`](crate::config::Storage::given)).
    pub fn parse_args() -> Self {
        use clap::{CommandFactory, FromArgMatches};
        let matches = Cli::command().get_matches();
        let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
        cli.config.note_given(&matches);
        cli
    }
}

/// What to do instead of serving.
#[derive(Debug, Clone, Subcommand)]
pub enum Command {
    /// Ask the server on --admin-addr whether it is ready (GET /readyz):
    /// exit 0 if so, 1 if not. For Docker HEALTHCHECK; needs no curl.
    Healthcheck {
        /// Give up, as not ready, after this long.
        #[arg(long, default_value = "2s", value_parser = parse_duration)]
        timeout: Duration,
    },
    /// Read a token on standard input and print its line for the tokens
    /// file (`NAMESPACE:SHA256_HEX[:ro]`). The token itself is never an
    /// argument, where `ps` would show it.
    HashToken {
        /// The namespace the token grants (empty: the default namespace).
        namespace: String,
        /// Grant reads only: Create, Set, Flush, Rotate and Touch are refused.
        #[arg(long)]
        read_only: bool,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_subcommand_runs_the_server_with_every_flag() {
        let cli = Cli::try_parse_from(["sessiond", "--grpc-addr", "0.0.0.0:1"]).unwrap();
        assert!(cli.command.is_none());
        assert_eq!(cli.config.listeners.grpc_addr.to_string(), "0.0.0.0:1");
    }

    #[test]
    fn hash_token_takes_a_namespace_and_an_optional_read_only_flag() {
        let cli = Cli::try_parse_from(["sessiond", "hash-token", "shop", "--read-only"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::HashToken { namespace, read_only: true }) if namespace == "shop"
        ));
        assert!(Cli::try_parse_from(["sessiond", "hash-token"]).is_err());
    }

    #[test]
    fn healthcheck_takes_the_admin_address_before_or_after_it() {
        for args in [
            vec!["sessiond", "--admin-addr", "127.0.0.1:7", "healthcheck"],
            vec!["sessiond", "healthcheck", "--admin-addr", "127.0.0.1:7"],
        ] {
            let cli = Cli::try_parse_from(args).unwrap();
            assert!(
                matches!(cli.command, Some(Command::Healthcheck { timeout }) if timeout == Duration::from_secs(2))
            );
            assert_eq!(cli.config.listeners.admin_addr.to_string(), "127.0.0.1:7");
        }
    }
}
