//! The Dockerfile, docker-compose.yml and README use only settings the
//! binary really has: every `SESSIOND_*` name they mention is a flag's
//! environment variable (or, in the compose file and README, a setting of
//! the Python client's Django engine, which the example reads), and the
//! image's health check is a real subcommand.

use std::collections::BTreeSet;

use clap::CommandFactory;
use sessiond::cli::Cli;

fn known_env() -> BTreeSet<String> {
    Cli::command()
        .get_arguments()
        .filter_map(|arg| arg.get_env())
        .map(|env| env.to_string_lossy().into_owned())
        .collect()
}

fn mentioned_env(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("SESSIOND_") {
        let name: String = rest[at..]
            .chars()
            .take_while(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || *c == '_')
            .collect();
        rest = &rest[at + name.len()..];
        // "SESSIOND_*" and "SESSIOND_…" name the family, not a variable.
        if name.len() > "SESSIOND_".len() {
            names.insert(name.trim_end_matches('_').to_string());
        }
    }
    names
}

fn read(path: &str) -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/").to_string() + path)
        .unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn container_files_name_only_real_settings() {
    let known = known_env();
    assert!(known.contains("SESSIOND_ADMIN_ADDR") && known.contains("SESSIOND_DRAIN_DELAY"));
    // The Django engine's settings are the names its module documents.
    let client = mentioned_env(&read("clients/python/src/sessiond/django.py"));
    assert!(client.contains("SESSIOND_TARGET") && client.contains("SESSIOND_TOKEN_FILE"));
    for (path, client_too) in [
        ("Dockerfile", false),
        ("docker-compose.yml", true),
        ("README.md", true),
    ] {
        let unknown: Vec<_> = mentioned_env(&read(path))
            .into_iter()
            .filter(|name| !known.contains(name) && (!client_too || !client.contains(name)))
            .collect();
        assert!(
            unknown.is_empty(),
            "{path} names unknown settings: {unknown:?}"
        );
    }
}

#[test]
fn the_image_checks_health_with_the_healthcheck_subcommand() {
    let dockerfile = read("Dockerfile");
    assert!(dockerfile.contains(r#"CMD ["/usr/local/bin/sessiond", "healthcheck"]"#));
    assert!(Cli::command().find_subcommand("healthcheck").is_some());
    assert!(dockerfile.contains("EXPOSE 50051 8080 9090"));
    assert!(dockerfile.contains("STOPSIGNAL SIGTERM"));
    for listener in ["GRPC", "HTTP", "ADMIN"] {
        assert!(
            dockerfile.contains(&format!("SESSIOND_{listener}_ADDR=0.0.0.0:")),
            "{listener} listens on all interfaces in the container"
        );
    }
}

#[test]
fn the_image_and_compose_file_use_a_tokens_file_that_admits_the_example() {
    let dockerfile = read("Dockerfile");
    assert!(dockerfile.contains("SESSIOND_TOKENS_FILE=/run/secrets/sessiond_tokens"));
    let compose = read("docker-compose.yml");
    assert!(compose.contains("file: ./deploy/tokens"));
    assert!(compose.contains("SESSIOND_TOKEN_FILE: /run/secrets/example_token"));
    // The example's token is one the tokens file admits.
    let token = read("deploy/example.token");
    let line = sessiond::auth::hash_token_line(
        &sessiond::session::Namespace::parse("example").unwrap(),
        token.trim(),
        false,
    );
    assert!(read("deploy/tokens").lines().any(|l| l == line));
}
