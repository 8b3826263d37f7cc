//! How a hub is set up: which live it runs, where it keeps its data, and the
//! bounds that keep one hostile or slow client from hurting the show.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::protocol::{Millis, Settings};

/// Where a hub node meets the others (`serve --bus`).
#[derive(Debug, Clone)]
pub struct BusConfig {
    /// `redis://host:port/` (or `rediss://`, `redis+unix://`).
    pub url: String,
    /// This node's name among the others: unique per running node.
    pub node: String,
}

/// The PostgreSQL store every live of a node runs on (`serve --store
/// postgres://…`). Its URL may hold a password: `Debug` never shows it.
#[derive(Clone)]
pub struct SharedStore {
    pub url: String,
}

impl std::fmt::Debug for SharedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SharedStore(postgres://…)")
    }
}

/// Everything [`super::serve`] needs. Build it with [`HubConfig::new`] and
/// adjust fields; the defaults are what `regie serve` runs with.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// The live session this hub runs; a `hello` for another live is refused.
    pub live: String,
    /// Holds the SQLite store, the token signing key and the viewer-id secret.
    pub data_dir: PathBuf,
    pub limits: Limits,
    /// Settings every client receives in the snapshot (rate limit, slow mode).
    pub settings: Settings,
    /// Terms that put a viewer message in the hold queue (case-insensitive,
    /// whole words). Empty means no term is blocked.
    pub blocked_terms: Vec<String>,
    /// The brand's other default rules for a new live (block and flag
    /// terms, regexes, the link policy), after the blocked terms. A live
    /// that already has rules in the store keeps its own.
    pub default_rules: Vec<super::moderation::DefaultRule>,
    /// The time the live session runs on: the timestamps of what it
    /// decides, poll deadlines and entry windows. The system clock, except
    /// in tests that move time by hand.
    pub clock: Clock,
    /// How long stored data is kept, and how often the hub sweeps what is
    /// past its time (at start-up, then every `sweep_every`).
    pub retention: crate::store::RetentionPolicy,
    /// How long a held message waits for a moderator before the hub
    /// denies it on the session clock (`[moderation] hold_timeout`).
    pub hold_timeout: Duration,
    /// How long a claim ("Claire is answering") lasts when nothing ends it
    /// sooner, on the session clock (`[moderation] claim_timeout`).
    pub claim_timeout: Duration,
    /// The brand's emergency preset, applied by `shield_on`.
    pub shield: super::shield::ShieldPreset,
    /// Where the store's contact keys are: every store connection the hub
    /// opens for its lives uses them (`<data_dir>`, unless the brand keeps
    /// them elsewhere).
    pub contact_keys: crate::store::contact::KeySource,
    /// The viewer page's settings (`[page]`): who may frame it, how many
    /// messages it keeps, the closing message of an ended live.
    pub page: super::page::settings::PageConfig,
    /// The consent texts of the page's opt-ins (`[consent]`).
    pub consent: super::consent_texts::ConsentTexts,
    /// Who may become a new viewer, and how (`[viewers]`).
    pub viewers: ViewerPolicy,
    /// `https`/`wss` on the hub's port (`serve --tls-cert --tls-key`);
    /// `None` serves plain `http`/`ws`.
    pub tls: Option<crate::tls::ServerTls>,
    /// Several hub nodes on one PostgreSQL: the Redis URL their events go
    /// through, and this node's name on it (`serve --bus`; see `bus`).
    pub bus: Option<BusConfig>,
    /// Where the node's lives are stored when they are shared with other
    /// nodes; `None`: the data dir's SQLite. The default live's store is
    /// the one `serve_with_store` is given; the others, and the list of
    /// lives the page and `hello`s look up, come from here.
    pub shared_store: Option<SharedStore>,
    /// The brand file's `[[products]]`: each live starts with its own and
    /// those for every live.
    pub products: Vec<crate::catalogue::ConfiguredProduct>,
    /// SMS alerts (`[sms]`): the provider, the pace, the template.
    pub sms: crate::sms::config::SmsConfig,
    /// The brand file's `[[canned]]` answers, offered in every live.
    pub canned: Vec<crate::protocol::CannedAnswer>,
    /// The brand file's `[shop] secret_file`: `POST /shop/events` is off
    /// without it.
    pub shop_secret: Option<crate::shop::ShopSecret>,
    /// The brand file's `[crm]`: opt-ins pushed to the brand's CRM, the
    /// e-mail provider's unsubscribe webhook (off by default).
    pub crm: crate::crm::config::CrmConfig,
    /// The brand file's `[report] k`, for the reports staff ask for
    /// (`report`).
    pub report_k: crate::report::K,
}

