//! Data protection as small pure functions: sanitising hostile text,
//! detecting personal data posted in chat, masking it for display; and
//! the record of processing ([`register`]), the one declaration of every
//! personal-data field the store holds.

pub mod detect;
pub mod register;
pub mod sanitize;

pub use detect::{
    Detection, PersonalDataKind, detect_personal_data, mask_contact_email, mask_contact_phone,
    mask_detections,
};
pub use sanitize::{grapheme_count, sanitize, sanitize_name};
