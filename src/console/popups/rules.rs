//! The rules editor (`M`, moderators and admins): the live's moderation
//! rules (kind, pattern, action, time left), a form to add one (kind,
//! pattern, action, expiry preset), removal behind a confirmation, and a
//! test line.
//!
//! The test line runs the sentence through the same engine the hub runs
//! ([`Moderation`]) over the rules the hub listed, plus the rule being
//! written in the form: a moderator sees which rule would fire, and on
//! what, *before* saving, without a round trip per key. The hub stays the
//! judge: `rule_test` asks it the same question over the wire.
//!
//! Patterns are user text: every one is drawn through `clean` (controls,
//! bidi overrides and invisibles removed), never as typed.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::game_forms::{error_line, field_line, label};
use super::popup_box::{draw_box_with_cursor, keys_line, wide_width, wrapped};
use super::{Context, Hints, Outcome};
use crate::console::input::{Edit, LineEditor};
use crate::console::keymap::{Action, PopupAction};
use crate::console::theme::{StyleKey, Theme};
use crate::console::view::text::clean;
use crate::console::wrap::truncate;
use crate::hub::moderation::Moderation;
use crate::protocol::{Command, CommandId, Millis, RuleAction, RuleFiring, RuleType, RuleView};

/// The expiry presets, like Twitch's: permanent, 1 h, 1 day, 7 days.
pub const EXPIRY_PRESETS: [(Option<u32>, &str); 4] = [
    (None, "permanent"),
    (Some(3600), "1 h"),
    (Some(86_400), "1 day"),
    (Some(7 * 86_400), "7 days"),
];

const KINDS: [RuleType; 3] = [RuleType::Term, RuleType::Regex, RuleType::LinkPolicy];
const ACTIONS: [RuleAction; 3] = [RuleAction::Hold, RuleAction::Block, RuleAction::Flag];

/// What the popup is doing.
#[derive(Debug, Clone)]
pub enum Mode {
    /// The list; the test line takes what is typed.
    List,
    /// The add form.
    Add(AddForm),
    /// Asking before removing this rule.
    Remove(u32),
}

/// The add form's fields.
#[derive(Debug, Clone)]
pub struct AddForm {
    pub kind: usize,
    pub pattern: LineEditor,
    pub action: usize,
    pub expiry: usize,
    /// 0 kind, 1 pattern, 2 action, 3 expiry, 4 the test line.
    pub focus: usize,
    pub error: Option<String>,
}

impl Default for AddForm {
    fn default() -> Self {
        AddForm {
            kind: 0,
            pattern: LineEditor::default(),
            action: 0,
            expiry: 0,
            focus: 1,
            error: None,
        }
    }
}

impl AddForm {
    /// The rule as the form has it, numbered after every listed rule.
    fn draft(&self, rules: &[RuleView], now: Millis) -> RuleView {
        let (secs, _) = EXPIRY_PRESETS[self.expiry];
        RuleView {
            rule_id: rules.iter().map(|r| r.rule_id).max().unwrap_or(0) + 1,
            kind: KINDS[self.kind],
            pattern: self.pattern.text().trim().to_owned(),
            action: ACTIONS[self.action],
            expires_at: secs.map(|s| now + i64::from(s) * 1000),
            created_by: None,
            created_at: now,
        }
    }

    fn command(&self) -> Result<Command, String> {
        let pattern = self.pattern.text().trim();
        if pattern.is_empty() {
            return Err("type the term, regex or link policy first".into());
        }
        Ok(Command::RuleAdd {
            kind: KINDS[self.kind],
            pattern: pattern.to_owned(),
            action: ACTIONS[self.action],
            expires_in_secs: EXPIRY_PRESETS[self.expiry].0,
        })
    }
}

/// The popup; `rules` is `None` until the hub answers `request`.
#[derive(Debug, Clone)]
pub struct RulesEditor {
    pub request: CommandId,
    pub rules: Option<Vec<RuleView>>,
    /// Why the hub could not send the list.
    pub failed: Option<String>,
    pub selected: usize,
    pub mode: Mode,
    /// The sentence to test.
    pub test: LineEditor,
}

impl RulesEditor {
    pub fn loading(request: CommandId) -> Self {
        RulesEditor {
            request,
            rules: None,
            failed: None,
            selected: 0,
            mode: Mode::List,
            test: LineEditor::default(),
        }
    }

    /// A `rule_added` event: the list shows it at once.
    pub fn added(&mut self, rule: RuleView) {
        if let Some(rules) = &mut self.rules
            && !rules.iter().any(|r| r.rule_id == rule.rule_id)
        {
            rules.push(rule);
        }
    }

