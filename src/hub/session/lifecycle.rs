//! A live's lifecycle in the session: `live_start` and `live_end` move it
//! forward (an `Event::LiveState` in the live's stream), the end closes the
//! chat for viewers and the live's polls and instant wins, and the admin
//! commands `live_create` and `live_list` go to the actor, which owns the
//! store, as do an ended live's follow-up SMS (`sms_segments`,
//! `sms_follow_up`).

use super::{Decision, Principal, Reply, Session};
use crate::privacy::{grapheme_count, sanitize};
use crate::protocol::{
    Command, ErrorCode, Event, LiveInfo, LiveState, MAX_LIVE_TITLE_GRAPHEMES, Millis, Refusal,
    check_live_name,
};

/// What a live without a stored lifecycle is: on air, untitled (a store
/// that keeps none, and every session until the actor says otherwise).
pub(super) fn on_air() -> LiveInfo {
    LiveInfo {
        name: String::new(),
        title: String::new(),
        state: LiveState::OnAir,
        starts_at: None,
        started_at: None,
        ended_at: None,
    }
}

impl Session {
    /// The live as the store holds it (title, state, times): the actor sets
    /// it when it opens the live.
    pub fn set_live_info(&mut self, info: LiveInfo) {
        self.live = info;
    }

    /// The live's title, state and times now, for the `welcome`.
    pub fn live_info(&self) -> &LiveInfo {
        &self.live
    }

    /// A viewer's message in an ended live is refused: the show is over.
    pub(super) fn refuse_after_the_end(&self) -> Result<(), Refusal> {
        if self.live.state == LiveState::Ended {
            return Err(Refusal::new(
                ErrorCode::LiveEnded,
                "this live has ended: its chat is closed",
            ));
        }
        Ok(())
    }

    /// The lifecycle commands, once the sender may send them.
    pub(super) fn lifecycle(
        &mut self,
        who: &Principal,
        command: &Command,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        match command {
            Command::LiveCreate {
                name,
                title,
                starts_at,
            } => {
                check_live_name(name).map_err(Refusal::invalid)?;
                let title = sanitize(title);
                let title = title.trim();
                if grapheme_count(title) > MAX_LIVE_TITLE_GRAPHEMES {
                    return Err(Refusal::invalid(format!(
                        "a live title has at most {MAX_LIVE_TITLE_GRAPHEMES} characters"
                    )));
                }
                Ok(Decision::reply(Reply::LiveCreate(LiveInfo {
                    name: name.clone(),
                    title: title.to_owned(),
                    state: LiveState::Scheduled,
                    starts_at: *starts_at,
                    started_at: None,
                    ended_at: None,
                })))
            }
            Command::LiveList => Ok(Decision::reply(Reply::LiveList)),
            Command::LiveStart => self.move_live(who, LiveState::OnAir, now),
            Command::LiveEnd => self.move_live(who, LiveState::Ended, now),
            // Post-live follow-ups: only once the show is over.
            Command::SmsSegments | Command::SmsFollowUp { .. }
                if self.live.state != LiveState::Ended =>
            {
                Err(Refusal::invalid(format!(
                    "the live is {}: follow-up SMS go to a live's viewers after it ends",
                    self.live.state
                )))
            }
            Command::SmsSegments => Ok(Decision::reply(Reply::SmsSegments)),
            Command::SmsFollowUp {
                segment,
                recipients,
            } => {
                let mut d = Decision::reply(Reply::SmsFollowUp {
                    segment: *segment,
                    recipients: *recipients,
                });
                // Content-free: the segment and how many, nobody's id.
                d.audit = Self::audit(
                    who,
                    "sms_follow_up",
                    segment.as_str(),
                    &format!("{recipients} recipients"),
                    now,
                );
                Ok(d)
            }
            _ => Err(Refusal::invalid("not a lifecycle command")),
        }
    }

    /// Moves the live forward to `next`; the end also closes its polls and
    /// instant wins, in the same decision (one commit, one audit record).
    fn move_live(
        &mut self,
        who: &Principal,
        next: LiveState,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        let current = self.live.state;
        if !current.can_move_to(next) {
            return Err(Refusal::invalid(format!(
                "the live is {current}: it cannot go {next} (a live only moves forward: \
                 scheduled, on_air, ended)"
            )));
        }
        let mut events = vec![Event::LiveState { state: next }];
        let mut games = Vec::new();
        if next == LiveState::Ended {
            let closed = self.games.close_all(&Self::actor(who), now);
            events.extend(closed.events);
            games = closed.writes;
        }
        self.live = std::mem::replace(&mut self.live, on_air()).moved(next, now);
        let action = match next {
            LiveState::Ended => "live_end",
            LiveState::OnAir | LiveState::Scheduled => "live_start",
        };
        let name = self.live.name.clone();
        let mut d = self.emit(events, now);
        d.audit = Self::audit(who, action, &name, "", now);
        d.games = games;
        Ok(d)
    }
}
