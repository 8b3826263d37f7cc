//! Polls and instant wins in a live session: the pure rules the session
//! applies to `poll_*`, `vote`, `instant_win_*`, `enter` and `redraw`, and
//! to the passing of time (deadlines, throttled tallies).
//!
//! The game logic itself lives in [`crate::poll`] and [`crate::instant_win`];
//! this module decides what each step means for the live: which events to
//! number, what to store ([`GameWrite`]), what to audit. Decisions taken here
//! (documented in `docs/protocol.md`):
//! - **One poll at a time.** A second `poll_open` while a poll is open is
//!   refused: the screen shows one question, and a viewer's `vote` would be
//!   ambiguous in every player that shows "the" poll. Same for instant wins
//!   in their entry window (re-draws are drawn at once, so never collide).
//! - **Re-draws are drawn immediately**, among the draw's entrants minus the
//!   excluded ids and minus the winners who keep their prize, for as many
//!   prizes as excluded winners. The re-draw has its own fresh seed and
//!   commitment and its own record; the old record is never edited. Honest
//!   limitation: the entrant list is already known when the hub commits to
//!   the re-draw's seed, so the commitment proves the seed was not changed
//!   after the fact, not that it was fixed before the entrants were.
//! - **Automatic closes are the hub's**: a poll reaching its deadline or a
//!   draw at the end of its window is audited with actor name [`HUB_ACTOR`]
//!   (role `admin`, the role that configures the hub).
//! - **On several hub nodes** (a shared store), each node keeps the whole
//!   game: it follows the game events the others commit, reading the games
//!   again from the store when one opens, closes or draws
//!   ([`Engagement::reshaped_by`]), and counts the votes and entries they
//!   stored ([`Engagement::merge`]), which are not events. A count another
//!   node announced is not announced again ([`Engagement::heard_count`]).

use std::collections::{BTreeMap, HashMap};

use crate::instant_win::{
    DrawError, DrawRecord, InstantWin, InstantWinError, InstantWinSpec, Seed,
};
use crate::poll::{Poll, PollError, PollSpec, TallyThrottle};
use crate::protocol::{
    Actor, DrawResult, DrawState, DrawView, ErrorCode, Event, Millis, PollState, PollView, Refusal,
    Replacement, Role, StaffRole, ViewerId, Winner,
};
use crate::store::{AuditEntry, GameNews, GameWrite, GamesCursor, StoredGames};

/// The audit actor of what the hub does by itself (deadlines).
pub const HUB_ACTOR: &str = "hub";

/// What one game step produced: events to number, facts to store, and the
/// audit record of the action.
#[derive(Debug, Default)]
pub struct Step {
    pub events: Vec<Event>,
    pub writes: Vec<GameWrite>,
    pub audit: Option<AuditEntry>,
}

#[derive(Debug)]
struct LivePoll {
    poll: Poll,
    by: Actor,
    throttle: TallyThrottle,
    /// When staff took the finished poll off the screen.
    cleared_at: Option<Millis>,
}

#[derive(Debug)]
struct LiveDraw {
    win: InstantWin,
    by: Actor,
    throttle: TallyThrottle,
    /// Entrants' first names and pseudonyms, for announcing winners.
    names: HashMap<ViewerId, (String, String)>,
    /// On a re-draw: who kept their prize, who was excluded, and why.
    replaces: Option<Box<Replacement>>,
    result: Option<DrawResult>,
}

/// Every poll and instant win of the live. See the module docs.
#[derive(Debug)]
pub struct Engagement {
    polls: BTreeMap<u64, LivePoll>,
    draws: BTreeMap<u64, LiveDraw>,
    /// Length of one "second" of a poll duration or entry window, in ms:
    /// 1,000 in production; tests shorten it (`Limits::game_second`).
    second_ms: Millis,
    /// How far the votes and entries in the store are counted here.
    cursor: GamesCursor,
}

impl Default for Engagement {
    fn default() -> Self {
        Self::new(1_000)
    }
}

/// `id` as a winner, with the names it entered under (blank when unknown).
fn winner(names: &HashMap<ViewerId, (String, String)>, id: &ViewerId) -> Winner {
    let (first_name, pseudonym) = names.get(id).cloned().unwrap_or_default();
    Winner {
        viewer_id: id.clone(),
        first_name,
        pseudonym,
    }
}

fn hub_audit(action: &str, target: u64, now: Millis) -> AuditEntry {
    AuditEntry {
        actor_name: HUB_ACTOR.into(),
        actor_role: StaffRole::Admin,
        action: action.into(),
        target: target.to_string(),
        reason: "deadline".into(),
        at: now,
    }
}

fn staff_audit(by: &Actor, action: &str, target: u64, reason: &str, now: Millis) -> AuditEntry {
    AuditEntry {
        actor_name: by.name.clone().unwrap_or_default(),
        actor_role: by.role,
        action: action.into(),
        target: target.to_string(),
        reason: reason.into(),
        at: now,
    }
}

fn poll_refusal(e: &PollError) -> Refusal {
    Refusal::invalid(e.to_string())
}

fn draw_refusal(e: &InstantWinError) -> Refusal {
    match e {
        InstantWinError::Draw(d) => {
            tracing::error!(error = %d, "an instant win could not be drawn");
            Refusal::new(ErrorCode::Internal, "the draw failed in the hub")
        }
        other => Refusal::invalid(other.to_string()),
    }
}

/// The OS gave no randomness: nothing is drawn without a secret seed.
fn no_seed(e: &DrawError, what: &str) -> Refusal {
    tracing::error!(error = %e, "no seed for {what}");
    Refusal::new(
        ErrorCode::Internal,
        "the hub could not draw a secret seed; try again",
    )
}

impl Engagement {
    pub fn new(second_ms: Millis) -> Self {
        Self {
            polls: BTreeMap::new(),
            draws: BTreeMap::new(),
            second_ms: second_ms.max(1),
            cursor: GamesCursor::default(),
        }
    }

