//! Schema migrations, applied in order and tracked by `PRAGMA user_version`.
