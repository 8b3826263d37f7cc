//! Word wrapping for chat text, measured in terminal cells.
//!
//! Lines break at word boundaries; a word wider than the line is split
//! between grapheme clusters, never inside one, so an emoji ZWJ sequence or
//! a letter with its combining marks stays whole. Widths come from
//! `unicode-width`, the same tables ratatui uses to place cells, so what we
//! measure is what the buffer draws and borders never move.

use std::ops::Range;

use unicode_segmentation::UnicodeSegmentation;
use unicode_width::UnicodeWidthStr;

/// The cell width of `text` as ratatui will draw it.
pub fn display_width(text: &str) -> usize {
    if is_printable_ascii(text) {
        // One cell per byte: the common case of plain chat, without
        // grapheme segmentation.
        return text.len();
    }
    text.graphemes(true).map(grapheme_width).sum()
}

fn is_printable_ascii(text: &str) -> bool {
    text.bytes().all(|b| (0x20..0x7F).contains(&b))
}

/// Width of one grapheme cluster. ratatui gives every cluster at least the
/// width of its first scalar; a lone zero-width cluster (a stray combining
/// mark) occupies no cell.
pub fn grapheme_width(g: &str) -> usize {
    g.width()
}

/// Splits `text` into runs of whitespace and of everything else, with
/// their byte offsets. Lines break only between runs (or, for a run wider
/// than a line, between its graphemes), so punctuation stays with its word.
fn runs(text: &str) -> impl Iterator<Item = (usize, &str, bool)> {
    let mut rest = text.char_indices().peekable();
    std::iter::from_fn(move || {
        let (start, first) = rest.next()?;
        let blank = first.is_whitespace();
        let mut end = start + first.len_utf8();
        while let Some(&(i, c)) = rest.peek() {
            if c.is_whitespace() != blank {
                break;
            }
            end = i + c.len_utf8();
            rest.next();
        }
        Some((start, &text[start..end], blank))
    })
}

/// Splits `text` into lines no wider than `width` cells and returns each
/// line's byte range in `text`. Spaces at a break are dropped. Always
/// returns at least one (possibly empty) line. A single grapheme wider than
/// `width` (a wide emoji on a one-cell line) gets a line of its own.
pub fn wrap(text: &str, width: usize) -> Vec<Range<usize>> {
    let width = width.max(1);
    if text.len() <= width
        && is_printable_ascii(text)
        && !text.starts_with(' ')
        && !text.ends_with(' ')
    {
        return std::iter::once(0..text.len()).collect();
    }
    let mut lines = Vec::new();
    // Current line: start byte, end byte (exclusive, of the last kept word),
    // and its width in cells.
    let mut start: Option<usize> = None;
    let mut end = 0usize;
    let mut used = 0usize;
    // Width of the whitespace run seen since the last word on this line.
    let mut pending_space = 0usize;

    for (at, token, blank) in runs(text) {
        if blank {
            if start.is_some() {
                pending_space += display_width(token);
            }
            continue;
        }
        let w = display_width(token);
        match start {
            Some(_) if used + pending_space + w <= width => {
                used += pending_space + w;
                end = at + token.len();
            }
            Some(s) if w <= width => {
                lines.push(s..end);
                start = Some(at);
                end = at + token.len();
                used = w;
            }
            None if w <= width => {
                start = Some(at);
                end = at + token.len();
                used = w;
            }
            _ => {
                // The word does not fit on any line: continue the current
                // line with it when there is room for a grapheme or more,
                // then split it across as many lines as it takes.
                if let Some(s) = start {
                    if used + pending_space < width {
                        used += pending_space;
                    } else {
                        lines.push(s..end);
                        start = None;
                        used = 0;
                    }
                }
                for (gi, g) in token.grapheme_indices(true) {
                    let gw = grapheme_width(g);
                    let g_at = at + gi;
                    match start {
                        Some(s) if used + gw > width => {
                            lines.push(s..end);
                            start = Some(g_at);
                            used = gw;
                        }
                        Some(_) => used += gw,
                        None => {
                            start = Some(g_at);
                            used = gw;
                        }
                    }
                    end = g_at + g.len();
                }
            }
        }
        pending_space = 0;
    }
    match start {
        Some(s) => lines.push(s..end),
        None if lines.is_empty() => lines.push(0..0),
        None => {}
    }
    lines
}