    /// A `rule_removed` event (by a moderator or by expiry).
    pub fn removed(&mut self, rule_id: u32) {
        if let Some(rules) = &mut self.rules {
            rules.retain(|r| r.rule_id != rule_id);
            self.selected = self.selected.min(rules.len().saturating_sub(1));
        }
    }

    /// The editor is where typed text goes (paste).
    pub fn focused_editor(&mut self) -> Option<&mut LineEditor> {
        let focus = match &self.mode {
            Mode::List => 4,
            Mode::Add(form) => form.focus,
            Mode::Remove(_) => return None,
        };
        match (&mut self.mode, focus) {
            (Mode::Add(form), 1) => Some(&mut form.pattern),
            (_, 4) => Some(&mut self.test),
            _ => None,
        }
    }

    /// Which rules would fire on the test line, and the draft's error when
    /// it does not compile.
    fn tested(&self, now: Millis) -> (Vec<RuleFiring>, Option<String>) {
        let mut rules = self.rules.clone().unwrap_or_default();
        let mut error = None;
        if let Mode::Add(form) = &self.mode
            && !form.pattern.text().trim().is_empty()
        {
            let draft = form.draft(&rules, now);
            let mut with = Moderation::from_views(rules.clone());
            match with.add(draft) {
                Ok(()) => rules = with.rules().to_vec(),
                Err(e) => error = Some(e.to_string()),
            }
        }
        let text = self.test.text().trim();
        if text.is_empty() {
            return (Vec::new(), error);
        }
        (Moderation::from_views(rules).test(text, now), error)
    }

    pub fn on_key(&mut self, key: &KeyEvent, ctx: &dyn Context) -> Outcome {
        match &mut self.mode {
            Mode::Remove(id) => {
                let id = *id;
                match ctx.keymap().popup_action_for(key) {
                    Some(PopupAction::Confirm) => {
                        self.mode = Mode::List;
                        Outcome::SendStay {
                            command: Command::RuleRemove { rule_id: id },
                            summary: format!("remove rule #{id}"),
                        }
                    }
                    Some(PopupAction::Cancel | PopupAction::Close) => {
                        self.mode = Mode::List;
                        Outcome::Stay
                    }
                    Some(PopupAction::Edit) | None => Outcome::Stay,
                }
            }
            Mode::Add(_) => self.on_form_key(key),
            Mode::List => self.on_list_key(key, ctx),
        }
    }

