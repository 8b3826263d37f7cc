//! One confirmation for every dangerous action (after gitui's
//! `popups/confirm.rs`): it holds what it asks about, takes its keys from
//! the keymap, and answers with the command to send instead of sending it.

use crossterm::event::{KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::popup_box::{draw_box, keys_line, popup_width, wrapped};
use super::{Context, Hints, Outcome};
use crate::console::keymap::{Action, Keymap, PopupAction};
use crate::console::theme::{StyleKey, Theme};
use crate::console::view::text::{author_label, clean, clean_name, clock};
use crate::console::wrap::wrap;
use crate::protocol::{Command, MessageId, SmsSegment, ViewerId};

/// What a confirmation asks about.
#[derive(Debug, Clone, PartialEq)]
pub enum Target {
    Quit,
    /// A ban, with the reason chosen before (audited; not shown to viewers).
    Ban {
        viewer_id: ViewerId,
        name: String,
        reason: String,
    },
    Redact {
        message_id: MessageId,
        reason: String,
    },
    /// Erase a viewer (Art. 17), from their card: `name` as the card shows
    /// it, `messages` the recent messages the card listed.
    Erase {
        viewer_id: ViewerId,
        name: String,
        messages: usize,
    },
    ClosePoll {
        poll_id: u64,
        question: String,
    },
    DrawNow {
        draw_id: u64,
        prize: String,
    },
    /// A re-draw: a new recorded draw with its own commitment.
    Redraw {
        draw_id: u64,
        prize: String,
        excluded: Vec<String>,
        command: Command,
    },
    /// End the live the console is in: its chat closes for viewers.
    LiveEnd {
        live: String,
    },
    /// Text the follow-up SMS to a segment of the ended live: `recipients`
    /// as the hub counted them (the hub refuses if that changed).
    SmsFollowUp {
        segment: SmsSegment,
        recipients: u64,
    },
}

/// A yes/no question before `what`.
#[derive(Debug, Clone, PartialEq)]
pub struct Confirm {
    pub what: Target,
}

impl Confirm {
    pub fn on_key(&mut self, key: &KeyEvent, ctx: &dyn Context) -> Outcome {
        match ctx.keymap().popup_action_for(key) {
            Some(PopupAction::Confirm) => self.confirmed(ctx),
            Some(PopupAction::Cancel | PopupAction::Close) => Outcome::Close,
            None if self.quit_again(key, ctx.keymap()) => Outcome::Quit,
            // A reason to edit: the popup layer opens its picker ([`super::edit_reason`]).
            Some(PopupAction::Edit) | None => Outcome::Stay,
        }
    }

    /// Pressing the quit key again also quits; ctrl chords do not, so a
    /// stray ctrl-c does not end the show.
    fn quit_again(&self, key: &KeyEvent, keymap: &Keymap) -> bool {
        self.what == Target::Quit
            && !key.modifiers.contains(KeyModifiers::CONTROL)
            && keymap.action_for(key) == Some(Action::Quit)
    }

    /// The answer to "yes": what to send, and how the pending list names it.
    fn confirmed(&self, ctx: &dyn Context) -> Outcome {
        let (command, summary) = match &self.what {
            Target::Quit => return Outcome::Quit,
            Target::Ban {
                viewer_id,
                name,
                reason,
            } => (
                Command::Ban {
                    viewer_id: viewer_id.clone(),
                    reason: reason.clone(),
                },
                format!("ban {name}"),
            ),
            Target::Redact { message_id, reason } => (
                Command::Redact {
                    message_id: *message_id,
                    reason: reason.clone(),
                },
                format!("redact {}", ctx.describe(*message_id)),
            ),
            Target::Erase {
                viewer_id, name, ..
            } => (
                Command::EraseViewer {
                    viewer_id: viewer_id.clone(),
                    reason: ERASE_REASON.to_string(),
                },
                format!("erase {name}"),
            ),
            Target::ClosePoll { poll_id, .. } => (
                Command::PollClose { poll_id: *poll_id },
                format!("close poll #{poll_id}"),
            ),
            Target::DrawNow { draw_id, .. } => (
                Command::InstantWinClose { draw_id: *draw_id },
                format!("draw instant win #{draw_id} now"),
            ),
            Target::Redraw {
                draw_id, command, ..
            } => (command.clone(), format!("re-draw instant win #{draw_id}")),
            Target::LiveEnd { live } => {
                (Command::LiveEnd, format!("end live {}", clean_name(live)))
            }
            Target::SmsFollowUp {
                segment,
                recipients,
            } => (
                Command::SmsFollowUp {
                    segment: *segment,
                    recipients: *recipients,
                },
                format!("text the follow-up to {recipients} {}", segment.describe()),
            ),
        };
        Outcome::Send { command, summary }
    }

    /// "y ban · n cancel", with the keys the keymap binds.
    pub fn hints(&self, keymap: &Keymap) -> Hints {
        let (yes, no) = match &self.what {
            Target::Quit => ("quit", "stay"),
            Target::Ban { .. } => ("ban", "cancel"),
            Target::Redact { .. } => ("redact", "cancel"),
            Target::Erase { .. } => ("erase", "cancel"),
            Target::ClosePoll { .. } => ("close", "cancel"),
            Target::DrawNow { .. } => ("draw", "cancel"),
            Target::Redraw { .. } => ("re-draw", "cancel"),
            Target::LiveEnd { .. } => ("end", "cancel"),
            Target::SmsFollowUp { .. } => ("send", "cancel"),
        };
        let edit = matches!(self.what, Target::Ban { .. } | Target::Redact { .. })
            .then_some((PopupAction::Edit, "reason"));
        [(PopupAction::Confirm, yes), (PopupAction::Cancel, no)]
            .into_iter()
            .chain(edit)
            .filter_map(|(a, what)| keymap.popup_hint(a).map(|k| (k, what)))
            .collect()
    }

    pub fn draw(
        &self,
        buf: &mut Buffer,
        area: Rect,
        ctx: &dyn Context,
        theme: &Theme,
    ) -> Option<(u16, u16)> {
        let width = match self.what {
            Target::Quit if ctx.pending().is_empty() && !ctx.demo() => 36,
            _ => popup_width(area),
        };
        let (title, mut lines) = self.body(area, width, ctx, theme);
        if !matches!(self.what, Target::Redact { .. }) {
            lines.push(Line::default());
        }
        lines.push(keys_line(&self.hints(ctx.keymap()), theme));
        draw_box(buf, area, title, &lines, width, theme);
        None
    }

    /// The title and the question, above the footer.
    fn body(
        &self,
        area: Rect,
        width: u16,
        ctx: &dyn Context,
        theme: &Theme,
    ) -> (&'static str, Vec<Line<'static>>) {
        let w = width.saturating_sub(4) as usize;
        let warn = theme.style(StyleKey::PopupWarning);
        let text = theme.style(StyleKey::PopupText);
        match &self.what {
            Target::Quit => (" Quit ", quit_lines(w, ctx, theme)),
            Target::Ban { name, reason, .. } => (
                " Ban ",
                wrapped(
                    &format!(
                        "Ban {} from this live for good? Reason: {}",
                        clean_name(name),
                        clean(reason)
                    ),
                    w,
                    warn,
                ),
            ),
            Target::Redact { message_id, reason } => (
                " Redact ",
                redact_lines(*message_id, reason, area, w, ctx, theme),
            ),
            Target::Erase { name, messages, .. } => {
                (" Erase viewer ", erase_lines(name, *messages, w, theme))
            }
            Target::ClosePoll { poll_id, question } => (
                " Close poll ",
                wrapped(
                    &format!(
                        "Close poll #{poll_id} now? Votes stop and the result is final: {}",
                        clean(question)
                    ),
                    w,
                    text,
                ),
            ),
            Target::DrawNow { draw_id, prize } => (
                " Draw now ",
                wrapped(
                    &format!(
                        "End the entry window of instant win #{draw_id} ({}) and draw now?",
                        clean_name(prize)
                    ),
                    w,
                    text,
                ),
            ),
            Target::LiveEnd { live } => (
                " End live ",
                wrapped(
                    &format!(
                        "End live {} now? Viewers can no longer chat, open polls close and open instant wins are drawn. A live that ended cannot start again.",
                        clean_name(live)
                    ),
                    w,
                    warn,
                ),
            ),
            Target::SmsFollowUp {
                segment,
                recipients,
            } => (
                " Follow-up SMS ",
                wrapped(
                    &format!(
                        "Text the follow-up SMS to {recipients} {}? One message each, with their first name; held until Monday–Saturday 08:00–20:00 Paris.",
                        segment.describe()
                    ),
                    w,
                    warn,
                ),
            ),
            Target::Redraw {
                draw_id,
                prize,
                excluded,
                command,
            } => {
                let mut lines = wrapped(
                    &format!(
                        "This is a new recorded draw with its own commitment. Draw #{draw_id} ({}) stays on record.",
                        clean_name(prize)
                    ),
                    w,
                    warn,
                );
                let names: Vec<String> = excluded.iter().map(|n| clean_name(n)).collect();
                lines.extend(wrapped(&format!("Excluded: {}", names.join(", ")), w, text));
                if let Command::Redraw { reason, .. } = command {
                    lines.extend(wrapped(&format!("Reason: {}", clean(reason)), w, text));
                }
                (" Re-draw ", lines)
            }
        }
    }
}

/// The reason a redaction opens with (`e` at the confirmation changes it).
pub const REDACT_REASON: &str = "at the viewer's request";

/// The reason an erasure from the console goes on record with.
pub const ERASE_REASON: &str = "erasure request (Art. 17)";

/// An erasure names who and everything that goes, and what stays.
fn erase_lines(name: &str, messages: usize, inner_w: usize, theme: &Theme) -> Vec<Line<'static>> {
    let warn = theme.style(StyleKey::PopupWarning);
    let text = theme.style(StyleKey::PopupText);
    let label = theme.style(StyleKey::PopupLabel);
    let mut lines = wrapped(
        &format!(
            "Erase {} for good (Art. 17)? This cannot be undone.",
            clean_name(name)
        ),
        inner_w,
        warn,
    );
    lines.push(Line::default());
    lines.extend(wrapped(
        "Removed from every screen, the store and replays:",
        inner_w,
        text,
    ));
    let shown = match messages {
        0 => "every message (none on the card)".to_string(),
        1 => "every message (1 on the card), and the name in replies".to_string(),
        n => format!("every message ({n} on the card), and the name in replies"),
    };
    for item in [
        shown.as_str(),
        "first name, pseudonym, contact data, consents",
        "sanctions and moderation notes",
    ] {
        lines.extend(wrapped(&format!("· {item}"), inner_w, text));
    }
    lines.push(Line::default());
    lines.extend(wrapped(
        "Votes and draw entries stay counted, linked to no one. The audit keeps one record, without content. Joining again makes a new viewer.",
        inner_w,
        label,
    ));
    lines
}

