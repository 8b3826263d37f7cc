//! The Lives popup (key `O`): the hub's lives with their state and times,
//! asked with `live_list` when it opens. Enter switches the console to the
//! selected live (a new `hello` naming it; what the console held of the
//! old live goes). The start and end keys act on the live the console is
//! in, as the hub's `live_start` and `live_end` do; ending asks to confirm.
//! The report key opens the selected live's report once it has ended
//! ([`super::report`]).

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::confirm::Target;
use super::popup_box::{draw_box, keys_line, wide_width};
use super::{Context, Hints, Outcome, Popup};
use crate::console::keymap::{Action, PopupAction};
use crate::console::permissions;
use crate::console::theme::{StyleKey, Theme};
use crate::console::view::text::{clean, clean_name};
use crate::console::wrap::truncate;
use crate::protocol::{Command, CommandId, LiveInfo, LiveState, Millis};

/// The popup; `lives` is `None` until the hub answers `request`.
#[derive(Debug, Clone)]
pub struct LivesView {
    pub request: CommandId,
    /// The live the console is in now.
    pub current: String,
    pub lives: Option<Vec<LiveInfo>>,
    /// Why the hub could not send the list.
    pub failed: Option<String>,
    pub selected: usize,
}

impl LivesView {
    pub fn loading(request: CommandId, current: &str) -> Self {
        LivesView {
            request,
            current: current.to_owned(),
            lives: None,
            failed: None,
            selected: 0,
        }
    }

    /// The hub's list: the selection starts on the current live.
    pub fn answered(&mut self, lives: Vec<LiveInfo>) {
        self.selected = lives
            .iter()
            .position(|l| l.name == self.current)
            .unwrap_or(0);
        self.lives = Some(lives);
    }

    fn chosen(&self) -> Option<&LiveInfo> {
        self.lives.as_ref()?.get(self.selected)
    }

    pub fn on_key(&mut self, key: &KeyEvent, ctx: &dyn Context) -> Outcome {
        let keymap = ctx.keymap();
        match keymap.popup_action_for(key) {
            Some(PopupAction::Close) => return Outcome::Close,
            Some(PopupAction::Confirm) => {
                return match self.chosen() {
                    Some(l) if l.name == self.current => {
                        Outcome::Refuse(format!("already in live {}", clean_name(&l.name)))
                    }
                    Some(l) => Outcome::SwitchLive(l.name.clone()),
                    None => Outcome::Stay,
                };
            }
            _ => {}
        }
        let count = self.lives.as_ref().map_or(0, Vec::len);
        match keymap.action_for(key) {
            Some(Action::MoveDown) => {
                self.selected = (self.selected + 1).min(count.saturating_sub(1));
                Outcome::Stay
            }
            Some(Action::MoveUp) => {
                self.selected = self.selected.saturating_sub(1);
                Outcome::Stay
            }
            Some(Action::Lives) => Outcome::Close,
            Some(action @ (Action::LiveStart | Action::LiveEnd)) => self.move_live(action, ctx),
            Some(Action::LiveReport) => self.report(ctx),
            Some(Action::SmsFollowUp) => self.follow_up(ctx),
            _ => Outcome::Stay,
        }
    }

    /// The selected live's report: once it has ended (a report of a live
    /// on air would change under the reader's eyes; `regie report` gives
    /// it).
    fn report(&self, ctx: &dyn Context) -> Outcome {
        if !permissions::allows(ctx.role(), Action::LiveReport) {
            return Outcome::Refuse(format!("a {} may not read a live's report", ctx.role()));
        }
        match self.chosen() {
            Some(l) if l.state == LiveState::Ended => Outcome::LiveReport(l.name.clone()),
            Some(l) => Outcome::Refuse(format!(
                "live {} is {}: its report comes once it has ended",
                clean_name(&l.name),
                l.state
            )),
            None => Outcome::Stay,
        }
    }

    /// Start or end: only the live the console is in, only forward.
    fn move_live(&self, action: Action, ctx: &dyn Context) -> Outcome {
        if !permissions::allows(ctx.role(), action) {
            return Outcome::Refuse(format!("a {} may not start or end a live", ctx.role()));
        }
        let Some(live) = self.chosen() else {
            return Outcome::Stay;
        };
        let name = clean_name(&live.name);
        if live.name != self.current {
            return Outcome::Refuse(format!(
                "switch to {name} first (Enter): start and end act on the live the console is in"
            ));
        }
        let next = if action == Action::LiveEnd {
            LiveState::Ended
        } else {
            LiveState::OnAir
        };
        if !live.state.can_move_to(next) {
            return Outcome::Refuse(format!(
                "live {name} is {}: a live only moves forward",
                live.state
            ));
        }
        match next {
            LiveState::Ended => Outcome::Open(Popup::confirm(Target::LiveEnd {
                live: live.name.clone(),
            })),
            LiveState::OnAir | LiveState::Scheduled => Outcome::Send {
                command: Command::LiveStart,
                summary: format!("put live {name} on air"),
            },
        }
    }

