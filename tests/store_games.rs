//! Polls and instant wins in the SQLite store: written with their commit,
//! one vote / one entry per viewer, all or nothing, read back after a
//! reopen, and the secret seed never in what the event log replays.

mod support;

use regie::instant_win::{DrawRecord, Seed};
use regie::protocol::{Actor, DrawView, Event, PollView, StaffRole, Winner};
use regie::store::{Commit, GameWrite, SqliteStore, Store, StoreError};
use support::store::*;

fn host() -> Actor {
    Actor {
        name: Some("Sophie".into()),
        role: StaffRole::Host,
    }
}

fn poll_view() -> PollView {
    PollView {
        id: 1,
        question: "Rouge ou bleu ?".into(),
        options: vec!["Rouge".into(), "Bleu".into()],
        opened_at: T0,
        closes_at: Some(T0 + 60_000),
        audience_at_launch: 12,
        by: host(),
    }
}

fn draw_view(seed: &Seed) -> DrawView {
    DrawView {
        id: 1,
        prize: "Sac".into(),
        winners: 1,
        opened_at: T0,
        closes_at: T0 + 120_000,
        rules: "No purchase necessary.".into(),
        commitment: seed.commitment(),
        redraw_of: None,
        replaces: None,
        by: host(),
    }
}

fn vote(n: u32, option: usize) -> Commit {
    Commit::without_event().with_game(GameWrite::Vote {
        poll_id: 1,
        viewer: viewer(n),
        option,
    })
}

/// Whether `err` is the store refusing a second row for the same viewer
/// (the votes' and entries' primary key), not some other failure.
fn is_one_per_viewer(err: &StoreError) -> bool {
    matches!(
        err,
        StoreError::Db(rusqlite::Error::SqliteFailure(e, _))
            if e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

#[test]
fn games_are_stored_with_their_commit_and_read_back_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let seed = Seed::generate().unwrap();
    let record =
        DrawRecord::close(1, "Sac".into(), 1, &seed, vec![viewer(1), viewer(2)], None).unwrap();
    {
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let head = store.open_live(LIVE).unwrap();
        let mut seq = Sequencer::new(&head);
        let opened = seq.frame(Event::PollOpened { poll: poll_view() });
        store
            .commit(
                LIVE,
                &[Commit::event(opened).with_game(GameWrite::PollOpened { poll: poll_view() })],
            )
            .unwrap();
        store
            .commit(LIVE, &[vote(1, 0), vote(2, 1), vote(3, 1)])
            .unwrap();
        // A second vote by the same viewer is refused, and the whole batch
        // with it: the good vote beside it is not half-written.
        let err = store
            .commit(LIVE, &[vote(4, 0), vote(1, 1)])
            .expect_err("a second vote by the same viewer");
        assert!(is_one_per_viewer(&err), "refused for another reason: {err}");
        let votes = store.games(LIVE).unwrap().polls[0].votes.clone();
        assert_eq!(
            votes.len(),
            3,
            "nothing of the batch was written: {votes:?}"
        );

        let opened = seq.frame(Event::InstantWinOpened {
            draw: draw_view(&seed),
        });
        store
            .commit(
                LIVE,
                &[
                    Commit::event(opened).with_game(GameWrite::InstantWinOpened {
                        draw: draw_view(&seed),
                        seed_hex: seed.to_hex(),
                    }),
                ],
            )
            .unwrap();
        for n in [1, 2] {
            let entry = GameWrite::Entry {
                draw_id: 1,
                viewer: viewer(n),
            };
            store
                .commit(LIVE, &[Commit::without_event().with_game(entry)])
                .unwrap();
        }
        let twice = GameWrite::Entry {
            draw_id: 1,
            viewer: viewer(1),
        };
        let err = store
            .commit(LIVE, &[Commit::without_event().with_game(twice)])
            .expect_err("a second entry by the same viewer");
        assert!(is_one_per_viewer(&err), "refused for another reason: {err}");
        assert_eq!(store.games(LIVE).unwrap().draws[0].entrants.len(), 2);
        // The event log never holds the seed before the draw.
        let replayed = serde_json::to_string(&store.replay(LIVE, 0, 100).unwrap()).unwrap();
        assert!(!replayed.contains(&seed.to_hex()));

        let winners = vec![Winner {
            viewer_id: record.winners[0].clone(),
            first_name: "Julie".into(),
            pseudonym: "#3fa9".into(),
        }];
        store
            .commit(
                LIVE,
                &[Commit::without_event()
                    .with_game(GameWrite::PollClosed {
                        poll_id: 1,
                        closed_at: T0 + 60_000,
                    })
                    .with_game(GameWrite::Drawn {
                        record: record.clone(),
                        winners: winners.clone(),
                        drawn_at: T0 + 120_000,
                    })],
            )
            .unwrap();
    }
    let mut store = SqliteStore::open(dir.path()).unwrap();
    store.open_live(LIVE).unwrap();
    let games = store.games(LIVE).unwrap();
    assert_eq!(games.polls.len(), 1);
    let p = &games.polls[0];
    assert_eq!(p.poll, poll_view());
    assert_eq!(p.closed_at, Some(T0 + 60_000));
    let mut votes = p.votes.clone();
    votes.sort();
    assert_eq!(votes, vec![(viewer(1), 0), (viewer(2), 1), (viewer(3), 1)]);
    let d = &games.draws[0];
    assert_eq!(d.seed_hex, seed.to_hex());
    assert_eq!(d.entrants.len(), 2);
    let result = d.result.as_ref().unwrap();
    assert_eq!(result.record, record);
    assert_eq!(result.drawn_at, T0 + 120_000);
}

/// A cleared poll reads back cleared after a reopen, as launched otherwise.
#[test]
fn a_cleared_poll_reads_back_cleared_after_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    {
        let mut store = SqliteStore::open(dir.path()).unwrap();
        let head = store.open_live(LIVE).unwrap();
        let mut seq = Sequencer::new(&head);
        let opened = seq.frame(Event::PollOpened { poll: poll_view() });
        let writes = [
            Commit::event(opened).with_game(GameWrite::PollOpened { poll: poll_view() }),
            Commit::without_event().with_game(GameWrite::PollClosed {
                poll_id: 1,
                closed_at: T0 + 60_000,
            }),
            Commit::without_event().with_game(GameWrite::PollCleared {
                poll_id: 1,
                cleared_at: T0 + 90_000,
            }),
        ];
        store.commit(LIVE, &writes).unwrap();
    }
    let mut store = SqliteStore::open(dir.path()).unwrap();
    store.open_live(LIVE).unwrap();
    let games = store.games(LIVE).unwrap();
    let p = &games.polls[0];
    assert_eq!(p.poll, poll_view(), "the clear leaves the poll as launched");
    assert_eq!(p.closed_at, Some(T0 + 60_000));
    assert_eq!(p.cleared_at, Some(T0 + 90_000));
}
