//! Products, now showing and canned answers end to end: a real hub on
//! 127.0.0.1:0, real WebSocket clients, restarts on the same data dir.

mod support;

use regie::catalogue::ConfiguredProduct;
use regie::protocol::{
    CannedAnswer, ChatMessage, Command, ErrorCode, Event, Product, ServerFrame, StaffRole,
};
use support::client::Client;
use support::hub::TestHub;

fn robe() -> Product {
    Product {
        id: 1,
        name: "Robe Lina".into(),
        price: "49 €".into(),
        link: Some("https://shop.example.com/lina".into()),
    }
}

/// The brand file's showcase: one product for every live, one for
/// another live only, one canned answer.
fn brand(c: &mut regie::hub::HubConfig) {
    c.products = vec![
        ConfiguredProduct {
            live: None,
            product: robe(),
        },
        ConfiguredProduct {
            live: Some("other-show".into()),
            product: Product {
                id: 2,
                name: "Sac Noé".into(),
                price: "89 €".into(),
                link: None,
            },
        },
    ];
    c.canned = vec![CannedAnswer {
        title: "Livraison".into(),
        text: "{first_name}, la livraison est offerte".into(),
    }];
}

fn question(text: &str) -> Command {
    Command::Say {
        text: text.into(),
        question: true,
        announcement: false,
    }
}

