//! Keys map to named actions, like helix: the defaults below, overridden by
//! a `[keys]` table in the config file (`"ctrl-r" = "redact"`, or `"r" =
//! "none"` to unbind). The help overlay is generated from the active map, so
//! it is always true.
//!
//! Popups read their own layer of the same map ([`PopupAction`]: confirm,
//! cancel, close), so a confirmation's footer shows the keys that work,
//! even after `"y" = "none"` and `"o" = "confirm"`.

use std::collections::BTreeMap;
use std::fmt;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

macro_rules! actions {
    ($($variant:ident => $name:literal, $help:literal;)*) => {
        /// A named command the user can bind a key to.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action { $($variant,)* }

        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$variant,)*];

            /// The name used in keymap files.
            pub fn name(self) -> &'static str {
                match self { $(Action::$variant => $name,)* }
            }

            /// One line for the help overlay.
            pub fn help(self) -> &'static str {
                match self { $(Action::$variant => $help,)* }
            }

            pub fn from_name(name: &str) -> Option<Action> {
                match name { $($name => Some(Action::$variant),)* _ => None }
            }
        }
    };
}

actions! {
    FocusNext => "focus_next", "next pane";
    FocusPrev => "focus_prev", "previous pane";
    MoveDown => "move_down", "select the next line";
    MoveUp => "move_up", "select the previous line (stops following)";
    PageDown => "page_down", "scroll a page down";
    PageUp => "page_up", "scroll a page up";
    JumpTop => "jump_top", "jump to the oldest line";
    JumpBottom => "jump_bottom", "jump to the newest line and follow";
    Pause => "pause", "pause / resume the chat, from any pane";
    SearchNext => "search_next", "chat: next older line matching the filter or search";
    SearchPrev => "search_prev", "chat: next newer line matching the filter or search";
    HistorySearch => "history_search", "search the live's older chat on the hub";
    Reply => "reply", "reply to the selected message";
    Pin => "pin", "pin / unpin the selected message";
    MarkAnswered => "mark_answered", "mark the selected question answered";
    ReopenQuestion => "reopen_question", "reopen the selected answered question";
    ReplyAnswered => "reply_answered", "reply and mark answered (in the reply line)";
    Hide => "hide", "hide the selected message from viewers";
    Release => "release", "let the selected held or hidden message through";
    Timeout => "timeout", "time the author out (asks a duration and a reason)";
    Ban => "ban", "ban the author (asks a reason, then to confirm)";
    SlowMode => "slow_mode", "slow mode: seconds each viewer waits between messages";
    LiftSanction => "lift_sanction", "on a viewer card: lift the viewer's ban or timeout";
    Redact => "redact", "redact the selected message (reason, then confirm)";
    Shield => "shield", "Shield: emergency preset on / off (confirms)";
    Filter => "filter", "filter: text, from:NAME, is:question, is:held";
    ViewerCard => "viewer_card", "show the author's viewer card";
    Erase => "erase_viewer", "on a viewer card: erase the viewer (Art. 17, asks to confirm)";
    Rectify => "rectify_viewer", "on a viewer card: correct names (Art. 16)";
    SortQuestions => "sort_questions", "questions: oldest first / newest first";
    GroupExpand => "group_expand", "questions: expand / collapse the selected group";
    GroupSplit => "group_split", "questions: split the selected question out of its group";
    GroupMerge => "group_merge", "questions: mark a group, then = on another merges them";
    Poll => "poll", "launch a poll (form)";
    ClosePoll => "close_poll", "close the live poll, or clear a finished one";
    InstantWin => "instant_win", "launch an instant win (form)";
    DrawNow => "draw_now", "draw the instant win now (asks to confirm)";
    Redraw => "redraw", "re-draw without chosen winners (new record)";
    Games => "games", "past polls and instant wins of this show";
    Export => "export_viewer", "on a viewer card: export the viewer to a file (Art. 15/20)";
    Requests => "rights_requests", "list data-protection requests, soonest due";
    Rules => "rules", "moderation rules: list, add, remove, test a sentence";
    Lives => "lives", "the hub's lives: switch to one, start or end this one";
    LiveStart => "live_start", "in the Lives popup: put this live on air";
    LiveEnd => "live_end", "in the Lives popup: end this live (asks to confirm)";
    LiveReport => "live_report", "in the Lives popup: the selected ended live's report";
    SmsFollowUp => "sms_follow_up", "in the Lives popup: text a follow-up SMS to a segment of this ended live";
    Messages => "messages", "read the last status messages in full";
    Deny => "deny", "deny the selected held message (erased; its author is told)";
    HoldMark => "hold_mark", "hold queue: mark / unmark the selected message";
    ApproveMarked => "approve_marked", "hold queue: approve every marked message";
    AddNote => "note_add", "on a viewer card: add a staff-only note";
    Canned => "canned", "pick a canned answer in the reply line (merge tags filled in)";
    CannedSave => "canned_save", "save the reply line as a canned answer (asks a title)";
    Products => "products", "show a product on the viewers' screen or add one (products popup)";
    Claim => "claim", "claim / release the selected question or held message";
    FlagViewer => "flag_viewer", "flag the author for all staff: colour, note, 10 min";
    StaffSay => "staff_say", "post a message in the chat as staff";
    Announce => "announce", "post a staff announcement (shown apart; p pins it)";
    Help => "help", "show this help";
    Quit => "quit", "quit (asks to confirm)";
}