/// Reduces emoji sequences whose width terminals disagree on to their
/// first character, so what ratatui measures is what every terminal draws.
///
/// `unicode-width` (and so ratatui) counts a ZWJ sequence, a skin-tone
/// modifier or a VS16 emoji as two cells; terminals differ (tmux 3.3 draws
/// `❤️` in one cell, `🏳️‍🌈` in one, `👍🏽` in four; xterm draws a family
/// as four people). Any mismatch shifts every cell after it and breaks the
/// pane's border. Keeping the base emoji (`👨‍👩‍👧‍👦` → `👨`, `❤️` → `❤`)
/// is one cell-width everyone agrees on. Flags and CJK are kept as they are.
pub fn terminal_safe(text: &str) -> std::borrow::Cow<'_, str> {
    fn unstable(c: char) -> bool {
        matches!(c, '\u{200D}' | '\u{FE0F}' | '\u{1F3FB}'..='\u{1F3FF}' | '\u{E0020}'..='\u{E007F}')
    }
    if text.is_ascii() || !text.chars().any(unstable) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for g in text.graphemes(true) {
        if g.chars().skip(1).any(unstable) {
            if let Some(first) = g.chars().next() {
                out.push(first);
            }
        } else if !g.chars().all(unstable) {
            out.push_str(g);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Cuts `text` to at most `width` cells, whole graphemes only, adding `…`
/// when something was cut. For names and one-line summaries.
pub fn truncate(text: &str, width: usize) -> std::borrow::Cow<'_, str> {
    if display_width(text) <= width {
        return std::borrow::Cow::Borrowed(text);
    }
    if width == 0 {
        return std::borrow::Cow::Borrowed("");
    }
    let mut out = String::new();
    let mut used = 0;
    for g in text.graphemes(true) {
        let gw = grapheme_width(g);
        if used + gw > width - 1 {
            break;
        }
        used += gw;
        out.push_str(g);
    }
    out.push('…');
    std::borrow::Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str, width: usize) -> Vec<&str> {
        wrap(text, width).into_iter().map(|r| &text[r]).collect()
    }

    #[test]
    fn breaks_on_word_boundaries() {
        assert_eq!(
            lines("does it come in size 38 please", 12),
            vec!["does it come", "in size 38", "please"]
        );
    }

    #[test]
    fn punctuation_stays_with_its_word() {
        assert_eq!(lines("is it 38? yes", 9), vec!["is it 38?", "yes"]);
        assert_eq!(lines("size 38, please", 8), vec!["size 38,", "please"]);
    }

    #[test]
    fn long_word_splits_between_graphemes() {
        assert_eq!(lines("abcdefghij", 4), vec!["abcd", "efgh", "ij"]);
        assert_eq!(lines("hi abcdefghij", 5), vec!["hi ab", "cdefg", "hij"]);
    }

    #[test]
    fn wide_graphemes_are_never_split() {
        let family = "👨‍👩‍👧‍👦";
        let text = format!("{family}{family}{family}");
        let got = lines(&text, 5);
        assert_eq!(got, vec![format!("{family}{family}"), family.to_string()]);
        for l in got {
            assert!(display_width(l) <= 5);
        }
        assert_eq!(
            lines("日本語のテキスト", 5),
            vec!["日本", "語の", "テキ", "スト"]
        );
    }

    #[test]
    fn empty_and_blank_give_one_line() {
        assert_eq!(wrap("", 10), vec![0..0]);
        assert_eq!(lines("   ", 10), vec![""]);
    }

    #[test]
    fn emoji_sequences_reduce_to_their_base() {
        assert_eq!(terminal_safe("a 👨‍👩‍👧‍👦 b"), "a 👨 b");
        assert_eq!(terminal_safe("❤️ 👍🏽 🏳️‍🌈 🇫🇷 日本 é"), "❤ 👍 🏳 🇫🇷 日本 é");
        assert!(matches!(
            terminal_safe("plain 😍"),
            std::borrow::Cow::Borrowed(_)
        ));
    }

    #[test]
    fn truncates_with_ellipsis() {
        assert_eq!(truncate("Julie", 10), "Julie");
        assert_eq!(truncate("Jean-Baptiste", 6), "Jean-…");
        assert_eq!(truncate("日本語", 4), "日…");
    }
}