async fn message_at(client: &mut Client, seq: u64) -> ChatMessage {
    match client.event_at(seq).await.event {
        Event::Message { message } => message,
        other => panic!("expected a message at {seq}, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn now_showing_reaches_viewers_and_tags_the_questions_asked_meanwhile() {
    let hub = TestHub::start_with(brand).await;
    let mut host = hub.staff(StaffRole::Host, "Claire").await;
    let head = host.welcome.snapshot.as_ref().expect("a snapshot");
    // The brand file's product for every live, not the other live's.
    assert_eq!(head.products, vec![robe()]);
    assert_eq!(head.canned.len(), 1);
    let mut viewer = hub.viewer("Léa").await;
    let vhead = viewer.welcome.snapshot.as_ref().expect("a snapshot");
    assert!(
        vhead.products.is_empty() && vhead.canned.is_empty(),
        "staff only"
    );
    assert_eq!(vhead.now_showing, None);

    // A question before anything shows carries no product.
    let seq = viewer
        .ack(question("Elle existe en 38 ?"))
        .await
        .expect("an event");
    assert_eq!(message_at(&mut host, seq).await.product, None);

    let seq = host
        .ack(Command::NowShowing {
            product_id: Some(1),
        })
        .await
        .expect("an event");
    match viewer.event_at(seq).await.event {
        Event::NowShowing { product } => assert_eq!(product, Some(robe())),
        other => panic!("expected now_showing, got {other:?}"),
    }
    // Showing it again changes nothing.
    assert_eq!(
        host.ack(Command::NowShowing {
            product_id: Some(1)
        })
        .await,
        None
    );

    let seq = viewer.ack(question("Et en 40 ?")).await.expect("an event");
    assert_eq!(message_at(&mut host, seq).await.product, Some(1));
    assert_eq!(message_at(&mut viewer, seq).await.product, Some(1));
    // A console joining later reads the open questions from the store:
    // the tag is there too.
    let late_staff = hub.staff(StaffRole::Host, "Sophie").await;
    let open = &late_staff
        .welcome
        .snapshot
        .as_ref()
        .expect("a snapshot")
        .open_questions;
    let tagged: Vec<(&str, Option<u32>)> =
        open.iter().map(|q| (q.text.as_str(), q.product)).collect();
    assert_eq!(
        tagged,
        [("Elle existe en 38 ?", None), ("Et en 40 ?", Some(1))]
    );
    // A plain chat line is not a question about the product.
    let seq = viewer.say("trop belle").await;
    assert_eq!(message_at(&mut host, seq).await.product, None);

    // A late joiner finds the card in the snapshot's head.
    let late = hub.viewer("Inès").await;
    assert_eq!(
        late.welcome
            .snapshot
            .as_ref()
            .and_then(|s| s.now_showing.clone()),
        Some(robe())
    );

    // Cleared: the next question is untagged.
    let seq = host
        .ack(Command::NowShowing { product_id: None })
        .await
        .expect("an event");
    match viewer.event_at(seq).await.event {
        Event::NowShowing { product } => assert_eq!(product, None),
        other => panic!("expected now_showing, got {other:?}"),
    }
    let seq = viewer.ack(question("Livraison ?")).await.expect("an event");
    assert_eq!(message_at(&mut host, seq).await.product, None);

    // Another live's product is unknown here; a viewer may not show one.
    let refused = host
        .refused(Command::NowShowing {
            product_id: Some(2),
        })
        .await;
    assert_eq!(refused.code, ErrorCode::NotFound);
    let refused = viewer
        .refused(Command::NowShowing {
            product_id: Some(1),
        })
        .await;
    assert_eq!(refused.code, ErrorCode::Forbidden);
    let mut moderator = hub.staff(StaffRole::Moderator, "Marc").await;
    let refused = moderator
        .refused(Command::ProductAdd {
            name: "x".into(),
            price: "1 €".into(),
            link: None,
        })
        .await;
    assert_eq!(refused.code, ErrorCode::Forbidden);
    drop((host, viewer, late, moderator, late_staff));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_products_and_canned_answers_are_refused_with_a_reason() {
    let hub = TestHub::start().await;
    let mut host = hub.staff(StaffRole::Host, "Claire").await;
    for (name, price, link, why) in [
        ("", "1 €", None, "empty"),
        ("Robe", "1 €", Some("javascript:alert(1)"), "http"),
        ("Robe", "1 €", Some("https://x.org/\"><script>"), "control"),
        (&*"x".repeat(200), "1 €", None, "at most 80"),
    ] {
        let refused = host
            .refused(Command::ProductAdd {
                name: name.into(),
                price: price.into(),
                link: link.map(Into::into),
            })
            .await;
        assert_eq!(refused.code, ErrorCode::Invalid, "{name:?} {link:?}");
        assert!(refused.message.contains(why), "{}", refused.message);
    }
    let refused = host
        .refused(Command::CannedAdd {
            title: "Prix".into(),
            text: "{prix}".into(),
        })
        .await;
    assert_eq!(refused.code, ErrorCode::Invalid);
    assert!(refused.message.contains("{prix}"), "{}", refused.message);
    drop(host);
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn canned_answers_reach_staff_only_and_everything_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let hub = TestHub::start_in(dir.path(), brand).await;
    let mut host = hub.staff(StaffRole::Host, "Claire").await;
    let mut second = hub.staff(StaffRole::Moderator, "Marc").await;
    let mut viewer = hub.viewer("Léa").await;

    let seq = host
        .ack(Command::ProductAdd {
            name: "Sac <b>Noé</b>".into(),
            price: "89 €".into(),
            link: Some("https://shop.example.com/noe".into()),
        })
        .await
        .expect("an event");
    let added = match viewer.event_at(seq).await.event {
        Event::ProductAdded { product } => product,
        other => panic!("expected product_added, got {other:?}"),
    };
    assert_eq!(added.id, regie::catalogue::FIRST_ADDED_PRODUCT_ID);
    assert_eq!(added.name, "Sac <b>Noé</b>", "kept as text, never markup");
    host.ack(Command::NowShowing {
        product_id: Some(added.id),
    })
    .await
    .expect("an event");

    viewer
        .ack(question("Il existe en noir ?"))
        .await
        .expect("an event");
    let saved = CannedAnswer {
        title: "Taille".into(),
        text: "{first_name}, la {product} taille grand".into(),
    };
    let seq = host
        .ack(Command::CannedAdd {
            title: saved.title.clone(),
            text: saved.text.clone(),
        })
        .await
        .expect("an event");
    match second.event_at(seq).await.event {
        Event::CannedAdded { canned } => assert_eq!(canned, saved),
        other => panic!("expected canned_added, got {other:?}"),
    }
    // The viewer never gets it: the next event a viewer sees is a later one.
    let marker = viewer.say("coucou").await;
    let seen: Vec<&str> = {
        viewer.event_at(marker).await;
        viewer.events.iter().map(|e| e.event.name()).collect()
    };
    assert!(!seen.contains(&"canned_added"), "{seen:?}");
    // Saving the same answer twice is a no-op.
    assert_eq!(
        host.ack(Command::CannedAdd {
            title: saved.title.clone(),
            text: saved.text.clone(),
        })
        .await,
        None
    );
    drop((host, second, viewer));
    hub.stop().await;

    let hub = TestHub::start_in(dir.path(), brand).await;
    let host = hub.staff(StaffRole::Host, "Claire").await;
    let head = host.welcome.snapshot.expect("a snapshot");
    assert_eq!(head.products, vec![robe(), added.clone()]);
    assert_eq!(head.now_showing, Some(added.clone()));
    assert_eq!(head.canned.len(), 2);
    assert_eq!(head.canned[1], saved);
    let asked: Vec<Option<u32>> = head.open_questions.iter().map(|q| q.product).collect();
    assert_eq!(asked, [Some(added.id)], "the tag survives the restart");
    let viewer = hub.viewer("Inès").await;
    let vhead = viewer.welcome.snapshot.expect("a snapshot");
    assert_eq!(vhead.now_showing, Some(added));
    assert!(vhead.canned.is_empty());
    // A viewer resuming from before the restart does not get canned_added
    // replayed either: only events a viewer may see.
    let mut other = hub.viewer("Marc").await;
    match other
        .command(Command::Say {
            text: "x".into(),
            question: false,
            announcement: false,
        })
        .await
    {
        ServerFrame::Ack { .. } => {}
        f => panic!("expected an ack, got {f:?}"),
    }
    hub.stop().await;
}
