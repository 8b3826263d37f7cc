//! A real hub on `127.0.0.1:0` with a temporary data dir: the one way tests
//! start a hub, from async tests ([`TestHub`]) and from plain `#[test]`s
//! ([`BlockingHub`]).
//!
//! The signing key is created before the hub starts, so tokens minted by
//! the test always verify (see [`super::tokens`]).
//!
//! Ports are never bound, dropped and bound again (another test could take
//! them in between): a hub that restarts at the same address serves on a
//! listener the test keeps ([`KeptPort`]), and a hub nobody can reach is a
//! port the test keeps closed ([`ClosedPort`]).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

use regie::auth::SigningKey;
use regie::hub::{Clock, HubConfig, HubError, Limits, serve, serve_with_store};
use regie::protocol::{Hello, Millis, StaffRole};
use regie::store::Store;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use super::client::{self, Client, Closed, Ws};
use super::tokens;

/// The longest any test waits for one thing to happen.
pub(crate) const TIMEOUT: Duration = Duration::from_secs(20);

/// The live a test hub runs unless told otherwise.
pub(crate) const LIVE: &str = "show";

/// A running hub. Dropping it without [`TestHub::stop`] aborts it.
pub(crate) struct TestHub {
    pub(crate) addr: SocketAddr,
    pub(crate) url: String,
    pub(crate) live: String,
    pub(crate) data_dir: PathBuf,
    /// Owns the temp dir when the hub created it.
    pub(crate) tempdir: Option<tempfile::TempDir>,
    pub(crate) key: SigningKey,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<Result<(), HubError>>>,
}

/// Where a hub starts; the `TestHub::start*` constructors fill it in.
struct Launch<'a> {
    live: &'a str,
    data_dir: &'a Path,
    listener: Listen<'a>,
    store: Option<Box<dyn Store>>,
}

/// The socket a hub serves on.
enum Listen<'a> {
    /// A fresh port of its own.
    AnyPort,
    /// A copy of a listening socket the test keeps.
    Kept(&'a KeptPort),
}

/// A listening socket on a loopback port that the test keeps for as long
/// as it needs the address: hubs serve on copies of it
/// ([`TestHub::start_on`], [`TestHub::restart`]), so between two hubs the
/// port stays this test's. While no hub serves, a client's connection is
/// taken by the kernel and waits, unanswered, for the next hub, as with a
/// socket handed from one process to the next on a restart.
pub(crate) struct KeptPort {
    listener: std::net::TcpListener,
    pub(crate) addr: SocketAddr,
}

impl KeptPort {
    pub(crate) fn bind() -> KeptPort {
        let listener = std::net::TcpListener::bind(any_port()).expect("bind a loopback port");
        listener
            .set_nonblocking(true)
            .expect("a non-blocking listener");
        let addr = listener.local_addr().expect("the kept port's address");
        KeptPort { listener, addr }
    }

    /// Another handle on the same listening socket, for one hub to serve on
    /// and close when it stops; the port stays open through this one.
    fn copy(&self) -> TcpListener {
        let copy = self.listener.try_clone().expect("copy the kept listener");
        TcpListener::from_std(copy).expect("serve on the kept listener")
    }
}

/// A loopback port bound to a socket that never listens: connecting to it
/// is refused at once, as to a port where no hub runs, and as long as the
/// test holds this value no other socket can bind the port.
pub(crate) struct ClosedPort {
    _socket: tokio::net::TcpSocket,
    pub(crate) addr: SocketAddr,
}

impl ClosedPort {
    pub(crate) fn bind() -> ClosedPort {
        // Not `SO_REUSEADDR` (a fresh `TcpSocket` does not set it), so the
        // port is this socket's alone.
        let socket = tokio::net::TcpSocket::new_v4().expect("a TCP socket");
        socket.bind(any_port()).expect("bind a loopback port");
        let addr = socket.local_addr().expect("the closed port's address");
        ClosedPort {
            _socket: socket,
            addr,
        }
    }
}

