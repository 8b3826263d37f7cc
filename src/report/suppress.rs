//! k-anonymity: what of the figures may be published.
//!
//! 1. **Primary suppression**: a cell backed by fewer than k distinct
//!    viewers is withheld (a cell with no viewer at all too).
//! 2. **Complementary suppression**: cells that add up to a published
//!    figure form a group (a timeline column and its total; the actions
//!    by kind and their sum; the actions by rule and the `held` +
//!    `flagged` actions they add up to; the polls and their votes; the
//!    instant wins and their entries). When exactly one cell of a group
//!    is withheld, the total minus the others would give it away, so the
//!    smallest other cell is withheld too (a non-zero one first); a group
//!    with no other cell withholds its total instead. This repeats until
//!    nothing changes, since one group's complement may leave another
//!    with a single withheld cell.
//!
//! Every published cell is backed by ≥ k viewers, so it is ≥ k: a
//! withheld cell can then only be bounded by `0 ..= total − visible`,
//! never pinned down, unless all withheld cells of a group are 0 (which
//! describes nobody). `report::suppress::tests` attack it that way.

use std::collections::BTreeMap;

use super::{
    ATTRIBUTION, Audience, Cell, Chat, Commerce, Figures, Games, K, Minute, Moderation, Report,
    Shown, Status, rounded,
};

/// The schema version of the published JSON (`docs/report.md`).
pub const SCHEMA: u32 = 1;

/// Cells and the groups that tie them together, for suppression.
#[derive(Debug, Default, Clone)]
pub struct Sheet {
    pub cells: Vec<Cell>,
    /// Each group: the cells whose sum is its total, and the cells whose
    /// sum is published as that total.
    pub groups: Vec<Group>,
}

#[derive(Debug, Default, Clone)]
pub struct Group {
    pub parts: Vec<usize>,
    pub total: Vec<usize>,
}

impl Sheet {
    fn add(&mut self, cell: Cell) -> usize {
        self.cells.push(cell);
        self.cells.len() - 1
    }

    /// Which cells are withheld.
    pub fn withheld(&self, k: K) -> Vec<bool> {
        let mut hidden: Vec<bool> = self.cells.iter().map(|c| c.viewers < k.get()).collect();
        while let Some(exposed) = self.first_exposed(&hidden) {
            // Withhold the smallest visible cell (a part first, a non-zero
            // one first) of the groups nearest the exposed cell: its own,
            // then those of the withheld cells tied to it, and so on.
            let mut reach = vec![exposed];
            let mut seen: Vec<bool> = vec![false; self.groups.len()];
            let mut pick = None;
            while pick.is_none() {
                let touching: Vec<usize> = (0..self.groups.len())
                    .filter(|&g| !seen[g])
                    .filter(|&g| {
                        let group = &self.groups[g];
                        reach
                            .iter()
                            .any(|i| group.parts.contains(i) || group.total.contains(i))
                    })
                    .collect();
                if touching.is_empty() {
                    break;
                }
                pick = touching
                    .iter()
                    .flat_map(|&g| {
                        let group = &self.groups[g];
                        group
                            .parts
                            .iter()
                            .map(|&i| (false, i))
                            .chain(group.total.iter().map(|&i| (true, i)))
                    })
                    .filter(|&(_, i)| !hidden[i])
                    .min_by_key(|&(total, i)| {
                        (total, self.cells[i].value == 0, self.cells[i].value, i)
                    });
                for &g in &touching {
                    seen[g] = true;
                    let group = &self.groups[g];
                    reach.extend(
                        group
                            .parts
                            .iter()
                            .chain(&group.total)
                            .filter(|&&i| hidden[i]),
                    );
                }
            }
            match pick {
                Some((_, i)) => hidden[i] = true,
                // Nothing published is tied to it any more.
                None => return hidden,
            }
        }
        hidden
    }