/// What a key means while a popup is open. A separate layer from
/// [`Action`], because Enter confirms in a popup but replies in the panes.
/// Scrolling a popup uses [`Action::MoveDown`] / [`Action::MoveUp`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum PopupAction {
    /// Yes to a confirmation.
    Confirm,
    /// No to a confirmation.
    Cancel,
    /// Closes any popup (and answers no to a confirmation).
    Close,
    /// Changes what a confirmation would send (a ban's or a redaction's
    /// reason) before saying yes.
    Edit,
}

impl PopupAction {
    pub const ALL: &'static [PopupAction] = &[
        PopupAction::Confirm,
        PopupAction::Cancel,
        PopupAction::Close,
        PopupAction::Edit,
    ];

    /// The name used in keymap files, next to the [`Action`] names.
    pub fn name(self) -> &'static str {
        match self {
            PopupAction::Confirm => "confirm",
            PopupAction::Cancel => "cancel",
            PopupAction::Close => "close",
            PopupAction::Edit => "edit",
        }
    }

    pub fn from_name(name: &str) -> Option<PopupAction> {
        PopupAction::ALL.iter().copied().find(|a| a.name() == name)
    }
}

/// A key with its modifiers, normalised so `G` and `shift-g` are one chord.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyChord {
    pub code: KeyCodeOrd,
    pub ctrl: bool,
    pub alt: bool,
}

/// The key codes a keymap can name, in an orderable form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyCodeOrd {
    Char(char),
    F(u8),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Insert,
    Up,
    Down,
    Left,
    Right,
    Home,
    End,
    PageUp,
    PageDown,
}

impl KeyChord {
    pub fn from_event(key: &KeyEvent) -> Option<KeyChord> {
        let code = match key.code {
            KeyCode::Char(c) => KeyCodeOrd::Char(c),
            KeyCode::F(n) => KeyCodeOrd::F(n),
            KeyCode::Enter => KeyCodeOrd::Enter,
            KeyCode::Esc => KeyCodeOrd::Esc,
            KeyCode::Tab if key.modifiers.contains(KeyModifiers::SHIFT) => KeyCodeOrd::BackTab,
            KeyCode::Tab => KeyCodeOrd::Tab,
            KeyCode::BackTab => KeyCodeOrd::BackTab,
            KeyCode::Backspace => KeyCodeOrd::Backspace,
            KeyCode::Delete => KeyCodeOrd::Delete,
            KeyCode::Insert => KeyCodeOrd::Insert,
            KeyCode::Up => KeyCodeOrd::Up,
            KeyCode::Down => KeyCodeOrd::Down,
            KeyCode::Left => KeyCodeOrd::Left,
            KeyCode::Right => KeyCodeOrd::Right,
            KeyCode::Home => KeyCodeOrd::Home,
            KeyCode::End => KeyCodeOrd::End,
            KeyCode::PageUp => KeyCodeOrd::PageUp,
            KeyCode::PageDown => KeyCodeOrd::PageDown,
            _ => return None,
        };
        Some(KeyChord {
            code,
            ctrl: key.modifiers.contains(KeyModifiers::CONTROL),
            alt: key.modifiers.contains(KeyModifiers::ALT),
        })
    }

