//! The command line as a person meets it, on the real `regie` binary: bad
//! arguments exit 2 before anything starts, `regie token` never makes a
//! key of its own, the console and the demo say when there is no terminal,
//! an error says each cause once, `serve` says "serving" only when ready,
//! and logs carry no colour codes when redirected.

mod support;

use std::path::Path;

use regie::protocol::StaffRole;
use support::binary::{Served, run as regie};
use support::hub::{BlockingHub, ClosedPort, TIMEOUT};
use support::tokens;

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

#[test]
fn token_with_a_wrong_data_dir_refuses_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let typo = dir.path().join("regie-dat");
    let ran = regie(
        &[
            "token",
            "--role",
            "host",
            "--name",
            "Claire",
            "--data",
            path(&typo),
        ],
        &[],
    );
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stdout.is_empty(), "no token is printed: {}", ran.stdout);
    let key_path = typo.join("token.key");
    assert!(
        ran.stderr.contains(path(&key_path)),
        "names the key's path: {}",
        ran.stderr
    );
    assert!(
        ran.stderr
            .contains(&format!("start `regie serve --data {}` first", path(&typo))),
        "{}",
        ran.stderr
    );
    assert!(!typo.exists(), "no directory was created");

    // An existing directory without a key gets no key either.
    let ran = regie(
        &[
            "token",
            "--role",
            "host",
            "--name",
            "Claire",
            "--data",
            path(dir.path()),
        ],
        &[],
    );
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(!dir.path().join("token.key").exists(), "no key was created");
}

#[test]
fn token_ttl_is_capped_at_seven_days_unless_the_brand_says_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    tokens::signing_key(dir.path());
    let data = path(dir.path());
    let mint = |ttl: &str, env: &[(&str, &str)]| {
        regie(
            &[
                "token", "--role", "host", "--name", "Claire", "--data", data, "--ttl", ttl,
            ],
            env,
        )
    };

    let ran = mint("10000d", &[]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(ran.stdout.is_empty(), "{}", ran.stdout);
    assert!(
        ran.stderr
            .contains("longer than the longest allowed, 7days"),
        "{}",
        ran.stderr
    );

    let ran = mint("7d", &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(ran.stdout.starts_with("regie1."), "{}", ran.stdout);

    // The brand's cap, from the environment, both ways.
    let ran = mint("2h", &[("REGIE_TOKEN_MAX_TTL", "1h")]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    let ran = mint("30d", &[("REGIE_TOKEN_MAX_TTL", "90d")]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
}

#[test]
fn bad_arguments_exit_2_before_anything_starts() {
    let dir = tempfile::tempdir().unwrap();
    tokens::signing_key(dir.path());
    let held = ClosedPort::bind();
    let port = held.addr.port();
    let url = format!("ws://127.0.0.1:{port}");

    let ran = regie(
        &[
            "token",
            "--role",
            "host",
            "--name",
            "",
            "--data",
            path(dir.path()),
        ],
        &[],
    );
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("the staff name is empty"),
        "{}",
        ran.stderr
    );

    let ran = regie(
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--live",
            "",
            "--data",
            path(&dir.path().join("d")),
        ],
        &[],
    );
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("--live must name a live"),
        "{}",
        ran.stderr
    );
    assert!(!dir.path().join("d").exists(), "nothing was opened");

    for (flag, value, why) in [
        ("--rate", "0", "rate must be a positive number"),
        ("--viewers", "0", "at least one viewer is needed"),
    ] {
        let ran = regie(&["crowd", "--url", &url, flag, value], &[]);
        assert_eq!(ran.code, 2, "crowd {flag} {value}: {}", ran.stderr);
        assert!(ran.stderr.contains(why), "{}", ran.stderr);
    }

    // The demo refuses what the crowd refuses, before its hub starts (and
    // before it looks for a terminal). Its temporary data would be in
    // TMPDIR: nothing is made there.
    let tmp = tempfile::tempdir().unwrap();
    for (arg, why) in [
        ("--rate=-1", "rate must be a positive number, got -1"),
        ("--viewers=0", "at least one viewer is needed"),
    ] {
        let ran = regie(&["demo", arg], &[("TMPDIR", path(tmp.path()))]);
        assert_eq!(ran.code, 2, "demo {arg}: {}", ran.stderr);
        assert!(ran.stderr.contains(why), "demo {arg}: {}", ran.stderr);
        assert!(!ran.stderr.contains("hub on"), "{}", ran.stderr);
    }
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
}

#[test]
fn the_demo_without_a_terminal_says_so_before_starting_a_hub() {
    let tmp = tempfile::tempdir().unwrap();
    let ran = regie(&["demo", "--viewers", "3"], &[("TMPDIR", path(tmp.path()))]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains("needs an interactive terminal"),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains("os error"), "{}", ran.stderr);
    assert!(
        !ran.stderr.contains("hub on"),
        "no hub started: {}",
        ran.stderr
    );
    assert_eq!(
        std::fs::read_dir(tmp.path()).unwrap().count(),
        0,
        "no temporary data was made"
    );
}