    /// A withheld cell the published figures determine, if any: each
    /// group is an equation (parts − total = 0); with the published
    /// cells moved to the right-hand side, a withheld cell is determined
    /// exactly when its unit vector lies in the row space of the
    /// withheld cells' coefficients (Gaussian elimination, reduced row
    /// echelon form). Combinations of groups count, not only a group
    /// with a single withheld cell.
    fn first_exposed(&self, hidden: &[bool]) -> Option<usize> {
        let unknowns: Vec<usize> = (0..self.cells.len()).filter(|&i| hidden[i]).collect();
        let column: std::collections::HashMap<usize, usize> =
            unknowns.iter().enumerate().map(|(c, &i)| (i, c)).collect();
        let mut rows: Vec<Vec<f64>> = self
            .groups
            .iter()
            .map(|g| {
                let mut row = vec![0.0f64; unknowns.len()];
                for &p in &g.parts {
                    if let Some(&c) = column.get(&p) {
                        row[c] += 1.0;
                    }
                }
                for &t in &g.total {
                    if let Some(&c) = column.get(&t) {
                        row[c] -= 1.0;
                    }
                }
                row
            })
            .filter(|row| row.iter().any(|x| x.abs() > EPSILON))
            .collect();
        let mut pivots = Vec::new();
        let mut r = 0;
        for c in 0..unknowns.len() {
            let Some(p) = (r..rows.len()).find(|&i| rows[i][c].abs() > EPSILON) else {
                continue;
            };
            rows.swap(r, p);
            let lead = rows[r][c];
            for x in &mut rows[r] {
                *x /= lead;
            }
            let pivot_row = rows[r].clone();
            for (i, row) in rows.iter_mut().enumerate() {
                if i != r && row[c].abs() > EPSILON {
                    let f = row[c];
                    for (x, y) in row.iter_mut().zip(&pivot_row) {
                        *x -= f * y;
                    }
                }
            }
            pivots.push((r, c));
            r += 1;
            if r == rows.len() {
                break;
            }
        }
        pivots.into_iter().find_map(|(r, c)| {
            let alone = rows[r]
                .iter()
                .enumerate()
                .all(|(j, x)| j == c || x.abs() <= EPSILON);
            alone.then_some(unknowns[c])
        })
    }
}

/// Below this, a coefficient is zero (they are small integers and their
/// ratios).
const EPSILON: f64 = 1e-9;

