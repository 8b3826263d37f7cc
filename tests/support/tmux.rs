//! A person at a terminal: the real binary in a detached tmux session on a
//! socket of the test's own (never the user's tmux server), keys sent with
//! `send-keys`, the screen read with `capture-pane`.

use std::process::Command;
use std::time::{Duration, Instant};

/// Whether the test runs under CI: `CI` set to anything but empty, `0` or
/// `false` (CI services set `CI=true`).
pub(crate) fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim(), "" | "0" | "false"))
}

/// Whether tmux is installed. Without it the test is skipped, saying why;
/// under CI it fails instead, since `.ci/run` installs tmux and a skip
/// there would hide that the test never ran.
pub(crate) fn tmux_is_installed() -> bool {
    if Command::new("tmux").arg("-V").output().is_ok() {
        return true;
    }
    assert!(
        !under_ci(),
        "tmux is not installed, and under CI it must be (.ci/run installs it)"
    );
    eprintln!("SKIPPED: tmux is not installed (the CI script installs it)");
    false
}

/// One tmux server of the test's own; dropped, it is killed.
pub(crate) struct Tmux {
    socket: String,
}

impl Tmux {
    /// A server on socket `{name}-{pid}`, so parallel test binaries never share one.
    pub(crate) fn new(name: &str) -> Tmux {
        Tmux {
            socket: format!("{name}-{}", std::process::id()),
        }
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs")
    }

    /// Starts `command` in a new detached session of `width`×`height`.
    pub(crate) fn start(&self, session: &str, (width, height): (u16, u16), command: &str) {
        let (w, h) = (width.to_string(), height.to_string());
        let out = self.run(&[
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            &w,
            "-y",
            &h,
            command,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// Named keys (`Enter`, `Tab`, `q` …), as `send-keys` takes them.
    pub(crate) fn keys(&self, session: &str, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", session];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success());
    }

    /// Literal text, typed as is.
    pub(crate) fn text(&self, session: &str, text: &str) {
        assert!(
            self.run(&["send-keys", "-t", session, "-l", text])
                .status
                .success()
        );
    }

    /// The screen as shown, row by row.
    pub(crate) fn screen(&self, session: &str) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", session]).stdout)
            .into_owned()
    }

    /// The screen with wrapped lines joined (for long printed paths).
    pub(crate) fn joined(&self, session: &str) -> String {
        String::from_utf8_lossy(
            &self
                .run(&["capture-pane", "-p", "-J", "-t", session])
                .stdout,
        )
        .into_owned()
    }

    /// The pid of the process running in `session`'s pane.
    pub(crate) fn pane_pid(&self, session: &str) -> String {
        let out = self.run(&["display", "-p", "-t", session, "#{pane_pid}"]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// The terminal device of `session`'s pane (`/dev/pts/N`).
    pub(crate) fn pane_tty(&self, session: &str) -> String {
        let out = self.run(&["display", "-p", "-t", session, "#{pane_tty}"]);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Ends `session`: its terminal is closed under whatever still uses it.
    pub(crate) fn kill_session(&self, session: &str) {
        assert!(
            self.run(&["kill-session", "-t", session]).status.success(),
            "tmux kill-session {session}"
        );
    }

    /// Polls the screen until `ready` holds; panics with the last screen
    /// after `within`.
    pub(crate) fn wait_for(
        &self,
        session: &str,
        what: &str,
        within: Duration,
        ready: impl Fn(&str) -> bool,
    ) -> String {
        Self::wait_on(|| self.screen(session), what, within, ready)
    }

    /// [`Tmux::wait_for`] on the screen with wrapped lines joined.
    pub(crate) fn wait_for_joined(
        &self,
        session: &str,
        what: &str,
        within: Duration,
        ready: impl Fn(&str) -> bool,
    ) -> String {
        Self::wait_on(|| self.joined(session), what, within, ready)
    }

    fn wait_on(
        capture: impl Fn() -> String,
        what: &str,
        within: Duration,
        ready: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + within;
        loop {
            let screen = capture();
            if ready(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            // Polling the screen: tmux has no "screen changed" notification.
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

/// A tmux control-mode client (`tmux -C attach`): one long-lived process
/// that takes commands on its stdin, answers each between `%begin` and
/// `%end`, and streams every byte a pane's program writes as `%output`
/// lines. A key sent through it and a look at the screen cost no process
/// start-up, so a key-to-screen time is the program's, not the harness's.
pub(crate) struct Control {
    child: std::process::Child,
    stdin: std::process::ChildStdin,
    lines: std::sync::mpsc::Receiver<String>,
}

impl Control {
    /// Attaches to `session` of `tmux`'s server.
    pub(crate) fn attach(tmux: &Tmux, session: &str) -> Control {
        use std::io::BufRead;
        use std::process::Stdio;
        let mut child = Command::new("tmux")
            .args([
                "-L",
                &tmux.socket,
                "-f",
                "/dev/null",
                "-C",
                "attach",
                "-t",
                session,
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("tmux -C runs");
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            // Lines as bytes: a pane's output may split a UTF-8 sequence.
            for line in std::io::BufReader::new(stdout).split(b'\n') {
                let Ok(line) = line else { break };
                if tx
                    .send(String::from_utf8_lossy(&line).into_owned())
                    .is_err()
                {
                    break;
                }
            }
        });
        Control {
            child,
            stdin,
            lines,
        }
    }

    /// Sends one tmux command line (`send-keys -t demo ?`).
    pub(crate) fn command(&mut self, command: &str) {
        use std::io::Write;
        writeln!(self.stdin, "{command}").expect("tmux -C takes a command");
        self.stdin.flush().expect("tmux -C takes a command");
    }

    /// The screen as shown, row by row: `capture-pane` run by the control
    /// client, its answer read between `%begin` and `%end`.
    pub(crate) fn screen(&mut self, session: &str) -> String {
        self.command(&format!("capture-pane -p -t {session}"));
        let mut screen = String::new();
        let mut inside = false;
        loop {
            let line = self
                .lines
                .recv_timeout(Duration::from_secs(10))
                .expect("tmux -C answers capture-pane");
            if line.starts_with("%begin ") {
                inside = true;
            } else if inside && (line.starts_with("%end ") || line.starts_with("%error ")) {
                return screen;
            } else if inside {
                screen.push_str(&line);
                screen.push('\n');
            }
        }
    }

    /// Waits for a `%output` line of the pane's holding `needle`, dropping
    /// the others; whether it came within `within`.
    pub(crate) fn output_with(&self, needle: &str, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        while let Some(left) = deadline.checked_duration_since(Instant::now()) {
            match self.lines.recv_timeout(left) {
                Ok(line) if line.starts_with("%output ") && line.contains(needle) => return true,
                Ok(_) => {}
                Err(_) => return false,
            }
        }
        false
    }

    /// Drops what the pane has written so far.
    pub(crate) fn drain(&self) {
        while self.lines.try_recv().is_ok() {}
    }
}

impl Drop for Control {
    fn drop(&mut self) {
        use std::io::Write;
        let _ = writeln!(self.stdin, "detach-client");
        let _ = self.stdin.flush();
        let _ = self.child.wait();
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}