/// Quitting names what it leaves behind: the commands the hub has not
/// confirmed, and in the demo the hub and the crowd it stops.
fn quit_lines(inner_w: usize, ctx: &dyn Context, theme: &Theme) -> Vec<Line<'static>> {
    let text = theme.style(StyleKey::PopupText);
    let warn = theme.style(StyleKey::PopupWarning);
    let mut lines = vec![Line::styled("Quit the console?", text)];
    let pending = ctx.pending();
    if !pending.is_empty() {
        lines.push(Line::default());
        let head = if pending.len() == 1 {
            "This command is not confirmed by the hub yet:".to_string()
        } else {
            format!(
                "These {} commands are not confirmed by the hub yet:",
                pending.len()
            )
        };
        lines.extend(wrapped(&head, inner_w, warn));
        for p in &pending {
            lines.extend(wrapped(&format!("· {}", clean(p)), inner_w, text));
        }
    }
    if ctx.demo() {
        lines.push(Line::default());
        lines.extend(wrapped(
            "This is the demo: quitting also stops its hub and its crowd of viewers.",
            inner_w,
            warn,
        ));
    }
    lines
}

/// A redaction shows exactly the text that goes, and the reason.
fn redact_lines(
    message_id: MessageId,
    reason: &str,
    area: Rect,
    inner_w: usize,
    ctx: &dyn Context,
    theme: &Theme,
) -> Vec<Line<'static>> {
    let mut lines = wrapped(
        "This text is removed for good from every screen, the store and replays:",
        inner_w,
        theme.style(StyleKey::PopupWarning),
    );
    lines.push(Line::default());
    match ctx.message(message_id) {
        Some(m) => {
            lines.push(Line::from(vec![
                Span::styled(
                    format!("{} ", clock(m.at)),
                    theme.style(StyleKey::PopupLabel),
                ),
                Span::styled(
                    author_label(ctx.feed(), &m.author),
                    theme.name_color(m.author.viewer_id().map_or("", |v| v.0.as_str())),
                ),
            ]));
            let text = clean(&m.text);
            let wrapped = wrap(&text, inner_w.saturating_sub(2));
            let max_lines = (area.height as usize).saturating_sub(12).max(3);
            for r in wrapped.iter().take(max_lines) {
                lines.push(Line::styled(
                    format!("  {}", &text[r.clone()]),
                    theme.style(StyleKey::PopupText),
                ));
            }
            if wrapped.len() > max_lines {
                lines.push(Line::styled(
                    format!("  … and {} more lines", wrapped.len() - max_lines),
                    theme.style(StyleKey::PopupLabel),
                ));
            }
        }
        None => lines.push(Line::styled(
            format!("message {message_id}"),
            theme.style(StyleKey::PopupText),
        )),
    }
    lines.push(Line::default());
    lines.push(Line::from(vec![
        Span::styled("reason: ", theme.style(StyleKey::PopupLabel)),
        Span::styled(clean(reason).into_owned(), theme.style(StyleKey::PopupText)),
    ]));
    lines
}