    fn on_list_key(&mut self, key: &KeyEvent, ctx: &dyn Context) -> Outcome {
        let count = self.rules.as_ref().map_or(0, Vec::len);
        let plain = !key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Down => {
                self.selected = (self.selected + 1).min(count.saturating_sub(1));
                return Outcome::Stay;
            }
            KeyCode::Up => {
                self.selected = self.selected.saturating_sub(1);
                return Outcome::Stay;
            }
            // Tab opens the form; with an empty test line, so do `+`.
            KeyCode::Tab if plain => {
                self.mode = Mode::Add(AddForm::default());
                return Outcome::Stay;
            }
            KeyCode::Delete if plain => {
                if let Some(rule) = self.rules.as_ref().and_then(|r| r.get(self.selected)) {
                    self.mode = Mode::Remove(rule.rule_id);
                }
                return Outcome::Stay;
            }
            KeyCode::Esc => return Outcome::Close,
            _ => {}
        }
        if self.test.is_empty() && ctx.keymap().action_for(key) == Some(Action::Rules) {
            return Outcome::Close;
        }
        match self.test.handle_key(key) {
            Edit::Cancel => Outcome::Close,
            _ => Outcome::Stay,
        }
    }

    fn on_form_key(&mut self, key: &KeyEvent) -> Outcome {
        let Mode::Add(form) = &mut self.mode else {
            return Outcome::Stay;
        };
        let plain = !key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Tab | KeyCode::Down if plain => {
                form.focus = (form.focus + 1) % 5;
                return Outcome::Stay;
            }
            KeyCode::BackTab | KeyCode::Up if plain => {
                form.focus = (form.focus + 4) % 5;
                return Outcome::Stay;
            }
            KeyCode::Left | KeyCode::Right if [0, 2, 3].contains(&form.focus) => {
                let forward = key.code == KeyCode::Right;
                let (value, len) = match form.focus {
                    0 => (&mut form.kind, KINDS.len()),
                    2 => (&mut form.action, ACTIONS.len()),
                    _ => (&mut form.expiry, EXPIRY_PRESETS.len()),
                };
                *value = if forward {
                    (*value + 1) % len
                } else {
                    (*value + len - 1) % len
                };
                return Outcome::Stay;
            }
            KeyCode::Esc => {
                self.mode = Mode::List;
                return Outcome::Stay;
            }
            KeyCode::Enter => {
                return match form.command() {
                    Ok(command) => {
                        let summary = format!("add a {} rule", KINDS[form.kind].as_str());
                        self.mode = Mode::List;
                        Outcome::SendStay { command, summary }
                    }
                    Err(e) => {
                        form.error = Some(e);
                        Outcome::Stay
                    }
                };
            }
            _ => {}
        }
        let editor = match form.focus {
            1 => &mut form.pattern,
            4 => &mut self.test,
            _ => return Outcome::Stay,
        };
        editor.handle_key(key);
        form.error = None;
        Outcome::Stay
    }

    fn hints(&self, ctx: &dyn Context) -> Hints {
        let popup =
            |a: PopupAction, what: &'static str| ctx.keymap().popup_hint(a).map(|k| (k, what));
        match &self.mode {
            Mode::Remove(_) => [
                popup(PopupAction::Confirm, "remove"),
                popup(PopupAction::Cancel, "back"),
            ]
            .into_iter()
            .flatten()
            .collect(),
            Mode::Add(_) => [
                ("Tab", "next field"),
                ("←→", "choose"),
                ("Enter", "save"),
                ("Esc", "back"),
            ]
            .into_iter()
            .map(|(k, w)| (k.to_string(), w))
            .collect(),
            Mode::List => [
                ("↑↓", "select"),
                ("Tab", "add"),
                ("Del", "remove"),
                ("Esc", "close"),
            ]
            .into_iter()
            .map(|(k, w)| (k.to_string(), w))
            .collect(),
        }
    }

    pub fn draw(
        &self,
        buf: &mut Buffer,
        area: Rect,
        ctx: &dyn Context,
        theme: &Theme,
    ) -> Option<(u16, u16)> {
        let now = ctx.now();
        let width = wide_width(area);
        let inner = width.saturating_sub(4) as usize;
        let (firings, draft_error) = self.tested(now);
        let mut lines: Vec<Line<'static>> = Vec::new();
        let cursor = match &self.mode {
            Mode::Remove(id) => {
                lines = self.remove_lines(*id, inner, theme);
                None
            }
            Mode::Add(form) => {
                let cursor = self.form_lines(form, &mut lines, inner, theme);
                lines.extend(test_lines(&self.test, &firings, inner, theme));
                let error = form.error.as_deref().or(draft_error.as_deref());
                lines.extend(error_line(error, inner, theme));
                cursor
            }
            Mode::List => {
                self.list_lines(&mut lines, area, now, inner, theme);
                lines.push(Line::default());
                let (line, col) = field_line("test ", &self.test, inner, theme);
                let cursor = Some((lines.len(), col));
                lines.push(line);
                lines.extend(test_lines(&self.test, &firings, inner, theme));
                lines.push(Line::default());
                cursor
            }
        };
        lines.push(keys_line(&self.hints(ctx), theme));
        draw_box_with_cursor(
            buf,
            area,
            " Moderation rules ",
            &lines,
            width,
            cursor,
            theme,
        )
    }

    /// "Remove rule #3 (term “arnaq*”, block)?"
    fn remove_lines(&self, id: u32, inner: usize, theme: &Theme) -> Vec<Line<'static>> {
        let rule = self.rules.iter().flatten().find(|r| r.rule_id == id);
        let what = rule.map_or_else(
            || format!("rule #{id}"),
            |r| {
                format!(
                    "rule #{id} ({} {}, {})",
                    r.kind.as_str(),
                    quoted(&r.pattern, inner / 2),
                    r.action.as_str()
                )
            },
        );
        let mut lines = wrapped(
            &format!("Remove {what}? It stops applying from the next message."),
            inner,
            theme.style(StyleKey::PopupWarning),
        );
        lines.push(Line::default());
        lines
    }

    /// The form's fields and the test line; returns where the cursor goes.
    fn form_lines(
        &self,
        form: &AddForm,
        lines: &mut Vec<Line<'static>>,
        inner: usize,
        theme: &Theme,
    ) -> Option<(usize, u16)> {
        let text = theme.style(StyleKey::PopupText);
        let choice = |name: &str, value: &str, focused: bool| {
            let mut l = label(&format!("{name:<8}"), focused, theme);
            l.spans.push(Span::styled(format!("‹ {value} ›"), text));
            l
        };
        let mut cursor = None;
        lines.push(Line::styled(
            "Add a rule",
            theme.style(StyleKey::PopupLabel),
        ));
        lines.push(choice("Kind", KINDS[form.kind].as_str(), form.focus == 0));
        lines.push(label("Pattern", form.focus == 1, theme));
        let (line, col) = field_line("", &form.pattern, inner, theme);
        if form.focus == 1 {
            cursor = Some((lines.len(), col));
        }
        lines.push(line);
        let action = ACTIONS[form.action].as_str();
        lines.push(choice("Action", action, form.focus == 2));
        let expiry = EXPIRY_PRESETS[form.expiry].1;
        lines.push(choice("Expires", expiry, form.focus == 3));
        let (line, col) = field_line("test ", &self.test, inner, theme);
        if form.focus == 4 {
            cursor = Some((lines.len(), col));
        }
        lines.push(line);
        cursor
    }

    /// The rules, one a row, as many as the screen holds around the
    /// selection.
    fn list_lines(
        &self,
        lines: &mut Vec<Line<'static>>,
        area: Rect,
        now: Millis,
        inner: usize,
        theme: &Theme,
    ) {
        let label_style = theme.style(StyleKey::PopupLabel);
        match (&self.rules, &self.failed) {
            (_, Some(why)) => lines.push(Line::styled(
                format!("The hub could not send the rules: {}", clean(why)),
                theme.style(StyleKey::PopupWarning),
            )),
            (None, None) => lines.push(Line::styled("loading the rules…", label_style)),
            (Some(list), None) if list.is_empty() => {
                lines.push(Line::styled("No rule: every message passes.", label_style));
            }
            (Some(list), None) => {
                lines.push(Line::styled(
                    format!(
                        "{:<6}{:<13}{:<7}{:<11}pattern",
                        "#", "kind", "action", "expires in"
                    ),
                    label_style,
                ));
                let rows = (area.height as usize).saturating_sub(12).max(1);
                let skip = self.selected.saturating_sub(rows - 1);
                for (i, r) in list.iter().enumerate().skip(skip).take(rows) {
                    lines.push(rule_line(r, i == self.selected, now, inner, theme));
                }
                if list.len() > rows {
                    lines.push(Line::styled(
                        format!("{} rules in all", list.len()),
                        label_style,
                    ));
                }
            }
        }
    }
}

