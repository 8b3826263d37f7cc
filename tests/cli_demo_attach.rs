//! `regie demo`'s second console, as a newcomer after `cargo run` uses it:
//! no `regie` on the `PATH`. The real binary runs in a detached tmux
//! session; the attach command the demo wrote is pasted into a second
//! session as is, and that console connects. Skips, saying why, when tmux
//! is not installed (and fails under CI, which installs it).

mod support;

use std::time::Duration;

use support::tmux::{Tmux, tmux_is_installed};

#[test]
fn the_demos_attach_command_runs_this_binary_and_connects() {
    if !tmux_is_installed() {
        return;
    }
    let tmux = Tmux::new("regie-attach");
    let bin = env!("CARGO_BIN_EXE_regie");
    // The demo's temporary directory is made here, where the test finds it.
    let tmp = tempfile::tempdir().unwrap();
    let tmpdir = tmp.path().display();
    tmux.start(
        "demo",
        (120, 40),
        &format!(
            "TMPDIR={tmpdir} {bin} demo --viewers 3 --rate 1 --seed 3; \
             echo DEMO-EXITED $?; sleep 60"
        ),
    );
    tmux.wait_for_joined("demo", "the demo", Duration::from_secs(60), |s| {
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

    // The help popup keeps the command within reach, with this binary.
    tmux.keys("demo", &["?"]);
    let help = tmux.wait_for_joined("demo", "the help popup", Duration::from_secs(10), |s| {
        s.contains("A second console, in another terminal:")
    });
    assert!(help.contains(bin), "the help names this binary: {help}");
    assert!(help.contains("second-console.txt"), "{help}");
    tmux.keys("demo", &["Escape"]);
    tmux.wait_for_joined("demo", "the help to close", Duration::from_secs(10), |s| {
        !s.contains("A second console, in another terminal:")
    });

    // Pasted as is, in a shell whose PATH has no `regie`, it connects.
    tmux.start(
        "second",
        (120, 40),
        &format!("PATH=/usr/bin:/bin; {attach}; echo SECOND-EXITED $?; sleep 60"),
    );
    let second = tmux.wait_for_joined(
        "second",
        "the second console",
        Duration::from_secs(30),
        |s| s.contains("● Connected") || s.contains("SECOND-EXITED"),
    );
    assert!(second.contains("● Connected"), "{second}");

    for session in ["second", "demo"] {
        tmux.keys(session, &["q"]);
        tmux.wait_for_joined(
            session,
            "the quit confirmation",
            Duration::from_secs(10),
            |s| s.contains("Quit the console?"),
        );
        tmux.keys(session, &["y"]);
    }
    let end = tmux.wait_for_joined("demo", "the demo to exit", Duration::from_secs(30), |s| {
        s.contains("DEMO-EXITED")
    });
    assert!(end.contains("DEMO-EXITED 0"), "{end}");
}
