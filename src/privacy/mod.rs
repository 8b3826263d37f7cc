//! Data protection as small pure functions: sanitising hostile text,
//! detecting personal data posted in chat, masking it for display.

pub mod detect;
pub mod sanitize;

pub use detect::{
    Detection, PersonalDataKind, detect_personal_data, mask_contact_email, mask_contact_phone,
    mask_detections,
};
pub use sanitize::{grapheme_count, sanitize, sanitize_name};
