//! A viewer's card: who they are, their sanctions and recent messages;
//! timeout, ban, erasure and export start from here.

use std::borrow::Cow;

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::popup_box::{draw_box, keys_line, popup_width};
use super::sanction::{Choice, Sanction as Pending};
use super::{Context, Hints, Outcome, Popup, RectifyForm, Target};
use crate::console::keymap::{Action, Keymap, PopupAction};
use crate::console::permissions;
use crate::console::theme::{StyleKey, Theme};
use crate::console::view::text::{actor_label, clean, clean_name, clock, tombstone_text};
use crate::console::wrap::truncate;
use crate::protocol::{
    ChatEntry, Command, CommandId, LiftedSanction, Sanction, StaffRole, ViewerCard, ViewerId,
};

/// The card popup; `card` is `None` until the hub answers `request`.
#[derive(Debug, Clone)]
pub struct CardView {
    pub viewer_id: ViewerId,
    pub name: String,
    pub request: CommandId,
    pub card: Option<Box<ViewerCard>>,
}

impl CardView {
    pub fn on_key(&mut self, key: &KeyEvent, ctx: &dyn Context) -> Outcome {
        let allowed = |a| permissions::allows(ctx.role(), a);
        match ctx.keymap().action_for(key) {
            Some(Action::Timeout) if allowed(Action::Timeout) => Outcome::Open(Popup::Choice(
                Choice::timeout(self.viewer_id.clone(), self.name.clone()),
            )),
            Some(Action::Ban) if allowed(Action::Ban) => {
                let ban = Pending::Ban {
                    viewer_id: self.viewer_id.clone(),
                    name: self.name.clone(),
                };
                Outcome::Open(Popup::Choice(Choice::reason(ban, ctx.sanction_reasons())))
            }
            Some(Action::LiftSanction) if allowed(Action::LiftSanction) => match self.liftable() {
                Some(lifted) => {
                    let lift = Pending::Lift {
                        viewer_id: self.viewer_id.clone(),
                        name: self.name.clone(),
                        lifted,
                    };
                    Outcome::Open(Popup::Choice(Choice::reason(lift, ctx.sanction_reasons())))
                }
                None => Outcome::Stay,
            },
            Some(Action::Erase) if allowed(Action::Erase) => match &self.card {
                Some(card) => Outcome::Open(Popup::confirm(Target::Erase {
                    viewer_id: self.viewer_id.clone(),
                    name: format!("{} · {}", card.first_name, card.pseudonym),
                    messages: card.recent.len(),
                })),
                // Confirm only what the card shows: wait for it.
                None => Outcome::Stay,
            },
            // The form names the viewer as the card does: wait for it.
            Some(Action::Rectify) if allowed(Action::Rectify) => match &self.card {
                Some(card) => Outcome::Open(Popup::RectifyForm(RectifyForm::new(
                    self.viewer_id.clone(),
                    &card.first_name,
                    &card.pseudonym,
                ))),
                None => Outcome::Stay,
            },
            // Nothing to confirm: an export changes nothing; the hub audits it.
            Some(Action::Export) if allowed(Action::Export) => match &self.card {
                Some(card) => Outcome::Send {
                    command: Command::ExportViewer {
                        viewer_id: self.viewer_id.clone(),
                    },
                    summary: format!("{} · {}", card.first_name, card.pseudonym),
                },
                None => Outcome::Stay,
            },
            // A note is about the viewer the card shows: wait for it.
            Some(Action::AddNote) if allowed(Action::AddNote) => match &self.card {
                Some(card) => Outcome::Open(Popup::Prompt(super::Prompt::new(
                    super::PromptKind::Note {
                        viewer_id: self.viewer_id.clone(),
                        name: format!("{} · {}", card.first_name, card.pseudonym),
                    },
                    "",
                ))),
                None => Outcome::Stay,
            },
            Some(Action::ViewerCard | Action::Quit) => Outcome::Close,
            _ if ctx.keymap().popup_action_for(key) == Some(PopupAction::Close) => Outcome::Close,
            _ => Outcome::Stay,
        }
    }

