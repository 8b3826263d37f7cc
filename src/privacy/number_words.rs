//! Numbers spelled out in words, the way chat dodges a digit filter:
//! "zéro six douze trente-quatre cinquante-six soixante-dix-huit" and
//! "oh seven seven double oh nine …" become `0 6 12 34 56 78` and
//! `0 7 7 0 0 9 …` in a numeric view of the (already folded) text.
//!
//! French phone numbers are read in pairs, so the parser knows French
//! compounds up to 99 (`soixante et onze`, `quatre-vingt-dix-neuf`, the
//! Belgian and Swiss `septante`/`nonante`) and hundreds; English ones are
//! read digit by digit, with `double`/`triple`. Each group of words
//! becomes one group of digits that maps back to the words' original span,
//! so masking replaces the words themselves.

use std::ops::Range;

use super::normalize::Folded;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Word {
    Zero,
    Unit(u32),
    Teen(u32),
    Ten(u32),
    Hundred,
    Repeat(u32),
    Connector,
}

fn classify(word: &str) -> Option<Word> {
    use Word::{Connector, Hundred, Repeat, Teen, Ten, Unit, Zero};
    Some(match word {
        "zero" | "oh" => Zero,
        "un" | "one" => Unit(1),
        "deux" | "two" => Unit(2),
        "trois" | "three" => Unit(3),
        "quatre" | "four" => Unit(4),
        "cinq" | "five" => Unit(5),
        "six" => Unit(6),
        "sept" | "seven" => Unit(7),
        "huit" | "eight" => Unit(8),
        "neuf" | "nine" => Unit(9),
        "dix" | "ten" => Teen(10),
        "onze" | "eleven" => Teen(11),
        "douze" | "twelve" => Teen(12),
        "treize" | "thirteen" => Teen(13),
        "quatorze" | "fourteen" => Teen(14),
        "quinze" | "fifteen" => Teen(15),
        "seize" | "sixteen" => Teen(16),
        "seventeen" => Teen(17),
        "eighteen" => Teen(18),
        "nineteen" => Teen(19),
        "vingt" | "vingts" | "twenty" => Ten(20),
        "trente" | "thirty" => Ten(30),
        "quarante" | "forty" => Ten(40),
        "cinquante" | "fifty" => Ten(50),
        "soixante" | "sixty" => Ten(60),
        "septante" | "seventy" => Ten(70),
        "huitante" | "octante" | "eighty" => Ten(80),
        "nonante" | "ninety" => Ten(90),
        "cent" | "cents" | "hundred" => Hundred,
        "double" => Repeat(2),
        "triple" => Repeat(3),
        "et" | "and" => Connector,
        _ => return None,
    })
}

/// Whether `word` (lower-case ASCII) is a number word: the cheap pass
/// counts them.
pub(crate) fn is_number_word(word: &str) -> bool {
    classify(word).is_some_and(|w| !matches!(w, Word::Connector | Word::Repeat(_)))
}

/// One group of number words being read.
struct Group {
    value: u32,
    /// How many times the group is written (`double six` is `66`).
    repeat: u32,
    /// Whether the group is a lone zero (written `0`, never merged).
    zero: bool,
    /// Whether the group is a unit right after a lone zero: the pair
    /// "zéro quatre" is complete, so a `vingt` after a space starts the
    /// next pair ("zéro quatre vingt-trois" is 04 23, not 0 83).
    after_zero: bool,
    view: Range<usize>,
}

