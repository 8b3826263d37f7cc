//! Issue 9, "Rectify" in the console: a `viewer_rectified` event relabels
//! the viewer's lines everywhere the console shows them (feed, questions,
//! the answers addressed to them) and nobody else's, and the screen shows
//! the corrected name (snapshots at 80×24 and 160×48).

mod support;

use regie::console::state::Msg;
use regie::protocol::*;
use support::console::*;

fn rectified(seq: Seq, viewer: &str, first_name: &str) -> Msg {
    Msg::Frame(event(
        seq,
        NOON + 30 * 60_000,
        Event::ViewerRectified {
            viewer_id: ViewerId(viewer.into()),
            first_name: Some(first_name.into()),
            pseudonym: None,
            by: actor("Sam", StaffRole::Support),
        },
    ))
}

fn first_name(author: &Author) -> &str {
    match author {
        Author::Viewer { first_name, .. } => first_name,
        Author::Staff { name, .. } => name,
    }
}

#[test]
fn a_rectification_relabels_the_viewers_lines_and_the_answers_to_them() {
    let mut c = show(StaffRole::Host);
    let seq = c.seq + 1;
    let before = c
        .feed
        .get(MessageId(2))
        .expect("julie's question")
        .revision();
    feed(&mut c, [rectified(seq, "v-julie-1", "Juliette")]);

    let q = c.feed.message(MessageId(2)).expect("julie's question");
    assert_eq!(first_name(&q.author), "Juliette");
    assert_ne!(
        c.feed
            .get(MessageId(2))
            .map(regie::console::feed::FeedEntry::revision),
        Some(before),
        "a relabelled line is wrapped again"
    );
    let answer = c.feed.message(MessageId(10)).expect("the host's answer");
    assert_eq!(
        answer.reply_to.as_ref().map(|r| r.first_name.as_str()),
        Some("Juliette")
    );
    let queued = c.questions.iter().find(|m| m.id == MessageId(2));
    assert_eq!(queued.map(|m| first_name(&m.author)), Some("Juliette"));
    // The other Julie is somebody else.
    let other = c.feed.message(MessageId(4)).expect("the other julie");
    assert_eq!(first_name(&other.author), "Julie");
}

#[test]
fn the_feed_shows_the_corrected_name() {
    let mut c = show(StaffRole::Host);
    let seq = c.seq + 1;
    feed(&mut c, [rectified(seq, "v-marc", "Marc-Antoine")]);
    for (w, h) in [(80, 24), (160, 48)] {
        let screen = render(&mut c, w, h);
        // The name column may cut it short on a narrow screen.
        assert!(screen.contains("Marc-Ant"), "{screen}");
        assert!(!screen.contains(" Marc "), "{screen}");
        insta::assert_snapshot!(format!("rectified_feed_{w}x{h}"), screen);
    }
}
