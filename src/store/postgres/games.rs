//! Polls and instant wins on PostgreSQL (schema version 3), the twin of
//! the SQLite store's game tables (`store::games`): each [`GameWrite`] in
//! the transaction of the commit that caused it, and everything read back
//! for a node that starts, or rebuilds its session, mid-game.
//!
//! Votes and entries are not events, so nothing on the bus carries them to
//! the other nodes of the live. Each row gets a number (`n`, an identity
//! column) and every node reads what was stored after the last number it
//! saw ([`game_news`]). A number is taken when its row is inserted and
//! becomes visible when that transaction commits, so the numbers are only
//! read in order because the hub inserts votes and entries inside the
//! live's turn lock (`Store::begin_turn`): one node's commit is over before
//! the next node's begins.

use postgres::{Client, Row};
use serde::Serialize;

use super::{Batch, Statements, corrupt, json_text};
use crate::protocol::{DrawView, PollView, ViewerId, Winner};
use crate::store::StoreError;
use crate::store::games::{
    GameNews, GameWrite, GamesCursor, StoredDraw, StoredGames, StoredPoll, StoredResult,
    rename_in_json,
};
use crate::store::rows::{sql_i64, sql_len, u64_from_sql};

/// How many votes (or entries) one read of the news takes at most; the read
/// goes on until it has them all.
const NEWS_PAGE: i64 = 10_000;

fn to_json<T: Serialize>(value: &T, what: &str) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| corrupt(format!("{what} does not serialise: {e}")))
}

fn option_from_sql(option: i64) -> usize {
    usize::try_from(option).unwrap_or(usize::MAX)
}

