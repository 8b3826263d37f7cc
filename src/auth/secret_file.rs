//! 32-byte secret key files in the data dir (the token signing key, the
//! contact-data encryption key).
//!
//! A key file is created atomically: the key is written and synced to a
//! temporary file in the same directory, made with mode 0600 *at creation*
//! (`O_CREAT|O_EXCL` with the mode, so no other user can ever open it), and
//! only then moved to its name. A reader therefore sees no file or a whole
//! key, never an empty or half-written one, even when the hub and a test or
//! `regie token` create the same key at the same moment. The move never
//! replaces an existing key: of two creators racing, the second one loads
//! the first one's key instead of silently invalidating its tokens.
//!
//! An existing key file that the group or others can read is
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
    let dir = match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) => {
            ensure_data_dir(dir)?;
            dir
        }
        None => Path::new("."),
    };
    match load(path) {
        Err(SecretFileError::Io { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound => {}
        loaded => return loaded,
    }
    let mut key = [0u8; SECRET_LEN];
    os_random(&mut key)?;
    let temp = write_temp(dir, path, &key)?;
    let published = publish(&temp, path);
    // The temp name is gone either way once the key is published; on an
    // error it must not be left behind holding a secret.
    let _ = std::fs::remove_file(&temp);
    match published {
        Ok(()) => {
            tracing::info!(path = %path.display(), "created a new secret key file");
            Ok(key)
        }
        // Another creator won the race: its key is the one on disk.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => load(path),
        Err(e) => Err(io(e)),
    }
}

/// Writes `key` to a fresh 0600 temp file next to `path` and syncs it.
fn write_temp(dir: &Path, path: &Path, key: &[u8]) -> Result<PathBuf, SecretFileError> {
    let mut suffix = [0u8; 8];
    os_random(&mut suffix)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let suffix = crate::hex(&suffix);
    let temp = dir.join(format!(".{name}.{suffix}.tmp"));
    let io = |source| SecretFileError::Io {
        path: temp.clone(),
        source,
    };
    let written = create_new(&temp).and_then(|mut file| {
        file.write_all(key)?;
        file.sync_all()
    });
    if let Err(e) = written {
        let _ = std::fs::remove_file(&temp);
        return Err(io(e));
    }
    Ok(temp)
}

/// Moves the complete temp file to `path` unless `path` exists (then
/// `AlreadyExists`). A hard link is the portable rename that never
/// replaces; where the file system has no hard links, a plain rename is
/// the fallback (it can only lose to a creator that raced in the same
/// instant).
fn publish(temp: &Path, path: &Path) -> std::io::Result<()> {
    match std::fs::hard_link(temp, path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(e),
        Err(_) if path.exists() => Err(std::io::ErrorKind::AlreadyExists.into()),
        Err(_) => std::fs::rename(temp, path),
    }
}

/// Loads the key at `path`; a missing file is an `Io` error of kind
/// `NotFound`, and nothing is created.
pub(crate) fn load(path: &Path) -> Result<[u8; SECRET_LEN], SecretFileError> {
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
    let mut buf = zeroize::Zeroizing::new(Vec::with_capacity(SECRET_LEN + 1));
    (&mut file)
        .take(SECRET_LEN as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(io)?;
    <[u8; SECRET_LEN]>::try_from(buf.as_slice()).map_err(|_| SecretFileError::WrongLength {
        path: path.to_path_buf(),
        len: buf.len(),
    })
}

/// Writes `key` to `path`, which must not exist yet (0600 at creation,
/// synced). An existing file holding the same key is fine: a rotation that
/// stopped half-way and runs again retires the same key twice.
pub fn write_new(path: &Path, key: &[u8; SECRET_LEN]) -> Result<(), SecretFileError> {
    let io = |source| SecretFileError::Io {
        path: path.to_path_buf(),
        source,
    };
    match create_new(path) {
        Ok(mut file) => {
            file.write_all(key).map_err(io)?;
            file.sync_all().map_err(io)
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            if load(path)?.as_slice() == key.as_slice() {
                Ok(())
            } else {
                Err(io(e))
            }
        }
        Err(e) => Err(io(e)),
    }
}

/// Replaces the key at `path` with `key` atomically (a synced 0600 temp
/// file renamed over it): a reader sees the old key or the new one, whole.
/// Only key rotation replaces a key; creation never does ([`load_or_create`]).
pub fn replace(path: &Path, key: &[u8; SECRET_LEN]) -> Result<(), SecretFileError> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let temp = write_temp(dir, path, key)?;
    let renamed = std::fs::rename(&temp, path);
    if renamed.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    renamed.map_err(|source| SecretFileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    // The rename is durable once the directory is synced.
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
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

/// A shared secret's file (`[shop] secret_file`, `[crm] secret_file`…):
/// its bytes, without the trailing newline a secret written with `echo`
/// ends in (the other side does not sign with it).
pub fn read_trimmed(file: &Path) -> Result<Vec<u8>, String> {
    let mut bytes =
        std::fs::read(file).map_err(|e| format!("cannot read {}: {e}", file.display()))?;
    while bytes.last().is_some_and(u8::is_ascii_whitespace) {
        bytes.pop();
    }
    Ok(bytes)
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
    fn racing_creators_all_get_the_one_key_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        let keys: Vec<_> = std::thread::scope(|s| {
            let workers: Vec<_> = (0..8).map(|_| s.spawn(|| load_or_create(&path))).collect();
            workers.into_iter().map(|w| w.join().unwrap()).collect()
        });
        let on_disk = std::fs::read(&path).unwrap();
        for key in keys {
            assert_eq!(key.unwrap().as_slice(), on_disk.as_slice());
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["k.key"], "no temp file is left behind");
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
