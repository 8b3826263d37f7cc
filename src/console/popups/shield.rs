//! Shield in the console: the confirmation before the Shield key applies
//! the brand's emergency preset (or lifts it), and the review list of
//! `ban_recent_terms` the hub answers `shield_on` with.
//!
//! The preset itself lives in the hub's brand file; the confirmation says
//! what it changes, in the terms of `[shield]` (docs/brand.toml), and what
//! lifting it restores. The review list lives in this popup only (the hub
//! never stores it): each row can be banned and the ban undone (unban),
//! with the ordinary `ban` / `unban` commands, which are audited.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::popup_box::{draw_box, keys_line, popup_width, wide_width, wrapped};
use super::{Context, Hints, Outcome};
use crate::console::keymap::{Action, PopupAction};
use crate::console::theme::{StyleKey, Theme};
use crate::console::view::text::clean_name;
use crate::protocol::{Command, ShieldPresetView, ShieldSuspect, ViewerId};

/// The reason a ban from the review list is audited with.
pub const SHIELD_BAN_REASON: &str = "Shield: used a banned term";
/// The reason its undo is audited with.
pub const SHIELD_UNBAN_REASON: &str = "Shield: ban undone from the review list";

/// "Apply Shield?" or "Lift Shield?".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShieldConfirm {
    /// Whether Shield is on now (so the key lifts it).
    pub on: bool,
    /// The slow mode in force now, in seconds.
    pub slow_mode_secs: u32,
    /// What the preset changes, when the hub said (staff snapshot).
    pub preset: Option<ShieldPresetView>,
}

impl ShieldConfirm {
    pub fn on_key(&self, key: &KeyEvent, ctx: &dyn Context) -> Outcome {
        let keymap = ctx.keymap();
        match keymap.popup_action_for(key) {
            Some(PopupAction::Confirm) => self.confirmed(),
            Some(PopupAction::Cancel | PopupAction::Close) => Outcome::Close,
            None if keymap.action_for(key) == Some(Action::Shield) => Outcome::Close,
            Some(PopupAction::Edit) | None => Outcome::Stay,
        }
    }

    fn confirmed(&self) -> Outcome {
        if self.on {
            Outcome::Send {
                command: Command::ShieldOff,
                summary: "lift Shield".to_owned(),
            }
        } else {
            Outcome::Send {
                command: Command::ShieldOn,
                summary: "apply Shield".to_owned(),
            }
        }
    }

    fn hints(&self, ctx: &dyn Context) -> Hints {
        let yes = if self.on {
            "lift Shield"
        } else {
            "apply Shield"
        };
        [(PopupAction::Confirm, yes), (PopupAction::Cancel, "cancel")]
            .into_iter()
            .filter_map(|(a, what)| ctx.keymap().popup_hint(a).map(|k| (k, what)))
            .collect()
    }

    /// What the key will change, said before it does.
    fn lines(&self) -> Vec<String> {
        let slow = super::sanction::slow_label(self.slow_mode_secs);
        if self.on {
            vec![
                "Lift Shield? The settings from before it went on come back exactly:".to_owned(),
                "· slow mode, first-time chatters, the preset's rules and links as they were"
                    .to_owned(),
                format!("· a slow mode set during Shield ({slow}) goes with it"),
            ]
        } else if let Some(p) = &self.preset {
            preset_lines(p, &slow)
        } else {
            vec![
                "Apply Shield, the brand's emergency preset? For every viewer:".to_owned(),
                format!("· slow mode: the preset's (now {slow})"),
                "· every message of a first-time chatter is held".to_owned(),
                "· the preset's stricter terms and rules apply".to_owned(),
                "· links off (or the preset's allow-list)".to_owned(),
                "The same key lifts it and restores exactly what is set now.".to_owned(),
            ]
        }
    }

    pub fn draw(&self, buf: &mut Buffer, area: Rect, ctx: &dyn Context, theme: &Theme) {
        let width = popup_width(area);
        let w = width.saturating_sub(4) as usize;
        let warn = theme.style(StyleKey::PopupWarning);
        let text = theme.style(StyleKey::PopupText);
        let mut lines = Vec::new();
        for (i, line) in self.lines().iter().enumerate() {
            lines.extend(wrapped(line, w, if i == 0 { warn } else { text }));
        }
        lines.push(Line::default());
        lines.push(keys_line(&self.hints(ctx), theme));
        let title = if self.on { " Lift Shield " } else { " Shield " };
        draw_box(buf, area, title, &lines, width, theme);
    }
}

/// What applying `p` changes, line by line; `slow` is the slow mode now.
fn preset_lines(p: &ShieldPresetView, slow: &str) -> Vec<String> {
    let mut lines = vec![
        "Apply Shield, the brand's emergency preset? For every viewer:".to_owned(),
        format!(
            "· slow mode {} (now {slow})",
            super::sanction::slow_label(p.slow_mode_secs)
        ),
    ];
    if p.hold_first_time_chatters {
        lines.push("· every message of a first-time chatter is held".to_owned());
    }
    if p.terms + p.regexes > 0 {
        let action = if p.blocks { "block" } else { "hold" };
        lines.push(format!(
            "· {} extra terms and {} regexes {action}",
            p.terms, p.regexes
        ));
    }
    lines.push(
        match p.links.as_str() {
            "all" => "· links as the live allows",
            "allow_list" => "· links only to the preset's domains",
            _ => "· links off",
        }
        .to_owned(),
    );
    if p.ban_recent_terms > 0 {
        lines.push(format!(
            "· then who used {} listed terms in the last {} min, to ban or not",
            p.ban_recent_terms, p.ban_recent_minutes
        ));
    }
    lines.push("The same key lifts it and restores exactly what is set now.".to_owned());
    lines
}

