//! The folded view of a chat line that detection reads: compatibility
//! decomposition (NFKD, so full-width `０６` and `＠` read as `06` and `@`),
//! accents and other combining marks dropped (`zéro` reads as `zero`),
//! every Unicode decimal digit folded to ASCII, invisible characters
//! removed and the many spaces and dashes folded to one of each.
//!
//! Detection happens on the view; masking happens on the original text.
//! Each byte of the view remembers the byte range of the original
//! character it came from, so a match in the view maps back to the exact
//! original span, whatever was folded or removed inside it.

use std::ops::Range;
use std::sync::LazyLock;

use regex::Regex;
use unicode_normalization::char::{decompose_compatible, is_combining_mark};

/// Text to detect on, with a way back to the original's byte offsets.
#[derive(Debug, Clone, Default)]
pub(crate) struct Folded {
    pub(crate) text: String,
    /// For each byte of `text`, the original range it stands for.
    source: Vec<Range<usize>>,
}

impl Folded {
    /// The view of `text` itself (used when it is plain ASCII already).
    fn identity(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            source: (0..text.len()).map(|i| i..i + 1).collect(),
        }
    }

    pub(crate) fn push(&mut self, c: char, from: Range<usize>) {
        let mut buf = [0; 4];
        for _ in 0..c.encode_utf8(&mut buf).len() {
            self.source.push(from.clone());
        }
        self.text.push(c);
    }

    pub(crate) fn push_str(&mut self, s: &str, from: &Range<usize>) {
        for _ in 0..s.len() {
            self.source.push(from.clone());
        }
        self.text.push_str(s);
    }

    /// Appends `view`'s `range`, keeping where each byte came from.
    pub(crate) fn copy_from(&mut self, view: &Folded, range: Range<usize>) {
        if range.is_empty() {
            return;
        }
        self.text.push_str(&view.text[range.clone()]);
        self.source.extend(view.source[range].iter().cloned());
    }

    /// The original range covered by the view's `range` (non-empty).
    pub(crate) fn original(&self, range: Range<usize>) -> Range<usize> {
        let start = self.source.get(range.start).map_or(0, |r| r.start);
        let end = range
            .end
            .checked_sub(1)
            .and_then(|last| self.source.get(last))
            .map_or(start, |r| r.end);
        start..end.max(start)
    }

    /// The same text, with the view's `range` replaced by `filler` bytes
    /// (same length, so offsets stay put): a detection already made is
    /// not read again by a later pass.
    pub(crate) fn blank(&mut self, range: Range<usize>, filler: u8) {
        let mut bytes = std::mem::take(&mut self.text).into_bytes();
        let range = range.start.min(bytes.len())..range.end.min(bytes.len());
        // Blank whole characters only, so the text stays UTF-8.
        let mut start = range.start;
        while start > 0 && (bytes[start] & 0xC0) == 0x80 {
            start -= 1;
        }
        let mut end = range.end;
        while end < bytes.len() && (bytes[end] & 0xC0) == 0x80 {
            end += 1;
        }
        for b in &mut bytes[start..end] {
            *b = filler;
        }
        self.text = String::from_utf8(bytes).unwrap_or_default();
    }
}

/// Builds the folded view of `text`.
pub(crate) fn fold(text: &str) -> Folded {
    if text.is_ascii() {
        return Folded::identity(text);
    }
    let mut out = Folded {
        text: String::with_capacity(text.len()),
        source: Vec::with_capacity(text.len()),
    };
    for (at, c) in text.char_indices() {
        let from = at..at + c.len_utf8();
        if c.is_ascii() {
            out.push(c, from);
            continue;
        }
        if is_invisible(c) {
            continue;
        }
        if let Some(d) = digit_value(c) {
            out.push(char::from(b'0' + d), from);
            continue;
        }
        if let Some(folded) = fold_punctuation(c) {
            out.push(folded, from);
            continue;
        }
        decompose_compatible(c, |d| {
            if is_combining_mark(d) || is_invisible(d) {
                return;
            }
            let d = digit_value(d).map_or(d, |v| char::from(b'0' + v));
            let d = fold_punctuation(d).unwrap_or(d);
            out.push(d, from.clone());
        });
    }
    out
}

/// The value of a Unicode decimal digit (general category Nd), in any
/// script: `٣`, `३` and `𝟑` are all 3. Unicode encodes every Nd digit set
/// as contiguous runs of ten starting at zero, so the value is the
/// distance from the start of the run, modulo ten.
pub(crate) fn digit_value(c: char) -> Option<u8> {
    if c.is_ascii_digit() {
        return Some(c as u8 - b'0');
    }
    if c.is_ascii() || !c.is_numeric() || !is_decimal_digit(c) {
        return None;
    }
    let mut start = c as u32;
    while let Some(prev) = start.checked_sub(1).and_then(char::from_u32) {
        if !is_decimal_digit(prev) {
            break;
        }
        start -= 1;
    }
    u8::try_from((c as u32 - start) % 10).ok()
}

fn is_decimal_digit(c: char) -> bool {
    static ND: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"^\d$").expect("static regex"));
    let mut buf = [0; 4];
    ND.is_match(c.encode_utf8(&mut buf))
}

/// Spaces, dashes, dots and at-signs that NFKD leaves alone but that
/// people use exactly like their ASCII forms.
fn fold_punctuation(c: char) -> Option<char> {
    Some(match c {
        '\u{A0}' | '\u{1680}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => {
            ' '
        }
        '\u{2010}'..='\u{2015}' | '\u{2212}' | '\u{FE58}' | '\u{FE63}' | '\u{FF0D}' => '-',
        '\u{B7}' | '\u{2022}' | '\u{2024}' | '\u{2027}' | '\u{3002}' | '\u{FF0E}' => '.',
        '\u{FF20}' | '\u{FE6B}' => '@',
        _ => return None,
    })
}

/// Characters that render as nothing: they can split a number without
/// the reader noticing.
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{AD}' | '\u{34F}' | '\u{61C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
        | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
        | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
        | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}' | '\u{E0000}'..='\u{E0FFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_and_other_scripts_digits_fold_to_ascii() {
        assert_eq!(fold("０６ １２").text, "06 12");
        assert_eq!(fold("٠٦١٢").text, "0612");
        assert_eq!(fold("०६").text, "06");
        assert_eq!(fold("𝟎𝟔").text, "06");
        assert_eq!(fold("ｊｕｌｉｅ＠ｆｒｅｅ．ｆｒ").text, "julie@free.fr");
    }

    #[test]
    fn accents_go_and_invisible_characters_vanish() {
        assert_eq!(fold("zéro six").text, "zero six");
        assert_eq!(fold("06\u{200B}12\u{FEFF}34").text, "061234");
        assert_eq!(fold("06\u{A0}12\u{2013}34").text, "06 12-34");
    }

    #[test]
    fn view_ranges_map_back_to_the_original() {
        let text = "tel ０６\u{200B}１２ ok";
        let view = fold(text);
        let at = view.text.find("0612").expect("folded");
        let span = view.original(at..at + 4);
        assert_eq!(&text[span], "０６\u{200B}１２");
    }
}
