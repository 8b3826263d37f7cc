//! Presets with a typed alternative: slow mode's gap, a timeout's duration
//! and a sanction's reason. ↑/↓ pick a preset; typing replaces it; Enter
//! takes the typed text if any, else the preset. A timeout asks its
//! duration, then its reason; a ban opens at its confirmation with the
//! first reason, and the edit key there comes here for another; a lift
//! asks its reason. The reasons are the brand's templates (the console
//! config's `sanction_reasons`), so moderators do not type "spam" all show.
//!
//! A timeout is two keys from a selected message: `t`, then the preset's
//! digit (1 to 6), which times out at once with the first reason. Tab moves
//! to the typed field first, for a duration of one's own (it starts with a
//! digit too).

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::popup_box::{draw_box, keys_line, popup_width, wrapped};
use super::{Context, Hints, Outcome, Popup, Target};
use crate::console::input::{Edit, LineEditor};
use crate::console::theme::{StyleKey, Theme};
use crate::console::view::text::{clean, clean_name};
use crate::console::wrap::truncate;
use crate::protocol::{Command, LiftedSanction, MAX_SLOW_MODE_SECS, ViewerId};

/// Slow mode's presets, in seconds (0 is off).
pub const SLOW_MODE_PRESETS: [u32; 7] = [0, 5, 10, 30, 60, 120, 300];

/// A timeout's presets (the ones `YouTube` offers): seconds and how the list names them.
pub const TIMEOUT_PRESETS: [(u32, &str); 6] = [
    (10, "10 s"),
    (60, "1 min"),
    (300, "5 min"),
    (600, "10 min"),
    (1_800, "30 min"),
    (86_400, "24 h"),
];

/// The preset selected when a timeout's duration is asked: 10 min.
const DEFAULT_TIMEOUT: usize = 3;

/// The reasons offered when the console config names none.
pub const DEFAULT_SANCTION_REASONS: [&str; 5] = [
    "spam",
    "insults",
    "off-topic",
    "personal data",
    "advertising",
];

/// The reason a sanction takes when none is chosen: the brand's first
/// template, else the first default.
pub fn first_reason(reasons: &[String]) -> String {
    reasons
        .first()
        .cloned()
        .unwrap_or_else(|| DEFAULT_SANCTION_REASONS[0].to_owned())
}

/// The reasons a lift offers: why a sanction ends early is not why it was
/// given, so the brand's templates are not offered here.
pub const LIFT_REASONS: [&str; 3] = ["appeal accepted", "wrong viewer", "served its purpose"];

/// A sanction waiting for its reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sanction {
    Timeout {
        viewer_id: ViewerId,
        name: String,
        seconds: u32,
    },
    Ban {
        viewer_id: ViewerId,
        name: String,
    },
    Lift {
        viewer_id: ViewerId,
        name: String,
        lifted: LiftedSanction,
    },
}

/// What the choice is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChoiceKind {
    /// `current`: the live's slow mode now, marked in the list.
    SlowMode {
        current: u32,
    },
    TimeoutDuration {
        viewer_id: ViewerId,
        name: String,
    },
    Reason(Sanction),
}

/// The popup: presets, the one selected, and the typed alternative.
#[derive(Debug, Clone)]
pub struct Choice {
    pub kind: ChoiceKind,
    pub options: Vec<String>,
    pub selected: usize,
    pub editor: LineEditor,
    /// A timeout's duration: Tab was pressed, digits type in the field
    /// instead of picking a preset.
    pub typing: bool,
}

impl Choice {
    /// Slow mode, with the current setting selected.
    pub fn slow_mode(current: u32) -> Choice {
        let options = SLOW_MODE_PRESETS.iter().map(|&s| slow_label(s)).collect();
        let selected = SLOW_MODE_PRESETS
            .iter()
            .position(|&s| s == current)
            .unwrap_or(0);
        Choice {
            kind: ChoiceKind::SlowMode { current },
            options,
            selected,
            editor: LineEditor::default(),
            typing: false,
        }
    }

    /// A timeout's duration, 10 min selected.
    pub fn timeout(viewer_id: ViewerId, name: String) -> Choice {
        Choice {
            kind: ChoiceKind::TimeoutDuration { viewer_id, name },
            options: TIMEOUT_PRESETS
                .iter()
                .enumerate()
                .map(|(i, (_, l))| format!("{} · {l}", i + 1))
                .collect(),
            selected: DEFAULT_TIMEOUT,
            editor: LineEditor::default(),
            typing: false,
        }
    }

    /// A sanction's reason, from `reasons` (the brand's templates) or typed;
    /// a lift offers [`LIFT_REASONS`] instead.
    pub fn reason(sanction: Sanction, reasons: &[String]) -> Choice {
        let options = match sanction {
            Sanction::Lift { .. } => LIFT_REASONS.map(String::from).to_vec(),
            _ => reasons.to_vec(),
        };
        Choice {
            kind: ChoiceKind::Reason(sanction),
            options,
            selected: 0,
            editor: LineEditor::default(),
            typing: false,
        }
    }

