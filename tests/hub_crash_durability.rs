//! `kill -9` of the real `regie serve` mid-stream loses no acked message.
//!
//! The hub acks a command only after the transaction that holds it has
//! committed (group commit: one transaction per window, acks after it), and
//! SQLite in WAL mode with `synchronous=NORMAL` has a committed transaction
//! in the log before `commit` returns, so a process crash keeps it. This
//! test is the claim as an operator would check it: staff and viewers post
//! as fast as the hub answers, the hub is killed with SIGKILL while
//! commands are in flight, and the restarted hub on the same data dir
//! replays every acked message at the seq its ack named, with its text, in
//! one gapless stream.

mod support;

use std::collections::{BTreeMap, HashMap};

use futures_util::SinkExt;
use regie::protocol::{
    ClientFrame, Command, CommandFrame, CommandId, Epoch, Event, Resume, Seq, ServerFrame,
    StaffRole,
};
use support::binary::Served;
use support::client::{Client, Incoming, read_frame, staff_hello, text_message, viewer_hello};
use support::tokens::{signing_key, token};
use tokio::sync::mpsc;

const LIVE: &str = "show";
/// Commands each sender keeps in flight, so that when the kill lands the
/// hub holds commands it has read but not committed, and commits it has
/// not acked yet.
const IN_FLIGHT: usize = 8;
/// Acks the test collects before it kills the hub.
const ACKS_BEFORE_KILL: usize = 600;

/// One acked message: who sent it, its text, and the seq its ack named.
#[derive(Debug)]
struct Acked {
    sender: String,
    text: String,
    seq: Seq,
}

/// The brand file: viewers may post as fast as staff (the default limit of
/// one message a second would make them bystanders).
const BRAND: &str = "[live]\nviewer_rate_per_sec = 1000\nviewer_burst = 10000\n";

fn url_of(serve: &Served) -> String {
    loop {
        let line = serve
            .line(support::hub::TIMEOUT)
            .expect("serve says where it listens");
        if let Some(url) = line.split_whitespace().find(|w| w.starts_with("ws://")) {
            return url.to_string();
        }
    }
}

/// Posts numbered lines, `IN_FLIGHT` unanswered at a time, until the hub
/// goes away; every ack goes to `acks`.
async fn post_until_gone(mut client: Client, who: String, acks: mpsc::UnboundedSender<Acked>) {
    let mut unanswered: HashMap<String, String> = HashMap::new();
    let mut n = 0u64;
    loop {
        while unanswered.len() < IN_FLIGHT {
            let id = format!("{who}-{n}");
            let text = format!("{who} dit bonjour, ligne {n}");
            let frame = ClientFrame::Command(CommandFrame {
                id: CommandId(id.clone()),
                command: Command::Say {
                    text: text.clone(),
                    question: false,
                    announcement: false,
                },
            });
            if client.ws.send(text_message(&frame)).await.is_err() {
                return;
            }
            unanswered.insert(id, text);
            n += 1;
        }
        match read_frame(&mut client.ws).await {
            Incoming::Frame(ServerFrame::Ack { id, seq }) => {
                if let Some(text) = unanswered.remove(&id.0) {
                    let seq = seq.expect("a chat line's ack names its event");
                    let _ = acks.send(Acked {
                        sender: who.clone(),
                        text,
                        seq,
                    });
                }
            }
            // Refused (not acked): nothing is promised about it.
            Incoming::Frame(ServerFrame::Error(e)) => {
                if let Some(id) = e.id {
                    unanswered.remove(&id.0);
                }
            }
            Incoming::Frame(_) => {}
            Incoming::Closed(_) => return,
        }
    }
}