/// The brand file's `[viewers]`: brand-signed tokens and the budget of new
/// identities.
#[derive(Debug, Clone)]
pub struct ViewerPolicy {
    /// The secret the brand's site signs viewer tokens with; `None` takes
    /// no tokens (`token_secret_file`).
    pub token_secret: Option<crate::auth::viewer_token::ViewerTokenSecret>,
    /// Passes issued per source address and minute: past it, a `hello`
    /// without a valid pass is refused (`rate_limited`).
    pub new_identities_per_minute: u32,
    /// Whether loopback addresses have no budget (a demo, tests).
    pub exempt_loopback: bool,
    /// Reverse proxies whose `X-Forwarded-For` is believed: for a peer in
    /// this list, the source is the header's last hop that is not itself a
    /// trusted proxy (the hops before it are the client's own writing).
    pub trusted_proxies: Vec<std::net::IpAddr>,
}

/// New identities per address and minute unless the brand says otherwise:
/// a family or an office behind one address joins without a refusal, a
/// script minting passes in a loop is stopped within a minute.
pub const DEFAULT_NEW_IDENTITIES_PER_MINUTE: u32 = 30;

impl Default for ViewerPolicy {
    fn default() -> Self {
        Self {
            token_secret: None,
            new_identities_per_minute: DEFAULT_NEW_IDENTITIES_PER_MINUTE,
            exempt_loopback: false,
            trusted_proxies: Vec::new(),
        }
    }
}

/// A held message nobody handled is denied after ten minutes: long enough
/// for a moderator busy elsewhere, short enough that a late approval does
/// not drop a stale line in the chat.
pub const DEFAULT_HOLD_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// A claim nobody acts on ends after two minutes: long enough to type an
/// answer, short enough that a claim forgotten by someone called away
/// frees the question while the viewer still waits.
pub const DEFAULT_CLAIM_TIMEOUT: Duration = Duration::from_secs(120);

impl HubConfig {
    /// The configuration `regie serve` uses for `live` on `data_dir`.
    pub fn new(live: impl Into<String>, data_dir: impl Into<PathBuf>) -> Self {
        let data_dir = data_dir.into();
        Self {
            live: live.into(),
            contact_keys: crate::store::contact::KeySource::Dir(data_dir.clone()),
            data_dir,
            limits: Limits::default(),
            settings: Settings::default(),
            blocked_terms: default_blocked_terms(),
            default_rules: Vec::new(),
            clock: Clock::system(),
            retention: crate::store::RetentionPolicy::default(),
            hold_timeout: DEFAULT_HOLD_TIMEOUT,
            claim_timeout: DEFAULT_CLAIM_TIMEOUT,
            shield: super::shield::ShieldPreset::default(),
            page: super::page::settings::PageConfig::default(),
            consent: super::consent_texts::ConsentTexts::default(),
            viewers: ViewerPolicy::default(),
            tls: None,
            bus: None,
            shared_store: None,
            products: Vec::new(),
            canned: Vec::new(),
            sms: crate::sms::config::SmsConfig::default(),
            shop_secret: None,
            crm: crate::crm::config::CrmConfig::default(),
            report_k: crate::report::K::default(),
        }
    }
}

/// Where the hub reads the time, in milliseconds since the Unix epoch.
#[derive(Clone)]
pub struct Clock(Arc<dyn Fn() -> Millis + Send + Sync>);

impl Clock {
    /// The system clock ([`crate::now_millis`]): what `regie serve` runs on.
    pub fn system() -> Self {
        Self(Arc::new(crate::now_millis))
    }

    /// A clock that reads `now` each time the hub asks the time.
    pub fn from_fn(now: impl Fn() -> Millis + Send + Sync + 'static) -> Self {
        Self(Arc::new(now))
    }

    /// The time now, by this clock.
    pub fn now(&self) -> Millis {
        (self.0)()
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::system()
    }
}

impl std::fmt::Debug for Clock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Clock")
    }
}

