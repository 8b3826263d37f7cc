//! Text sanitising: what makes hostile chat text safe for an operator's
//! terminal and for every other client.
//!
//! The hub applies it at ingest and the console again at render (defence in
//! depth), so both call this one function.
//!
//! Removed: C0 and C1 controls, DEL, whole escape sequences (CSI, OSC, DCS,
//! APC, PM, SOS and two-byte escapes, in their 7-bit and 8-bit forms), bidi
//! embeddings, overrides, isolates and marks, zero-width and other invisible
//! characters, and Unicode tag characters outside emoji flag sequences.
//! Kept: zero-width joiners inside emoji sequences, so families and
//! professions render as one glyph. Capped: combining marks per grapheme
//! ("Zalgo" text), and code points per grapheme.
//! Line and paragraph separators, tabs and newlines become one space: chat
//! lines are single lines.

use std::borrow::Cow;

use unicode_segmentation::UnicodeSegmentation;

/// Most combining marks kept on one base character. Vietnamese stacks two;
/// four leaves room for any real script and none for Zalgo towers.
pub const MAX_COMBINING_PER_GRAPHEME: usize = 4;

/// Most code points kept in one grapheme cluster. The longest real emoji
/// sequences (family with skin tones, subdivision flags) stay under 16.
pub const MAX_CHARS_PER_GRAPHEME: usize = 16;

const ZWJ: char = '\u{200D}';

/// Returns `text` made safe for display. Borrows when nothing had to change,
/// which is the common case for plain chat.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    if text.bytes().all(|b| (0x20..0x7F).contains(&b)) {
        return Cow::Borrowed(text);
    }
    let stripped = strip_chars(text);
    let capped = cap_graphemes(&stripped);
    if capped == text {
        Cow::Borrowed(text)
    } else {
        Cow::Owned(capped)
    }
}

/// Sanitises a name (first name, pseudonym, staff name): the text rules,
/// then whitespace trimmed and folded, then at most `max_graphemes` kept.
pub fn sanitize_name(name: &str, max_graphemes: usize) -> String {
    let clean = sanitize(name);
    let folded = clean.split_whitespace().collect::<Vec<_>>().join(" ");
    folded.graphemes(true).take(max_graphemes).collect()
}

/// Counts extended grapheme clusters: what a person counts as characters.
pub fn grapheme_count(text: &str) -> usize {
    text.graphemes(true).count()
}

/// Removes control characters, escape sequences and invisible characters.
fn strip_chars(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1B}' => skip_escape(&mut chars),
            // 8-bit CSI, and the 8-bit string introducers (DCS, SOS, OSC, PM, APC).
            '\u{9B}' => skip_csi(&mut chars),
            '\u{90}' | '\u{98}' | '\u{9D}' | '\u{9E}' | '\u{9F}' => skip_string(&mut chars),
            '\t' | '\n' | '\r' | '\u{2028}' | '\u{2029}' | '\u{85}' => out.push(' '),
            ZWJ => {
                let joins_emoji = out.chars().next_back().is_some_and(is_emoji_like)
                    && chars.peek().is_some_and(|&n| is_emoji_like(n));
                if joins_emoji {
                    out.push(ZWJ);
                }
            }
            '\u{E0020}'..='\u{E007F}' => {
                // Tag characters spell subdivision flags after a black flag;
                // anywhere else they are invisible smuggled text.
                if in_flag_tag_sequence(&out) {
                    out.push(c);
                }
            }
            c if is_forbidden(c) => {}
            c => out.push(c),
        }
    }
    out
}

/// Caps combining marks and code points per grapheme cluster.
fn cap_graphemes(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for g in text.graphemes(true) {
        let mut marks = 0;
        for (i, c) in g.chars().enumerate() {
            if i >= MAX_CHARS_PER_GRAPHEME {
                break;
            }
            if i > 0 && is_combining_mark(c) {
                marks += 1;
                if marks > MAX_COMBINING_PER_GRAPHEME {
                    continue;
                }
            }
            out.push(c);
        }
    }
    out
}

