//! SMS alerts: how long queueing one live's alert for 10,000 subscribers
//! takes (target ≤ 1 s), and whether the sender keeps the configured rate
//! against a loopback stand-in of Twilio's API.
//!
//! `cargo bench --bench sms`. Prints figures; each run is one alert (an
//! alert is queued once per live), so this is not a criterion loop.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use regie::hub::HubConfig;
use regie::protocol::{
    ConsentChannel, ConsentPurpose, ConsentState, Contact, LiveInfo, LiveState, SmsScope, ViewerId,
};
use regie::sms::{ProviderConfig, Secret, SmsConfig, SmsHub};
use regie::store::contact::KeySource;
use regie::store::{Durability, SqliteStore, Store, ViewerRecord};

const SUBSCRIBERS: usize = 10_000;
const RUNS: usize = 5;
const SENT: usize = 300;
const RATE: u32 = 100;

fn store(dir: &std::path::Path) -> SqliteStore {
    SqliteStore::open_with_keys(dir, Durability::Normal, KeySource::Dir(dir.to_path_buf()))
        .expect("open the store")
}

fn live(name: &str, starts_at: i64) -> LiveInfo {
    LiveInfo {
        name: name.into(),
        title: "Soldes d'hiver".into(),
        state: LiveState::Scheduled,
        starts_at: Some(starts_at),
        started_at: None,
        ended_at: None,
    }
}

/// `n` viewers of live `origin`, each subscribed to the brand's next lives.
fn subscribe(store: &mut SqliteStore, origin: &str, n: usize, now: i64) {
    store
        .create_live(&live(origin, now), now)
        .expect("create the live");
    store.open_live(origin).expect("open the live");
    let text = regie::hub::consent_texts::ConsentTexts::default()
        .sha256(ConsentPurpose::SmsReminders)
        .expect("the SMS text");
    for i in 0..n {
        let id = ViewerId(format!("v-{i:012x}"));
        let phone = format!("+3361{i:07}");
        store
            .upsert_viewer(
                origin,
                &ViewerRecord {
                    id: id.clone(),
                    first_name: format!("Léa{i}"),
                    pseudonym: format!("#{i:04x}"),
                    first_seen: now,
                    last_seen: now,
                },
                &Contact::default(),
            )
            .expect("a viewer");
        let consent = ConsentState {
            purpose: ConsentPurpose::SmsReminders,
            granted: true,
            at: now,
            channel: ConsentChannel::Player,
            text_sha256: text.clone(),
        };
        let contact = Contact {
            phone: Some(phone.clone()),
            email: None,
        };
        store
            .record_consent(origin, &id, &consent, &contact)
            .expect("a consent");
        store
            .record_sms_subscription(origin, &id, SmsScope::Brand, &phone, now)
            .expect("a subscription");
    }
}

fn config() -> SmsConfig {
    SmsConfig {
        template: "{first_name}, « {live_title} » commence à {start_time} : {link}".into(),
        link: Some("https://lina.example".into()),
        ..SmsConfig::default()
    }
}

fn enqueue_bench() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = store(dir.path());
    let now = regie::now_millis();
    let setup = Instant::now();
    subscribe(&mut store, "origin", SUBSCRIBERS, now);
    println!(
        "setup: {SUBSCRIBERS} subscribers in {:.1?}",
        setup.elapsed()
    );
    let mut times = Vec::new();
    for run in 0..RUNS {
        let name = format!("alert-{run}");
        store
            .create_live(&live(&name, now), now)
            .expect("create the live");
        let t = Instant::now();
        let queued = regie::sms::enqueue_alert(&mut store, &config(), &name, now).expect("queue");
        times.push(t.elapsed());
        assert_eq!(queued.queued, SUBSCRIBERS);
    }
    times.sort();
    println!(
        "enqueue {SUBSCRIBERS} subscribers: median {:.1?}, min {:.1?}, max {:.1?} ({RUNS} runs)",
        times[RUNS / 2],
        times[0],
        times[RUNS - 1]
    );
}

async fn send_bench() {
    use axum::routing::post;
    let arrivals: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let seen = arrivals.clone();
    let app = axum::Router::new().route(
        "/2010-04-01/Accounts/{sid}/Messages.json",
        post(move || {
            let seen = seen.clone();
            async move {
                let n = {
                    let mut s = seen.lock().expect("lock");
                    s.push(Instant::now());
                    s.len()
                };
                (
                    axum::http::StatusCode::CREATED,
                    format!(r#"{{"sid":"SM{n}"}}"#),
                )
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir().expect("temp dir");
    let now = regie::now_millis();
    {
        let mut s = store(dir.path());
        subscribe(&mut s, "origin", SENT, now);
        s.create_live(&live("tonight", now), now)
            .expect("create the live");
    }
    let mut hub = HubConfig::new("origin", dir.path());
    hub.sms = SmsConfig {
        provider: ProviderConfig::Twilio {
            base_url: format!("http://{addr}"),
            account_sid: "AC1".into(),
            auth_token: Secret::new("token"),
            from: "+33700000000".into(),
        },
        rate_per_second: RATE,
        // Both lives are scheduled "now": each is due at once.
        lead_minutes: 10,
        poll_every: Duration::from_millis(50),
        ..config()
    };
    let sms = SmsHub::open(&hub).expect("open").expect("a provider");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let started = Instant::now();
    let sender = sms.spawn_sender(stopped);
    // Two lives due, SENT subscribers each.
    let expected = 2 * SENT;
    loop {
        if arrivals.lock().expect("lock").len() >= expected {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "the sender stalled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = stop.send(true);
    let _ = sender.await;
    let a = arrivals.lock().expect("lock");
    let span = a[a.len() - 1].duration_since(a[0]);
    println!(
        "send {} messages at rate_per_second = {RATE}: {:.1?} first to last, {:.1} messages/s",
        a.len(),
        span,
        (a.len() - 1) as f64 / span.as_secs_f64()
    );
}

fn main() {
    enqueue_bench();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
        .block_on(send_bench());
}