/// A hub clock the test moves by hand ([`HubConfig::clock`]): it starts at
/// the system time and stands still until the test sets it. Clones share
/// the time, so hubs restarted on the same clock continue from it.
#[derive(Clone)]
pub(crate) struct ManualClock(Arc<AtomicI64>);

impl ManualClock {
    pub(crate) fn new() -> ManualClock {
        ManualClock(Arc::new(AtomicI64::new(regie::now_millis())))
    }

    pub(crate) fn now(&self) -> Millis {
        self.0.load(Ordering::SeqCst)
    }

    /// Moves the time to `at` (ms since the Unix epoch).
    pub(crate) fn set(&self, at: Millis) {
        self.0.store(at, Ordering::SeqCst);
    }

    /// The clock for a hub's configuration.
    pub(crate) fn clock(&self) -> Clock {
        let time = self.0.clone();
        Clock::from_fn(move || time.load(Ordering::SeqCst))
    }
}

/// Undoes the kit's one change to `HubConfig::new` (viewers-online events
/// once an hour instead of every few seconds), for tests that want the hub
/// exactly as `regie serve` runs it. A crowd needs it: a viewer settles its
/// last line as held only when a later event arrives.
pub(crate) fn as_shipped(config: &mut HubConfig) {
    config.limits.viewers_online_interval = Limits::default().viewers_online_interval;
}

fn any_port() -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], 0))
}

impl TestHub {
    /// A hub with the default configuration on a fresh temp dir.
    pub(crate) async fn start() -> TestHub {
        Self::start_with(|_| {}).await
    }

    /// A hub on a fresh temp dir, with `tweak` applied to its configuration.
    pub(crate) async fn start_with(tweak: impl FnOnce(&mut HubConfig)) -> TestHub {
        Self::start_live(LIVE, tweak).await
    }

    /// A hub running `live` on a fresh temp dir.
    pub(crate) async fn start_live(live: &str, tweak: impl FnOnce(&mut HubConfig)) -> TestHub {
        let dir = tempfile::tempdir().expect("temp dir");
        let launch = Launch {
            live,
            data_dir: dir.path(),
            listener: Listen::AnyPort,
            store: None,
        };
        let mut hub = Self::launch(launch, tweak).await;
        hub.tempdir = Some(dir);
        hub
    }

    /// A hub on an existing data dir (a restart).
    pub(crate) async fn start_in(data_dir: &Path, tweak: impl FnOnce(&mut HubConfig)) -> TestHub {
        let launch = Launch {
            live: LIVE,
            data_dir,
            listener: Listen::AnyPort,
            store: None,
        };
        Self::launch(launch, tweak).await
    }

    /// A hub on `data_dir` with a store of the test's choice (a fault
    /// injector, another backend).
    pub(crate) async fn start_with_store(
        data_dir: &Path,
        store: Box<dyn Store>,
        tweak: impl FnOnce(&mut HubConfig),
    ) -> TestHub {
        let launch = Launch {
            live: LIVE,
            data_dir,
            listener: Listen::AnyPort,
            store: Some(store),
        };
        Self::launch(launch, tweak).await
    }

    /// A hub running `live` on a fresh temp dir, serving on `port`, which
    /// the test keeps so that [`TestHub::restart`] can serve there again.
    pub(crate) async fn start_on(
        port: &KeptPort,
        live: &str,
        tweak: impl FnOnce(&mut HubConfig),
    ) -> TestHub {
        let dir = tempfile::tempdir().expect("temp dir");
        let launch = Launch {
            live,
            data_dir: dir.path(),
            listener: Listen::Kept(port),
            store: None,
        };
        let mut hub = Self::launch(launch, tweak).await;
        hub.tempdir = Some(dir);
        hub
    }

