//! The merge tags an SMS template may hold, checked when the brand file is
//! read ([`super::config`]) and again when a message is written
//! ([`super::template`]). Pure.

/// The tags an alert template may hold.
pub const TAGS: &[&str] = &["first_name", "live_title", "start_time", "link"];

/// Why a message cannot be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error(
        "unknown merge tag {{{0}}} in the SMS template (known: {{first_name}} {{live_title}} {{start_time}} {{link}})"
    )]
    Unknown(String),
    #[error("merge tag {{{0}}} has no value for this message")]
    Missing(String),
}

/// Whether every tag of `template` is one an alert knows.
pub fn check(template: &str) -> Result<(), TemplateError> {
    match crate::merge_tags::tags_in(template)
        .into_iter()
        .find(|t| !TAGS.contains(t))
    {
        Some(t) => Err(TemplateError::Unknown(t.to_owned())),
        None => Ok(()),
    }
}

/// Whether `template` needs `[sms] link`.
pub fn uses_link(template: &str) -> bool {
    crate::merge_tags::tags_in(template).contains(&"link")
}
