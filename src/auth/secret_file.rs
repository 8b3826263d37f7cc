//! 32-byte secret key files in the data dir (the token signing key, the
//! contact-data encryption key).
//!
//! A key file is created with mode 0600 *at creation* (`O_CREAT|O_EXCL`
//! with the mode), so there is no window in which another user could open
//! it. An existing key file that the group or others can read is
//! **refused**, not just warned about: whoever can read the signing key can
//! mint admin tokens, and a warning scrolls away in a service log. The error
//! says how to fix it (`chmod 600`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// Bytes in every secret key file.
pub const SECRET_LEN: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum SecretFileError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} is readable by other users (mode {mode:o}); it holds a secret key. \
         Fix it with `chmod 600 {path}` and try again"
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("{path} holds {len} bytes, not a {SECRET_LEN}-byte key; restore it or remove it")]
    WrongLength { path: PathBuf, len: usize },
    #[error("the operating system's random generator failed: {0}")]
    Random(String),
}

/// Creates the data dir if missing (mode 0700 on Unix: it holds the
/// database with viewers' data and the keys).
pub fn ensure_data_dir(dir: &Path) -> Result<(), SecretFileError> {
    let io = |source| SecretFileError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir).map_err(io)
}

/// Fills `buf` from the operating system's random generator.
pub fn os_random(buf: &mut [u8]) -> Result<(), SecretFileError> {
    use rand::TryRngCore;
    rand::rngs::OsRng
        .try_fill_bytes(buf)
        .map_err(|e| SecretFileError::Random(e.to_string()))
}

/// Loads the key at `path`, or creates it with fresh random bytes.
pub fn load_or_create(path: &Path) -> Result<[u8; SECRET_LEN], SecretFileError> {
    let io = |source| SecretFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        ensure_data_dir(dir)?;
    }
    match create_new(path) {
        Ok(mut file) => {
            let mut key = [0u8; SECRET_LEN];
            os_random(&mut key)?;
            file.write_all(&key).map_err(io)?;
            file.sync_all().map_err(io)?;
            tracing::info!(path = %path.display(), "created a new secret key file");
            Ok(key)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load(path),
        Err(e) => Err(io(e)),
    }
}

fn load(path: &Path) -> Result<[u8; SECRET_LEN], SecretFileError> {
    let io = |source| SecretFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file.metadata().map_err(io)?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(SecretFileError::TooOpen {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    // Read one byte more than a key, so a longer file is caught without
    // reading an arbitrarily large one.
    let mut buf = Vec::with_capacity(SECRET_LEN + 1);
    (&mut file)
        .take(SECRET_LEN as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(io)?;
    <[u8; SECRET_LEN]>::try_from(buf.as_slice()).map_err(|_| SecretFileError::WrongLength {
        path: path.to_path_buf(),
        len: buf.len(),
    })
}

fn create_new(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_then_loads_the_same_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/k.key");
        let a = load_or_create(&path).unwrap();
        let b = load_or_create(&path).unwrap();
        assert_eq!(a, b);
        assert_ne!(a, [0u8; SECRET_LEN]);
    }

    #[cfg(unix)]
    #[test]
    fn key_file_is_created_0600_and_its_dir_0700() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let path = data.join("k.key");
        load_or_create(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dmode = std::fs::metadata(&data).unwrap().permissions().mode() & 0o777;
        assert_eq!(dmode & 0o077, 0, "data dir mode {dmode:o}");
    }

    #[cfg(unix)]
    #[test]
    fn a_world_readable_key_is_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        load_or_create(&path).unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = load_or_create(&path).unwrap_err();
        assert!(matches!(err, SecretFileError::TooOpen { mode: 0o644, .. }));
        assert!(err.to_string().contains("chmod 600"));
    }

    #[test]
    fn a_truncated_key_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        create_new(&path).unwrap().write_all(b"short").unwrap();
        assert!(matches!(
            load_or_create(&path),
            Err(SecretFileError::WrongLength { len: 5, .. })
        ));
    }
}
