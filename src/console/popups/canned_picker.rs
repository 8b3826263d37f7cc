//! The canned-answer picker (`ctrl-t` in the reply line): type to filter
//! (fuzzy, over title and text), ↑/↓ to choose, Enter puts the answer in
//! the reply line with its merge tags expanded ([`crate::merge_tags`]),
//! Esc closes. An answer whose tag has no value now (nothing showing, an
//! unknown tag) shows the error in the list and under it, and Enter
//! refuses it: the reply line never receives a raw `{…}`.

use crossterm::event::KeyEvent;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::popup_box::{draw_box_with_cursor, keys_line, wide_width, wrapped};
use super::{Context, Hints, Outcome};
use crate::console::input::{Edit, LineEditor};
use crate::console::theme::{StyleKey, Theme};
use crate::console::view::text::clean;
use crate::console::wrap::{display_width, truncate};
use crate::merge_tags::{self, TagError, Values};
use crate::protocol::CannedAnswer;

#[derive(Debug, Clone)]
pub struct CannedPicker {
    pub query: LineEditor,
    /// Index into [`CannedPicker::matches`].
    pub selected: usize,
    answers: Vec<CannedAnswer>,
    values: Values,
}

/// How well `query` matches `hay`, lower is better: every character of the
/// query in order (case- and accent-insensitive), scored by the gaps between them;
/// `None` when some character is missing.
pub fn fuzzy_score(query: &str, hay: &str) -> Option<usize> {
    // Accents and case aside, as detection folds them: "livraison" finds
    // "Livraison", "delai" finds "Délai".
    let fold = |s: &str| crate::privacy::normalize::fold(s).text.to_lowercase();
    let (query, hay) = (fold(query), fold(hay));
    let mut hay = hay.chars();
    let mut gaps = 0;
    let mut started = false;
    for q in query.chars() {
        if q.is_whitespace() {
            continue;
        }
        let mut skipped = 0;
        loop {
            let c = hay.next()?;
            if c == q {
                break;
            }
            skipped += 1;
        }
        if started {
            gaps += skipped;
        }
        started = true;
    }
    Some(gaps)
}

impl CannedPicker {
    pub fn new(answers: Vec<CannedAnswer>, values: Values) -> Self {
        CannedPicker {
            query: LineEditor::default(),
            selected: 0,
            answers,
            values,
        }
    }

    /// The answers the query matches, best first (a title match before a
    /// text match, then fewer gaps, then the brand's order).
    pub fn matches(&self) -> Vec<&CannedAnswer> {
        let query = self.query.text();
        let mut scored: Vec<(usize, usize, &CannedAnswer)> = self
            .answers
            .iter()
            .enumerate()
            .filter_map(|(i, a)| {
                let score = fuzzy_score(query, &a.title)
                    .or_else(|| fuzzy_score(query, &a.text).map(|s| s + 10_000))?;
                Some((score, i, a))
            })
            .collect();
        scored.sort_by_key(|(score, i, _)| (*score, *i));
        scored.into_iter().map(|(_, _, a)| a).collect()
    }

    fn expanded(&self, a: &CannedAnswer) -> Result<String, Vec<TagError>> {
        merge_tags::expand(&a.text, &self.values)
    }

    pub fn on_key(&mut self, key: &KeyEvent, _ctx: &dyn Context) -> Outcome {
        match self.query.handle_key(key) {
            Edit::Cancel => Outcome::Close,
            Edit::HistoryPrev => {
                self.selected = self.selected.saturating_sub(1);
                Outcome::Stay
            }
            Edit::HistoryNext => {
                let last = self.matches().len().saturating_sub(1);
                self.selected = (self.selected + 1).min(last);
                Outcome::Stay
            }
            Edit::Submit => {
                let Some(answer) = self.matches().get(self.selected).copied() else {
                    return Outcome::Refuse("no canned answer matches".into());
                };
                match self.expanded(answer) {
                    Ok(text) => Outcome::InsertReply(text),
                    Err(errors) => Outcome::Refuse(format!(
                        "{} can't be used now: {}",
                        clean(&answer.title),
                        joined(&errors)
                    )),
                }
            }
            Edit::Changed => {
                self.selected = 0;
                Outcome::Stay
            }
            Edit::Ignored => Outcome::Stay,
        }
    }

