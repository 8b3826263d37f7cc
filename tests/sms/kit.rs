//! What the SMS tests share: a hub whose `[sms]` points at the stand-in, a
//! scheduled live with subscribers, signed webhook calls, store reads.

use std::path::Path;
use std::time::Duration;

use regie::hub::HubConfig;
use regie::hub::consent_texts::ConsentTexts;
use regie::protocol::{Command, ConsentChannel, ConsentPurpose, SmsScope, StaffRole, ViewerId};
use regie::sms::outbox::Progress;
use regie::sms::{ProviderConfig, Secret, SmsConfig};
use regie::store::DB_FILE;

use crate::standin::{ACCOUNT, AUTH_TOKEN, StandIn};
use crate::support::client::{self, Client};
use crate::support::hub::{TestHub, wait_until};
use crate::support::tokens;

/// The scheduled live the alerts are for.
pub(crate) const NIGHT: &str = "night-show";
pub(crate) const TITLE: &str = "Soirée soldes";
/// 2030-03-17 17:46:40 UTC: 18h46 in Paris (winter time).
pub(crate) const STARTS_AT: i64 = 1_900_000_000_000;
pub(crate) const STARTS_PARIS: &str = "18h46";
pub(crate) const SENDER: &str = "+33700000001";

pub(crate) fn sms_config(standin: &StandIn) -> SmsConfig {
    SmsConfig {
        provider: ProviderConfig::Twilio {
            base_url: standin.url(),
            account_sid: ACCOUNT.into(),
            auth_token: Secret::new(AUTH_TOKEN),
            from: SENDER.into(),
        },
        rate_per_second: 200,
        template: "{first_name}, « {live_title} » commence à {start_time} : {link}".into(),
        sender_name: "Maison Lina".into(),
        opt_out: "STOP au 36111".into(),
        link: Some("https://lina.example".into()),
        stop_reply: "Vous ne recevrez plus nos alertes SMS.".into(),
        backoff: Duration::from_millis(5),
        poll_every: Duration::from_millis(20),
        ..SmsConfig::default()
    }
}

pub(crate) fn tweak(standin: &StandIn) -> impl FnOnce(&mut HubConfig) + use<> {
    let sms = sms_config(standin);
    move |c: &mut HubConfig| {
        c.sms = sms;
        c.settings.sms_alerts = true;
    }
}

/// The alert a viewer named `first_name` gets for [`NIGHT`].
pub(crate) fn expected_alert(first_name: &str) -> String {
    format!(
        "Maison Lina : {first_name}, « {TITLE} » commence à {STARTS_PARIS} : \
         https://lina.example/live/{NIGHT} STOP au 36111"
    )
}

async fn staff_in(hub: &TestHub, live: &str, role: StaffRole) -> Client {
    let token = tokens::token(&hub.key, role, "Nadia", live);
    hub.join(client::staff_hello(live, &token)).await
}

/// The admin announces [`NIGHT`] (scheduled).
pub(crate) async fn announce(hub: &TestHub) {
    let mut admin = hub.staff(StaffRole::Admin, "Nadia").await;
    admin
        .ack(Command::LiveCreate {
            name: NIGHT.into(),
            title: TITLE.into(),
            starts_at: Some(STARTS_AT),
        })
        .await;
}

/// [`NIGHT`] goes on air.
pub(crate) async fn start_night(hub: &TestHub) {
    let mut admin = staff_in(hub, NIGHT, StaffRole::Admin).await;
    admin.ack(Command::LiveStart).await;
}

pub(crate) async fn viewer(hub: &TestHub, first_name: &str) -> Client {
    hub.join(client::viewer_hello(NIGHT, first_name)).await
}

pub(crate) fn viewer_id(c: &Client) -> ViewerId {
    c.welcome.you.viewer_id.clone().expect("a viewer id")
}

pub(crate) fn subscribe(phone: &str, scope: SmsScope) -> Command {
    Command::SmsSubscribe {
        scope,
        phone: phone.into(),
        channel: ConsentChannel::Player,
        text_sha256: ConsentTexts::default()
            .sha256(ConsentPurpose::SmsReminders)
            .expect("the SMS consent text"),
    }
}

/// A viewer of [`NIGHT`] who subscribes with `phone`.
pub(crate) async fn subscriber(
    hub: &TestHub,
    first_name: &str,
    phone: &str,
    scope: SmsScope,
) -> Client {
    let mut c = viewer(hub, first_name).await;
    c.ack(subscribe(phone, scope)).await;
    c
}

/// The alert's counts, read from the data dir.
pub(crate) fn progress(dir: &Path) -> Option<Progress> {
    regie::sms::progress(
        dir,
        regie::store::contact::KeySource::Dir(dir.to_path_buf()),
        NIGHT,
    )
    .expect("read the SMS progress")
}

/// Waits until [`NIGHT`]'s alert is queued and nothing is left to send.
pub(crate) async fn alert_done(dir: &Path) -> Progress {
    wait_until("the alert to be sent", || async {
        progress(dir).is_some_and(|p| p.queued == 0 && p.sending == 0)
    })
    .await;
    progress(dir).expect("the alert's counts")
}

pub(crate) fn db(dir: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open_with_flags(
        dir.join(DB_FILE),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .expect("open the store read-only")
}

/// The viewer's sealed phone in [`NIGHT`], if any.
pub(crate) fn sealed_phone(dir: &Path, viewer: &ViewerId) -> Option<Vec<u8>> {
    db(dir)
        .query_row(
            "SELECT v.phone_sealed FROM viewers v JOIN lives l ON l.id = v.live_id \
             WHERE l.name = ?1 AND v.viewer_id = ?2",
            [NIGHT, &viewer.0],
            |r| r.get(0),
        )
        .expect("the viewer's row")
}

/// The viewer's SMS consent records in [`NIGHT`]: (granted, channel).
pub(crate) fn sms_consents(dir: &Path, viewer: &ViewerId) -> Vec<(bool, String)> {
    let db = db(dir);
    let mut q = db
        .prepare(
            "SELECT c.granted, c.channel FROM consents c JOIN lives l ON l.id = c.live_id \
             WHERE l.name = ?1 AND c.viewer_id = ?2 AND c.purpose = 'sms_reminders' ORDER BY c.id",
        )
        .expect("prepare");
    q.query_map([NIGHT, &viewer.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// A webhook call as Twilio makes it: form parameters, signed with the
/// auth token over the URL it calls (or with `signature` as given).
pub(crate) async fn twilio_webhook(
    hub: &TestHub,
    params: &[(&str, &str)],
    signature: Option<&str>,
) -> u16 {
    let path = "/webhooks/sms/twilio";
    let owned: Vec<(String, String)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect();
    let url = format!("http://{}{path}", hub.addr);
    let signed = regie::sms::signature::twilio_signature(AUTH_TOKEN.as_bytes(), &url, &owned);
    let mut form = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        form.append_pair(k, v);
    }
    let body = form.finish();
    let mut headers = vec![(
        "Content-Type",
        "application/x-www-form-urlencoded".to_owned(),
    )];
    match signature {
        Some("") => {}
        Some(s) => headers.push(("X-Twilio-Signature", s.to_owned())),
        None => headers.push(("X-Twilio-Signature", signed)),
    }
    hub.http("POST", path, &headers, &body).await.0
}