impl Group {
    /// Whether `word` continues this group (`trente` + `quatre` is 34)
    /// rather than starting the next one; returns the merged value.
    /// `tight` says the words are joined by a hyphen or `et`: read in
    /// pairs, "soixante douze" is 60 then 12, "soixante-douze" is 72.
    fn extend(&self, word: Word, word_text: &str, tight: bool) -> Option<u32> {
        let c = self.value;
        if self.zero || self.repeat > 1 {
            return None;
        }
        match word {
            Word::Unit(v) if (c >= 20 && c.is_multiple_of(10)) || (tight && c == 10 && v >= 7) => {
                Some(c + v)
            }
            Word::Teen(v)
                if (tight && (c % 100 == 60 || c % 100 == 80))
                    || (c >= 100 && c.is_multiple_of(100)) =>
            {
                Some(c + v)
            }
            Word::Ten(20)
                if c % 100 == 4 && word_text.starts_with('v') && (tight || !self.after_zero) =>
            {
                Some(c - 4 + 80)
            }
            Word::Ten(v) if c >= 100 && c.is_multiple_of(100) => Some(c + v),
            Word::Hundred if c < 10 => Some(c.max(1) * 100),
            _ => None,
        }
    }
}

/// The numeric view of `view`: every run of number words replaced by
/// digit groups separated by spaces. Returns `None` when the text has no
/// number word at all (the common case), so the caller keeps `view`.
// One pass with its state in locals reads better than split helpers
// passing seven of them around.
#[allow(clippy::too_many_lines)]
pub(crate) fn spell_out(view: &Folded) -> Option<Folded> {
    let text = view.text.as_str();
    let words = words(text);
    if !words
        .iter()
        .any(|(_, w)| w.is_some_and(|w| w != Word::Connector))
    {
        return None;
    }
    let mut out = Folded::default();
    let mut group: Option<Group> = None;
    // Joiners (spaces, hyphens, `et`) after a group, not yet written.
    let mut gap: Option<Range<usize>> = None;
    let mut pending_repeat = 1;
    // Where a `double`/`triple` word starts, while it waits for its digit.
    let mut repeat_start: Option<usize> = None;
    let mut copied = 0;
    let flush = |out: &mut Folded, group: &mut Option<Group>| {
        if let Some(g) = group.take() {
            let digits = if g.zero {
                "0".to_string()
            } else {
                g.value.to_string()
            };
            let from = view.original(g.view.clone());
            for _ in 0..g.repeat {
                out.push_str(&digits, &from);
            }
        }
    };
    for (at, (range, word)) in words.iter().enumerate() {
        // Characters between the previous word and this one.
        let between = copied..range.start;
        let joins = text[between.clone()].chars().all(|c| c == ' ' || c == '-');
        let Some(word) = *word else {
            flush(&mut out, &mut group);
            if let Some(g) = gap.take() {
                out.copy_from(view, g);
            }
            let from = repeat_start.take().unwrap_or(between.start);
            out.copy_from(view, from..range.end);
            copied = range.end;
            pending_repeat = 1;
            continue;
        };
        if word == Word::Connector {
            if group.is_some() && joins {
                let start = gap.as_ref().map_or(between.start, |g| g.start);
                gap = Some(start..range.end);
            } else {
                flush(&mut out, &mut group);
                if let Some(g) = gap.take() {
                    out.copy_from(view, g);
                }
                let from = repeat_start.take().unwrap_or(between.start);
                out.copy_from(view, from..range.end);
                pending_repeat = 1;
            }
            copied = range.end;
            continue;
        }
        if let Word::Repeat(n) = word {
            flush(&mut out, &mut group);
            if let Some(g) = gap.take() {
                out.copy_from(view, g);
            }
            let from = repeat_start.take().unwrap_or(between.start);
            out.copy_from(view, from..range.start);
            // The modifier word itself is part of the next group's span.
            pending_repeat = n;
            repeat_start = Some(range.start);
            copied = range.end;
            continue;
        }
        // "soixante quatre-vingt-quinze" read in pairs is 60 then 95: a
        // `quatre` right before `vingt` starts the next group. Only right
        // before: in "quarante-quatre 75 vingt-trois" the `vingt` is past a
        // number written in digits, and `quatre` still ends 44.
        let before_vingt = word == Word::Unit(4)
            && words.get(at + 1).is_some_and(|(r, _)| {
                text[range.end..r.start]
                    .chars()
                    .all(|c| c == ' ' || c == '-')
                    && text[r.clone()].to_ascii_lowercase().starts_with("vingt")
            });
        let merged = group
            .as_ref()
            .filter(|_| joins && !before_vingt)
            .and_then(|g| {
                let tight = gap.is_some() || text[between.clone()].contains('-');
                g.extend(word, &text[range.clone()], tight)
            });
        if let (Some(value), Some(g)) = (merged, group.as_mut()) {
            g.value = value;
            g.view.end = range.end;
            gap = None;
        } else {
            let after_zero =
                joins && matches!(word, Word::Unit(_)) && group.as_ref().is_some_and(|g| g.zero);
            flush(&mut out, &mut group);
            let gap_range = gap.take().map_or(between.clone(), |g| g.start..between.end);
            // After `double`, the space before the digit word belongs to the group.
            let start = if let Some(start) = repeat_start.take() {
                start
            } else {
                out.copy_from(view, gap_range);
                range.start
            };
            let (value, zero) = match word {
                Word::Zero => (0, true),
                Word::Unit(v) | Word::Teen(v) | Word::Ten(v) => (v, false),
                _ => (100, false),
            };
            group = Some(Group {
                value,
                repeat: pending_repeat,
                zero,
                after_zero,
                view: start..range.end,
            });
            pending_repeat = 1;
        }
        copied = range.end;
    }
    flush(&mut out, &mut group);
    if let Some(g) = gap.take() {
        out.copy_from(view, g);
    }
    out.copy_from(view, repeat_start.unwrap_or(copied)..text.len());
    Some(out)
}

