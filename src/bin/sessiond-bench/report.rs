//! What a run measures: latency histograms per task (merged at the end, so
//! recording touches nothing shared), CPU time of the client and of the
//! server process, resident memory, and the report printed from them.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::Notify;

/// `phase` value at which every worker stops.
pub const STOP: usize = usize::MAX;

/// What workers share: the phase they record into and the request budget.
/// Phase 0 is warm-up (nothing recorded); phase `k` in `1..=slots` records
/// into slot `k - 1`; `STOP` ends every worker after its current request.
pub struct Control {
    pub phase: AtomicUsize,
    /// Requests still allowed in the measured phases (`u64::MAX`: no limit).
    budget: AtomicU64,
    /// Woken when the budget runs out.
    pub exhausted: Notify,
}

impl Control {
    pub fn new(requests: Option<u64>) -> Arc<Self> {
        Arc::new(Control {
            phase: AtomicUsize::new(0),
            budget: AtomicU64::new(requests.unwrap_or(u64::MAX)),
            exhausted: Notify::new(),
        })
    }

    pub fn set(&self, phase: usize) {
        self.phase.store(phase, Ordering::Relaxed);
    }

    pub fn running(&self) -> bool {
        self.phase.load(Ordering::Relaxed) != STOP
    }
}

fn histogram() -> Histogram<u64> {
    // 1 µs .. 60 s at 3 significant digits.
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds")
}

/// One worker's figures, per slot (phase) and per operation kind.
pub struct Recorder {
    control: Arc<Control>,
    limited: bool,
    pub slots: Vec<Slot>,
    /// Latency per operation kind, over every measured slot.
    pub per_op: Vec<Histogram<u64>>,
    pub first_error: Option<String>,
}

/// Figures of one phase.
pub struct Slot {
    pub latency: Histogram<u64>,
    pub ops: u64,
    pub errors: u64,
}

impl Recorder {
    pub fn new(control: Arc<Control>, slots: usize, kinds: usize) -> Self {
        let limited = control.budget.load(Ordering::Relaxed) != u64::MAX;
        Recorder {
            control,
            limited,
            slots: (0..slots)
                .map(|_| Slot {
                    latency: histogram(),
                    ops: 0,
                    errors: 0,
                })
                .collect(),
            per_op: (0..kinds).map(|_| histogram()).collect(),
            first_error: None,
        }
    }

    pub fn running(&self) -> bool {
        self.control.running()
    }

    /// Counts one finished request in the phase current at its end.
    pub fn record<E: std::fmt::Display>(
        &mut self,
        kind: usize,
        started: Instant,
        outcome: Result<(), E>,
    ) {
        let phase = self.control.phase.load(Ordering::Relaxed);
        if phase == 0 || phase > self.slots.len() {
            return;
        }
        let us = (started.elapsed().as_micros() as u64).clamp(1, 60_000_000);
        let slot = &mut self.slots[phase - 1];
        slot.ops += 1;
        if let Err(e) = outcome {
            slot.errors += 1;
            if self.first_error.is_none() {
                self.first_error = Some(e.to_string());
            }
        }
        slot.latency.saturating_record(us);
        self.per_op[kind].saturating_record(us);
        if self.limited && self.control.budget.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.control.exhausted.notify_one();
        }
    }

    /// Folds `other` into `self`.
    pub fn merge(&mut self, other: Recorder) {
        for (a, b) in self.slots.iter_mut().zip(other.slots) {
            a.latency.add(&b.latency).expect("same bounds");
            a.ops += b.ops;
            a.errors += b.errors;
        }
        for (a, b) in self.per_op.iter_mut().zip(other.per_op) {
            a.add(&b).expect("same bounds");
        }
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }
}

/// CPU seconds (user + system) of this process.
pub fn own_cpu() -> Duration {
    // SAFETY: getrusage only writes the struct it is given.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// CPU seconds (user + system) of process `pid`, from /proc/<pid>/stat.
pub fn process_cpu(pid: u32) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Fields after the command name, which is in parentheses and may hold
    // spaces: state is field 3, utime 14 and stime 15.
    let rest = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // SAFETY: sysconf reads a constant.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Some(Duration::from_micros(ticks * 1_000_000 / hz))
}

