//! Polls and instant wins as the console sees them: the show's polls and
//! draws as the hub reports them, and the launch forms.
//!
//! The forms validate with the same functions the hub applies
//! ([`PollSpec::validated`], [`InstantWinSpec::validated`]), so a host sees
//! what is wrong before anything is sent, and what is sent is what the hub
//! will store.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::input::{Edit, LineEditor};
use crate::instant_win::InstantWinSpec;
use crate::poll::{MAX_OPTIONS, PollSpec, Tally};
use crate::protocol::{
    Command, DrawResult, DrawState, DrawView, Millis, PollState, PollView, ViewerId, Winner,
};

/// Polls and draws kept per show: a long show must not grow memory.
const MAX_KEPT: usize = 200;

/// This show's polls and instant wins, oldest first.
#[derive(Debug, Clone, Default)]
pub struct Games {
    pub polls: Vec<PollState>,
    pub draws: Vec<DrawState>,
}

impl Games {
    pub fn clear(&mut self) {
        self.polls.clear();
        self.draws.clear();
    }

    /// Takes the snapshot's polls and draws (a console that reconnects
    /// mid-poll gets the tally from here).
    pub fn load(&mut self, polls: Vec<PollState>, draws: Vec<DrawState>) {
        self.polls = polls;
        self.draws = draws;
        trim(&mut self.polls);
        trim(&mut self.draws);
    }

    pub fn poll_opened(&mut self, poll: PollView) {
        let state = PollState {
            counts: vec![0; poll.options.len()],
            voters: 0,
            closed_at: None,
            cleared_at: None,
            poll,
        };
        if let Some(existing) = self.polls.iter_mut().find(|p| p.poll.id == state.poll.id) {
            *existing = state;
        } else {
            self.polls.push(state);
            trim(&mut self.polls);
        }
    }

    /// A live tally; ignored once the poll is closed (the final counts win).
    pub fn poll_tally(&mut self, poll_id: u64, counts: Vec<u64>, voters: u64) {
        if let Some(p) = self.poll_mut(poll_id)
            && p.closed_at.is_none()
        {
            p.counts = counts;
            p.voters = voters;
        }
    }

    pub fn poll_closed(&mut self, poll_id: u64, counts: Vec<u64>, voters: u64, at: Millis) {
        if let Some(p) = self.poll_mut(poll_id) {
            p.counts = counts;
            p.voters = voters;
            p.closed_at = Some(at);
        }
    }

    pub fn draw_opened(&mut self, draw: DrawView) {
        let state = DrawState {
            draw,
            entrants: 0,
            result: None,
        };
        if let Some(existing) = self.draws.iter_mut().find(|d| d.draw.id == state.draw.id) {
            *existing = state;
        } else {
            self.draws.push(state);
            trim(&mut self.draws);
        }
    }

    pub fn draw_entries(&mut self, draw_id: u64, entrants: u64) {
        if let Some(d) = self.draw_mut(draw_id)
            && d.result.is_none()
        {
            d.entrants = entrants;
        }
    }

    pub fn drawn(&mut self, draw_id: u64, entrants: u64, result: DrawResult) {
        if let Some(d) = self.draw_mut(draw_id) {
            d.entrants = entrants;
            d.result = Some(result);
        }
    }

    /// Support corrected a viewer's names (Art. 16): the winners shown on
    /// the now-on-screen card and in past games, and a re-draw's kept and
    /// excluded, take them (`None` keeps a field).
    pub fn rename(&mut self, viewer: &ViewerId, first_name: Option<&str>, pseudonym: Option<&str>) {
        let winners = self.draws.iter_mut().flat_map(|d| {
            let result = d.result.iter_mut().flat_map(|r| r.winners.iter_mut());
            let replaced = d
                .draw
                .replaces
                .iter_mut()
                .flat_map(|r| r.kept.iter_mut().chain(r.excluded.iter_mut()));
            result.chain(replaced)
        });
        for w in winners.filter(|w| w.viewer_id == *viewer) {
            if let Some(f) = first_name {
                f.clone_into(&mut w.first_name);
            }
            if let Some(p) = pseudonym {
                p.clone_into(&mut w.pseudonym);
            }
        }
    }