    pub fn on_key(&mut self, key: &KeyEvent, ctx: &dyn Context) -> Outcome {
        if let Some(outcome) = self.timeout_shortcut(key, ctx) {
            return outcome;
        }
        match self.editor.handle_key(key) {
            Edit::Cancel => Outcome::Close,
            Edit::HistoryPrev => {
                self.selected = self.selected.saturating_sub(1);
                Outcome::Stay
            }
            Edit::HistoryNext => {
                self.selected = (self.selected + 1).min(self.options.len().saturating_sub(1));
                Outcome::Stay
            }
            Edit::Submit => {
                let typed = self.editor.text().trim().to_string();
                self.submit(&typed, ctx)
            }
            Edit::Changed | Edit::Ignored => Outcome::Stay,
        }
    }

    /// A timeout's duration: a preset's digit times out at once with the
    /// first reason; Tab lets digits type a duration instead.
    fn timeout_shortcut(&mut self, key: &KeyEvent, ctx: &dyn Context) -> Option<Outcome> {
        let ChoiceKind::TimeoutDuration { viewer_id, name } = &self.kind else {
            return None;
        };
        if self.typing || !self.editor.text().is_empty() {
            return None;
        }
        if key.code == KeyCode::Tab {
            self.typing = true;
            return Some(Outcome::Stay);
        }
        let plain = !key
            .modifiers
            .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        let KeyCode::Char(c) = key.code else {
            return None;
        };
        let Some(digit) = c.to_digit(10).filter(|_| plain) else {
            // Typing a duration ("soon", then cleared): digits type from now on.
            self.typing |= plain;
            return None;
        };
        let (seconds, _) = usize::try_from(digit)
            .ok()
            .and_then(|d| d.checked_sub(1))
            .and_then(|i| TIMEOUT_PRESETS.get(i))?;
        let reason = first_reason(ctx.sanction_reasons());
        let sanction = Sanction::Timeout {
            viewer_id: viewer_id.clone(),
            name: name.clone(),
            seconds: *seconds,
        };
        Some(sanctioned(&sanction, reason))
    }

    fn submit(&mut self, typed: &str, ctx: &dyn Context) -> Outcome {
        match &self.kind {
            ChoiceKind::SlowMode { .. } => {
                let secs = if typed.is_empty() {
                    SLOW_MODE_PRESETS.get(self.selected).copied()
                } else {
                    parse_secs(typed).filter(|&s| s <= MAX_SLOW_MODE_SECS)
                };
                let Some(secs) = secs else {
                    return Outcome::Refuse(format!(
                        "not a slow mode: {:?} (0 to {MAX_SLOW_MODE_SECS} s, e.g. 45s, 2m)",
                        truncate_note(typed)
                    ));
                };
                Outcome::Send {
                    command: Command::SlowMode { secs },
                    summary: format!("slow mode {}", slow_label(secs)),
                }
            }
            ChoiceKind::TimeoutDuration { viewer_id, name } => {
                let seconds = if typed.is_empty() {
                    TIMEOUT_PRESETS.get(self.selected).map(|(s, _)| *s)
                } else {
                    parse_secs(typed).filter(|&s| s > 0)
                };
                let Some(seconds) = seconds else {
                    return Outcome::Refuse(format!(
                        "not a duration: {:?} (try 30s, 10m, 1h)",
                        truncate_note(typed)
                    ));
                };
                let sanction = Sanction::Timeout {
                    viewer_id: viewer_id.clone(),
                    name: name.clone(),
                    seconds,
                };
                Outcome::Open(Popup::Choice(Choice::reason(
                    sanction,
                    ctx.sanction_reasons(),
                )))
            }
            ChoiceKind::Reason(sanction) => {
                let reason = if typed.is_empty() {
                    self.options.get(self.selected).cloned().unwrap_or_default()
                } else {
                    typed.to_string()
                };
                if reason.is_empty() {
                    return Outcome::Refuse("type a reason (it goes in the audit log)".into());
                }
                sanctioned(sanction, reason)
            }
        }
    }

    pub fn hints() -> Hints {
        vec![
            ("↑↓".into(), "choose"),
            ("Enter".into(), "ok"),
            ("Esc".into(), "cancel"),
        ]
    }

