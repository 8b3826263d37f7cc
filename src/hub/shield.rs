//! Shield: the brand's saved emergency preset (`[shield]` in the brand
//! file), applied by `shield_on` and lifted by `shield_off`.
//!
//! It is an **overlay** on the live's own moderation: the session reviews
//! a viewer's line with the live's rules first ([`super::moderation`]), and
//! only then asks [`Shield::review`], which adds, while Shield is on:
//!
//! - holding every line of a *first-time chatter*;
//! - the preset's stricter rules (terms, regexes, with their action);
//! - its link policy (`links = "none"` by default).
//!
//! The slow mode is the session's own setting: Shield swaps the live's
//! [`Settings`] for the preset's and keeps the ones from before, so that
//! `shield_off` puts back exactly what was there.
//!
//! **First-time chatter**, precisely: a viewer whose first message this
//! hub accepted in this live came *after* Shield went on (in the order the
//! hub decided them, not by timestamp) — whether they
//! joined before or during Shield. Who posted is counted from the messages
//! this hub process accepted (and the recent chat it restored from the
//! store at start-up); a viewer who last posted before a hub restart and
//! beyond the restored chat counts as a first-time chatter, which errs on
//! the strict side. While Shield is on, *every* line of a first-time
//! chatter is held, not only the first.
//!
//! **Ban recent terms** (optional): the lines that used one of the
//! preset's `ban_recent_terms` are noted as they come (who, when; never the
//! text), for `ban_recent_minutes`. When Shield goes on, the viewers noted
//! in that window are listed for a moderator to review; nothing of it is
//! stored, and it is gone with the hub process.

use std::collections::{HashMap, VecDeque};

use crate::moderation::{Action, LinkPolicy, Matcher, Rule, RuleError, RuleSet};
use crate::protocol::{HoldReason, Millis, Settings, ShieldPresetView, ShieldSuspect, ViewerId};

/// Default slow mode while Shield is on, in seconds.
pub const DEFAULT_SHIELD_SLOW_MODE_SECS: u32 = 30;
/// Default window of `ban_recent_terms`, in minutes.
pub const DEFAULT_BAN_RECENT_MINUTES: u32 = 10;
/// The longest `ban_recent_minutes`: the notes are held in memory.
pub const MAX_BAN_RECENT_MINUTES: u32 = 60;
/// The most term uses noted at once; older ones go first. Bounds memory
/// under a flood of the very terms a Shield is for.
const MAX_NOTED_USES: usize = 100_000;

/// What the brand saved as its emergency preset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShieldPreset {
    /// Slow mode while Shield is on (1 to [`crate::protocol::MAX_SLOW_MODE_SECS`]).
    pub slow_mode_secs: u32,
    /// Hold every line of a first-time chatter (see the module doc).
    pub hold_first_time_chatters: bool,
    /// Extra blocked terms (the live's term syntax: whole words, `*` at an
    /// end), on top of the live's own rules.
    pub terms: Vec<String>,
    /// Extra regexes, as the live's regex rules.
    pub regexes: Vec<String>,
    /// What the extra terms, regexes and links do: hold or block.
    pub action: Action,
    /// Which links pass while Shield is on.
    pub links: LinkPolicy,
    /// Terms whose recent users are listed for review when Shield goes on.
    pub ban_recent_terms: Vec<String>,
    /// How far back `ban_recent_terms` looks, in minutes.
    pub ban_recent_minutes: u32,
}

impl Default for ShieldPreset {
    fn default() -> Self {
        Self {
            slow_mode_secs: DEFAULT_SHIELD_SLOW_MODE_SECS,
            hold_first_time_chatters: true,
            terms: Vec::new(),
            regexes: Vec::new(),
            action: Action::Hold,
            links: LinkPolicy::NoLinks,
            ban_recent_terms: Vec::new(),
            ban_recent_minutes: DEFAULT_BAN_RECENT_MINUTES,
        }
    }
}

