//! Popups over the panes, as components (like helix's compositor layers):
//! each one owns its keys ([`Popup::on_key`] → [`Outcome`]), its drawing
//! and its footer hints, which come from the keymap so they follow a
//! remapping. A popup never changes the console itself: it answers with an
//! [`Outcome`] and the console's `update` carries it out.
//!
//! | module | popup |
//! |---|---|
//! | [`confirm`] | one yes/no confirmation for every dangerous action |
//! | [`prompt`] | one line of text: filter, redaction reason |
//! | [`sanction`] | presets or typed: slow mode, a timeout's duration, a sanction's reason |
//! | [`viewer_card`] | a viewer's card, with timeout, ban, erase and export |
//! | [`flag`] | a viewer flag: colour, optional note, or lifting the flag in force |
//! | [`export_result`] | where a viewer's export was written and what it holds |
//! | [`requests`] | the open data-protection requests, soonest due first |
//! | [`help`] | the key help, generated from the keymap |
//! | [`log`] | the last status-line messages in full |
//! | [`games_list`] | this show's polls and instant wins |
//! | [`game_forms`] | the poll, instant-win and re-draw forms |
//! | [`rectify_form`] | a viewer's new first name and pseudonym (Art. 16), then a confirmation |
//! | [`rules`] | the live's moderation rules: list, add, remove, and a test line |
//! | [`shield`] | Shield: the confirmation before applying or lifting it, and the ban-recent-terms review list |
//! | [`lives`] | the hub's lives: switch to one, start or end the current one |
//! | [`report`] | an ended live's report, with the timeline as sparklines |
//! | [`sms_segments`] | an ended live's follow-up SMS: the segments' counts, then a confirmation |
//! | [`canned_picker`] | the canned answers, fuzzy-searched, expanded into the reply line |
//! | [`products`] | the live's products: show one on the viewers' screen, add one |
//! | [`history_search`] | the live's older chat searched on the hub, a page at a time |
//! | [`popup_box`] | the box, wrapped text and footer every popup draws with |

pub mod canned_picker;
pub mod confirm;
pub mod export_result;
pub mod flag;
pub mod game_forms;
pub mod games_list;
pub mod help;
pub mod history_search;
pub mod lives;
pub mod log;
pub mod popup_box;
pub mod products;
pub mod prompt;
pub mod rectify_form;
pub mod report;
pub mod requests;
pub mod rules;
pub mod sanction;
pub mod shield;
pub mod sms_segments;
pub mod viewer_card;

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

pub use confirm::{Confirm, Target};
pub use games_list::GamesList;
pub use help::Help;
pub use log::{LogEntry, MessageLog};
pub use prompt::{Prompt, PromptKind};
pub use rectify_form::RectifyForm;
pub use sanction::Choice;
pub use viewer_card::CardView;

use super::feed::Feed;
use super::filter::Filter;
use super::games::{Games, InstantWinForm, PollForm, RedrawForm};
use super::keymap::{Action, Keymap, PopupAction};
use super::theme::Theme;
use crate::protocol::{ChatMessage, Command, MessageId, Millis, StaffRole};

/// What a popup may read of the console while it handles a key or draws.
/// The console implements it; popups never see the console's internals.
pub trait Context {
    fn keymap(&self) -> &Keymap;
    fn role(&self) -> StaffRole;
    fn games(&self) -> &Games;
    fn feed(&self) -> &Feed;
    /// A message wherever the console holds it (feed, questions, hold queue).
    fn message(&self, id: MessageId) -> Option<ChatMessage>;
    /// "Julie's message": how a message is named in a summary.
    fn describe(&self, id: MessageId) -> String;
    /// How the commands sent and not yet answered are named, oldest first.
    fn pending(&self) -> Vec<String>;
    /// Whether this is `regie demo`'s console (quitting stops the demo).
    fn demo(&self) -> bool;
    /// In `regie demo`: the command that attaches a second console.
    fn attach(&self) -> Option<&str>;
    /// The console's clock (days left on a request).
    fn now(&self) -> Millis;
    /// The reasons a sanction offers (the console config's
    /// `sanction_reasons`, else [`sanction::DEFAULT_SANCTION_REASONS`]).
    fn sanction_reasons(&self) -> &[String];
    /// The live's products, the one showing and the canned answers.
    fn showcase(&self) -> &super::showcase::Showcase;
    /// The flag in force on a viewer (their card shows it).
    fn flag(&self, viewer: &crate::protocol::ViewerId) -> Option<&crate::protocol::ViewerFlag>;
}

