//! Reaching Redis: one multiplexed connection to a standalone server (or a
//! Cluster's nodes), the password kept out of every log and error, and a
//! deadline on every call so an outage answers fast instead of hanging.

use std::fmt;
use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClientBuilder;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{RoutingInfo, SingleNodeRoutingInfo};
use redis::{IntoConnectionInfo, RedisError, ScriptInvocation, Value};

/// Where the sessions are, as the operator configured it.
#[derive(Clone)]
pub enum Target {
    /// `redis://` or `rediss://` (TLS) URL of a standalone server (or a
    /// Valkey / Redis with replicas behind one address).
    Standalone(String),
    /// `host:port` seeds of a Redis / Valkey Cluster (`rediss://host:port`
    /// for TLS); the rest of the topology is discovered, and MOVED / ASK
    /// redirects are followed.
    Cluster(Vec<String>),
}

/// How sessiond talks to Redis.
#[derive(Clone)]
pub struct RedisConfig {
    pub target: Target,
    /// Overrides the URL's password (read from `SESSIOND_REDIS_PASSWORD_FILE`
    /// so that it is on no command line).
    pub password: Option<String>,
    /// The longest one call may take, connecting included: past it the
    /// request fails with UNAVAILABLE rather than wait on a dead server.
    pub timeout: Duration,
    /// PEM CA certificate(s) that `rediss://` servers must chain to,
    /// instead of the system's roots (a private CA).
    pub ca: Option<Vec<u8>>,
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("target", &self.target)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .field("ca", &self.ca.is_some())
            .finish()
    }
}

impl fmt::Debug for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{self}")
    }
}

/// What a log may say of the target: the URL with any password replaced.
impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Target::Standalone(url) => f.write_str(&redact(url)),
            Target::Cluster(nodes) => write!(f, "cluster {}", redact(&nodes.join(","))),
        }
    }
}

/// `url` with the password of its userinfo (`user:password@`) replaced by
/// `***`: what logs and errors may print.
pub fn redact(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|i| i + 3) else {
        // Not a URL (a host:port list): no userinfo unless there is an '@'.
        return match url.rfind('@') {
            Some(at) => format!("***@{}", &url[at + 1..]),
            None => url.to_owned(),
        };
    };
    let rest = &url[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => {
            let userinfo = &rest[..at];
            let user = userinfo.split(':').next().unwrap_or("");
            let shown = if userinfo.contains(':') {
                format!("{user}:***")
            } else {
                "***".to_owned()
            };
            format!("{}{shown}{}", &url[..scheme_end], &rest[at..])
        }
        None => url.to_owned(),
    }
}

/// Why sessiond could not set up its Redis connection; says what to fix,
/// never the password.
#[derive(Debug, thiserror::Error)]
#[error("redis backend ({target}): {reason}")]
pub struct ConnectError {
    target: String,
    reason: String,
}

impl ConnectError {
    fn new(target: &Target, reason: impl fmt::Display) -> Self {
        ConnectError {
            target: target.to_string(),
            reason: scrub(&reason.to_string()),
        }
    }
}

