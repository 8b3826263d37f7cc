//! The brand file's `[sms]`: which provider sends, how fast, what the
//! alert says, and the credentials (from the file or the environment,
//! never printed: [`Secret`]'s `Debug` is redacted).

use std::path::PathBuf;
use std::time::Duration;

use toml::de::DeValue;

/// The Twilio auth token when the file names none.
pub const TWILIO_TOKEN_ENV: &str = "REGIE_TWILIO_AUTH_TOKEN";
/// The Brevo API key when the file names none.
pub const BREVO_KEY_ENV: &str = "REGIE_BREVO_API_KEY";
/// The password of the inbound webhook's Basic credentials (Brevo, file).
pub const WEBHOOK_PASSWORD_ENV: &str = "REGIE_SMS_WEBHOOK_PASSWORD";

/// A credential: kept in memory, never in a log line or a `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

/// Who sends the messages.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum ProviderConfig {
    /// No provider: no alert is queued (the default).
    #[default]
    Off,
    /// JSON lines appended to a local file (demo, development).
    File { path: PathBuf },
    /// Twilio's REST Messages API.
    Twilio {
        base_url: String,
        account_sid: String,
        auth_token: Secret,
        /// The sender: a number or a messaging service id (`MG…`).
        from: String,
    },
    /// Brevo's transactional SMS API.
    Brevo {
        base_url: String,
        api_key: Secret,
        /// The alphanumeric sender (11 characters at most).
        sender: String,
    },
}

impl ProviderConfig {
    /// The provider's name in `/webhooks/sms/{provider}`.
    pub fn name(&self) -> &'static str {
        match self {
            ProviderConfig::Off => "off",
            ProviderConfig::File { .. } => "file",
            ProviderConfig::Twilio { .. } => "twilio",
            ProviderConfig::Brevo { .. } => "brevo",
        }
    }
}

/// `[sms]`, with the defaults `regie serve` runs with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmsConfig {
    pub provider: ProviderConfig,
    /// `rate_per_second`: messages handed to the provider per second.
    pub rate_per_second: u32,
    /// `lead_minutes`: the alert is queued this long before a scheduled
    /// live's start; 0 (default): when it goes on air.
    pub lead_minutes: u32,
    /// `template`: the alert, with `{first_name}`, `{live_title}`,
    /// `{start_time}`, `{link}`.
    pub template: String,
    /// `follow_up`: the promotional follow-up an admin sends to a segment
    /// of an ended live, with the same merge tags; held for quiet hours.
    pub follow_up: String,
    /// The brand named at the head of every message (`brand` of the file,
    /// or `[sms] sender_name`).
    pub sender_name: String,
    /// `opt_out`: the free opt-out instruction every message ends with.
    pub opt_out: String,
    /// `link`: the viewer page's public base URL (`{link}` is
    /// `<link>/live/<name>`); unset, a template with `{link}` is refused.
    pub link: Option<String>,
    /// `stop_reply`, `start_reply`, `help_reply`: the answers to keywords.
    pub stop_reply: String,
    pub start_reply: String,
    /// `resubscribed_reply`: the answer to a START that restored the
    /// alerts a STOP ended ([`super::resubscribe`]).
    pub resubscribed_reply: String,
    pub help_reply: String,
    /// `public_url`: the hub's base URL as the provider calls it (the URL
    /// Twilio signs); unset, `http://<Host>`.
    pub public_url: Option<String>,
    /// `webhook_user` and the password ([`WEBHOOK_PASSWORD_ENV`] or
    /// `webhook_password`): the Basic credentials of an unsigned provider's
    /// webhook, whose path also carries `webhook_secret`.
    pub webhook_user: String,
    pub webhook_password: Secret,
    pub webhook_secret: Secret,
    /// `max_attempts`: tries of one message before it is failed.
    pub max_attempts: u32,
    /// `backoff`: the first retry's wait, doubled each time (a
    /// `Retry-After` wins).
    pub backoff: Duration,
    /// `poll_every`: how often the sender looks for lives to alert and
    /// messages due.
    pub poll_every: Duration,
}