/// Footer hints: (key, what it does), in display order.
pub type Hints = Vec<(String, &'static str)>;

/// What a key did to the open popup.
#[derive(Debug, Clone)]
pub enum Outcome {
    /// The popup stays open.
    Stay,
    /// The popup closes, nothing else happens.
    Close,
    /// The popup is replaced by another one.
    Open(Popup),
    /// The popup closes and this command is sent.
    Send { command: Command, summary: String },
    /// This command is sent and the popup stays open (the rules editor
    /// adds and removes rules while it shows them).
    SendStay { command: Command, summary: String },
    /// The user confirmed quitting.
    Quit,
    /// The filter prompt's answer (`None` shows everything).
    Filter(Option<Filter>),
    /// The staff log's filter, as typed (`by:NAME action:ban`).
    StaffLogFilter(String),
    /// The popup stays open and the status line says why.
    Refuse(String),
    /// The popup closes and the status line says why.
    Abort(String),
    /// The popup closes and the console switches to this live.
    SwitchLive(String),
    /// The console asks the hub for this live's report, in its popup.
    LiveReport(String),
    /// The popup closes and this text goes into the reply line, at its
    /// cursor (a canned answer, expanded).
    InsertReply(String),
    /// The history search prompt's query: the console asks the hub.
    HistorySearch(String),
    /// The history search popup stays open and asks for its next page.
    HistoryMore,
    /// The popup closes and the chat selects this message, if it holds it.
    ShowInFeed(MessageId),
}

/// A popup over the panes; it takes the keys while open.
#[derive(Debug, Clone)]
pub enum Popup {
    Help(Help),
    Confirm(Confirm),
    Prompt(Prompt),
    /// Presets or typed: slow mode, a timeout's duration, a reason.
    Choice(Choice),
    ViewerCard(CardView),
    PollForm(PollForm),
    InstantWinForm(InstantWinForm),
    RedrawForm(RedrawForm),
    /// A viewer's names corrected (Art. 16), from their card.
    RectifyForm(RectifyForm),
    /// This show's polls and instant wins.
    Games(GamesList),
    /// The last status messages in full.
    Log(MessageLog),
    /// A viewer's export: where it was written, or why not.
    ExportResult(export_result::ExportView),
    /// The open data-protection requests.
    Requests(requests::RequestsView),
    /// The live's moderation rules.
    Rules(rules::RulesEditor),
    /// Apply or lift Shield?
    ShieldConfirm(shield::ShieldConfirm),
    /// Who used the preset's `ban_recent_terms`, to ban and undo.
    ShieldReview(shield::ShieldReview),
    /// The hub's lives.
    Lives(lives::LivesView),
    /// A live's report.
    Report(report::ReportView),
    /// The canned answers, from the reply line.
    CannedPicker(canned_picker::CannedPicker),
    /// The live's products.
    Products(products::ProductsView),
    /// A new product's name, price and link.
    ProductForm(products::ProductForm),
    /// The live's older chat, searched on the hub.
    HistorySearch(history_search::HistorySearch),
    /// A viewer flag: colour, note (`f`).
    Flag(flag::FlagForm),
    /// The ended live's follow-up SMS segments, counted by the hub.
    SmsSegments(sms_segments::SegmentsView),
}

impl Popup {
    /// Asks before `what`.
    pub fn confirm(what: Target) -> Popup {
        Popup::Confirm(Confirm { what })
    }

    /// Hands a key to the popup; the caller carries out the outcome.
    pub fn on_key(&mut self, key: &KeyEvent, ctx: &dyn Context) -> Outcome {
        match self {
            Popup::Help(p) => p.on_key(key, ctx.keymap()),
            Popup::Confirm(p) => match ctx.keymap().popup_action_for(key) {
                Some(PopupAction::Edit) => edit_reason(&p.what, ctx).unwrap_or(Outcome::Stay),
                _ => p.on_key(key, ctx),
            },
            Popup::Prompt(p) => p.on_key(key, ctx),
            Popup::Choice(p) => p.on_key(key, ctx),
            Popup::ViewerCard(p) => p.on_key(key, ctx),
            Popup::PollForm(p) => game_forms::on_poll_key(p, key),
            Popup::InstantWinForm(p) => game_forms::on_instant_win_key(p, key),
            Popup::RedrawForm(p) => game_forms::on_redraw_key(p, key, ctx.games()),
            Popup::RectifyForm(p) => p.on_key(key, ctx),
            Popup::Games(p) => p.on_key(key, ctx.keymap()),
            Popup::Log(p) => p.on_key(key, ctx.keymap()),
            Popup::ExportResult(p) => p.on_key(key, ctx),
            Popup::Requests(p) => p.on_key(key, ctx),
            Popup::Rules(p) => p.on_key(key, ctx),
            Popup::ShieldConfirm(p) => p.on_key(key, ctx),
            Popup::ShieldReview(p) => p.on_key(key, ctx),
            Popup::Lives(p) => p.on_key(key, ctx),
            Popup::Report(p) => p.on_key(key, ctx),
            Popup::CannedPicker(p) => p.on_key(key, ctx),
            Popup::Products(p) => p.on_key(key, ctx),
            Popup::ProductForm(p) => p.on_key(key, ctx),
            Popup::HistorySearch(p) => p.on_key(key, ctx),
            Popup::Flag(p) => p.on_key(key, ctx),
            Popup::SmsSegments(p) => p.on_key(key, ctx),
        }
    }

    /// Pasted text goes to the focused text field, if the popup has one.
    pub fn paste(&mut self, text: &str) {
        match self {
            Popup::Prompt(p) => p.editor.insert(text),
            Popup::Flag(p) => p.note.insert(text),
            Popup::Choice(p) => p.editor.insert(text),
            Popup::PollForm(form) => form.focused_editor().insert(text),
            Popup::InstantWinForm(form) => form.focused_editor().insert(text),
            Popup::RedrawForm(form) if form.on_reason => form.reason.insert(text),
            Popup::RectifyForm(form) if form.confirming.is_none() => {
                form.focused_editor().insert(text);
            }
            Popup::Rules(p) => {
                if let Some(editor) = p.focused_editor() {
                    editor.insert(text);
                }
            }
            Popup::CannedPicker(p) => p.query.insert(text),
            Popup::ProductForm(p) => p.focused_editor().insert(text),
            _ => {}
        }
    }

    /// Draws the popup over `area`; returns where the cursor goes.
    pub fn draw(
        &self,
        buf: &mut Buffer,
        area: Rect,
        ctx: &dyn Context,
        theme: &Theme,
    ) -> Option<(u16, u16)> {
        match self {
            Popup::Help(p) => p.draw(buf, area, ctx, theme),
            Popup::Confirm(p) => p.draw(buf, area, ctx, theme),
            Popup::Prompt(p) => p.draw(buf, area, ctx, theme),
            Popup::Choice(p) => p.draw(buf, area, ctx, theme),
            Popup::ViewerCard(p) => p.draw(buf, area, ctx, theme),
            Popup::PollForm(p) => game_forms::draw_poll_form(buf, area, p, theme),
            Popup::InstantWinForm(p) => game_forms::draw_instant_win_form(buf, area, p, theme),
            Popup::RedrawForm(p) => game_forms::draw_redraw_form(buf, area, p, theme),
            Popup::RectifyForm(p) => p.draw(buf, area, ctx, theme),
            Popup::Games(p) => p.draw(buf, area, ctx, theme),
            Popup::Log(p) => p.draw(buf, area, ctx, theme),
            Popup::ExportResult(p) => p.draw(buf, area, ctx, theme),
            Popup::Requests(p) => p.draw(buf, area, ctx, ctx.now(), theme),
            Popup::Rules(p) => p.draw(buf, area, ctx, theme),
            Popup::ShieldConfirm(p) => {
                p.draw(buf, area, ctx, theme);
                None
            }
            Popup::ShieldReview(p) => {
                p.draw(buf, area, ctx, theme);
                None
            }
            Popup::Lives(p) => p.draw(buf, area, ctx, theme),
            Popup::Report(p) => p.draw(buf, area, ctx, theme),
            Popup::CannedPicker(p) => p.draw(buf, area, ctx, theme),
            Popup::Products(p) => p.draw(buf, area, ctx, theme),
            Popup::ProductForm(p) => p.draw(buf, area, theme),
            Popup::HistorySearch(p) => p.draw(buf, area, ctx, theme),
            Popup::Flag(p) => p.draw(buf, area, ctx, theme),
            Popup::SmsSegments(p) => p.draw(buf, area, ctx, theme),
        }
    }
}

/// The scrolling shared by the read-only popups (help, games list): the
/// move keys scroll, Esc, quit or the key that opened it closes.
fn scroll_key(scroll: &mut u16, key: &KeyEvent, keymap: &Keymap, opener: Action) -> Outcome {
    if keymap.popup_action_for(key) == Some(super::keymap::PopupAction::Close) {
        return Outcome::Close;
    }
    match keymap.action_for(key) {
        Some(a) if a == opener || a == Action::Quit => Outcome::Close,
        Some(Action::MoveDown) => {
            *scroll = scroll.saturating_add(1);
            Outcome::Stay
        }
        Some(Action::MoveUp) => {
            *scroll = scroll.saturating_sub(1);
            Outcome::Stay
        }
        _ => Outcome::Stay,
    }
}

/// A ban and a redaction open at their confirmation with a preset reason,
/// so either is two keys from a selected message (`b` `y`, `r` `y`); the
/// edit key goes back to choosing or typing the reason, and that popup
/// comes back to the confirmation.
fn edit_reason(what: &Target, ctx: &dyn Context) -> Option<Outcome> {
    let popup = match what {
        Target::Ban {
            viewer_id, name, ..
        } => {
            let ban = sanction::Sanction::Ban {
                viewer_id: viewer_id.clone(),
                name: name.clone(),
            };
            Popup::Choice(Choice::reason(ban, ctx.sanction_reasons()))
        }
        Target::Redact { message_id, reason } => Popup::Prompt(Prompt::new(
            PromptKind::RedactReason {
                message_id: *message_id,
            },
            reason,
        )),
        _ => return None,
    };
    Some(Outcome::Open(popup))
}
