//! Who is watching and what they type: a seeded, reproducible audience for a
//! live-commerce show. Pure: no sockets, no clock, so the mix of names and
//! lines is unit-tested and the same `--seed` replays the same show.
//!
//! The audience is deliberately awkward where real ones are: accented and
//! emoji first names, several viewers sharing a first name (some choose a
//! pseudonym, others leave it to the hub), a few abusive lines, and a few
//! lines where a viewer posts a phone number or an e-mail address that the
//! hub must hold for a moderator.

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};

/// First names a French live-commerce audience uses, with the accents that
/// break naive width and sorting code, a few English ones, and a few with an
/// emoji the way people decorate their display names.
const FIRST_NAMES: &[&str] = &[
    "Inès",
    "Léa",
    "Zoé",
    "Maëlle",
    "Chloé",
    "Noémie",
    "François",
    "Jérôme",
    "Amélie",
    "Hélène",
    "Célia",
    "Anaïs",
    "Loïc",
    "Gaëlle",
    "Éloïse",
    "Clémence",
    "Benoît",
    "Agnès",
    "Sébastien",
    "Mathéo",
    "Camille",
    "Manon",
    "Sarah",
    "Nathalie",
    "Sophie",
    "Isabelle",
    "Claire",
    "Lucas",
    "Hugo",
    "Karim",
    "Yasmine",
    "Fatoumata",
    "Nguyễn",
    "Emma",
    "Olivia",
    "James",
    "Liam",
    "Charlotte",
    "Grace",
    "Zoé 🌸",
    "Chloé ✨",
    "Mia 💄",
    "Tom 🎧",
    "Lina 💅",
];

/// A first name most shows have several of. A share of every audience is
/// drawn from here so that duplicates always occur and need pseudonyms.
const COMMON_FIRST_NAMES: &[&str] = &["Julie", "Marie", "Léa"];

/// Share of viewers drawn from [`COMMON_FIRST_NAMES`].
const COMMON_NAME_RATIO: f64 = 0.15;

/// Share of viewers who choose a pseudonym themselves; the others leave it
/// to the hub, which must still tell two Julies apart.
const PSEUDONYM_RATIO: f64 = 0.4;

const PSEUDONYM_PLACES: &[&str] = &[
    "lyon",
    "paris",
    "nantes",
    "lille",
    "bdx",
    "marseille",
    "bzh",
    "geneve",
    "bxl",
    "mtl",
];

/// One simulated viewer: what it sends in `hello`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewerProfile {
    /// Position in the audience; stable for a seed.
    pub index: usize,
    pub first_name: String,
    pub pseudonym: Option<String>,
    /// The viewer pass the hub issued at the first join, kept as a real
    /// player keeps it, so a reconnecting viewer stays the same viewer.
    pub pass: Option<String>,
}

impl ViewerProfile {
    /// Made-up contact data for this viewer, as a player who gave it would
    /// send it: a French mobile number and an e-mail address, the same for
    /// the same viewer. For demos, where support looks at a viewer's card.
    pub fn contact(&self) -> crate::protocol::Contact {
        let n = self.index % 100_000_000;
        let name = ascii_fold(&self.first_name).to_lowercase();
        crate::protocol::Contact {
            phone: Some(format!(
                "+33 6 {:02} {:02} {:02} {:02}",
                n / 1_000_000 % 100,
                n / 10_000 % 100,
                n / 100 % 100,
                n % 100
            )),
            email: Some(format!("{name}.{}@example.fr", self.index)),
        }
    }
}

/// Builds `count` viewers, the same ones for the same seed.
pub fn audience(seed: u64, count: usize) -> Vec<ViewerProfile> {
    let mut rng = StdRng::seed_from_u64(seed ^ 0xA0D1_E4CE);
    (0..count)
        .map(|index| {
            let pool = if rng.random_bool(COMMON_NAME_RATIO) {
                COMMON_FIRST_NAMES
            } else {
                FIRST_NAMES
            };
            let first_name = pool.choose(&mut rng).copied().unwrap_or("Julie");
            let pseudonym = rng.random_bool(PSEUDONYM_RATIO).then(|| {
                let base = ascii_fold(first_name).to_lowercase();
                let place = PSEUDONYM_PLACES.choose(&mut rng).copied().unwrap_or("fr");
                format!("{base}_{place}{}", rng.random_range(1..100))
            });
            ViewerProfile {
                index,
                first_name: first_name.to_owned(),
                pseudonym,
                pass: None,
            }
        })
        .collect()
}

/// What a line is, so the report can say what was sent and tests can check
/// the hub treated each kind as it should.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum LineKind {
    Comment,
    Question,
    /// Rude but decent placeholder insults: what moderators hide or time out.
    Abusive,
    /// Contains a (made-up) phone number or e-mail address: the hub holds it.
    PersonalData,
}