    /// Rebuilds the games from the store (hub restart). What ended during
    /// downtime is still open here; the first [`Engagement::clock`] closes
    /// it at its deadline.
    pub fn restore(stored: StoredGames, second_ms: Millis) -> Self {
        let mut e = Self::new(second_ms);
        e.cursor = stored.cursor;
        for sp in stored.polls {
            let view = sp.poll;
            let spec = PollSpec {
                question: view.question.clone(),
                options: view.options.clone(),
                duration_secs: None,
            };
            let mut poll = Poll::restore(
                view.id,
                spec,
                view.opened_at,
                view.audience_at_launch,
                sp.closed_at,
                sp.votes,
            );
            poll.closes_at = view.closes_at;
            e.polls.insert(
                view.id,
                LivePoll {
                    poll,
                    by: view.by,
                    throttle: TallyThrottle::default(),
                    cleared_at: sp.cleared_at,
                },
            );
        }
        for sd in stored.draws {
            let view = sd.draw;
            let Ok(seed) = Seed::from_hex(&sd.seed_hex) else {
                tracing::error!(
                    draw = view.id,
                    "a stored instant win has a malformed seed; skipped"
                );
                continue;
            };
            let spec = InstantWinSpec {
                prize: view.prize.clone(),
                winners: view.winners,
                entry_secs: 0,
                rules: view.rules.clone(),
            };
            let mut win = InstantWin::open(view.id, spec, seed, view.opened_at, view.redraw_of)
                .with_entrants(sd.entrants.iter().map(|(id, ..)| id.clone()));
            win.closes_at = view.closes_at;
            let result = sd.result.map(|r| {
                win.closes_at = win.closes_at.min(r.drawn_at);
                let result = DrawResult {
                    seed: r.record.seed.clone(),
                    entrants_hash: r.record.entrants_hash.clone(),
                    winners: r.winners,
                    drawn_at: r.drawn_at,
                };
                win.record = Some(r.record);
                result
            });
            e.draws.insert(
                view.id,
                LiveDraw {
                    win,
                    by: view.by,
                    throttle: TallyThrottle::default(),
                    names: sd
                        .entrants
                        .into_iter()
                        .map(|(id, first, pseudonym)| (id, (first, pseudonym)))
                        .collect(),
                    replaces: view.replaces,
                    result,
                },
            );
        }
        e
    }

    /// The length of a game "second", in ms.
    pub fn second_ms(&self) -> Millis {
        self.second_ms
    }

    /// Where the next [`GameNews`] read starts.
    pub fn cursor(&self) -> GamesCursor {
        self.cursor
    }

    /// Whether a poll or an instant win is taking votes or entries, or is
    /// still to be drawn among its entrants. A draw whose window ended with
    /// nobody entered here is not: it takes no entry any more, and a node
    /// that has entrants draws it.
    pub fn in_play(&self, now: Millis) -> bool {
        self.polls.values().any(|p| p.poll.is_open())
            || self
                .draws
                .values()
                .any(|d| !d.win.is_drawn() && (now < d.win.closes_at || d.win.entrant_count() > 0))
    }

    /// Whether [`Engagement::clock`] has something to do by `now`: a
    /// deadline (a draw with entrants: one without cannot be made), or a
    /// changed count to announce.
    pub fn due(&self, now: Millis) -> bool {
        let announce = |t: &TallyThrottle| t.next_due().is_some_and(|at| at <= now);
        self.polls
            .values()
            .any(|p| p.poll.is_due(now) || (p.poll.is_open() && announce(&p.throttle)))
            || self.draws.values().any(|d| {
                (d.win.is_due(now) && d.win.entrant_count() > 0)
                    || (!d.win.is_drawn() && announce(&d.throttle))
            })
    }

    /// Counts the votes and entries other hub nodes stored, each once (this
    /// node's own come back too, and count nothing new); the next tally
    /// announces them. One for a game unknown here is left to the store:
    /// the event that opened the game makes this node read the games again.
    pub fn merge(&mut self, news: GameNews) {
        for (poll_id, viewer, option) in news.votes {
            if let Some(p) = self.polls.get_mut(&poll_id)
                && p.poll.count_stored(viewer, option)
            {
                p.throttle.mark_changed();
            }
        }
        for (draw_id, viewer, first_name, pseudonym) in news.entries {
            if let Some(d) = self.draws.get_mut(&draw_id)
                && d.win.count_stored(viewer.clone())
            {
                d.names.insert(viewer, (first_name, pseudonym));
                d.throttle.mark_changed();
            }
        }
        self.cursor = news.cursor;
    }

    /// A count another hub node announced (`poll_tally`,
    /// `instant_win_entries`, at `at`): when this node counts the same,
    /// it has nothing new to announce, so two nodes do not number the same
    /// tally twice.
    pub fn heard_count(&mut self, event: &Event, at: Millis) {
        match event {
            Event::PollTally {
                poll_id,
                counts,
                voters,
            } => {
                if let Some(p) = self.polls.get_mut(poll_id) {
                    let t = p.poll.tally();
                    if t.counts == *counts && t.voters == *voters {
                        p.throttle.pushed_elsewhere(at);
                    }
                }
            }
            Event::InstantWinEntries { draw_id, entrants } => {
                if let Some(d) = self.draws.get_mut(draw_id)
                    && d.win.entrant_count() == *entrants
                {
                    d.throttle.pushed_elsewhere(at);
                }
            }
            _ => {}
        }
    }

    /// Whether `event` opens, closes, clears or draws a game: a node that
    /// follows one from another node reads the games again from the store
    /// (a draw's secret seed is never in an event).
    pub fn reshaped_by(event: &Event) -> bool {
        matches!(
            event,
            Event::PollOpened { .. }
                | Event::PollClosed { .. }
                | Event::PollCleared { .. }
                | Event::InstantWinOpened { .. }
                | Event::InstantWinDrawn { .. }
        )
    }

    fn poll_view(p: &LivePoll) -> PollView {
        PollView {
            id: p.poll.id,
            question: p.poll.spec.question.clone(),
            options: p.poll.spec.options.clone(),
            opened_at: p.poll.opened_at,
            closes_at: p.poll.closes_at,
            audience_at_launch: p.poll.audience_at_launch,
            by: p.by.clone(),
        }
    }

