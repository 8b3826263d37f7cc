//! The products popup (`w`): the live's products, ▶ on the one showing.
//! Enter puts the selected one on the viewers' screen (`now_showing`), or
//! takes it off when it is the one showing; `a` opens the form that adds
//! one (`product_add`: name, price, link), checked as the hub checks it
//! ([`crate::catalogue::product`]). The products come from the console's
//! state ([`Context::showcase`]), so the list follows the hub's events
//! while it is open.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::game_forms::{error_line, field_line, label};
use super::popup_box::{draw_box, draw_box_with_cursor, keys_line, popup_width, wide_width};
use super::{Context, Hints, Outcome, Popup};
use crate::console::input::{Edit, LineEditor};
use crate::console::keymap::{Action, PopupAction};
use crate::console::permissions;
use crate::console::theme::{StyleKey, Theme};
use crate::console::view::text::clean_name;
use crate::console::wrap::{display_width, truncate};
use crate::protocol::Command;

/// The list; the selection is a row of [`Context::showcase`]'s products.
#[derive(Debug, Clone, Default)]
pub struct ProductsView {
    pub selected: usize,
}

impl ProductsView {
    pub fn on_key(&mut self, key: &KeyEvent, ctx: &dyn Context) -> Outcome {
        let showcase = ctx.showcase();
        let keymap = ctx.keymap();
        if key.code == KeyCode::Char('a')
            && key.modifiers.difference(KeyModifiers::SHIFT).is_empty()
        {
            return Outcome::Open(Popup::ProductForm(ProductForm::default()));
        }
        match keymap.popup_action_for(key) {
            Some(PopupAction::Close) => return Outcome::Close,
            Some(PopupAction::Confirm) if key.code == KeyCode::Enter => {
                let Some(p) = showcase.products.get(self.selected) else {
                    return Outcome::Refuse("no product yet: a adds one".into());
                };
                let showing = showcase.now_showing.as_ref().is_some_and(|n| n.id == p.id);
                let name = clean_name(&p.name);
                return if showing {
                    Outcome::Send {
                        command: Command::NowShowing { product_id: None },
                        summary: format!("take {name} off the screen"),
                    }
                } else {
                    Outcome::Send {
                        command: Command::NowShowing {
                            product_id: Some(p.id),
                        },
                        summary: format!("show {name}"),
                    }
                };
            }
            _ => {}
        }
        let last = showcase.products.len().saturating_sub(1);
        match keymap.action_for(key) {
            Some(Action::MoveDown) => self.selected = (self.selected + 1).min(last),
            Some(Action::MoveUp) => self.selected = self.selected.saturating_sub(1),
            Some(Action::Products) => return Outcome::Close,
            _ => {}
        }
        Outcome::Stay
    }

    fn hints(ctx: &dyn Context) -> Hints {
        let keymap = ctx.keymap();
        let mut keys = Hints::new();
        if let (Some(down), Some(up)) = (keymap.hint(Action::MoveDown), keymap.hint(Action::MoveUp))
        {
            keys.push((format!("{down}/{up}"), "select"));
        }
        keys.push(("Enter".into(), "show / take off"));
        keys.push(("a".into(), "add"));
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
        let inner = usize::from(width.saturating_sub(4));
        let showcase = ctx.showcase();
        let label_style = theme.style(StyleKey::PopupLabel);
        let text = theme.style(StyleKey::PopupText);
        let mut lines: Vec<Line<'static>> = Vec::new();
        let showing = showcase.now_showing.as_ref();
        lines.push(Line::styled(
            match showing {
                Some(p) => format!(
                    "On the viewers' screen: {} · {}",
                    clean_name(&p.name),
                    clean_name(&p.price)
                ),
                None => "Nothing on the viewers' screen".to_owned(),
            },
            label_style,
        ));
        lines.push(Line::default());
        if showcase.products.is_empty() {
            lines.push(Line::styled("no products in this live yet", label_style));
        }
        let rows = usize::from(area.height.saturating_sub(8)).max(1);
        let first = (self.selected + 1).saturating_sub(rows);
        for (i, p) in showcase.products.iter().enumerate().skip(first).take(rows) {
            let on = showing.is_some_and(|n| n.id == p.id);
            let marker = if on { "▶" } else { " " };
            let head = format!(
                "{marker} {:<28} {:>12}  ",
                truncate(&clean_name(&p.name), 28),
                truncate(&clean_name(&p.price), 12)
            );
            let link = p.link.as_deref().map_or(String::new(), clean_name);
            let room = inner.saturating_sub(display_width(&head));
            let style = if i == self.selected {
                theme.style(StyleKey::FeedSelected)
            } else {
                text
            };
            lines.push(Line::from(vec![
                Span::styled(head, style),
                Span::styled(truncate(&link, room).into_owned(), label_style.patch(style)),
            ]));
        }
        lines.push(Line::default());
        lines.push(keys_line(&Self::hints(ctx), theme));
        draw_box(buf, area, " Products ", &lines, width, theme);
        None
    }
}

