//! The flag popup (`f` on a viewer's message): a colour (keys 1 to 4), an
//! optional note, then Enter flags the viewer for every staff console for
//! ten minutes. On a flagged viewer it shows the flag in force and offers
//! to lift it.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::popup_box::{draw_box, keys_line, popup_width, wrapped};
use super::{Context, Hints, Outcome};
use crate::console::input::{Edit, LineEditor};
use crate::console::theme::{StyleKey, Theme};
use crate::console::view::text::{clean, clean_name};
use crate::console::wrap::{display_width, truncate};
use crate::protocol::{
    Command, DEFAULT_FLAG_MINUTES, FlagColour, MAX_FLAG_NOTE_GRAPHEMES, ViewerFlag, ViewerId,
};

/// How long a flag lasts, Tab going through them: ten minutes first, as
/// Chatterino's users asked, up to the rest of a long show.
pub const FLAG_DURATIONS: [u32; 4] = [DEFAULT_FLAG_MINUTES, 30, 60, 240];

/// The glyph of a flag, drawn in its colour beside the viewer's name.
pub const FLAG_GLYPH: &str = "●";

/// The theme key of a flag's colour.
pub fn colour_style(colour: FlagColour) -> StyleKey {
    match colour {
        FlagColour::Red => StyleKey::FlagRed,
        FlagColour::Orange => StyleKey::FlagOrange,
        FlagColour::Green => StyleKey::FlagGreen,
        FlagColour::Blue => StyleKey::FlagBlue,
    }
}

#[derive(Debug, Clone)]
pub struct FlagForm {
    pub viewer_id: ViewerId,
    /// The viewer's first name, as the line showed it.
    pub name: String,
    pub colour: FlagColour,
    pub note: LineEditor,
    /// The flag in force when the popup opened, which `0` lifts.
    pub current: Option<ViewerFlag>,
    /// How long the flag lasts, from [`FLAG_DURATIONS`].
    pub minutes: u32,
}

impl FlagForm {
    pub fn new(viewer_id: ViewerId, name: String, current: Option<ViewerFlag>) -> FlagForm {
        // The note starts empty, so the digits still pick a colour (or
        // lift the flag); the flag in force is shown above, note included.
        let colour = current.as_ref().map_or(FlagColour::Red, |f| f.colour);
        FlagForm {
            viewer_id,
            name,
            colour,
            note: LineEditor::default(),
            current,
            minutes: DEFAULT_FLAG_MINUTES,
        }
    }

    /// Digits 1-4 pick the colour (a note does not start with one), 0
    /// lifts the flag in force, Tab changes how long it lasts, Enter
    /// flags, Esc cancels; everything else edits the note.
    pub fn on_key(&mut self, key: &KeyEvent, _ctx: &dyn Context) -> Outcome {
        let plain = !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        if let (KeyCode::Char(c), true) = (key.code, plain) {
            let note_empty = self.note.text().is_empty();
            if let Some(i) = c.to_digit(10).filter(|_| note_empty) {
                return self.digit(i);
            }
        }
        if key.code == KeyCode::Tab {
            let next = FLAG_DURATIONS
                .iter()
                .position(|&m| m == self.minutes)
                .map_or(0, |i| (i + 1) % FLAG_DURATIONS.len());
            self.minutes = FLAG_DURATIONS[next];
            return Outcome::Stay;
        }
        match self.note.handle_key(key) {
            Edit::Cancel => Outcome::Close,
            Edit::Submit => self.submit(),
            _ => Outcome::Stay,
        }
    }

    fn digit(&mut self, i: u32) -> Outcome {
        match i {
            0 => match &self.current {
                Some(_) => Outcome::Send {
                    command: Command::UnflagViewer {
                        viewer_id: self.viewer_id.clone(),
                    },
                    summary: format!("lift the flag on {}", clean_name(&self.name)),
                },
                None => Outcome::Refuse(format!("{} is not flagged", clean_name(&self.name))),
            },
            1..=4 => {
                let index = usize::try_from(i - 1).unwrap_or(0);
                self.colour = FlagColour::ALL[index.min(FlagColour::ALL.len() - 1)];
                Outcome::Stay
            }
            _ => Outcome::Refuse("colours are 1 to 4".to_string()),
        }
    }