impl ShieldPreset {
    /// The preset's stricter rules and its link policy, compiled.
    pub fn rules(&self) -> Result<RuleSet, RuleError> {
        let mut rules = Vec::new();
        let mut push = |matcher: Matcher| {
            let id = u32::try_from(rules.len()).unwrap_or(u32::MAX);
            rules.push(Rule::new(id, matcher, self.action));
        };
        for term in &self.terms {
            push(Matcher::Term(term.clone()));
        }
        for regex in &self.regexes {
            push(Matcher::Regex(regex.clone()));
        }
        if self.links != LinkPolicy::AllLinks {
            push(Matcher::Links(self.links.clone()));
        }
        RuleSet::compile(rules)
    }

    /// The `ban_recent_terms`, compiled (their action is irrelevant: they
    /// only note who used them).
    pub fn recent_terms(&self) -> Result<RuleSet, RuleError> {
        let rules = self
            .ban_recent_terms
            .iter()
            .enumerate()
            .map(|(i, term)| {
                let id = u32::try_from(i).unwrap_or(u32::MAX);
                Rule::new(id, Matcher::Term(term.clone()), Action::Flag)
            })
            .collect();
        RuleSet::compile(rules)
    }
}

/// Shield's word on one viewer line, after the live's own review.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Overlay {
    /// Nothing to add.
    Pass,
    /// Hold it, for this reason.
    Hold(HoldReason),
    /// Refuse it: the sender is told, nobody else sees it.
    Block,
}

/// Shield on: since when, and the settings it replaced.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Active {
    /// [`Shield::lines`] when Shield went on.
    since: u64,
    previous: Settings,
}

/// One noted use of a `ban_recent_terms` term.
#[derive(Debug, Clone)]
struct Use {
    at: Millis,
    viewer: ViewerId,
    first_name: String,
    pseudonym: String,
}

/// A live's Shield: its preset, compiled, and whether it is on.
#[derive(Debug, Clone, Default)]
pub struct Shield {
    preset: ShieldPreset,
    rules: RuleSet,
    recent_terms: RuleSet,
    active: Option<Active>,
    /// Viewer lines noted so far, a counter: the order of decisions.
    lines: u64,
    /// The [`Shield::lines`] count at each viewer's first accepted line,
    /// in this hub process (0 for the chat restored at start-up).
    first_said: HashMap<ViewerId, u64>,
    /// Uses of `ban_recent_terms`, oldest first, within the window.
    uses: VecDeque<Use>,
}

impl Shield {
    /// A Shield on `preset`, off. A preset whose rules do not compile (the
    /// brand file is checked before, so only a hand-built one) keeps the
    /// slow mode and the first-time hold and says so in the log.
    pub fn new(preset: ShieldPreset) -> Self {
        let rules = preset.rules().unwrap_or_else(|error| {
            tracing::warn!(%error, "the Shield preset's rules are skipped");
            RuleSet::default()
        });
        let recent_terms = preset.recent_terms().unwrap_or_else(|error| {
            tracing::warn!(%error, "the Shield preset's ban_recent_terms are skipped");
            RuleSet::default()
        });
        Self {
            preset,
            rules,
            recent_terms,
            ..Self::default()
        }
    }

    /// Replaces the preset (Shield off), keeping who has chatted and the
    /// noted term uses.
    pub fn set_preset(&mut self, preset: ShieldPreset) {
        let (first_said, uses) = (
            std::mem::take(&mut self.first_said),
            std::mem::take(&mut self.uses),
        );
        *self = Self {
            first_said,
            uses,
            ..Self::new(preset)
        };
    }

    pub fn is_on(&self) -> bool {
        self.active.is_some()
    }

    pub fn preset(&self) -> &ShieldPreset {
        &self.preset
    }

    /// The preset as staff see it (counts, not terms).
    pub fn view(&self) -> ShieldPresetView {
        let p = &self.preset;
        let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
        ShieldPresetView {
            slow_mode_secs: p.slow_mode_secs,
            hold_first_time_chatters: p.hold_first_time_chatters,
            terms: count(p.terms.len()),
            regexes: count(p.regexes.len()),
            blocks: p.action == Action::Block,
            links: match p.links {
                LinkPolicy::NoLinks => "none",
                LinkPolicy::AllLinks => "all",
                LinkPolicy::AllowList(_) => "allow_list",
            }
            .to_owned(),
            ban_recent_terms: count(p.ban_recent_terms.len()),
            ban_recent_minutes: p.ban_recent_minutes,
        }
    }

