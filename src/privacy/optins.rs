//! The brand's opt-ins for one purpose, for its CRM
//! (`regie privacy export-optins`).
//!
//! One row per viewer whose latest consent for the purpose is a grant,
//! with the proof of that consent: when it was given, through which
//! channel, the SHA-256 of the exact text shown and when that text was
//! registered (its version: texts are named by hash, so the date tells
//! which wording it was). The contact value is opened from the sealed
//! store: the e-mail for `marketing`, the phone for `sms_reminders`.
//! Withdrawn consents are not rows: their contact value is already gone.
//!
//! The file is written as CSV or JSON, mode 0600, through a temporary file
//! renamed into place, so it is never readable by others, never half
//! written, and an existing file is replaced only when asked (`--force`).
//!
//! CSV cells are guarded against formula injection (OWASP): a cell whose
//! first character a spreadsheet reads as a formula (`=`, `+`, `-`, `@`,
//! tab, carriage return) is prefixed with `'`, and every cell that needs
//! it is quoted (RFC 4180). A phone in E.164 (`+33…`) therefore reads
//! `'+33…` in a CSV; the JSON form carries every value as it is.

use serde::Serialize;

use crate::protocol::Millis;

/// The JSON document's format tag.
pub const OPTINS_FORMAT: &str = "regie.optins-export.v1";

/// What the audit record says the export was for (content-free).
pub const OPTINS_AUDIT_ACTION: &str = "export_optins";

/// One opt-in in force, with its proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptIn {
    pub live: String,
    pub viewer_id: String,
    /// The consent purpose's wire name (`marketing`).
    pub purpose: String,
    /// When the consent was given (Unix milliseconds).
    pub granted_at: Millis,
    /// Through which channel (`player`, `sms`…).
    pub channel: String,
    /// Hex SHA-256 of the consent text shown.
    pub text_sha256: String,
    /// When that text was registered (Unix milliseconds); `None` for a
    /// text never registered (older records).
    pub text_registered_at: Option<Millis>,
    /// The e-mail, opened from the sealed store, when the purpose is served by one.
    pub email: Option<String>,
    /// The phone, opened from the sealed store, when the purpose is served by one.
    pub phone: Option<String>,
}

/// A purpose's wire name (`sms_reminders`), as consent rows store it.
pub fn purpose_wire_name(purpose: crate::protocol::ConsentPurpose) -> String {
    match serde_json::to_value(purpose) {
        Ok(serde_json::Value::String(name)) => name,
        _ => format!("{purpose:?}"),
    }
}

/// The file's format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OptInFormat {
    #[default]
    Csv,
    Json,
}

/// The CSV's columns, in order.
pub const CSV_COLUMNS: [&str; 9] = [
    "email",
    "phone",
    "granted_at",
    "channel",
    "text_sha256",
    "text_registered_at",
    "purpose",
    "live",
    "viewer_id",
];

/// The rows as a file's bytes.
pub fn render(rows: &[OptIn], purpose: &str, format: OptInFormat, exported_at: Millis) -> String {
    match format {
        OptInFormat::Csv => to_csv(rows),
        OptInFormat::Json => to_json(rows, purpose, exported_at),
    }
}

/// RFC 4180 CSV with a header line, CRLF line ends, formula-guarded cells.
pub fn to_csv(rows: &[OptIn]) -> String {
    let mut out = String::new();
    push_line(&mut out, CSV_COLUMNS.iter().map(|c| (*c).to_owned()));
    for row in rows {
        push_line(
            &mut out,
            [
                row.email.clone().unwrap_or_default(),
                row.phone.clone().unwrap_or_default(),
                rfc3339(row.granted_at),
                row.channel.clone(),
                row.text_sha256.clone(),
                row.text_registered_at.map(rfc3339).unwrap_or_default(),
                row.purpose.clone(),
                row.live.clone(),
                row.viewer_id.clone(),
            ]
            .into_iter(),
        );
    }
    out
}

fn push_line(out: &mut String, cells: impl Iterator<Item = String>) {
    for (i, cell) in cells.enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&csv_cell(&cell));
    }
    out.push_str("\r\n");
}

