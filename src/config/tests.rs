use super::*;
use crate::session::PerUserPolicy;
use crate::storage::redis::Target;

#[test]
fn redis_refuses_every_memory_only_flag_by_name_even_at_its_default() {
    let cases: [&[&str]; 8] = [
        &["--data-dir", "/var/lib/sessiond"],
        &["--fsync", "always"],
        &["--fsync", "everysec"],
        &["--snapshot-interval", "1m"],
        &["--snapshot-log-bytes", "1024"],
        &["--accept-data-loss"],
        &["--max-sessions", "1000000"],
        &["--max-sessions-per-namespace", "5"],
    ];
    for extra in cases {
        let args = ["sessiond", "--backend", "redis"].iter().chain(extra);
        let err = Config::parse_from_args(args).unwrap_err();
        assert!(err.contains(extra[0]), "{extra:?}: {err}");
        assert!(err.contains("--backend redis"), "{err}");
        let memory = ["sessiond"].iter().chain(extra);
        assert!(
            Config::parse_from_args(memory).is_ok(),
            "{extra:?} with memory"
        );
    }
    let plain = Config::parse_from_args(["sessiond", "--backend", "redis"]).unwrap();
    assert_eq!(plain.storage.backend, BackendKind::Redis);
    let cleared = ["sessiond", "--backend", "redis", "--data-dir", ""];
    assert!(
        Config::parse_from_args(cleared).is_ok(),
        "an empty --data-dir is no journal"
    );
}

#[test]
fn the_redis_settings_read_the_password_file_and_never_show_it() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("password");
    std::fs::write(&file, "s3cret\n").unwrap();
    let config = Config::parse_from_args([
        "sessiond",
        "--backend",
        "redis",
        "--redis-url",
        "redis://app:inurl@cache:6379/2",
        "--redis-password-file",
        file.to_str().unwrap(),
    ])
    .unwrap();
    let redis = config.storage.redis().unwrap().expect("redis settings");
    assert_eq!(redis.password.as_deref(), Some("s3cret"));
    let shown = format!("{config:?} {redis:?} {}", redis.target);
    assert!(
        !shown.contains("s3cret") && !shown.contains("inurl"),
        "{shown}"
    );

    let cluster = Config::parse_from_args([
        "sessiond",
        "--backend",
        "redis",
        "--redis-cluster",
        "10.0.0.1:6379,10.0.0.2:6379",
    ])
    .unwrap();
    let redis = cluster.storage.redis().unwrap().unwrap();
    assert!(matches!(redis.target, Target::Cluster(ref n) if n.len() == 2));

    std::fs::write(&file, "").unwrap();
    assert!(config.storage.redis().unwrap_err().contains("empty"));
    assert!(Config::defaults().storage.redis().unwrap().is_none());
    assert!(Config::parse_from_args(["sessiond", "--redis-url", "http://x"]).is_err());
}

#[test]
fn defaults_match_the_design() {
    let c = Config::defaults();
    assert_eq!(c.listeners.grpc_addr.to_string(), "127.0.0.1:50051");
    assert_eq!(c.listeners.admin_addr.to_string(), "127.0.0.1:9090");
    assert_eq!(c.listeners.drain_delay, Duration::from_secs(5));
    assert!(c.listeners.grpc_reflection);
    assert_eq!(c.sessions.idle_timeout, Duration::from_secs(14 * 24 * 3600));
    assert_eq!(c.sessions.absolute_timeout, None);
    assert_eq!(c.sessions.max_key_bytes, 256);
    assert_eq!(c.listeners.http_addr.to_string(), "127.0.0.1:8080");
    assert_eq!(c.gateway.cookie_name, "sessionid");
    assert!(c.gateway.cookie_secure);
    assert_eq!(c.gateway.cookie_domain, None);
    assert!(!c.gateway.cookie_browser_session);
    assert!(c.gateway.allowed_origins.is_empty());
    assert_eq!(c.gateway.max_body_bytes, 1024 * 1024);
}

