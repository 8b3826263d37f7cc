//! The console from resolved settings to how it ended: the first connection
//! (made before the terminal is taken, so a wrong URL or a refused token is
//! a plain message, not a hung screen), then the terminal UI until the user
//! quits or the hub refuses us for good.
//!
//! Nothing here prints: while the console runs the terminal is the UI's, and
//! what is left to tell the user afterwards comes back in [`Ended`] for the
//! caller (`regie console`, `regie demo`) to report with its exit code.

use super::config::Resolved;
use super::net;
use super::state::{Console, Msg, Note, Session, update};
use super::terminal::{self, Outcome};
use crate::protocol::StaffRole;

/// How a console run ended.
#[derive(Debug)]
pub struct Ended {
    /// Quit by the user, refused for good by the hub (before or after the
    /// terminal was taken), or an unexpected error (terminal I/O, …).
    pub outcome: anyhow::Result<Outcome>,
    /// Problems with the settings (theme, keys), worth repeating once the
    /// screen is gone.
    pub warnings: Vec<String>,
    /// What the commands the hub had not confirmed when the console stopped
    /// were meant to do.
    pub unconfirmed: Vec<String>,
}

/// Why the console cannot start here: it draws on, and reads keys from, a
/// terminal, and there is none (a pipe, a file, a service manager).
#[derive(Debug, thiserror::Error)]
#[error(
    "the console needs an interactive terminal: run it in a terminal window, \
     with standard input and output not redirected"
)]
pub struct NoTerminal;

/// Checks that standard input and output are a terminal the console can
/// take, before anything depends on it.
pub fn check_terminal() -> Result<(), NoTerminal> {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() && std::io::stdout().is_terminal() {
        Ok(())
    } else {
        Err(NoTerminal)
    }
}

/// A random word that keeps this console's command ids apart from another
/// console's using the same token.
pub fn command_id_prefix() -> String {
    use rand::Rng;
    let n: u32 = rand::rng().random();
    format!("c{n:08x}")
}

/// Runs the console with resolved settings. `role_hint` is the role shown
/// until the hub's welcome says who we are; `intro` is a first note for the
/// status line (`regie demo` says where the second console's token is).
pub async fn run(resolved: Resolved, role_hint: Option<StaffRole>, intro: Option<String>) -> Ended {
    let Resolved {
        net: net_config,
        theme,
        keymap,
        scrollback,
        frame_interval,
        export_dir,
        warnings,
        demo,
        attach,
        sanction_reasons,
        notify,
        ..
    } = resolved;
    for w in &warnings {
        tracing::warn!("{w}");
    }
    let first = match net::connect(&net_config, None).await {
        Ok(first) => first,
        Err(fatal) => {
            return Ended {
                outcome: Ok(Outcome::Fatal(fatal)),
                warnings,
                unconfirmed: Vec::new(),
            };
        }
    };
    // After the first connection, so a wrong URL or a refused token is
    // still reported (and scriptable) without a terminal; before the
    // terminal is taken, so its absence is said plainly.
    if let Err(no_terminal) = check_terminal() {
        return Ended {
            outcome: Err(no_terminal.into()),
            warnings,
            unconfirmed: Vec::new(),
        };
    }
    let session = Session {
        role: role_hint.unwrap_or(StaffRole::Host),
        name: String::new(),
        live: net_config.live.clone(),
    };
    // Boxed: the console's state is large, and this future holds it
    // across every await of the run.
    let mut state = Box::new(Console::new(
        session,
        keymap,
        scrollback,
        &command_id_prefix(),
    ));
    state.demo = demo;
    state.attach = attach;
    state.sanction_reasons = sanction_reasons;
    state.notify = super::notify::Notifier::new(notify);
    state.rights = super::rights::Rights::new(export_dir);
    update(&mut state, Msg::Tick(crate::now_millis()));
    let first_note = match (warnings.first(), intro) {
        (Some(w), _) => Some((format!("warning: {w}"), true)),
        (None, Some(text)) => Some((text, false)),
        (None, None) => None,
    };
    if let Some((text, error)) = first_note {
        state.note = Some(Note {
            text,
            error,
            // Startup notes stay a little longer than the usual 8 s.
            at: crate::now_millis() + 12_000,
        });
    }
    let mut handle = net::spawn(net_config, first);
    let outcome = terminal::with_terminal(async |term| {
        let keys = crossterm::event::EventStream::new();
        terminal::event_loop(term, &mut state, &theme, keys, &mut handle, frame_interval).await
    })
    .await;
    handle.task.abort();
    Ended {
        outcome,
        warnings,
        unconfirmed: state.pending.values().map(|p| p.summary.clone()).collect(),
    }
}