impl Batch<'_, '_, '_> {
    /// Records one poll or instant-win fact. A second vote (or entry) by
    /// the same viewer is refused by the primary key, and the batch with
    /// it, as in the SQLite store: the hub never sends one.
    pub(super) fn apply_game(&mut self, write: &GameWrite) -> Result<(), StoreError> {
        let live_id = self.live_id;
        match write {
            GameWrite::PollOpened { poll } => self.exec(
                "INSERT INTO polls (live_id, id, view) VALUES ($1, $2, $3)",
                &[&live_id, &sql_i64(poll.id), &to_json(poll, "a poll")?],
            )?,
            GameWrite::Vote {
                poll_id,
                viewer,
                option,
            } => self.exec(
                "INSERT INTO votes (live_id, poll_id, viewer_id, option) VALUES ($1, $2, $3, $4)",
                &[&live_id, &sql_i64(*poll_id), &viewer.0, &sql_len(*option)],
            )?,
            GameWrite::PollClosed { poll_id, closed_at } => self.exec(
                "UPDATE polls SET closed_at = $3 WHERE live_id = $1 AND id = $2 \
                 AND closed_at IS NULL",
                &[&live_id, &sql_i64(*poll_id), closed_at],
            )?,
            GameWrite::PollCleared {
                poll_id,
                cleared_at,
            } => self.exec(
                "UPDATE polls SET cleared_at = $3 WHERE live_id = $1 AND id = $2",
                &[&live_id, &sql_i64(*poll_id), cleared_at],
            )?,
            GameWrite::InstantWinOpened { draw, seed_hex } => self.exec(
                "INSERT INTO instant_wins (live_id, id, view, seed) VALUES ($1, $2, $3, $4)",
                &[
                    &live_id,
                    &sql_i64(draw.id),
                    &to_json(draw, "an instant win")?,
                    seed_hex,
                ],
            )?,
            GameWrite::Entry { draw_id, viewer } => self.exec(
                "INSERT INTO entries (live_id, draw_id, viewer_id) VALUES ($1, $2, $3)",
                &[&live_id, &sql_i64(*draw_id), &viewer.0],
            )?,
            GameWrite::Drawn {
                record,
                winners,
                drawn_at,
            } => self.exec(
                "UPDATE instant_wins SET record = $3, winners = $4, drawn_at = $5 \
                 WHERE live_id = $1 AND id = $2 AND record IS NULL",
                &[
                    &live_id,
                    &sql_i64(record.draw_id),
                    &to_json(record, "a draw record")?,
                    &to_json(winners, "the winners")?,
                    drawn_at,
                ],
            )?,
        };
        Ok(())
    }

    /// The names a draw announced for `viewer`, set to the given ones
    /// (rectification) or blanked (erasure, with `""`): in the draw rows
    /// (winners, and a re-draw's kept and excluded in its view) and in the
    /// `instant_win_opened` / `instant_win_drawn` events a late console
    /// replays. Published records name ids only and stay as they are, so
    /// they still verify.
    pub(super) fn rename_winner(
        &mut self,
        viewer: &ViewerId,
        first_name: Option<&str>,
        pseudonym: Option<&str>,
    ) -> Result<(), StoreError> {
        let live_id = self.live_id;
        let pattern = format!("%\"{}\"%", viewer.0);
        let rename =
            |text: &str, what: &str| -> Result<Option<String>, StoreError> {
                let mut value: serde_json::Value = json_text(text, what)?;
                Ok(rename_in_json(&mut value, viewer, first_name, pseudonym)
                    .then(|| value.to_string()))
            };
        for column in ["winners", "view"] {
            let rows = self.sql.query(
                self.tx,
                &format!(
                    "SELECT id, {column} FROM instant_wins WHERE live_id = $1 \
                     AND {column} LIKE $2"
                ),
                &[&live_id, &pattern],
            )?;
            for row in rows {
                let (id, text): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
                if let Some(renamed) = rename(&text, &format!("draw {id} {column}"))? {
                    self.exec(
                        &format!(
                            "UPDATE instant_wins SET {column} = $3 WHERE live_id = $1 AND id = $2"
                        ),
                        &[&live_id, &id, &renamed],
                    )?;
                }
            }
        }
        let rows = self.sql.query(
            self.tx,
            "SELECT seq, payload FROM events WHERE live_id = $1 \
             AND kind IN ('instant_win_opened', 'instant_win_drawn') AND payload LIKE $2",
            &[&live_id, &pattern],
        )?;
        for row in rows {
            let (seq, payload): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
            if let Some(renamed) = rename(&payload, &format!("event {seq}"))? {
                self.exec(
                    "UPDATE events SET payload = $3 WHERE live_id = $1 AND seq = $2",
                    &[&live_id, &seq, &renamed],
                )?;
            }
        }
        Ok(())
    }

    /// Erasure: the viewer's votes stay counted under an id that links to
    /// no one (a fresh random one per vote, as in the SQLite store).
    pub(super) fn unlink_votes(&mut self, viewer: &ViewerId) -> Result<(), StoreError> {
        let live_id = self.live_id;
        self.exec(
            "UPDATE votes SET viewer_id = 'erased-' || replace(gen_random_uuid()::text, '-', '') \
             WHERE live_id = $1 AND viewer_id = $2",
            &[&live_id, &viewer.0],
        )?;
        Ok(())
    }
}

/// Where the live's news starts now: the last vote and entry numbers.
fn cursor(
    sql: &mut Statements,
    client: &mut Client,
    live_id: i64,
) -> Result<GamesCursor, StoreError> {
    let row = sql.query_one(
        client,
        "SELECT COALESCE((SELECT max(n) FROM votes WHERE live_id = $1), 0), \
                COALESCE((SELECT max(n) FROM entries WHERE live_id = $1), 0)",
        &[&live_id],
    )?;
    Ok(GamesCursor {
        votes: row.try_get(0)?,
        entries: row.try_get(1)?,
    })
}

