//! Question groups, kept up to date one question at a time.
//!
//! A new question is read once ([`Signature::of`]) and compared only with
//! the groups of its bucket (same intents, same values), through an index
//! from bucket to groups: ingest costs the same with 5 or 5,000 open
//! questions. A group takes new questions while one of its members is
//! open; once every member is answered, the next such question starts a
//! new group. Staff corrections — a question split out, two groups merged
//! — are remembered by message id, so a reload rebuilds the same groups.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use super::Signature;
use crate::protocol::MessageId;

/// A group, by a number that stays while its members change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupId(u64);

type Bucket = String;

#[derive(Debug, Clone)]
struct Group {
    /// Oldest first: the first is the group's lead, whose text it shows.
    members: BTreeSet<MessageId>,
    answered: BTreeSet<MessageId>,
    /// The signatures a new question is compared with: the first
    /// member's, and each merged group's.
    reps: Vec<(Bucket, Signature)>,
}

impl Group {
    fn lead(&self) -> Option<MessageId> {
        self.members.first().copied()
    }

    fn is_open(&self) -> bool {
        self.answered.len() < self.members.len()
    }
}

/// Every question this console holds, in groups.
#[derive(Debug, Clone, Default)]
pub struct QuestionGroups {
    next: u64,
    groups: HashMap<GroupId, Group>,
    of: HashMap<MessageId, GroupId>,
    /// Groups that take new questions, by bucket.
    buckets: HashMap<Bucket, Vec<GroupId>>,
    /// Groups by their lead, with their size, so display order costs no
    /// sort and no lookup.
    by_lead: BTreeMap<MessageId, (GroupId, usize)>,
    /// Split out by staff: stands alone, takes no one automatically.
    alone: HashSet<MessageId>,
    /// Merged by staff into the group of another message.
    joined: HashMap<MessageId, MessageId>,
}

fn bucket_of(sig: &Signature) -> Bucket {
    use std::fmt::Write;
    let mut key = String::new();
    for i in &sig.intents {
        let _ = write!(key, "{i:?},");
    }
    key.push('|');
    for v in &sig.values {
        key.push_str(v);
        key.push(',');
    }
    key
}

impl QuestionGroups {
    /// Forgets every question; staff corrections stay (a reload lists the
    /// same questions again).
    pub fn clear(&mut self) {
        self.groups.clear();
        self.of.clear();
        self.buckets.clear();
        self.by_lead.clear();
    }

    /// Adds a question (or updates whether it is answered, when known).
    pub fn insert(&mut self, id: MessageId, text: &str, answered: bool) {
        if self.of.contains_key(&id) {
            self.set_answered(id, answered);
            return;
        }
        let anchor = self.joined.get(&id).and_then(|a| self.of.get(a)).copied();
        let gid = if let Some(gid) = anchor {
            gid
        } else if self.alone.contains(&id) {
            self.new_group(Vec::new())
        } else {
            let sig = Signature::of(text);
            let bucket = bucket_of(&sig);
            let found = (!sig.is_empty())
                .then(|| self.buckets.get(&bucket))
                .flatten()
                .and_then(|gids| {
                    gids.iter().copied().find(|g| {
                        self.groups.get(g).is_some_and(|group| {
                            group.is_open()
                                && group.reps.iter().any(|(_, rep)| rep.same_question(&sig))
                        })
                    })
                });
            match found {
                Some(gid) => gid,
                None if sig.is_empty() => self.new_group(Vec::new()),
                None => self.new_group(vec![(bucket, sig)]),
            }
        };
        self.add_member(gid, id, answered);
    }

    fn new_group(&mut self, reps: Vec<(Bucket, Signature)>) -> GroupId {
        self.next += 1;
        let gid = GroupId(self.next);
        for (bucket, _) in &reps {
            self.buckets.entry(bucket.clone()).or_default().push(gid);
        }
        self.groups.insert(
            gid,
            Group {
                members: BTreeSet::new(),
                answered: BTreeSet::new(),
                reps,
            },
        );
        gid
    }

    fn add_member(&mut self, gid: GroupId, id: MessageId, answered: bool) {
        let Some(group) = self.groups.get_mut(&gid) else {
            return;
        };
        let old_lead = group.lead();
        group.members.insert(id);
        if answered {
            group.answered.insert(id);
        }
        let new_lead = group.lead();
        self.of.insert(id, gid);
        self.relead(gid, old_lead, new_lead);
    }

    /// Keeps `by_lead` right after a member came or went.
    fn relead(&mut self, gid: GroupId, old: Option<MessageId>, new: Option<MessageId>) {
        if let Some(old) = old
            && Some(old) != new
        {
            self.by_lead.remove(&old);
        }
        if let Some(new) = new {
            let size = self.groups.get(&gid).map_or(0, |g| g.members.len());
            self.by_lead.insert(new, (gid, size));
        }
    }

