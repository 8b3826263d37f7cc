//! The alert's text: the brand's template with its merge tags filled per
//! recipient, the brand named first and the opt-out last (CNIL: the
//! advertiser's identity and a free opt-out in every SMS). Pure.
//!
//! A tag regie does not know, or one without a value, is an error before
//! anything leaves: a raw `{…}` is never sent.

use crate::protocol::Millis;

use super::config::SmsConfig;
pub use super::tags::{TAGS, TemplateError, check, uses_link};

/// What one recipient's alert is filled with.
#[derive(Debug, Clone, Default)]
pub struct AlertValues {
    pub first_name: String,
    pub live_title: String,
    /// The live's start: its scheduled start, else when it went on air.
    pub start_time: Option<Millis>,
    /// The live's name, for `{link}`.
    pub live: String,
}

/// The alert for one recipient: `<brand> : <template filled> <opt-out>`.
pub fn alert(config: &SmsConfig, values: &AlertValues) -> Result<String, TemplateError> {
    filled(config, &config.template, values)
}

/// The post-live follow-up for one recipient (`[sms] follow_up`), framed
/// as the alert is.
pub fn follow_up(config: &SmsConfig, values: &AlertValues) -> Result<String, TemplateError> {
    filled(config, &config.follow_up, values)
}

/// `template` with one recipient's values, framed.
fn filled(
    config: &SmsConfig,
    template: &str,
    values: &AlertValues,
) -> Result<String, TemplateError> {
    check(template)?;
    let filled = |v: &str| Some(v.trim()).filter(|v| !v.is_empty()).map(str::to_owned);
    let body = crate::merge_tags::expand_named(template, |tag| match tag {
        "first_name" => filled(&values.first_name),
        "live_title" => filled(&values.live_title),
        "start_time" => values.start_time.map(paris_time),
        "link" => config
            .link
            .as_ref()
            .filter(|_| !values.live.is_empty())
            .map(|l| format!("{l}/live/{}", values.live)),
        _ => None,
    })
    .map_err(|missing| TemplateError::Missing(missing.join(", ")))?;
    Ok(framed(config, &body))
}

/// A reply (keyword answers) framed as every message is.
pub fn framed(config: &SmsConfig, body: &str) -> String {
    format!(
        "{} : {} {}",
        config.sender_name.trim(),
        body.trim(),
        config.opt_out.trim()
    )
}

/// `HHhMM` in Europe/Paris (the offset [`super::quiet_hours`] keeps: the
/// EU rule, one definition of it).
pub fn paris_time(at: Millis) -> String {
    let local = (at + super::quiet_hours::utc_offset_ms(at)).div_euclid(1000);
    let in_day = local.rem_euclid(86_400);
    format!("{:02}h{:02}", in_day / 3600, in_day % 3600 / 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> SmsConfig {
        SmsConfig {
            template: "{first_name}, « {live_title} » à {start_time} : {link}".into(),
            sender_name: "Maison Lina".into(),
            opt_out: "STOP au 36111".into(),
            link: Some("https://lina.example".into()),
            ..SmsConfig::default()
        }
    }

    fn values() -> AlertValues {
        AlertValues {
            first_name: "Léa".into(),
            live_title: "Soldes".into(),
            // 2026-12-02 18:00 UTC = 19h00 in Paris (winter).
            start_time: Some(1_796_234_400_000),
            live: "soldes".into(),
        }
    }

    #[test]
    fn every_tag_is_filled_and_the_brand_and_opt_out_frame_it() {
        assert_eq!(
            alert(&config(), &values()).unwrap(),
            "Maison Lina : Léa, « Soldes » à 19h00 : https://lina.example/live/soldes STOP au 36111"
        );
    }

    #[test]
    fn a_missing_value_or_unknown_tag_is_an_error_not_a_raw_tag() {
        let mut v = values();
        v.first_name = "  ".into();
        assert_eq!(
            alert(&config(), &v),
            Err(TemplateError::Missing("first_name".into()))
        );
        let mut c = config();
        c.template = "{prenom} !".into();
        assert_eq!(
            alert(&c, &values()),
            Err(TemplateError::Unknown("prenom".into()))
        );
        c.template = "{link}".into();
        c.link = None;
        assert!(matches!(
            alert(&c, &values()),
            Err(TemplateError::Missing(_))
        ));
    }

    #[test]
    fn the_follow_up_has_its_own_template_and_the_same_frame() {
        let mut c = config();
        c.follow_up = "Merci {first_name} pour « {live_title} » : {link}".into();
        assert_eq!(
            follow_up(&c, &values()).unwrap(),
            "Maison Lina : Merci Léa pour « Soldes » : https://lina.example/live/soldes STOP au 36111"
        );
        let mut v = values();
        v.first_name = String::new();
        assert_eq!(
            follow_up(&c, &v),
            Err(TemplateError::Missing("first_name".into()))
        );
    }

    #[test]
    fn a_value_holding_a_tag_is_not_expanded_again() {
        let mut v = values();
        v.first_name = "{live_title}".into();
        assert!(
            alert(&config(), &v)
                .unwrap()
                .contains("{live_title}, « Soldes »")
        );
    }

    #[test]
    fn paris_time_follows_both_dst_switches() {
        // 2026-03-29 00:59 UTC: still winter (01h59); 01:00 UTC: summer (03h00).
        assert_eq!(paris_time(1_774_745_940_000), "01h59");
        assert_eq!(paris_time(1_774_746_000_000), "03h00");
        // 2026-10-25 00:59 UTC: summer (02h59); 01:00 UTC: winter (02h00).
        assert_eq!(paris_time(1_792_889_940_000), "02h59");
        assert_eq!(paris_time(1_792_890_000_000), "02h00");
    }
}
