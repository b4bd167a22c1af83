//! Brute-force detection (OWASP): lookups of session ids that name no
//! session, counted per peer address with bounded memory and bounded
//! metric cardinality, and logged at a bounded rate. Never the ids.
//!
//! A guessed id is as good as never found (ids carry ~165 bits), but a
//! peer that keeps presenting unknown ids is worth an operator's eye. The
//! total is a plain counter; per peer, at most [`MAX_PEERS`] addresses are
//! tracked (the least active is forgotten when a new one arrives) and the
//! [`TOP_PEERS`] most active are exported as one gauge each.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Peers tracked at once.
pub const MAX_PEERS: usize = 256;
/// Peers exported in /metrics.
pub const TOP_PEERS: usize = 10;
/// Unknown ids from one peer within [`WINDOW`] that make a log line.
const THRESHOLD: u32 = 20;
const WINDOW: Duration = Duration::from_secs(60);
/// Log lines per [`WINDOW`], across all peers.
const MAX_LINES_PER_WINDOW: u32 = 10;

const BY_PEER: &str = "sessiond_unknown_session_lookups_by_peer";

#[derive(Default)]
struct Peer {
    total: u64,
    window_start: Option<Instant>,
    in_window: u32,
    logged_window: bool,
}

#[derive(Default)]
struct Table {
    peers: HashMap<IpAddr, Peer>,
    lines_window_start: Option<Instant>,
    lines_in_window: u32,
}

/// Per-peer counts; the lock is taken only on the unknown-id path, never
/// by a lookup that finds its session, and never across an await.
#[derive(Default)]
pub struct UnknownIds {
    table: Mutex<Table>,
}

impl UnknownIds {
    /// Counts one lookup of an unknown id from `peer`, and logs the peer
    /// (rate-limited) when it crosses the threshold.
    pub fn record(&self, api: &'static str, peer: IpAddr) {
        let now = Instant::now();
        let mut table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        if !table.peers.contains_key(&peer) && table.peers.len() >= MAX_PEERS {
            let quietest = table
                .peers
                .iter()
                .min_by_key(|(_, p)| p.total)
                .map(|(addr, _)| *addr);
            if let Some(addr) = quietest {
                table.peers.remove(&addr);
            }
        }
        let entry = table.peers.entry(peer).or_default();
        entry.total += 1;
        if entry
            .window_start
            .is_none_or(|start| now.duration_since(start) >= WINDOW)
        {
            entry.window_start = Some(now);
            entry.in_window = 0;
            entry.logged_window = false;
        }
        entry.in_window += 1;
        let crossed = entry.in_window >= THRESHOLD && !entry.logged_window;
        if crossed {
            entry.logged_window = true;
        }
        let (recent, total) = (entry.in_window, entry.total);
        if crossed && table.may_log(now) {
            tracing::warn!(
                %peer,
                api,
                unknown_ids_last_minute = recent,
                unknown_ids_total = total,
                "many lookups of unknown session ids from one peer: possible brute force"
            );
        }
    }

    /// The most active peers, most active first.
    pub fn top(&self) -> Vec<(IpAddr, u64)> {
        let table = self.table.lock().unwrap_or_else(|e| e.into_inner());
        let mut peers: Vec<_> = table.peers.iter().map(|(a, p)| (*a, p.total)).collect();
        peers.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        peers.truncate(TOP_PEERS);
        peers
    }

    /// The per-peer gauge in the Prometheus text format.
    pub fn render(&self, out: &mut String) {
        let _ = writeln!(
            out,
            "# HELP {BY_PEER} Lookups of unknown session ids by the {TOP_PEERS} most active of the last {MAX_PEERS} peers seen (brute-force detection)."
        );
        let _ = writeln!(out, "# TYPE {BY_PEER} gauge");
        for (peer, n) in self.top() {
            let _ = writeln!(out, "{BY_PEER}{{peer=\"{peer}\"}} {n}");
        }
    }
}

impl Table {
    fn may_log(&mut self, now: Instant) -> bool {
        if self
            .lines_window_start
            .is_none_or(|start| now.duration_since(start) >= WINDOW)
        {
            self.lines_window_start = Some(now);
            self.lines_in_window = 0;
        }
        self.lines_in_window += 1;
        self.lines_in_window <= MAX_LINES_PER_WINDOW
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    #[test]
    fn lookups_are_counted_per_peer_and_the_busiest_come_first() {
        let ids = UnknownIds::default();
        for _ in 0..3 {
            ids.record("grpc", ip(1));
        }
        ids.record("http", ip(2));
        assert_eq!(ids.top(), vec![(ip(1), 3), (ip(2), 1)]);
        let mut text = String::new();
        ids.render(&mut text);
        assert!(
            text.contains(&format!("{BY_PEER}{{peer=\"10.0.0.1\"}} 3")),
            "{text}"
        );
    }

    #[test]
    fn memory_and_exported_series_stay_bounded_however_many_peers_probe() {
        let ids = UnknownIds::default();
        for _ in 0..5 {
            ids.record("grpc", IpAddr::from([192, 168, 0, 1]));
        }
        for n in 0..(MAX_PEERS as u32 * 4) {
            ids.record("grpc", IpAddr::from(n.to_be_bytes()));
        }
        let table = ids.table.lock().unwrap();
        assert!(table.peers.len() <= MAX_PEERS);
        assert!(
            table.peers.contains_key(&IpAddr::from([192, 168, 0, 1])),
            "the busiest peer is kept"
        );
        drop(table);
        assert_eq!(ids.top().len(), TOP_PEERS);
        assert_eq!(ids.top()[0], (IpAddr::from([192, 168, 0, 1]), 5));
    }
}
