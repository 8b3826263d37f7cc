//! The real `regie` binary, as a user runs it: `regie serve` with its
//! stderr read line by line, stopped with Ctrl-C (or killed with
//! `kill -9`), never left running.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

use super::hub::TIMEOUT;

/// A running `regie serve --listen 127.0.0.1:0 --data DIR …`. Dropped, it
/// is killed.
pub(crate) struct Served {
    child: Child,
    stderr: Receiver<String>,
}

impl Served {
    /// Starts serve on `data` with `RUST_LOG=log` and the `extra` flags.
    pub(crate) fn start(data: &Path, log: &str, extra: &[&str]) -> Served {
        let mut child = Command::new(env!("CARGO_BIN_EXE_regie"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data"])
            .arg(data)
            .args(extra)
            .env("RUST_LOG", log)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("regie serve starts");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Served { child, stderr: rx }
    }

    /// The next line serve writes to stderr, or `None` after `within`.
    pub(crate) fn line(&self, within: Duration) -> Option<String> {
        self.stderr.recv_timeout(within).ok()
    }

    /// `kill -9`: the process dies where it stands, nothing flushed, no
    /// goodbye said.
    pub(crate) fn kill(&mut self) {
        self.child.kill().expect("SIGKILL is delivered");
        self.child.wait().expect("the killed serve is reaped");
    }

    /// Reads stderr until serve says where it serves; returns that
    /// `ws://…` address.
    pub(crate) fn address(&self) -> String {
        let mut seen = Vec::new();
        loop {
            let Some(line) = self.line(TIMEOUT) else {
                panic!("serve did not say where it serves: {seen:#?}");
            };
            if let Some(at) = line
                .strip_prefix("regie: serving")
                .and_then(|l| l.split(" on ").nth(1))
            {
                let address = at.split_whitespace().next().unwrap_or_default();
                return address.to_owned();
            }
            seen.push(line);
        }
    }

    /// Ctrl-C, as a user stops it.
    pub(crate) fn interrupt(&self) {
        let sent = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGINT was not delivered");
    }

    /// `kill -9`: the process dies wherever it is, mid-commit or
    /// mid-write, with no chance to flush or checkpoint. Returns once it
    /// has exited (waits on the process, not on a clock).
    pub(crate) fn kill_9(&mut self) -> ExitStatus {
        let sent = Command::new("kill")
            .args(["-KILL", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGKILL was not delivered");
        self.child.wait().expect("serve's status")
    }

    /// How serve exited, or `None` if it is still running after `within`.
    pub(crate) fn wait(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("serve's status") {
                return Some(status);
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            // No exit notification for a child on std: poll its status.
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What a finished `regie` run left: its exit code, stdout and stderr.
pub(crate) struct Ran {
    pub(crate) code: i32,
    pub(crate) stdout: String,
    pub(crate) stderr: String,
}

/// Runs `regie args…` without a terminal (stdin empty, output captured),
/// with no console config file. A run that does not end within
/// [`TIMEOUT`] (a command that should have refused but serves) is killed
/// and fails the test.
pub(crate) fn run(args: &[&str], env: &[(&str, &str)]) -> Ran {
    let child = Command::new(env!("CARGO_BIN_EXE_regie"))
        .args(args)
        .env_remove("REGIE_TOKEN")
        .env_remove("REGIE_TOKEN_MAX_TTL")
        .env("XDG_CONFIG_HOME", "/nonexistent")
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("regie runs");
    let pid = child.id().to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let Ok(out) = rx.recv_timeout(TIMEOUT) else {
        let _ = Command::new("kill").args(["-KILL", &pid]).status();
        panic!("regie {args:?} did not end within {TIMEOUT:?}");
    };
    let out = out.expect("regie's output");
    Ran {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}