/// A Redis error's text with anything that looks like a URL's password
/// taken out: client errors may quote the address they failed on.
pub fn scrub(message: &str) -> String {
    message
        .split(' ')
        .map(|word| {
            if word.contains("://") {
                redact(word)
            } else {
                word.to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Trust `ca` (PEM) for TLS, with no client certificate.
fn certificates(ca: &[u8]) -> redis::TlsCertificates {
    redis::TlsCertificates {
        client_tls: None,
        root_cert: Some(ca.to_vec()),
    }
}

/// One connection, shared by every request: commands from all of them are
/// pipelined on it. Cheap to clone.
#[derive(Clone)]
pub enum Connection {
    Standalone(ConnectionManager),
    Cluster(ClusterConnection),
}

impl Connection {
    /// Sets the connection up. A standalone server is connected to lazily
    /// (sessiond starts, NOT_SERVING, while Redis is down); a Cluster's
    /// topology is read now, so its seeds must answer.
    pub async fn open(config: &RedisConfig) -> Result<Self, ConnectError> {
        let target = &config.target;
        match target {
            Target::Standalone(_) => Self::standalone(config),
            Target::Cluster(nodes) => {
                let mut builder =
                    ClusterClientBuilder::new(nodes.iter().map(
                        |node| match node.contains("://") {
                            true => node.clone(),
                            false => format!("redis://{node}"),
                        },
                    ))
                    .connection_timeout(config.timeout)
                    .response_timeout(config.timeout)
                    .retries(2)
                    .min_retry_wait(10)
                    .max_retry_wait(200);
                if let Some(password) = &config.password {
                    builder = builder.password(password.clone());
                }
                if let Some(ca) = &config.ca {
                    builder = builder.certs(certificates(ca));
                }
                let client = builder.build().map_err(|e| ConnectError::new(target, e))?;
                let connection = tokio::time::timeout(
                    config.timeout.saturating_mul(3),
                    client.get_async_connection(),
                )
                .await
                .map_err(|_| ConnectError::new(target, "no seed node answered in time"))?
                .map_err(|e| ConnectError::new(target, e))?;
                Ok(Connection::Cluster(connection))
            }
        }
    }

    /// A standalone server's connection, made on first use: nothing is
    /// asked of the server yet. Not for a Cluster (whose topology is read
    /// at once).
    pub fn standalone(config: &RedisConfig) -> Result<Self, ConnectError> {
        let target = &config.target;
        let Target::Standalone(url) = target else {
            return Err(ConnectError::new(target, "not a standalone server"));
        };
        let mut info = url
            .as_str()
            .into_connection_info()
            .map_err(|e| ConnectError::new(target, e))?;
        if let Some(password) = &config.password {
            let settings = info.redis_settings().clone().set_password(password);
            info = info.set_redis_settings(settings);
        }
        let client = match &config.ca {
            Some(ca) => redis::Client::build_with_tls(info, certificates(ca)),
            None => redis::Client::open(info),
        }
        .map_err(|e| ConnectError::new(target, e))?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.timeout))
            // Reconnect attempts happen while requests fail fast; each
            // request is bounded by `timeout` anyway.
            .set_number_of_retries(1)
            .set_min_delay(Duration::from_millis(50))
            .set_max_delay(config.timeout);
        let manager = ConnectionManager::new_lazy_with_config(client, manager_config)
            .map_err(|e| ConnectError::new(target, e))?;
        Ok(Connection::Standalone(manager))
    }

    /// Runs a script by SHA (EVALSHA), loading it on NOSCRIPT and retrying:
    /// a server that restarted, or a Cluster node that joined, learns it on
    /// first use.
    pub async fn invoke(&self, script: &ScriptInvocation<'_>) -> Result<Value, RedisError> {
        match self {
            Connection::Standalone(c) => script.invoke_async(&mut c.clone()).await,
            Connection::Cluster(c) => script.invoke_async(&mut c.clone()).await,
        }
    }

    /// The servers whose keys a walk must SCAN: the one server, or every
    /// master of a Cluster (`None` is the standalone server).
    pub async fn scan_targets(&self) -> Result<Vec<Option<(String, u16)>>, RedisError> {
        let Connection::Cluster(c) = self else {
            return Ok(vec![None]);
        };
        let nodes = c
            .clone()
            .route_command(
                redis::cmd("CLUSTER").arg("NODES").clone(),
                RoutingInfo::SingleNode(SingleNodeRoutingInfo::Random),
            )
            .await?;
        let text = match nodes {
            Value::BulkString(b) => String::from_utf8_lossy(&b).into_owned(),
            Value::VerbatimString { text, .. } => text,
            other => {
                return Err(RedisError::from((
                    redis::ErrorKind::UnexpectedReturnType,
                    "CLUSTER NODES",
                    format!("{other:?}"),
                )))
            }
        };
        // `<id> <host:port@cport[,hostname]> <flags> ...`: the masters that
        // have not failed.
        Ok(text
            .lines()
            .filter_map(|line| {
                let mut fields = line.split(' ');
                let address = fields.nth(1)?;
                let flags = fields.next()?;
                let master = flags.split(',').any(|f| f == "master")
                    && !flags.split(',').any(|f| f == "fail" || f == "noaddr");
                let (host, port) = address.split('@').next()?.rsplit_once(':')?;
                let port = port.parse().ok()?;
                master.then(|| Some((host.to_owned(), port)))
            })
            .collect())
    }

    /// One SCAN step on `target` (see [`Self::scan_targets`]).
    pub async fn scan(
        &self,
        target: &Option<(String, u16)>,
        cursor: u64,
        pattern: &str,
    ) -> Result<Value, RedisError> {
        let cmd = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(pattern)
            .arg("COUNT")
            .arg(500)
            .clone();
        match (self, target) {
            (Connection::Cluster(c), Some((host, port))) => {
                let node = SingleNodeRoutingInfo::ByAddress {
                    host: host.clone(),
                    port: *port,
                };
                c.clone()
                    .route_command(cmd, RoutingInfo::SingleNode(node))
                    .await
            }
            _ => self.command(&cmd).await,
        }
    }

    /// Runs one plain command.
    pub async fn command(&self, cmd: &redis::Cmd) -> Result<Value, RedisError> {
        match self {
            Connection::Standalone(c) => c.clone().req_packed_command(cmd).await,
            Connection::Cluster(c) => c.clone().req_packed_command(cmd).await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_a_url_is_never_shown() {
        assert_eq!(
            redact("redis://app:s3cret@cache:6379/0"),
            "redis://app:***@cache:6379/0"
        );
        assert_eq!(redact("rediss://:s3cret@cache"), "rediss://:***@cache");
        assert_eq!(redact("redis://s3cret@cache"), "redis://***@cache");
        assert_eq!(redact("redis://cache:6379"), "redis://cache:6379");
        assert_eq!(redact("a:1,b:2"), "a:1,b:2");
        let config = RedisConfig {
            target: Target::Standalone("redis://u:s3cret@h".into()),
            password: Some("other".into()),
            timeout: Duration::from_secs(1),
            ca: None,
        };
        let shown = format!("{config:?} {}", config.target);
        assert!(
            !shown.contains("s3cret") && !shown.contains("other"),
            "{shown}"
        );
    }

    #[test]
    fn an_error_quoting_the_url_is_scrubbed() {
        let scrubbed = scrub("failed to connect to redis://u:s3cret@h:1 (refused)");
        assert_eq!(scrubbed, "failed to connect to redis://u:***@h:1 (refused)");
    }
}