#[test]
fn the_console_joins_its_tokens_live_and_says_it_needs_a_terminal() {
    let hub = BlockingHub::start_with(|config| config.live = "spring-sale".into());
    let token = tokens::token(&hub.key, StaffRole::Host, "Claire", "spring-sale");
    // No --live: the token's live is joined (not "show", which this hub
    // would refuse with exit 4), so the console gets as far as wanting
    // the terminal, and there is none.
    let ran = regie(&["console", "--url", &hub.url], &[("REGIE_TOKEN", &token)]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains("the console needs an interactive terminal"),
        "{}",
        ran.stderr
    );
    assert!(!ran.stderr.contains("os error"), "{}", ran.stderr);
    assert!(!ran.stderr.contains(&token), "the token was printed");

    // An explicit --live still wins, and the hub refuses it.
    let ran = regie(
        &["console", "--url", &hub.url, "--live", "show"],
        &[("REGIE_TOKEN", &token)],
    );
    assert_eq!(ran.code, 4, "{}", ran.stderr);
    hub.stop();
}

#[test]
fn an_error_says_each_cause_once() {
    let held = ClosedPort::bind();
    let port = held.addr.port();
    let url = format!("ws://127.0.0.1:{port}");
    let ran = regie(
        &["crowd", "--url", &url, "--viewers", "1", "--duration", "5s"],
        &[("RUST_LOG", "off")],
    );
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    let error = ran
        .stderr
        .lines()
        .find(|l| l.starts_with("regie:"))
        .unwrap_or_else(|| panic!("no error line: {}", ran.stderr));
    assert!(
        error.contains(&format!("cannot reach the hub at {url}")),
        "{error}"
    );
    assert_eq!(error.matches("Connection refused").count(), 1, "{error}");
    assert_eq!(error.matches("cannot connect").count(), 1, "{error}");
}

#[test]
fn serve_does_not_say_serving_when_it_cannot_open_its_data_dir() {
    let dir = tempfile::tempdir().unwrap();
    // A file where the data dir should be.
    let data = dir.path().join("not-a-dir");
    std::fs::write(&data, "").unwrap();
    let ran = regie(
        &["serve", "--listen", "127.0.0.1:0", "--data", path(&data)],
        &[("RUST_LOG", "off")],
    );
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert!(!ran.stderr.contains("serving"), "{}", ran.stderr);
    assert!(
        ran.stderr
            .contains(&format!("cannot open the data dir {}", path(&data))),
        "{}",
        ran.stderr
    );

    // A port already taken: one error, no "serving".
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let ran = regie(
        &[
            "serve",
            "--listen",
            &addr,
            "--data",
            path(&dir.path().join("d")),
        ],
        &[("RUST_LOG", "off")],
    );
    assert_eq!(ran.code, 1, "{}", ran.stderr);
    assert!(!ran.stderr.contains("serving"), "{}", ran.stderr);
    assert!(
        ran.stderr.contains(&format!("cannot listen on {addr}")),
        "{}",
        ran.stderr
    );
}

#[test]
fn redirected_logs_carry_no_colour_codes() {
    let dir = tempfile::tempdir().unwrap();
    let serve = Served::start(dir.path(), "info", &[]);
    // Key creation is logged before "serving"; the hub logs once open.
    let mut lines = Vec::new();
    while !lines
        .iter()
        .any(|l: &String| l.contains("live session open"))
    {
        let Some(line) = serve.line(TIMEOUT) else {
            panic!("serve did not log its start: {lines:#?}");
        };
        lines.push(line);
    }
    serve.interrupt();
    assert!(
        lines.iter().any(|l| l.contains(" INFO ")),
        "the log is there: {lines:#?}"
    );
    let serving = lines.iter().position(|l| l.starts_with("regie: serving"));
    let created = lines
        .iter()
        .position(|l| l.contains("created a new secret key file"));
    assert!(
        matches!((created, serving), (Some(c), Some(s)) if c < s),
        "serving is said after the data dir is open: {lines:#?}"
    );
    for line in &lines {
        assert!(!line.contains('\u{1b}'), "colour codes in {line:?}");
    }
}