    pub fn draw(
        &self,
        buf: &mut Buffer,
        area: Rect,
        _ctx: &dyn Context,
        theme: &Theme,
    ) -> Option<(u16, u16)> {
        let width = popup_width(area);
        let w = usize::from(width.saturating_sub(4));
        let (title, question, hint) = self.texts();
        let text = theme.style(StyleKey::PopupText);
        let label = theme.style(StyleKey::PopupLabel);
        let mut lines = wrapped(&question, w, text);
        for (i, option) in self.options.iter().enumerate() {
            let current = matches!(self.kind, ChoiceKind::SlowMode { current }
                if SLOW_MODE_PRESETS.get(i) == Some(&current));
            let mark = if i == self.selected { "▸ " } else { "  " };
            let now = if current { "  (now)" } else { "" };
            let style = if i == self.selected {
                theme.style(StyleKey::InputText)
            } else {
                text
            };
            lines.push(Line::styled(
                truncate(&format!("{mark}{}{now}", clean(option)), w).into_owned(),
                style,
            ));
        }
        lines.push(Line::default());
        let field_row = u16::try_from(lines.len()).unwrap_or(u16::MAX);
        let field_w = w.saturating_sub(2);
        let typed = self.editor.text();
        lines.extend([Line::from(vec![
            Span::styled("› ", theme.style(StyleKey::InputPrompt)),
            Span::styled(
                truncate(typed, field_w).into_owned(),
                theme.style(StyleKey::InputText),
            ),
        ])]);
        lines.extend(wrapped(hint, w, label));
        lines.push(keys_line(&Self::hints(), theme));
        let inner = draw_box(buf, area, title, &lines, width, theme);
        let cursor = u16::try_from(self.editor.cursor_column().min(field_w)).unwrap_or(u16::MAX);
        Some((
            inner.x + 2 + cursor.min(inner.width.saturating_sub(3)),
            inner.y.saturating_add(field_row),
        ))
    }

    /// The title, the question above the list and the hint under the field.
    fn texts(&self) -> (&'static str, String, &'static str) {
        match &self.kind {
            ChoiceKind::SlowMode { .. } => (
                " Slow mode ",
                "How long must each viewer wait between two messages?".into(),
                "or type a wait: 45s, 2m (0 is off)",
            ),
            ChoiceKind::TimeoutDuration { name, .. } => (
                " Timeout ",
                format!("Silence {} for how long?", clean_name(name)),
                "1–6: at once, first reason · Tab: type a duration (30s, 10m, 1h)",
            ),
            ChoiceKind::Reason(sanction) => {
                let (title, question) = match sanction {
                    Sanction::Timeout { name, seconds, .. } => (
                        " Timeout ",
                        format!(
                            "Why silence {} for {}?",
                            clean_name(name),
                            duration_label(*seconds)
                        ),
                    ),
                    Sanction::Ban { name, .. } => {
                        (" Ban ", format!("Why ban {}?", clean_name(name)))
                    }
                    Sanction::Lift {
                        name,
                        lifted: LiftedSanction::Ban,
                        ..
                    } => (" Unban ", format!("Why lift {}'s ban?", clean_name(name))),
                    Sanction::Lift { name, .. } => (
                        " Lift timeout ",
                        format!("Why lift {}'s timeout?", clean_name(name)),
                    ),
                };
                (
                    title,
                    question,
                    "or type a reason (it goes in the audit log)",
                )
            }
        }
    }
}

/// The step after the reason: a timeout or a lift is sent, a ban asks to
/// confirm first.
fn sanctioned(sanction: &Sanction, reason: String) -> Outcome {
    match sanction.clone() {
        Sanction::Timeout {
            viewer_id,
            name,
            seconds,
        } => Outcome::Send {
            command: Command::Timeout {
                viewer_id,
                seconds,
                reason,
            },
            summary: format!("timeout {name} for {}", duration_label(seconds)),
        },
        Sanction::Ban { viewer_id, name } => Outcome::Open(Popup::confirm(Target::Ban {
            viewer_id,
            name,
            reason,
        })),
        Sanction::Lift {
            viewer_id,
            name,
            lifted,
        } => {
            let (command, summary) = match lifted {
                LiftedSanction::Ban => (
                    Command::Unban { viewer_id, reason },
                    format!("unban {name}"),
                ),
                LiftedSanction::Timeout => (
                    Command::LiftTimeout { viewer_id, reason },
                    format!("lift {name}'s timeout"),
                ),
            };
            Outcome::Send { command, summary }
        }
    }
}

/// "off", "30 s": slow mode as the list and the status bar name it.
pub fn slow_label(secs: u32) -> String {
    if secs == 0 {
        "off".into()
    } else {
        duration_label(secs)
    }
}

/// "10 s", "5 min", "24 h", or "90 s" when not round.
fn duration_label(secs: u32) -> String {
    match secs {
        s if s >= 3_600 && s % 3_600 == 0 => format!("{} h", s / 3_600),
        s if s >= 60 && s % 60 == 0 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

/// A typed duration: `45s`, `10m`, `1h`, or bare seconds.
fn parse_secs(text: &str) -> Option<u32> {
    text.parse::<u32>().ok().or_else(|| {
        humantime::parse_duration(text)
            .ok()
            .and_then(|d| u32::try_from(d.as_secs()).ok())
    })
}

fn truncate_note(text: &str) -> String {
    truncate(&crate::privacy::sanitize(text), 20).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(duration_label(10), "10 s");
        assert_eq!(duration_label(300), "5 min");
        assert_eq!(duration_label(86_400), "24 h");
        assert_eq!(duration_label(90), "90 s");
        assert_eq!(slow_label(0), "off");
        assert_eq!(parse_secs("45"), Some(45));
        assert_eq!(parse_secs("2m"), Some(120));
        assert_eq!(parse_secs("soon"), None);
    }
}
