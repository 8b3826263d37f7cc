//! The viewer page: `GET /live/{name}` serves a live's interaction panel
//! (chat, questions, polls, instant wins, opt-ins, privacy) that a brand
//! opens beside its video player or embeds as an iframe.
//!
//! | route | what |
//! |---|---|
//! | `/live/{name}` | the HTML (`page/index.html`); 404 page for an unknown live |
//! | `/live/{name}/info.json` | the live, the offered opt-ins with their texts and hashes, what is stored and for how long, the WebSocket's path |
//! | `/assets/page-<hash>.js`, `/assets/page-<hash>.css`, `/assets/icon-<hash>.svg` | the script, the style and the icon, named by their content so they are cached for good |
//!
//! Everything is embedded in the binary (`include_str!`): no build step, no
//! third-party script or font. Every response carries a strict
//! Content-Security-Policy (no inline script or style, `frame-ancestors`
//! from the brand's `[page]`), `X-Content-Type-Options: nosniff` and
//! `Referrer-Policy: no-referrer`; the assets are gzipped once, when first
//! asked for, `info.json` per request at gzip's fastest level, and both
//! are served compressed to a client that accepts it.

use std::sync::{Arc, LazyLock};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::connection::Shared;
pub use settings::{MAX_CLOSING_CHARS, MAX_MESSAGES_RANGE, PageConfig, check_frame_ancestor};

pub mod settings;
use crate::protocol::{ConsentPurpose, LiveState};
use crate::store::RetentionPolicy;

const INDEX_HTML: &str = include_str!("page/index.html");
const NOT_FOUND_HTML: &str = include_str!("page/not_found.html");
const PAGE_JS: &str = include_str!("page/page.js");
const PAGE_CSS: &str = include_str!("page/page.css");
const FAVICON_SVG: &str = include_str!("page/favicon.svg");

/// The page's Content-Security-Policy: nothing but the hub's own script,
/// style and WebSocket; no inline code, no `eval`, no plugins, no `<base>`
/// rewriting, no form posting anywhere, framed only where the brand says.
pub fn content_security_policy(page: &PageConfig) -> String {
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; \
         connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; \
         form-action 'none'; frame-ancestors {}",
        page.frame_ancestors.join(" ")
    )
}

/// One embedded file, as served: its bytes, gzipped once, and its name.
struct Asset {
    path: String,
    content_type: &'static str,
    plain: Vec<u8>,
    gzip: Vec<u8>,
}

impl Asset {
    fn new(stem: &str, ext: &str, content_type: &'static str, text: &str) -> Self {
        let digest = super::consent_texts::sha256_hex(text);
        Self {
            path: format!("/assets/{stem}-{}.{ext}", &digest[..12]),
            content_type,
            plain: text.as_bytes().to_vec(),
            gzip: gzip(text.as_bytes()),
        }
    }
}

/// The page's files, built once.
struct Assets {
    html: Asset,
    js: Asset,
    css: Asset,
    /// So that a browser's automatic `/favicon.ico` request is not a 404
    /// in every viewer's console.
    icon: Asset,
}

static ASSETS: LazyLock<Assets> = LazyLock::new(|| {
    let js = Asset::new("page", "js", "text/javascript; charset=utf-8", PAGE_JS);
    let css = Asset::new("page", "css", "text/css; charset=utf-8", PAGE_CSS);
    let icon = Asset::new("icon", "svg", "image/svg+xml", FAVICON_SVG);
    let html = INDEX_HTML
        .replace("{{page.js}}", &js.path)
        .replace("{{page.css}}", &css.path)
        .replace("{{icon.svg}}", &icon.path);
    let html = Asset::new("index", "html", "text/html; charset=utf-8", &html);
    Assets {
        html,
        js,
        css,
        icon,
    }
});

/// Compresses the assets now, at start-up, rather than on the first
/// viewer's request.
pub(crate) fn prepare() {
    LazyLock::force(&ASSETS);
}

/// The embedded assets are compressed once, as tightly as gzip can.
fn gzip(bytes: &[u8]) -> Vec<u8> {
    gzip_at(bytes, flate2::Compression::best())
}

/// `info.json` is built per request: compressed at gzip's fastest level,
/// which keeps most of the gain (its text repeats) for a fraction of the
/// work.
fn gzip_fast(bytes: &[u8]) -> Vec<u8> {
    gzip_at(bytes, flate2::Compression::fast())
}

fn gzip_at(bytes: &[u8], level: flate2::Compression) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), level);
    encoder
        .write_all(bytes)
        .and_then(|()| encoder.finish())
        .expect("gzip into memory does not fail")
}

/// Whether the request's `Accept-Encoding` takes gzip (and does not refuse
/// it with `q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