    /// Parses `p`, `G`, `?`, `ctrl-c`, `alt-x`, `shift-tab`, `pagedown`, `f1`, `space`.
    pub fn parse(spec: &str) -> Result<KeyChord, String> {
        let mut ctrl = false;
        let mut alt = false;
        let mut shift = false;
        let mut rest = spec;
        loop {
            let lower = rest.to_ascii_lowercase();
            if rest.chars().count() > 1 && lower.starts_with("ctrl-") {
                ctrl = true;
                rest = &rest[5..];
            } else if rest.chars().count() > 1 && lower.starts_with("alt-") {
                alt = true;
                rest = &rest[4..];
            } else if rest.chars().count() > 1 && lower.starts_with("shift-") {
                shift = true;
                rest = &rest[6..];
            } else {
                break;
            }
        }
        let mut chars = rest.chars();
        let code = match (chars.next(), chars.next()) {
            (Some(c), None) => KeyCodeOrd::Char(if shift { c.to_ascii_uppercase() } else { c }),
            _ => match rest.to_ascii_lowercase().as_str() {
                "enter" | "return" => KeyCodeOrd::Enter,
                "esc" | "escape" => KeyCodeOrd::Esc,
                "tab" if shift => KeyCodeOrd::BackTab,
                "tab" => KeyCodeOrd::Tab,
                "backtab" => KeyCodeOrd::BackTab,
                "backspace" => KeyCodeOrd::Backspace,
                "del" | "delete" => KeyCodeOrd::Delete,
                "ins" | "insert" => KeyCodeOrd::Insert,
                "up" => KeyCodeOrd::Up,
                "down" => KeyCodeOrd::Down,
                "left" => KeyCodeOrd::Left,
                "right" => KeyCodeOrd::Right,
                "home" => KeyCodeOrd::Home,
                "end" => KeyCodeOrd::End,
                "pageup" | "pgup" => KeyCodeOrd::PageUp,
                "pagedown" | "pgdn" => KeyCodeOrd::PageDown,
                "space" => KeyCodeOrd::Char(' '),
                f if f.starts_with('f')
                    && f[1..].parse::<u8>().is_ok_and(|n| (1..=24).contains(&n)) =>
                {
                    KeyCodeOrd::F(f[1..].parse().unwrap_or(1))
                }
                _ => return Err(format!("unknown key {spec:?}")),
            },
        };
        Ok(KeyChord { code, ctrl, alt })
    }
}

impl fmt::Display for KeyChord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.code {
            KeyCodeOrd::Char(' ') => f.write_str("space"),
            KeyCodeOrd::Char(c) => write!(f, "{c}"),
            KeyCodeOrd::F(n) => write!(f, "F{n}"),
            KeyCodeOrd::Enter => f.write_str("Enter"),
            KeyCodeOrd::Esc => f.write_str("Esc"),
            KeyCodeOrd::Tab => f.write_str("Tab"),
            KeyCodeOrd::BackTab => f.write_str("Shift-Tab"),
            KeyCodeOrd::Backspace => f.write_str("Backspace"),
            KeyCodeOrd::Delete => f.write_str("Del"),
            KeyCodeOrd::Insert => f.write_str("Ins"),
            KeyCodeOrd::Up => f.write_str("↑"),
            KeyCodeOrd::Down => f.write_str("↓"),
            KeyCodeOrd::Left => f.write_str("←"),
            KeyCodeOrd::Right => f.write_str("→"),
            KeyCodeOrd::Home => f.write_str("Home"),
            KeyCodeOrd::End => f.write_str("End"),
            KeyCodeOrd::PageUp => f.write_str("PgUp"),
            KeyCodeOrd::PageDown => f.write_str("PgDn"),
        }
    }
}

