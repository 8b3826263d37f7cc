//! Data protection as small pure functions: sanitising hostile text,
//! detecting personal data posted in chat, masking it for display; and
//! the record of processing, the one declaration of every personal-data
//! field the store holds.
//!
//! | module | what it does |
//! |---|---|
//! | [`detect`] | finds phones, e-mails, IBANs and cards in chat, masks them |
//! | [`export`] | one viewer's data as one document (Art. 15/20) |
//! | `normalize` | the folded view detection reads, mapped back to the original |
//! | `number_words` | numbers spelled out in French and English, as digits |
//! | [`optins`] | the brand's opt-ins for one purpose, with proof, for its CRM |
//! | `phone` | libphonenumber validation of phone candidates |
//! | [`register`] | the record of processing (Art. 30) |
//! | [`sanitize`] | makes hostile text safe for a terminal |

pub mod detect;
pub mod export;
pub(crate) mod normalize;
mod number_words;
pub mod optins;
mod phone;
pub mod register;
pub mod sanitize;

pub use detect::{
    Detection, PersonalDataKind, detect_personal_data, mask_contact_email, mask_contact_phone,
    mask_detections,
};
pub use phone::to_e164;
pub use sanitize::{grapheme_count, sanitize, sanitize_name};