#[test]
fn public_addresses_need_access_control_or_the_insecure_flag() {
    let public = [
        "sessiond",
        "--grpc-addr",
        "0.0.0.0:1",
        "--http-addr",
        "0.0.0.0:2",
    ];
    let with = |extra: &[&'static str]| {
        Config::parse_from_args(public.iter().copied().chain(extra.iter().copied()))
    };
    assert!(with(&[]).is_err());
    assert!(with(&["--insecure-no-auth"]).is_ok());
    assert!(with(&["--tokens-file", "/etc/sessiond/tokens"]).is_ok());
    let mtls = [
        "--tls-cert",
        "c.pem",
        "--tls-key",
        "k.pem",
        "--tls-client-ca",
        "ca.pem",
    ];
    assert!(with(&mtls).is_ok());
}

#[test]
fn cookie_secure_can_be_turned_off_by_flag_value() {
    let c = Config::parse_from_args(["sessiond", "--cookie-secure", "false"]).unwrap();
    assert!(!c.gateway.cookie_secure);
    let c = Config::parse_from_args(["sessiond", "--cookie-secure"]).unwrap();
    assert!(c.gateway.cookie_secure);
    let c = Config::parse_from_args(["sessiond", "--cookie-browser-session"]).unwrap();
    assert!(c.gateway.cookie_browser_session);
}

#[test]
fn lists_are_comma_separated() {
    let c = Config::parse_from_args([
        "sessiond",
        "--allowed-origins",
        "https://a.example,http://b.example:8000",
        "--auth-headers",
        "username,is_login",
    ])
    .unwrap();
    assert_eq!(c.gateway.allowed_origins.len(), 2);
    assert_eq!(c.gateway.auth_headers, vec!["username", "is_login"]);
    let empty =
        Config::parse_from_args(["sessiond", "--allowed-origins", "", "--auth-headers", "a,"]);
    assert!(empty.is_ok(), "empty entries are ignored: {empty:?}");
}

#[test]
fn host_prefixed_cookies_need_secure_and_no_domain() {
    let ok = Config::parse_from_args(["sessiond", "--cookie-name", "__Host-sid"]);
    assert!(ok.is_ok());
    for (args, flag) in [
        (
            vec!["--cookie-name", "__Host-sid", "--cookie-secure", "false"],
            "__Host-",
        ),
        (
            vec![
                "--cookie-name",
                "__Host-sid",
                "--cookie-domain",
                "example.com",
            ],
            "__Host-",
        ),
        (
            vec!["--cookie-name", "__Secure-sid", "--cookie-secure", "false"],
            "__Secure-",
        ),
    ] {
        let err = Config::parse_from_args(std::iter::once("sessiond").chain(args)).unwrap_err();
        assert!(err.contains(flag), "{err}");
        assert!(!err.contains('\n'), "one line: {err}");
    }
}

#[test]
fn origins_are_normalized_as_browsers_send_them() {
    assert_eq!(
        normalize_origin("HTTPS://App.Example.com:443/").as_deref(),
        Some("https://app.example.com")
    );
    assert_eq!(
        normalize_origin("http://localhost:3000").as_deref(),
        Some("http://localhost:3000")
    );
    for bad in [
        "app.example.com",
        "ftp://x",
        "https://",
        "https://a/b",
        "https://u@a",
    ] {
        assert_eq!(normalize_origin(bad), None, "{bad}");
    }
}

#[test]
fn an_empty_data_dir_means_in_memory() {
    let c = Config::parse_from_args(["sessiond", "--data-dir", ""]).unwrap();
    assert!(c.durability.persistence().is_none());
    let c = Config::parse_from_args(["sessiond", "--data-dir", "/var/lib/sessiond"]).unwrap();
    assert_eq!(
        c.durability.persistence().unwrap().dir,
        PathBuf::from("/var/lib/sessiond")
    );
}

#[test]
fn durations_use_humantime() {
    let c = Config::parse_from_args([
        "sessiond",
        "--idle-timeout",
        "30m",
        "--absolute-timeout",
        "12h",
    ])
    .unwrap();
    assert_eq!(c.sessions.idle_timeout, Duration::from_secs(1800));
    assert_eq!(
        c.sessions.absolute_timeout,
        Some(Duration::from_secs(12 * 3600))
    );
}