/// The defaults, as issue 3 lists them (and the README repeats).
pub const DEFAULT_BINDINGS: &[(&str, Action)] = &[
    ("tab", Action::FocusNext),
    ("shift-tab", Action::FocusPrev),
    ("j", Action::MoveDown),
    ("down", Action::MoveDown),
    ("k", Action::MoveUp),
    ("up", Action::MoveUp),
    ("pagedown", Action::PageDown),
    ("pageup", Action::PageUp),
    ("g", Action::JumpTop),
    ("home", Action::JumpTop),
    ("G", Action::JumpBottom),
    ("end", Action::JumpBottom),
    ("z", Action::Pause),
    ("n", Action::SearchNext),
    ("N", Action::SearchPrev),
    ("F", Action::HistorySearch),
    ("enter", Action::Reply),
    ("p", Action::Pin),
    ("x", Action::MarkAnswered),
    ("u", Action::ReopenQuestion),
    // A send key of the reply line (the line editor leaves it alone);
    // in the panes it opens the reply line, like Enter.
    ("alt-enter", Action::ReplyAnswered),
    ("h", Action::Hide),
    ("a", Action::Release),
    ("t", Action::Timeout),
    ("b", Action::Ban),
    ("S", Action::SlowMode),
    ("U", Action::LiftSanction),
    ("r", Action::Redact),
    ("H", Action::Shield),
    ("/", Action::Filter),
    ("v", Action::ViewerCard),
    ("E", Action::Erase),
    ("ctrl-n", Action::Rectify),
    ("o", Action::SortQuestions),
    ("+", Action::GroupExpand),
    ("-", Action::GroupSplit),
    ("=", Action::GroupMerge),
    ("P", Action::Poll),
    ("C", Action::ClosePoll),
    ("W", Action::InstantWin),
    ("D", Action::DrawNow),
    ("R", Action::Redraw),
    ("L", Action::Games),
    ("X", Action::Export),
    ("Q", Action::Requests),
    ("M", Action::Rules),
    ("O", Action::Lives),
    ("s", Action::LiveStart),
    ("e", Action::LiveEnd),
    // B for bilan: the report of a live.
    ("B", Action::LiveReport),
    ("T", Action::SmsFollowUp),
    ("m", Action::Messages),
    ("d", Action::Deny),
    ("space", Action::HoldMark),
    ("A", Action::ApproveMarked),
    ("K", Action::AddNote),
    // Keys of the reply line (the line editor leaves them alone); in the
    // panes ctrl-t opens the reply line on the selection, then the picker.
    ("ctrl-t", Action::Canned),
    ("ctrl-s", Action::CannedSave),
    ("w", Action::Products),
    ("c", Action::Claim),
    ("f", Action::FlagViewer),
    ("i", Action::StaffSay),
    ("I", Action::Announce),
    ("?", Action::Help),
    ("q", Action::Quit),
    ("ctrl-c", Action::Quit),
];

/// The defaults of the popup layer: `y`/Enter yes, `n` no, Esc closes.
pub const DEFAULT_POPUP_BINDINGS: &[(&str, PopupAction)] = &[
    ("y", PopupAction::Confirm),
    ("enter", PopupAction::Confirm),
    ("n", PopupAction::Cancel),
    ("esc", PopupAction::Close),
    ("e", PopupAction::Edit),
];

/// The active key bindings: the panes' layer and the popups' layer.
#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: BTreeMap<KeyChord, Action>,
    popup: BTreeMap<KeyChord, PopupAction>,
}

/// A table of default specs, parsed (the specs are constants, tested).
fn parse_defaults<A: Copy>(table: &[(&str, A)]) -> BTreeMap<KeyChord, A> {
    table
        .iter()
        .filter_map(|(spec, action)| KeyChord::parse(spec).ok().map(|c| (c, *action)))
        .collect()
}

impl Default for Keymap {
    fn default() -> Self {
        Keymap {
            bindings: parse_defaults(DEFAULT_BINDINGS),
            popup: parse_defaults(DEFAULT_POPUP_BINDINGS),
        }
    }
}

/// Keys sorted for hints: plain keys before chords with modifiers, letters
/// before named keys.
fn sorted_keys(mut keys: Vec<KeyChord>) -> Vec<KeyChord> {
    keys.sort_by_key(|k| (k.ctrl || k.alt, !matches!(k.code, KeyCodeOrd::Char(_)), *k));
    keys
}