/// One listed viewer and what this console did about them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub suspect: ShieldSuspect,
    /// A ban was sent from this list (and not undone).
    pub banned: bool,
}

/// The viewers who used a `ban_recent_terms` term before Shield went on.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ShieldReview {
    pub rows: Vec<Row>,
    pub selected: usize,
}

impl ShieldReview {
    pub fn new(viewers: Vec<ShieldSuspect>) -> Self {
        Self {
            rows: viewers
                .into_iter()
                .map(|suspect| Row {
                    suspect,
                    banned: false,
                })
                .collect(),
            selected: 0,
        }
    }

    /// Notes a ban or its lift that reached the console (from this list or
    /// another console), so the list shows what holds.
    pub fn note_banned(&mut self, viewer: &ViewerId, banned: bool) {
        for row in &mut self.rows {
            if &row.suspect.viewer_id == viewer {
                row.banned = banned;
            }
        }
    }

    pub fn on_key(&mut self, key: &KeyEvent, ctx: &dyn Context) -> Outcome {
        let keymap = ctx.keymap();
        if matches!(
            keymap.popup_action_for(key),
            Some(PopupAction::Close | PopupAction::Cancel)
        ) {
            return Outcome::Close;
        }
        let last = self.rows.len().saturating_sub(1);
        match keymap.action_for(key) {
            Some(Action::MoveDown) => {
                self.selected = (self.selected + 1).min(last);
                Outcome::Stay
            }
            Some(Action::MoveUp) => {
                self.selected = self.selected.saturating_sub(1);
                Outcome::Stay
            }
            Some(Action::Ban) => self.ban(true),
            Some(Action::LiftSanction) => self.ban(false),
            Some(Action::Quit | Action::Shield) => Outcome::Close,
            _ => Outcome::Stay,
        }
    }

    /// Bans the selected viewer (`true`) or undoes the ban (`false`); the
    /// list stays open for the next one.
    fn ban(&mut self, ban: bool) -> Outcome {
        let Some(row) = self.rows.get_mut(self.selected) else {
            return Outcome::Stay;
        };
        if row.banned == ban {
            return Outcome::Refuse(if ban {
                "already banned from this list".to_owned()
            } else {
                "not banned from this list: nothing to undo".to_owned()
            });
        }
        row.banned = ban;
        let viewer_id = row.suspect.viewer_id.clone();
        let name = clean_name(&row.suspect.first_name);
        let (command, summary) = if ban {
            (
                Command::Ban {
                    viewer_id,
                    reason: SHIELD_BAN_REASON.to_owned(),
                },
                format!("ban {name}"),
            )
        } else {
            (
                Command::Unban {
                    viewer_id,
                    reason: SHIELD_UNBAN_REASON.to_owned(),
                },
                format!("unban {name}"),
            )
        };
        Outcome::SendStay { command, summary }
    }

    fn hints(ctx: &dyn Context) -> Hints {
        let keymap = ctx.keymap();
        let mut keys = Hints::new();
        for (action, what) in [
            (Action::MoveDown, "next"),
            (Action::Ban, "ban"),
            (Action::LiftSanction, "undo ban"),
        ] {
            if let Some(k) = keymap.hint(action) {
                keys.push((k, what));
            }
        }
        if let Some(k) = keymap.popup_hint(PopupAction::Close) {
            keys.push((k, "close"));
        }
        keys
    }

    pub fn draw(&self, buf: &mut Buffer, area: Rect, ctx: &dyn Context, theme: &Theme) {
        let width = wide_width(area);
        let w = width.saturating_sub(4) as usize;
        let label = theme.style(StyleKey::PopupLabel);
        let text = theme.style(StyleKey::PopupText);
        let warn = theme.style(StyleKey::PopupWarning);
        let mut lines = wrapped(
            "Shield is on. These viewers used one of the preset's terms just before; ban those who should go (the list is not kept):",
            w,
            label,
        );
        lines.push(Line::default());
        if self.rows.is_empty() {
            lines.push(Line::styled("nobody used them", label));
        }
        // Rows that fit: the popup never grows past the screen.
        let room = usize::from(area.height.saturating_sub(8)).max(1);
        let first = self.selected.saturating_sub(room - 1);
        for (i, row) in self.rows.iter().enumerate().skip(first).take(room) {
            let marker = if i == self.selected { "› " } else { "  " };
            let s = &row.suspect;
            let status = if row.banned { "banned" } else { "" };
            lines.push(Line::from(vec![
                Span::styled(marker, theme.style(StyleKey::PopupKey)),
                Span::styled(
                    format!(
                        "{} {} ",
                        clean_name(&s.first_name),
                        clean_name(&s.pseudonym)
                    ),
                    text,
                ),
                Span::styled(
                    format!("{} use{} ", s.uses, if s.uses == 1 { "" } else { "s" }),
                    label,
                ),
                Span::styled(status, warn),
            ]));
        }
        lines.push(Line::default());
        lines.push(keys_line(&Self::hints(ctx), theme));
        draw_box(buf, area, " Shield review ", &lines, width, theme);
    }
}