/// Every poll and instant win of the live, with the cursor its news
/// continues from. The cursor is read first: a vote stored in between is
/// both in the games and in the next news, which the hub counts once.
pub(super) fn load_games(
    sql: &mut Statements,
    client: &mut Client,
    live_id: i64,
) -> Result<StoredGames, StoreError> {
    let mut games = StoredGames {
        cursor: cursor(sql, client, live_id)?,
        ..StoredGames::default()
    };
    let polls = sql.query(
        client,
        "SELECT id, view, closed_at, cleared_at FROM polls WHERE live_id = $1 ORDER BY id",
        &[&live_id],
    )?;
    for row in polls {
        let id: i64 = row.try_get(0)?;
        let poll: PollView = json_text(&row.try_get::<_, String>(1)?, &format!("poll {id}"))?;
        let votes = sql
            .query(
                client,
                "SELECT viewer_id, option FROM votes WHERE live_id = $1 AND poll_id = $2",
                &[&live_id, &id],
            )?
            .iter()
            .map(|v| Ok((ViewerId(v.try_get(0)?), option_from_sql(v.try_get(1)?))))
            .collect::<Result<_, StoreError>>()?;
        games.polls.push(StoredPoll {
            poll,
            votes,
            closed_at: row.try_get(2)?,
            cleared_at: row.try_get(3)?,
        });
    }
    let draws = sql.query(
        client,
        "SELECT id, view, seed, record, winners, drawn_at FROM instant_wins \
         WHERE live_id = $1 ORDER BY id",
        &[&live_id],
    )?;
    for row in draws {
        let id: i64 = row.try_get(0)?;
        let draw: DrawView = json_text(&row.try_get::<_, String>(1)?, &format!("draw {id}"))?;
        let result = match row.try_get::<_, Option<String>>(3)? {
            None => None,
            Some(record) => Some(StoredResult {
                record: json_text(&record, &format!("draw {id} record"))?,
                winners: json_text::<Vec<Winner>>(
                    &row.try_get::<_, Option<String>>(4)?.unwrap_or_default(),
                    &format!("draw {id} winners"),
                )?,
                drawn_at: row.try_get::<_, Option<i64>>(5)?.unwrap_or(0),
            }),
        };
        let entrants = sql
            .query(
                client,
                "SELECT e.viewer_id, COALESCE(v.first_name, ''), COALESCE(v.pseudonym, '') \
                 FROM entries e LEFT JOIN viewers v \
                 ON v.live_id = e.live_id AND v.viewer_id = e.viewer_id \
                 WHERE e.live_id = $1 AND e.draw_id = $2 ORDER BY e.viewer_id",
                &[&live_id, &id],
            )?
            .iter()
            .map(|e| Ok((ViewerId(e.try_get(0)?), e.try_get(1)?, e.try_get(2)?)))
            .collect::<Result<_, StoreError>>()?;
        games.draws.push(StoredDraw {
            draw,
            seed_hex: row.try_get(2)?,
            entrants,
            result,
        });
    }
    Ok(games)
}

/// The votes and entries stored after `since`, oldest first, all of them
/// (page by page).
pub(super) fn game_news(
    sql: &mut Statements,
    client: &mut Client,
    live_id: i64,
    since: GamesCursor,
) -> Result<GameNews, StoreError> {
    let mut news = GameNews {
        cursor: since,
        ..GameNews::default()
    };
    loop {
        let rows = sql.query(
            client,
            "SELECT poll_id, viewer_id, option, n FROM votes WHERE live_id = $1 AND n > $2 \
             ORDER BY n LIMIT $3",
            &[&live_id, &news.cursor.votes, &NEWS_PAGE],
        )?;
        let full = sql_len(rows.len()) == NEWS_PAGE;
        for row in &rows {
            news.votes.push(read_vote(row)?);
            news.cursor.votes = row.try_get(3)?;
        }
        if !full {
            break;
        }
    }
    loop {
        let rows = sql.query(
            client,
            "SELECT e.draw_id, e.viewer_id, COALESCE(v.first_name, ''), \
             COALESCE(v.pseudonym, ''), e.n FROM entries e LEFT JOIN viewers v \
             ON v.live_id = e.live_id AND v.viewer_id = e.viewer_id \
             WHERE e.live_id = $1 AND e.n > $2 ORDER BY e.n LIMIT $3",
            &[&live_id, &news.cursor.entries, &NEWS_PAGE],
        )?;
        let full = sql_len(rows.len()) == NEWS_PAGE;
        for row in &rows {
            let draw_id: i64 = row.try_get(0)?;
            news.entries.push((
                u64_from_sql(draw_id),
                ViewerId(row.try_get(1)?),
                row.try_get(2)?,
                row.try_get(3)?,
            ));
            news.cursor.entries = row.try_get(4)?;
        }
        if !full {
            break;
        }
    }
    Ok(news)
}

fn read_vote(row: &Row) -> Result<(u64, ViewerId, usize), StoreError> {
    let poll_id: i64 = row.try_get(0)?;
    Ok((
        u64_from_sql(poll_id),
        ViewerId(row.try_get(1)?),
        option_from_sql(row.try_get(2)?),
    ))
}
