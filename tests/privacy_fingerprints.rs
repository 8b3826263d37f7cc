//! Issue 9, defect 1, performed as the attack it is: with `regie.db` (and
//! its WAL) alone, recover a masked phone number from any hash stored next
//! to it. A viewer says "06 12 34 56 78"; the store keeps it masked, which
//! leaves its shape and so only 10⁶ candidates. For each candidate the test
//! computes the SHA-256 of everything the hub could have hashed (the text,
//! the command JSON, the client frame JSON) and looks for its first 8
//! bytes, raw or in hex, anywhere in any stored column of any table and in
//! the raw files. Nothing may match, before and after the redaction (which
//! must also delete the say's outcome row).

mod support;

use std::collections::HashSet;

use regie::protocol::{ClientFrame, Command, CommandFrame, CommandId, Event, StaffRole};
use sha2::{Digest, Sha256};
use support::forensics::{everything_stored, hash_prefixes, utf16};
use support::hub::TestHub;

const SECRET: &str = "06 12 34 56 78";
const COMMAND_ID: &str = "k3f9-1";

/// What the hub could have hashed for a viewer who typed `text`.
fn preimages(text: &str) -> [Vec<u8>; 3] {
    let command = Command::Say {
        text: text.into(),
        question: false,
        announcement: false,
    };
    let frame = ClientFrame::Command(CommandFrame {
        id: CommandId(COMMAND_ID.into()),
        command: command.clone(),
    });
    [
        text.as_bytes().to_vec(),
        serde_json::to_vec(&command).expect("serialise"),
        serde_json::to_vec(&frame).expect("serialise"),
    ]
}

fn matches(prefixes: &HashSet<[u8; 8]>, text: &str) -> bool {
    preimages(text).iter().any(|p| {
        let digest = Sha256::digest(p);
        prefixes.contains(&<[u8; 8]>::try_from(&digest[..8]).expect("8 bytes"))
    })
}

/// Where the six hidden digits sit in "06 12 34 56 78".
const HIDDEN: [usize; 6] = [3, 4, 6, 7, 9, 10];

/// SHA-256's initial state (FIPS 180-4, 5.3.3).
const IV: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// One preimage, padded once, with the six hidden digits' positions and
/// the state after the blocks before them: per candidate only the digits
/// change and only the blocks from the first digit on are compressed, with
/// `sha2`'s own (optimised) compression function. A "release-like" loop
/// in a debug test build; every candidate is still tried.
struct Template {
    padded: Vec<u8>,
    digits: [usize; 6],
    first_block: usize,
    midstate: [u32; 8],
}

impl Template {
    fn new(message: Vec<u8>) -> Self {
        let at = message
            .windows(SECRET.len())
            .position(|w| w == SECRET.as_bytes())
            .expect("the text is verbatim in each preimage");
        let bits = u64::try_from(message.len() * 8).expect("short");
        let mut padded = message;
        padded.push(0x80);
        while padded.len() % 64 != 56 {
            padded.push(0);
        }
        padded.extend_from_slice(&bits.to_be_bytes());
        let digits = HIDDEN.map(|i| at + i);
        let first_block = digits[0] / 64;
        let mut midstate = IV;
        compress(&mut midstate, &padded[..first_block * 64]);
        Self {
            padded,
            digits,
            first_block,
            midstate,
        }
    }

    /// The first 8 bytes of the SHA-256 with these digits in place.
    fn prefix(&mut self, digits: [u8; 6]) -> [u8; 8] {
        for (&i, d) in self.digits.iter().zip(digits) {
            self.padded[i] = d;
        }
        let mut state = self.midstate;
        compress(&mut state, &self.padded[self.first_block * 64..]);
        let mut out = [0u8; 8];
        out[..4].copy_from_slice(&state[0].to_be_bytes());
        out[4..].copy_from_slice(&state[1].to_be_bytes());
        out
    }
}

fn compress(state: &mut [u32; 8], blocks: &[u8]) {
    for block in blocks.chunks_exact(64) {
        let block = sha2::digest::generic_array::GenericArray::from_slice(block);
        sha2::compress256(state, std::slice::from_ref(block));
    }
}