/// The hub's bounds. Each one exists so that memory, CPU or the show's
/// latency cannot be driven by a single client.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Open WebSocket connections beyond this are refused with `full` (4013).
    pub max_connections: usize,
    /// Frames waiting to be written to one connection. When a reader falls
    /// this far behind it is cut with close code 4008 (`slow`), so it can
    /// never stall the show nor grow the hub's memory.
    pub send_queue_frames: usize,
    /// The kernel's send buffer for each connection (`SO_SNDBUF`), in
    /// bytes; Linux doubles the value for its bookkeeping. Without a cap
    /// the kernel grows it to several megabytes per socket, so a reader
    /// that stopped reading would hold that much kernel memory and take
    /// that much more before `send_queue_frames` is reached. `None` leaves
    /// the kernel's own sizing.
    pub send_buffer_bytes: Option<usize>,
    /// A connection that sends nothing (not even a pong) for this long is
    /// closed with 4009.
    pub idle_timeout: Duration,
    /// How often the hub pings each connection.
    pub ping_interval: Duration,
    /// How long a client has to send `hello` after connecting.
    pub hello_timeout: Duration,
    /// How often the viewers-online count is broadcast (only when changed).
    pub viewers_online_interval: Duration,
    /// Chat entries in a welcome snapshot.
    pub recent_in_snapshot: usize,
    /// Open questions in a welcome snapshot (oldest first).
    pub open_questions_in_snapshot: usize,
    /// The longest gap a resume replays; further back, the client reloads.
    pub max_replay_events: u64,
    /// Messages whose moderation state the session keeps in memory; older
    /// ones are looked up in the store when a staff command targets them.
    pub message_cache: usize,
    /// Commands the actor takes from its inbox into one store transaction.
    pub max_batch: usize,
    /// Group commit: after the first item of a turn, how long the actor
    /// waits for more (up to `max_batch`) before it decides and commits
    /// them in one transaction. A commit's cost is mostly per transaction,
    /// not per row, so at a chat burst's rate a few milliseconds turn many
    /// small transactions into one. Acks still follow the commit, so this
    /// is added to a command's latency (never to an idle hub's: the wait
    /// starts with the first item). Zero commits what is queued at once.
    pub commit_window: Duration,
    /// Frames the session actor's inbox holds before connections wait.
    pub inbox_frames: usize,
    /// Consecutive unparseable frames after which a connection is closed
    /// with 4000: one bad frame gets an error, a flood gets the door.
    pub max_bad_frames: u32,
    /// How long a connection that is being closed (slow, banned, shutdown)
    /// gets to take its `bye` and close frame before the socket is dropped.
    pub close_grace: Duration,
    /// Command outcomes remembered in memory for retries (the store keeps
    /// them all; this only saves a read).
    pub outcome_cache: usize,
    /// How long an outcome stays in that memory: retries come within
    /// seconds of a reconnect, so older outcomes are left to the store and
    /// a crowd's leave memory once it is gone.
    pub outcome_memory: Duration,
    /// How often the hub's clock looks at polls and instant wins: closes
    /// what reached its deadline and pushes changed tallies (at most four a
    /// second whatever this is).
    pub game_clock: Duration,
    /// The length of one second of a poll duration or an entry window.
    /// One second, except in tests that need windows to end quickly.
    pub game_second: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 20_000,
            send_queue_frames: 1024,
            send_buffer_bytes: Some(64 * 1024),
            idle_timeout: Duration::from_secs(45),
            ping_interval: Duration::from_secs(15),
            hello_timeout: Duration::from_secs(10),
            viewers_online_interval: Duration::from_secs(2),
            recent_in_snapshot: 100,
            open_questions_in_snapshot: 100,
            max_replay_events: 10_000,
            message_cache: 10_000,
            max_batch: 512,
            commit_window: Duration::from_millis(5),
            inbox_frames: 8192,
            max_bad_frames: 16,
            close_grace: Duration::from_secs(5),
            outcome_cache: 50_000,
            outcome_memory: Duration::from_secs(5 * 60),
            game_clock: Duration::from_millis(250),
            game_second: Duration::from_secs(1),
        }
    }
}

/// A short starter list, French and English, so the hold queue has
/// something to catch out of the box. Brands replace it.
pub fn default_blocked_terms() -> Vec<String> {
    [
        "connard",
        "connasse",
        "salope",
        "enculé",
        "pute",
        "fuck",
        "fucking",
        "bitch",
        "asshole",
        "idiot",
        "arnaqueur",
        "scammer",
    ]
    .into_iter()
    .map(String::from)
    .collect()
}
