//! The consent texts a viewer is shown (`[consent]` in the brand file),
//! one per opt-in purpose the page offers.
//!
//! What a `consent` records is the SHA-256 of the text the viewer saw, so
//! the hub registers every text it offers in the store's consent-text
//! registry (`regie privacy consent-text` does the same by hand) and
//! accepts only those hashes: the current texts, and earlier versions the
//! registry still holds (a page loaded before the brand changed a text).
//! A hash the hub never offered is refused, so no record can point at a
//! text nobody saw.

use std::collections::BTreeSet;

use crate::protocol::ConsentPurpose;

/// The longest consent text: a few sentences, shown in full beside its
/// "yes" and "no".
pub const MAX_CONSENT_TEXT_CHARS: usize = 2000;

/// The texts of the page's opt-ins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsentTexts {
    /// `marketing`: the e-mail follow-up (`[collect] email_opt_in`).
    pub marketing: String,
    /// `sms_reminders`: one SMS when the brand's next live starts
    /// (`[collect] sms_alerts`).
    pub sms_reminders: String,
    /// `sms_marketing`: promotional SMS after a live (the follow-ups an
    /// admin sends to a segment; offered with `[collect] sms_alerts`).
    pub sms_marketing: String,
    /// Hashes of earlier texts found in the store's registry when the hub
    /// started (filled by the hub, not by the brand file): still accepted,
    /// since a viewer may have loaded the page before the text changed.
    pub registered: BTreeSet<String>,
}

impl Default for ConsentTexts {
    fn default() -> Self {
        Self {
            marketing: "J'accepte de recevoir par e-mail les offres et les nouveautés de la \
                        marque. Mon adresse ne sert qu'à cela ; je peux retirer mon accord à \
                        tout moment, en un clic, depuis « Mes données »."
                .to_owned(),
            sms_reminders: "J'accepte de recevoir un SMS au début du prochain live de la \
                            marque. Mon numéro ne sert qu'à cette alerte ; je peux retirer mon \
                            accord à tout moment, en un clic, depuis « Mes données »."
                .to_owned(),
            sms_marketing: "J'accepte de recevoir par SMS les offres de la marque après ses \
                            lives (du lundi au samedi, de 8 h à 20 h). Mon numéro ne sert qu'à \
                            cela ; je peux retirer mon accord à tout moment, en un clic, depuis \
                            « Mes données », ou en répondant STOP."
                .to_owned(),
            registered: BTreeSet::new(),
        }
    }
}

impl ConsentTexts {
    /// The text shown for `purpose`; `None` for a purpose the page does not
    /// ask with a text of the brand file (`prize_contact`).
    pub fn text(&self, purpose: ConsentPurpose) -> Option<&str> {
        match purpose {
            ConsentPurpose::Marketing => Some(&self.marketing),
            ConsentPurpose::SmsReminders => Some(&self.sms_reminders),
            ConsentPurpose::SmsMarketing => Some(&self.sms_marketing),
            ConsentPurpose::PrizeContact => None,
        }
    }

    /// The hex SHA-256 of the text shown for `purpose`, the hash its
    /// `consent` names; `None` as for [`ConsentTexts::text`].
    pub fn sha256(&self, purpose: ConsentPurpose) -> Option<String> {
        self.text(purpose).map(sha256_hex)
    }

    /// The texts the hub offers now, by purpose.
    pub fn current(&self) -> [(ConsentPurpose, &str); 3] {
        [
            (ConsentPurpose::Marketing, &self.marketing),
            (ConsentPurpose::SmsReminders, &self.sms_reminders),
            (ConsentPurpose::SmsMarketing, &self.sms_marketing),
        ]
    }

    /// Every hash a `consent` for one of these purposes may name: the
    /// current texts' and the registered earlier ones.
    pub fn accepted(&self) -> BTreeSet<String> {
        self.current()
            .into_iter()
            .map(|(_, text)| sha256_hex(text))
            .chain(self.registered.iter().cloned())
            .collect()
    }
}

/// The hex SHA-256 of a text, as the registry and `consent` name it.
pub fn sha256_hex(text: &str) -> String {
    crate::hex(&<sha2::Sha256 as sha2::Digest>::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_holds_the_current_and_the_registered_hashes() {
        let mut texts = ConsentTexts::default();
        texts.registered.insert("ab".repeat(32));
        let accepted = texts.accepted();
        assert!(accepted.contains(&sha256_hex(&texts.marketing)));
        assert!(accepted.contains(&sha256_hex(&texts.sms_reminders)));
        assert!(accepted.contains(&sha256_hex(&texts.sms_marketing)));
        assert!(accepted.contains(&"ab".repeat(32)));
        assert_eq!(accepted.len(), 4);
    }
}