    fn draw_view(d: &LiveDraw) -> DrawView {
        DrawView {
            id: d.win.id,
            prize: d.win.spec.prize.clone(),
            winners: d.win.spec.winners,
            opened_at: d.win.opened_at,
            closes_at: d.win.closes_at,
            rules: d.win.spec.rules.clone(),
            commitment: d.win.commitment(),
            redraw_of: d.win.redraw_of,
            replaces: d.replaces.clone(),
            by: d.by.clone(),
        }
    }

    // ── polls ───────────────────────────────────────────────────────────

    pub fn open_poll(
        &mut self,
        by: &Actor,
        spec: &PollSpec,
        audience: u64,
        now: Millis,
    ) -> Result<Step, Refusal> {
        if let Some(open) = self.polls.values().find(|p| p.poll.is_open()) {
            return Err(Refusal::invalid(format!(
                "poll {} is still open; close it first",
                open.poll.id
            )));
        }
        let spec = spec.validated().map_err(|e| poll_refusal(&e))?;
        let id = self.polls.keys().next_back().map_or(1, |k| k + 1);
        let mut poll = Poll::open(id, spec, now, audience);
        poll.closes_at = poll
            .spec
            .duration_secs
            .map(|d| now + i64::from(d) * self.second_ms);
        let live = LivePoll {
            poll,
            by: by.clone(),
            throttle: TallyThrottle::default(),
            cleared_at: None,
        };
        let view = Self::poll_view(&live);
        self.polls.insert(id, live);
        Ok(Step {
            events: vec![Event::PollOpened { poll: view.clone() }],
            writes: vec![GameWrite::PollOpened { poll: view }],
            audit: Some(staff_audit(by, "poll_open", id, "", now)),
        })
    }

    /// When poll `poll_id` opened, if the live has it.
    pub fn poll_opened_at(&self, poll_id: u64) -> Option<Millis> {
        self.polls.get(&poll_id).map(|p| p.poll.opened_at)
    }

    /// When instant win `draw_id` opened, if the live has it.
    pub fn draw_opened_at(&self, draw_id: u64) -> Option<Millis> {
        self.draws.get(&draw_id).map(|d| d.win.opened_at)
    }

    pub fn vote(
        &mut self,
        viewer: &ViewerId,
        poll_id: u64,
        option: usize,
        now: Millis,
    ) -> Result<Step, Refusal> {
        let Some(p) = self.polls.get_mut(&poll_id) else {
            return Err(Refusal::not_found(format!("no poll {poll_id}")));
        };
        p.poll
            .vote(viewer, option, now)
            .map_err(|e| poll_refusal(&e))?;
        p.throttle.mark_changed();
        Ok(Step {
            writes: vec![GameWrite::Vote {
                poll_id,
                viewer: viewer.clone(),
                option,
            }],
            ..Step::default()
        })
    }

    pub fn close_poll(&mut self, by: &Actor, poll_id: u64, now: Millis) -> Result<Step, Refusal> {
        let Some(p) = self.polls.get_mut(&poll_id) else {
            return Err(Refusal::not_found(format!("no poll {poll_id}")));
        };
        if !p.poll.is_open() {
            // Closing twice is a no-op: the first result stands.
            return Ok(Step::default());
        }
        let mut step = Self::closed(p, now, Some(by));
        step.audit = Some(staff_audit(by, "poll_close", poll_id, "", now));
        Ok(step)
    }

    /// Takes a finished poll off the screen. A live poll must be closed
    /// first (its result is not final); clearing twice is a no-op.
    pub fn clear_poll(&mut self, by: &Actor, poll_id: u64, now: Millis) -> Result<Step, Refusal> {
        let Some(p) = self.polls.get_mut(&poll_id) else {
            return Err(Refusal::not_found(format!("no poll {poll_id}")));
        };
        if p.poll.is_open() {
            return Err(Refusal::invalid(format!(
                "poll {poll_id} is still open; close it first"
            )));
        }
        if p.cleared_at.is_some() {
            return Ok(Step::default());
        }
        p.cleared_at = Some(now);
        Ok(Step {
            events: vec![Event::PollCleared {
                poll_id,
                by: by.clone(),
            }],
            writes: vec![GameWrite::PollCleared {
                poll_id,
                cleared_at: now,
            }],
            audit: Some(staff_audit(by, "poll_clear", poll_id, "", now)),
        })
    }

    /// The close of `p`, credited to `by` (`None`: the hub, at the deadline).
    fn closed(p: &mut LivePoll, now: Millis, by: Option<&Actor>) -> Step {
        let tally = p.poll.close(now);
        let closed_at = p.poll.closed_at.unwrap_or(now);
        // The final counts supersede any tally still waiting for its slot.
        p.throttle = TallyThrottle::default();
        Step {
            events: vec![Event::PollClosed {
                poll_id: p.poll.id,
                counts: tally.counts,
                voters: tally.voters,
                closed_at,
                by: by.cloned(),
            }],
            writes: vec![GameWrite::PollClosed {
                poll_id: p.poll.id,
                closed_at,
            }],
            audit: None,
        }
    }

    // ── instant wins ────────────────────────────────────────────────────

    pub fn open_draw(
        &mut self,
        by: &Actor,
        spec: &InstantWinSpec,
        now: Millis,
    ) -> Result<Step, Refusal> {
        if let Some(open) = self.draws.values().find(|d| !d.win.is_drawn()) {
            return Err(Refusal::invalid(format!(
                "instant win {} is still taking entries; close it first",
                open.win.id
            )));
        }
        let spec = spec.validated().map_err(|e| draw_refusal(&e))?;
        let seed = Seed::generate().map_err(|e| no_seed(&e, "an instant win"))?;
        let id = self.next_draw_id();
        let mut win = InstantWin::open(id, spec, seed, now, None);
        win.closes_at = now + i64::from(win.spec.entry_secs) * self.second_ms;
        let step = self.insert_draw(win, by.clone(), HashMap::new(), None);
        Ok(Step {
            audit: Some(staff_audit(by, "instant_win_open", id, "", now)),
            ..step
        })
    }

    fn next_draw_id(&self) -> u64 {
        self.draws.keys().next_back().map_or(1, |k| k + 1)
    }

