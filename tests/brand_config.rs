//! The brand configuration file as an operator uses it: `regie serve
//! --config brand.toml` (or `REGIE_CONFIG`, or `<data>/regie.toml`) and
//! `regie config check FILE`, on the real binary.

mod support;

use std::path::Path;

use regie::protocol::{CloseCode, Command, ErrorCode, Settings};
use support::binary::{Served, run};
use support::client::{Client, close_code, viewer_hello};

/// Lines serve writes to stderr up to and including its "serving" line.
fn until_serving(serve: &Served) -> Vec<String> {
    let mut lines = Vec::new();
    loop {
        let line = serve
            .line(support::hub::TIMEOUT)
            .unwrap_or_else(|| panic!("serve never said it serves; it said {lines:?}"));
        let serving = line.contains("serving");
        lines.push(line);
        if serving {
            return lines;
        }
    }
}

fn url_in(line: &str) -> String {
    line.split_whitespace()
        .find(|w| w.starts_with("ws://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_string()
}

fn write(path: &Path, text: &str) -> String {
    std::fs::write(path, text).expect("the test writes its brand file");
    path.display().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_key_is_a_warning_with_file_line_and_key_and_serve_serves() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir.path().join("brand.toml"),
        "brand = \"Maison Lumière\"\n[live]\nslow_mode = 30\n",
    );
    let data = dir.path().join("data");
    let mut serve = Served::start(&data, "warn", &["--config", &file]);
    let lines = until_serving(&serve);
    let warning = lines
        .iter()
        .find(|l| l.contains("warning"))
        .unwrap_or_else(|| panic!("no warning in {lines:?}"));
    assert!(
        warning.contains(&format!("{file}:3:")) && warning.contains("live.slow_mode"),
        "{warning}"
    );
    let serving = lines.last().unwrap();
    assert!(serving.contains("for \"Maison Lumière\""), "{serving}");

    let viewer = Client::try_join(&url_in(serving), viewer_hello("show", "Julie"))
        .await
        .unwrap_or_else(|c| panic!("refused: {:?}", c.code));
    drop(viewer);
    serve.interrupt();
    let exit = serve.wait(support::hub::TIMEOUT).expect("serve exits");
    assert!(exit.success(), "{exit:?}");
}

#[test]
fn a_bad_value_exits_2_naming_file_line_and_key_before_binding() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        &dir.path().join("brand.toml"),
        "brand = \"B\"\n\n[limits]\nmax_connections = 0\n",
    );
    // The address is taken: a serve that reached its bind would fail with
    // "cannot listen" (exit 1), so exit 2 on the file means it never got
    // that far.
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listen = taken.local_addr().unwrap().to_string();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    for (flag, env) in [
        (vec!["--config", file.as_str()], vec![]),
        (vec![], vec![("REGIE_CONFIG", file.as_str())]),
    ] {
        let mut args = vec!["serve", "--listen", &listen, "--data", data];
        args.extend(flag);
        let ran = run(&args, &env);
        assert_eq!(ran.code, 2, "{}", ran.stderr);
        assert!(
            ran.stderr.contains(&format!("{file}:4:"))
                && ran.stderr.contains("limits.max_connections"),
            "{}",
            ran.stderr
        );
        assert!(!ran.stderr.contains("cannot listen"), "{}", ran.stderr);
        assert!(!ran.stderr.contains("serving"), "{}", ran.stderr);
        assert!(!Path::new(data).exists(), "the data dir was made");
    }
}

#[test]
fn config_check_accepts_the_documented_example() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/brand.toml");
    let ran = run(&["config", "check", example], &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(!ran.stderr.contains("warning"), "{}", ran.stderr);
    // One line: what is in force.
    assert_eq!(ran.stdout.lines().count(), 1, "{}", ran.stdout);
    assert!(
        ran.stdout.contains("brand \"Maison Lumière\"") && ran.stdout.contains("20000 connections"),
        "{}",
        ran.stdout
    );
}