/// The ASCII-letter words of `text` with their ranges, each classified.
fn words(text: &str) -> Vec<(Range<usize>, Option<Word>)> {
    let bytes = text.as_bytes();
    let mut words = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i].is_ascii_alphabetic() {
            let start = i;
            while i < bytes.len() && bytes[i].is_ascii_alphabetic() {
                i += 1;
            }
            let word = text[start..i].to_ascii_lowercase();
            words.push((start..i, classify(&word)));
        } else {
            i += 1;
        }
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::privacy::normalize::fold;

    fn numeric(text: &str) -> String {
        let view = fold(text);
        spell_out(&view).map_or(view.text, |v| v.text)
    }

    #[test]
    fn french_pairs_become_digit_groups() {
        assert_eq!(
            numeric("zéro six douze trente-quatre cinquante-six soixante-dix-huit"),
            "0 6 12 34 56 78"
        );
        assert_eq!(
            numeric("zero sept, quatre-vingt-dix-neuf, soixante et onze, vingt et un"),
            "0 7, 99, 71, 21"
        );
        assert_eq!(
            numeric("appelle au zéro six 12 34 56 78"),
            "appelle au 0 6 12 34 56 78"
        );
        assert_eq!(numeric("soixante quatre-vingt-quinze"), "60 95");
        assert_eq!(
            numeric("06 quarante-quatre 75 vingt-trois 26"),
            "06 44 75 23 26"
        );
        assert_eq!(
            numeric("zéro sept cinquante-sept zéro quatre vingt-trois"),
            "0 7 57 0 4 23"
        );
        assert_eq!(numeric("zéro quatre-vingt-trois"), "0 83");
    }

    #[test]
    fn english_digits_with_double_and_triple() {
        assert_eq!(
            numeric("oh seven seven double oh nine triple one two"),
            "0 7 7 00 9 111 2"
        );
    }

    #[test]
    fn other_words_are_kept_as_they_are() {
        assert_eq!(numeric("un sac neuf et deux robes"), "1 sac 9 et 2 robes");
        assert_eq!(numeric("pas de chiffres ici"), "pas de chiffres ici");
    }

    #[test]
    fn groups_map_back_to_their_words() {
        let text = "tel zéro six douze";
        let view = fold(text);
        let num = spell_out(&view).expect("has number words");
        let at = num.text.find("12").expect("douze");
        assert_eq!(&text[num.original(at..at + 2)], "douze");
        let at = num.text.find('0').expect("zero");
        assert_eq!(&text[num.original(at..at + 1)], "zéro");
    }
}
