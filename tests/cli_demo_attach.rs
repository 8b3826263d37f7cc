//! `regie demo`'s second console, as a newcomer after `cargo run` uses it:
//! no `regie` on the `PATH`. The real binary runs in a detached tmux
//! session; the attach command the demo wrote is pasted into a second
//! session as is, and that console connects. Skips, saying why, when tmux
//! is not installed.

use std::process::Command;
use std::time::{Duration, Instant};

struct Tmux {
    socket: String,
}

impl Tmux {
    fn run(&self, args: &[&str]) -> std::process::Output {
        Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .expect("tmux runs")
    }

    fn start(&self, session: &str, command: &str) {
        let out = self.run(&[
            "new-session",
            "-d",
            "-s",
            session,
            "-x",
            "120",
            "-y",
            "40",
            command,
        ]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn keys(&self, session: &str, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", session];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success());
    }

    /// The screen with wrapped lines joined (for long printed paths).
    fn screen(&self, session: &str) -> String {
        String::from_utf8_lossy(
            &self
                .run(&["capture-pane", "-p", "-J", "-t", session])
                .stdout,
        )
        .into_owned()
    }

    /// Polls the screen until `ready` holds; panics with the last screen
    /// after `within`.
    fn wait_for(
        &self,
        session: &str,
        what: &str,
        within: Duration,
        ready: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + within;
        loop {
            let screen = self.screen(session);
            if ready(&screen) {
                return screen;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; screen:\n{screen}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

#[test]
fn the_demos_attach_command_runs_this_binary_and_connects() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("SKIPPED: tmux is not installed (the CI script installs it)");
        return;
    }
    let tmux = Tmux {
        socket: format!("regie-attach-{}", std::process::id()),
    };
    let bin = env!("CARGO_BIN_EXE_regie");
    // The demo's temporary directory is made here, where the test finds it.
    let tmp = tempfile::tempdir().unwrap();
    let tmpdir = tmp.path().display();
    tmux.start(
        "demo",
        &format!(
            "TMPDIR={tmpdir} {bin} demo --viewers 3 --rate 1 --seed 3; \
             echo DEMO-EXITED $?; sleep 60"
        ),
    );
    tmux.wait_for("demo", "the demo", Duration::from_secs(60), |s| {
        s.contains("● Connected") && s.contains("second console: see")
    });
    let demo_dir = std::fs::read_dir(tmp.path())
        .unwrap()
        .map_while(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with("regie-demo-"))
        .expect("the demo's temporary directory");
    let text = std::fs::read_to_string(demo_dir.path().join("second-console.txt"))
        .expect("the second console's file");
    let attach = text
        .lines()
        .find_map(|l| l.strip_prefix("#   "))
        .unwrap_or_else(|| panic!("no attach command in:\n{text}"));
    assert!(
        attach.contains(&format!("{bin} console --url ws://127.0.0.1:")),
        "the attach command runs this binary: {attach}"
    );

    // Pasted as is, in a shell whose PATH has no `regie`, it connects.
    tmux.start(
        "second",
        &format!("PATH=/usr/bin:/bin; {attach}; echo SECOND-EXITED $?; sleep 60"),
    );
    let second = tmux.wait_for(
        "second",
        "the second console",
        Duration::from_secs(30),
        |s| s.contains("● Connected") || s.contains("SECOND-EXITED"),
    );
    assert!(second.contains("● Connected"), "{second}");

    for session in ["second", "demo"] {
        tmux.keys(session, &["q"]);
        tmux.wait_for(
            session,
            "the quit confirmation",
            Duration::from_secs(10),
            |s| s.contains("Quit the console?"),
        );
        tmux.keys(session, &["y"]);
    }
    let end = tmux.wait_for("demo", "the demo to exit", Duration::from_secs(30), |s| {
        s.contains("DEMO-EXITED")
    });
    assert!(end.contains("DEMO-EXITED 0"), "{end}");
}