/// The report as published with `k`.
#[expect(clippy::too_many_lines, reason = "one line per published figure")]
pub fn publish(f: &Figures, k: K) -> Report {
    let mut s = Sheet::default();
    let peak = s.add(f.peak_concurrent);
    let unique = s.add(f.unique_viewers);
    let watch = s.add(f.total_watch_ms);
    let messages = s.add(f.messages);
    let chatters = s.add(f.chatters);
    let asked = s.add(f.questions_asked);
    let answered = s.add(f.questions_answered);
    let actions = s.add(f.moderation_actions);
    let by_action: BTreeMap<&String, usize> = f
        .moderation_by_action
        .iter()
        .map(|(a, c)| (a, s.add(*c)))
        .collect();
    let by_rule: BTreeMap<&String, usize> = f
        .moderation_by_rule
        .iter()
        .map(|(r, c)| (r, s.add(*c)))
        .collect();
    let polls: BTreeMap<u64, usize> = f.polls.iter().map(|(id, c)| (*id, s.add(*c))).collect();
    let poll_votes = s.add(sum(f.polls.values()));
    let wins: BTreeMap<u64, usize> = f
        .instant_wins
        .iter()
        .map(|(id, c)| (*id, s.add(*c)))
        .collect();
    let entries = s.add(sum(f.instant_wins.values()));
    let views = s.add(f.product_views);
    let carting = s.add(f.add_to_cart_viewers);
    let carts = s.add(f.carts);
    let orders = s.add(f.orders);
    let buyers = s.add(f.buyers);
    let revenue: BTreeMap<&String, usize> = f.revenue.iter().map(|(c, r)| (c, s.add(*r))).collect();
    let minutes: Vec<[usize; 4]> = f
        .timeline
        .iter()
        .map(|m| {
            [
                s.add(m.viewers),
                s.add(m.messages),
                s.add(m.questions),
                s.add(m.add_to_cart),
            ]
        })
        .collect();

    let column = |c: usize| minutes.iter().map(|m| m[c]).collect::<Vec<_>>();
    s.groups = vec![
        Group {
            parts: column(1),
            total: vec![messages],
        },
        Group {
            parts: column(2),
            total: vec![asked],
        },
        Group {
            parts: column(3),
            total: vec![carts],
        },
        Group {
            parts: by_action.values().copied().collect(),
            total: vec![actions],
        },
        Group {
            parts: by_rule.values().copied().collect(),
            total: ["held", "flagged"]
                .iter()
                .filter_map(|a| by_action.get(&(*a).to_owned()).copied())
                .collect(),
        },
        Group {
            parts: polls.values().copied().collect(),
            total: vec![poll_votes],
        },
        Group {
            parts: wins.values().copied().collect(),
            total: vec![entries],
        },
    ];
    let hidden = s.withheld(k);
    let shown = |i: usize| -> Shown { (!hidden[i]).then_some(s.cells[i].value) };
    let both = |a: usize, b: usize| !hidden[a] && !hidden[b];
    let ratio = |a: usize, b: usize| {
        (both(a, b) && s.cells[b].value > 0)
            .then(|| rounded(s.cells[a].value as f64 / s.cells[b].value as f64, 4))
    };
    let aov = match (f.revenue.len(), revenue.values().next()) {
        (1, Some(&r)) if both(r, orders) && s.cells[orders].value > 0 => {
            Some(s.cells[r].value / s.cells[orders].value)
        }
        _ => None,
    };

    Report {
        schema: SCHEMA,
        live: f.live.clone(),
        status: f.status.unwrap_or(Status::Final),
        k,
        started_at: f.started_at,
        ended_at: f.ended_at,
        length_ms: f.length_ms,
        audience: Audience {
            peak_concurrent: shown(peak),
            average_concurrent: (!hidden[watch]).then_some(f.average_concurrent),
            unique_viewers: shown(unique),
            total_watch_ms: shown(watch),
            average_watch_ms: (!hidden[watch]).then_some(f.average_watch_ms),
        },
        chat: Chat {
            messages: shown(messages),
            chatters: shown(chatters),
            engagement: ratio(chatters, unique),
            questions_asked: shown(asked),
            questions_answered: shown(answered),
            answer_delay_p50_ms: f.answer_delay_p50_ms.filter(|_| !hidden[answered]),
            answer_delay_p90_ms: f.answer_delay_p90_ms.filter(|_| !hidden[answered]),
        },
        moderation: Moderation {
            actions: shown(actions),
            by_action: by_action
                .iter()
                .map(|(a, &i)| ((*a).clone(), shown(i)))
                .collect(),
            by_rule: by_rule
                .iter()
                .map(|(r, &i)| ((*r).clone(), shown(i)))
                .collect(),
        },
        games: Games {
            poll_votes: shown(poll_votes),
            polls: polls
                .iter()
                .map(|(id, &i)| (format!("poll {id}"), shown(i)))
                .collect(),
            instant_win_entries: shown(entries),
            instant_wins: wins
                .iter()
                .map(|(id, &i)| (format!("draw {id}"), shown(i)))
                .collect(),
        },
        commerce: Commerce {
            attribution: ATTRIBUTION.to_owned(),
            status: f.commerce_status.or(f.status).unwrap_or(Status::Final),
            product_views: shown(views),
            add_to_cart_viewers: shown(carting),
            carts: shown(carts),
            orders: shown(orders),
            revenue: revenue
                .iter()
                .map(|(c, &i)| ((*c).clone(), shown(i)))
                .collect(),
            average_order_value: aov,
            conversion: ratio(buyers, unique),
        },
        timeline: minutes
            .iter()
            .enumerate()
            .map(|(m, c)| Minute {
                minute: m as u64,
                viewers: shown(c[0]),
                messages: shown(c[1]),
                questions: shown(c[2]),
                add_to_cart: shown(c[3]),
            })
            .collect(),
    }
}

