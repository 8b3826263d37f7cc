//! Property tests: arbitrary text never panics the wrap, never produces a
//! line wider than asked, loses no visible character, and never moves a
//! border when drawn.

mod support;

use proptest::prelude::*;
use regie::console::state::{Msg, update};
use regie::console::wrap::{display_width, wrap};
use regie::protocol::*;
use support::console::*;

/// Text mixing ASCII, spaces, controls, escapes, bidi, combining marks,
/// emoji with ZWJ, CJK and flags.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-zA-Z0-9 .,!?]{0,12}",
        Just("\u{1b}[31m".to_string()),
        Just("\u{1b}]0;title\u{7}".to_string()),
        Just("\u{202e}".to_string()),
        Just("\u{200b}".to_string()),
        Just("\u{301}\u{301}\u{301}".to_string()),
        Just("👨‍👩‍👧‍👦".to_string()),
        Just("🇫🇷".to_string()),
        Just("日本語".to_string()),
        Just("   ".to_string()),
        Just("\t\n".to_string()),
        any::<char>().prop_map(|c| c.to_string()),
        "[a-z]{20,60}",
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #[test]
    fn wrap_fits_the_width_and_keeps_every_visible_grapheme(text in hostile_text(), width in 2usize..90) {
        let clean = regie::privacy::sanitize(&text);
        let lines = wrap(&clean, width);
        prop_assert!(!lines.is_empty());
        let mut last_end = 0;
        for r in &lines {
            prop_assert!(r.start >= last_end, "lines overlap");
            prop_assert!(clean.is_char_boundary(r.start) && clean.is_char_boundary(r.end));
            let line = &clean[r.clone()];
            prop_assert!(display_width(line) <= width, "{line:?} wider than {width}");
            // What lies between lines is only whitespace.
            prop_assert!(clean[last_end..r.start].chars().all(char::is_whitespace));
            last_end = r.end;
        }
        prop_assert!(clean[last_end..].chars().all(char::is_whitespace));
    }

    #[test]
    fn drawing_arbitrary_chat_never_panics_or_moves_a_border(
        texts in prop::collection::vec(hostile_text(), 1..8),
        name in hostile_text(),
        width in 60u16..200,
        height in 16u16..60,
        scroll_up in 0usize..10,
    ) {
        let mut c = console(StaffRole::Admin);
        let recent = texts
            .iter()
            .enumerate()
            .map(|(i, t)| ChatEntry::Message(message(i as u64 + 1, NOON, viewer(&format!("v{i}"), &name, &name), t)))
            .collect();
        update(&mut c, Msg::Frame(welcome(StaffRole::Admin, &name, 9, Snapshot { recent, ..Snapshot::default() })));
        for _ in 0..scroll_up {
            update(&mut c, key('k'));
        }
        let buf = buffer(&mut c, width, height);
        let border_x = (0..width).find(|&x| buf[(x, 0)].symbol() == "┓").expect("feed corner");
        for y in 1..height - 3 {
            prop_assert!(matches!(buf[(border_x, y)].symbol(), "┃" | "┛"), "row {y}");
        }
        for cell in &buf.content {
            prop_assert!(!cell.symbol().chars().any(char::is_control));
        }
    }
}