    /// Starts `live` again where a stopped hub ran: on the port it served
    /// on (so its clients reconnect to the same URL, and connections made
    /// while no hub ran are served now) and the data dir [`TestHub::stop`]
    /// returned.
    pub(crate) async fn restart(
        port: &KeptPort,
        live: &str,
        dir: tempfile::TempDir,
        tweak: impl FnOnce(&mut HubConfig),
    ) -> TestHub {
        let launch = Launch {
            live,
            data_dir: dir.path(),
            listener: Listen::Kept(port),
            store: None,
        };
        let mut hub = Self::launch(launch, tweak).await;
        hub.tempdir = Some(dir);
        hub
    }

    async fn launch(launch: Launch<'_>, tweak: impl FnOnce(&mut HubConfig)) -> TestHub {
        let Launch {
            live,
            data_dir,
            listener,
            store,
        } = launch;
        let mut config = HubConfig::new(live, data_dir);
        // Viewers-online events would interleave with what tests count;
        // the test about them sets its own interval, [`as_shipped`] puts
        // the hub's back.
        config.limits.viewers_online_interval = Duration::from_secs(3600);
        // Every test viewer is a new identity from loopback; the test of
        // the budget turns this off.
        config.viewers.exempt_loopback = true;
        tweak(&mut config);
        // Before the hub starts, so the two never race to create it.
        let key = tokens::signing_key(data_dir);
        let listener = match listener {
            Listen::AnyPort => TcpListener::bind(any_port()).await.expect("bind"),
            Listen::Kept(port) => port.copy(),
        };
        let addr = listener.local_addr().expect("addr");
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let task = match store {
            None => tokio::spawn(serve(listener, config, shutdown)),
            Some(store) => tokio::spawn(serve_with_store(listener, config, store, shutdown)),
        };
        TestHub {
            addr,
            url: format!("ws://{addr}/"),
            live: live.to_string(),
            data_dir: data_dir.to_path_buf(),
            tempdir: None,
            key,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Shuts the hub down gracefully and waits for `serve` to return.
    /// Returns the temp dir (if the hub owned one) so a restart can reuse it.
    pub(crate) async fn stop(mut self) -> Option<tempfile::TempDir> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let result = tokio::time::timeout(TIMEOUT, task)
                .await
                .expect("serve returns after shutdown")
                .expect("serve task");
            result.expect("serve ends without error");
        }
        self.tempdir.take()
    }

    /// A staff token for this hub's live, valid for an hour.
    pub(crate) fn token(&self, role: StaffRole, name: &str) -> String {
        tokens::token(&self.key, role, name, &self.live)
    }

    /// A token that expired an hour ago.
    pub(crate) fn expired_token(&self, role: StaffRole, name: &str) -> String {
        tokens::expired_token(&self.key, role, name, &self.live)
    }

    /// A token signed with some other key.
    pub(crate) fn forged_token(&self, role: StaffRole, name: &str) -> String {
        tokens::forged_token(role, name, &self.live)
    }

    /// `GET path` on the hub's port; returns (status, body).
    pub(crate) async fn http_get(&self, path: &str) -> (u16, String) {
        self.http("GET", path, &[], "").await
    }

