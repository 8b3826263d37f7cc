//! What a process costs, read from Linux's `/proc`: resident memory (now
//! and peak) and CPU time. The benches run each server in a child process
//! so these figures are the server's alone, not the load generator's.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum ResourceError {
    #[error("cannot read {path}: {source} (the benches need Linux's /proc)")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} has no {field} line")]
    Missing { path: PathBuf, field: &'static str },
}

/// Which process: this one, or a child by pid.
#[derive(Debug, Clone, Copy)]
pub enum Process {
    Current,
    Pid(u32),
}

impl Process {
    fn file(self, name: &str) -> PathBuf {
        match self {
            Process::Current => PathBuf::from(format!("/proc/self/{name}")),
            Process::Pid(pid) => PathBuf::from(format!("/proc/{pid}/{name}")),
        }
    }

    fn read(self, name: &str) -> Result<(String, PathBuf), ResourceError> {
        let path = self.file(name);
        std::fs::read_to_string(&path)
            .map(|text| (text, path.clone()))
            .map_err(|source| ResourceError::Read { path, source })
    }

    /// Memory from `/proc/PID/status`: `VmRSS` (resident now) and `VmHWM`
    /// (the peak resident set since the process started).
    pub fn memory(self) -> Result<Memory, ResourceError> {
        let (text, path) = self.read("status")?;
        let field = |name: &'static str| {
            status_kib(&text, name).ok_or(ResourceError::Missing {
                path: path.clone(),
                field: name,
            })
        };
        Ok(Memory {
            rss_kib: field("VmRSS:")?,
            peak_rss_kib: field("VmHWM:")?,
        })
    }

    /// User + system CPU time so far, from `/proc/PID/stat` (clock ticks,
    /// which Linux fixes at 100 per second for this interface).
    pub fn cpu_time(self) -> Result<Duration, ResourceError> {
        let (text, path) = self.read("stat")?;
        let ticks = stat_cpu_ticks(&text).ok_or(ResourceError::Missing {
            path,
            field: "utime/stime",
        })?;
        Ok(Duration::from_millis(ticks * 10))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Memory {
    pub rss_kib: u64,
    pub peak_rss_kib: u64,
}

fn status_kib(status: &str, field: &str) -> Option<u64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// utime + stime: fields 14 and 15 of `stat`, counted after the command
/// name, which is in parentheses and may itself contain spaces.
fn stat_cpu_ticks(stat: &str) -> Option<u64> {
    let after_name = &stat[stat.rfind(')')? + 1..];
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // after_name starts at field 3 (state), so field n is at index n - 3.
    let utime: u64 = fields.get(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.get(15 - 3)?.parse().ok()?;
    Some(utime + stime)
}

/// CPU time the whole machine spent busy so far (every core; user, nice,
/// system, irq, softirq and steal from `/proc/stat`'s first line), to tell
/// a bench's processes from everything else running beside them.
pub fn machine_busy_time() -> Result<Duration, ResourceError> {
    let path = PathBuf::from("/proc/stat");
    let text = std::fs::read_to_string(&path).map_err(|source| ResourceError::Read {
        path: path.clone(),
        source,
    })?;
    machine_busy_ticks(&text)
        .map(|ticks| Duration::from_millis(ticks * 10))
        .ok_or(ResourceError::Missing { path, field: "cpu" })
}

/// `cpu  user nice system idle iowait irq softirq steal …`: all but idle
/// and iowait.
fn machine_busy_ticks(stat: &str) -> Option<u64> {
    let rest = stat.lines().next()?.strip_prefix("cpu ")?;
    let fields: Vec<u64> = rest
        .split_whitespace()
        .take(8)
        .map(str::parse)
        .collect::<Result<_, _>>()
        .ok()?;
    let [user, nice, system, _idle, _iowait, irq, softirq, steal] = fields[..] else {
        return None;
    };
    Some(user + nice + system + irq + softirq + steal)
}

/// The soft limit on open files for this process (children inherit it).
pub fn open_files_limit() -> Result<u64, ResourceError> {
    let (text, path) = Process::Current.read("limits")?;
    text.lines()
        .find_map(|l| l.strip_prefix("Max open files"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|soft| {
            if soft == "unlimited" {
                Some(u64::MAX)
            } else {
                soft.parse().ok()
            }
        })
        .ok_or(ResourceError::Missing {
            path,
            field: "Max open files",
        })
}

/// Raises this process's open-files limit to at least `wanted` if it can
/// (the soft limit up to the hard one; the hard one too when the process
/// may, as root may), so a bench of tens of thousands of sockets needs no
/// `ulimit` first. Children started afterwards inherit it. Returns the
/// soft limit in force afterwards, which may still be below `wanted`.
pub fn raise_open_files_limit(wanted: u64) -> Result<u64, ResourceError> {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let now = getrlimit(Resource::Nofile);
    let soft = now.current.unwrap_or(u64::MAX);
    if soft >= wanted {
        return Ok(soft);
    }
    let hard = now.maximum.unwrap_or(u64::MAX);
    // First try to lift the hard limit too (needs privilege); then, failing
    // that, the soft limit as far as the hard one allows.
    // Neither succeeding is not an error here: the caller compares what
    // is in force with what it needs and says so.
    let _ = setrlimit(
        Resource::Nofile,
        Rlimit {
            current: Some(wanted),
            maximum: Some(wanted.max(hard)),
        },
    )
    .or_else(|_| {
        setrlimit(
            Resource::Nofile,
            Rlimit {
                current: Some(wanted.min(hard)),
                maximum: now.maximum,
            },
        )
    });
    open_files_limit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_and_stat_fields_are_parsed() {
        let status = "Name:\tregie\nVmHWM:\t  123456 kB\nVmRSS:\t   99000 kB\n";
        assert_eq!(status_kib(status, "VmHWM:"), Some(123_456));
        assert_eq!(status_kib(status, "VmRSS:"), Some(99_000));
        assert_eq!(status_kib(status, "VmSwap:"), None);
        let stat = "4242 (a (weird) name) S 1 2 3 4 5 6 7 8 9 10 250 75 0 0 20 0 3";
        assert_eq!(stat_cpu_ticks(stat), Some(325));
        let machine = "cpu  100 5 20 9000 7 1 2 3 0 0\ncpu0 50 0 10 4500 3 0 1 1 0 0\n";
        assert_eq!(machine_busy_ticks(machine), Some(131));
        assert_eq!(machine_busy_ticks("cpu  1 2\n"), None);
    }

    #[test]
    fn this_process_can_be_measured() {
        let m = Process::Current.memory().unwrap();
        assert!(m.rss_kib > 0 && m.peak_rss_kib >= m.rss_kib);
        Process::Current.cpu_time().unwrap();
        machine_busy_time().unwrap();
        assert!(open_files_limit().unwrap() > 0);
    }
}
