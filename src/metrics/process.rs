//! Process figures under their conventional Prometheus names, read from
//! `/proc/self` at scrape time. Only Linux has them; elsewhere none are
//! registered rather than reported as zero.

use metrics::{Gauge, Key, Recorder, Unit};

use super::metadata;

const RESIDENT: &str = "process_resident_memory_bytes";
const VIRTUAL: &str = "process_virtual_memory_bytes";
/// A counter by nature, registered as a gauge because the `metrics` crate's
/// counters are integers and CPU time needs fractions of a second.
const CPU: &str = "process_cpu_seconds_total";
const OPEN_FDS: &str = "process_open_fds";
const MAX_FDS: &str = "process_max_fds";

pub(super) fn describe(recorder: &impl Recorder) {
    if !cfg!(target_os = "linux") {
        return;
    }
    for (name, unit, help) in [
        (
            RESIDENT,
            Some(Unit::Bytes),
            "Resident memory size in bytes.",
        ),
        (VIRTUAL, Some(Unit::Bytes), "Virtual memory size in bytes."),
        (
            CPU,
            Some(Unit::Seconds),
            "User and system CPU time spent, in seconds.",
        ),
        (OPEN_FDS, None, "Open file descriptors."),
        (MAX_FDS, None, "Limit on open file descriptors."),
    ] {
        recorder.describe_gauge(name.into(), unit, help.into());
    }
}

/// The registered gauges (none off Linux).
pub(super) struct Gauges(Vec<(&'static str, Gauge)>);

impl Gauges {
    pub(super) fn register(recorder: &impl Recorder) -> Self {
        if !cfg!(target_os = "linux") {
            return Gauges(Vec::new());
        }
        let gauges = [RESIDENT, VIRTUAL, CPU, OPEN_FDS, MAX_FDS]
            .into_iter()
            .map(|name| {
                (
                    name,
                    recorder.register_gauge(&Key::from_static_name(name), &metadata()),
                )
            })
            .collect();
        Gauges(gauges)
    }

    /// Sets each gauge from a fresh reading; a figure that cannot be read
    /// keeps its last value.
    pub(super) fn update(&self) {
        for (name, gauge) in &self.0 {
            if let Some(value) = read(name) {
                gauge.set(value);
            }
        }
    }
}

#[cfg(target_os = "linux")]
fn read(name: &str) -> Option<f64> {
    match name {
        RESIDENT => linux::statm().map(|(_, resident)| resident),
        VIRTUAL => linux::statm().map(|(size, _)| size),
        CPU => linux::cpu_seconds(),
        OPEN_FDS => linux::open_fds(),
        MAX_FDS => linux::max_fds(),
        _ => None,
    }
}

#[cfg(not(target_os = "linux"))]
fn read(_: &str) -> Option<f64> {
    None
}

#[cfg(target_os = "linux")]
mod linux {
    use std::fs;

    fn sysconf(name: libc::c_int) -> Option<f64> {
        // SAFETY: sysconf only reads a configuration value.
        let value = unsafe { libc::sysconf(name) };
        (value > 0).then_some(value as f64)
    }

    /// (virtual, resident) bytes, from `/proc/self/statm` (in pages).
    pub fn statm() -> Option<(f64, f64)> {
        let statm = fs::read_to_string("/proc/self/statm").ok()?;
        let mut pages = statm.split_whitespace().map(|f| f.parse::<f64>().ok());
        let (size, resident) = (pages.next()??, pages.next()??);
        let page = sysconf(libc::_SC_PAGESIZE)?;
        Some((size * page, resident * page))
    }

    /// utime + stime from `/proc/self/stat` (in clock ticks). Fields are
    /// counted after the command name, which is in parentheses and may
    /// itself contain spaces.
    pub fn cpu_seconds() -> Option<f64> {
        let stat = fs::read_to_string("/proc/self/stat").ok()?;
        let after_comm = &stat[stat.rfind(')')? + 1..];
        // After ")": state is field 3, so utime (14) and stime (15) are the
        // 12th and 13th fields here.
        let mut fields = after_comm.split_whitespace().skip(11);
        let utime: f64 = fields.next()?.parse().ok()?;
        let stime: f64 = fields.next()?.parse().ok()?;
        Some((utime + stime) / sysconf(libc::_SC_CLK_TCK)?)
    }

    pub fn open_fds() -> Option<f64> {
        Some(fs::read_dir("/proc/self/fd").ok()?.count() as f64)
    }

    pub fn max_fds() -> Option<f64> {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: getrlimit writes into the struct we own.
        let ok = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
        (ok && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur as f64)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn the_process_figures_are_plausible() {
            let (virt, resident) = statm().unwrap();
            assert!(resident > 0.0 && virt >= resident);
            assert!(cpu_seconds().unwrap() >= 0.0);
            let file = fs::File::open("/proc/self/stat").unwrap();
            let open = open_fds().unwrap();
            assert!(open >= 4.0, "{open}"); // stdio and the file above
            drop(file);
            assert!(max_fds().unwrap() >= open);
        }
    }
}
