//! Questions that ask the same thing, told apart from those that do not.
//!
//! In a live, "Elle existe en 38 ?" arrives five times a minute, in both
//! languages and every spelling. [`Signature::of`] reads a question the way
//! a shop assistant would: case, accents, punctuation and filler words go
//! ([`normalise`]); FR/EN words for the common shop questions become one
//! [`Intent`] (`taille`, `size` and `pointure` are all [`Intent::Size`]);
//! what tells two questions apart — a size, a colour, a number, a
//! material, a country — is kept as a *value* that must match exactly, so
//! "en 38" never meets "en 42" and "rouge" never meets "noir".
//!
//! Two signatures ask the same question ([`Signature::same_question`])
//! when their intents and values are equal and their other words (the
//! product named, mostly) overlap by half or more. [`groups::QuestionGroups`]
//! applies that on ingest through an index keyed by intents and values,
//! so a new question is compared with the few groups of its bucket, never
//! with every open question. Pure functions, no I/O.

pub mod groups;
mod lexicon;

use std::collections::BTreeSet;

pub use groups::{GroupId, QuestionGroups};
use lexicon::{Meaning, lookup};

/// What a shop question is about, whatever the words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Intent {
    /// Sizes, the size guide (taille, pointure, size).
    Size,
    /// How it fits: runs small, true to size (taille petit).
    Fit,
    /// What the model wears or measures (le mannequin, the model).
    Model,
    /// Price and cost (prix, combien, how much, cher).
    Price,
    /// Delivery and shipping (livraison, envoi, shipping).
    Delivery,
    /// How long something takes (délai, combien de temps, how long).
    Duration,
    /// Returns, refunds, exchanges (retour, rembourser, refund).
    Returns,
    /// In stock, available, comes in (dispo, existe, in stock).
    Stock,
    /// Which colours there are (couleur, coloris, colour).
    Colour,
    /// What it is made of (matière, tissu, fabric).
    Material,
    /// Washing and care (lavage, machine, washable).
    Care,
    /// Paying (paiement, plusieurs fois, `PayPal`, installments).
    Payment,
    /// A discount or promo code (code promo, réduction, discount).
    Discount,
    /// Where and how to buy (lien, acheter, link, buy).
    Buy,
    /// An order already placed (ma commande, suivi, tracking).
    Order,
    /// Guarantee (garantie, warranty).
    Warranty,
    /// Gift wrapping, gift cards (cadeau, gift).
    Gift,
    /// Measurements (dimensions, longueur, length, cm).
    Dimensions,
}

/// A question read for grouping: what it asks, the values that tell it
/// apart, and its remaining words.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Signature {
    /// Sorted, without duplicates.
    pub intents: Vec<Intent>,
    /// Sizes, colours, numbers, materials, places: canonical, sorted.
    pub values: Vec<String>,
    /// The other words that carry meaning (the product, mostly), stemmed
    /// and canonical (`robe` and `dress` are one word), sorted.
    pub words: Vec<String>,
}

/// Words that overlap by at least this share (Jaccard) ask about the same
/// thing, given equal intents and values.
const WORDS_OVERLAP: f64 = 0.5;

impl Signature {
    pub fn of(text: &str) -> Signature {
        let normalised = normalise(text);
        let phrased = lexicon::rewrite_phrases(&normalised);
        let mut intents = BTreeSet::new();
        let mut values = BTreeSet::new();
        let mut words = BTreeSet::new();
        for token in phrased.split(' ').filter(|t| !t.is_empty()) {
            match lookup(token) {
                Meaning::Stop => {}
                Meaning::Intent(i) => {
                    intents.insert(i);
                }
                Meaning::Value(v) => {
                    values.insert(v.into_owned());
                }
                Meaning::Word(w) => {
                    words.insert(w.into_owned());
                }
            }
        }
        // "La taille 38" asks what "en 38" asks: a size or colour named
        // makes the generic word redundant, and asking about a value is
        // asking whether it is there.
        let has_size = values.iter().any(|v| lexicon::is_size_value(v));
        let has_colour = values.iter().any(|v| lexicon::is_colour_value(v));
        if has_size {
            intents.remove(&Intent::Size);
        }
        if has_colour {
            intents.remove(&Intent::Colour);
        }
        if !values.is_empty() || intents.len() > 1 {
            intents.remove(&Intent::Stock);
        }
        Signature {
            intents: intents.into_iter().collect(),
            values: values.into_iter().collect(),
            words: words.into_iter().collect(),
        }
    }

    /// Whether nothing was understood (an empty or filler-only line).
    pub fn is_empty(&self) -> bool {
        self.intents.is_empty() && self.values.is_empty() && self.words.is_empty()
    }

    /// The index key: intents and values, which must be equal.
    pub fn bucket(&self) -> (Vec<Intent>, Vec<String>) {
        (self.intents.clone(), self.values.clone())
    }

    /// Whether `self` and `other` ask the same question: equal intents,
    /// equal values, and words overlapping by half or more. An empty
    /// signature matches nothing, not even itself.
    pub fn same_question(&self, other: &Signature) -> bool {
        !self.is_empty()
            && self.intents == other.intents
            && self.values == other.values
            && words_overlap(&self.words, &other.words)
    }
}

/// Jaccard similarity of two sorted word lists, at least [`WORDS_OVERLAP`];
/// two empty lists agree.
fn words_overlap(a: &[String], b: &[String]) -> bool {
    if a.is_empty() && b.is_empty() {
        return true;
    }
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    let union = a.len() + b.len() - common;
    common as f64 >= WORDS_OVERLAP * union as f64
}

