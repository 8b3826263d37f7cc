//! A one-line text editor that counts in grapheme clusters, so the cursor
//! never lands inside an emoji or between a letter and its accent. Used by
//! the reply line and by every prompt.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use unicode_segmentation::UnicodeSegmentation;

use super::wrap::display_width;

/// What a key did to the editor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edit {
    /// The text or cursor changed (or the key was an editing key).
    Changed,
    /// Enter: the caller takes the text.
    Submit,
    /// Esc: the caller closes the editor.
    Cancel,
    /// Up/Down: the caller walks its history.
    HistoryPrev,
    HistoryNext,
    /// Not an editing key.
    Ignored,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LineEditor {
    text: String,
    /// Cursor as a byte offset, always on a grapheme boundary.
    cursor: usize,
}

impl LineEditor {
    pub fn with_text(text: &str) -> Self {
        let mut e = LineEditor::default();
        e.set(text);
        e
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn is_empty(&self) -> bool {
        self.text.is_empty()
    }

    /// Replaces the text; the cursor goes to the end.
    pub fn set(&mut self, text: &str) {
        self.text = single_line(text);
        self.cursor = self.text.len();
    }

    pub fn take(&mut self) -> String {
        self.cursor = 0;
        std::mem::take(&mut self.text)
    }

    /// Cells before the cursor, for placing the terminal cursor.
    pub fn cursor_column(&self) -> usize {
        display_width(&self.text[..self.cursor])
    }

    pub fn grapheme_count(&self) -> usize {
        self.text.graphemes(true).count()
    }

    /// Inserts pasted or typed text at the cursor, as one line.
    pub fn insert(&mut self, text: &str) {
        let clean = single_line(text);
        self.text.insert_str(self.cursor, &clean);
        self.cursor += clean.len();
        // A combining mark typed after a letter joins its cluster; keep the
        // cursor on a boundary.
        self.cursor = self.boundary_at_or_after(self.cursor);
    }

    pub fn handle_key(&mut self, key: &KeyEvent) -> Edit {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        let alt = key.modifiers.contains(KeyModifiers::ALT);
        match key.code {
            KeyCode::Enter => return Edit::Submit,
            KeyCode::Esc => return Edit::Cancel,
            KeyCode::Up => return Edit::HistoryPrev,
            KeyCode::Down => return Edit::HistoryNext,
            KeyCode::Char('a') if ctrl => self.cursor = 0,
            KeyCode::Char('e') if ctrl => self.cursor = self.text.len(),
            KeyCode::Char('u') if ctrl => {
                self.text.replace_range(..self.cursor, "");
                self.cursor = 0;
            }
            KeyCode::Char('k') if ctrl => self.text.truncate(self.cursor),
            KeyCode::Char('w') if ctrl => self.delete_word_back(),
            KeyCode::Backspace if ctrl || alt => self.delete_word_back(),
            KeyCode::Char('b') if alt => self.cursor = self.word_start_before(self.cursor),
            KeyCode::Char('f') if alt => self.cursor = self.word_end_after(self.cursor),
            KeyCode::Char(c) if !ctrl => {
                let mut buf = [0u8; 4];
                self.insert(c.encode_utf8(&mut buf));
            }
            KeyCode::Home => self.cursor = 0,
            KeyCode::End => self.cursor = self.text.len(),
            KeyCode::Left if ctrl || alt => self.cursor = self.word_start_before(self.cursor),
            KeyCode::Right if ctrl || alt => self.cursor = self.word_end_after(self.cursor),
            KeyCode::Left => self.cursor = self.prev_boundary(self.cursor),
            KeyCode::Right => self.cursor = self.next_boundary(self.cursor),
            KeyCode::Backspace => {
                let start = self.prev_boundary(self.cursor);
                self.text.replace_range(start..self.cursor, "");
                self.cursor = start;
            }
            KeyCode::Delete => {
                let end = self.next_boundary(self.cursor);
                self.text.replace_range(self.cursor..end, "");
            }
            _ => return Edit::Ignored,
        }
        Edit::Changed
    }

    fn prev_boundary(&self, at: usize) -> usize {
        self.text[..at]
            .grapheme_indices(true)
            .next_back()
            .map_or(0, |(i, _)| i)
    }

    fn next_boundary(&self, at: usize) -> usize {
        self.text[at..]
            .graphemes(true)
            .next()
            .map_or(at, |g| at + g.len())
    }

    fn boundary_at_or_after(&self, at: usize) -> usize {
        let mut pos = 0;
        for g in self.text.graphemes(true) {
            if pos >= at {
                return pos;
            }
            pos += g.len();
        }
        self.text.len()
    }

    fn word_start_before(&self, at: usize) -> usize {
        let mut pos = at;
        let before = &self.text[..at];
        let mut graphemes = before.grapheme_indices(true).rev().peekable();
        while let Some((i, g)) = graphemes.peek().copied() {
            if !g.trim().is_empty() {
                break;
            }
            pos = i;
            graphemes.next();
        }
        for (i, g) in graphemes {
            if g.trim().is_empty() {
                break;
            }
            pos = i;
        }
        pos
    }

    fn word_end_after(&self, at: usize) -> usize {
        let mut pos = at;
        let mut seen_word = false;
        for g in self.text[at..].graphemes(true) {
            let blank = g.trim().is_empty();
            if blank && seen_word {
                break;
            }
            seen_word |= !blank;
            pos += g.len();
        }
        pos
    }

    fn delete_word_back(&mut self) {
        let start = self.word_start_before(self.cursor);
        self.text.replace_range(start..self.cursor, "");
        self.cursor = start;
    }
}

/// Chat lines are single lines: pasted newlines and tabs become spaces, and
/// control characters go (the hub would strip them anyway).
fn single_line(text: &str) -> String {
    crate::privacy::sanitize(text).into_owned()
}

/// Sent lines, oldest first, walked with Up/Down like a shell.
#[derive(Debug, Clone, Default)]
pub struct History {
    lines: Vec<String>,
    /// Position while walking; `None` when not walking.
    at: Option<usize>,
    /// What was typed before walking started, restored past the newest.
    draft: String,
}

impl History {
    const MAX: usize = 200;