    /// Turns Shield on over `current`: the settings to run with, or `None`
    /// when it is on already (the settings remembered the first time are
    /// kept, never overwritten by Shield's own).
    pub fn on(&mut self, current: &Settings) -> Option<Settings> {
        if self.active.is_some() {
            return None;
        }
        self.active = Some(Active {
            since: self.lines,
            previous: current.clone(),
        });
        Some(Settings {
            slow_mode_secs: self.preset.slow_mode_secs,
            shield: true,
            ..current.clone()
        })
    }

    /// Turns Shield off: the settings from before it went on, exactly, or
    /// `None` when it is off.
    pub fn off(&mut self) -> Option<Settings> {
        self.active.take().map(|a| a.previous)
    }

    /// Notes a viewer's accepted line (always, Shield on or off) and, while
    /// on, says what Shield adds to the live's review of `text`.
    /// `names` (first name, pseudonym) is asked only when a
    /// `ban_recent_terms` use is noted: this runs on every viewer line.
    pub fn review(
        &mut self,
        viewer: &ViewerId,
        names: impl FnOnce() -> (String, String),
        text: &str,
        now: Millis,
    ) -> Overlay {
        let verdict = self
            .active
            .as_ref()
            .and_then(|_| self.rules.evaluate(text, now));
        if verdict.as_ref().is_some_and(|v| v.action == Action::Block) {
            return Overlay::Block;
        }
        self.lines += 1;
        // The id is cloned once per viewer, not once per line.
        let first = if let Some(&first) = self.first_said.get(viewer) {
            first
        } else {
            self.first_said.insert(viewer.clone(), self.lines);
            self.lines
        };
        self.note_use(viewer, names, text, now);
        let Some(active) = &self.active else {
            return Overlay::Pass;
        };
        if verdict.is_some() {
            Overlay::Hold(HoldReason::ShieldRule)
        } else if self.preset.hold_first_time_chatters && first > active.since {
            Overlay::Hold(HoldReason::FirstTimeChatter)
        } else {
            Overlay::Pass
        }
    }

    /// Counts a viewer as having chatted before (recent chat restored from
    /// the store at start-up).
    pub fn note_chatted(&mut self, viewer: &ViewerId) {
        self.first_said.insert(viewer.clone(), 0);
    }

    /// Forgets an erased viewer.
    pub fn forget(&mut self, viewer: &ViewerId) {
        self.first_said.remove(viewer);
        self.uses.retain(|u| &u.viewer != viewer);
    }

    fn window_ms(&self) -> Millis {
        Millis::from(self.preset.ban_recent_minutes) * 60_000
    }

    fn note_use(
        &mut self,
        viewer: &ViewerId,
        names: impl FnOnce() -> (String, String),
        text: &str,
        now: Millis,
    ) {
        if self.preset.ban_recent_terms.is_empty() {
            return;
        }
        let window = self.window_ms();
        while self
            .uses
            .front()
            .is_some_and(|u| u.at < now.saturating_sub(window))
        {
            self.uses.pop_front();
        }
        if self.recent_terms.evaluate(text, now).is_none() {
            return;
        }
        if self.uses.len() >= MAX_NOTED_USES {
            self.uses.pop_front();
        }
        let (first_name, pseudonym) = names();
        self.uses.push_back(Use {
            at: now,
            viewer: viewer.clone(),
            first_name,
            pseudonym,
        });
    }

    /// Whether `shield_on` answers with a review list.
    pub fn reviews_recent_terms(&self) -> bool {
        !self.preset.ban_recent_terms.is_empty()
    }