/// Skips the rest of an escape sequence whose ESC was just read.
fn skip_escape(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    match chars.next() {
        Some('[') => skip_csi(chars),
        Some(']' | 'P' | 'X' | '^' | '_') => skip_string(chars),
        // nF escapes: intermediates (0x20–0x2F) then one final byte.
        Some(c @ '\u{20}'..='\u{2F}') => {
            let _ = c;
            while let Some(&n) = chars.peek() {
                chars.next();
                if !('\u{20}'..='\u{2F}').contains(&n) {
                    break;
                }
            }
        }
        // Two-character escapes (ESC 7, ESC c, ...): the one character is gone.
        Some(_) | None => {}
    }
}

/// Skips a CSI sequence's parameters, intermediates and final byte.
fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7E}').contains(&c) {
            return;
        }
        if !('\u{20}'..='\u{3F}').contains(&c) {
            // Not part of a well-formed CSI: stop, dropping this character
            // too rather than risk re-emitting part of a sequence.
            return;
        }
    }
}

/// Skips a control string (OSC, DCS, ...) up to BEL, ST (ESC \) or 8-bit ST.
fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{07}' | '\u{9C}' => return,
            '\u{1B}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

fn is_forbidden(c: char) -> bool {
    matches!(c,
        '\u{00}'..='\u{1F}' | '\u{7F}'..='\u{9F}'
        // soft hyphen, Arabic letter mark, Mongolian vowel separator
        | '\u{AD}' | '\u{61C}' | '\u{180E}'
        // zero-width space / non-joiner, LRM, RLM
        | '\u{200B}' | '\u{200C}' | '\u{200E}' | '\u{200F}'
        // bidi embeddings and overrides
        | '\u{202A}'..='\u{202E}'
        // word joiner, invisible operators, bidi isolates, deprecated format chars
        | '\u{2060}'..='\u{206F}'
        // byte-order mark / zero-width no-break space
        | '\u{FEFF}'
        // interlinear annotations, object replacement
        | '\u{FFF9}'..='\u{FFFC}'
        // language tag, cancel tag handled with tags; noncharacters
        | '\u{E0001}'
        | '\u{FFFE}' | '\u{FFFF}'
    )
}

/// Code points that take part in emoji ZWJ sequences: pictographs, their
/// presentation selector, skin-tone modifiers and a few symbols.
fn is_emoji_like(c: char) -> bool {
    matches!(c,
        '\u{1F000}'..='\u{1FAFF}'
        | '\u{2600}'..='\u{27BF}'
        | '\u{2300}'..='\u{23FF}'
        | '\u{2B00}'..='\u{2BFF}'
        | '\u{FE0F}'
    )
}

/// True when the text so far ends inside a subdivision-flag sequence
/// (black flag U+1F3F4 followed only by tag characters).
fn in_flag_tag_sequence(so_far: &str) -> bool {
    for c in so_far.chars().rev() {
        match c {
            '\u{E0020}'..='\u{E007F}' => {}
            '\u{1F3F4}' => return true,
            _ => return false,
        }
    }
    false
}

