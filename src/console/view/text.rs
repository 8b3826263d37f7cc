//! Text made safe for a cell, and the small formats every pane and popup
//! shares (clock, age, names). A leaf: panes and popups both use it.

use std::borrow::Cow;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Line;

use crate::console::feed::Feed;
use crate::console::theme::{StyleKey, Theme};
use crate::console::wrap;
use crate::protocol::{Actor, Author, Millis, Tombstone, Winner};

/// Chat text made safe again for the terminal: sanitised (defence in
/// depth), then emoji sequences reduced to widths every terminal agrees on.
pub(crate) fn clean(text: &str) -> Cow<'_, str> {
    match crate::privacy::sanitize(text) {
        Cow::Borrowed(b) => wrap::terminal_safe(b),
        Cow::Owned(o) => Cow::Owned(wrap::terminal_safe(&o).into_owned()),
    }
}

/// A name made safe and short.
pub(crate) fn clean_name(name: &str) -> String {
    const MAX_GRAPHEMES: usize = 40;
    // Short printable ASCII with single inner spaces is what the sanitiser
    // returns unchanged (one grapheme per byte, nothing to strip or fold);
    // skipping its grapheme pass matters because names are drawn on every
    // visible row of every frame.
    if name.len() <= MAX_GRAPHEMES
        && name.bytes().all(|b| (0x20..0x7F).contains(&b))
        && !name.starts_with(' ')
        && !name.ends_with(' ')
        && !name.contains("  ")
    {
        return name.to_string();
    }
    let name = crate::privacy::sanitize_name(name, MAX_GRAPHEMES);
    wrap::terminal_safe(&name).into_owned()
}

/// `HH:MM`, UTC: the console shows the hub's clock, not the operator's zone.
pub(crate) fn clock(at: Millis) -> String {
    let minutes = at.div_euclid(60_000);
    let day_minutes = minutes.rem_euclid(24 * 60);
    format!("{:02}:{:02}", day_minutes / 60, day_minutes % 60)
}

/// `50,000`: a count with thousands separated, as the position shows it.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// " · 12 new" after a pane's title when `unread` lines arrived while it
/// was not focused; empty otherwise.
pub(crate) fn unread_suffix(unread: u64) -> String {
    match unread {
        0 => String::new(),
        n => format!("· {} new ", thousands(n)),
    }
}

/// `45s`, `12m`, `3h`.
pub(crate) fn age(now: Millis, at: Millis) -> String {
    let secs = ((now - at).max(0)) / 1000;
    if secs < 60 {
        format!("{secs}s")
    } else if secs < 3600 {
        format!("{}m", secs / 60)
    } else {
        format!("{}h", secs / 3600)
    }
}

/// The name an author is shown by: first name, plus the pseudonym when two
/// viewers share the first name.
pub(crate) fn author_label(feed: &Feed, author: &Author) -> String {
    match author {
        Author::Viewer {
            first_name,
            pseudonym,
            ..
        } if feed.name_is_shared(first_name) => {
            format!("{}~{}", clean_name(first_name), clean_name(pseudonym))
        }
        other => clean_name(other.display_name()),
    }
}

/// [`author_label`] fitted to `width` cells. The pseudonym is never cut,
/// since it is what tells two people of one first name apart: the first
/// name is shortened first ("Jean-Fr…~lune"). Only a pseudonym that alone
/// leaves no room for one letter of the name is cut itself.
pub(crate) fn author_label_fit(feed: &Feed, author: &Author, width: usize) -> String {
    match author {
        Author::Viewer {
            first_name,
            pseudonym,
            ..
        } if feed.name_is_shared(first_name) => {
            let first = clean_name(first_name);
            let tail = format!("~{}", clean_name(pseudonym));
            let tail_w = wrap::display_width(&tail);
            if wrap::display_width(&first) + tail_w <= width {
                format!("{first}{tail}")
            } else if tail_w + 2 <= width {
                format!("{}{tail}", wrap::truncate(&first, width - tail_w))
            } else {
                wrap::truncate(&format!("{first}{tail}"), width).into_owned()
            }
        }
        other => wrap::truncate(&clean_name(other.display_name()), width).into_owned(),
    }
}

/// A winner as staff see them: `First~pseudonym`, always with the
/// pseudonym (two winners may share a first name, and staff must know
/// which viewer won). Draws stored before winners carried a pseudonym show
/// the first name alone.
pub(crate) fn winner_label(w: &Winner) -> String {
    if w.pseudonym.is_empty() {
        clean_name(&w.first_name)
    } else {
        format!("{}~{}", clean_name(&w.first_name), clean_name(&w.pseudonym))
    }
}

/// Winners' labels joined by ", ".
pub(crate) fn winner_labels(winners: &[Winner]) -> String {
    winners
        .iter()
        .map(winner_label)
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn author_style(author: &Author, theme: &Theme) -> Style {
    match author {
        Author::Viewer { viewer_id, .. } => theme.name_color(&viewer_id.0),
        Author::Staff { .. } => theme.style(StyleKey::FeedStaffName),
    }
}

pub(crate) fn actor_label(actor: &Actor) -> String {
    match &actor.name {
        Some(name) => format!("{} ({})", clean_name(name), actor.role),
        None => actor.role.to_string(),
    }
}

/// Writes spans from `x`, clipped at the area's right edge.
pub(crate) fn put_line(buf: &mut Buffer, area: Rect, y: u16, line: &Line<'_>) {
    if y < area.bottom() && area.width > 0 {
        buf.set_line(area.x, y, line, area.width);
    }
}

/// A rectangle of `width`×`height` centred in `area`, clipped to it.
pub(crate) fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// "removed at the viewer's request · support · 12:03"
pub(crate) fn tombstone_text(t: &Tombstone) -> String {
    let reason = clean(t.reason.trim());
    let reason = if reason.is_empty() {
        "removed".to_string()
    } else if ["at ", "for ", "by ", "on "]
        .iter()
        .any(|p| reason.starts_with(p))
    {
        format!("removed {reason}")
    } else {
        format!("removed: {reason}")
    };
    format!(
        "{reason} · {} · {}",
        actor_label(&t.by),
        clock(t.redacted_at)
    )
}