/// One cell: `'`-prefixed if a spreadsheet would read it as a formula,
/// quoted (quotes doubled) if it holds a separator, quote or line break.
pub fn csv_cell(value: &str) -> String {
    let guarded = if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{value}")
    } else {
        value.to_owned()
    };
    if guarded.contains([',', '"', '\n', '\r']) || guarded != value {
        format!("\"{}\"", guarded.replace('"', "\"\""))
    } else {
        guarded
    }
}

#[derive(Serialize)]
struct Document<'a> {
    format: &'static str,
    purpose: &'a str,
    exported_at: String,
    optins: Vec<JsonRow<'a>>,
}

#[derive(Serialize)]
struct JsonRow<'a> {
    email: Option<&'a str>,
    phone: Option<&'a str>,
    granted_at: String,
    channel: &'a str,
    text_sha256: &'a str,
    text_registered_at: Option<String>,
    purpose: &'a str,
    live: &'a str,
    viewer_id: &'a str,
}

impl<'a> From<&'a OptIn> for JsonRow<'a> {
    fn from(r: &'a OptIn) -> Self {
        JsonRow {
            email: r.email.as_deref(),
            phone: r.phone.as_deref(),
            granted_at: rfc3339(r.granted_at),
            channel: &r.channel,
            text_sha256: &r.text_sha256,
            text_registered_at: r.text_registered_at.map(rfc3339),
            purpose: &r.purpose,
            live: &r.live,
            viewer_id: &r.viewer_id,
        }
    }
}

/// One JSON document: format tag, purpose, export time, the rows.
pub fn to_json(rows: &[OptIn], purpose: &str, exported_at: Millis) -> String {
    let doc = Document {
        format: OPTINS_FORMAT,
        purpose,
        exported_at: rfc3339(exported_at),
        optins: rows.iter().map(JsonRow::from).collect(),
    };
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_default();
    text.push('\n');
    text
}

#[derive(Serialize)]
struct Push<'a> {
    event: &'static str,
    #[serde(flatten)]
    optin: JsonRow<'a>,
}

/// The body of the signed push of one new opt-in to the CRM (`[crm]
/// push_url`): `{"event":"opt_in", …}` with the fields of an export row.
/// The sender signs it with [`crate::sms::signature::push_signature`].
pub fn push_body(optin: &OptIn) -> String {
    serde_json::to_string(&Push {
        event: "opt_in",
        optin: JsonRow::from(optin),
    })
    .unwrap_or_default()
}

/// What the CRM is told when a pushed opt-in is withdrawn.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Withdrawal {
    pub live: String,
    pub viewer_id: String,
    pub purpose: String,
    pub withdrawn_at: Millis,
    /// Through which channel (`player`, `email`, `support`…).
    pub channel: String,
}

#[derive(Serialize)]
struct WithdrawalPush<'a> {
    event: &'static str,
    purpose: &'a str,
    withdrawn_at: String,
    channel: &'a str,
    live: &'a str,
    viewer_id: &'a str,
}

/// The body of the signed push of a withdrawal: `{"event":"opt_out", …}`
/// naming the opt-in by `live` and `viewer_id`, as its push did, and no
/// address (the hub deleted it with the consent; the CRM must stop using
/// the one it holds).
pub fn withdrawal_body(w: &Withdrawal) -> String {
    serde_json::to_string(&WithdrawalPush {
        event: "opt_out",
        purpose: &w.purpose,
        withdrawn_at: rfc3339(w.withdrawn_at),
        channel: &w.channel,
        live: &w.live,
        viewer_id: &w.viewer_id,
    })
    .unwrap_or_default()
}

#[derive(Serialize)]
struct ErasurePush<'a> {
    event: &'static str,
    erased_at: String,
    live: &'a str,
    viewer_id: &'a str,
}

/// The body of the signed push telling the CRM that a viewer whose opt-in
/// it was given had their data erased (Art. 17(2), 19): `{"event":"erased",
/// …}`, naming the opt-in as its push did, and nothing else.
pub fn erasure_body(live: &str, viewer_id: &str, erased_at: Millis) -> String {
    serde_json::to_string(&ErasurePush {
        event: "erased",
        erased_at: rfc3339(erased_at),
        live,
        viewer_id,
    })
    .unwrap_or_default()
}