/// Resident memory of process `pid`, in bytes.
pub fn process_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// CPU used by client and server between two points of a run.
#[derive(Clone, Copy)]
pub struct CpuMark {
    client: Duration,
    server: Option<Duration>,
    backend: Option<Duration>,
    at: Instant,
}

impl CpuMark {
    pub fn now(server_pid: Option<u32>) -> Self {
        CpuMark {
            client: own_cpu(),
            server: server_pid.and_then(process_cpu),
            backend: None,
            at: Instant::now(),
        }
    }

    /// The mark with the CPU time of `backend_pid` too.
    pub fn with_backend(mut self, backend_pid: Option<u32>) -> Self {
        self.backend = backend_pid.and_then(process_cpu);
        self
    }
}

/// The summary of one measured phase.
pub struct Summary {
    pub ops: u64,
    pub errors: u64,
    pub elapsed: Duration,
    pub p50: u64,
    pub p99: u64,
    pub p999: u64,
    pub max: u64,
    /// CPU microseconds per request, client and server.
    pub client_cpu_us: f64,
    pub server_cpu_us: Option<f64>,
    /// CPU microseconds per request of the backend (`--backend-pid`).
    pub backend_cpu_us: Option<f64>,
}

impl Summary {
    pub fn new(slot: &Slot, from: CpuMark, to: CpuMark) -> Self {
        let per_op = |d: Duration| d.as_secs_f64() * 1e6 / slot.ops.max(1) as f64;
        Summary {
            ops: slot.ops,
            errors: slot.errors,
            elapsed: to.at - from.at,
            p50: slot.latency.value_at_quantile(0.5),
            p99: slot.latency.value_at_quantile(0.99),
            p999: slot.latency.value_at_quantile(0.999),
            max: slot.latency.max(),
            client_cpu_us: per_op(to.client.saturating_sub(from.client)),
            server_cpu_us: match (from.server, to.server) {
                (Some(a), Some(b)) => Some(per_op(b.saturating_sub(a))),
                _ => None,
            },
            backend_cpu_us: match (from.backend, to.backend) {
                (Some(a), Some(b)) => Some(per_op(b.saturating_sub(a))),
                _ => None,
            },
        }
    }

    pub fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// Human lines, then one `RESULT key=value ...` line for scripts.
    pub fn print(&self, label: &str) {
        println!(
            "{label:<10} {} requests in {:.2?} = {:.0} ops/s, {} errors",
            self.ops,
            self.elapsed,
            self.ops_per_sec(),
            self.errors
        );
        println!(
            "{:<10} p50 {} µs  p99 {} µs  p99.9 {} µs  max {} µs",
            "latency", self.p50, self.p99, self.p999, self.max
        );
        let server = self
            .server_cpu_us
            .map_or("n/a (no --server-pid)".to_string(), |s| {
                format!("{s:.2} µs")
            });
        println!(
            "{:<10} client {:.2} µs  server {server}",
            "cpu/call", self.client_cpu_us
        );
        println!(
            "RESULT label={label} ops_per_s={:.0} p50_us={} p99_us={} p999_us={} max_us={} errors={} client_cpu_us={:.2} server_cpu_us={} backend_cpu_us={}",
            self.ops_per_sec(),
            self.p50,
            self.p99,
            self.p999,
            self.max,
            self.errors,
            self.client_cpu_us,
            self.server_cpu_us.map_or("nan".to_string(), |s| format!("{s:.2}")),
            self.backend_cpu_us.map_or("nan".to_string(), |s| format!("{s:.2}")),
        );
    }
}

/// Per-operation latency lines for a mix.
pub fn print_per_op(names: &[&str], per_op: &[Histogram<u64>]) {
    for (name, h) in names.iter().zip(per_op) {
        if h.is_empty() {
            continue;
        }
        println!(
            "  {name:<8} {:>9} requests  p50 {} µs  p99 {} µs  p99.9 {} µs  max {} µs",
            h.len(),
            h.value_at_quantile(0.5),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
            h.max()
        );
    }
}
