//! The follow-up SMS popup (from the Lives popup, key `T`, on the ended
//! live the console is in, admin only): the post-live segments with how
//! many viewers each would reach, as the hub counted them (`sms_segments`:
//! only those holding the `sms_marketing` consent, not texted yet). Enter
//! asks to confirm sending to the selected segment's count; the hub
//! refuses if the count changed meanwhile.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::confirm::Target;
use super::popup_box::{draw_box, keys_line, wide_width, wrapped};
use super::{Context, Hints, Outcome, Popup};
use crate::console::keymap::{Action, PopupAction};
use crate::protocol::SegmentCount;

/// The segments as the hub counted them.
#[derive(Debug, Clone)]
pub struct SegmentsView {
    pub segments: Vec<SegmentCount>,
    pub selected: usize,
}

impl SegmentsView {
    pub fn new(segments: Vec<SegmentCount>) -> Self {
        Self {
            segments,
            selected: 0,
        }
    }

    pub fn on_key(&mut self, key: &KeyEvent, ctx: &dyn Context) -> Outcome {
        let keymap = ctx.keymap();
        match keymap.popup_action_for(key) {
            Some(PopupAction::Close | PopupAction::Cancel) => return Outcome::Close,
            Some(PopupAction::Confirm) => {
                return match self.segments.get(self.selected) {
                    Some(s) if s.recipients == 0 => Outcome::Refuse(format!(
                        "nobody to text: none of the {} agreed to SMS offers",
                        s.segment.describe()
                    )),
                    Some(s) => Outcome::Open(Popup::confirm(Target::SmsFollowUp {
                        segment: s.segment,
                        recipients: s.recipients,
                    })),
                    None => Outcome::Stay,
                };
            }
            _ => {}
        }
        match keymap.action_for(key) {
            Some(Action::MoveDown) => {
                self.selected = (self.selected + 1).min(self.segments.len().saturating_sub(1));
                Outcome::Stay
            }
            Some(Action::MoveUp) => {
                self.selected = self.selected.saturating_sub(1);
                Outcome::Stay
            }
            Some(Action::Quit | Action::SmsFollowUp) => Outcome::Close,
            _ => Outcome::Stay,
        }
    }

    fn hints(ctx: &dyn Context) -> Hints {
        let keymap = ctx.keymap();
        let mut keys = Hints::new();
        if let (Some(down), Some(up)) = (keymap.hint(Action::MoveDown), keymap.hint(Action::MoveUp))
        {
            keys.push((format!("{down}/{up}"), "select"));
        }
        if let Some(k) = keymap.popup_hint(PopupAction::Confirm) {
            keys.push((k, "send…"));
        }
        if let Some(k) = keymap.popup_hint(PopupAction::Close) {
            keys.push((k, "close"));
        }
        keys
    }

    pub fn draw(
        &self,
        buf: &mut Buffer,
        area: Rect,
        ctx: &dyn Context,
        theme: &crate::console::theme::Theme,
    ) -> Option<(u16, u16)> {
        use crate::console::theme::StyleKey;
        let width = wide_width(area);
        let inner = width.saturating_sub(4) as usize;
        let label = theme.style(StyleKey::PopupLabel);
        let text = theme.style(StyleKey::PopupText);
        let mut lines = wrapped(
            "Viewers of this live who agreed to SMS offers, by what they did (one SMS each at most):",
            inner,
            label,
        );
        lines.push(Line::default());
        for (i, s) in self.segments.iter().enumerate() {
            let style = if i == self.selected {
                theme.style(StyleKey::FeedSelected)
            } else {
                text
            };
            let row = format!("{:>6}  {}", s.recipients, s.segment.describe());
            lines.push(Line::from(Span::styled(row, style)));
        }
        lines.push(Line::default());
        lines.extend(wrapped(
            "Promotional: held until Monday–Saturday 08:00–20:00 Paris, never on a public holiday.",
            inner,
            label,
        ));
        lines.push(Line::default());
        lines.push(keys_line(&Self::hints(ctx), theme));
        draw_box(buf, area, " Follow-up SMS ", &lines, width, theme);
        None
    }
}