    /// A finished poll taken off the screen by staff (any console).
    pub fn poll_cleared(&mut self, poll_id: u64, at: Millis) {
        if let Some(p) = self.poll_mut(poll_id) {
            p.cleared_at = Some(at);
        }
    }

    pub fn poll(&self, poll_id: u64) -> Option<&PollState> {
        self.polls.iter().find(|p| p.poll.id == poll_id)
    }

    fn poll_mut(&mut self, poll_id: u64) -> Option<&mut PollState> {
        self.polls.iter_mut().find(|p| p.poll.id == poll_id)
    }

    fn draw_mut(&mut self, draw_id: u64) -> Option<&mut DrawState> {
        self.draws.iter_mut().find(|d| d.draw.id == draw_id)
    }

    /// The poll still open, newest first.
    pub fn live_poll(&self) -> Option<&PollState> {
        self.polls.iter().rev().find(|p| p.closed_at.is_none())
    }

    /// What the now-on-screen card shows: the live poll, else the last
    /// result until staff clear it.
    pub fn shown_poll(&self) -> Option<&PollState> {
        self.live_poll()
            .or_else(|| self.polls.last().filter(|p| p.cleared_at.is_none()))
    }

    /// The instant win still taking entries (or waiting for its draw).
    pub fn live_draw(&self) -> Option<&DrawState> {
        self.draws.iter().rev().find(|d| d.result.is_none())
    }

    pub fn shown_draw(&self) -> Option<&DrawState> {
        self.live_draw().or_else(|| self.draws.last())
    }

    /// The newest re-draw of `draw_id`, if it was re-drawn.
    pub fn redrawn_as(&self, draw_id: u64) -> Option<u64> {
        self.draws
            .iter()
            .rev()
            .find(|d| d.draw.redraw_of == Some(draw_id))
            .map(|d| d.draw.id)
    }

    /// The most recent draw with winners: what a re-draw starts from.
    pub fn last_drawn(&self) -> Option<&DrawState> {
        self.draws.iter().rev().find(|d| d.result.is_some())
    }
}

fn trim<T>(list: &mut Vec<T>) {
    if list.len() > MAX_KEPT {
        list.drain(..list.len() - MAX_KEPT);
    }
}

/// What a key did to a form.
#[derive(Debug, Clone, PartialEq)]
pub enum FormOutcome {
    /// Still editing.
    Editing,
    Cancel,
    /// The form is valid: this is what to do next.
    Done(Command),
}

/// What a form's text field did, for the form: Esc cancels, Enter submits
/// (`submit` decides what that gives), any other key keeps editing. One
/// place, so every game form answers these keys the same way.
fn edit_outcome(edit: Edit, submit: impl FnOnce() -> FormOutcome) -> FormOutcome {
    match edit {
        Edit::Cancel => FormOutcome::Cancel,
        Edit::Submit => submit(),
        _ => FormOutcome::Editing,
    }
}

/// Submitting a launch form: its command when valid, else the form stays
/// open with what is wrong shown under it.
fn launch_outcome(command: Result<Command, String>, error: &mut Option<String>) -> FormOutcome {
    match command {
        Ok(c) => FormOutcome::Done(c),
        Err(e) => {
            *error = Some(e);
            FormOutcome::Editing
        }
    }
}

/// Moves between fields: Tab/↓ forward, Shift-Tab/↑ back.
fn field_step(key: &KeyEvent) -> Option<i64> {
    match key.code {
        KeyCode::Tab if key.modifiers.contains(KeyModifiers::SHIFT) => Some(-1),
        KeyCode::Tab | KeyCode::Down => Some(1),
        KeyCode::BackTab | KeyCode::Up => Some(-1),
        _ => None,
    }
}

/// `at` moved `delta` places round a ring of `len` places (at least one).
fn wrap_step(at: usize, delta: i64, len: usize) -> usize {
    // Field and winner counts: far below `i64::MAX`.
    let at = i64::try_from(at).unwrap_or(i64::MAX);
    let len = i64::try_from(len.max(1)).unwrap_or(i64::MAX);
    // `rem_euclid` is within `0..len`, so it fits back.
    usize::try_from((at + delta).rem_euclid(len)).unwrap_or(0)
}