    fn insert_draw(
        &mut self,
        win: InstantWin,
        by: Actor,
        names: HashMap<ViewerId, (String, String)>,
        replaces: Option<Box<Replacement>>,
    ) -> Step {
        let live = LiveDraw {
            win,
            by,
            throttle: TallyThrottle::default(),
            names,
            replaces,
            result: None,
        };
        let view = Self::draw_view(&live);
        let seed_hex = live.win.seed().to_hex();
        self.draws.insert(view.id, live);
        Step {
            events: vec![Event::InstantWinOpened { draw: view.clone() }],
            writes: vec![GameWrite::InstantWinOpened {
                draw: view,
                seed_hex,
            }],
            audit: None,
        }
    }

    /// One entry per viewer, inside the window. The session checks
    /// sanctions first; consent is never asked.
    pub fn enter(
        &mut self,
        viewer: &ViewerId,
        (first_name, pseudonym): (&str, &str),
        draw_id: u64,
        now: Millis,
    ) -> Result<Step, Refusal> {
        let Some(d) = self.draws.get_mut(&draw_id) else {
            return Err(Refusal::not_found(format!("no instant win {draw_id}")));
        };
        d.win.enter(viewer, now).map_err(|e| draw_refusal(&e))?;
        d.names.insert(
            viewer.clone(),
            (first_name.to_owned(), pseudonym.to_owned()),
        );
        d.throttle.mark_changed();
        Ok(Step {
            writes: vec![GameWrite::Entry {
                draw_id,
                viewer: viewer.clone(),
            }],
            ..Step::default()
        })
    }

    pub fn close_draw(&mut self, by: &Actor, draw_id: u64, now: Millis) -> Result<Step, Refusal> {
        let Some(d) = self.draws.get_mut(&draw_id) else {
            return Err(Refusal::not_found(format!("no instant win {draw_id}")));
        };
        if d.win.is_drawn() {
            return Ok(Step::default());
        }
        let mut step = Self::drawn(d, now, Some(by))?;
        step.audit = Some(staff_audit(by, "instant_win_draw", draw_id, "", now));
        Ok(step)
    }

    /// The draw of `d`, credited to `by` (`None`: the hub, at the end of
    /// the window).
    fn drawn(d: &mut LiveDraw, now: Millis, by: Option<&Actor>) -> Result<Step, Refusal> {
        // Drawn at the deadline when it passed (e.g. during downtime).
        let drawn_at = d.win.closes_at.min(now);
        let record = d.win.draw(now).map_err(|e| draw_refusal(&e))?.clone();
        let winners: Vec<Winner> = record
            .winners
            .iter()
            .map(|id| winner(&d.names, id))
            .collect();
        d.throttle = TallyThrottle::default();
        d.result = Some(DrawResult {
            seed: record.seed.clone(),
            entrants_hash: record.entrants_hash.clone(),
            winners: winners.clone(),
            drawn_at,
        });
        Ok(Step {
            events: vec![Event::InstantWinDrawn {
                draw_id: record.draw_id,
                seed: record.seed.clone(),
                entrants: record.entrants.len() as u64,
                entrants_hash: record.entrants_hash.clone(),
                winners: winners.clone(),
                by: by.cloned(),
            }],
            writes: vec![GameWrite::Drawn {
                record,
                winners,
                drawn_at,
            }],
            audit: None,
        })
    }

    /// A new recorded draw replacing the excluded winners of `draw_id`. See
    /// the module docs for who takes part and the honest limitation.
    pub fn redraw(
        &mut self,
        by: &Actor,
        draw_id: u64,
        exclude: &[ViewerId],
        reason: &str,
        now: Millis,
    ) -> Result<Step, Refusal> {
        let Some(old) = self.draws.get(&draw_id) else {
            return Err(Refusal::not_found(format!("no instant win {draw_id}")));
        };
        let Some(record) = &old.win.record else {
            return Err(Refusal::invalid(format!(
                "instant win {draw_id} is not drawn yet"
            )));
        };
        if reason.is_empty() {
            return Err(Refusal::invalid(
                "a re-draw needs a reason (it goes in the audit log)",
            ));
        }
        let replaced = record
            .winners
            .iter()
            .filter(|w| exclude.contains(w))
            .count();
        if replaced == 0 {
            return Err(Refusal::invalid(format!(
                "none of the excluded ids won instant win {draw_id}"
            )));
        }
        let mut out: Vec<ViewerId> = exclude.to_vec();
        out.extend(record.winners.iter().cloned());
        let entrants = old.win.entrants_except(&out);
        let names = old.names.clone();
        let excluded = exclude
            .iter()
            .enumerate()
            .filter(|&(i, id)| record.entrants.contains(id) && !exclude[..i].contains(id));
        let replacement = Replacement {
            kept: record
                .winners
                .iter()
                .filter(|w| !exclude.contains(w))
                .map(|id| winner(&names, id))
                .collect(),
            excluded: excluded.map(|(_, id)| winner(&names, id)).collect(),
            reason: reason.to_owned(),
        };
        let spec = InstantWinSpec {
            prize: old.win.spec.prize.clone(),
            winners: u32::try_from(replaced).unwrap_or(u32::MAX),
            entry_secs: 0,
            rules: old.win.spec.rules.clone(),
        };
        let seed = Seed::generate().map_err(|e| no_seed(&e, "a re-draw"))?;
        let id = self.next_draw_id();
        let mut win = InstantWin::open(id, spec, seed, now, Some(draw_id)).with_entrants(entrants);
        win.closes_at = now;
        let mut step = self.insert_draw(win, by.clone(), names, Some(Box::new(replacement)));
        let d = self.draws.get_mut(&id).expect("inserted above");
        let drawn = Self::drawn(d, now, Some(by))?;
        step.events.extend(drawn.events);
        step.writes.extend(drawn.writes);
        step.audit = Some(AuditEntry {
            target: format!("{draw_id}→{id}"),
            ..staff_audit(by, "redraw", draw_id, reason, now)
        });
        Ok(step)
    }

    // ── time ────────────────────────────────────────────────────────────