/// `“pattern”`, cleaned and cut to `room` cells.
fn quoted(pattern: &str, room: usize) -> String {
    format!("“{}”", truncate(&clean(pattern), room.saturating_sub(2)))
}

/// How long a rule still applies: "permanent", "59 min", "23 h", "6 days".
pub fn expires_in(expires_at: Option<Millis>, now: Millis) -> String {
    let Some(end) = expires_at else {
        return "permanent".into();
    };
    let left = (end - now).max(0) / 1000;
    match left {
        0..60 => format!("{left} s"),
        60..3600 => format!("{} min", left / 60),
        3600..86_400 => format!("{} h", left / 3600),
        _ => {
            let days = left / 86_400;
            format!("{days} day{}", if days == 1 { "" } else { "s" })
        }
    }
}

fn rule_line(
    r: &RuleView,
    selected: bool,
    now: Millis,
    inner: usize,
    theme: &Theme,
) -> Line<'static> {
    let style = if selected {
        theme.style(StyleKey::FeedSelected)
    } else {
        theme.style(StyleKey::PopupText)
    };
    let head = format!(
        "{:<6}{:<13}{:<7}{:<11}",
        format!("#{}", r.rule_id),
        r.kind.as_str(),
        r.action.as_str(),
        expires_in(r.expires_at, now)
    );
    let room = inner.saturating_sub(head.chars().count());
    Line::from(vec![
        Span::styled(head, style),
        Span::styled(truncate(&clean(&r.pattern), room).into_owned(), style),
    ])
}

/// What the test line fires: the deciding rule first, and why.
fn test_lines(
    test: &LineEditor,
    firings: &[RuleFiring],
    inner: usize,
    theme: &Theme,
) -> Vec<Line<'static>> {
    if test.text().trim().is_empty() {
        return vec![Line::styled(
            "type a sentence to see which rule would fire",
            theme.style(StyleKey::PopupLabel),
        )];
    }
    let Some((first, others)) = firings.split_first() else {
        return vec![Line::styled(
            "✓ passes: no rule fires",
            theme.style(StyleKey::PopupText),
        )];
    };
    let why = |f: &RuleFiring| {
        format!(
            "{} by rule #{} ({}) on {}",
            f.action.as_str(),
            f.rule_id,
            f.kind.as_str(),
            quoted(&f.matched, inner / 2)
        )
    };
    let mut lines = wrapped(
        &format!("→ {}", why(first)),
        inner,
        theme.style(StyleKey::PopupWarning),
    );
    for f in others.iter().take(3) {
        lines.extend(wrapped(
            &format!("  also {}", why(f)),
            inner,
            theme.style(StyleKey::PopupLabel),
        ));
    }
    lines
}
