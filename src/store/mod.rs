//! Persistence. Placeholder: being built.
