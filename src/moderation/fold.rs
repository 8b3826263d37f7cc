//! The view blocked terms match on. On top of the detector's folded view
//! (`privacy::normalize`: width, accents and invisible characters), every
//! letter is lower-cased and the common leetspeak stand-ins read as the
//! letter they imitate, so "ＡＲＮＡＱＵＥ", "arnaqué" and "arn4que" all
//! read `arnaque`. Terms are folded the same way, so both sides agree.
//!
//! `1`, `l` and `|` all read `i`: `1` stands for either letter, and one
//! canonical letter keeps a single automaton pass. The cost is that a term
//! also matches its `l`↔`i` twin ("siut" for "slut"), which real chat
//! almost never writes. `!` stays punctuation: "idiot!" must still end a
//! word.

use crate::privacy::normalize::{self, Folded};

/// Folds `text` for term matching; each byte of the view still maps back
/// to the original character it came from.
pub(crate) fn fold(text: &str) -> Folded {
    let mut out = Folded::default();
    // Most lines are plain ASCII: nothing for the detector's fold to do.
    if text.is_ascii() {
        out.text.reserve(text.len());
        for (at, b) in text.bytes().enumerate() {
            out.push(leet(char::from(b.to_ascii_lowercase())), at..at + 1);
        }
        return out;
    }
    let base = normalize::fold(text);
    out.text.reserve(base.text.len());
    for (at, c) in base.text.char_indices() {
        let from = base.original(at..at + c.len_utf8());
        if c.is_ascii() {
            out.push(leet(c.to_ascii_lowercase()), from);
        } else {
            for lower in c.to_lowercase() {
                out.push(leet(lower), from.clone());
            }
        }
    }
    out
}

/// The letter a leetspeak character stands for (itself if none).
fn leet(c: char) -> char {
    match c {
        '4' | '@' => 'a',
        '8' => 'b',
        '3' => 'e',
        '9' => 'g',
        '1' | 'l' | '|' => 'i',
        '0' => 'o',
        '5' | '$' => 's',
        '7' | '+' => 't',
        '2' => 'z',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_accents_width_and_leetspeak_fold_to_one_spelling() {
        for text in ["Arnaque", "arnaqué", "ＡＲＮＡＱＵＥ", "arn4que", "@RN@QU3"] {
            assert_eq!(fold(text).text, "arnaque", "{text}");
        }
        assert_eq!(fold("S4L0P3").text, fold("salope").text);
        assert_eq!(fold("1d10t").text, fold("idiot").text);
    }

    #[test]
    fn the_view_maps_back_to_the_original_characters() {
        let text = "quel ＩＤ１ＯＴ !";
        let view = fold(text);
        let at = view.text.find("idiot").expect("folded");
        assert_eq!(&text[view.original(at..at + 5)], "ＩＤ１ＯＴ");
    }
}