    /// Marks a question answered or open again.
    pub fn set_answered(&mut self, id: MessageId, answered: bool) {
        let Some(group) = self.of.get(&id).and_then(|g| self.groups.get_mut(g)) else {
            return;
        };
        if answered {
            group.answered.insert(id);
        } else {
            group.answered.remove(&id);
        }
    }

    /// Takes a question out (redacted, erased, dropped from the pane).
    pub fn remove(&mut self, id: MessageId) {
        let Some(gid) = self.of.remove(&id) else {
            return;
        };
        let Some(group) = self.groups.get_mut(&gid) else {
            return;
        };
        let old_lead = group.lead();
        group.members.remove(&id);
        group.answered.remove(&id);
        let new_lead = group.lead();
        if new_lead.is_none() {
            self.drop_group(gid);
        }
        self.relead(gid, old_lead, new_lead);
    }

    fn drop_group(&mut self, gid: GroupId) {
        let Some(group) = self.groups.remove(&gid) else {
            return;
        };
        for (bucket, _) in group.reps {
            if let Some(list) = self.buckets.get_mut(&bucket) {
                list.retain(|g| *g != gid);
                if list.is_empty() {
                    self.buckets.remove(&bucket);
                }
            }
        }
    }

    /// Splits `id` out of its group into a group of its own, which takes
    /// no later question by itself. Whether anything changed (a question
    /// alone already is not split).
    pub fn split(&mut self, id: MessageId) -> bool {
        if self.group_len(id) < 2 {
            return false;
        }
        let answered = self.is_answered(id);
        self.remove(id);
        self.joined.remove(&id);
        self.alone.insert(id);
        let gid = self.new_group(Vec::new());
        self.add_member(gid, id, answered);
        true
    }

    /// Moves every member of `from`'s group into `into`'s group; later
    /// questions like either join it. Whether anything changed.
    pub fn merge(&mut self, into: MessageId, from: MessageId) -> bool {
        let (Some(&target), Some(&source)) = (self.of.get(&into), self.of.get(&from)) else {
            return false;
        };
        if target == source {
            return false;
        }
        let Some(moved) = self.groups.get(&source).cloned() else {
            return false;
        };
        self.drop_group(source);
        if let Some(lead) = moved.lead() {
            self.by_lead.remove(&lead);
        }
        for (bucket, _) in &moved.reps {
            self.buckets.entry(bucket.clone()).or_default().push(target);
        }
        if let Some(group) = self.groups.get_mut(&target) {
            group.reps.extend(moved.reps);
        }
        for id in &moved.members {
            self.of.remove(id);
            self.alone.remove(id);
            self.add_member(target, *id, moved.answered.contains(id));
        }
        // A reload lists questions oldest first: each member then finds
        // the lead already there and joins it.
        if let Some(group) = self.groups.get(&target)
            && let Some(lead) = group.lead()
        {
            for id in &group.members {
                self.joined.insert(*id, lead);
            }
        }
        true
    }

    /// The group of a question.
    pub fn group_of(&self, id: MessageId) -> Option<GroupId> {
        self.of.get(&id).copied()
    }

    /// The members of `id`'s group, oldest first (just `id` when alone,
    /// nothing when unknown).
    pub fn members_with(&self, id: MessageId) -> Vec<MessageId> {
        self.of
            .get(&id)
            .and_then(|g| self.groups.get(g))
            .map(|g| g.members.iter().copied().collect())
            .unwrap_or_default()
    }