fn ctrl(key: &KeyEvent, c: char) -> bool {
    key.code == KeyCode::Char(c) && key.modifiers.contains(KeyModifiers::CONTROL)
}

/// Seconds typed as `90`, `90s`, `2m` or `1h30m`. Empty is `None`.
fn parse_secs(text: &str) -> Result<Option<u32>, ()> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let secs = match text.parse::<u64>() {
        Ok(n) => n,
        Err(_) => humantime::parse_duration(text).map_err(|_| ())?.as_secs(),
    };
    // Out of range is the validator's error, with its limits in the message.
    Ok(Some(u32::try_from(secs).unwrap_or(u32::MAX)))
}

/// The poll launch form: question, 2 to 6 option lines, a duration.
#[derive(Debug, Clone)]
pub struct PollForm {
    pub question: LineEditor,
    pub options: Vec<LineEditor>,
    /// Seconds (`60`, `2m`); empty means until closed.
    pub duration: LineEditor,
    /// 0 the question, 1..=n the options, n+1 the duration.
    pub focus: usize,
    pub error: Option<String>,
}

impl Default for PollForm {
    fn default() -> Self {
        PollForm {
            question: LineEditor::default(),
            options: vec![LineEditor::default(), LineEditor::default()],
            duration: LineEditor::with_text("60"),
            focus: 0,
            error: None,
        }
    }
}

impl PollForm {
    fn fields(&self) -> usize {
        self.options.len() + 2
    }

    /// The focused option's index, when an option line has the focus.
    pub fn focused_option(&self) -> Option<usize> {
        (1..=self.options.len())
            .contains(&self.focus)
            .then(|| self.focus - 1)
    }

    pub fn focused_editor(&mut self) -> &mut LineEditor {
        match self.focus {
            0 => &mut self.question,
            f if f <= self.options.len() => &mut self.options[f - 1],
            _ => &mut self.duration,
        }
    }

    /// Keys: Tab/Shift-Tab (or ↓/↑) between fields, ctrl-n adds an option
    /// line, ctrl-d removes the focused one, Enter launches, Esc cancels.
    pub fn handle_key(&mut self, key: &KeyEvent) -> FormOutcome {
        if let Some(step) = field_step(key) {
            self.focus = wrap_step(self.focus, step, self.fields());
            return FormOutcome::Editing;
        }
        if ctrl(key, 'n') {
            if self.options.len() >= MAX_OPTIONS {
                self.error = Some(format!("a poll has at most {MAX_OPTIONS} options"));
            } else {
                let at = self.focused_option().map_or(self.options.len(), |i| i + 1);
                self.options.insert(at, LineEditor::default());
                self.focus = at + 1;
            }
            return FormOutcome::Editing;
        }
        if ctrl(key, 'd') {
            if let Some(i) = self.focused_option()
                && self.options.len() > 1
            {
                self.options.remove(i);
                self.focus = self.focus.min(self.options.len());
            }
            return FormOutcome::Editing;
        }
        let edit = self.focused_editor().handle_key(key);
        edit_outcome(edit, || launch_outcome(self.command(), &mut self.error))
    }

    /// The `poll_open` command, or what is wrong. Empty option lines are
    /// left out, so a spare line does not block the launch.
    pub fn command(&self) -> Result<Command, String> {
        let duration_secs = parse_secs(self.duration.text())
            .map_err(|()| "duration: seconds (60, 2m), or empty for until closed".to_string())?;
        let spec = PollSpec {
            question: self.question.text().to_string(),
            options: self
                .options
                .iter()
                .map(|o| o.text().trim().to_string())
                .filter(|o| !o.is_empty())
                .collect(),
            duration_secs,
        }
        .validated()
        .map_err(|e| e.to_string())?;
        Ok(Command::PollOpen {
            question: spec.question,
            options: spec.options,
            duration_secs: spec.duration_secs,
        })
    }
}

