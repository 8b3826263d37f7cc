//! The independent Python reference (`tests/fixtures/reference_vectors.py`,
//! written from `docs/draws.md` alone) that the known-answer tests check the
//! crate against.

use std::io::Write;
use std::process::{Command, Stdio};

/// What the Python reference answers for `request` (see its docstring), or
/// `None` when python3 is not installed.
pub(crate) fn python(request: &serde_json::Value) -> Option<serde_json::Value> {
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/reference_vectors.py"
    );
    let mut child = match Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
    {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return None,
        Err(e) => panic!("could not run python3: {e}"),
    };
    child
        .stdin
        .take()
        .expect("piped stdin")
        .write_all(request.to_string().as_bytes())
        .expect("write the request to python3");
    let out = child.wait_with_output().expect("python3 runs");
    assert!(out.status.success(), "the Python reference failed");
    Some(serde_json::from_slice(&out.stdout).expect("the Python reference prints JSON"))
}