impl LineKind {
    pub const ALL: [LineKind; 4] = [
        LineKind::Comment,
        LineKind::Question,
        LineKind::Abusive,
        LineKind::PersonalData,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            LineKind::Comment => "comment",
            LineKind::Question => "question",
            LineKind::Abusive => "abusive",
            LineKind::PersonalData => "personal data",
        }
    }
}

/// One chat line, ready for a `say` command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub kind: LineKind,
    pub text: String,
    /// The `question` flag of `say`. Most questions carry it; some viewers
    /// ask without flagging, as real ones do.
    pub question: bool,
}

/// How often each kind of line occurs. The rest are comments.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineMix {
    pub question_ratio: f64,
    pub abuse_ratio: f64,
    pub personal_data_ratio: f64,
}

impl Default for LineMix {
    fn default() -> Self {
        Self {
            question_ratio: 0.25,
            abuse_ratio: 0.02,
            personal_data_ratio: 0.03,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MixError {
    #[error("{name} must be between 0 and 1, got {value}")]
    OutOfRange { name: &'static str, value: f64 },
    #[error("question, abuse and personal-data ratios add up to {0}, more than 1")]
    Overfull(f64),
}

impl LineMix {
    /// Checks the ratios are probabilities that leave room for comments.
    pub fn validate(&self) -> Result<(), MixError> {
        for (name, value) in [
            ("question ratio", self.question_ratio),
            ("abuse ratio", self.abuse_ratio),
            ("personal-data ratio", self.personal_data_ratio),
        ] {
            if !(0.0..=1.0).contains(&value) {
                return Err(MixError::OutOfRange { name, value });
            }
        }
        let total = self.question_ratio + self.abuse_ratio + self.personal_data_ratio;
        if total > 1.0 + f64::EPSILON {
            return Err(MixError::Overfull(total));
        }
        Ok(())
    }
}

const PRODUCTS: &[&str] = &[
    "la robe portefeuille",
    "le pull col roulé",
    "la veste en jean",
    "le sac cabas",
    "la jupe plissée",
    "les baskets blanches",
    "le trench",
    "la blouse fleurie",
];
const PRODUCTS_EN: &[&str] = &[
    "the wrap dress",
    "the turtleneck",
    "the denim jacket",
    "the tote bag",
    "the trench coat",
];
const COLOURS: &[&str] = &[
    "noir",
    "bleu marine",
    "rouge",
    "vert sapin",
    "beige",
    "rose poudré",
    "écru",
];
const SIZES: &[&str] = &[
    "34", "36", "38", "40", "42", "44", "XS", "S", "M", "L", "XL",
];

const COMMENT_TEMPLATES: &[&str] = &[
    "Trop belle {product} 😍",
    "J'adore le {colour} !",
    "Coucou de {place} 👋",
    "Commandé ! Hâte de la recevoir",
    "{product} est magnifique",
    "Elle te va super bien",
    "Love {product_en}!",
    "The {colour} one is gorgeous ❤️",
    "Bonsoir tout le monde",
    "Déjà acheté la semaine dernière, la qualité est top",
    "Vous êtes géniales ce soir 🔥",
    "Je craque…",
    "Moi je prends le {colour}",
];
const QUESTION_TEMPLATES: &[&str] = &[
    "Elle existe en {size} ?",
    "Does it come in {size}?",
    "Il reste du {size} en {colour} ?",
    "C'est combien la livraison ?",
    "Livraison en Belgique possible ?",
    "Quel est le prix de {product} ?",
    "Ça taille grand ou petit ?",
    "Is {product_en} still in stock?",
    "Vous faites le {colour} en {size} ?",
    "C'est quelle matière ?",
    "On peut la retourner si ça ne va pas ?",
    "Tu fais quelle taille, toi ?",
    "How long is shipping to the UK?",
    "Le code promo marche encore ?",
];
const ABUSIVE_TEMPLATES: &[&str] = &[
    "Arnaque ce live, bande de nuls",
    "T'es vraiment une andouille",
    "Quelle bande de clowns 🤡",
    "You're all idiots",
    "Nul nul nul, rendez l'argent",
    "Ferme-la, espèce de cornichon",
    // These two use words from the hub's default blocked terms, so some
    // abuse is held automatically and the rest is left to moderators.
    "Espèce d'idiot, réponds !",
    "Vendeur arnaqueur 🤡",
];
const PERSONAL_DATA_TEMPLATES: &[&str] = &[
    "Appelez-moi au {phone} pour la taille",
    "Mon numéro : {phone}, rappelez-moi svp",
    "Écrivez-moi à {email} !",
    "Envoyez la facture à {email} merci",
    "Call me on {phone_intl}",
    "Je suis joignable au {phone} ou {email}",
];
const LAST_NAMES: &[&str] = &[
    "martin", "bernard", "dubois", "thomas", "robert", "petit", "durand", "leroy", "moreau",
];
const EMAIL_DOMAINS: &[&str] = &["example.com", "example.org", "example.net"];

/// An endless, seeded stream of chat lines in a given mix.
#[derive(Debug, Clone)]
pub struct Script {
    rng: StdRng,
    mix: LineMix,
}

impl Script {
    pub fn new(seed: u64, mix: LineMix) -> Self {
        Self {
            rng: StdRng::seed_from_u64(seed ^ 0x5C41_9700),
            mix,
        }
    }

    /// The next line of the show.
    pub fn next_line(&mut self) -> Line {
        let roll: f64 = self.rng.random();
        let m = self.mix;
        let kind = if roll < m.personal_data_ratio {
            LineKind::PersonalData
        } else if roll < m.personal_data_ratio + m.abuse_ratio {
            LineKind::Abusive
        } else if roll < m.personal_data_ratio + m.abuse_ratio + m.question_ratio {
            LineKind::Question
        } else {
            LineKind::Comment
        };
        let templates = match kind {
            LineKind::Comment => COMMENT_TEMPLATES,
            LineKind::Question => QUESTION_TEMPLATES,
            LineKind::Abusive => ABUSIVE_TEMPLATES,
            LineKind::PersonalData => PERSONAL_DATA_TEMPLATES,
        };
        let template = templates
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("Bonsoir");
        let text = self.fill(template);
        let question = kind == LineKind::Question && self.rng.random_bool(0.85);
        Line {
            kind,
            text,
            question,
        }
    }

    fn fill(&mut self, template: &str) -> String {
        let mut out = template.to_owned();
        let slots: [(&str, SlotFiller); 8] = [
            ("{product_en}", |r| pick(r, PRODUCTS_EN)),
            ("{product}", |r| pick(r, PRODUCTS)),
            ("{colour}", |r| pick(r, COLOURS)),
            ("{size}", |r| pick(r, SIZES)),
            ("{place}", |r| capitalise(&pick(r, PSEUDONYM_PLACES))),
            ("{phone_intl}", |r| {
                let d = digits(r, 8);
                format!("+33 6 {} {} {} {}", &d[0..2], &d[2..4], &d[4..6], &d[6..8])
            }),
            ("{phone}", |r| {
                let d = digits(r, 8);
                format!("06 {} {} {} {}", &d[0..2], &d[2..4], &d[4..6], &d[6..8])
            }),
            ("{email}", |r| {
                format!(
                    "{}.{}@{}",
                    pick(r, &["lea", "julie", "ines", "marie", "zoe", "chloe", "tom"]),
                    pick(r, LAST_NAMES),
                    pick(r, EMAIL_DOMAINS)
                )
            }),
        ];
        for (slot, fill) in slots {
            while let Some(at) = out.find(slot) {
                let value = fill(&mut self.rng);
                out.replace_range(at..at + slot.len(), &value);
            }
        }
        out
    }
}

/// Produces the text for one `{slot}` of a template.
type SlotFiller = fn(&mut StdRng) -> String;

fn pick(rng: &mut StdRng, from: &[&str]) -> String {
    from.choose(rng).copied().unwrap_or_default().to_owned()
}

fn digits(rng: &mut StdRng, n: usize) -> String {
    (0..n)
        .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
        .collect()
}

fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Drops accents and anything that is not an ASCII letter, for pseudonyms
/// people type on a phone keyboard ("Maëlle" → "maelle").
fn ascii_fold(name: &str) -> String {
    name.chars()
        .filter_map(|c| match c {
            'à' | 'â' | 'ä' => Some('a'),
            'é' | 'è' | 'ê' | 'ë' | 'ễ' => Some('e'),
            'î' | 'ï' => Some('i'),
            'ô' | 'ö' => Some('o'),
            'ù' | 'û' | 'ü' => Some('u'),
            'ç' => Some('c'),
            'É' => Some('E'),
            c if c.is_ascii_alphabetic() => Some(c),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::privacy::detect_personal_data;

    fn lines(seed: u64, n: usize, mix: LineMix) -> Vec<Line> {
        let mut script = Script::new(seed, mix);
        (0..n).map(|_| script.next_line()).collect()
    }

    #[test]
    fn the_same_seed_gives_the_same_show() {
        assert_eq!(audience(7, 50), audience(7, 50));
        assert_eq!(
            lines(7, 200, LineMix::default()),
            lines(7, 200, LineMix::default())
        );
        assert_ne!(audience(7, 50), audience(8, 50));
        assert_ne!(
            lines(7, 50, LineMix::default()),
            lines(8, 50, LineMix::default())
        );
    }

    #[test]
    fn a_large_audience_has_duplicate_first_names_with_and_without_pseudonyms() {
        let viewers = audience(42, 300);
        let mut by_name: HashMap<&str, Vec<&ViewerProfile>> = HashMap::new();
        for v in &viewers {
            by_name.entry(&v.first_name).or_default().push(v);
        }
        let julies = by_name.get("Julie").map_or(0, Vec::len);
        assert!(julies >= 3, "expected several Julies, got {julies}");
        let duplicated: Vec<&ViewerProfile> = by_name
            .values()
            .filter(|vs| vs.len() > 1)
            .flatten()
            .copied()
            .collect();
        assert!(duplicated.iter().any(|v| v.pseudonym.is_some()));
        assert!(duplicated.iter().any(|v| v.pseudonym.is_none()));
        // Accents and emoji appear, so the hub and console see real names.
        assert!(viewers.iter().any(|v| !v.first_name.is_ascii()));
        assert!(
            viewers
                .iter()
                .any(|v| v.first_name.chars().any(|c| c as u32 >= 0x1F300))
        );
    }

    #[test]
    fn no_viewer_has_a_pass_before_joining_and_names_are_already_clean() {
        let viewers = audience(3, 500);
        assert!(viewers.iter().all(|v| v.pass.is_none()));
        for v in &viewers {
            assert_eq!(
                crate::privacy::sanitize_name(&v.first_name, 64),
                v.first_name
            );
            if let Some(p) = &v.pseudonym {
                assert!(p.is_ascii() && !p.is_empty(), "pseudonym {p:?}");
            }
        }
    }

    #[test]
    fn the_mix_of_lines_follows_the_ratios() {
        let n = 10_000;
        let mix = LineMix::default();
        let all = lines(1234, n, mix);
        let share = |kind| all.iter().filter(|l| l.kind == kind).count() as f64 / n as f64;
        let within = |actual: f64, expected: f64| (actual - expected).abs() < 0.015;
        assert!(within(share(LineKind::Question), mix.question_ratio));
        assert!(within(share(LineKind::Abusive), mix.abuse_ratio));
        assert!(within(
            share(LineKind::PersonalData),
            mix.personal_data_ratio
        ));
        // Questions mostly carry the flag; nothing else ever does.
        let questions: Vec<&Line> = all
            .iter()
            .filter(|l| l.kind == LineKind::Question)
            .collect();
        let flagged = questions.iter().filter(|l| l.question).count() as f64;
        let rate = flagged / questions.len() as f64;
        assert!((0.75..0.95).contains(&rate), "flagged rate {rate}");
        assert!(
            all.iter()
                .all(|l| !l.question || l.kind == LineKind::Question)
        );
    }

    #[test]
    fn personal_data_lines_are_detected_and_no_other_line_is() {
        for line in lines(99, 3_000, LineMix::default()) {
            let found = !detect_personal_data(&line.text).is_empty();
            assert_eq!(
                found,
                line.kind == LineKind::PersonalData,
                "{:?} line {:?}",
                line.kind,
                line.text
            );
        }
    }

    #[test]
    fn every_line_is_valid_chat_text() {
        for line in lines(5, 2_000, LineMix::default()) {
            assert!(!line.text.contains('{'), "unfilled slot in {:?}", line.text);
            assert!(!line.text.trim().is_empty());
            assert!(
                crate::privacy::grapheme_count(&line.text)
                    <= crate::protocol::MAX_MESSAGE_GRAPHEMES
            );
            assert_eq!(crate::privacy::sanitize(&line.text), line.text);
        }
    }

    #[test]
    fn ratios_are_checked() {
        assert!(LineMix::default().validate().is_ok());
        let bad = LineMix {
            question_ratio: 1.5,
            ..LineMix::default()
        };
        assert!(matches!(bad.validate(), Err(MixError::OutOfRange { .. })));
        let full = LineMix {
            question_ratio: 0.6,
            abuse_ratio: 0.3,
            personal_data_ratio: 0.3,
        };
        assert!(matches!(full.validate(), Err(MixError::Overfull(_))));
        let only_pd = LineMix {
            question_ratio: 0.0,
            abuse_ratio: 0.0,
            personal_data_ratio: 1.0,
        };
        assert!(
            lines(1, 100, only_pd)
                .iter()
                .all(|l| l.kind == LineKind::PersonalData)
        );
    }
}