/// The instant-win launch form.
#[derive(Debug, Clone)]
pub struct InstantWinForm {
    pub prize: LineEditor,
    pub winners: LineEditor,
    pub entry: LineEditor,
    pub rules: LineEditor,
    /// 0 prize, 1 winners, 2 entry window, 3 rules.
    pub focus: usize,
    pub error: Option<String>,
}

impl Default for InstantWinForm {
    fn default() -> Self {
        InstantWinForm {
            prize: LineEditor::default(),
            winners: LineEditor::with_text("1"),
            entry: LineEditor::with_text("120"),
            rules: LineEditor::default(),
            focus: 0,
            error: None,
        }
    }
}

impl InstantWinForm {
    pub const FIELDS: usize = 4;

    pub fn focused_editor(&mut self) -> &mut LineEditor {
        match self.focus {
            0 => &mut self.prize,
            1 => &mut self.winners,
            2 => &mut self.entry,
            _ => &mut self.rules,
        }
    }

    pub fn handle_key(&mut self, key: &KeyEvent) -> FormOutcome {
        if let Some(step) = field_step(key) {
            self.focus = wrap_step(self.focus, step, Self::FIELDS);
            return FormOutcome::Editing;
        }
        let edit = self.focused_editor().handle_key(key);
        edit_outcome(edit, || launch_outcome(self.command(), &mut self.error))
    }

    /// The `instant_win_open` command, or what is wrong. The rules sent
    /// already begin with "No purchase necessary." (the validator adds it).
    pub fn command(&self) -> Result<Command, String> {
        let winners = self
            .winners
            .text()
            .trim()
            .parse::<u32>()
            .map_err(|_| "winners: a whole number, e.g. 3".to_string())?;
        let Ok(Some(entry_secs)) = parse_secs(self.entry.text()) else {
            return Err("entry window: seconds, e.g. 120 or 2m".to_string());
        };
        let spec = InstantWinSpec {
            prize: self.prize.text().to_string(),
            winners,
            entry_secs,
            rules: self.rules.text().trim().to_string(),
        }
        .validated()
        .map_err(|e| e.to_string())?;
        Ok(Command::InstantWinOpen {
            prize: spec.prize,
            winners: spec.winners,
            entry_secs: spec.entry_secs,
            rules: spec.rules,
        })
    }
}

/// The re-draw form: which winners to exclude, and why.
#[derive(Debug, Clone)]
pub struct RedrawForm {
    pub draw_id: u64,
    pub winners: Vec<Winner>,
    pub excluded: Vec<bool>,
    pub selected: usize,
    pub reason: LineEditor,
    /// The reason line has the focus (else the winner list).
    pub on_reason: bool,
    pub error: Option<String>,
}

impl RedrawForm {
    pub fn new(draw_id: u64, winners: Vec<Winner>) -> Self {
        RedrawForm {
            draw_id,
            excluded: vec![false; winners.len()],
            winners,
            selected: 0,
            reason: LineEditor::default(),
            on_reason: false,
            error: None,
        }
    }

    pub fn excluded(&self) -> Vec<ViewerId> {
        self.winners
            .iter()
            .zip(&self.excluded)
            .filter(|(_, x)| **x)
            .map(|(w, _)| w.viewer_id.clone())
            .collect()
    }

    /// Keys: Tab between the list and the reason; in the list ↑/↓ (j/k)
    /// select and space (or x) toggles; Enter goes on to the confirmation.
    pub fn handle_key(&mut self, key: &KeyEvent) -> FormOutcome {
        if matches!(key.code, KeyCode::Tab | KeyCode::BackTab) {
            self.on_reason = !self.on_reason;
            return FormOutcome::Editing;
        }
        if !self.on_reason {
            let n = self.winners.len();
            match key.code {
                KeyCode::Down | KeyCode::Char('j') => {
                    self.selected = wrap_step(self.selected, 1, n);
                }
                KeyCode::Up | KeyCode::Char('k') => self.selected = wrap_step(self.selected, -1, n),
                KeyCode::Char(' ' | 'x') => {
                    if let Some(x) = self.excluded.get_mut(self.selected) {
                        *x = !*x;
                    }
                }
                KeyCode::Esc => return FormOutcome::Cancel,
                KeyCode::Enter => return self.submit(),
                _ => {}
            }
            return FormOutcome::Editing;
        }
        let edit = self.reason.handle_key(key);
        edit_outcome(edit, || self.submit())
    }

