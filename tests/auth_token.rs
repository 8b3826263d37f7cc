//! `regie token` as an operator uses it: the real binary, a temp data dir.

mod support;

use std::process::Command;

use regie::auth::{AuthError, SigningKey, verify};
use regie::protocol::{ErrorCode, StaffRole};

fn regie_token(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_regie"))
        .arg("token")
        .args(args)
        .env("RUST_LOG", "off")
        .output()
        .expect("run regie token")
}

#[test]
fn prints_only_a_token_that_the_hub_key_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("regie-data");
    // `regie serve` made the key; `regie token` only ever loads it.
    support::tokens::signing_key(&data);
    let out = regie_token(&[
        "--role",
        "moderator",
        "--name",
        "Inès",
        "--ttl",
        "8h",
        "--data",
        data.to_str().unwrap(),
        "--live",
        "soldes",
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        stdout.lines().count(),
        1,
        "stdout is the token alone: {stdout:?}"
    );
    let token = stdout.trim_end();
    assert!(token.starts_with("regie1."));

    // The note on stderr is one line, for a person.
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr:?}");
    assert!(stderr.contains("moderator") && stderr.contains("Inès") && stderr.contains("soldes"));
    assert!(
        !stderr.contains(token),
        "the token is not repeated on stderr"
    );

    // Signed with the key in the data dir.
    let key = SigningKey::load_or_create(&data).unwrap();
    let now = regie::now_millis();
    let claims = verify(&key, token, "soldes", now).unwrap();
    assert_eq!(claims.role, StaffRole::Moderator);
    assert_eq!(claims.name, "Inès");
    assert!(claims.expires_at > now + 7 * 3_600_000);
    assert!(claims.expires_at <= now + 8 * 3_600_000);
    let err = verify(&key, token, "show", now).unwrap_err();
    assert_eq!(err.code(), ErrorCode::WrongLive);
    // A key minted elsewhere does not verify it.
    let other = SigningKey::from_bytes([9; 32]);
    assert!(matches!(
        verify(&other, token, "soldes", now),
        Err(AuthError::BadSignature)
    ));

    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("token.key"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
    }
}

#[test]
fn an_unknown_role_or_empty_name_fails_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let out = regie_token(&["--role", "janitor", "--name", "Bob", "--data", data]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("janitor"));

    let out = regie_token(&["--role", "host", "--name", " \u{200b} ", "--data", data]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("name is empty"));
}

#[cfg(unix)]
#[test]
fn a_key_readable_by_others_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    support::tokens::signing_key(dir.path());
    let key = dir.path().join("token.key");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = regie_token(&["--role", "admin", "--name", "Root", "--data", data]);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty(), "no token minted with an exposed key");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("chmod 600"), "{stderr}");
}