/// The form that adds a product: name, price, link (optional).
#[derive(Debug, Clone, Default)]
pub struct ProductForm {
    pub fields: [LineEditor; 3],
    /// 0 name, 1 price, 2 link.
    pub focus: usize,
    pub error: Option<String>,
}

impl ProductForm {
    pub fn focused_editor(&mut self) -> &mut LineEditor {
        &mut self.fields[self.focus.min(2)]
    }

    /// The `product_add` command, or what the hub would refuse.
    pub fn command(&self) -> Result<Command, String> {
        let [name, price, link] = &self.fields;
        let link = Some(link.text().trim()).filter(|l| !l.is_empty());
        let p = crate::catalogue::product(0, name.text(), price.text(), link)?;
        Ok(Command::ProductAdd {
            name: p.name,
            price: p.price,
            link: p.link,
        })
    }

    pub fn on_key(&mut self, key: &KeyEvent, ctx: &dyn Context) -> Outcome {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        match key.code {
            KeyCode::Tab | KeyCode::Down if !ctrl => {
                self.focus = (self.focus + 1) % 3;
                return Outcome::Stay;
            }
            KeyCode::BackTab | KeyCode::Up if !ctrl => {
                self.focus = (self.focus + 2) % 3;
                return Outcome::Stay;
            }
            _ => {}
        }
        match self.focused_editor().handle_key(key) {
            // Back to the list, which the form was opened from.
            Edit::Cancel => Outcome::Open(Popup::Products(ProductsView::default())),
            Edit::Submit => match self.command() {
                Ok(command) => {
                    if !permissions::allows(ctx.role(), Action::Products) {
                        return Outcome::Abort(format!("a {} may not add products", ctx.role()));
                    }
                    let name = match &command {
                        Command::ProductAdd { name, .. } => clean_name(name),
                        _ => String::new(),
                    };
                    Outcome::Send {
                        command,
                        summary: format!("add product {name}"),
                    }
                }
                Err(e) => {
                    self.error = Some(e);
                    Outcome::Stay
                }
            },
            _ => Outcome::Stay,
        }
    }

    pub fn draw(&self, buf: &mut Buffer, area: Rect, theme: &Theme) -> Option<(u16, u16)> {
        let width = popup_width(area);
        let w = usize::from(width.saturating_sub(4));
        let mut lines: Vec<Line<'static>> = Vec::new();
        let mut cursor = None;
        for (i, what) in [
            "Name",
            "Price (as viewers read it: 49 €)",
            "Link (http or https, optional)",
        ]
        .into_iter()
        .enumerate()
        {
            lines.push(label(what, self.focus == i, theme));
            let (line, col) = field_line("", &self.fields[i], w, theme);
            if self.focus == i {
                cursor = Some((lines.len(), col));
            }
            lines.push(line);
        }
        lines.extend(error_line(self.error.as_deref(), w, theme));
        let hints: Hints = vec![
            ("Tab".into(), "next field"),
            ("Enter".into(), "add"),
            ("Esc".into(), "back"),
        ];
        lines.push(keys_line(&hints, theme));
        draw_box_with_cursor(buf, area, " Add a product ", &lines, width, cursor, theme)
    }
}