    fn submit(&mut self) -> FormOutcome {
        let exclude = self.excluded();
        let reason = self.reason.text().trim().to_string();
        let error = if exclude.is_empty() {
            "choose the winner(s) to exclude (space toggles)"
        } else if reason.is_empty() {
            "a re-draw needs a reason (it is recorded)"
        } else {
            return FormOutcome::Done(Command::Redraw {
                draw_id: self.draw_id,
                exclude,
                reason,
            });
        };
        self.error = Some(error.to_string());
        if !exclude.is_empty() {
            self.on_reason = true;
        }
        FormOutcome::Editing
    }
}

/// Percentages and participation, computed the one way the crate does.
pub fn tally(p: &PollState) -> Tally {
    Tally {
        poll_id: p.poll.id,
        counts: p.counts.clone(),
        voters: p.voters,
        audience_at_launch: p.poll.audience_at_launch,
    }
}

/// A winner's `First~pseudonym` as typed (the view sanitises it), for
/// messages the model writes: activity lines, the re-draw confirmation.
pub fn winner_name(w: &Winner) -> String {
    if w.pseudonym.is_empty() {
        w.first_name.clone()
    } else {
        format!("{}~{}", w.first_name, w.pseudonym)
    }
}

/// The first 12 hex digits of a hash or seed, for display.
pub fn short_hex(hex: &str) -> &str {
    let end = hex.char_indices().nth(12).map_or(hex.len(), |(i, _)| i);
    &hex[..end]
}

/// `m:ss` until `until` (never negative).
pub fn countdown(now: Millis, until: Millis) -> String {
    let secs = ((until - now).max(0) + 999) / 1000;
    format!("{}:{:02}", secs / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_as_seconds() {
        assert_eq!(parse_secs(""), Ok(None));
        assert_eq!(parse_secs("90"), Ok(Some(90)));
        assert_eq!(parse_secs("2m"), Ok(Some(120)));
        assert_eq!(parse_secs("soon"), Err(()));
        assert_eq!(parse_secs("99999999999"), Ok(Some(u32::MAX)));
    }

    /// Events stored before winners carried a pseudonym, and before
    /// re-draws said what they replaced, still load; such a winner is
    /// named by first name alone.
    #[test]
    fn old_stored_draws_load_and_name_winners_by_first_name() {
        let drawn: crate::protocol::Event = serde_json::from_str(
            r#"{"type":"instant_win_drawn","draw_id":2,"seed":"00","entrants":3,"entrants_hash":"00","winners":[{"viewer_id":"v-1","first_name":"Julie"}]}"#,
        )
        .expect("an old instant_win_drawn");
        let crate::protocol::Event::InstantWinDrawn { winners, .. } = drawn else {
            panic!("{drawn:?}")
        };
        assert_eq!(winners[0].pseudonym, "");
        assert_eq!(winner_name(&winners[0]), "Julie");
        let opened: DrawView = serde_json::from_str(
            r#"{"id":3,"prize":"p","winners":1,"opened_at":0,"closes_at":0,"rules":"r","commitment":"00","redraw_of":2,"by":{"role":"host"}}"#,
        )
        .expect("an old re-draw's view");
        assert_eq!((opened.redraw_of, opened.replaces), (Some(2), None));
        let poll: PollState = serde_json::from_str(
            r#"{"poll":{"id":1,"question":"q","options":["a","b"],"opened_at":0,"audience_at_launch":1,"by":{"role":"host"}},"counts":[1,0],"voters":1,"closed_at":5}"#,
        )
        .expect("an old poll state");
        assert_eq!(poll.cleared_at, None);
    }

    #[test]
    fn short_hex_and_countdown() {
        assert_eq!(short_hex("0123456789abcdef"), "0123456789ab");
        assert_eq!(short_hex("abc"), "abc");
        assert_eq!(countdown(0, 61_500), "1:02");
        assert_eq!(countdown(10_000, 0), "0:00");
    }
}