    /// The sanction the lift key would lift, as the card shows it: a ban
    /// first (it is the stronger one), else a running timeout.
    fn liftable(&self) -> Option<LiftedSanction> {
        let card = self.card.as_ref()?;
        let banned = card
            .sanctions
            .iter()
            .any(|s| matches!(s, Sanction::Banned { .. }));
        if banned {
            return Some(LiftedSanction::Ban);
        }
        card.sanctions
            .iter()
            .any(|s| matches!(s, Sanction::TimedOut { .. }))
            .then_some(LiftedSanction::Timeout)
    }

    /// "t timeout · b ban · Esc close", for what this role may do.
    pub fn hints(&self, keymap: &Keymap, role: StaffRole) -> Hints {
        let mut keys = Hints::new();
        let lift = match self.liftable() {
            Some(LiftedSanction::Ban) => Some((Action::LiftSanction, "unban")),
            Some(LiftedSanction::Timeout) => Some((Action::LiftSanction, "lift timeout")),
            None => None,
        };
        for (action, what) in [(Action::Timeout, "timeout"), (Action::Ban, "ban")]
            .into_iter()
            .chain(lift)
            .chain([
                (Action::Rectify, "rectify"),
                (Action::Erase, "erase"),
                (Action::Export, "export"),
                (Action::AddNote, "note"),
            ])
        {
            if permissions::allows(role, action)
                && let Some(k) = keymap.hint(action)
            {
                keys.push((k, what));
            }
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
        theme: &Theme,
    ) -> Option<(u16, u16)> {
        let width = popup_width(area);
        let label = theme.style(StyleKey::PopupLabel);
        let Some(card) = &self.card else {
            let lines = vec![Line::styled(
                format!("loading {}'s card…", clean_name(&self.name)),
                label,
            )];
            draw_box(buf, area, " Viewer ", &lines, width, theme);
            return None;
        };
        let inner_w = width.saturating_sub(4) as usize;
        let mut lines = identity_lines(card, ctx.role(), inner_w, theme);
        lines.extend(sanction_lines(card, inner_w, theme));
        if let Some(flag) = ctx.flag(&self.viewer_id) {
            lines.push(flag_line(flag, ctx.now(), inner_w, theme));
        }
        lines.extend(note_lines(card, inner_w, theme));
        lines.push(Line::default());
        lines.push(Line::styled("recent messages", label));
        let room = (area.height as usize)
            .saturating_sub(lines.len() + 6)
            .max(1);
        lines.extend(recent_lines(
            card,
            room,
            width.saturating_sub(4) as usize,
            theme,
        ));
        lines.push(Line::default());
        lines.push(keys_line(&self.hints(ctx.keymap(), ctx.role()), theme));
        draw_box(buf, area, " Viewer ", &lines, width, theme);
        None
    }
}

/// The width of the card's first column ("first name ").
const LABEL_W: usize = 11;

/// "name       value", the card's two columns; a value too long for the
/// card's `inner_w` ends in an ellipsis rather than being cut mid-word.
fn field(name: &str, value: &str, inner_w: usize, theme: &Theme) -> Line<'static> {
    let value = truncate(value, inner_w.saturating_sub(LABEL_W)).into_owned();
    Line::from(vec![
        Span::styled(
            format!("{name:<LABEL_W$}"),
            theme.style(StyleKey::PopupLabel),
        ),
        Span::styled(value, theme.style(StyleKey::PopupText)),
    ])
}