    /// The members of a group, oldest first.
    pub fn members(&self, gid: GroupId) -> impl DoubleEndedIterator<Item = MessageId> + '_ {
        self.groups
            .get(&gid)
            .into_iter()
            .flat_map(|g| g.members.iter().copied())
    }

    /// How many questions `id`'s group holds.
    pub fn group_len(&self, id: MessageId) -> usize {
        self.of
            .get(&id)
            .and_then(|g| self.groups.get(g))
            .map_or(0, |g| g.members.len())
    }

    fn is_answered(&self, id: MessageId) -> bool {
        self.of
            .get(&id)
            .and_then(|g| self.groups.get(g))
            .is_some_and(|g| g.answered.contains(&id))
    }

    /// Whether every question of the group is answered.
    pub fn group_answered(&self, gid: GroupId) -> bool {
        self.groups.get(&gid).is_some_and(|g| !g.is_open())
    }

    /// Groups by their oldest question, oldest first: `(lead, group,
    /// size)`, one lookup each (the pane asks on every event).
    pub fn in_order(&self) -> impl DoubleEndedIterator<Item = (MessageId, GroupId, usize)> + '_ {
        self.by_lead
            .iter()
            .map(|(lead, (gid, size))| (*lead, *gid, *size))
    }

    /// Up to `count` groups either side of `lead`'s, nearest first, in
    /// display order: `(before, after)`, each `(lead, group, size)`.
    #[expect(clippy::type_complexity, reason = "two lists of the same rows")]
    pub fn around(
        &self,
        lead: MessageId,
        count: usize,
    ) -> (
        Vec<(MessageId, GroupId, usize)>,
        Vec<(MessageId, GroupId, usize)>,
    ) {
        let row = |(l, (g, s)): (&MessageId, &(GroupId, usize))| (*l, *g, *s);
        let before = self
            .by_lead
            .range(..lead)
            .rev()
            .take(count)
            .map(row)
            .collect();
        let after = self
            .by_lead
            .range(lead..)
            .take(count + 1)
            .map(row)
            .collect();
        (before, after)
    }

    /// Whether `id` leads its group (and so has the group's row).
    pub fn is_lead(&self, id: MessageId) -> bool {
        self.by_lead.contains_key(&id)
    }

    /// How many groups there are.
    pub fn len(&self) -> usize {
        self.groups.len()
    }

    pub fn is_empty(&self) -> bool {
        self.groups.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn groups(texts: &[&str]) -> QuestionGroups {
        let mut g = QuestionGroups::default();
        for (i, t) in texts.iter().enumerate() {
            g.insert(MessageId(i as u64 + 1), t, false);
        }
        g
    }

    fn ids(v: &[u64]) -> Vec<MessageId> {
        v.iter().copied().map(MessageId).collect()
    }

    #[test]
    fn the_same_question_joins_the_open_group_and_the_lead_is_the_oldest() {
        let g = groups(&[
            "Elle existe en 38 ?",
            "C'est combien la livraison ?",
            "vous l'avez en 38 ?",
            "Elle existe en 42 ?",
            "dispo en taille 38 svp",
        ]);
        assert_eq!(g.members_with(MessageId(5)), ids(&[1, 3, 5]));
        assert_eq!(g.members_with(MessageId(4)), ids(&[4]));
        let leads: Vec<MessageId> = g.in_order().map(|(lead, _, _)| lead).collect();
        assert_eq!(leads, ids(&[1, 2, 4]));
    }

    #[test]
    fn an_answered_group_takes_no_new_question() {
        let mut g = groups(&["Elle existe en 38 ?"]);
        g.set_answered(MessageId(1), true);
        g.insert(MessageId(2), "elle existe en 38", false);
        assert_eq!(g.members_with(MessageId(2)), ids(&[2]));
        g.set_answered(MessageId(1), false);
        g.insert(MessageId(3), "vous l'avez en 38", false);
        assert_eq!(g.members_with(MessageId(3)), ids(&[1, 3]));
    }

    #[test]
    fn removing_the_lead_makes_the_next_member_lead_and_empty_groups_go() {
        let mut g = groups(&["Elle existe en 38 ?", "Elle existe en 38 ?"]);
        g.remove(MessageId(1));
        let leads: Vec<MessageId> = g.in_order().map(|(lead, _, _)| lead).collect();
        assert_eq!(leads, ids(&[2]));
        g.remove(MessageId(2));
        assert!(g.is_empty() && g.in_order().next().is_none());
        g.insert(MessageId(3), "Elle existe en 38 ?", false);
        assert_eq!(g.members_with(MessageId(3)), ids(&[3]));
    }

    #[test]
    fn split_and_merge_are_remembered_across_a_reload() {
        let texts = [
            "Elle existe en 38 ?",
            "Elle existe en 38 ?",
            "Livraison en Belgique ?",
            "Do you ship to Belgium?",
        ];
        let mut g = groups(&texts);
        assert!(g.split(MessageId(2)));
        assert!(!g.split(MessageId(2)), "alone already");
        assert_eq!(g.members_with(MessageId(1)), ids(&[1]));
        g.insert(MessageId(5), "elle existe en 38", false);
        assert_eq!(
            g.members_with(MessageId(5)),
            ids(&[1, 5]),
            "not the split one"
        );
        assert!(g.merge(MessageId(3), MessageId(1)));
        assert_eq!(g.members_with(MessageId(1)), ids(&[1, 3, 4, 5]));
        // A later question like the merged group's joins the merged group.
        g.insert(MessageId(6), "vous l'avez en 38 ?", false);
        assert_eq!(g.group_len(MessageId(6)), 5);

        g.clear();
        for (i, t) in texts.iter().enumerate() {
            g.insert(MessageId(i as u64 + 1), t, false);
        }
        g.insert(MessageId(5), "elle existe en 38", false);
        assert_eq!(g.members_with(MessageId(2)), ids(&[2]));
        assert_eq!(g.members_with(MessageId(3)), ids(&[1, 3, 4, 5]));
    }
}