    /// The viewers who used a `ban_recent_terms` term in the window before
    /// `now`, most uses first; `skip` leaves out viewers already banned.
    pub fn suspects(&self, now: Millis, skip: impl Fn(&ViewerId) -> bool) -> Vec<ShieldSuspect> {
        let since = now.saturating_sub(self.window_ms());
        let mut by_viewer: HashMap<&ViewerId, ShieldSuspect> = HashMap::new();
        for u in self.uses.iter().filter(|u| u.at >= since && u.at <= now) {
            if skip(&u.viewer) {
                continue;
            }
            let s = by_viewer.entry(&u.viewer).or_insert_with(|| ShieldSuspect {
                viewer_id: u.viewer.clone(),
                first_name: u.first_name.clone(),
                pseudonym: u.pseudonym.clone(),
                uses: 0,
                last_at: u.at,
            });
            s.uses = s.uses.saturating_add(1);
            s.last_at = s.last_at.max(u.at);
        }
        let mut list: Vec<ShieldSuspect> = by_viewer.into_values().collect();
        list.sort_by(|a, b| {
            b.uses
                .cmp(&a.uses)
                .then(b.last_at.cmp(&a.last_at))
                .then(a.viewer_id.0.cmp(&b.viewer_id.0))
        });
        list
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(name: &str) -> ViewerId {
        ViewerId(format!("v-{name}"))
    }

    fn preset() -> ShieldPreset {
        ShieldPreset {
            terms: vec!["arnaque".into()],
            ban_recent_terms: vec!["spam*".into()],
            ban_recent_minutes: 5,
            ..ShieldPreset::default()
        }
    }

    #[test]
    fn on_remembers_once_and_off_restores_exactly() {
        let mut shield = Shield::new(preset());
        let before = Settings {
            slow_mode_secs: 7,
            viewer_burst: 9,
            ..Settings::default()
        };
        let during = shield.on(&before).unwrap();
        assert_eq!(during.slow_mode_secs, DEFAULT_SHIELD_SLOW_MODE_SECS);
        assert!(during.shield);
        assert_eq!(shield.on(&during), None, "a second on is a no-op");
        assert_eq!(shield.off(), Some(before));
        assert_eq!(shield.off(), None);
    }

    #[test]
    fn first_time_chatters_and_preset_rules_only_while_on() {
        let mut shield = Shield::new(preset());
        let names = || ("Julie".to_owned(), "#1".to_owned());
        assert_eq!(shield.review(&v("old"), names, "hi", 1), Overlay::Pass);
        assert_eq!(shield.review(&v("x"), names, "arnaque", 2), Overlay::Pass);
        shield.on(&Settings::default());
        assert_eq!(shield.review(&v("old"), names, "hi", 101), Overlay::Pass);
        assert_eq!(
            shield.review(&v("new"), names, "hi", 102),
            Overlay::Hold(HoldReason::FirstTimeChatter)
        );
        assert_eq!(
            shield.review(&v("new"), names, "again", 103),
            Overlay::Hold(HoldReason::FirstTimeChatter)
        );
        assert_eq!(
            shield.review(&v("old"), names, "une ARNAQUE", 104),
            Overlay::Hold(HoldReason::ShieldRule)
        );
        assert_eq!(
            shield.review(&v("old"), names, "voir www.example.com", 105),
            Overlay::Hold(HoldReason::ShieldRule)
        );
        shield.off();
        assert_eq!(shield.review(&v("new"), names, "hi", 106), Overlay::Pass);
    }

    #[test]
    fn block_action_refuses() {
        let mut shield = Shield::new(ShieldPreset {
            action: Action::Block,
            ..preset()
        });
        shield.on(&Settings::default());
        assert_eq!(
            shield.review(&v("a"), || ("A".to_owned(), "#a".to_owned()), "arnaque", 1),
            Overlay::Block
        );
    }

    #[test]
    fn suspects_are_the_window_s_users() {
        let mut shield = Shield::new(preset());
        let minute = 60_000;
        shield.review(&v("early"), || ("E".to_owned(), "#e".to_owned()), "spam", 0);
        shield.review(
            &v("a"),
            || ("A".to_owned(), "#a".to_owned()),
            "SPAMMING",
            4 * minute,
        );
        shield.review(
            &v("a"),
            || ("A".to_owned(), "#a".to_owned()),
            "spam spam",
            5 * minute,
        );
        shield.review(
            &v("b"),
            || ("B".to_owned(), "#b".to_owned()),
            "spam",
            6 * minute,
        );
        shield.review(
            &v("c"),
            || ("C".to_owned(), "#c".to_owned()),
            "clean",
            6 * minute,
        );
        let list = shield.suspects(6 * minute, |id| id == &v("b"));
        let ids: Vec<(&str, u32)> = list
            .iter()
            .map(|s| (s.viewer_id.0.as_str(), s.uses))
            .collect();
        assert_eq!(ids, [("v-a", 2)]);
    }
}