/// The security headers every page response carries.
fn secured(mut response: Response, page: &PageConfig, cache: &'static str) -> Response {
    let h = response.headers_mut();
    if let Ok(csp) = HeaderValue::from_str(&content_security_policy(page)) {
        h.insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// An asset's response: gzipped when the client takes it.
fn served(asset: &Asset, request: &HeaderMap, page: &PageConfig, cache: &'static str) -> Response {
    let gzipped = accepts_gzip(request);
    let body = if gzipped { &asset.gzip } else { &asset.plain };
    let mut response = ([(header::CONTENT_TYPE, asset.content_type)], body.clone()).into_response();
    let h = response.headers_mut();
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if gzipped {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    secured(response, page, cache)
}

/// The HTML is small and names the assets by content: revalidated every
/// time, so a new hub's page is picked up at once.
const HTML_CACHE: &str = "no-cache";
/// A content-named asset never changes.
const ASSET_CACHE: &str = "public, max-age=31536000, immutable";
/// The live's state and texts change: never cached.
const INFO_CACHE: &str = "no-store";

fn not_found(page: &PageConfig) -> Response {
    let response = (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        NOT_FOUND_HTML,
    )
        .into_response();
    secured(response, page, INFO_CACHE)
}

fn unavailable(page: &PageConfig) -> Response {
    let response = (
        StatusCode::SERVICE_UNAVAILABLE,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "the hub cannot read its store now; try again\n",
    )
        .into_response();
    secured(response, page, INFO_CACHE)
}

/// `GET /live/{name}`.
pub(crate) async fn html(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    request: HeaderMap,
) -> Response {
    let page = &shared.config.page;
    match shared.lives.info(&name) {
        Ok(Some(_)) => served(&ASSETS.html, &request, page, HTML_CACHE),
        Ok(None) => not_found(page),
        Err(_) => unavailable(page),
    }
}

/// `GET /assets/{file}`: the script or the style, by its content name.
pub(crate) async fn asset(
    State(shared): State<Arc<Shared>>,
    Path(file): Path<String>,
    request: HeaderMap,
) -> Response {
    let page = &shared.config.page;
    let wanted = format!("/assets/{file}");
    [&ASSETS.js, &ASSETS.css, &ASSETS.icon]
        .into_iter()
        .find(|a| a.path == wanted)
        .map_or_else(
            || not_found(page),
            |a| served(a, &request, page, ASSET_CACHE),
        )
}

/// `GET /live/{name}/info.json`: gzipped when the client takes it (about
/// half of what the page loads, uncompressed).
pub(crate) async fn info(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    request: HeaderMap,
) -> Response {
    let config = &shared.config;
    let live = match shared.lives.info(&name) {
        Ok(Some(live)) => live,
        Ok(None) => return not_found(&config.page),
        Err(_) => return unavailable(&config.page),
    };
    let body = info_document(config, &live).to_string();
    let gzipped = accepts_gzip(&request);
    let body = if gzipped {
        gzip_fast(body.as_bytes())
    } else {
        body.into_bytes()
    };
    let mut response = ([(header::CONTENT_TYPE, "application/json")], body).into_response();
    let h = response.headers_mut();
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    if gzipped {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    secured(response, &config.page, INFO_CACHE)
}

/// What the page learns before it connects (Contract B of issue 11).
fn info_document(config: &super::HubConfig, live: &crate::protocol::LiveInfo) -> serde_json::Value {
    let settings = &config.settings;
    let opt_ins: Vec<_> = config
        .consent
        .current()
        .into_iter()
        .filter(|(purpose, _)| match purpose {
            ConsentPurpose::Marketing => settings.email_opt_in,
            // The follow-up offers by SMS are offered with the alert: a
            // separate box, a separate consent (docs/privacy.md).
            ConsentPurpose::SmsReminders | ConsentPurpose::SmsMarketing => settings.sms_alerts,
            ConsentPurpose::PrizeContact => false,
        })
        .map(|(purpose, text)| {
            let (name, collects) = match purpose {
                ConsentPurpose::Marketing => ("marketing", "email"),
                ConsentPurpose::SmsMarketing => ("sms_marketing", "phone"),
                _ => ("sms_reminders", "phone"),
            };
            json!({
                "purpose": name,
                "text": text,
                "text_sha256": super::consent_texts::sha256_hex(text),
                "collects": collects,
            })
        })
        .collect();
    let mut live_json = serde_json::to_value(live).unwrap_or_else(|_| json!({}));
    if live.state == LiveState::Ended
        && let Some(obj) = live_json.as_object_mut()
    {
        obj.insert(
            "closing_message".to_owned(),
            json!(config.page.closing_message),
        );
    }
    json!({
        "live": live_json,
        "opt_ins": opt_ins,
        "privacy": privacy(&config.retention, settings),
        "page": {
            "max_messages": config.page.max_messages,
            "closing_message": config.page.closing_message,
        },
        "ws": "/",
    })
}

/// What is stored about a viewer and for how long, in the brand's periods:
/// a short list in the page's language, the periods in seconds, and the
/// record of processing (`regie privacy register`) entry by entry.
fn privacy(policy: &RetentionPolicy, settings: &crate::protocol::Settings) -> serde_json::Value {
    let mut summary = vec![
        json!({
            "what": "Votre prénom, votre pseudonyme et vos messages",
            "kept": format!("{} après la fin du live, sauf demande d'effacement", french_span(policy.chat)),
        }),
        json!({
            "what": "Vos votes et vos participations aux jeux",
            "kept": format!("{} après la clôture", french_span(policy.draws)),
        }),
        json!({
            "what": "Vos choix de consentement (la preuve de ce que vous avez accepté ou refusé)",
            "kept": french_span(policy.consents),
        }),
        json!({
            "what": "Les sanctions de modération éventuelles",
            "kept": french_span(policy.moderation_notes),
        }),
    ];
    if settings.email_opt_in {
        summary.push(json!({
            "what": "Votre e-mail, seulement si vous acceptez les offres par e-mail",
            "kept": format!("{} après votre dernière visite, ou jusqu'au retrait de votre accord", french_span(policy.marketing)),
        }));
    }
    if settings.sms_alerts {
        summary.push(json!({
            "what": "Votre numéro, seulement si vous demandez l'alerte SMS",
            "kept": format!("{} après votre dernière visite, ou jusqu'au retrait de votre accord", french_span(policy.sms_reminders)),
        }));
    }
    summary.push(json!({
        "what": "Dans votre navigateur : un seul laissez-passer d'appareil (regie.pass), ni cookie ni traceur",
        "kept": "jusqu'à ce que vous effaciez les données du site",
    }));
    let register: Vec<_> = crate::privacy::register::REGISTER
        .iter()
        .map(|f| {
            json!({
                "holds": f.holds,
                "purpose": f.purpose,
                "basis": f.basis.describe(),
                "kept": f.retention.describe(policy),
                "seen_by": f.seen_by,
            })
        })
        .collect();
    json!({
        "summary": summary,
        "retention_secs": {
            "chat": policy.chat.as_secs(),
            "marketing": policy.marketing.as_secs(),
            "sms_reminders": policy.sms_reminders.as_secs(),
            "prize_contact": policy.prize_contact.as_secs(),
            "consents": policy.consents.as_secs(),
            "moderation_notes": policy.moderation_notes.as_secs(),
            "draws": policy.draws.as_secs(),
        },
        "register": register,
    })
}

/// A period in French, in the largest whole unit that states it.
fn french_span(period: std::time::Duration) -> String {
    const DAY: u64 = 86_400;
    let secs = period.as_secs();
    let plural = |n: u64, one: &str, many: &str| {
        if n == 1 {
            format!("1 {one}")
        } else {
            format!("{n} {many}")
        }
    };
    if secs >= 365 * DAY && secs.is_multiple_of(365 * DAY) {
        plural(secs / (365 * DAY), "an", "ans")
    } else if secs >= DAY && secs.is_multiple_of(DAY) {
        plural(secs / DAY, "jour", "jours")
    } else if secs >= 3600 && secs.is_multiple_of(3600) {
        plural(secs / 3600, "heure", "heures")
    } else if secs >= 60 && secs.is_multiple_of(60) {
        plural(secs / 60, "minute", "minutes")
    } else {
        plural(secs, "seconde", "secondes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frame_ancestors_take_origins_and_keywords_only() {
        for ok in [
            "'self'",
            "'none'",
            "https://shop.example.com",
            "https://*.example.com",
            "http://localhost:8080",
        ] {
            assert!(check_frame_ancestor(ok).is_ok(), "{ok}");
        }
        for bad in [
            "shop.example.com",
            "https://a.com; script-src *",
            "https://a.com/path",
            "javascript://x",
            "'unsafe-inline'",
            "https://",
            "https://a.com b.com",
        ] {
            assert!(check_frame_ancestor(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn gzip_is_taken_unless_refused() {
        let mut h = HeaderMap::new();
        assert!(!accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("br, gzip"),
        );
        assert!(accepts_gzip(&h));
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_static("gzip;q=0, br"),
        );
        assert!(!accepts_gzip(&h));
    }

    #[test]
    fn french_spans_use_the_largest_whole_unit() {
        use std::time::Duration;
        assert_eq!(french_span(Duration::from_secs(90 * 86_400)), "90 jours");
        assert_eq!(french_span(Duration::from_secs(3 * 365 * 86_400)), "3 ans");
        assert_eq!(french_span(Duration::from_secs(86_400)), "1 jour");
        assert_eq!(french_span(Duration::from_secs(6 * 3600)), "6 heures");
    }
}
