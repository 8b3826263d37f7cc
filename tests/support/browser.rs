//! A viewer in a real browser: headless Chromium driven through
//! chromedriver (webdriver, with `fantoccini`), one fresh profile per
//! browser, on ports the driver picks itself.
//!
//! webdriver rather than the devtools protocol (`chromiumoxide`): the
//! webdriver client's dependency tree is a fraction of the size (the CDP
//! crate is hundreds of thousands of generated lines), it runs on the tokio
//! the tests already use, and what the tests need (script evaluation,
//! screenshots, a phone's screen through chromedriver's mobile emulation)
//! is all in the standard protocol.
//!
//! Missing Chromium, chromedriver or axe-core skips the test, saying so;
//! under CI it fails instead, as [`super::tmux`] does (`.ci/run` installs
//! all three).

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

use super::hub::TIMEOUT;
use super::tmux::under_ci;

/// The Chromium of Debian's `chromium` package: the real binary, not the
/// `/usr/bin/chromium` wrapper script (which adds flags of its own).
const CHROMIUM: &[&str] = &["/usr/lib/chromium/chromium", "/usr/bin/chromium"];

/// The flags this machine and CI need: no sandbox (containers), no GPU, and
/// nothing that talks to the network behind the test's back.
const FLAGS: &[&str] = &[
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    // `performance.memory` exact, not rounded (the perf measurement reads it).
    "--enable-precise-memory-info",
];

fn chromium() -> Option<&'static str> {
    CHROMIUM.iter().copied().find(|p| Path::new(p).exists())
}

fn skip_or_fail(what: &str) -> bool {
    assert!(
        !under_ci(),
        "{what} is not installed, and under CI it must be (.ci/run installs it)"
    );
    eprintln!("SKIPPED: {what} is not installed (the CI script installs it)");
    false
}

/// Whether Chromium and chromedriver are installed; without them the test
/// is skipped, saying why (under CI it fails).
pub(crate) fn browser_is_installed() -> bool {
    let driver = Command::new("chromedriver")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if chromium().is_some() && driver {
        return true;
    }
    skip_or_fail("headless Chromium with ChromeDriver (Debian: chromium chromium-driver)")
}

/// Where axe-core's `axe.min.js` is: `REGIE_AXE_JS`, else where `.ci/run`
/// installs it (`target/npm`).
fn axe_path() -> PathBuf {
    std::env::var_os("REGIE_AXE_JS").map_or_else(
        || {
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("target/npm/node_modules/axe-core/axe.min.js")
        },
        PathBuf::from,
    )
}

/// axe-core's source, or `None` (the test is skipped; under CI it fails).
pub(crate) fn axe_source() -> Option<String> {
    let path = axe_path();
    if let Ok(source) = std::fs::read_to_string(&path) {
        return Some(source);
    }
    skip_or_fail(&format!(
        "axe-core (npm install --no-save --prefix target/npm axe-core@4; looked at {})",
        path.display()
    ));
    None
}

/// The screen the page is shown on.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Device {
    /// A phone, 390×844 CSS pixels at 3 device pixels each, touch, a mobile
    /// user agent (chromedriver's mobile emulation).
    Phone,
    /// A laptop's window, 1366×900.
    Desktop,
}

impl Device {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Device::Phone => "phone",
            Device::Desktop => "desktop",
        }
    }
}

