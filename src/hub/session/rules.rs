//! The live's moderation rules: the session's side of `rule_add`,
//! `rule_remove`, `rules` and `rule_test`, and of rules expiring on the
//! live's clock.
//!
//! A change is a staff-only event (`rule_added`, `rule_removed`) the store
//! applies to its `rules` table in the batch's one transaction, and an
//! audit record that names the rule by id, kind and action, never by its
//! pattern: the term stays out of every viewer's reach and of the
//! append-only log.

use super::{Decision, Principal, Refusal, Reply, Session};
use crate::hub::engagement::HUB_ACTOR;
use crate::hub::moderation::{MAX_PATTERN_BYTES, Moderation, refusal_text};
use crate::privacy::sanitize;
use crate::protocol::{Command, Event, Millis, RuleType, RuleView, StaffRole};
use crate::store::AuditEntry;

/// The longest expiry a rule may have: 30 days (the editor offers 1 h,
/// 1 day and 7 days; longer is a permanent rule removed by hand).
pub const MAX_RULE_EXPIRY_SECS: u32 = 30 * 24 * 3600;

impl Session {
    /// The live's rules as the session applies them.
    pub fn moderation(&self) -> &Moderation {
        &self.moderation
    }

    pub(super) fn rules_command(
        &mut self,
        who: &Principal,
        command: &Command,
        now: Millis,
    ) -> Result<Decision, Refusal> {
        match command {
            Command::RuleAdd {
                kind,
                pattern,
                action,
                expires_in_secs,
            } => {
                let pattern = sanitize(pattern).trim().to_owned();
                if pattern.is_empty() {
                    return Err(Refusal::invalid("a rule needs a pattern"));
                }
                if pattern.len() > MAX_PATTERN_BYTES {
                    return Err(Refusal::invalid(format!(
                        "a rule's pattern is at most {MAX_PATTERN_BYTES} bytes"
                    )));
                }
                let expires_at = match *expires_in_secs {
                    None => None,
                    Some(secs) if (1..=MAX_RULE_EXPIRY_SECS).contains(&secs) => {
                        Some(now.saturating_add(i64::from(secs) * 1000))
                    }
                    Some(_) => {
                        return Err(Refusal::invalid(format!(
                            "a rule expires in 1 to {MAX_RULE_EXPIRY_SECS} seconds, or never"
                        )));
                    }
                };
                let rule = RuleView {
                    rule_id: self.moderation.next_id(),
                    kind: *kind,
                    pattern,
                    action: *action,
                    expires_at,
                    created_by: who.actor(),
                    created_at: now,
                };
                self.moderation
                    .add(rule.clone())
                    .map_err(|e| Refusal::invalid(refusal_text(&e)))?;
                let target = format!("rule {}", rule.rule_id);
                let summary = rule_summary(&rule);
                let mut d = self.emit(vec![Event::RuleAdded { rule }], now);
                d.audit = Self::audit(who, "rule_add", &target, &summary, now);
                Ok(d)
            }
            Command::RuleRemove { rule_id } => {
                let Some(rule) = self.moderation.remove(*rule_id) else {
                    return Err(Refusal::not_found(format!(
                        "no rule {rule_id} in this live"
                    )));
                };
                let by = who.actor();
                let mut d = self.emit(
                    vec![Event::RuleRemoved {
                        rule_id: *rule_id,
                        by,
                    }],
                    now,
                );
                let target = format!("rule {rule_id}");
                d.audit = Self::audit(who, "rule_remove", &target, &rule_summary(&rule), now);
                Ok(d)
            }
            Command::Rules => {
                let active = self
                    .moderation
                    .rules()
                    .iter()
                    .filter(|r| r.expires_at.is_none_or(|end| now < end))
                    .cloned()
                    .collect();
                Ok(Decision::reply(Reply::Rules(active)))
            }
            Command::RuleTest { text } => {
                let text = sanitize(text);
                Ok(Decision::reply(Reply::RuleTest(
                    self.moderation.test(text.trim(), now),
                )))
            }
            other => Err(Refusal::invalid(format!(
                "{} is not a rules command",
                other.kind().name()
            ))),
        }
    }

    /// The rules that expired by `now`: one `rule_removed` without `by`
    /// each, audited as the hub.
    pub(super) fn expire_rules(&mut self, now: Millis) -> Vec<Decision> {
        self.moderation
            .expire(now)
            .into_iter()
            .map(|rule| {
                let mut d = self.emit(
                    vec![Event::RuleRemoved {
                        rule_id: rule.rule_id,
                        by: None,
                    }],
                    now,
                );
                d.audit = Some(AuditEntry {
                    actor_name: HUB_ACTOR.into(),
                    actor_role: StaffRole::Admin,
                    action: "rule_expired".into(),
                    target: format!("rule {}", rule.rule_id),
                    reason: rule_summary(&rule),
                    at: now,
                });
                d
            })
            .collect()
    }
}

/// What the audit says of a rule: its kind and action, never its pattern.
fn rule_summary(rule: &RuleView) -> String {
    let kind = match rule.kind {
        RuleType::Term => "term",
        RuleType::Regex => "regex",
        RuleType::LinkPolicy => "link policy",
    };
    format!("{kind}, {}", rule.action.as_str())
}