    /// The follow-up SMS of the ended live the console is in: ask the hub
    /// for the segments' counts (the answer opens their popup).
    fn follow_up(&self, ctx: &dyn Context) -> Outcome {
        if !permissions::allows(ctx.role(), Action::SmsFollowUp) {
            return Outcome::Refuse(format!("a {} may not text viewers", ctx.role()));
        }
        let Some(live) = self.chosen() else {
            return Outcome::Stay;
        };
        let name = clean_name(&live.name);
        if live.name != self.current {
            return Outcome::Refuse(format!(
                "switch to {name} first (Enter): follow-ups go to the viewers of the live the console is in"
            ));
        }
        if live.state != LiveState::Ended {
            return Outcome::Refuse(format!(
                "live {name} is {}: follow-up SMS go out after it ends",
                live.state
            ));
        }
        Outcome::Send {
            command: Command::SmsSegments,
            summary: format!("count the follow-up SMS recipients of {name}"),
        }
    }

    /// The footer: start and end when the live the console is in is
    /// selected, the report when an ended one is, the follow-up SMS when
    /// the live the console is in has ended.
    fn hints(&self, ctx: &dyn Context) -> Hints {
        let keymap = ctx.keymap();
        let chosen = self.chosen();
        let current = chosen.is_some_and(|l| l.name == self.current);
        let ended = chosen.is_some_and(|l| l.state == LiveState::Ended);
        let mut keys = Hints::new();
        if let (Some(down), Some(up)) = (keymap.hint(Action::MoveDown), keymap.hint(Action::MoveUp))
        {
            keys.push((format!("{down}/{up}"), "select"));
        }
        if let Some(k) = keymap.popup_hint(PopupAction::Confirm) {
            keys.push((k, "switch"));
        }
        // The follow-up is offered on the ended live the console is in.
        let here_ended = self
            .lives
            .iter()
            .flatten()
            .any(|l| l.name == self.current && l.state == LiveState::Ended);
        for (action, what, applies) in [
            (Action::LiveStart, "start", current),
            (Action::LiveEnd, "end", current),
            (Action::LiveReport, "report", ended),
            (Action::SmsFollowUp, "follow-up SMS", here_ended),
        ] {
            if applies
                && permissions::allows(ctx.role(), action)
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
        let width = wide_width(area);
        let inner = width.saturating_sub(4) as usize;
        let label = theme.style(StyleKey::PopupLabel);
        let text = theme.style(StyleKey::PopupText);
        let mut lines: Vec<Line<'static>> = Vec::new();
        match (&self.lives, &self.failed) {
            (_, Some(why)) => lines.push(Line::styled(
                format!("The hub could not list its lives: {}", clean(why)),
                theme.style(StyleKey::PopupWarning),
            )),
            (None, None) => lines.push(Line::styled("loading the lives…", label)),
            (Some(all), None) => {
                lines.push(Line::styled(
                    format!("{} lives · ▶ the one this console is in", all.len()),
                    label,
                ));
                lines.push(Line::default());
                for (i, l) in all.iter().enumerate() {
                    let marker = if l.name == self.current { "▶" } else { " " };
                    let row = format!(
                        "{marker} {:<18} {:<9} {}",
                        truncate(&clean_name(&l.name), 18),
                        l.state.as_str(),
                        times(l)
                    );
                    let title = clean_name(&l.title);
                    let room = inner.saturating_sub(row.chars().count() + 1);
                    let line = format!("{row} {}", truncate(&title, room));
                    let style = if i == self.selected {
                        theme.style(StyleKey::FeedSelected)
                    } else {
                        text
                    };
                    lines.push(Line::from(Span::styled(
                        truncate(&line, inner).into_owned(),
                        style,
                    )));
                }
            }
        }
        let max_rows = area.height.saturating_sub(6) as usize;
        let skip = (self.selected + 3).saturating_sub(max_rows);
        let mut visible: Vec<Line> = lines.into_iter().skip(skip).take(max_rows).collect();
        visible.push(Line::default());
        visible.push(keys_line(&self.hints(ctx), theme));
        draw_box(buf, area, " Lives ", &visible, width, theme);
        None
    }
}

/// The times that matter for the state: when it starts, went on air, ended.
fn times(l: &LiveInfo) -> String {
    match l.state {
        LiveState::Scheduled => l
            .starts_at
            .map_or_else(|| "no start time".into(), |t| format!("starts {}", when(t))),
        LiveState::OnAir => l
            .started_at
            .map_or_else(|| "on air".into(), |t| format!("since {}", when(t))),
        LiveState::Ended => l
            .ended_at
            .map_or_else(|| "ended".into(), |t| format!("ended {}", when(t))),
    }
}

/// `2026-12-24 20:00` (UTC).
pub(super) fn when(at: Millis) -> String {
    let at = std::time::SystemTime::UNIX_EPOCH
        + std::time::Duration::from_millis(u64::try_from(at).unwrap_or(0));
    let mut text = humantime::format_rfc3339_seconds(at).to_string();
    text.truncate(16);
    text.replace('T', " ")
}
