//! Shop events (`POST /shop/events`) feeding the report's commerce
//! figures: on a real hub, a signed event is stored and counted; a bad
//! signature, a replay, a duplicate, raw order data or an oversized body
//! changes nothing. On a generated live, the commerce figures match the
//! truth worked out here, and an erased viewer's events drop out.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use regie::protocol::{Actor, Event, Millis, StaffRole, ViewerId};
use regie::report::{Figures, ShopKind};
use regie::shop::{Recorded, ShopRecord, ShopSecret};
use regie::sms::signature::push_signature;
use regie::store::{DB_FILE, SqliteStore, Store};

use crate::generated::{self, END, LIVE, MINUTES, START, viewer};
use crate::support::hub::TestHub;

const SECRET: &[u8] = b"the brand shop's secret, 32+ bytes long";

fn secret() -> ShopSecret {
    ShopSecret::new(SECRET.to_vec()).expect("long enough")
}

async fn shop_hub() -> TestHub {
    TestHub::start_with(|c| c.shop_secret = Some(secret())).await
}

/// `POST /shop/events` with `body` and these headers; (status, body).
async fn post(hub: &TestHub, body: &str, headers: &[(&str, String)]) -> (u16, String) {
    let mut all = vec![("Content-Type", "application/json".to_owned())];
    all.extend(headers.iter().cloned());
    hub.http("POST", "/shop/events", &all, body).await
}

fn signed(body: &str, at_secs: i64) -> Vec<(&'static str, String)> {
    vec![
        ("X-Regie-Timestamp", at_secs.to_string()),
        (
            "X-Regie-Signature",
            push_signature(SECRET, at_secs, body.as_bytes()),
        ),
    ]
}

fn now_secs() -> i64 {
    regie::now_millis() / 1000
}