    /// What the passing of time does by `now`: polls past their deadline
    /// close, draws past their window are drawn (each its own step, audited
    /// as the hub), and live tallies and entry counts go out when changed,
    /// at most four a second each.
    pub fn clock(&mut self, now: Millis) -> Vec<Step> {
        let mut steps = Vec::new();
        for p in self.polls.values_mut() {
            if p.poll.is_due(now) {
                let mut step = Self::closed(p, now, None);
                step.audit = Some(hub_audit("poll_close", p.poll.id, now));
                steps.push(step);
            } else if p.poll.is_open() && p.throttle.take_due(now) {
                let t = p.poll.tally();
                steps.push(Step {
                    events: vec![Event::PollTally {
                        poll_id: p.poll.id,
                        counts: t.counts,
                        voters: t.voters,
                    }],
                    ..Step::default()
                });
            }
        }
        for d in self.draws.values_mut() {
            if d.win.is_due(now) {
                if let Ok(mut step) = Self::drawn(d, now, None) {
                    step.audit = Some(hub_audit("instant_win_draw", d.win.id, now));
                    steps.push(step);
                }
            } else if !d.win.is_drawn() && d.throttle.take_due(now) {
                steps.push(Step {
                    events: vec![Event::InstantWinEntries {
                        draw_id: d.win.id,
                        entrants: d.win.entrant_count(),
                    }],
                    ..Step::default()
                });
            }
        }
        steps
    }

    /// The end of the live (`live_end`, credited to `by`): every open poll
    /// closes with its count so far, and every instant win still taking
    /// entries is drawn now among those who entered. Drawn, not cancelled:
    /// the entrants entered under published rules for a prize, and a draw
    /// keeps that promise, verifiably; a draw that cannot be made (nobody
    /// entered) stays as it is.
    pub fn close_all(&mut self, by: &Actor, now: Millis) -> Step {
        let mut all = Step::default();
        let mut add = |step: Step| {
            all.events.extend(step.events);
            all.writes.extend(step.writes);
        };
        for p in self.polls.values_mut() {
            if p.poll.is_open() {
                add(Self::closed(p, now, Some(by)));
            }
        }
        for d in self.draws.values_mut() {
            if !d.win.is_drawn() {
                match Self::drawn(d, now, Some(by)) {
                    Ok(step) => add(step),
                    Err(e) => {
                        let draw = d.win.id;
                        tracing::info!(draw, why = %e.message, "not drawn at the end of the live");
                    }
                }
            }
        }
        all
    }

    /// Support corrected a viewer's names (Art. 16): the names they entered
    /// under, announced winners, a re-draw's kept and excluded. Draw records
    /// name ids only, so no commitment changes.
    pub fn rename(&mut self, viewer: &ViewerId, first_name: Option<&str>, pseudonym: Option<&str>) {
        let fix = |w: &mut Winner| {
            if w.viewer_id == *viewer {
                if let Some(f) = first_name {
                    f.clone_into(&mut w.first_name);
                }
                if let Some(p) = pseudonym {
                    p.clone_into(&mut w.pseudonym);
                }
            }
        };
        for d in self.draws.values_mut() {
            if let Some((f, p)) = d.names.get_mut(viewer) {
                if let Some(first_name) = first_name {
                    first_name.clone_into(f);
                }
                if let Some(pseudonym) = pseudonym {
                    pseudonym.clone_into(p);
                }
            }
            let result = d.result.iter_mut().flat_map(|r| r.winners.iter_mut());
            let replaced = d
                .replaces
                .iter_mut()
                .flat_map(|r| r.kept.iter_mut().chain(r.excluded.iter_mut()));
            result.chain(replaced).for_each(fix);
        }
    }

    // ── reads ───────────────────────────────────────────────────────────

    /// The published record of a drawn instant win (`/draws/{id}.json`).
    pub fn record(&self, draw_id: u64) -> Option<DrawRecord> {
        self.draws.get(&draw_id)?.win.record.clone()
    }