/// A Unix-millisecond time as RFC 3339 UTC with milliseconds.
fn rfc3339(at: Millis) -> String {
    let at =
        std::time::UNIX_EPOCH + std::time::Duration::from_millis(u64::try_from(at).unwrap_or(0));
    humantime::format_rfc3339_millis(at).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(email: &str) -> OptIn {
        OptIn {
            live: "show".into(),
            viewer_id: "v-1".into(),
            purpose: "marketing".into(),
            granted_at: 1_780_000_000_123,
            channel: "player".into(),
            text_sha256: "ab".repeat(32),
            text_registered_at: Some(1_779_000_000_000),
            email: Some(email.into()),
            phone: None,
        }
    }

    #[test]
    fn formula_cells_are_prefixed_and_quoted() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+33612345678"), "\"'+33612345678\"");
        assert_eq!(csv_cell("-2+3"), "\"'-2+3\"");
        assert_eq!(csv_cell("@SUM(A1)"), "\"'@SUM(A1)\"");
        assert_eq!(csv_cell("\tx"), "\"'\tx\"");
        assert_eq!(csv_cell("lea@example.fr"), "lea@example.fr");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_cell("a\nb"), "\"a\nb\"");
        assert_eq!(csv_cell(""), "");
    }

    #[test]
    fn csv_has_a_header_and_one_line_per_row() {
        let text = to_csv(&[row("lea@example.fr"), row("=cmd|' /C calc'!A0")]);
        let lines: Vec<&str> = text.split("\r\n").collect();
        assert_eq!(lines[0], CSV_COLUMNS.join(","));
        assert!(
            lines[1].starts_with("lea@example.fr,,2026-05-28T"),
            "{}",
            lines[1]
        );
        assert!(
            lines[2].starts_with("\"'=cmd|' /C calc'!A0\","),
            "{}",
            lines[2]
        );
        assert_eq!(lines.len(), 4, "{text:?}");
        assert_eq!(lines[3], "");
    }

    #[test]
    fn json_is_tagged_and_keeps_values_as_they_are() {
        let text = to_json(&[row("=x@example.fr")], "marketing", 0);
        let doc: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(doc["format"], OPTINS_FORMAT);
        assert_eq!(doc["purpose"], "marketing");
        assert_eq!(doc["optins"][0]["email"], "=x@example.fr");
        assert_eq!(doc["optins"][0]["granted_at"], "2026-05-28T20:26:40.123Z");
    }

    #[test]
    fn a_withdrawal_body_names_the_opt_in_and_holds_no_address() {
        let body = withdrawal_body(&Withdrawal {
            live: "show".into(),
            viewer_id: "v-1".into(),
            purpose: "marketing".into(),
            withdrawn_at: 1_780_000_000_123,
            channel: "email".into(),
        });
        let doc: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(doc["event"], "opt_out");
        assert_eq!(
            (&doc["live"], &doc["viewer_id"]),
            (&"show".into(), &"v-1".into())
        );
        assert_eq!(doc["withdrawn_at"], "2026-05-28T20:26:40.123Z");
        assert_eq!(doc["channel"], "email");
        assert!(
            doc.get("email").is_none() && doc.get("phone").is_none(),
            "{doc}"
        );
    }

    #[test]
    fn a_push_body_is_one_row_tagged_as_an_opt_in_and_signs() {
        let body = push_body(&row("lea@example.fr"));
        let doc: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(doc["event"], "opt_in");
        assert_eq!(doc["email"], "lea@example.fr");
        assert_eq!(doc["purpose"], "marketing");
        assert_eq!(doc["text_sha256"], "ab".repeat(32));
        assert_eq!(doc["granted_at"], "2026-05-28T20:26:40.123Z");
        let header = crate::sms::signature::push_signature(b"s", 1_780_000_000, body.as_bytes());
        assert!(crate::sms::signature::push_signature_valid(
            b"s",
            "1780000000",
            body.as_bytes(),
            &header,
            1_780_000_000,
            300
        ));
    }
}
