//! The brand file's `[crm]`: where the hub pushes new marketing opt-ins
//! (and their withdrawals), the secret it signs them with, and the e-mail
//! provider whose unsubscribe webhook withdraws the consent. Secrets come
//! from a file or the environment and are never printed.

use std::path::Path;
use std::time::Duration;

use toml::de::DeValue;

use crate::sms::config::{Secret, duration, text, whole};

/// The password of the e-mail unsubscribe webhook's Basic credentials
/// when the file names none.
pub const WEBHOOK_PASSWORD_ENV: &str = "REGIE_CRM_WEBHOOK_PASSWORD";

/// The shortest signing secret accepted (256 bits).
pub const MIN_SECRET_BYTES: usize = 32;

/// The e-mail providers whose unsubscribe webhook the hub reads.
pub const PROVIDERS: &[&str] = &["brevo"];

/// The secret regie signs its pushes with and checks the CRM's signed
/// unsubscribes against (HMAC-SHA256, [`crate::sms::signature`]).
#[derive(Clone, PartialEq, Eq)]
pub struct CrmSecret(zeroize::Zeroizing<Vec<u8>>);

impl std::fmt::Debug for CrmSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CrmSecret(..)")
    }
}

impl CrmSecret {
    /// The secret, or why it is unusable (too short).
    pub fn new(bytes: Vec<u8>) -> Result<Self, String> {
        if bytes.len() < MIN_SECRET_BYTES {
            return Err(format!(
                "the CRM secret holds {} bytes; at least {MIN_SECRET_BYTES} are needed",
                bytes.len()
            ));
        }
        Ok(Self(zeroize::Zeroizing::new(bytes)))
    }

    pub fn bytes(&self) -> &[u8] {
        &self.0
    }
}

/// `[crm]`, with the defaults `regie serve` runs with (everything off).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrmConfig {
    /// `push_url`: where each new marketing opt-in and each withdrawal is
    /// sent (a POST); unset, nothing is pushed.
    pub push_url: Option<String>,
    /// `secret_file`: signs the pushes, and checks the signed generic
    /// unsubscribe (`POST /webhooks/email/unsubscribe`).
    pub secret: Option<CrmSecret>,
    /// `unsubscribe_provider`: the e-mail provider whose webhook calls
    /// `/webhooks/email/{provider}/{webhook_secret}` with Basic
    /// credentials (`webhook_user`, `webhook_password` or
    /// [`WEBHOOK_PASSWORD_ENV`]).
    pub unsubscribe_provider: Option<String>,
    pub webhook_user: String,
    pub webhook_password: Secret,
    pub webhook_secret: Secret,
    /// `max_attempts`: tries of one push before it is failed.
    pub max_attempts: u32,
    /// `backoff`: the first retry's wait, doubled each time (a
    /// `Retry-After` wins).
    pub backoff: Duration,
    /// `poll_every`: how often the pusher looks for new consents.
    pub poll_every: Duration,
}

impl Default for CrmConfig {
    fn default() -> Self {
        Self {
            push_url: None,
            secret: None,
            unsubscribe_provider: None,
            webhook_user: "regie".to_owned(),
            webhook_password: Secret::default(),
            webhook_secret: Secret::default(),
            max_attempts: 8,
            backoff: Duration::from_secs(2),
            poll_every: Duration::from_secs(1),
        }
    }
}

impl CrmConfig {
    /// Whether any part of `[crm]` is on.
    pub fn is_on(&self) -> bool {
        self.push_url.is_some() || self.secret.is_some() || self.unsubscribe_provider.is_some()
    }