/// A group's total: the values add up; its viewers are at least the
/// largest part's (a lower bound of the distinct viewers behind it).
fn sum<'a>(cells: impl Iterator<Item = &'a Cell>) -> Cell {
    cells.fold(Cell::default(), |acc, c| Cell {
        value: acc.value + c.value,
        viewers: acc.viewers.max(c.viewers),
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// What an attacker pins down from the published figures: an
    /// equation (a group: parts = total) with one unknown left gives it;
    /// each value found is substituted into the other equations, again
    /// and again. An equation whose unknowns must add up to 0 gives them
    /// all (cells are never negative): 0, which describes nobody, so only
    /// non-zero recoveries count as a leak. Returns the cells recovered.
    fn recovered(sheet: &Sheet, hidden: &[bool]) -> Vec<usize> {
        let mut known: Vec<Option<u64>> = sheet
            .cells
            .iter()
            .zip(hidden)
            .map(|(c, &h)| (!h).then_some(c.value))
            .collect();
        let mut out = Vec::new();
        loop {
            let mut progress = false;
            for g in &sheet.groups {
                let unknown: Vec<usize> = g
                    .parts
                    .iter()
                    .chain(&g.total)
                    .copied()
                    .filter(|&i| known[i].is_none())
                    .collect();
                let [only] = unknown[..] else { continue };
                let parts: i128 = g
                    .parts
                    .iter()
                    .filter_map(|&i| known[i])
                    .map(i128::from)
                    .sum();
                let total: i128 = g
                    .total
                    .iter()
                    .filter_map(|&i| known[i])
                    .map(i128::from)
                    .sum();
                let value = if g.parts.contains(&only) {
                    total - parts
                } else {
                    parts - total
                };
                let value = u64::try_from(value).expect("the figures are consistent");
                known[only] = Some(value);
                assert_eq!(value, sheet.cells[only].value, "the attack is sound");
                if value > 0 {
                    out.push(only);
                }
                progress = true;
            }
            if !progress {
                return out;
            }
        }
    }

    fn cell() -> impl Strategy<Value = Cell> {
        (0u64..12).prop_flat_map(|viewers| {
            (viewers..viewers * 4 + 1).prop_map(move |value| Cell::new(value, viewers))
        })
    }

    /// One to four groups of parts adding up to a total, the totals
    /// sometimes adding up to a grand total, and sometimes a second split
    /// of a group's total (like actions by kind and by rule).
    fn sheet() -> impl Strategy<Value = Sheet> {
        (
            prop::collection::vec(prop::collection::vec(cell(), 1..8), 1..4),
            any::<bool>(),
            any::<bool>(),
        )
            .prop_map(|(groups, grand, resplit)| {
                let mut s = Sheet::default();
                let mut totals = Vec::new();
                for parts in groups {
                    let total = sum(parts.iter());
                    let viewers = parts.iter().map(|c| c.viewers).sum();
                    let values: Vec<u64> = parts.iter().map(|c| c.value).collect();
                    let parts: Vec<usize> = parts.into_iter().map(|c| s.add(c)).collect();
                    let t = s.add(Cell::new(total.value, viewers));
                    s.groups.push(Group {
                        parts,
                        total: vec![t],
                    });
                    if resplit && values.len() >= 2 {
                        // The same total split another way: first part
                        // with the second, the rest alone.
                        let mut again = vec![s.add(Cell::new(values[0] + values[1], viewers))];
                        again.extend(
                            values[2..]
                                .iter()
                                .map(|&v| s.add(Cell::new(v, v.min(viewers)))),
                        );
                        s.groups.push(Group {
                            parts: again,
                            total: vec![t],
                        });
                    }
                    totals.push(t);
                }
                if grand {
                    let value = totals.iter().map(|&t| s.cells[t].value).sum();
                    let viewers = totals.iter().map(|&t| s.cells[t].viewers).sum();
                    let g = s.add(Cell::new(value, viewers));
                    s.groups.push(Group {
                        parts: totals,
                        total: vec![g],
                    });
                }
                s
            })
    }

    proptest! {
        #[test]
        fn no_withheld_value_can_be_solved_from_the_totals(s in sheet(), k in 2u32..=11) {
            let k = K::new(k).expect("in range");
            let hidden = s.withheld(k);
            for (i, c) in s.cells.iter().enumerate() {
                if c.viewers < k.get() {
                    prop_assert!(hidden[i], "cell {i} has {} viewers and is shown", c.viewers);
                }
            }
            let solved = recovered(&s, &hidden);
            prop_assert!(solved.is_empty(), "recovered {solved:?} from {s:?}");
        }
    }

    #[test]
    #[expect(
        clippy::many_single_char_names,
        reason = "cells a, b, c and their total"
    )]
    fn one_small_cell_takes_the_next_smallest_with_it() {
        let mut s = Sheet::default();
        let a = s.add(Cell::new(3, 2));
        let b = s.add(Cell::new(40, 9));
        let c = s.add(Cell::new(12, 6));
        let t = s.add(Cell::new(55, 17));
        s.groups.push(Group {
            parts: vec![a, b, c],
            total: vec![t],
        });
        let hidden = s.withheld(K::default());
        assert_eq!(hidden, vec![true, false, true, false]);
    }

    #[test]
    fn a_group_of_one_withholds_its_total() {
        let mut s = Sheet::default();
        let a = s.add(Cell::new(3, 2));
        let t = s.add(Cell::new(3, 7));
        s.groups.push(Group {
            parts: vec![a],
            total: vec![t],
        });
        assert_eq!(s.withheld(K::default()), vec![true, true]);
    }

    #[test]
    fn k_outside_2_to_11_is_refused() {
        assert!(K::new(1).is_err());
        assert!(K::new(12).is_err());
        assert_eq!(K::new(11).map(K::get), Ok(11));
    }
}