    /// Polls and instant wins for a snapshot, oldest first; viewers get no
    /// staff names.
    pub fn snapshot_for(&self, role: Role) -> (Vec<PollState>, Vec<DrawState>) {
        let by = |a: &Actor| {
            if role.is_staff() {
                a.clone()
            } else {
                Actor {
                    name: None,
                    role: a.role,
                }
            }
        };
        let polls = self
            .polls
            .values()
            .map(|p| {
                let t = p.poll.tally();
                let mut poll = Self::poll_view(p);
                poll.by = by(&poll.by);
                PollState {
                    poll,
                    counts: t.counts,
                    voters: t.voters,
                    closed_at: p.poll.closed_at,
                    cleared_at: p.cleared_at,
                }
            })
            .collect();
        let draws = self
            .draws
            .values()
            .map(|d| {
                let draw = Self::draw_view(d);
                let draw = if role.is_staff() {
                    draw
                } else {
                    draw.for_viewers()
                };
                DrawState {
                    draw,
                    entrants: d.win.entrant_count(),
                    result: d.result.clone(),
                }
            })
            .collect();
        (polls, draws)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::session::{Decision, Principal, Reply, Session, SessionBounds};
    use crate::protocol::{Command, Settings};
    use crate::testing::{NoHistory, T0, fresh_session, refusal, staff};

    fn session() -> Session {
        let bounds = SessionBounds {
            recent: 10,
            open_questions_in_snapshot: 10,
            message_cache: 10,
        };
        fresh_session("e", Settings::default(), &[], bounds)
    }

    fn viewer(i: usize) -> Principal {
        crate::testing::viewer(&format!("v-{i:03}"), &format!("Name{i}"), &format!("#{i}"))
    }

    fn run(s: &mut Session, who: &Principal, c: &Command, now: Millis) -> Decision {
        s.decide(who, c, &mut NoHistory, now)
    }

    fn error(d: &Decision) -> Option<Refusal> {
        refusal(d)
    }

    fn poll_open(duration: Option<u32>) -> Command {
        Command::PollOpen {
            question: "Which colour next?".into(),
            options: vec!["Red".into(), "Blue".into(), "Green".into()],
            duration_secs: duration,
        }
    }

    fn draw_open(winners: u32) -> Command {
        Command::InstantWinOpen {
            prize: "€50 voucher".into(),
            winners,
            entry_secs: 60,
            rules: "One entry per person".into(),
        }
    }

    fn vote(poll_id: u64, option: usize) -> Command {
        Command::Vote { poll_id, option }
    }

    #[test]
    fn only_hosts_and_admins_run_games_and_only_viewers_take_part() {
        for role in [StaffRole::Moderator, StaffRole::Support] {
            let mut s = session();
            for c in [poll_open(None), draw_open(1)] {
                let d = run(&mut s, &staff(role), &c, T0);
                assert_eq!(error(&d).map(|e| e.code), Some(ErrorCode::Forbidden));
            }
        }
        let mut s = session();
        assert_eq!(
            error(&run(&mut s, &viewer(1), &poll_open(None), T0)).map(|e| e.code),
            Some(ErrorCode::Forbidden)
        );
        for role in [StaffRole::Host, StaffRole::Admin] {
            let mut s = session();
            let d = run(&mut s, &staff(role), &poll_open(None), T0);
            assert!(matches!(d.reply, Reply::Ack { seq: Some(1) }), "{d:?}");
            let audit = d.audit.expect("launch audited");
            assert_eq!(
                (audit.action.as_str(), audit.actor_role),
                ("poll_open", role)
            );
            let d = run(&mut s, &staff(role), &vote(1, 0), T0);
            assert_eq!(error(&d).map(|e| e.code), Some(ErrorCode::Forbidden));
            let d = run(&mut s, &staff(role), &Command::Enter { draw_id: 1 }, T0);
            assert_eq!(error(&d).map(|e| e.code), Some(ErrorCode::Forbidden));
        }
    }

    #[test]
    fn a_finished_poll_is_cleared_once_by_staff_and_viewers_see_the_role_only() {
        let mut s = session();
        let host = staff(StaffRole::Host);
        run(&mut s, &host, &poll_open(None), T0);
        let clear = Command::PollClear { poll_id: 1 };
        let open = error(&run(&mut s, &host, &clear, T0 + 1));
        assert_eq!(open.map(|e| e.code), Some(ErrorCode::Invalid));
        let moderator = error(&run(&mut s, &staff(StaffRole::Moderator), &clear, T0 + 1));
        assert_eq!(moderator.map(|e| e.code), Some(ErrorCode::Forbidden));
        run(&mut s, &host, &Command::PollClose { poll_id: 1 }, T0 + 2);
        let d = run(&mut s, &host, &clear, T0 + 3);
        let Event::PollCleared { poll_id, by } = &d.events[0].event else {
            panic!("{:?}", d.events)
        };
        assert_eq!((*poll_id, by.role), (1, StaffRole::Host));
        assert!(matches!(
            d.events[0].event.for_role(Role::Viewer),
            Some(Event::PollCleared {
                by: Actor { name: None, .. },
                ..
            })
        ));
        assert_eq!(
            d.games,
            vec![GameWrite::PollCleared {
                poll_id: 1,
                cleared_at: T0 + 3
            }]
        );
        assert_eq!(d.audit.map(|a| a.action), Some("poll_clear".to_string()));
        assert_eq!(
            s.snapshot_for(Role::Viewer).polls[0].cleared_at,
            Some(T0 + 3)
        );
        let again = run(&mut s, &host, &clear, T0 + 4);
        assert!(
            again.events.is_empty() && error(&again).is_none(),
            "{again:?}"
        );
        let missing = error(&run(
            &mut s,
            &host,
            &Command::PollClear { poll_id: 9 },
            T0 + 4,
        ));
        assert_eq!(missing.map(|e| e.code), Some(ErrorCode::NotFound));
    }

    #[test]
    fn a_vote_is_final_stored_and_refused_after_close() {
        let mut s = session();
        s.set_audience(40);
        let d = run(&mut s, &staff(StaffRole::Host), &poll_open(None), T0);
        match &d.events[0].event {
            Event::PollOpened { poll } => assert_eq!(poll.audience_at_launch, 40),
            other => panic!("{other:?}"),
        }
        let d = run(&mut s, &viewer(1), &vote(1, 2), T0 + 1);
        assert_eq!(d.reply, Reply::Ack { seq: None });
        assert!(d.events.is_empty(), "votes show through throttled tallies");
        assert_eq!(
            d.games,
            vec![GameWrite::Vote {
                poll_id: 1,
                viewer: ViewerId("v-001".into()),
                option: 2
            }]
        );
        let again = error(&run(&mut s, &viewer(1), &vote(1, 0), T0 + 2)).unwrap();
        assert_eq!(again, Refusal::invalid("you already voted in this poll"));
        assert_eq!(
            error(&run(&mut s, &viewer(2), &vote(1, 3), T0 + 2)).map(|e| e.code),
            Some(ErrorCode::Invalid)
        );
        assert_eq!(
            error(&run(&mut s, &viewer(2), &vote(9, 0), T0 + 2)).map(|e| e.code),
            Some(ErrorCode::NotFound)
        );
        let d = run(
            &mut s,
            &staff(StaffRole::Host),
            &Command::PollClose { poll_id: 1 },
            T0 + 3,
        );
        match &d.events[0].event {
            Event::PollClosed { counts, voters, .. } => {
                assert_eq!((counts.clone(), *voters), (vec![0, 0, 1], 1));
            }
            other => panic!("{other:?}"),
        }
        let late = error(&run(&mut s, &viewer(2), &vote(1, 0), T0 + 4)).unwrap();
        assert_eq!(late, Refusal::invalid("this poll is closed"));
        // Closing twice is a no-op.
        let d = run(
            &mut s,
            &staff(StaffRole::Host),
            &Command::PollClose { poll_id: 1 },
            T0 + 5,
        );
        assert!(d.events.is_empty() && d.audit.is_none());
    }

    #[test]
    fn a_second_poll_waits_for_the_first_to_close() {
        let mut s = session();
        run(&mut s, &staff(StaffRole::Host), &poll_open(None), T0);
        let Refusal {
            code, message: msg, ..
        } = error(&run(&mut s, &staff(StaffRole::Admin), &poll_open(None), T0)).unwrap();
        assert_eq!(code, ErrorCode::Invalid);
        assert!(msg.contains("poll 1 is still open"), "{msg}");
        run(
            &mut s,
            &staff(StaffRole::Host),
            &Command::PollClose { poll_id: 1 },
            T0,
        );
        let d = run(&mut s, &staff(StaffRole::Host), &poll_open(None), T0);
        assert!(matches!(&d.events[0].event, Event::PollOpened { poll } if poll.id == 2));
    }

    #[test]
    fn the_clock_throttles_tallies_and_closes_at_the_deadline_as_the_hub() {
        let mut s = session();
        run(&mut s, &staff(StaffRole::Host), &poll_open(Some(10)), T0);
        assert!(
            s.clock(T0 + 1).is_empty(),
            "nothing changed, nothing pushed"
        );
        let mut tallies = Vec::new();
        for (i, t) in (0..40).zip((T0 + 10..).step_by(25)) {
            run(&mut s, &viewer(i), &vote(1, i % 3), t);
            for d in s.clock(t) {
                tallies.push(d.events[0].clone());
            }
        }
        assert!(tallies.len() >= 2);
        for w in tallies.windows(2) {
            assert!(w[1].at - w[0].at >= 250, "{} then {}", w[0].at, w[1].at);
        }
        let deadline = T0 + 10_000;
        let closed = s.clock(deadline + 4_000);
        assert_eq!(closed.len(), 1);
        match &closed[0].events[0].event {
            Event::PollClosed {
                counts,
                voters,
                closed_at,
                ..
            } => {
                assert_eq!(counts.iter().sum::<u64>(), 40);
                assert_eq!(*voters, 40);
                assert_eq!(
                    *closed_at, deadline,
                    "closed at its deadline, not when noticed"
                );
            }
            other => panic!("{other:?}"),
        }
        let audit = closed[0].audit.clone().unwrap();
        assert_eq!(
            (audit.actor_name.as_str(), audit.action.as_str()),
            (HUB_ACTOR, "poll_close")
        );
        assert_eq!(
            closed[0].games,
            vec![GameWrite::PollClosed {
                poll_id: 1,
                closed_at: deadline
            }]
        );
        assert!(s.clock(deadline + 5_000).is_empty());
    }

    #[test]
    fn entries_respect_sanctions_and_the_draw_verifies() {
        let mut s = session();
        let d = run(&mut s, &staff(StaffRole::Host), &draw_open(2), T0);
        let commitment = match &d.events[0].event {
            Event::InstantWinOpened { draw } => {
                assert!(draw.rules.starts_with("No purchase necessary."));
                draw.commitment.clone()
            }
            other => panic!("{other:?}"),
        };
        let seed_stored = matches!(&d.games[0], GameWrite::InstantWinOpened { seed_hex, .. } if seed_hex.len() == 64);
        assert!(seed_stored);
        s.note_sanctions(&ViewerId("v-007".into()), true, None);
        s.note_sanctions(&ViewerId("v-008".into()), false, Some(T0 + 60_000));
        let banned = error(&run(
            &mut s,
            &viewer(7),
            &Command::Enter { draw_id: 1 },
            T0 + 1,
        ))
        .unwrap();
        assert_eq!(banned.code, ErrorCode::Banned);
        let timed = error(&run(
            &mut s,
            &viewer(8),
            &Command::Enter { draw_id: 1 },
            T0 + 1,
        ))
        .unwrap();
        assert_eq!(timed.code, ErrorCode::TimedOut);
        for i in 0..5 {
            let d = run(&mut s, &viewer(i), &Command::Enter { draw_id: 1 }, T0 + 2);
            assert_eq!(d.reply, Reply::Ack { seq: None });
        }
        let twice = error(&run(
            &mut s,
            &viewer(0),
            &Command::Enter { draw_id: 1 },
            T0 + 3,
        ))
        .unwrap();
        assert_eq!(twice, Refusal::invalid("you have already entered"));
        // Snapshot before the draw: commitment yes, seed no.
        let (_, in_snapshot) = s.snapshot_for(Role::Viewer).polls_and_draws();
        assert_eq!(in_snapshot[0].entrants, 5);
        assert!(in_snapshot[0].result.is_none() && in_snapshot[0].draw.by.name.is_none());
        assert!(s.draw_record(1).is_none());
        let drawn = s.clock(T0 + 60_000);
        let drawn: Vec<_> = drawn.iter().filter(|d| d.audit.is_some()).collect();
        assert_eq!(drawn.len(), 1);
        assert_eq!(drawn[0].audit.as_ref().unwrap().actor_name, HUB_ACTOR);
        let record = s.draw_record(1).unwrap();
        assert_eq!(record.commitment, commitment);
        assert_eq!(record.entrants.len(), 5);
        assert_eq!(record.winners.len(), 2);
        crate::instant_win::verify(&record).unwrap();
        match &drawn[0].events[0].event {
            Event::InstantWinDrawn { winners, .. } => {
                for w in winners {
                    let i: usize = w.viewer_id.0[2..].parse().unwrap();
                    assert_eq!(w.first_name, format!("Name{i}"));
                }
            }
            other => panic!("{other:?}"),
        }
        let late = error(&run(
            &mut s,
            &viewer(9),
            &Command::Enter { draw_id: 1 },
            T0 + 60_001,
        ))
        .unwrap();
        assert_eq!(late, Refusal::invalid("entries are closed"));
    }

    #[test]
    fn a_redraw_is_a_new_verifiable_record_without_the_excluded() {
        let mut s = session();
        run(&mut s, &staff(StaffRole::Host), &draw_open(2), T0);
        for i in 0..10 {
            run(&mut s, &viewer(i), &Command::Enter { draw_id: 1 }, T0 + 1);
        }
        run(
            &mut s,
            &staff(StaffRole::Host),
            &Command::InstantWinClose { draw_id: 1 },
            T0 + 2,
        );
        let first = s.draw_record(1).unwrap();
        let out = first.winners[0].clone();
        let keeps = first.winners[1].clone();
        let redraw = |exclude: Vec<ViewerId>, reason: &str| Command::Redraw {
            draw_id: 1,
            exclude,
            reason: reason.into(),
        };
        let no_reason = error(&run(
            &mut s,
            &staff(StaffRole::Host),
            &redraw(vec![out.clone()], ""),
            T0 + 3,
        ));
        assert_eq!(no_reason.map(|e| e.code), Some(ErrorCode::Invalid));
        let not_winner = ViewerId("v-nobody".into());
        assert!(
            error(&run(
                &mut s,
                &staff(StaffRole::Host),
                &redraw(vec![not_winner], "x"),
                T0 + 3
            ))
            .is_some()
        );
        let d = run(
            &mut s,
            &staff(StaffRole::Host),
            &redraw(vec![out.clone()], "not eligible"),
            T0 + 3,
        );
        assert_eq!(d.events.len(), 2, "{d:?}");
        let Event::InstantWinOpened { draw } = &d.events[0].event else {
            panic!("{:?}", d.events)
        };
        assert_eq!((draw.id, draw.redraw_of), (2, Some(1)));
        assert_ne!(draw.commitment, first.commitment);
        let second = s.draw_record(2).unwrap();
        crate::instant_win::verify(&second).unwrap();
        assert_eq!(second.commitment, draw.commitment);
        assert_eq!(second.winners.len(), 1);
        assert!(!second.entrants.contains(&out) && !second.entrants.contains(&keeps));
        assert_eq!(second.entrants.len(), 8);
        assert_eq!(
            s.draw_record(1).unwrap(),
            first,
            "the old record is never edited"
        );
        let audit = d.audit.unwrap();
        assert_eq!(
            (audit.action.as_str(), audit.reason.as_str()),
            ("redraw", "not eligible")
        );
    }

    fn host() -> Actor {
        Actor {
            name: Some("Sophie".into()),
            role: StaffRole::Host,
        }
    }

    fn id(i: u32) -> ViewerId {
        ViewerId(format!("v-{i}"))
    }

    fn votes(votes: &[(u64, u32, usize)], cursor: i64) -> GameNews {
        GameNews {
            votes: votes.iter().map(|&(p, v, o)| (p, id(v), o)).collect(),
            entries: Vec::new(),
            cursor: GamesCursor {
                votes: cursor,
                entries: 0,
            },
        }
    }

    /// Votes another hub node stored count once each (this node's own
    /// come back in the news too), refuse that viewer's vote here, and
    /// make the next tally; a tally another node announced with the same
    /// counts is not announced again, a different one is.
    #[test]
    fn votes_from_other_nodes_count_once_and_a_heard_tally_is_not_repeated() {
        let spec = PollSpec {
            question: "Rouge ou bleu ?".into(),
            options: vec!["Rouge".into(), "Bleu".into()],
            duration_secs: None,
        };
        let mut here = Engagement::new(1_000);
        here.open_poll(&host(), &spec, 10, T0).unwrap();
        assert!(
            here.in_play(T0 + 1) && !here.due(T0 + 1),
            "nothing to announce"
        );
        here.vote(&id(1), 1, 0, T0 + 1).unwrap();
        // Poll 9 is unknown here: left to the reload its opening causes.
        here.merge(votes(&[(1, 1, 0), (1, 2, 1), (1, 3, 1), (9, 4, 0)], 4));
        assert_eq!(here.cursor().votes, 4);
        let again = here.vote(&id(2), 1, 0, T0 + 2).unwrap_err();
        assert!(again.message.contains("already"), "{again:?}");
        assert!(here.due(T0 + 2));

        let heard = Event::PollTally {
            poll_id: 1,
            counts: vec![1, 2],
            voters: 3,
        };
        here.heard_count(&heard, T0 + 2);
        assert!(!here.due(T0 + 5_000), "another node announced these counts");
        assert!(here.clock(T0 + 5_000).is_empty());

        here.merge(votes(&[(1, 5, 0)], 5));
        here.heard_count(&heard, T0 + 5_001);
        let steps = here.clock(T0 + 6_000);
        let tallies: Vec<_> = steps.iter().flat_map(|s| &s.events).collect();
        assert_eq!(
            tallies,
            vec![&Event::PollTally {
                poll_id: 1,
                counts: vec![2, 2],
                voters: 4,
            }]
        );
    }

    /// Entries another node stored join the draw with the names they
    /// entered under (a winner is announced by them); none joins a drawn
    /// draw, and a deadline makes the clock due.
    #[test]
    fn entries_from_other_nodes_join_the_draw_until_it_is_drawn() {
        let spec = InstantWinSpec {
            prize: "Sac".into(),
            winners: 1,
            entry_secs: 60,
            rules: "Un tirage.".into(),
        };
        let mut here = Engagement::new(1_000);
        here.open_draw(&host(), &spec, T0).unwrap();
        assert!(here.in_play(T0 + 59_999) && !here.in_play(T0 + 60_000));
        assert!(!here.due(T0 + 60_000), "nobody entered: nothing to draw");
        let entry = |v: u32, cursor: i64| GameNews {
            entries: vec![(1, id(v), format!("Name{v}"), format!("#{v}"))],
            cursor: GamesCursor {
                votes: 0,
                entries: cursor,
            },
            ..GameNews::default()
        };
        here.merge(entry(7, 1));
        assert!(
            here.in_play(T0 + 60_000) && here.due(T0 + 60_000),
            "the deadline"
        );
        let twice = here.enter(&id(7), ("Name7", "#7"), 1, T0 + 1).unwrap_err();
        assert!(twice.message.contains("already"), "{twice:?}");
        let drawn = here.close_draw(&host(), 1, T0 + 2).unwrap();
        match &drawn.events[..] {
            [Event::InstantWinDrawn { winners, .. }] => {
                assert_eq!(winners[0].viewer_id, id(7));
                assert_eq!(winners[0].first_name, "Name7");
            }
            other => panic!("{other:?}"),
        }
        here.merge(entry(8, 2));
        assert_eq!(here.record(1).unwrap().entrants, vec![id(7)], "frozen");
        assert!(!here.in_play(T0 + 2));
    }

    trait Split {
        fn polls_and_draws(
            self,
        ) -> (
            Vec<crate::protocol::PollState>,
            Vec<crate::protocol::DrawState>,
        );
    }
    impl Split for crate::protocol::Snapshot {
        fn polls_and_draws(
            self,
        ) -> (
            Vec<crate::protocol::PollState>,
            Vec<crate::protocol::DrawState>,
        ) {
            (self.polls, self.instant_wins)
        }
    }
}
