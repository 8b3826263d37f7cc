//! Several hub nodes on one PostgreSQL and one Redis, as `regie serve
//! --store postgres://… --bus redis://…` processes: each test gets a
//! database of its own and a Redis of its own (a private `redis-server` on
//! a loopback port, so a test may kill, restart or freeze it without
//! touching another test). Missing PostgreSQL or `redis-server` skips the
//! test, saying why; under CI it fails instead (`.ci/run` installs both).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use regie::protocol::StaffRole;

use super::binary::Served;
use super::hub::TIMEOUT;
use super::postgres::TestSchema;
use super::tmux::under_ci;

/// A private Redis on a loopback port, stopped with the test.
pub(crate) struct PrivateRedis {
    child: Child,
    port: u16,
}

impl PrivateRedis {
    /// `None` (said on stderr) when `redis-server` is not installed.
    pub(crate) fn start() -> Option<PrivateRedis> {
        let installed = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !installed {
            assert!(
                !under_ci(),
                "redis-server is not installed, and under CI it must be (.ci/run installs it)"
            );
            eprintln!("SKIPPED: redis-server is not installed (apt install redis-server)");
            return None;
        }
        // A port the OS just gave out and took back (Redis binds its own).
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        Some(PrivateRedis {
            child: Self::spawn(port),
            port,
        })
    }

