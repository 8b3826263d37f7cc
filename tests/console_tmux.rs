//! A person at a terminal: the real `regie demo` binary in a detached tmux
//! session (120×40). Waits for viewers' first names in the feed, answers a
//! question, pins it, redacts a message, and reads the tombstone from the
//! screen. Skips, saying why, when tmux is not installed.

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

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "demo"];
        args.extend_from_slice(keys);
        assert!(self.run(&args).status.success());
    }

    fn text(&self, text: &str) {
        assert!(
            self.run(&["send-keys", "-t", "demo", "-l", text])
                .status
                .success()
        );
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-t", "demo"]).stdout)
            .into_owned()
    }

    /// The screen with wrapped lines joined (for long printed paths).
    fn joined(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p", "-J", "-t", "demo"]).stdout)
            .into_owned()
    }

    /// Polls the screen until `ready` holds; panics with the last screen
    /// after `within`.
    fn wait_for(&self, what: &str, within: Duration, ready: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + within;
        loop {
            let screen = self.screen();
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

/// Feed rows: `┃HH:MM m name text┃` (focused) or with thin borders.
fn feed_rows(screen: &str) -> Vec<&str> {
    screen
        .lines()
        .filter(|l| {
            let rest = l.trim_start_matches(['┃', '│']);
            rest.len() > 5
                && rest.as_bytes()[2] == b':'
                && rest[..2].bytes().all(|b| b.is_ascii_digit())
        })
        .collect()
}

#[test]
fn demo_in_tmux_answer_pin_redact() {
    if Command::new("tmux").arg("-V").output().is_err() {
        eprintln!("SKIPPED: tmux is not installed (the CI script installs it)");
        return;
    }
    let tmux = Tmux {
        socket: format!("regie-test-{}", std::process::id()),
    };
    let bin = env!("CARGO_BIN_EXE_regie");
    // The pane outlives the demo briefly so its last words can be read.
    let command = format!(
        "{bin} demo --as admin --viewers 25 --rate 4 --seed 7; echo DEMO-EXITED $?; sleep 60"
    );
    let out = tmux.run(&[
        "new-session",
        "-d",
        "-s",
        "demo",
        "-x",
        "120",
        "-y",
        "40",
        &command,
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    // Viewers' first names reach the feed, and a question reaches the queue.
    tmux.wait_for("chat and a question", Duration::from_secs(60), |s| {
        s.contains("● Connected")
            && feed_rows(s).len() >= 5
            && s.contains("?  ")
            && !s.contains("no questions yet")
    });

    // Answer the oldest question: Tab to the queue, Enter, type, Enter.
    tmux.keys(&["Tab", "Enter"]);
    tmux.wait_for("the reply line", Duration::from_secs(10), |s| {
        s.contains("↳ ") && s.contains(" › ")
    });
    tmux.text("yes, it comes in 38");
    tmux.keys(&["Enter"]);
    tmux.wait_for("the answer in the feed", Duration::from_secs(15), |s| {
        s.lines()
            .any(|l| l.contains("Alex") && l.contains("yes, it comes in 38"))
    });

    // Pin it (the question is still selected in the queue).
    tmux.keys(&["p"]);
    tmux.wait_for("the pinned card", Duration::from_secs(15), |s| {
        s.contains("pinned by Alex")
    });

    // Redact a viewer's message: back to the feed, select an older line.
    // (The line may be our own answer, which is not redactable: step up
    // until a viewer's line is selected.)
    tmux.keys(&["BTab", "k", "k"]);
    for attempt in 0.. {
        tmux.keys(&["k", "r"]);
        let s = tmux.wait_for(
            "the reason prompt or a refusal",
            Duration::from_secs(10),
            |s| s.contains("Why remove") || s.contains("that is a staff message"),
        );
        if s.contains("Why remove") {
            break;
        }
        assert!(attempt < 5, "no viewer line found:\n{s}");
    }
    tmux.keys(&["Enter"]);
    let confirm = tmux.wait_for("the confirmation", Duration::from_secs(10), |s| {
        s.contains("removed for good")
    });
    assert!(confirm.contains("y redact"), "{confirm}");
    tmux.keys(&["y"]);
    let screen = tmux.wait_for("the tombstone", Duration::from_secs(15), |s| {
        s.contains("removed at the viewer's request · Alex (admin)")
    });
    assert!(
        screen.contains("redacted"),
        "the staff activity records it:\n{screen}"
    );

    // Quit, with confirmation; the demo stops and deletes its data.
    tmux.keys(&["q"]);
    tmux.wait_for("the quit confirmation", Duration::from_secs(10), |s| {
        s.contains("Quit the console?")
    });
    tmux.keys(&["y"]);
    let end = tmux.wait_for("the demo to exit", Duration::from_secs(30), |s| {
        s.contains("DEMO-EXITED")
    });
    assert!(end.contains("DEMO-EXITED 0"), "{end}");
    assert!(end.contains("temporary data deleted"), "{end}");
    let end = tmux.joined();
    let token_file = end
        .split_whitespace()
        .find(|w| w.ends_with("second-console.txt"))
        .expect("the demo names the second console's file");
    assert!(
        !std::path::Path::new(token_file).exists(),
        "{token_file} was deleted"
    );
}
