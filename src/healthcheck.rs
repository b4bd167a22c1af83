//! `sessiond healthcheck`: asks a running sessiond's admin listener whether
//! it is ready, so a container `HEALTHCHECK` needs no curl in the image.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use http_body_util::Empty;
use hyper::body::Bytes;
use hyper::client::conn::http1;
use hyper::header::{CONNECTION, HOST};
use hyper::{Request, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Where to probe a server listening on `admin_addr`: an unspecified
/// address (`0.0.0.0`, `[::]`) is reached through loopback.
pub fn probe_target(admin_addr: SocketAddr) -> SocketAddr {
    let ip = match admin_addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        ip => ip,
    };
    SocketAddr::new(ip, admin_addr.port())
}

/// `Ok` when `GET /readyz` on the server at `admin_addr` answers 200 within
/// `timeout`; otherwise why not, in one line.
pub async fn check(admin_addr: SocketAddr, timeout: Duration) -> Result<(), String> {
    let target = probe_target(admin_addr);
    match tokio::time::timeout(timeout, readyz(target)).await {
        Ok(Ok(StatusCode::OK)) => Ok(()),
        Ok(Ok(status)) => Err(format!("{target} is not ready: /readyz answered {status}")),
        Ok(Err(e)) => Err(format!("{target}: {e}")),
        Err(_) => Err(format!("{target}: no answer within {timeout:?}")),
    }
}

async fn readyz(
    target: SocketAddr,
) -> Result<StatusCode, Box<dyn std::error::Error + Send + Sync>> {
    let stream = TcpStream::connect(target).await?;
    let (mut sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let request = Request::get("/readyz")
        .header(HOST, target.to_string())
        .header(CONNECTION, "close")
        .body(Empty::<Bytes>::new())?;
    Ok(sender.send_request(request).await?.status())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unspecified_address_is_probed_on_loopback() {
        let probe = |a: &str| probe_target(a.parse().unwrap()).to_string();
        assert_eq!(probe("0.0.0.0:9090"), "127.0.0.1:9090");
        assert_eq!(probe("[::]:9090"), "[::1]:9090");
        assert_eq!(probe("10.1.2.3:9090"), "10.1.2.3:9090");
    }
}