    fn submit(&mut self) -> Outcome {
        let note = self.note.text().trim().to_string();
        let count = crate::privacy::grapheme_count(&note);
        if count > MAX_FLAG_NOTE_GRAPHEMES {
            return Outcome::Refuse(format!(
                "the note has {count} characters; at most {MAX_FLAG_NOTE_GRAPHEMES}"
            ));
        }
        Outcome::Send {
            command: Command::FlagViewer {
                viewer_id: self.viewer_id.clone(),
                colour: self.colour,
                note,
                minutes: Some(self.minutes),
            },
            summary: format!(
                "flag {} {} for {} min",
                clean_name(&self.name),
                self.colour.as_str(),
                self.minutes
            ),
        }
    }

    pub fn hints(&self) -> Hints {
        let mut hints: Hints = vec![
            ("1-4".into(), "colour"),
            ("Tab".into(), "duration"),
            ("Enter".into(), "flag"),
            ("Esc".into(), "cancel"),
        ];
        if self.current.is_some() {
            hints.insert(3, ("0".into(), "lift"));
        }
        hints
    }

    pub fn draw(
        &self,
        buf: &mut Buffer,
        area: Rect,
        ctx: &dyn Context,
        theme: &Theme,
    ) -> Option<(u16, u16)> {
        let width = popup_width(area);
        let field_w = usize::from(width.saturating_sub(6));
        let label = theme.style(StyleKey::PopupLabel);
        let mut lines = wrapped(
            &format!(
                "Flag {} for every staff console, {} min:",
                clean_name(&self.name),
                self.minutes
            ),
            field_w + 2,
            theme.style(StyleKey::PopupText),
        );
        if let Some(f) = &self.current {
            let left = (f.until - ctx.now()).max(0) / 60_000 + 1;
            let by = f.by.name.as_deref().map_or(String::new(), clean_name);
            let note = if f.note.is_empty() {
                String::new()
            } else {
                format!(": {}", clean(&f.note))
            };
            let now = format!("now {} by {by}, {left} min left{note}", f.colour.as_str());
            lines.extend(wrapped(&now, field_w + 2, label));
        }
        let mut colours = Vec::new();
        for (i, c) in FlagColour::ALL.iter().enumerate() {
            let chosen = *c == self.colour;
            colours.push(Span::styled(
                format!("{} ", i + 1),
                theme.style(StyleKey::PopupKey),
            ));
            colours.push(Span::styled(FLAG_GLYPH, theme.style(colour_style(*c))));
            let name = if chosen {
                format!(" [{}]  ", c.as_str())
            } else {
                format!(" {}  ", c.as_str())
            };
            let style = if chosen {
                theme.style(StyleKey::FormLabelFocused)
            } else {
                label
            };
            colours.push(Span::styled(name, style));
        }
        lines.push(Line::from(colours));
        let text = clean(self.note.text()).into_owned();
        let shown = if display_width(&text) > field_w {
            truncate(&text, field_w).into_owned()
        } else {
            text
        };
        let field_row = u16::try_from(lines.len()).unwrap_or(u16::MAX);
        lines.extend([
            Line::from(vec![
                Span::styled("› ", theme.style(StyleKey::InputPrompt)),
                Span::styled(shown, theme.style(StyleKey::InputText)),
            ]),
            Line::styled("note (optional): staff only, gone with the flag", label),
            keys_line(&self.hints(), theme),
        ]);
        let inner = draw_box(buf, area, " Flag viewer ", &lines, width, theme);
        let cursor = self.note.cursor_column().min(field_w);
        Some((
            inner.x
                + 2
                + u16::try_from(cursor)
                    .unwrap_or(u16::MAX)
                    .min(inner.width.saturating_sub(3)),
            inner.y.saturating_add(field_row),
        ))
    }
}
