//! The console's side of products and canned answers (issue 12): what the
//! hub said the live has (snapshot, then `product_added`, `now_showing`,
//! `canned_added`), the values the merge tags take now, and the keys that
//! open the canned-answer picker (`ctrl-t` in the reply line), save the
//! reply line as a canned answer (`ctrl-s`) and open the products popup
//! (`w`). The popups are [`crate::console::popups::canned_picker`] and
//! [`crate::console::popups::products`].

use super::{Console, Effect};
use crate::console::keymap::Action;
use crate::console::popups::canned_picker::CannedPicker;
use crate::console::popups::products::ProductsView;
use crate::console::popups::{Popup, Prompt, PromptKind};
use crate::console::view::text::clean_name;
use crate::merge_tags::Values;
use crate::protocol::{Author, Event};

/// `product_added`, `now_showing`, `canned_added`. They name no staff
/// member (the audit log does), so they leave the Staff activity pane
/// alone: the card, the popups and the picker show them.
pub(super) fn on_event(state: &mut Console, event: Event) {
    let showcase = &mut state.showcase;
    match event {
        Event::ProductAdded { product } => {
            match showcase.products.iter_mut().find(|p| p.id == product.id) {
                Some(p) => *p = product,
                None => showcase.products.push(product),
            }
        }
        Event::NowShowing { product } => {
            if let Some(p) = &product
                && showcase.product(p.id).is_none()
            {
                showcase.products.push(p.clone());
            }
            showcase.now_showing = product;
        }
        Event::CannedAdded { canned } if !showcase.canned.contains(&canned) => {
            showcase.canned.push(canned);
        }
        _ => {}
    }
}

/// What the merge tags stand for now, for the reply being typed.
pub fn tag_values(state: &Console) -> Values {
    let first_name =
        state
            .compose
            .as_ref()
            .map(|c| match state.find_message(c.target).map(|m| m.author) {
                Some(Author::Viewer { first_name, .. }) => first_name,
                _ => c.first_name.clone(),
            });
    let showing = state.showcase.now_showing.as_ref();
    let some = |s: &str| Some(clean_name(s)).filter(|s| !s.trim().is_empty());
    Values {
        first_name: first_name.as_deref().and_then(some),
        product: showing.and_then(|p| some(&p.name)),
        price: showing.and_then(|p| some(&p.price)),
        // An untitled live is called by its name.
        live: state
            .live_info
            .as_ref()
            .and_then(|l| some(&l.title))
            .or_else(|| some(&state.session.live)),
        host: some(&state.session.name),
    }
}

/// The showcase's keys outside the reply line: `w` opens the products
/// popup; `ctrl-t` opens the reply line on the selection, then the picker;
/// `ctrl-s` says where it works.
pub(super) fn on_action(state: &mut Console, action: Action) -> Vec<Effect> {
    match action {
        Action::Products => open_products(state),
        Action::Canned => {
            let mut effects = super::on_message_action(state, Action::Reply);
            if state.compose.is_some() {
                effects.extend(open_picker(state));
            }
            effects
        }
        _ => {
            state.note(
                "ctrl-s works in the reply line: it saves what you typed as a canned answer",
                false,
            );
            Vec::new()
        }
    }
}

/// `ctrl-t` in the reply line: the picker over the canned answers.
pub(super) fn open_picker(state: &mut Console) -> Vec<Effect> {
    if state.showcase.canned.is_empty() {
        state.note(
            "no canned answers yet: the brand file's [[canned]], or ctrl-s saves the reply line",
            true,
        );
        return Vec::new();
    }
    let picker = CannedPicker::new(state.showcase.canned.clone(), tag_values(state));
    state.popup = Some(Popup::CannedPicker(picker));
    Vec::new()
}

/// `ctrl-s` in the reply line: asks a title, then saves the line's text
/// (its tags unexpanded, so it fits the next viewer too).
pub(super) fn open_save(state: &mut Console) -> Vec<Effect> {
    let text = state
        .compose
        .as_ref()
        .map(|c| c.editor.text().trim().to_owned())
        .unwrap_or_default();
    if text.is_empty() {
        state.note(
            "type the answer first: ctrl-s saves the reply line as a canned answer",
            true,
        );
        return Vec::new();
    }
    if let Err(why) = crate::catalogue::canned("title", &text) {
        state.note(format!("cannot save this reply: {why}"), true);
        return Vec::new();
    }
    state.popup = Some(Popup::Prompt(Prompt::new(
        PromptKind::CannedTitle { text },
        "",
    )));
    Vec::new()
}

/// `w` in the panes: the products popup.
fn open_products(state: &mut Console) -> Vec<Effect> {
    let selected = state
        .showcase
        .now_showing
        .as_ref()
        .and_then(|n| state.showcase.products.iter().position(|p| p.id == n.id))
        .unwrap_or(0);
    state.popup = Some(Popup::Products(ProductsView { selected }));
    Vec::new()
}