    fn hints() -> Hints {
        vec![
            ("type".into(), "filter"),
            ("↑/↓".into(), "choose"),
            ("Enter".into(), "insert"),
            ("Esc".into(), "close"),
        ]
    }

    pub fn draw(
        &self,
        buf: &mut Buffer,
        area: Rect,
        _ctx: &dyn Context,
        theme: &Theme,
    ) -> Option<(u16, u16)> {
        let width = wide_width(area);
        let inner = usize::from(width.saturating_sub(4));
        let label = theme.style(StyleKey::PopupLabel);
        let text_style = theme.style(StyleKey::PopupText);
        let warning = theme.style(StyleKey::PopupWarning);
        let matches = self.matches();
        let field_w = inner.saturating_sub(2);
        let query = self.query.text();
        let shown = if display_width(query) > field_w {
            truncate(query, field_w).into_owned()
        } else {
            query.to_owned()
        };
        let mut lines: Vec<Line<'static>> = vec![
            Line::from(vec![
                Span::styled("› ", theme.style(StyleKey::InputPrompt)),
                Span::styled(shown, theme.style(StyleKey::InputText)),
            ]),
            Line::styled(
                format!("{} of {} canned answers", matches.len(), self.answers.len()),
                label,
            ),
        ];
        // Room: the box's border and footer, the query, the preview.
        let rows = usize::from(area.height.saturating_sub(12)).max(3);
        let first = (self.selected + 1).saturating_sub(rows);
        for (i, a) in matches.iter().enumerate().skip(first).take(rows) {
            let title = truncate(&clean(&a.title), 24).into_owned();
            let (body, style) = match self.expanded(a) {
                Ok(t) => (clean(&t).into_owned(), text_style),
                Err(errors) => (format!("⚠ {}", joined(&errors)), warning),
            };
            let marker = if i == self.selected { "▸ " } else { "  " };
            let head = format!("{marker}{title:<24} ");
            let room = inner.saturating_sub(display_width(&head));
            let mut line = Line::from(vec![
                Span::styled(head, text_style),
                Span::styled(truncate(&body, room).into_owned(), style),
            ]);
            if i == self.selected {
                line = line.style(theme.style(StyleKey::FeedSelected));
            }
            lines.push(line);
        }
        if matches.is_empty() {
            lines.push(Line::styled("nothing matches: type less", label));
        }
        lines.push(Line::default());
        if let Some(a) = matches.get(self.selected) {
            match self.expanded(a) {
                Ok(t) => lines.extend(wrapped(&clean(&t), inner, text_style).into_iter().take(4)),
                Err(errors) => {
                    for e in errors {
                        lines.extend(wrapped(&format!("⚠ {e}"), inner, warning));
                    }
                }
            }
        }
        lines.push(Line::default());
        lines.push(keys_line(&Self::hints(), theme));
        let cursor = self.query.cursor_column().min(field_w);
        draw_box_with_cursor(
            buf,
            area,
            " Canned answers ",
            &lines,
            width,
            Some((0, u16::try_from(cursor + 2).unwrap_or(u16::MAX))),
            theme,
        )
    }
}

fn joined(errors: &[TagError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fuzzy_matches_in_order_and_prefers_tight_matches() {
        assert_eq!(fuzzy_score("", "anything"), Some(0));
        assert_eq!(fuzzy_score("livr", "Livraison"), Some(0));
        assert!(fuzzy_score("lvrs", "Livraison").is_some());
        assert!(fuzzy_score("srvl", "Livraison").is_none());
        assert!(fuzzy_score("liv", "Livraison") < fuzzy_score("liv", "la image vue"));
        assert_eq!(fuzzy_score("ÉTÉ", "été"), Some(0));
        assert_eq!(fuzzy_score("delai", "Délai de livraison"), Some(0));
        assert_eq!(fuzzy_score("été", "ETE"), Some(0));
    }

    #[test]
    fn titles_rank_before_texts() {
        let answers = vec![
            CannedAnswer {
                title: "Retours".into(),
                text: "la livraison est offerte".into(),
            },
            CannedAnswer {
                title: "Livraison".into(),
                text: "48 h".into(),
            },
        ];
        let p = CannedPicker::new(answers, Values::default());
        let p = CannedPicker {
            query: LineEditor::with_text("livr"),
            ..p
        };
        let titles: Vec<&str> = p.matches().iter().map(|a| a.title.as_str()).collect();
        assert_eq!(titles, ["Livraison", "Retours"]);
    }
}