    fn spawn(port: u16) -> Child {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
            .args(["--save", "", "--appendonly", "no", "--loglevel", "warning"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        let deadline = Instant::now() + TIMEOUT;
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        child
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills Redis (`kill -9`) and starts a new one on the same port:
    /// every subscription ends, and what is published meanwhile is lost.
    pub(crate) fn restart(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        self.child = Self::spawn(self.port);
    }

    /// Kills Redis and leaves it down.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts it again after [`PrivateRedis::kill`].
    pub(crate) fn start_again(&mut self) {
        self.child = Self::spawn(self.port);
    }

    /// Freezes Redis (`SIGSTOP`): its sockets stay open and say nothing,
    /// as a wedged subscription does.
    pub(crate) fn freeze(&self) {
        self.signal("-STOP");
    }

    pub(crate) fn thaw(&self) {
        self.signal("-CONT");
    }

    fn signal(&self, which: &str) {
        let sent = Command::new("kill")
            .args([which, &self.child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "{which} was not delivered to redis-server");
    }
}

impl Drop for PrivateRedis {
    fn drop(&mut self) {
        self.thaw_quietly();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl PrivateRedis {
    fn thaw_quietly(&self) {
        let _ = Command::new("kill")
            .args(["-CONT", &self.child.id().to_string()])
            .stderr(Stdio::null())
            .status();
    }
}

/// One `regie serve` node of the cluster.
pub(crate) struct Node {
    pub(crate) served: Served,
    /// `ws://127.0.0.1:PORT`.
    pub(crate) url: String,
    pub(crate) data: PathBuf,
}

/// Hub nodes sharing one live through PostgreSQL and Redis.
pub(crate) struct Cluster {
    pub(crate) schema: TestSchema,
    pub(crate) redis: PrivateRedis,
    pub(crate) nodes: Vec<Node>,
    pub(crate) live: String,
    /// The store URL the nodes are given (the schema's, or through a link).
    store: String,
    dirs: tempfile::TempDir,
}

impl Cluster {
    /// `n` nodes serving `live`; `None` when PostgreSQL or Redis is missing
    /// (skipped, said on stderr; not under CI).
    pub(crate) fn start(n: usize, live: &str) -> Option<Cluster> {
        Self::start_via(n, live, std::borrow::ToOwned::to_owned)
    }

    /// [`Cluster::start`], the nodes given `through(schema URL)` as their
    /// store (a [`PgLink`]'s).
    pub(crate) fn start_via(
        n: usize,
        live: &str,
        through: impl FnOnce(&str) -> String,
    ) -> Option<Cluster> {
        let schema = TestSchema::own_database()?;
        let redis = PrivateRedis::start()?;
        let store = through(&schema.url());
        let mut cluster = Cluster {
            schema,
            redis,
            nodes: Vec::new(),
            live: live.to_owned(),
            store,
            dirs: tempfile::tempdir().expect("a temp dir for the nodes"),
        };
        for _ in 0..n {
            cluster.add_node();
        }
        Some(cluster)
    }

    /// Starts one more node; the first makes the keys, the others get a
    /// copy. Returns its index.
    pub(crate) fn add_node(&mut self) -> usize {
        let index = self.nodes.len();
        let data = self.dirs.path().join(format!("node-{index}"));
        std::fs::create_dir_all(&data).expect("a node's data dir");
        if let Some(first) = self.nodes.first() {
            copy_keys(&first.data, &data);
        }
        let node = self.serve(index, &data);
        self.nodes.push(node);
        // Answered once the hub runs, its keys made (the next node's copy).
        self.health(index);
        index
    }

    fn serve(&self, index: usize, data: &Path) -> Node {
        let name = format!("node-{index}");
        let served = Served::start(
            data,
            "warn",
            &[
                "--live",
                &self.live,
                "--store",
                &self.store,
                "--bus",
                &self.redis.url(),
                "--node",
                &name,
            ],
        );
        let url = served.address();
        Node {
            served,
            url,
            data: data.to_path_buf(),
        }
    }

    /// Node `index` again, on its data dir, after it was killed.
    pub(crate) fn restart_node(&mut self, index: usize) {
        let data = self.nodes[index].data.clone();
        self.nodes[index] = self.serve(index, &data);
    }

    pub(crate) fn url(&self, node: usize) -> &str {
        &self.nodes[node].url
    }

    /// A staff token for the live, signed with the cluster's key.
    pub(crate) fn token(&self, role: StaffRole, name: &str) -> String {
        self.token_for(role, name, &self.live)
    }

    /// A staff token for `live`, another of the brand's lives.
    pub(crate) fn token_for(&self, role: StaffRole, name: &str, live: &str) -> String {
        let key = super::tokens::signing_key(&self.nodes[0].data);
        super::tokens::token(&key, role, name, live)
    }

    /// `GET /healthz` of node `index`: status and body.
    pub(crate) fn health(&self, index: usize) -> (u16, String) {
        self.get(index, "/healthz")
    }

    /// `GET path` of node `index`: status and body.
    pub(crate) fn get(&self, index: usize, path: &str) -> (u16, String) {
        http_get(self.http_addr(index), path)
    }

    /// The value of `series` (as written, labels and all) in node
    /// `index`'s `/metrics`; 0 when absent.
    pub(crate) fn metric(&self, index: usize, series: &str) -> f64 {
        let (_, text) = http_get(self.http_addr(index), "/metrics");
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse().ok())
            .unwrap_or(0.0)
    }

    fn http_addr(&self, index: usize) -> &str {
        self.nodes[index]
            .url
            .strip_prefix("ws://")
            .expect("a ws:// address")
    }
}

fn copy_keys(from: &Path, to: &Path) {
    for key in regie::hub::bus::SHARED_KEY_FILES {
        std::fs::copy(from.join(key), to.join(key))
            .unwrap_or_else(|e| panic!("copy {key} to the next node: {e}"));
    }
}

/// A plain HTTP/1.1 GET on loopback: status and body.
fn http_get(addr: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).expect("connect for HTTP");
    stream
        .set_read_timeout(Some(TIMEOUT))
        .expect("a read timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send the request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read the response");
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// A TCP relay between the nodes and PostgreSQL that the test can cut:
/// [`PgLink::cut`] resets every connection and refuses new ones, as the
/// network shows a stopped server; [`PgLink::restore`] lets them through
/// again. (The test server is shared by every test, so it is never itself
/// stopped.)
pub(crate) struct PgLink {
    port: u16,
    upstream: std::net::SocketAddr,
    state: std::sync::Arc<std::sync::Mutex<LinkState>>,
}

#[derive(Default)]
struct LinkState {
    open: bool,
    streams: Vec<std::net::TcpStream>,
}

impl PgLink {
    /// A link to the server of `url`; returns it and `url` through it.
    pub(crate) fn to(url: &str) -> (PgLink, String) {
        let config: postgres::Config = url.parse().expect("a PostgreSQL URL");
        let host = match config.get_hosts().first() {
            Some(postgres::config::Host::Tcp(h)) => h.clone(),
            other => panic!("the test server is not on TCP: {other:?}"),
        };
        let port = config.get_ports().first().copied().unwrap_or(5432);
        let upstream = std::net::ToSocketAddrs::to_socket_addrs(&(host.as_str(), port))
            .expect("resolve the test server")
            .next()
            .expect("an address");
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind the link");
        let local = listener.local_addr().expect("the link's address").port();
        let link = PgLink {
            port: local,
            upstream,
            state: std::sync::Arc::default(),
        };
        link.serve(listener);
        let through = url.replacen(&format!("{host}:{port}"), &format!("127.0.0.1:{local}"), 1);
        assert_ne!(through, url, "the URL names {host}:{port}");
        (link, through)
    }

    fn serve(&self, listener: std::net::TcpListener) {
        self.state.lock().expect("link state").open = true;
        let state = self.state.clone();
        let upstream = self.upstream;
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let mut s = state.lock().expect("link state");
                if !s.open {
                    return;
                }
                let Ok(server) = std::net::TcpStream::connect(upstream) else {
                    continue;
                };
                for stream in [&client, &server] {
                    if let Ok(clone) = stream.try_clone() {
                        s.streams.push(clone);
                    }
                }
                relay(&client, &server);
                relay(&server, &client);
            }
        });
    }

    /// Resets every connection through the link and refuses new ones.
    pub(crate) fn cut(&self) {
        let mut s = self.state.lock().expect("link state");
        s.open = false;
        for stream in s.streams.drain(..) {
            let _ = stream.shutdown(std::net::Shutdown::Both);
        }
        drop(s);
        // Wakes the accept loop, which sees the link closed and lets go of
        // the port: new connections are refused.
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }

    /// Lets connections through again, on the same port.
    pub(crate) fn restore(&self) {
        let deadline = Instant::now() + TIMEOUT;
        let listener = loop {
            match std::net::TcpListener::bind(("127.0.0.1", self.port)) {
                Ok(l) => break l,
                // The accept loop may still hold it for a moment.
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(10));
                }
                Err(e) => panic!("rebind the link's port: {e}"),
            }
        };
        self.serve(listener);
    }
}

/// Copies `from` to `to` on a thread until either side closes.
fn relay(from: &std::net::TcpStream, to: &std::net::TcpStream) {
    let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
        return;
    };
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(std::net::Shutdown::Both);
    });
}