#[test]
fn reflection_can_be_turned_off() {
    for off in ["false", "no", "0", "off"] {
        let c = Config::parse_from_args(["sessiond", "--grpc-reflection", off]).unwrap();
        assert!(!c.listeners.grpc_reflection, "{off}");
    }
    let c = Config::parse_from_args(["sessiond", "--grpc-reflection=true"]).unwrap();
    assert!(c.listeners.grpc_reflection);
}

#[test]
fn bad_settings_are_refused_with_the_flag_named() {
    for (args, flag) in [
        (vec!["--idle-timeout", "0s"], "--idle-timeout"),
        (vec!["--idle-timeout", "soon"], "idle-timeout"),
        (vec!["--max-sessions", "0"], "--max-sessions"),
        (
            vec!["--max-value-bytes", "10", "--max-session-bytes", "5"],
            "--max-value-bytes",
        ),
        (vec!["--grpc-addr", "nowhere"], "grpc-addr"),
        (vec!["--admin-addr", "nowhere"], "admin-addr"),
        (vec!["--drain-delay", "later"], "drain-delay"),
        (vec!["--grpc-reflection", "maybe"], "grpc-reflection"),
        (vec!["--http-addr", "nowhere"], "http-addr"),
        (vec!["--cookie-name", "bad name"], "--cookie-name"),
        (vec!["--cookie-name", ""], "--cookie-name"),
        (vec!["--cookie-domain", "a b"], "--cookie-domain"),
        (vec!["--allowed-origins", "evil"], "--allowed-origins"),
        (vec!["--auth-headers", "a:b"], "--auth-headers"),
        (vec!["--auth-require", "a,\u{7}"], "--auth-require"),
        (vec!["--max-body-bytes", "0"], "--max-body-bytes"),
        (vec!["--max-header-bytes", "100"], "--max-header-bytes"),
        (vec!["--http-read-timeout", "0s"], "--http-read-timeout"),
        (vec!["--cookie-secure", "maybe"], "cookie-secure"),
        (
            vec!["--max-sessions-per-namespace", "0"],
            "--max-sessions-per-namespace",
        ),
        (vec!["--http-namespace", "a:b"], "--http-namespace"),
        (vec!["--tls-cert", "c.pem"], "--tls-key"),
        (vec!["--grpc-addr", "0.0.0.0:1"], "--tokens-file"),
        (vec!["--http-addr", "[::]:1"], "--insecure-no-auth"),
        (vec!["--admin-addr", "10.0.0.1:1"], "--admin-addr"),
    ] {
        let err = Config::parse_from_args(std::iter::once("sessiond").chain(args)).unwrap_err();
        assert!(err.contains(flag), "{err}");
    }
}

#[test]
fn the_per_user_limit_and_its_policy_reach_the_limits() {
    let config = Config::try_parse_from([
        "sessiond",
        "--max-sessions-per-user",
        "5",
        "--per-user-limit-policy",
        "refuse",
    ])
    .unwrap();
    let limits = config.sessions.limits();
    assert_eq!(limits.max_sessions_per_user, 5);
    assert_eq!(limits.per_user_policy, PerUserPolicy::Refuse);
    let defaults = Config::try_parse_from(["sessiond"])
        .unwrap()
        .sessions
        .limits();
    assert_eq!(defaults.per_user_policy, PerUserPolicy::EvictOldest);
    let zero = Config::try_parse_from(["sessiond", "--max-sessions-per-user", "0"]).unwrap();
    assert!(zero
        .validate()
        .unwrap_err()
        .contains("--max-sessions-per-user"));
}
#[test]
fn client_id_namespaces_are_a_comma_list_checked_at_start() {
    let config =
        Config::parse_from_args(["sessiond", "--client-id-namespaces", "express,(default)"])
            .unwrap();
    let names: Vec<String> = config
        .access
        .client_id_namespaces()
        .iter()
        .map(|n| n.as_str().to_owned())
        .collect();
    assert_eq!(names, ["express", ""]);
    assert!(Config::defaults().access.client_id_namespaces().is_empty());
    for bad in ["a:b", "express,"] {
        let err = Config::parse_from_args(["sessiond", "--client-id-namespaces", bad]).unwrap_err();
        assert!(err.contains("--client-id-namespaces"), "{bad:?}: {err}");
    }
}