impl Default for SmsConfig {
    fn default() -> Self {
        Self {
            provider: ProviderConfig::Off,
            rate_per_second: 10,
            lead_minutes: 0,
            template: "{first_name}, « {live_title} » commence à {start_time}".to_owned(),
            follow_up: "{first_name}, merci d'avoir suivi « {live_title} » ! Nos offres vous \
                        attendent."
                .to_owned(),
            sender_name: "regie".to_owned(),
            opt_out: "STOP au 36111".to_owned(),
            link: None,
            stop_reply: "Vous ne recevrez plus nos alertes SMS. START pour les recevoir à nouveau."
                .to_owned(),
            start_reply: "Pour recevoir à nouveau nos alertes, inscrivez-vous sur la page du live."
                .to_owned(),
            resubscribed_reply: "Vous recevrez à nouveau nos alertes SMS pour nos prochains lives."
                .to_owned(),
            help_reply: "Alertes SMS de début de live.".to_owned(),
            public_url: None,
            webhook_user: "regie".to_owned(),
            webhook_password: Secret::default(),
            webhook_secret: Secret::default(),
            max_attempts: 6,
            backoff: Duration::from_secs(2),
            poll_every: Duration::from_secs(1),
        }
    }
}

/// The `[sms]` keys as read; the provider is built once all are known
/// ([`SmsKeys::finish`]).
#[derive(Debug, Default)]
pub(crate) struct SmsKeys {
    provider: Option<String>,
    path: Option<PathBuf>,
    base_url: Option<String>,
    account_sid: Option<String>,
    auth_token: Option<Secret>,
    from: Option<String>,
    api_key: Option<Secret>,
}

pub(crate) fn text(v: &DeValue<'_>) -> Result<String, String> {
    v.as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("expected a string, found {}", v.type_str()))
}

pub(crate) fn whole(v: &DeValue<'_>, min: u64, max: u64) -> Result<u64, String> {
    let n = v
        .as_integer()
        .ok_or_else(|| format!("expected a whole number, found {}", v.type_str()))?;
    u64::from_str_radix(n.as_str(), n.radix())
        .ok()
        .filter(|n| (min..=max).contains(n))
        .ok_or_else(|| format!("{n} is not between {min} and {max}"))
}

pub(crate) fn duration(v: &DeValue<'_>) -> Result<Duration, String> {
    let t = text(v)?;
    humantime::parse_duration(t.trim())
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(|| format!("{t:?} is not a duration like \"2s\""))
}