#[test]
fn bench_console_help_shows_its_flags() {
    let ran = regie(&["bench", "console", "--help"], &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    for flag in [
        "--rate",
        "--duration",
        "--retained",
        "--width",
        "--height",
        "--fps",
    ] {
        assert!(ran.stdout.contains(flag), "{flag} missing:\n{}", ran.stdout);
    }
    assert!(
        ran.stdout.contains("Messages kept in the feed")
            && ran.stdout.contains("Width of the simulated terminal"),
        "{}",
        ran.stdout
    );
    assert!(!ran.stdout.contains("--help`)"), "{}", ran.stdout);
    // A bad flag is a usage error.
    let ran = regie(&["bench", "console", "--no-such-flag"], &[]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
}

/// `serve` refuses each of its key files when others can read it, naming the
/// file and the fix, and exits before it serves; a normal start leaves all
/// three keys in the data dir, readable by the owner only.
#[test]
fn serve_refuses_a_key_file_others_can_read_and_creates_its_keys_0600() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let serve = Served::start(dir.path(), "info", &[]);
    while serve
        .line(TIMEOUT)
        .is_some_and(|l| !l.contains("live session open"))
    {}
    serve.interrupt();
    drop(serve);
    for key in ["token.key", "contact.key", "viewer-id.key"] {
        let mode = std::fs::metadata(dir.path().join(key))
            .unwrap_or_else(|e| panic!("{key} after start-up: {e}"))
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{key}: mode {mode:o}");
    }
    for key in ["token.key", "contact.key", "viewer-id.key"] {
        let file = dir.path().join(key);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        let ran = regie(
            &[
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--data",
                path(dir.path()),
            ],
            &[],
        );
        assert_ne!(ran.code, 0, "{key} readable by others: {}", ran.stderr);
        assert!(ran.stderr.contains(key), "{key}: {}", ran.stderr);
        assert!(ran.stderr.contains("chmod 600"), "{key}: {}", ran.stderr);
        assert!(!ran.stderr.contains("serving"), "{key}: {}", ran.stderr);
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

/// `regie bench hub` refuses bad arguments with exit 2, before it starts a
/// server (a started bench would print its header on stdout).
#[test]
fn bench_hub_refuses_bad_arguments_with_exit_2() {
    for (args, why) in [
        (&["--rate", "0"][..], "--rate must be a positive number"),
        (&["--rate=-3"][..], "--rate must be a positive number"),
        (&["--senders", "0"][..], "--senders must be at least 1"),
        (&["--viewers", "0"][..], "--viewers needs at least one"),
        (&["--repeat", "0"][..], "--repeat must be at least 1"),
        (
            &["--rate", "200", "--max-rate", "100"][..],
            "--max-rate must be at least",
        ),
        (
            &["--send-queue", "0"][..],
            "--send-queue must be at least 1",
        ),
    ] {
        let ran = regie(&[&["bench", "hub"][..], args].concat(), &[]);
        assert_eq!(ran.code, 2, "bench hub {args:?}: {}", ran.stderr);
        assert!(ran.stderr.contains(why), "{args:?}: {}", ran.stderr);
        assert!(ran.stdout.is_empty(), "nothing started: {}", ran.stdout);
    }
}

/// `regie bench hub` end to end on a tiny config: both servers searched
/// (two rates each, no bisection), every trial reported with its delivery
/// counts and resource figures, then the capacity table and the hub/bare
/// ratio, then the ingest phase's line. Nothing here depends on the
/// figures themselves.
#[test]
fn bench_hub_runs_a_tiny_capacity_search_and_prints_its_figures() {
    let ran = regie(
        &[
            "bench",
            "hub",
            "--viewers",
            "12",
            "--staff",
            "1",
            "--senders",
            "2",
            "--rate",
            "10",
            "--max-rate",
            "20",
            "--steps",
            "0",
            "--duration",
            "300ms",
            "--drain",
            "3s",
            "--probe-every",
            "3",
            // The default phases, the ingest one kept small.
            "--ingest-messages",
            "200",
            "--ingest-rate",
            "500",
        ],
        &[],
    );
    assert_eq!(
        ran.code, 0,
        "stdout: {}\nstderr: {}",
        ran.stdout, ran.stderr
    );
    let out = &ran.stdout;
    assert!(
        out.contains("hub send queue 1024 frames (production)"),
        "{out}"
    );
    let ingest = out
        .lines()
        .find(|l| l.starts_with("ingest: 200 lines offered at 500/s by 4 staff senders"))
        .unwrap_or_else(|| panic!("no ingest line: {out}"));
    for figure in [
        "commit window 5ms (default)",
        "200 accepted, 0 refused, 0 unanswered, reader got 200",
        "CPU-s per 100k ingested messages",
        "µs of hub CPU per message",
    ] {
        assert!(ingest.contains(figure), "{figure} missing: {ingest}");
    }
    for target in ["bare", "hub"] {
        let trials: Vec<&str> = out
            .lines()
            .filter(|l| {
                l.trim_start()
                    .starts_with(&format!("{target}    12 viewers"))
            })
            .collect();
        assert!(!trials.is_empty(), "no {target} trial: {out}");
        for t in &trials {
            for figure in [
                "delivered ",
                "viewer p50",
                "staff p99",
                "B/delivery",
                "peak",
                "bottleneck: ",
                "CPU-s per million deliveries",
            ] {
                assert!(t.contains(figure), "{figure} missing: {t}");
            }
        }
        assert!(
            out.lines()
                .any(|l| l.starts_with(&format!("| 12 | {target} |"))),
            "no {target} capacity row: {out}"
        );
    }
    assert!(out.contains("capacity (highest carried rate"), "{out}");
    assert!(
        out.contains("| viewers | server | capacity lines/s |"),
        "{out}"
    );
    assert!(out.contains("12 viewers: hub/bare capacity "), "{out}");
}
