//! The server child a bench starts: `regie bench serve-hub` (the real hub)
//! or `serve-bare` (the bare broadcast), hidden subcommands of this binary,
//! in a process of its own so that its memory and CPU time in `/proc` are
//! its own; and the staff tokens its hub accepts.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use tokio::sync::oneshot;

/// Which server a child runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    Bare,
    Hub,
}

impl Target {
    pub(super) fn name(self) -> &'static str {
        match self {
            Target::Bare => "bare",
            Target::Hub => "hub",
        }
    }
}

/// A staff token for the bench's staff sockets, signed with the key the
/// hub child will load from `data` (the bare broadcast ignores it).
pub(super) fn staff_token(
    data: &std::path::Path,
    role: crate::protocol::StaffRole,
    live: &str,
) -> anyhow::Result<String> {
    let key = crate::auth::SigningKey::load_or_create(data)?;
    let claims =
        crate::auth::Claims::new(role, "Bench", live, crate::now_millis(), 24 * 3_600_000)?;
    Ok(crate::auth::mint(&key, &claims))
}

/// How the bench starts its hub child (the bare broadcast takes none):
/// what it changes of production's configuration ([`super::hub::bench_config`]).
#[derive(Debug, Clone, Default)]
pub struct ChildOptions {
    /// Replaces the production send queue (frames per connection).
    pub send_queue: Option<usize>,
    /// Keeps the live's default viewer sampling on.
    pub sampled_viewers: bool,
    /// Replaces the production group-commit window.
    pub commit_window: Option<Duration>,
    /// Replaces the live's default viewer delivery tick.
    pub viewer_tick: Option<Duration>,
}

/// A server child process: started with a pipe on stdin that is its
/// shutdown signal, so it also ends if this process dies. Plain
/// `std::process` with a reader thread: the child is started twice per run,
/// nothing here is on a hot path.
pub(super) struct ServerChild {
    child: Child,
    pub(super) pid: u32,
    pub(super) addr: SocketAddr,
}

impl ServerChild {
    pub(super) async fn start(
        exe: &std::path::Path,
        target: Target,
        data: &std::path::Path,
        options: &ChildOptions,
    ) -> anyhow::Result<Self> {
        let mut cmd = Command::new(exe);
        match target {
            Target::Bare => cmd.args(["bench", "serve-bare"]),
            Target::Hub => cmd
                .args(["bench", "serve-hub", "--live", "bench", "--data"])
                .arg(data),
        };
        if let (Target::Hub, Some(frames)) = (target, options.send_queue) {
            cmd.arg("--send-queue").arg(frames.to_string());
        }
        if target == Target::Hub && options.sampled_viewers {
            cmd.arg("--sampled-viewers");
        }
        if let (Target::Hub, Some(window)) = (target, options.commit_window) {
            cmd.arg("--commit-window")
                .arg(humantime::format_duration(window).to_string());
        }
        if let (Target::Hub, Some(tick)) = (target, options.viewer_tick) {
            cmd.arg("--viewer-tick")
                .arg(humantime::format_duration(tick).to_string());
        }
        Self::spawn(cmd, exe).await
    }

    /// Starts `cmd` (a hidden `bench serve-…` of `exe`) and reads where it
    /// listens from its first line.
    pub(super) async fn spawn(mut cmd: Command, exe: &std::path::Path) -> anyhow::Result<Self> {
        if std::env::var_os("RUST_LOG").is_none() {
            cmd.env("RUST_LOG", "warn");
        }
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("cannot start {}", exe.display()))?;
        let pid = child.id();
        let stdout = child.stdout.take().context("no stdout pipe")?;
        let (line_tx, line_rx) = oneshot::channel();
        std::thread::spawn(move || {
            let mut reader = BufReader::new(stdout);
            let mut first = String::new();
            let read = reader.read_line(&mut first).map(|_| first);
            let _ = line_tx.send(read);
            // Keep draining so a chatty child never blocks on a full pipe.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
        });
        let mut server = Self {
            child,
            pid,
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
        };
        let first = match tokio::time::timeout(Duration::from_secs(30), line_rx).await {
            Ok(Ok(Ok(line))) => line,
            Ok(Ok(Err(e))) => {
                server.stop().await;
                return Err(e).context("cannot read the server's first line");
            }
            Ok(Err(_)) | Err(_) => {
                server.stop().await;
                anyhow::bail!("the server did not say where it listens within 30s");
            }
        };
        let Some(addr) = first
            .trim_end()
            .strip_prefix("listening ")
            .and_then(|a| a.parse().ok())
        else {
            server.stop().await;
            anyhow::bail!("unexpected first line from the server: {first:?}");
        };
        server.addr = addr;
        Ok(server)
    }

    /// Closes stdin (the shutdown signal) and waits a bounded time for the
    /// child to exit, then kills it.
    pub(super) async fn stop(&mut self) {
        drop(self.child.stdin.take());
        let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
        let mut tick = tokio::time::interval(Duration::from_millis(50));
        while tokio::time::Instant::now() < deadline {
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            tick.tick().await;
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        // An early return (an error mid-run) must not leave a server behind.
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}
