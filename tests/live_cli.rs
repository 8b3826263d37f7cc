//! `regie live create|list|start|end` on the real binary: on the data dir
//! (also while a hub serves it: the hub finds the new live on the first
//! `hello` that names it) and over the wire with `--hub`; `start` and `end`
//! only through the hub; and with `--store postgres://…` on the lives hub
//! nodes share.

mod support;

use regie::protocol::{Command, ErrorCode, Event, LiveState, StaffRole};
use support::binary::{Ran, run};
use support::client;
use support::hub::BlockingHub;
use support::postgres::TestSchema;
use support::tokens;

fn path(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

fn live(args: &[&str], token: Option<&str>) -> Ran {
    let mut all = vec!["live"];
    all.extend_from_slice(args);
    match token {
        Some(t) => run(&all, &[("REGIE_TOKEN", t)]),
        None => run(&all, &[]),
    }
}

/// The row of `name` in `regie live list`'s table.
fn row<'a>(listed: &'a str, name: &str) -> Option<&'a str> {
    listed
        .lines()
        .find(|l| l.split_whitespace().next() == Some(name))
}

#[test]
fn create_then_list_on_the_data_dir_and_the_running_hub_serves_the_new_live() {
    let hub = BlockingHub::start();
    // Served once a first client is welcome: its live is in the store.
    drop(hub.block_on(hub.viewer("Tom")));
    let data = path(&hub.data_dir).to_owned();
    let ran = live(
        &[
            "create",
            "soldes-hiver",
            "--title",
            "Les soldes \u{1b}[2Jd'hiver",
            "--starts-at",
            "2026-12-24T20:00:00Z",
            "--data",
            &data,
        ],
        None,
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);

    let ran = live(&["list", "--data", &data], None);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let soldes = row(&ran.stdout, "soldes-hiver").expect("the new live is listed");
    assert!(soldes.contains("scheduled"), "{soldes}");
    assert!(soldes.contains("2026-12-24T20:00:00Z"), "{soldes}");
    assert!(
        soldes.contains("d'hiver") && !soldes.contains('\u{1b}'),
        "{soldes}"
    );
    let show = row(&ran.stdout, &hub.live).expect("the hub's live is listed");
    assert!(show.contains("on_air"), "{show}");
    // A title that reached the store by another way is sanitised too.
    let db = rusqlite::Connection::open(hub.data_dir.join(regie::store::DB_FILE)).expect("db");
    db.execute(
        "UPDATE lives SET title = 'x\u{1b}]0;pwned\u{7}y' WHERE name = 'soldes-hiver'",
        [],
    )
    .expect("a raw title");
    drop(db);
    let ran = live(&["list", "--data", &data], None);
    assert!(
        !ran.stdout.contains('\u{1b}') && !ran.stdout.contains('\u{7}'),
        "{:?}",
        ran.stdout
    );

    // The hub, already running, serves the live created beside it.
    let viewer = hub.block_on(hub.join(client::viewer_hello("soldes-hiver", "Julie")));
    let info = viewer.welcome.live_info.clone().expect("the live's state");
    assert_eq!(info.state, LiveState::Scheduled);

    // A taken name or a name that is no name: exit 2.
    let again = live(&["create", "soldes-hiver", "--data", &data], None);
    assert_eq!(again.code, 2, "{}", again.stderr);
    assert!(again.stderr.contains("already exists"), "{}", again.stderr);
    let bad = live(&["create", "*", "--data", &data], None);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    hub.stop();
}