    /// Sets `[crm] key` (`path` without the `crm.`); `Ok(false)`: no such
    /// key. A secret file is read now, so a missing or short one stops
    /// `serve` before it binds.
    pub(crate) fn set(&mut self, base: &Path, key: &str, v: &DeValue<'_>) -> Result<bool, String> {
        match key {
            "push_url" => {
                let url = text(v)?;
                if !(url.starts_with("https://") || url.starts_with("http://")) {
                    return Err(format!("{url:?} is not an http(s) URL"));
                }
                self.push_url = Some(url);
            }
            "secret_file" => {
                let file = base.join(text(v)?);
                let bytes = crate::auth::secret_file::read_trimmed(&file)?;
                self.secret = Some(
                    CrmSecret::new(bytes).map_err(|why| format!("{}: {why}", file.display()))?,
                );
            }
            "unsubscribe_provider" => {
                let p = text(v)?;
                if !PROVIDERS.contains(&p.as_str()) {
                    return Err(format!("{p:?} is not one of {PROVIDERS:?}"));
                }
                self.unsubscribe_provider = Some(p);
            }
            "webhook_user" => self.webhook_user = text(v)?,
            "webhook_password" => self.webhook_password = Secret::new(text(v)?),
            "webhook_secret" => self.webhook_secret = Secret::new(text(v)?),
            "max_attempts" => self.max_attempts = u32::try_from(whole(v, 1, 100)?).unwrap_or(1),
            "backoff" => self.backoff = duration(v)?,
            "poll_every" => self.poll_every = duration(v)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// What the keys need of each other, once all are read.
    pub(crate) fn finish(&mut self) -> Result<(), String> {
        if self.webhook_password.is_empty()
            && let Ok(p) = std::env::var(WEBHOOK_PASSWORD_ENV)
        {
            self.webhook_password = Secret::new(p);
        }
        if self.push_url.is_some() && self.secret.is_none() {
            return Err("crm.push_url needs crm.secret_file (pushes are signed)".to_owned());
        }
        if self.unsubscribe_provider.is_some()
            && (self.webhook_secret.is_empty() || self.webhook_password.is_empty())
        {
            return Err(format!(
                "crm.unsubscribe_provider needs crm.webhook_secret and crm.webhook_password \
                 (or {WEBHOOK_PASSWORD_ENV})"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    fn parse(dir: &std::path::Path, text: &str) -> Result<super::CrmConfig, String> {
        crate::brand::BrandConfig::parse(&dir.join("brand.toml"), text)
            .map(|c| c.config.crm)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn the_crm_keys_are_read_and_checked_together() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("crm.secret"),
            format!("{}\n", "k".repeat(40)),
        )
        .unwrap();
        std::fs::write(dir.path().join("short.secret"), "short").unwrap();
        let c = parse(
            dir.path(),
            "[crm]\npush_url = \"https://crm.example/hook\"\nsecret_file = \"crm.secret\"\n\
             unsubscribe_provider = \"brevo\"\nwebhook_secret = \"p\"\nwebhook_password = \"w\"\n",
        )
        .unwrap();
        assert_eq!(c.push_url.as_deref(), Some("https://crm.example/hook"));
        assert_eq!(c.secret.as_ref().map(|s| s.bytes().len()), Some(40));
        assert!(c.is_on());
        assert!(
            !format!("{c:?}").contains("kkkk"),
            "the secret is not in Debug"
        );
        assert!(!parse(dir.path(), "").unwrap().is_on());
        for (text, says) in [
            (
                "[crm]\npush_url = \"https://crm.example\"\n",
                "needs crm.secret_file",
            ),
            (
                "[crm]\npush_url = \"ftp://crm.example\"\n",
                "not an http(s) URL",
            ),
            (
                "[crm]\nsecret_file = \"short.secret\"\n",
                "at least 32 are needed",
            ),
            ("[crm]\nsecret_file = \"missing.secret\"\n", "cannot read"),
            (
                "[crm]\nunsubscribe_provider = \"sendgrid\"\n",
                "is not one of",
            ),
            (
                "[crm]\nunsubscribe_provider = \"brevo\"\n",
                "needs crm.webhook_secret",
            ),
        ] {
            let e = parse(dir.path(), text).unwrap_err();
            assert!(e.contains(says), "{text:?}: {e}");
        }
    }
}
