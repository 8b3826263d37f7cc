//! The real `regie` binary, as a user runs it: `regie serve` with its
//! stderr read line by line, stopped with Ctrl-C, never left running.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::Receiver;
use std::time::Duration;

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

    /// Ctrl-C, as a user stops it.
    pub(crate) fn interrupt(&self) {
        let sent = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "SIGINT was not delivered");
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