/// The text folded for comparison: compatibility decomposition with
/// accents dropped (the folding detection uses), lower case, `œ` as `oe`,
/// every run of punctuation and space as one space, and French elisions
/// (`l'`, `qu'`) and English clitics (`'s`, `n't`) dropped. Idempotent:
/// normalising twice is normalising once.
pub fn normalise(text: &str) -> String {
    // Folded, lowered, folded again: a compatibility character may fold
    // to a capital (`ℌ`), a capital may lower to a decomposable one.
    let once = crate::privacy::normalize::fold(text).text.to_lowercase();
    let folded = crate::privacy::normalize::fold(&once).text.to_lowercase();
    let mut spaced = String::with_capacity(folded.len());
    for c in folded.chars() {
        match c {
            'œ' => spaced.push_str("oe"),
            'æ' => spaced.push_str("ae"),
            'ß' => spaced.push_str("ss"),
            '\'' | '’' | '`' | 'ʼ' => spaced.push('\''),
            c if c.is_alphanumeric() => spaced.push(c),
            _ => spaced.push(' '),
        }
    }
    let mut out = String::with_capacity(spaced.len());
    for token in spaced.split(' ').filter(|t| !t.is_empty()) {
        for part in elide(token).split('\'').filter(|p| !p.is_empty()) {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(part);
        }
    }
    out
}

/// `l'avez` → `avez`, `qu'elle` → `elle`, `it's` → `it`, `don't` → `do`:
/// the part of a word around an apostrophe that carries no meaning here.
fn elide(token: &str) -> &str {
    const FRENCH: &[&str] = &[
        "l", "d", "j", "m", "t", "s", "n", "c", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu",
    ];
    let Some((head, tail)) = token.split_once('\'') else {
        return token;
    };
    if FRENCH.contains(&head) {
        return elide(tail);
    }
    // English: the clitic after the apostrophe goes ("n't" with its n).
    head.strip_suffix('n')
        .filter(|_| tail == "t")
        .unwrap_or(head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn same(a: &str, b: &str) -> bool {
        Signature::of(a).same_question(&Signature::of(b))
    }

    #[test]
    fn normalise_folds_case_accents_punctuation_and_elisions() {
        assert_eq!(normalise("Élle EXISTE en 38 ?!"), "elle existe en 38");
        assert_eq!(normalise("Vous l'avez en bleu ?"), "vous avez en bleu");
        assert_eq!(normalise("Qu’elle coûte combien…"), "elle coute combien");
        assert_eq!(normalise("it's £20, isn't it?"), "it 20 is it");
        assert_eq!(normalise("Cœur"), "coeur");
        assert_eq!(normalise("  "), "");
    }

    #[test]
    fn the_same_question_in_both_languages_and_spellings_groups() {
        assert!(same("Elle existe en 38 ?", "elle existe en 38"));
        assert!(same("Elle existe en 38 ?", "Vous l'avez en 38 svp ?"));
        assert!(same("Elle existe en 38 ?", "Dispo en taille 38 ?"));
        assert!(same("Does it come in M?", "Vous l'avez en M ?"));
        assert!(same("Does it come in M?", "Is there a medium?"));
        assert!(same(
            "C'est combien la livraison ?",
            "How much is shipping?"
        ));
        assert!(same("C'est combien la livraison ?", "frais de port ?"));
        assert!(same("Quel prix pour la robe ?", "How much is the dress?"));
        assert!(same("Retour gratuit ?", "Are returns free?"));
        assert!(same("Livraison en Belgique ?", "Do you ship to Belgium?"));
        assert!(same("Encore en stock ?", "Is it still available?"));
        assert!(same("C'est quelle matière ?", "What is the fabric?"));
    }

    #[test]
    fn sizes_colours_numbers_and_places_keep_questions_apart() {
        assert!(!same("Elle existe en 38 ?", "Elle existe en 42 ?"));
        assert!(!same("Elle existe en rouge ?", "Elle existe en noir ?"));
        assert!(!same("Does it come in M?", "Does it come in L?"));
        assert!(!same("Livraison en Belgique ?", "Livraison en Suisse ?"));
        assert!(!same("Paiement en 3 fois ?", "Paiement en 4 fois ?"));
        assert!(!same("C'est en coton ?", "C'est en lin ?"));
        assert!(!same("Quel prix pour la robe ?", "Quel prix pour le sac ?"));
        assert!(!same("C'est combien la livraison ?", "C'est combien ?"));
        assert!(!same("Elle existe en 38 ?", "Elle existe en rouge ?"));
    }

    #[test]
    fn filler_alone_matches_nothing() {
        assert!(Signature::of("?? !!").is_empty());
        assert!(!same("bonjour", "bonjour"));
    }

    #[test]
    fn a_typo_still_reads_as_the_word() {
        assert!(same("la livraision est gratuite ?", "livraison gratuite ?"));
        assert!(same("disponnible en 40 ?", "dispo en 40 ?"));
    }

    proptest! {
        #[test]
        fn normalising_twice_is_normalising_once(text in "\\PC{0,60}") {
            let once = normalise(&text);
            prop_assert_eq!(normalise(&once), once.clone());
        }

        #[test]
        fn a_distinguishing_number_always_separates(
            text in "[a-zA-Zéèà' ?]{0,40}",
            a in 1u32..5000,
            b in 1u32..5000,
        ) {
            prop_assume!(a != b);
            let left = Signature::of(&format!("{text} {a}"));
            let right = Signature::of(&format!("{text} {b}"));
            prop_assert!(!left.same_question(&right));
        }
    }
}
