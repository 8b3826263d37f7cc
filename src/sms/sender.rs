//! The hub's one SMS sender: queues each live's alert when it is due, then
//! hands the messages to the provider one at a time, paced to
//! `[sms] rate_per_second`, retrying 429 and 5xx with exponential backoff
//! (a `Retry-After` wins), and deletes the phones collected for an alert
//! once it is done.
//!
//! Every step is a short transaction on its own store connection; the
//! provider is called with no transaction open. A row is claimed before
//! the call, so a hub stopped mid-send never sends it again
//! ([`super::outbox`]).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::SmsHub;
use super::outbox::{self, Claimed};
use super::provider::{Outgoing, SendError};
use crate::protocol::Millis;

/// Runs until `stop` turns true.
pub(crate) async fn run(sms: Arc<SmsHub>, mut stop: watch::Receiver<bool>) {
    if let Err(e) = sms.with_db(|conn, _| Ok(outbox::settle_interrupted(conn, sms.now())?)) {
        tracing::warn!(error = %e, "SMS: could not settle the messages of a stopped hub");
    }
    let config = &sms.config;
    let gap = Duration::from_secs_f64(1.0 / f64::from(config.rate_per_second.max(1)));
    let mut pace = tokio::time::interval(gap);
    pace.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        if *stop.borrow() {
            return;
        }
        queue_due_alerts(&sms);
        loop {
            if *stop.borrow() {
                return;
            }
            let claimed = match sms
                .with_db(|conn, keys| Ok(outbox::claim_next(conn, keys, &sms.config, sms.now())?))
            {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "SMS: could not claim the next message");
                    break;
                }
            };
            pace.tick().await;
            if !send_one(&sms, &claimed, &mut stop).await {
                // Stopped mid-call: the row stays claimed, and the next
                // start settles it as `uncertain`, never sent again.
                return;
            }
        }
        match sms.with_db(|conn, _| {
            let released = outbox::release_phones(conn)?;
            outbox::prune(conn, sms.now(), sms.keep)?;
            if released > 0 {
                // The deleted seals leave the WAL too.
                let _ = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()));
            }
            Ok(released)
        }) {
            Ok(0) => {}
            Ok(n) => tracing::info!(
                phones = n,
                "SMS: phones collected for an alert deleted after it"
            ),
            Err(e) => {
                tracing::warn!(error = %e, "SMS: could not delete the phones of a finished alert");
            }
        }
        tokio::select! {
            () = tokio::time::sleep(config.poll_every) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Queues the alert of every live that is due.
fn queue_due_alerts(sms: &SmsHub) {
    let due = match sms
        .with_db(|conn, _| Ok(outbox::lives_due(conn, sms.now(), sms.config.lead_minutes)?))
    {
        Ok(due) => due,
        Err(e) => {
            tracing::warn!(error = %e, "SMS: could not look for lives to alert");
            return;
        }
    };
    for live in due {
        match sms
            .with_db(|conn, keys| Ok(outbox::enqueue(conn, keys, &sms.config, &live, sms.now())?))
        {
            Ok(q) => {
                tracing::info!(live = %live.name, queued = q.queued, refused = q.refused, "SMS alert queued");
                sms.progress_changed();
            }
            Err(e) => tracing::warn!(live = %live.name, error = %e, "SMS alert not sent"),
        }
    }
}

/// Hands one claimed message to the provider and records the outcome;
/// `false` when the hub stopped before the provider answered.
async fn send_one(sms: &SmsHub, claimed: &Claimed, stop: &mut watch::Receiver<bool>) -> bool {
    let reference = format!("regie-{}", claimed.id);
    let callback = sms.status_callback();
    let message = Outgoing {
        to: &claimed.to,
        body: &claimed.body,
        reference: &reference,
        status_callback: callback.as_deref(),
    };
    let result = tokio::select! {
        result = sms.provider.send(&message) => result,
        _ = stop.wait_for(|s| *s) => return false,
    };
    let now = sms.now();
    let id = claimed.id;
    let recorded = sms.with_db(|conn, _| {
        match &result {
            Ok(provider_id) => outbox::mark_sent(conn, id, provider_id, now)?,
            Err(SendError::Temporary { why, retry_after })
                if claimed.attempts < sms.config.max_attempts =>
            {
                let wait =
                    retry_after.unwrap_or_else(|| backoff(sms.config.backoff, claimed.attempts));
                outbox::mark_retry(conn, id, now + millis(wait), why, now)?;
            }
            Err(e) => outbox::mark_failed(conn, id, &e.to_string(), now)?,
        }
        Ok(())
    });
    match recorded {
        Ok(()) => sms.progress_changed(),
        Err(e) => tracing::warn!(error = %e, message = id, "SMS: could not record a send"),
    }
    if let Err(e) = &result {
        tracing::info!(message = id, attempt = claimed.attempts, error = %e, "SMS send did not go through");
    }
    true
}

/// The wait before try `attempt + 1`: `base`, doubled per try, at most an hour.
pub(crate) fn backoff(base: Duration, attempt: u32) -> Duration {
    let factor = 1u32 << attempt.saturating_sub(1).min(16);
    base.saturating_mul(factor).min(Duration::from_secs(3600))
}

fn millis(d: Duration) -> Millis {
    Millis::try_from(d.as_millis()).unwrap_or(Millis::MAX / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let base = Duration::from_secs(2);
        assert_eq!(backoff(base, 1), Duration::from_secs(2));
        assert_eq!(backoff(base, 2), Duration::from_secs(4));
        assert_eq!(backoff(base, 4), Duration::from_secs(16));
        assert_eq!(backoff(base, 40), Duration::from_secs(3600));
    }
}