    /// One HTTP/1.1 request on the hub's port (`Connection: close`, a
    /// `Content-Length` when there is a body); returns (status, body).
    pub(crate) async fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, String)],
        body: &str,
    ) -> (u16, String) {
        use std::fmt::Write as _;
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        if !body.is_empty() {
            let _ = write!(req, "Content-Length: {}\r\n", body.len());
        }
        for (name, value) in headers {
            let _ = write!(req, "{name}: {value}\r\n");
        }
        req.push_str("\r\n");
        req.push_str(body);
        let fut = async {
            let mut tcp = TcpStream::connect(self.addr).await.expect("connect");
            tcp.write_all(req.as_bytes()).await.expect("write");
            let mut buf = Vec::new();
            // The hub may close before reading an oversized body whole.
            let _ = tcp.read_to_end(&mut buf).await;
            let text = String::from_utf8_lossy(&buf).into_owned();
            let status = text
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let body = text
                .split_once("\r\n\r\n")
                .map(|(_, b)| b.to_string())
                .unwrap_or_default();
            (status, body)
        };
        tokio::time::timeout(TIMEOUT, fut)
            .await
            .expect("the hub answers in time")
    }

    /// The value of a metric line (`name{labels}`) in `/metrics`, 0 if absent.
    pub(crate) async fn metric(&self, series: &str) -> f64 {
        let (_, body) = self.http_get("/metrics").await;
        body.lines()
            .find_map(|l| {
                let (name, value) = l.rsplit_once(' ')?;
                (name == series).then(|| value.parse().ok())?
            })
            .unwrap_or(0.0)
    }

    /// Opens a plain WebSocket to the hub, without saying hello.
    pub(crate) async fn raw(&self) -> Ws {
        client::connect(&self.url).await
    }

    pub(crate) fn viewer_hello(&self, first_name: &str) -> Hello {
        client::viewer_hello(&self.live, first_name)
    }

    pub(crate) fn staff_hello(&self, role: StaffRole, name: &str) -> Hello {
        client::staff_hello(&self.live, &self.token(role, name))
    }

    /// A viewer that joined.
    pub(crate) async fn viewer(&self, first_name: &str) -> Client {
        self.join(self.viewer_hello(first_name)).await
    }

    /// A viewer with a test key: the same viewer on every join with that
    /// key (see [`client::keyed_viewer_hello`]).
    pub(crate) async fn viewer_with_key(&self, first_name: &str, key: &str) -> Client {
        self.join(client::keyed_viewer_hello(&self.live, first_name, key))
            .await
    }

    /// A staff member that joined.
    pub(crate) async fn staff(&self, role: StaffRole, name: &str) -> Client {
        self.join(self.staff_hello(role, name)).await
    }

    /// Says `hello` and expects a welcome.
    pub(crate) async fn join(&self, hello: Hello) -> Client {
        match self.try_join(hello).await {
            Ok(c) => c,
            Err(refused) => panic!("join refused: {refused:?}"),
        }
    }

    /// Says `hello`; a refusal returns what the hub said before closing.
    pub(crate) async fn try_join(&self, hello: Hello) -> Result<Client, Closed> {
        let scope = self.data_dir.display().to_string();
        Client::try_join_in(&self.url, &scope, hello).await
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// A [`TestHub`] with its own runtime, for `#[test]`s that drive the
/// `regie` binary from the test thread while the hub serves on the
/// runtime's workers. Derefs to the hub.
pub(crate) struct BlockingHub {
    // Declared first: dropped (aborted) before the runtime goes.
    hub: TestHub,
    rt: tokio::runtime::Runtime,
}

impl BlockingHub {
    /// A hub with the default configuration on a fresh temp dir.
    pub(crate) fn start() -> BlockingHub {
        Self::start_with(|_| {})
    }

    /// A hub on a fresh temp dir, with `tweak` applied to its configuration.
    pub(crate) fn start_with(tweak: impl FnOnce(&mut HubConfig)) -> BlockingHub {
        let rt = tokio::runtime::Runtime::new().expect("tokio runtime");
        let hub = rt.block_on(TestHub::start_with(tweak));
        BlockingHub { hub, rt }
    }

    /// Runs `future` on the hub's runtime.
    pub(crate) fn block_on<F: std::future::Future>(&self, future: F) -> F::Output {
        self.rt.block_on(future)
    }

    /// Shuts the hub down gracefully and waits for `serve` to return.
    pub(crate) fn stop(self) {
        let BlockingHub { hub, rt } = self;
        rt.block_on(hub.stop());
    }
}

impl std::ops::Deref for BlockingHub {
    type Target = TestHub;

    fn deref(&self) -> &TestHub {
        &self.hub
    }
}

/// Polls `done` until it holds, for a condition no event announces (a
/// metric, a row in the store); fails after [`TIMEOUT`].
pub(crate) async fn wait_until<F: std::future::Future<Output = bool>>(
    what: &str,
    done: impl Fn() -> F,
) {
    let give_up = tokio::time::Instant::now() + TIMEOUT;
    while !done().await {
        assert!(
            tokio::time::Instant::now() < give_up,
            "timed out waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}
