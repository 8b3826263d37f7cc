//! Issue 9, defect 3: contact data can be withdrawn, and none is stored
//! without a consent it is collected for. Against a real hub; the data dir
//! is then read as bytes (database, WAL, shared memory; UTF-8 and UTF-16)
//! for the values and for their seals (whoever holds the data dir holds
//! `contact.key` too, so a seal left behind is the value left behind).

mod support;

use std::path::Path;

use regie::protocol::{
    Auth, Command, ConsentChannel, ConsentPurpose, Contact, MaskedContact, ServerFrame, StaffRole,
    ViewerId,
};
use regie::store::DB_FILE;
use support::client::{Client, keyed_viewer_hello};
use support::forensics::utf16;
use support::hub::TestHub;
use support::store::on_disk;

const PHONE: &str = "+33 6 47 19 83 52";
const EMAIL: &str = "zq91.lea@example.fr";
const KEY: &str = "device-secret-lea";

fn contact(phone: Option<&str>, email: Option<&str>) -> Contact {
    Contact {
        phone: phone.map(Into::into),
        email: email.map(Into::into),
    }
}

async fn join(hub: &TestHub, contact: Contact) -> Client {
    let mut hello = keyed_viewer_hello(&hub.live, "Léa", KEY);
    if let Auth::Viewer { contact: c, .. } = &mut hello.auth {
        *c = contact;
    }
    hub.join(hello).await
}

fn consent(purpose: ConsentPurpose, granted: bool, contact: Contact) -> Command {
    Command::Consent {
        purpose,
        granted,
        channel: ConsentChannel::Player,
        // The hash of the text the hub offers for the purpose (the hub
        // refuses any other); prize contact is not worded by `[consent]`.
        text_sha256: regie::hub::consent_texts::ConsentTexts::default()
            .sha256(purpose)
            .unwrap_or_else(|| "9f".repeat(32)),
        contact,
    }
}

/// The masked contact support sees on the viewer's card.
async fn card_contact(support: &mut Client, viewer: &ViewerId) -> MaskedContact {
    match support
        .command(Command::ViewerCard {
            viewer_id: viewer.clone(),
        })
        .await
    {
        ServerFrame::ViewerCard { card, .. } => card.contact.expect("support sees contact data"),
        other => panic!("expected a viewer card, got {other:?}"),
    }
}

/// The viewer's stored seals (phone, e-mail), read through SQLite.
fn seals(dir: &Path, viewer: &ViewerId) -> (Option<Vec<u8>>, Option<Vec<u8>>) {
    let db = rusqlite::Connection::open_with_flags(
        dir.join(DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the store read-only");
    db.query_row(
        "SELECT phone_sealed, email_sealed FROM viewers WHERE viewer_id = ?1",
        [&viewer.0],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .expect("the viewer's row")
}

fn assert_gone(dir: &Path, value: &str, seal: &[u8]) {
    assert!(
        !on_disk(dir, seal),
        "the seal of {value:?} is still on disk"
    );
    for needle in [value.as_bytes().to_vec(), utf16(value)] {
        assert!(!on_disk(dir, &needle), "{value:?} is on disk");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contact_at_hello_without_consent_is_not_stored() {
    let hub = TestHub::start().await;
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    let lea = join(&hub, contact(Some(PHONE), Some(EMAIL))).await;
    let id = lea.welcome.you.viewer_id.clone().expect("a viewer id");
    assert_eq!(card_contact(&mut sam, &id).await, MaskedContact::default());
    assert_eq!(seals(&hub.data_dir, &id), (None, None));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawing_the_consent_deletes_the_contact_collected_for_it() {
    let hub = TestHub::start().await;
    let dir = hub.data_dir.clone();
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    let mut lea = join(&hub, Contact::default()).await;
    let id = lea.welcome.you.viewer_id.clone().expect("a viewer id");
    lea.ack(consent(
        ConsentPurpose::PrizeContact,
        true,
        contact(Some(PHONE), None),
    ))
    .await;
    lea.ack(consent(
        ConsentPurpose::Marketing,
        true,
        contact(None, Some(EMAIL)),
    ))
    .await;
    let shown = card_contact(&mut sam, &id).await;
    assert!(shown.phone.is_some() && shown.email.is_some(), "{shown:?}");
    let (Some(phone_seal), Some(email_seal)) = seals(&dir, &id) else {
        panic!("both values are stored under their consents");
    };
    assert!(on_disk(&dir, &phone_seal), "the scan proves nothing");

    // Withdrawing marketing deletes the e-mail, not the phone.
    lea.ack(consent(
        ConsentPurpose::Marketing,
        false,
        Contact::default(),
    ))
    .await;
    lea.say("merci").await;
    assert!(seals(&dir, &id).0.is_some(), "the phone is not marketing's");
    assert_gone(&dir, EMAIL, &email_seal);

    // Withdrawing prize contact deletes the phone, from the files too.
    lea.ack(consent(
        ConsentPurpose::PrizeContact,
        false,
        Contact::default(),
    ))
    .await;
    // The checkpoint runs at the end of the withdrawal's turn.
    lea.say("au revoir").await;
    assert_eq!(seals(&dir, &id), (None, None));
    assert_eq!(card_contact(&mut sam, &id).await, MaskedContact::default());
    assert_gone(&dir, PHONE, &phone_seal);

    // A player that sends the number again at hello stores nothing: no
    // consent stands behind it any more.
    drop(lea);
    let again = join(&hub, contact(Some(PHONE), None)).await;
    assert_eq!(again.welcome.you.viewer_id, Some(id.clone()));
    assert_eq!(seals(&dir, &id), (None, None));
    hub.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewer_removes_a_value_with_an_empty_field() {
    let hub = TestHub::start().await;
    let dir = hub.data_dir.clone();
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    let mut lea = join(&hub, Contact::default()).await;
    let id = lea.welcome.you.viewer_id.clone().expect("a viewer id");
    lea.ack(consent(
        ConsentPurpose::PrizeContact,
        true,
        Contact::default(),
    ))
    .await;
    drop(lea);
    // A returning viewer's hello contact stands on the consent in force.
    let lea = join(&hub, contact(Some(PHONE), Some(EMAIL))).await;
    let (Some(phone_seal), Some(_)) = seals(&dir, &id) else {
        panic!("the values given at hello under a granted consent are stored");
    };
    drop(lea);
    // Emptying the phone at the next hello removes it; the e-mail stays.
    let mut lea = join(&hub, contact(Some(""), None)).await;
    lea.say("me revoilà").await;
    let shown = card_contact(&mut sam, &id).await;
    assert_eq!(shown.phone, None);
    assert!(shown.email.is_some(), "an absent field keeps its value");
    assert_gone(&dir, PHONE, &phone_seal);

    // The same with a consent command: an empty e-mail removes it.
    lea.ack(consent(
        ConsentPurpose::PrizeContact,
        true,
        contact(None, Some(" ")),
    ))
    .await;
    assert_eq!(seals(&dir, &id), (None, None));
    hub.stop().await;
}