impl Keymap {
    /// The defaults with `overrides` (key spec → action name or `"none"`)
    /// applied. Returns warnings for keys or actions it does not know; those
    /// entries are skipped, the rest still apply.
    pub fn with_overrides(overrides: &BTreeMap<String, String>) -> (Keymap, Vec<String>) {
        let mut map = Keymap::default();
        let mut warnings = Vec::new();
        for (spec, action) in overrides {
            let chord = match KeyChord::parse(spec) {
                Ok(c) => c,
                Err(e) => {
                    warnings.push(format!("keymap: {e}; binding ignored"));
                    continue;
                }
            };
            if action == "none" {
                // Unbinds the key in both layers: `"y" = "none"` means y does nothing.
                map.bindings.remove(&chord);
                map.popup.remove(&chord);
                continue;
            }
            if let Some(a) = PopupAction::from_name(action) {
                map.popup.insert(chord, a);
                continue;
            }
            match Action::from_name(action) {
                Some(a) => {
                    map.bindings.insert(chord, a);
                }
                None => warnings.push(format!(
                    "keymap: unknown action {action:?} for key {spec:?}; binding ignored"
                )),
            }
        }
        (map, warnings)
    }

    pub fn action_for(&self, key: &KeyEvent) -> Option<Action> {
        KeyChord::from_event(key).and_then(|c| self.bindings.get(&c).copied())
    }

    /// Keys bound to `action`, plain keys before chords with modifiers.
    pub fn keys_for(&self, action: Action) -> Vec<KeyChord> {
        sorted_keys(
            self.bindings
                .iter()
                .filter(|(_, a)| **a == action)
                .map(|(k, _)| *k)
                .collect(),
        )
    }

    /// The first key bound to `action`, for hints ("? help").
    pub fn hint(&self, action: Action) -> Option<String> {
        self.keys_for(action).first().map(ToString::to_string)
    }

    /// What `key` means in an open popup.
    pub fn popup_action_for(&self, key: &KeyEvent) -> Option<PopupAction> {
        KeyChord::from_event(key).and_then(|c| self.popup.get(&c).copied())
    }

    /// Keys bound to a popup action, in hint order.
    pub fn popup_keys_for(&self, action: PopupAction) -> Vec<KeyChord> {
        sorted_keys(
            self.popup
                .iter()
                .filter(|(_, a)| **a == action)
                .map(|(k, _)| *k)
                .collect(),
        )
    }

    /// The first key bound to a popup action, for footers ("y ban").
    pub fn popup_hint(&self, action: PopupAction) -> Option<String> {
        self.popup_keys_for(action).first().map(ToString::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_spec_parses_and_every_action_is_bound() {
        let map = Keymap::default();
        for action in Action::ALL {
            assert!(!map.keys_for(*action).is_empty(), "{action:?} unbound");
        }
    }

    #[test]
    fn popup_layer_defaults_parse_and_rebind() {
        let map = Keymap::default();
        for action in PopupAction::ALL {
            assert!(
                !map.popup_keys_for(*action).is_empty(),
                "{action:?} unbound"
            );
        }
        assert_eq!(map.popup_hint(PopupAction::Confirm).as_deref(), Some("y"));
        let overrides = BTreeMap::from([
            ("y".to_string(), "none".to_string()),
            ("o".to_string(), "confirm".to_string()),
        ]);
        let (map, warnings) = Keymap::with_overrides(&overrides);
        assert!(warnings.is_empty(), "{warnings:?}");
        let y = KeyEvent::new(KeyCode::Char('y'), KeyModifiers::NONE);
        let o = KeyEvent::new(KeyCode::Char('o'), KeyModifiers::NONE);
        assert_eq!(map.popup_action_for(&y), None);
        assert_eq!(map.popup_action_for(&o), Some(PopupAction::Confirm));
        // The panes' layer keeps `o` for sorting questions.
        assert_eq!(map.action_for(&o), Some(Action::SortQuestions));
    }

    #[test]
    fn shifted_letters_and_backtab_normalise() {
        let map = Keymap::default();
        let g = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(map.action_for(&g), Some(Action::JumpBottom));
        let bt = KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT);
        assert_eq!(map.action_for(&bt), Some(Action::FocusPrev));
    }

    #[test]
    fn overrides_rebind_unbind_and_warn() {
        let overrides = BTreeMap::from([
            ("ctrl-r".to_string(), "redact".to_string()),
            ("r".to_string(), "none".to_string()),
            ("Z".to_string(), "explode".to_string()),
            ("hyper-q".to_string(), "quit".to_string()),
        ]);
        let (map, warnings) = Keymap::with_overrides(&overrides);
        let r = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::NONE);
        let ctrl_r = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL);
        assert_eq!(map.action_for(&r), None);
        assert_eq!(map.action_for(&ctrl_r), Some(Action::Redact));
        assert_eq!(warnings.len(), 2, "{warnings:?}");
    }
}