/// Combining diacritical mark blocks (the ones Zalgo text stacks).
fn is_combining_mark(c: char) -> bool {
    matches!(c,
        '\u{0300}'..='\u{036F}'
        | '\u{0483}'..='\u{0489}'
        | '\u{0591}'..='\u{05BD}'
        | '\u{0610}'..='\u{061A}'
        | '\u{064B}'..='\u{065F}'
        | '\u{0E31}' | '\u{0E34}'..='\u{0E3A}' | '\u{0E47}'..='\u{0E4E}'
        | '\u{1AB0}'..='\u{1AFF}'
        | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}'
        | '\u{FE20}'..='\u{FE2F}'
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_ascii_is_borrowed_unchanged() {
        assert!(matches!(
            sanitize("Hello Julie!"),
            Cow::Borrowed("Hello Julie!")
        ));
    }

    #[test]
    fn accents_and_emoji_survive() {
        assert_eq!(sanitize("Inès 😍 çà"), "Inès 😍 çà");
    }

    #[test]
    fn csi_and_osc_sequences_are_removed_whole() {
        assert_eq!(sanitize("a\u{1b}[31mred\u{1b}[0m b"), "ared b");
        assert_eq!(sanitize("x\u{1b}]0;pwned title\u{7}y"), "xy");
        assert_eq!(
            sanitize("x\u{1b}]8;;http://evil\u{1b}\\link\u{1b}]8;;\u{1b}\\y"),
            "xlinky"
        );
        assert_eq!(sanitize("x\u{9b}2Jy"), "xy");
        assert_eq!(sanitize("x\u{1b}Pq#0;2;0;0;0\u{1b}\\y"), "xy");
    }

    #[test]
    fn controls_and_newlines() {
        assert_eq!(sanitize("a\u{0}b\u{7}c\u{7f}d\u{85}e"), "abcd e");
        assert_eq!(sanitize("line1\nline2\r\n"), "line1 line2  ");
    }

    #[test]
    fn bidi_and_zero_width_are_removed() {
        assert_eq!(sanitize("abc\u{202E}fed\u{202C}"), "abcfed");
        assert_eq!(sanitize("a\u{2066}b\u{2069}c"), "abc");
        assert_eq!(sanitize("pa\u{200B}ss\u{FEFF}word\u{2060}"), "password");
    }

    #[test]
    fn zwj_kept_inside_emoji_only() {
        let family = "👨\u{200D}👩\u{200D}👧";
        assert_eq!(sanitize(family), family);
        assert_eq!(sanitize("a\u{200D}b"), "ab");
    }

    #[test]
    fn tag_smuggling_removed_but_flags_kept() {
        let england = "🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}";
        assert_eq!(sanitize(england), england);
        assert_eq!(sanitize("hi\u{E0069}\u{E0067}"), "hi");
    }

    #[test]
    fn combining_marks_capped() {
        let zalgo = format!("e{}", "\u{0301}".repeat(200));
        let out = sanitize(&zalgo);
        assert_eq!(out.chars().count(), 1 + MAX_COMBINING_PER_GRAPHEME);
        assert_eq!(sanitize("Việt"), "Việt");
    }

    #[test]
    fn names_are_trimmed_folded_and_capped() {
        assert_eq!(sanitize_name("  Jean \t Luc\u{1b}[2J ", 40), "Jean Luc");
        assert_eq!(sanitize_name("Maëlle", 3), "Maë");
    }

    fn dangerous(c: char) -> bool {
        (c as u32) < 0x20
            || ('\u{7f}'..='\u{9f}').contains(&c)
            || ('\u{202A}'..='\u{202E}').contains(&c)
            || ('\u{2066}'..='\u{2069}').contains(&c)
            || c == '\u{200B}'
            || c == '\u{FEFF}'
    }

    proptest! {
        #[test]
        fn output_never_contains_dangerous_chars(s in "\\PC*|[\\x00-\\x7f\\u{80}-\\u{9f}\\u{200b}-\\u{206f}]*") {
            let out = sanitize(&s);
            prop_assert!(!out.chars().any(dangerous), "{out:?}");
        }

        #[test]
        fn sanitize_is_idempotent(s in any::<String>()) {
            let once = sanitize(&s).into_owned();
            let twice = sanitize(&once).into_owned();
            prop_assert_eq!(once, twice);
        }

        #[test]
        fn printable_ascii_is_untouched(s in "[ -~]*") {
            prop_assert_eq!(sanitize(&s), s.as_str());
        }
    }
}