/// Names, first seen, contact (for roles that see it) and consents.
fn identity_lines(
    card: &ViewerCard,
    role: StaffRole,
    inner_w: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut lines = vec![
        Line::from(vec![
            Span::styled(
                format!("{:<11}", "first name"),
                theme.style(StyleKey::PopupLabel),
            ),
            Span::styled(
                clean_name(&card.first_name),
                theme.name_color(&card.viewer_id.0),
            ),
        ]),
        field("pseudonym", &clean_name(&card.pseudonym), inner_w, theme),
        field("first seen", &clock(card.first_seen), inner_w, theme),
    ];
    if permissions::sees_contact(role)
        && let Some(contact) = &card.contact
    {
        let phone = contact.phone.as_deref().map(clean).map(Cow::into_owned);
        let email = contact.email.as_deref().map(clean).map(Cow::into_owned);
        let dash = || "—".to_string();
        lines.push(field("phone", &phone.unwrap_or_else(dash), inner_w, theme));
        lines.push(field("e-mail", &email.unwrap_or_else(dash), inner_w, theme));
    }
    if !card.consents.is_empty() {
        let consents: Vec<String> = card
            .consents
            .iter()
            .map(|c| {
                format!("{:?} {}", c.purpose, if c.granted { "yes" } else { "no" }).to_lowercase()
            })
            .collect();
        lines.push(field("consents", &consents.join(", "), inner_w, theme));
    }
    lines
}

fn sanction_lines(card: &ViewerCard, inner_w: usize, theme: &Theme) -> Vec<Line<'static>> {
    if card.sanctions.is_empty() {
        return vec![field("sanctions", "none", inner_w, theme)];
    }
    card.sanctions
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let desc = match s {
                Sanction::TimedOut {
                    until, reason, by, ..
                } => format!(
                    "timed out until {} by {}{}",
                    clock(*until),
                    actor_label(by),
                    reason_suffix(reason)
                ),
                Sanction::Banned { reason, by, at } => format!(
                    "banned {} by {}{}",
                    clock(*at),
                    actor_label(by),
                    reason_suffix(reason)
                ),
            };
            field(if i == 0 { "sanctions" } else { "" }, &desc, inner_w, theme)
        })
        .collect()
}

/// The viewer's flag in force: its colour, note, who set it, time left.
fn flag_line(
    flag: &crate::protocol::ViewerFlag,
    now: crate::protocol::Millis,
    inner_w: usize,
    theme: &Theme,
) -> Line<'static> {
    use super::flag::{FLAG_GLYPH, colour_style};
    let left = (flag.until - now).max(0) / 60_000 + 1;
    let note = if flag.note.is_empty() {
        String::new()
    } else {
        format!(" · {}", clean(&flag.note))
    };
    let desc = format!(
        " {}{note} · {}, {left} min left",
        flag.colour.as_str(),
        actor_label(&flag.by)
    );
    Line::from(vec![
        Span::styled(
            format!("{:<LABEL_W$}", "flag"),
            theme.style(StyleKey::PopupLabel),
        ),
        Span::styled(FLAG_GLYPH, theme.style(colour_style(flag.colour))),
        Span::styled(
            truncate(&desc, inner_w.saturating_sub(LABEL_W + 1)).into_owned(),
            theme.style(StyleKey::PopupText),
        ),
    ])
}

/// The staff's notes on the viewer, oldest first: when, who, what.
fn note_lines(card: &ViewerCard, inner_w: usize, theme: &Theme) -> Vec<Line<'static>> {
    card.notes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let desc = format!("{} {}: {}", clock(n.at), actor_label(&n.by), clean(&n.text));
            field(if i == 0 { "notes" } else { "" }, &desc, inner_w, theme)
        })
        .collect()
}

/// Up to `room` recent messages, tombstones in place.
fn recent_lines(
    card: &ViewerCard,
    room: usize,
    inner_w: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let label = theme.style(StyleKey::PopupLabel);
    if card.recent.is_empty() {
        return vec![Line::styled("  none", label)];
    }
    let row = |at, text: String, style: Style| {
        Line::from(vec![
            Span::styled(format!("  {} ", clock(at)), label),
            Span::styled(
                truncate(&text, inner_w.saturating_sub(8)).into_owned(),
                style,
            ),
        ])
    };
    card.recent
        .iter()
        .take(room)
        .map(|entry| match entry {
            ChatEntry::Message(m) => row(
                m.at,
                clean(&m.text).into_owned(),
                theme.style(StyleKey::PopupText),
            ),
            ChatEntry::Redacted(t) => row(
                t.posted_at,
                tombstone_text(t),
                theme.style(StyleKey::FeedTombstone),
            ),
        })
        .collect()
}

fn reason_suffix(reason: &str) -> String {
    if reason.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", clean(reason))
    }
}