/// Joins two staff members and two viewers, has them post until
/// `ACKS_BEFORE_KILL` acks came, then `kill -9`s the hub while they are
/// still posting. Returns every ack they got and the live's epoch.
async fn post_then_kill_9(
    serve: &mut Served,
    key: &regie::auth::SigningKey,
) -> (Vec<Acked>, Epoch) {
    let url = url_of(serve);
    let hellos = [
        (
            "host",
            staff_hello(LIVE, &token(key, StaffRole::Host, "Hana", LIVE)),
        ),
        (
            "moderator",
            staff_hello(LIVE, &token(key, StaffRole::Moderator, "Mo", LIVE)),
        ),
        ("julie", viewer_hello(LIVE, "Julie")),
        ("karim", viewer_hello(LIVE, "Karim")),
    ];
    let (acks_tx, mut acks_rx) = mpsc::unbounded_channel();
    let mut epoch = None;
    let mut senders = Vec::new();
    for (who, hello) in hellos {
        let client = Client::try_join(&url, hello)
            .await
            .unwrap_or_else(|c| panic!("{who} could not join: {}", c.message()));
        epoch.get_or_insert_with(|| client.welcome.epoch.clone());
        senders.push(tokio::spawn(post_until_gone(
            client,
            who.to_string(),
            acks_tx.clone(),
        )));
    }
    drop(acks_tx);
    let epoch = epoch.expect("someone joined");

    // Mid-stream: the senders are still posting when the hub dies.
    let mut acked = Vec::new();
    while acked.len() < ACKS_BEFORE_KILL {
        let ack = tokio::time::timeout(support::hub::TIMEOUT, acks_rx.recv())
            .await
            .expect("acks keep coming")
            .expect("the senders are still posting");
        acked.push(ack);
    }
    let status = serve.kill_9();
    assert!(
        !status.success(),
        "serve was killed, not stopped: {status:?}"
    );
    for s in senders {
        tokio::time::timeout(support::hub::TIMEOUT, s)
            .await
            .expect("every sender sees the hub go")
            .expect("a sender task ended cleanly");
    }
    // Acks that were on their way when the hub died count too.
    while let Some(ack) = acks_rx.recv().await {
        acked.push(ack);
    }
    (acked, epoch)
}

/// A staff client on the restarted hub at `url` that resumed from the very
/// start of `epoch` and read the replay up to the welcome's head.
async fn replay_from_start(url: &str, key: &regie::auth::SigningKey, epoch: &Epoch) -> Client {
    let mut hello = staff_hello(LIVE, &token(key, StaffRole::Moderator, "Mo", LIVE));
    hello.resume = Some(Resume {
        epoch: epoch.clone(),
        seq: 0,
    });
    let mut reader = Client::try_join(url, hello)
        .await
        .unwrap_or_else(|c| panic!("the reader could not join: {}", c.message()));
    assert!(
        reader.welcome.resumed && reader.welcome.epoch == *epoch,
        "the restarted hub lost history (epoch {:?} → {:?}, reload {:?})",
        epoch,
        reader.welcome.epoch,
        reader.reload
    );
    // The replay ends at the welcome's head.
    reader.event_at(reader.welcome.seq).await;
    reader
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acked_message_survives_a_kill_9_of_the_hub_with_no_gap() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let brand = dir.path().join("brand.toml");
    std::fs::write(&brand, BRAND).unwrap();
    let brand = brand.display().to_string();
    let flags = ["--live", LIVE, "--config", &brand];
    let key = signing_key(&data);
    let mut serve = Served::start(&data, "warn", &flags);
    let (acked, epoch) = post_then_kill_9(&mut serve, &key).await;
    let by_seq: BTreeMap<Seq, &Acked> = acked.iter().map(|a| (a.seq, a)).collect();
    assert_eq!(by_seq.len(), acked.len(), "two acks named the same seq");
    for who in ["host", "moderator", "julie", "karim"] {
        assert!(
            acked.iter().any(|a| a.sender == who),
            "{who} had nothing acked: the test did not load every kind of client"
        );
    }

    // The same data dir, a new process: a staff client resumes from the
    // very start and gets the whole stream replayed.
    let serve = Served::start(&data, "warn", &flags);
    let reader = replay_from_start(&url_of(&serve), &key, &epoch).await;
    let head = reader.welcome.seq;
    let last_acked = *by_seq.keys().next_back().expect("acks");
    assert!(
        head >= last_acked,
        "head {head} is behind acked seq {last_acked}"
    );
    let replayed: Vec<Seq> = reader.events.iter().map(|e| e.seq).collect();
    let expected: Vec<Seq> = (1..=head).collect();
    assert_eq!(
        replayed, expected,
        "the replayed stream has a gap or a duplicate"
    );
    let texts: HashMap<Seq, &str> = reader
        .events
        .iter()
        .filter_map(|e| match &e.event {
            Event::Message { message } => Some((e.seq, message.text.as_str())),
            _ => None,
        })
        .collect();
    let lost: Vec<String> = acked
        .iter()
        .filter(|a| texts.get(&a.seq) != Some(&a.text.as_str()))
        .map(|a| format!("{} at seq {}: {:?}", a.text, a.seq, texts.get(&a.seq)))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acked messages are not in the replay as acked: {lost:?}",
        lost.len(),
        acked.len()
    );
    drop(serve);
}