/// The candidates the masked `06 •• •• •• 78` leaves that some stored
/// value gives away: all 10⁶ of them, against the three preimages.
fn recovered(prefixes: &HashSet<[u8; 8]>) -> Vec<String> {
    let mut templates: Vec<Template> = preimages(SECRET).into_iter().map(Template::new).collect();
    // The shortcut is SHA-256: checked against the library on the secret.
    for (t, p) in templates.iter_mut().zip(preimages(SECRET)) {
        let digits = HIDDEN.map(|i| SECRET.as_bytes()[i]);
        assert_eq!(t.prefix(digits)[..], Sha256::digest(&p)[..8]);
    }
    let mut found = Vec::new();
    for n in 0..1_000_000u32 {
        let mut digits = [0u8; 6];
        let mut rest = n;
        for d in digits.iter_mut().rev() {
            *d = b'0' + u8::try_from(rest % 10).expect("a digit");
            rest /= 10;
        }
        if templates
            .iter_mut()
            .any(|t| prefixes.contains(&t.prefix(digits)))
        {
            let d = String::from_utf8_lossy(&digits).into_owned();
            found.push(format!("06 {} {} {} 78", &d[0..2], &d[2..4], &d[4..6]));
        }
    }
    found
}

/// No stored value holds the secret in clear, in UTF-8 or UTF-16.
fn assert_not_in_clear(stored: &[(String, Vec<u8>)]) {
    for needle in [SECRET.as_bytes().to_vec(), utf16(SECRET)] {
        for (column, bytes) in stored {
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                "{column} holds the number in clear"
            );
        }
    }
}

fn contains(stored: &[(String, Vec<u8>)], column: &str, needle: &str) -> bool {
    stored
        .iter()
        .filter(|(c, _)| c == column)
        .any(|(_, b)| b.windows(needle.len()).any(|w| w == needle.as_bytes()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_masked_phone_cannot_be_recovered_from_any_stored_hash() {
    let hub = TestHub::start().await;
    let dir = hub.data_dir.clone();
    let mut sam = hub.staff(StaffRole::Support, "Sam").await;
    let mut marc = hub.viewer("Marc").await;
    let marc_id = marc.welcome.you.viewer_id.clone().expect("a viewer id");
    let reply = marc
        .command_with_id(
            COMMAND_ID,
            Command::Say {
                text: SECRET.into(),
                question: false,
                announcement: false,
            },
        )
        .await;
    let regie::protocol::ServerFrame::Ack { seq: Some(seq), .. } = reply else {
        panic!("expected an ack with a seq, got {reply:?}");
    };
    let kept_seq = marc.say("bonjour à tous").await;
    let Event::Message { message } = sam.event_at(seq).await.event else {
        panic!("expected the message at {seq}");
    };
    sam.event_at(kept_seq).await;
    assert_ne!(message.text, SECRET, "the hub stores the number masked");

    // Before the redaction: the masked text and both outcomes are stored.
    let stored = everything_stored(&dir);
    assert!(
        contains(&stored, "messages.text", &message.text),
        "the attack proves nothing: the masked message is not stored"
    );
    let principal = format!("viewer:{marc_id}");
    let outcomes = |stored: &[(String, Vec<u8>)]| {
        stored
            .iter()
            .filter(|(c, b)| c == "command_outcomes.principal" && b == principal.as_bytes())
            .count()
    };
    assert_eq!(outcomes(&stored), 2, "both says' outcomes are remembered");
    let retry_key = format!("{COMMAND_ID}#");
    assert!(contains(&stored, "command_outcomes.command_id", &retry_key));
    assert_not_in_clear(&stored);
    let prefixes = hash_prefixes(&stored);
    // The attack works: an unkeyed fingerprint of the command, as the hub
    // once stored it, is found among the candidates' hashes.
    let mut planted = stored.clone();
    let unkeyed = Sha256::digest(&preimages(SECRET)[1]);
    planted.push(("planted".into(), hex(&unkeyed[..8]).into_bytes()));
    assert!(matches(&hash_prefixes(&planted), SECRET));
    assert_eq!(recovered(&prefixes), Vec::<String>::new());

    // After the redaction: the say's outcome row is gone with its text.
    sam.ack(Command::Redact {
        message_id: message.id,
        reason: "demande RGPD".into(),
    })
    .await;
    // The checkpoint runs at the end of the redaction's turn.
    marc.say("suite du live").await;
    let stored = everything_stored(&dir);
    assert!(!contains(&stored, "messages.text", &message.text));
    assert!(
        !contains(&stored, "command_outcomes.command_id", &retry_key),
        "the redacted say's outcome is still stored"
    );
    assert_eq!(
        outcomes(&stored),
        2,
        "only the redacted say's outcome goes (one left, one new)"
    );
    assert_not_in_clear(&stored);
    assert_eq!(recovered(&hash_prefixes(&stored)), Vec::<String>::new());
    hub.stop().await;
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