/// One headless Chromium with its chromedriver and a fresh profile. Close
/// it with [`Browser::close`]; dropped, the driver and its browser are
/// killed by pid.
pub(crate) struct Browser {
    client: Option<Client>,
    driver: Child,
    /// Chromium's `--user-data-dir`, removed when the browser goes.
    profile: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver on a port it picks (read from what it prints),
    /// then a browser session for `device`.
    pub(crate) async fn launch(device: Device) -> Browser {
        let profile = tempfile::tempdir().expect("a profile dir");
        let mut driver = Command::new("chromedriver")
            .args(["--port=0", "--log-level=SEVERE"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let stdout = driver.stdout.take().expect("chromedriver's stdout");
        let port = tokio::time::timeout(
            TIMEOUT,
            tokio::task::spawn_blocking(move || driver_port(stdout)),
        )
        .await
        .expect("chromedriver says its port in time")
        .expect("read chromedriver's output");
        let mut browser = Browser {
            client: None,
            driver,
            profile,
        };
        let port = port.expect("chromedriver prints the port it listens on");
        let caps = capabilities(device, browser.profile.path());
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        let client = tokio::time::timeout(
            TIMEOUT,
            ClientBuilder::new(connector)
                .capabilities(caps)
                .connect(&format!("http://127.0.0.1:{port}")),
        )
        .await
        .expect("a browser session in time")
        .expect("a browser session");
        browser.client = Some(client);
        browser
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("an open session")
    }

    pub(crate) async fn goto(&self, url: &str) {
        self.client().goto(url).await.expect("open the page");
    }

    /// Reloads the page (same profile: `localStorage` stays).
    pub(crate) async fn reload(&self) {
        self.client().refresh().await.expect("reload the page");
    }

    /// Runs `script` (a function body: `return …`, `arguments[i]`) in the page.
    pub(crate) async fn eval(&self, script: &str, args: Vec<Value>) -> Value {
        self.client()
            .execute(script, args)
            .await
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// Polls `condition` (a JS expression) until it is truthy and returns
    /// its value; fails after [`TIMEOUT`] with `what` and the page's text.
    pub(crate) async fn wait_for(&self, what: &str, condition: &str) -> Value {
        let script = format!("return ({condition});");
        let give_up = tokio::time::Instant::now() + TIMEOUT;
        loop {
            let value = self.eval(&script, vec![]).await;
            if truthy(&value) {
                return value;
            }
            if tokio::time::Instant::now() >= give_up {
                let text = self
                    .eval(
                        "return document.body ? document.body.innerText : ''",
                        vec![],
                    )
                    .await;
                panic!("timed out waiting for {what} ({condition}); the page shows:\n{text}");
            }
            // Polling the DOM: WebDriver has no "DOM changed" notification.
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Clicks the element `css` selects, once it is there and shown.
    pub(crate) async fn click(&self, css: &str) {
        self.wait_for(
            &format!("{css} to be shown"),
            &format!("(e => e && e.getClientRects().length > 0)(document.querySelector({css:?}))"),
        )
        .await;
        // The page may draw the element again between the find and the
        // click (a poll's tally redraws its buttons): a person's click lands
        // on the one shown then, so a stale element is found again.
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        loop {
            let clicked = match self.client().find(Locator::Css(css)).await {
                Ok(element) => element.click().await,
                Err(e) => Err(e),
            };
            match clicked {
                Ok(()) => return,
                Err(e) if is_stale(&e) && tokio::time::Instant::now() < deadline => {}
                Err(e) => panic!("click {css}: {e}"),
            }
        }
    }

    /// Types `text` into the field `css` selects, as keys.
    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        self.wait_for(
            &format!("{css} to be shown"),
            &format!("(e => e && e.getClientRects().length > 0)(document.querySelector({css:?}))"),
        )
        .await;
        let field = self
            .client()
            .find(Locator::Css(css))
            .await
            .expect("find the field");
        field.clear().await.expect("clear the field");
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// A screenshot of the viewport, written to `target/screenshots/{name}.png`;
    /// returns the path.
    pub(crate) async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client().screenshot().await.expect("a screenshot");
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).expect("the screenshots dir");
        let path = dir.join(format!("{name}.png"));
        std::fs::write(&path, png).expect("write the screenshot");
        path
    }

    /// Runs axe-core (its `source`) on the page as it is now, limited to
    /// `context` (a selector, or `document`); returns the violations of
    /// impact `serious` or `critical`, each as a readable line.
    pub(crate) async fn axe_serious(&self, source: &str, context: &str) -> Vec<String> {
        self.eval(
            "if (!window.axe) { (0, eval)(arguments[0]); } return true;",
            vec![json!(source)],
        )
        .await;
        let script = "const done = arguments[arguments.length - 1];
            const ctx = arguments[0] === 'document' ? document : document.querySelector(arguments[0]);
            axe.run(ctx, { resultTypes: ['violations'] })
              .then(r => done(r.violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => v.impact + ' ' + v.id + ': ' + v.help + ' — '
                  + v.nodes.map(n => n.target.join(' ')).join(', '))))
              .catch(e => done(['axe failed: ' + e]));";
        let found = self
            .client()
            .execute_async(script, vec![json!(context)])
            .await
            .expect("axe runs");
        found
            .as_array()
            .map(|a| {
                a.iter()
                    .map(|v| v.as_str().unwrap_or_default().to_string())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Ends the session (chromedriver quits Chromium), then the driver.
    pub(crate) async fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = tokio::time::timeout(TIMEOUT, client.close()).await;
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // A session still open (a failed test): kill Chromium, the driver's
        // child, by pid, then the driver.
        if self.client.is_some() {
            kill_children_of(self.driver.id());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// What a webdriver script result counts as: `null`, `false`, 0 and "" are not met.
fn truthy(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// Reads chromedriver's banner up to "… started successfully on port N.",
/// then keeps draining its output so it never blocks on a full pipe.
fn driver_port(stdout: std::process::ChildStdout) -> Option<u16> {
    let mut lines = BufReader::new(stdout).lines();
    let port = lines.by_ref().map_while(Result::ok).find_map(|line| {
        // The first line, "Starting ChromeDriver … on port 0", says what was asked.
        let (_, rest) = line.split_once("started successfully on port ")?;
        rest.trim_end_matches('.').trim().parse().ok()
    });
    std::thread::spawn(move || for _ in lines.map_while(Result::ok) {});
    port
}

fn capabilities(device: Device, profile: &Path) -> serde_json::Map<String, Value> {
    let mut args: Vec<String> = FLAGS.iter().map(|f| (*f).to_string()).collect();
    args.push(format!("--user-data-dir={}", profile.display()));
    // Headless Chromium's window has no frame, but ChromeDriver's window
    // size counts one: the viewport is set exactly through emulation.
    if let Device::Desktop = device {
        args.push("--window-size=1366,900".into());
    }
    let mut options = json!({
        "binary": chromium().expect("checked by browser_is_installed"),
        "args": args,
    });
    if let Device::Desktop = device {
        options["mobileEmulation"] = json!({
            "deviceMetrics": { "width": 1366, "height": 900, "pixelRatio": 1.0, "touch": false, "mobile": false },
        });
    }
    if let Device::Phone = device {
        options["mobileEmulation"] = json!({
            "deviceMetrics": { "width": 390, "height": 844, "pixelRatio": 3.0, "touch": true },
            "userAgent": "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 \
                (KHTML, like Gecko) Chrome/148.0.0.0 Mobile Safari/537.36",
        });
    }
    let caps = json!({
        "browserName": "chrome",
        "goog:chromeOptions": options,
    });
    match caps {
        Value::Object(map) => map,
        _ => unreachable!("an object literal"),
    }
}

/// Kills, by pid, every process whose parent is `parent` (and theirs).
fn kill_children_of(parent: u32) {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    let children: Vec<u32> = entries
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| parent_of(*pid) == Some(parent))
        .collect();
    for child in children {
        kill_children_of(child);
        let _ = Command::new("kill")
            .args(["-KILL", &child.to_string()])
            .status();
    }
}

fn parent_of(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid …`: comm may hold spaces and parentheses.
    let (_, after) = stat.rsplit_once(") ")?;
    after.split_whitespace().nth(1)?.parse().ok()
}

/// Whether the driver said the element is no longer in the page (it was
/// drawn again).
fn is_stale(e: &fantoccini::error::CmdError) -> bool {
    matches!(
        e,
        fantoccini::error::CmdError::Standard(w)
            if w.error == fantoccini::error::ErrorStatus::StaleElementReference
    )
}