#[test]
fn over_the_wire_an_admin_creates_and_lists_and_a_host_starts_and_ends() {
    let hub = BlockingHub::start();
    let admin = hub.token(StaffRole::Admin, "Nadia");
    let ran = live(
        &["create", "nuit", "--title", "La nuit", "--hub", &hub.url],
        Some(&admin),
    );
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let ran = live(&["list", "--hub", &hub.url], Some(&admin));
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        row(&ran.stdout, "nuit").is_some_and(|r| r.contains("scheduled")),
        "{}",
        ran.stdout
    );

    // A viewer waits in the room; the host's CLI starts and ends the live.
    let mut viewer = hub.block_on(hub.join(client::viewer_hello("nuit", "Julie")));
    let host = tokens::token(&hub.key, StaffRole::Host, "Sophie", "nuit");
    let ran = live(&["start", "nuit", "--hub", &hub.url], Some(&host));
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let ran = live(&["end", "nuit", "--hub", &hub.url], Some(&host));
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    hub.block_on(async {
        viewer
            .wait_event(|e| {
                matches!(
                    e,
                    Event::LiveState {
                        state: LiveState::Ended
                    }
                )
            })
            .await;
        let refused = viewer
            .refused(Command::Say {
                text: "zq-late".into(),
                question: false,
                announcement: false,
            })
            .await;
        assert_eq!(refused.code, ErrorCode::LiveEnded);
    });
    // Only forward: starting it again is refused by the hub (exit 6).
    let ran = live(&["start", "nuit", "--hub", &hub.url], Some(&host));
    assert_eq!(ran.code, 6, "{}", ran.stderr);
    // A moderator may not end a live (exit 6); a host token of another
    // live is refused at the door (exit 4).
    let moderator = tokens::token(&hub.key, StaffRole::Moderator, "Karim", &hub.live);
    let ran = live(&["end", &hub.live, "--hub", &hub.url], Some(&moderator));
    assert_eq!(ran.code, 6, "{}", ran.stderr);
    let ran = live(&["end", &hub.live, "--hub", &hub.url], Some(&host));
    assert_eq!(ran.code, 4, "{}", ran.stderr);
    hub.stop();
}

#[test]
fn start_and_end_on_the_data_dir_are_refused_naming_the_hub() {
    let dir = tempfile::tempdir().expect("a temp dir");
    for verb in ["start", "end"] {
        let ran = live(&[verb, "show", "--data", path(dir.path())], None);
        assert_eq!(ran.code, 2, "{}", ran.stderr);
        assert!(ran.stderr.contains("--hub"), "{}", ran.stderr);
    }
    let ran = live(&["list", "--data", path(&dir.path().join("none"))], None);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    let ran = run(&["live", "--help"], &[]);
    for verb in ["create", "list", "start", "end"] {
        assert!(ran.stdout.contains(verb), "{}", ran.stdout);
    }
}

/// `--store postgres://…`: create and list act on the lives hub nodes
/// share, the row a node reads; a taken name and a bad `--store` are usage
/// errors (exit 2).
#[test]
fn create_then_list_on_the_store_hub_nodes_share() {
    use regie::store::Store;
    let Some(db) = TestSchema::new() else {
        return;
    };
    let data = tempfile::tempdir().expect("a data dir for the keys");
    let (url, data) = (db.url(), path(data.path()).to_owned());
    let create = [
        "create",
        "soldes-nuit",
        "--title",
        "Soldes de nuit",
        "--starts-at",
        "2026-12-24T20:00:00Z",
        "--store",
        &url,
        "--data",
        &data,
    ];
    let ran = live(&create, None);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let ran = live(&["list", "--store", &url, "--data", &data], None);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    let listed = row(&ran.stdout, "soldes-nuit").expect("the new live is listed");
    assert!(
        listed.contains("scheduled") && listed.contains("2026-12-24T20:00:00Z"),
        "{listed}"
    );

    let info = db
        .store()
        .live_info("soldes-nuit")
        .expect("read the live")
        .expect("the live is in PostgreSQL");
    assert_eq!(
        (info.title.as_str(), info.state),
        ("Soldes de nuit", LiveState::Scheduled)
    );

    let again = live(&create, None);
    assert_eq!(again.code, 2, "a taken name: {}", again.stderr);
    let bad = live(&["list", "--store", "mysql://x", "--data", &data], None);
    assert_eq!(bad.code, 2, "{}", bad.stderr);
    assert!(bad.stderr.contains("--store"), "{}", bad.stderr);
}