fn event(id: &str, kind: &str, pass: Option<&str>, extra: &str) -> String {
    let viewer = pass.map_or(String::new(), |p| format!(r#","viewer":"{p}""#));
    format!(
        r#"{{"id":"{id}","type":"{kind}","at":{},"live":"show"{viewer}{extra}}}"#,
        regie::now_millis()
    )
}

/// Rows in `shop_events`, and how many are linked to a viewer.
fn rows(hub: &TestHub) -> (i64, i64) {
    let conn = rusqlite::Connection::open(hub.data_dir.join(DB_FILE)).expect("open");
    conn.query_row(
        "SELECT count(*), count(viewer_id) FROM shop_events",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .expect("count")
}

fn commerce(hub: &TestHub) -> [u64; 6] {
    let mut store = SqliteStore::open(&hub.data_dir).expect("open");
    let f = store
        .report_source(&hub.live, regie::now_millis())
        .expect("read")
        .expect("the live exists")
        .figures()
        .expect("the live is on air");
    [
        f.product_views.value,
        f.add_to_cart_viewers.value,
        f.carts.value,
        f.orders.value,
        f.buyers.value,
        f.revenue.get("EUR").map_or(0, |c| c.value),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[expect(
    clippy::too_many_lines,
    reason = "each refusal, then the figures checked again"
)]
async fn signed_events_are_stored_and_counted_and_forgeries_change_nothing() {
    let hub = shop_hub().await;
    let mut passes = Vec::new();
    let mut viewers = Vec::new();
    for name in ["Anna", "Berta", "Carla"] {
        let v = hub.viewer(name).await;
        passes.push(
            v.welcome
                .pass
                .clone()
                .expect("a new viewer is issued a pass"),
        );
        viewers.push(v);
    }
    let accepted = |(status, body): (u16, String)| {
        assert_eq!(status, 200, "{body}");
        assert!(body.contains("\"accepted\""), "{body}");
    };
    for (i, pass) in passes.iter().enumerate() {
        let body = event(
            &format!("view-{i}"),
            "product_view",
            Some(pass),
            r#","products":[1]"#,
        );
        accepted(post(&hub, &body, &signed(&body, now_secs())).await);
    }
    for (i, pass) in passes.iter().take(2).enumerate() {
        for n in 0..2 {
            let body = event(&format!("cart-{i}-{n}"), "add_to_cart", Some(pass), "");
            accepted(post(&hub, &body, &signed(&body, now_secs())).await);
        }
    }
    let order = event(
        "order-1",
        "order",
        Some(&passes[0]),
        r#","amount":4990,"currency":"EUR","products":[1,2]"#,
    );
    accepted(post(&hub, &order, &signed(&order, now_secs())).await);
    // No pass, or one this hub never issued: stored, attributed to no one.
    for (id, pass) in [("anon-1", None), ("anon-2", Some("p1.forged.pass"))] {
        let body = event(id, "order", pass, r#","amount":100000,"currency":"EUR""#);
        accepted(post(&hub, &body, &signed(&body, now_secs())).await);
    }
    let truth = [3, 2, 4, 1, 1, 4990];
    assert_eq!(commerce(&hub), truth);
    assert_eq!(rows(&hub), (10, 8));

    // Each of these is refused or ignored, and nothing changes.
    let fresh = event(
        "order-2",
        "order",
        Some(&passes[1]),
        r#","amount":1500,"currency":"EUR""#,
    );
    let mut forged = signed(&fresh, now_secs());
    forged[1].1 = push_signature(
        b"another secret, also 32 bytes long",
        now_secs(),
        fresh.as_bytes(),
    );
    let tampered = fresh.replace("1500", "150000");
    let cases: Vec<Case<'_>> = vec![
        ("unsigned", fresh.clone(), Vec::new(), 401, "missing"),
        ("bad signature", fresh.clone(), forged, 401, "bad signature"),
        (
            "tampered body",
            tampered,
            signed(&fresh, now_secs()),
            401,
            "bad signature",
        ),
        (
            "replay (6 min old)",
            fresh.clone(),
            signed(&fresh, now_secs() - 360),
            401,
            "replay",
        ),
        (
            "future timestamp",
            fresh.clone(),
            signed(&fresh, now_secs() + 360),
            401,
            "replay",
        ),
        (
            "duplicate id",
            order.clone(),
            signed(&order, now_secs()),
            200,
            "\"duplicate\"",
        ),
    ];
    for (what, body, headers, status, said) in cases {
        let (got, text) = post(&hub, &body, &headers).await;
        assert_eq!(got, status, "{what}: {text}");
        assert!(text.contains(said), "{what}: {text}");
        assert_eq!(commerce(&hub), truth, "{what} changed the figures");
        assert_eq!(rows(&hub), (10, 8), "{what} changed the table");
    }
    // A duplicate id with other content is still the same event.
    let again = order.replace("4990", "9990");
    let (got, text) = post(&hub, &again, &signed(&again, now_secs())).await;
    assert_eq!((got, text.contains("duplicate")), (200, true), "{text}");
    assert_eq!(commerce(&hub), truth);

    // Raw order data beyond amount, currency and products: 400, by name.
    for extra in [
        r#","email":"anna@example.fr""#,
        r#","name":"Anna Martin""#,
        r#","address":"3 rue de la Paix""#,
    ] {
        let body = event(
            "order-3",
            "order",
            Some(&passes[2]),
            &format!(r#","amount":1,"currency":"EUR"{extra}"#),
        );
        let (got, text) = post(&hub, &body, &signed(&body, now_secs())).await;
        assert_eq!(got, 400, "{text}");
        assert!(text.contains("unknown field"), "{text}");
        assert!(!text.contains("anna@example.fr") && !text.contains("Martin"));
    }
    // Oversized (a signed one: the cap comes first) and unknown lives.
    let huge = event(
        "big",
        "product_view",
        None,
        &format!(r#","pad":"{}""#, "x".repeat(20_000)),
    );
    let (got, _) = post(&hub, &huge, &signed(&huge, now_secs())).await;
    assert_eq!(got, 413);
    let elsewhere = event("else", "product_view", None, "").replace("\"show\"", "\"other\"");
    let (got, text) = post(&hub, &elsewhere, &signed(&elsewhere, now_secs())).await;
    assert_eq!(got, 404, "{text}");
    assert_eq!(commerce(&hub), truth);
    assert_eq!(rows(&hub), (10, 8));

    // The event ids themselves are not stored (a key into the shop's orders).
    let db = std::fs::read(hub.data_dir.join(DB_FILE)).expect("read the db");
    let wal = std::fs::read(hub.data_dir.join(format!("{DB_FILE}-wal"))).unwrap_or_default();
    for needle in ["order-1", "view-0", "cart-0-0", "anon-1"] {
        for bytes in [&db, &wal] {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{needle} is in the store"
            );
        }
    }
    drop(viewers);
    hub.stop().await;
}

#[tokio::test]
async fn without_a_shop_secret_the_route_is_off() {
    let hub = TestHub::start().await;
    let body = event("e", "product_view", None, "");
    let (got, text) = post(&hub, &body, &signed(&body, now_secs())).await;
    assert_eq!(got, 404, "{text}");
    assert!(text.contains("[shop] secret_file"), "{text}");
    hub.stop().await;
}

/// A refused or ignored request: what, body, headers, status, said.
type Case<'a> = (&'a str, String, Vec<(&'a str, String)>, u16, &'a str);

/// The commerce figures compared: counts, revenue by currency, and the
/// add-to-cart timeline (events, distinct viewers).
type Commerce = (Vec<u64>, BTreeMap<String, u64>, Vec<(u64, u64)>);

/// One generated shop event, and whom it is about.
#[derive(Clone)]
struct Sale {
    who: ViewerId,
    at: Millis,
    kind: ShopKind,
    amount: Option<u64>,
    currency: Option<String>,
}

/// The commerce figures the slow way: only events of viewers who watched
/// (a presence stretch inside the live) or chatted, from the start to 30
/// days after the end.
fn truth(sales: &[Sale], everyone: &BTreeSet<ViewerId>) -> Commerce {
    let counted: Vec<&Sale> = sales
        .iter()
        .filter(|s| everyone.contains(&s.who) && s.at >= START && s.at <= END + 30 * 24 * 3_600_000)
        .collect();
    let of = |k: ShopKind| counted.iter().filter(move |s| s.kind == k);
    let distinct = |k: ShopKind| of(k).map(|s| s.who.clone()).collect::<BTreeSet<_>>().len() as u64;
    let figures = vec![
        of(ShopKind::ProductView).count() as u64,
        distinct(ShopKind::ProductView),
        distinct(ShopKind::AddToCart),
        of(ShopKind::AddToCart).count() as u64,
        of(ShopKind::Order).count() as u64,
        distinct(ShopKind::Order),
    ];
    let mut revenue = BTreeMap::new();
    for s in of(ShopKind::Order) {
        *revenue
            .entry(s.currency.clone().expect("orders have one"))
            .or_default() += s.amount.expect("orders have one");
    }
    let mut minutes: Vec<(u64, BTreeSet<ViewerId>)> =
        vec![(0, BTreeSet::new()); usize::try_from(MINUTES).expect("small")];
    for s in of(ShopKind::AddToCart).filter(|s| s.at <= END) {
        let m = usize::try_from((s.at - START) / 60_000)
            .expect("in the window")
            .min(minutes.len() - 1);
        minutes[m].0 += 1;
        minutes[m].1.insert(s.who.clone());
    }
    let timeline = minutes
        .into_iter()
        .map(|(n, who)| (n, who.len() as u64))
        .collect();
    (figures, revenue, timeline)
}

fn commerce_of(f: &Figures) -> Commerce {
    (
        vec![
            f.product_views.value,
            f.product_views.viewers,
            f.add_to_cart_viewers.value,
            f.carts.value,
            f.orders.value,
            f.buyers.value,
        ],
        f.revenue
            .iter()
            .map(|(c, v)| (c.clone(), v.value))
            .collect(),
        f.timeline
            .iter()
            .map(|m| (m.add_to_cart.value, m.add_to_cart.viewers))
            .collect(),
    )
}

/// `n` shop events: mostly viewers of the generated live, some shoppers
/// who never watched it; mostly during the live, some before it, some
/// weeks after (past the 30 days too).
fn generate(n: u32) -> Vec<(String, Sale)> {
    let mut rng = generated::Lcg(99);
    let kinds = [ShopKind::ProductView, ShopKind::AddToCart, ShopKind::Order];
    let day: u64 = 24 * 3_600_000;
    let mut sales = Vec::new();
    for n in 0..n {
        let who = if rng.below(10) == 0 {
            ViewerId(format!("v-outsider-{}", rng.below(5)))
        } else {
            viewer(u32::try_from(rng.below(60)).expect("small"))
        };
        let at = match rng.below(10) {
            0 => START - 1 - Millis::try_from(rng.below(600_000)).expect("small"),
            // (One draw is below 2³¹: the day, then the time in it.)
            1 | 2 => END + Millis::try_from(rng.below(35) * day + rng.below(day)).expect("small"),
            _ => START + Millis::try_from(rng.below(MINUTES as u64 * 60_000)).expect("small"),
        };
        let kind = kinds[usize::try_from(rng.below(3)).expect("small")];
        let (amount, currency) = if kind == ShopKind::Order {
            let currency = if rng.below(4) == 0 { "CHF" } else { "EUR" };
            (Some(1000 + rng.below(20_000)), Some(currency.to_owned()))
        } else {
            (None, None)
        };
        let sale = Sale {
            who,
            at,
            kind,
            amount,
            currency,
        };
        sales.push((format!("gen-{n}"), sale));
    }
    sales
}

/// Stores the events (each accepted; with `twice`, every 50th posted again
/// is a duplicate that adds nothing).
fn sell(w: &mut generated::Written, sales: &[(String, Sale)], twice: bool) -> Vec<Sale> {
    for (n, (id, sale)) in sales.iter().enumerate() {
        let record = ShopRecord {
            digest: secret().event_digest(id),
            live: LIVE.to_owned(),
            kind: sale.kind,
            at: sale.at,
            viewer: Some(sale.who.clone()),
            amount_minor: sale.amount,
            currency: sale.currency.clone(),
            products: vec![1 + u32::try_from(n % 5).expect("small")],
        };
        let recorded = w
            .store
            .shop_event(&record, &|id: &ViewerId| id.clone())
            .expect("store");
        assert_eq!(recorded, Recorded::Accepted);
        if twice && n % 50 == 0 {
            let again = w.store.shop_event(&record, &|id: &ViewerId| id.clone());
            assert_eq!(again.expect("store"), Recorded::Duplicate);
        }
    }
    sales.iter().map(|(_, s)| s.clone()).collect()
}

/// Who the report counts as the generated live's viewers: a presence
/// stretch inside it, or a message.
fn everyone(w: &generated::Written) -> BTreeSet<ViewerId> {
    let mut everyone: BTreeSet<ViewerId> = w
        .truth
        .spans
        .iter()
        .filter(|&&(_, a, b)| a.max(START) < b.min(END))
        .map(|s| viewer(s.0))
        .collect();
    everyone.extend(w.truth.messages.iter().map(|m| viewer(m.author)));
    everyone
}

fn count(w: &generated::Written, table: &str) -> i64 {
    let conn = rusqlite::Connection::open(w.dir.path().join(DB_FILE)).expect("open");
    conn.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))
        .expect("count")
}

/// Retention freezes the figures when the chat goes (7 days after the
/// live), before the 30-day attribution window closes. The commerce
/// figures stay open until then: shop events stored after the freeze
/// still count (for the audience kept), an erased buyer still drops out,
/// and the report says commerce is pending while the rest is final. Once
/// the window has closed, commerce is frozen too, and the audience and the
/// shop events go; a later event changes nothing and goes at the next
/// sweep.
#[test]
fn commerce_stays_open_after_the_chat_freeze_until_the_attribution_window_closes() {
    use regie::report::{Status, suppress};
    use regie::store::RetentionPolicy;
    let day: Millis = 24 * 3_600_000;
    let mut w = generated::live(23, 60, 30, 400);
    let mut everyone = everyone(&w);
    let all = generate(400);
    let (early, late): (Vec<_>, Vec<_>) = all.into_iter().partition(|(_, s)| s.at < END + 7 * day);
    assert!(!late.is_empty() && late.iter().any(|(_, s)| s.at > END + 30 * day));
    let mut sales = sell(&mut w, &early, false);
    let before = figures(&mut w.store, END + 61_000);
    assert_eq!(before.status, Some(Status::Final));
    assert_eq!(
        before.commerce_status,
        Some(Status::Pending {
            final_at: Some(END + 30 * day + 60_000)
        })
    );

    // Day 8: the chat goes, the figures are frozen, the presence too.
    let policy = RetentionPolicy {
        chat: std::time::Duration::from_secs(7 * 86_400),
        ..RetentionPolicy::default()
    };
    let swept = w.store.sweep(LIVE, &policy, END + 8 * day).expect("sweep");
    assert!(swept.messages > 0 && swept.presence > 0, "{swept:?}");
    assert_eq!(count(&w, "presence"), 0);
    assert_eq!(
        usize::try_from(count(&w, "report_audience")).expect("a count"),
        everyone.len()
    );
    // Orders keep coming after the freeze, and count.
    sales.extend(sell(&mut w, &late, false));
    let frozen = figures(&mut w.store, END + 9 * day);
    assert_eq!(commerce_of(&frozen), truth(&sales, &everyone));
    assert_ne!(
        commerce_of(&frozen),
        commerce_of(&before),
        "late orders counted"
    );
    // The rest is what was frozen.
    assert_eq!(frozen.unique_viewers, before.unique_viewers);
    assert_eq!(frozen.messages, before.messages);
    let report = suppress::publish(&frozen, regie::report::K::default());
    assert_eq!(report.status, Status::Final);
    assert_eq!(
        report.commerce.status,
        Status::Pending {
            final_at: Some(END + 30 * day + 60_000)
        }
    );
    let json = regie::report::render::json(&report);
    assert!(json.contains("\"final_at\""), "{json}");

    // A buyer erased after the freeze drops out of the commerce figures.
    let gone = sales
        .iter()
        .find(|s| s.kind == ShopKind::Order && everyone.contains(&s.who) && s.at >= START)
        .expect("an attributed order")
        .who
        .clone();
    w.commit(
        END + 10 * day,
        Event::ViewerErased {
            viewer_id: gone.clone(),
            reason: "art. 17".into(),
            erased_at: END + 10 * day,
            by: Actor {
                name: Some("Sam".into()),
                role: StaffRole::Support,
            },
        },
    );
    everyone.remove(&gone);
    let want = truth(&sales, &everyone);
    assert_eq!(commerce_of(&figures(&mut w.store, END + 10 * day)), want);

    // Day 31: the window has closed. Commerce is frozen as it stood; the
    // audience and the shop events go.
    w.store.sweep(LIVE, &policy, END + 31 * day).expect("sweep");
    assert_eq!(count(&w, "report_audience"), 0);
    assert_eq!(count(&w, "shop_events"), 0);
    let closed = figures(&mut w.store, END + 31 * day);
    assert_eq!(commerce_of(&closed), want);
    assert_eq!(closed.commerce_status, Some(Status::Final));
    let report = suppress::publish(&closed, regie::report::K::default());
    assert_eq!(report.commerce.status, Status::Final);
    // An event now (back-dated into the window) changes nothing, and goes.
    let viewer_of_the_live = everyone.iter().next().expect("a viewer").clone();
    let straggler = Sale {
        who: viewer_of_the_live,
        at: END + day,
        kind: ShopKind::Order,
        amount: Some(99_900),
        currency: Some("EUR".into()),
    };
    sell(&mut w, &[("straggler".to_owned(), straggler)], false);
    assert_eq!(commerce_of(&figures(&mut w.store, END + 32 * day)), want);
    w.store.sweep(LIVE, &policy, END + 32 * day).expect("sweep");
    assert_eq!(count(&w, "shop_events"), 0);
}

fn figures(store: &mut SqliteStore, now: Millis) -> Figures {
    store
        .report_source(LIVE, now)
        .expect("read")
        .expect("the live exists")
        .figures()
        .expect("the live started")
}

#[test]
fn the_commerce_figures_of_a_generated_live_match_the_truth() {
    let mut w = generated::live(23, 60, 30, 400);
    let mut everyone = everyone(&w);
    let sales = sell(&mut w, &generate(500), true);
    let after = END + 61_000;
    let f = figures(&mut w.store, after);
    let want = truth(&sales, &everyone);
    assert!(
        want.0[0] > 50 && want.0[4] > 20,
        "a live with sales: {want:?}"
    );
    assert_eq!(commerce_of(&f), want);

    // Erased: their events are linked to no one, and drop out.
    let gone = sales
        .iter()
        .find(|s| s.kind == ShopKind::Order && everyone.contains(&s.who) && s.at >= START)
        .expect("an attributed order")
        .who
        .clone();
    w.commit(
        after,
        Event::ViewerErased {
            viewer_id: gone.clone(),
            reason: "art. 17".into(),
            erased_at: after,
            by: Actor {
                name: Some("Sam".into()),
                role: StaffRole::Support,
            },
        },
    );
    let f = figures(&mut w.store, after + 1);
    everyone.remove(&gone);
    assert_eq!(commerce_of(&f), truth(&sales, &everyone));
    let conn = rusqlite::Connection::open(w.dir.path().join(DB_FILE)).expect("open");
    let linked: i64 = conn
        .query_row(
            "SELECT count(*) FROM shop_events WHERE viewer_id = ?1",
            [&gone.0],
            |r| r.get(0),
        )
        .expect("count");
    assert_eq!(linked, 0);

    // A later event by the erased viewer's device goes to its successor,
    // never to the erased id.
    let successor = ViewerId("v-successor".into());
    let next = ShopRecord {
        digest: secret().event_digest("after-erasure"),
        live: LIVE.to_owned(),
        kind: ShopKind::ProductView,
        at: END,
        viewer: Some(gone.clone()),
        amount_minor: None,
        currency: None,
        products: Vec::new(),
    };
    let succ = successor.clone();
    w.store
        .shop_event(&next, &move |_: &ViewerId| succ.clone())
        .expect("store");
    let ids: HashMap<String, i64> = conn
        .prepare("SELECT coalesce(viewer_id, ''), count(*) FROM shop_events GROUP BY 1")
        .expect("prepare")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(ids.get(&successor.0), Some(&1));
    assert!(!ids.contains_key(&gone.0));
}

/// The brand's shared secret for viewer tokens.
const BRAND_SECRET: &[u8] = b"la-marque-et-regie-partagent-ce-secret";

/// A JWT signed as a brand's site signs it, independently of the hub's
/// code, valid for an hour from now.
fn brand_token(account: &str, first_name: &str) -> String {
    brand_token_until(account, first_name, now_secs() + 3600)
}

/// The same, expiring at `exp` (Unix seconds).
fn brand_token_until(account: &str, first_name: &str, exp: i64) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use hmac::{Hmac, Mac};
    let header = B64.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = B64.encode(
        serde_json::json!({"viewer": account, "first_name": first_name, "exp": exp}).to_string(),
    );
    let signed = format!("{header}.{claims}");
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(BRAND_SECRET).expect("any key length");
    mac.update(signed.as_bytes());
    format!("{signed}.{}", B64.encode(mac.finalize().into_bytes()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logged_in_shoppers_order_is_theirs_whatever_token_it_carries() {
    let hub = TestHub::start_with(|c| {
        c.shop_secret = Some(secret());
        c.viewers.token_secret = Some(
            regie::auth::viewer_token::ViewerTokenSecret::new(BRAND_SECRET.to_vec())
                .expect("long enough"),
        );
    })
    .await;
    let mut hello = hub.viewer_hello("Dora");
    if let regie::protocol::Auth::Viewer { token, .. } = &mut hello.auth {
        *token = Some(brand_token("acct-7", "Dora"));
    }
    let dora = hub.join(hello).await;
    // The shop signs a token of its own for the order: the same account.
    for (id, token) in [
        ("o-1", brand_token("acct-7", "Dora")),
        ("o-2", brand_token("acct-8", "Eve")),
    ] {
        let body = event(
            id,
            "order",
            Some(&token),
            r#","amount":2500,"currency":"EUR""#,
        );
        let (got, text) = post(&hub, &body, &signed(&body, now_secs())).await;
        assert_eq!(got, 200, "{text}");
    }
    // Dora watched; Eve's account never did: one order, one buyer.
    assert_eq!(commerce(&hub), [0, 0, 0, 1, 1, 2500]);
    assert_eq!(rows(&hub), (2, 2));
    drop(dora);
    hub.stop().await;
}

/// Shoppers buy days after the live, with the token its page was given:
/// long expired by then, it still attributes the order when the brand
/// signed it and it was valid when the live started. One that had expired
/// before the start was never valid during the live, and a forged one
/// never is: both attribute nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_expired_token_that_was_valid_during_the_live_still_attributes() {
    let clock = crate::support::hub::ManualClock::new();
    let hub = TestHub::start_with(|c| {
        c.clock = clock.clock();
        c.shop_secret = Some(secret());
        c.viewers.token_secret = Some(
            regie::auth::viewer_token::ViewerTokenSecret::new(BRAND_SECRET.to_vec())
                .expect("long enough"),
        );
    })
    .await;
    let joined_at = clock.now() / 1000;
    let token = brand_token_until("acct-7", "Dora", joined_at + 3600);
    let mut hello = hub.viewer_hello("Dora");
    if let regie::protocol::Auth::Viewer { token: t, .. } = &mut hello.auth {
        *t = Some(token.clone());
    }
    let dora = hub.join(hello).await;
    // Read once a viewer is in: the hub has opened its live by then.
    let started = SqliteStore::open(&hub.data_dir)
        .expect("open")
        .live_info(&hub.live)
        .expect("read")
        .and_then(|l| l.started_at)
        .expect("the test hub's live is on air");

    // Three days later, on the hub's clock: the token expired long ago.
    clock.set(clock.now() + 3 * 24 * 3600 * 1000);
    let later = clock.now() / 1000;
    let before_the_live = brand_token_until("acct-7", "Dora", started / 1000 - 60);
    // The signature's first character changed: not the brand's.
    let (signed_part, tag) = token.rsplit_once('.').expect("a JWT");
    let swap = if tag.starts_with('A') { "B" } else { "A" };
    let forged = format!("{signed_part}.{swap}{}", &tag[1..]);
    for (id, token) in [
        ("late-order", token),
        ("stale-token", before_the_live),
        ("forged-token", forged),
    ] {
        let body = event(
            id,
            "order",
            Some(&token),
            r#","amount":1800,"currency":"EUR""#,
        );
        let (got, text) = post(&hub, &body, &signed(&body, later)).await;
        assert_eq!(got, 200, "{id}: {text}");
    }
    // All three stored; only the order with the token valid during the
    // live is linked to Dora, and counted.
    assert_eq!(rows(&hub), (3, 1));
    assert_eq!(commerce(&hub), [0, 0, 0, 1, 1, 1800]);
    drop(dora);
    hub.stop().await;
}