impl SmsKeys {
    /// Sets `[sms] key` (`path` without the `sms.`); `Ok(false)`: no such
    /// key.
    pub(crate) fn set(
        &mut self,
        c: &mut SmsConfig,
        base: &std::path::Path,
        key: &str,
        v: &DeValue<'_>,
    ) -> Result<bool, String> {
        match key {
            "provider" => self.provider = Some(text(v)?),
            "path" => self.path = Some(base.join(text(v)?)),
            "base_url" => self.base_url = Some(text(v)?.trim_end_matches('/').to_owned()),
            "account_sid" => self.account_sid = Some(text(v)?),
            "auth_token" => self.auth_token = Some(Secret::new(text(v)?)),
            "from" => self.from = Some(text(v)?),
            "api_key" => self.api_key = Some(Secret::new(text(v)?)),
            "rate_per_second" => {
                c.rate_per_second = u32::try_from(whole(v, 1, 1000)?).unwrap_or(1000);
            }
            "lead_minutes" => {
                c.lead_minutes = u32::try_from(whole(v, 0, 7 * 24 * 60)?).unwrap_or(0);
            }
            "template" => {
                let t = text(v)?;
                super::tags::check(&t).map_err(|e| e.to_string())?;
                c.template = t;
            }
            "follow_up" => {
                let t = text(v)?;
                super::tags::check(&t).map_err(|e| e.to_string())?;
                c.follow_up = t;
            }
            "sender_name" => c.sender_name = text(v)?,
            "opt_out" => {
                let t = text(v)?;
                if t.trim().is_empty() {
                    return Err("every SMS must carry an opt-out instruction".to_owned());
                }
                c.opt_out = t;
            }
            "link" => c.link = Some(text(v)?.trim_end_matches('/').to_owned()),
            "stop_reply" => c.stop_reply = text(v)?,
            "start_reply" => c.start_reply = text(v)?,
            "resubscribed_reply" => c.resubscribed_reply = text(v)?,
            "help_reply" => c.help_reply = text(v)?,
            "public_url" => c.public_url = Some(text(v)?.trim_end_matches('/').to_owned()),
            "webhook_user" => c.webhook_user = text(v)?,
            "webhook_password" => c.webhook_password = Secret::new(text(v)?),
            "webhook_secret" => c.webhook_secret = Secret::new(text(v)?),
            "max_attempts" => c.max_attempts = u32::try_from(whole(v, 1, 100)?).unwrap_or(1),
            "backoff" => c.backoff = duration(v)?,
            "poll_every" => c.poll_every = duration(v)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// The provider the keys name, credentials from the environment when
    /// the file has none.
    pub(crate) fn finish(self, c: &mut SmsConfig) -> Result<(), String> {
        let env = |name: &str| std::env::var(name).ok().map(Secret::new);
        if c.webhook_password.is_empty()
            && let Some(p) = env(WEBHOOK_PASSWORD_ENV)
        {
            c.webhook_password = p;
        }
        let need = |v: Option<String>, key: &str| v.ok_or_else(|| format!("sms.{key} is needed"));
        c.provider = match self.provider.as_deref().unwrap_or("off") {
            "off" => ProviderConfig::Off,
            "file" => ProviderConfig::File {
                path: self
                    .path
                    .ok_or_else(|| "sms.path is needed for provider \"file\"".to_owned())?,
            },
            "twilio" => ProviderConfig::Twilio {
                base_url: self
                    .base_url
                    .unwrap_or_else(|| "https://api.twilio.com".to_owned()),
                account_sid: need(self.account_sid, "account_sid")?,
                auth_token: self
                    .auth_token
                    .or_else(|| env(TWILIO_TOKEN_ENV))
                    .ok_or_else(|| format!("sms.auth_token (or {TWILIO_TOKEN_ENV}) is needed"))?,
                from: need(self.from, "from")?,
            },
            "brevo" => ProviderConfig::Brevo {
                base_url: self
                    .base_url
                    .unwrap_or_else(|| "https://api.brevo.com".to_owned()),
                api_key: self
                    .api_key
                    .or_else(|| env(BREVO_KEY_ENV))
                    .ok_or_else(|| format!("sms.api_key (or {BREVO_KEY_ENV}) is needed"))?,
                sender: need(self.from, "from")?,
            },
            other => {
                return Err(format!(
                    "sms.provider {other:?} is not one of \"off\", \"file\", \"twilio\", \"brevo\""
                ));
            }
        };
        for (key, template) in [("template", &c.template), ("follow_up", &c.follow_up)] {
            if c.link.is_none() && super::tags::uses_link(template) {
                return Err(format!("sms.{key} uses {{link}}: set sms.link"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<crate::brand::Checked, crate::brand::BrandError> {
        crate::brand::BrandConfig::parse(std::path::Path::new("/etc/regie/brand.toml"), text)
    }

    #[test]
    fn the_brand_file_sets_the_provider_and_names_the_brand() {
        let checked = parse(
            "brand = \"Maison Lina\"\n[sms]\nprovider = \"twilio\"\naccount_sid = \"AC1\"\n\
             auth_token = \"tok\"\nfrom = \"+33700000000\"\nrate_per_second = 3\n\
             template = \"{first_name} : {link}\"\nlink = \"https://lina.example/\"\n",
        )
        .unwrap();
        assert!(checked.warnings.is_empty(), "{:?}", checked.warnings);
        let sms = &checked.config.sms;
        assert_eq!(sms.rate_per_second, 3);
        assert_eq!(sms.sender_name, "Maison Lina");
        assert_eq!(sms.link.as_deref(), Some("https://lina.example"));
        assert!(matches!(
            &sms.provider,
            ProviderConfig::Twilio { base_url, account_sid, .. }
                if base_url == "https://api.twilio.com" && account_sid == "AC1"
        ));
    }

    #[test]
    fn bad_sms_settings_are_refused_with_their_key() {
        for (text, says) in [
            (
                "[sms]\ntemplate = \"{prenom}\"\n",
                "unknown merge tag {prenom}",
            ),
            ("[sms]\nopt_out = \" \"\n", "opt-out"),
            ("[sms]\nprovider = \"sendgrid\"\n", "is not one of"),
            ("[sms]\nprovider = \"file\"\n", "sms.path is needed"),
            ("[sms]\ntemplate = \"{link}\"\n", "set sms.link"),
            (
                "[sms]\nfollow_up = \"{link}\"\n",
                "sms.follow_up uses {link}",
            ),
            (
                "[sms]\nfollow_up = \"{code}\"\n",
                "unknown merge tag {code}",
            ),
            ("[sms]\nrate_per_second = 0\n", "between 1 and 1000"),
        ] {
            let e = parse(text).map(|_| ()).unwrap_err().to_string();
            assert!(e.contains(says), "{text:?}: {e}");
        }
        let typo = parse("[sms]\nrate_per_secnd = 3\n").unwrap();
        assert_eq!(typo.warnings[0].key, "sms.rate_per_secnd");
    }

    #[test]
    fn secrets_are_not_in_debug_output() {
        let c = ProviderConfig::Twilio {
            base_url: "https://api.twilio.com".into(),
            account_sid: "AC1".into(),
            auth_token: Secret::new("tok-very-secret"),
            from: "+33600000000".into(),
        };
        let shown = format!("{c:?}");
        assert!(!shown.contains("tok-very-secret"), "{shown}");
        assert!(shown.contains("Secret(..)"));
    }
}