#[test]
fn config_check_warns_on_unknown_keys_and_refuses_bad_values() {
    let dir = tempfile::tempdir().unwrap();
    let typo = write(
        &dir.path().join("typo.toml"),
        "[live]\nslow_mode_secs = 12\n[retention]\nchats = \"7d\"\n",
    );
    let ran = run(&["config", "check", &typo], &[]);
    assert_eq!(ran.code, 0, "{}", ran.stderr);
    assert!(
        ran.stderr.contains(&format!("{typo}:4:")) && ran.stderr.contains("retention.chats"),
        "{}",
        ran.stderr
    );
    assert!(ran.stdout.contains("slow mode 12s"), "{}", ran.stdout);

    let bad = write(
        &dir.path().join("bad.toml"),
        "[retention]\nchat = \"7d\"\naudit = \"forever\"\n",
    );
    let ran = run(&["config", "check", &bad], &[]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains(&format!("{bad}:3:")) && ran.stderr.contains("retention.audit"),
        "{}",
        ran.stderr
    );
    assert!(ran.stdout.is_empty(), "{}", ran.stdout);

    let missing = dir.path().join("missing.toml");
    let ran = run(&["config", "check", missing.to_str().unwrap()], &[]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_dirs_brand_file_sets_the_lives_defaults_and_the_limits() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(data.join("keys")).unwrap();
    write(
        &data.join("regie.toml"),
        "[live]\nmax_message_graphemes = 12\nslow_mode_secs = 7\nviewer_burst = 3\n\
         [limits]\nmax_connections = 1\n[keys]\ndir = \"keys\"\n",
    );
    let mut serve = Served::start(&data, "warn", &[]);
    let lines = until_serving(&serve);
    let url = url_in(lines.last().unwrap());

    let mut julie = Client::try_join(&url, viewer_hello("show", "Julie"))
        .await
        .unwrap_or_else(|c| panic!("refused: {:?}", c.code));
    let settings = &julie.welcome.snapshot.as_ref().unwrap().settings;
    assert_eq!(
        *settings,
        Settings {
            max_message_graphemes: 12,
            slow_mode_secs: 7,
            viewer_burst: 3,
            ..Settings::default()
        }
    );
    // The length applies, not only the number shown.
    let refused = julie
        .refused(Command::Say {
            text: "thirteen char".into(),
            question: false,
            announcement: false,
        })
        .await;
    assert_eq!(refused.code, ErrorCode::MessageTooLong);

    // One connection is the limit: the next is refused as full.
    let refused = Client::try_join(&url, viewer_hello("show", "Inès"))
        .await
        .err()
        .expect("a second viewer is refused");
    assert_eq!(refused.error_code(), Some(ErrorCode::Full));
    assert_eq!(refused.code, Some(close_code(CloseCode::Full)));

    // `[keys] dir` is taken from the file's directory.
    assert!(data.join("keys").join("contact.key").exists());
    assert!(!data.join("contact.key").exists());

    drop(julie);
    serve.interrupt();
    let exit = serve.wait(support::hub::TIMEOUT).expect("serve exits");
    assert!(exit.success(), "{exit:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_keys_flag_wins_over_the_files_keys_dir() {
    let dir = tempfile::tempdir().unwrap();
    let (from_file, from_flag) = (dir.path().join("file-keys"), dir.path().join("flag-keys"));
    std::fs::create_dir_all(&from_file).unwrap();
    std::fs::create_dir_all(&from_flag).unwrap();
    let file = write(
        &dir.path().join("brand.toml"),
        "[keys]\ndir = \"file-keys\"\n",
    );
    let mut serve = Served::start(
        &dir.path().join("data"),
        "warn",
        &["--config", &file, "--keys", from_flag.to_str().unwrap()],
    );
    until_serving(&serve);
    assert!(from_flag.join("contact.key").exists());
    assert!(!from_file.join("contact.key").exists());
    serve.interrupt();
    let exit = serve.wait(support::hub::TIMEOUT).expect("serve exits");
    assert!(exit.success(), "{exit:?}");
}

/// `[viewers]` through `regie serve`: a brand token is taken with the
/// secret the file names, and with loopback not exempt the budget of new
/// identities refuses the next new viewer. A short secret stops serve.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viewers_section_takes_brand_tokens_and_budgets_new_identities() {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
    use hmac::Mac;

    let dir = tempfile::tempdir().unwrap();
    let secret = "un-secret-partage-avec-le-site-de-la-marque";
    write(&dir.path().join("viewer.secret"), &format!("{secret}\n"));
    write(&dir.path().join("short.secret"), "court");
    let short = write(
        &dir.path().join("short.toml"),
        "[viewers]\ntoken_secret_file = \"short.secret\"\n",
    );
    let ran = run(&["config", "check", &short], &[]);
    assert_eq!(ran.code, 2, "{}", ran.stderr);
    assert!(
        ran.stderr.contains(&format!("{short}:2:"))
            && ran.stderr.contains("viewers.token_secret_file")
            && ran.stderr.contains("at least 32"),
        "{}",
        ran.stderr
    );

    let file = write(
        &dir.path().join("brand.toml"),
        "[viewers]\ntoken_secret_file = \"viewer.secret\"\nnew_identities_per_minute = 1\n",
    );
    let mut serve = Served::start(&dir.path().join("data"), "warn", &["--config", &file]);
    let lines = until_serving(&serve);
    let url = url_in(lines.last().unwrap());

    let signed = format!(
        "{}.{}",
        B64.encode(r#"{"alg":"HS256","typ":"JWT"}"#),
        B64.encode(format!(
            r#"{{"viewer":"acct-7","first_name":"Camille","exp":{}}}"#,
            regie::now_millis() / 1000 + 600
        ))
    );
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(signed.as_bytes());
    let token = format!("{signed}.{}", B64.encode(mac.finalize().into_bytes()));
    let mut hello = viewer_hello("show", "Cam");
    if let regie::protocol::Auth::Viewer { token: t, .. } = &mut hello.auth {
        *t = Some(token);
    }
    let camille = Client::try_join(&url, hello)
        .await
        .unwrap_or_else(|c| panic!("token refused: {c:?}"));
    assert_eq!(camille.welcome.you.name, "Camille");

    let first = Client::try_join(&url, viewer_hello("show", "Julie"))
        .await
        .unwrap_or_else(|c| panic!("refused: {c:?}"));
    assert!(first.welcome.pass.is_some());
    let refused = Client::try_join(&url, viewer_hello("show", "Inès"))
        .await
        .err()
        .expect("one new identity a minute from this address");
    assert_eq!(refused.error_code(), Some(ErrorCode::RateLimited));
    drop((camille, first));
    serve.interrupt();
    let exit = serve.wait(support::hub::TIMEOUT).expect("serve exits");
    assert!(exit.success(), "{exit:?}");
}

/// The brand file's `[[products]]` and `[[canned]]`: read in file order,
/// products numbered from 1 and given to one live or to every live.
#[test]
fn products_and_canned_answers_are_read_and_hostile_entries_refused() {
    use regie::brand::BrandConfig;
    let file = Path::new("/etc/regie/brand.toml");
    let good = "[[products]]\nname = \"Robe Lina\"\nprice = \"49 €\"\nlink = \"https://shop.example.com/lina\"\n\
                [[products]]\nname = \"Sac Noé\"\nprice = \"89 €\"\nlive = \"other-show\"\n\
                [[canned]]\ntitle = \"Livraison\"\ntext = \"{first_name}, c'est offert pendant {live}\"\n";
    let checked = BrandConfig::parse(file, good).expect("a good file");
    assert!(checked.warnings.is_empty(), "{:?}", checked.warnings);
    let c = &checked.config;
    let ids: Vec<(u32, Option<&str>)> = c
        .products
        .iter()
        .map(|p| (p.product.id, p.live.as_deref()))
        .collect();
    assert_eq!(ids, [(1, None), (2, Some("other-show"))]);
    assert_eq!(
        c.products[0].product.link.as_deref(),
        Some("https://shop.example.com/lina")
    );
    assert_eq!(regie::catalogue::products_for(&c.products, "show").len(), 1);
    assert_eq!(
        regie::catalogue::products_for(&c.products, "other-show").len(),
        2
    );
    assert_eq!(c.canned[0].title, "Livraison");
    assert!(
        c.summary().contains("2 products, 1 canned answers"),
        "{}",
        c.summary()
    );
}

/// A hostile `[[products]]` or `[[canned]]` entry is an error naming the
/// file, the line and the entry; a typo in one is a warning.
#[test]
fn hostile_products_and_canned_answers_are_refused_naming_the_entry() {
    use regie::brand::BrandConfig;
    let file = Path::new("/etc/regie/brand.toml");
    let refused = |text: &str| {
        BrandConfig::parse(file, text)
            .err()
            .unwrap_or_else(|| panic!("accepted: {text}"))
            .to_string()
    };
    let cases = [
        (
            "[[canned]]\ntitle = \"Prix\"\ntext = \"{prix} seulement\"\n",
            "canned[1].text",
            "{prix}",
            ":3:",
        ),
        (
            "[[canned]]\ntitle = \"\"\ntext = \"x\"\n",
            "canned[1].title",
            "empty",
            ":2:",
        ),
        (
            "[[canned]]\ntitle = \"ok\"\ntext = \"ok\"\n[[canned]]\ntext = \"no title\"\n",
            "canned[2].title",
            "empty",
            "",
        ),
        (
            "[[products]]\nname = \"Robe\"\nprice = \"1 €\"\nlink = \"javascript:alert(1)\"\n",
            "products[1].link",
            "http(s)",
            ":4:",
        ),
        (
            "[[products]]\nname = \"Robe\"\nprice = \"1 €\"\nlink = \"ftp://x.org\"\n",
            "products[1].link",
            "http(s)",
            ":4:",
        ),
        (
            &format!(
                "[[products]]\nname = \"{}\"\nprice = \"1 €\"\n",
                "x".repeat(81)
            ),
            "products[1].name",
            "at most 80",
            ":2:",
        ),
        (
            &format!(
                "[[canned]]\ntitle = \"t\"\ntext = \"{}\"\n",
                "x".repeat(501)
            ),
            "canned[1].text",
            "at most 500",
            ":3:",
        ),
        (
            "[[products]]\nname = \"Robe\"\nprice = \"1 €\"\nlive = \"../etc\"\n",
            "products[1].live",
            "live name",
            ":4:",
        ),
        (
            "[[products]]\nname = \"Robe\"\nprice = 12\n",
            "products[1].price",
            "expected a string",
            ":3:",
        ),
        ("products = \"Robe\"\n", "products", "[[products]]", ":1:"),
    ];
    for (text, key, why, line) in cases {
        let e = refused(text);
        assert!(e.contains(key) && e.contains(why), "{text:?}: {e}");
        assert!(e.contains(&format!("brand.toml{line}")), "{text:?}: {e}");
    }
    // An unknown key of an entry is a warning naming it, not an error.
    let typo = BrandConfig::parse(
        file,
        "[[products]]\nname = \"Robe\"\nprice = \"1 €\"\nprix = \"2 €\"\n",
    )
    .expect("a typo is a warning");
    assert_eq!(typo.warnings.len(), 1);
    assert!(typo.warnings[0].to_string().contains("products[1].prix"));
    // Hundreds of long entries: refused, not a welcome over the frame limit.
    let entry = format!(
        "[[canned]]\ntitle = \"t\"\ntext = \"{}\"\n",
        "é".repeat(400)
    );
    let huge = (0..300)
        .map(|i| entry.replace("\"t\"", &format!("\"t{i}\"")))
        .collect::<Vec<_>>()
        .concat();
    assert!(refused(&huge).contains("KiB"));
}