    pub fn push(&mut self, line: &str) {
        if !line.trim().is_empty() && self.lines.last().map(String::as_str) != Some(line) {
            self.lines.push(line.to_string());
            if self.lines.len() > Self::MAX {
                self.lines.remove(0);
            }
        }
        self.at = None;
    }

    pub fn prev(&mut self, editor: &mut LineEditor) {
        let next = match self.at {
            None if self.lines.is_empty() => return,
            None => {
                self.draft = editor.text().to_string();
                self.lines.len() - 1
            }
            Some(0) => 0,
            Some(i) => i - 1,
        };
        self.at = Some(next);
        editor.set(&self.lines[next]);
    }

    pub fn next(&mut self, editor: &mut LineEditor) {
        match self.at {
            None => {}
            Some(i) if i + 1 < self.lines.len() => {
                self.at = Some(i + 1);
                editor.set(&self.lines[i + 1]);
            }
            Some(_) => {
                self.at = None;
                let draft = std::mem::take(&mut self.draft);
                editor.set(&draft);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }
    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    #[test]
    fn cursor_moves_by_grapheme() {
        let mut e = LineEditor::with_text("a👨‍👩‍👧b");
        e.handle_key(&key(KeyCode::Left));
        e.handle_key(&key(KeyCode::Left));
        assert_eq!(e.cursor_column(), 1);
        e.handle_key(&key(KeyCode::Delete));
        assert_eq!(e.text(), "ab");
        e.handle_key(&key(KeyCode::Backspace));
        assert_eq!(e.text(), "b");
    }

    #[test]
    fn combining_marks_join_the_letter() {
        let mut e = LineEditor::default();
        e.insert("e");
        e.insert("\u{301}");
        assert_eq!(e.grapheme_count(), 1);
        e.handle_key(&key(KeyCode::Backspace));
        assert!(e.is_empty());
    }

    #[test]
    fn word_deletion_home_end() {
        let mut e = LineEditor::with_text("Julie, yes it comes in 38");
        e.handle_key(&ctrl('w'));
        assert_eq!(e.text(), "Julie, yes it comes in ");
        e.handle_key(&ctrl('w'));
        assert_eq!(e.text(), "Julie, yes it comes ");
        e.handle_key(&key(KeyCode::Home));
        e.handle_key(&key(KeyCode::Char('>')));
        assert_eq!(e.text(), ">Julie, yes it comes ");
        e.handle_key(&key(KeyCode::End));
        e.handle_key(&key(KeyCode::Char('!')));
        assert_eq!(e.text(), ">Julie, yes it comes !");
    }

    #[test]
    fn paste_is_one_clean_line() {
        let mut e = LineEditor::default();
        e.insert("two\nlines\x1b[31m red");
        assert_eq!(e.text(), "two lines red");
    }

    #[test]
    fn history_walks_and_restores_the_draft() {
        let mut h = History::default();
        h.push("first");
        h.push("second");
        let mut e = LineEditor::with_text("draft");
        h.prev(&mut e);
        assert_eq!(e.text(), "second");
        h.prev(&mut e);
        assert_eq!(e.text(), "first");
        h.next(&mut e);
        h.next(&mut e);
        assert_eq!(e.text(), "draft");
    }
}
