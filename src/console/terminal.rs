//! The console's event loop: one `select!` over the terminal's events, the
//! network task and a render tick. Frames from the hub are applied as they
//! come (in batches, so keys are never starved). What a key, a paste or a
//! resize changed is drawn at once, so a host's key shows without waiting
//! for the next tick; what the hub's frames changed is drawn on the tick,
//! and only when something changed — never once per message.
//!
//! The loop is generic over the key stream and the ratatui backend, so a
//! test drives it with scripted keys and a `TestBackend`.

use std::io;
use std::time::Duration;

use crossterm::event::Event as TermEvent;
use futures_util::{Stream, StreamExt};
use ratatui::Terminal;
use ratatui::backend::{Backend, CrosstermBackend};

use super::net::{NetEvent, NetFatal, NetHandle};
use super::state::{Console, Effect, Msg, update};
use super::theme::Theme;
use super::view;
use crate::signals::{Signal, Signals};

/// Most hub frames applied between two looks at the keyboard.
const FRAMES_PER_TURN: usize = 2_048;

/// Why the loop ended.
#[derive(Debug)]
pub enum Outcome {
    Quit,
    Fatal(NetFatal),
}

/// The real terminal. Its writer holds a whole frame: a draw reaches the
/// terminal as one write at the flush that ends it, not as a `write` per
/// kilobyte (`Stdout`'s own buffer), so the terminal parses a key's answer
/// in one go instead of waking for each piece of it.
pub type ConsoleTerminal = Terminal<CrosstermBackend<io::BufWriter<io::Stdout>>>;

/// Bytes a frame's writes gather before they go out: a full 200×50 redraw
/// with colours is about 40 KiB.
const FRAME_BUFFER: usize = 64 * 1024;

/// Owns the real terminal for the duration of `body`, restoring it on every
/// way out: return, error, or panic (the hook set here, as ratatui's
/// `init` sets it).
pub async fn with_terminal<F, T>(body: F) -> anyhow::Result<T>
where
    F: AsyncFnOnce(&mut ConsoleTerminal) -> anyhow::Result<T>,
{
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        ratatui::restore();
        hook(info);
    }));
    let mut terminal = match enter() {
        Ok(terminal) => terminal,
        Err(e) => {
            ratatui::restore();
            return Err(e.into());
        }
    };
    let _ = crossterm::execute!(io::stdout(), crossterm::event::EnableBracketedPaste);
    let result = body(&mut terminal).await;
    let _ = crossterm::execute!(io::stdout(), crossterm::event::DisableBracketedPaste);
    ratatui::restore();
    result
}

/// Raw mode, the alternate screen, and the buffered backend.
fn enter() -> io::Result<ConsoleTerminal> {
    crossterm::terminal::enable_raw_mode()?;
    crossterm::execute!(io::stdout(), crossterm::terminal::EnterAlternateScreen)?;
    Terminal::new(CrosstermBackend::new(io::BufWriter::with_capacity(
        FRAME_BUFFER,
        io::stdout(),
    )))
}

/// Runs until the user quits, the hub refuses us for good, or input ends.
pub async fn event_loop<B, S>(
    terminal: &mut Terminal<B>,
    state: &mut Console,
    theme: &Theme,
    mut keys: S,
    net: &mut NetHandle,
    frame_interval: Duration,
) -> anyhow::Result<Outcome>
where
    B: Backend,
    B::Error: Send + Sync + 'static,
    S: Stream<Item = io::Result<TermEvent>> + Unpin,
{
    let mut tick = tokio::time::interval(frame_interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    update(state, Msg::Tick(crate::now_millis()));
    let size = terminal
        .size()
        .map_err(|e| anyhow::anyhow!("terminal size: {e}"))?;
    update(
        state,
        Msg::Resize {
            width: size.width,
            height: size.height,
        },
    );
    let mut feed_view = view::FeedView::default();
    // SIGTERM and SIGHUP (a closed terminal window) end the loop like a
    // quit, so the terminal is restored and `regie demo` cleans up.
    let mut hangup = Signals::listen(&[Signal::Terminate, Signal::Hangup])?;
    loop {
        // Set by the user's own input: drawn right after its effects.
        let mut draw_now = false;
        let effects = tokio::select! {
            biased;
            _ = hangup.recv() => return Ok(Outcome::Quit),
            ev = keys.next() => {
                draw_now = true;
                match ev {
                    Some(Ok(TermEvent::Key(key))) if key.kind != crossterm::event::KeyEventKind::Release => {
                        update(state, Msg::Key(key))
                    }
                    Some(Ok(TermEvent::Paste(text))) => update(state, Msg::Paste(text)),
                    Some(Ok(TermEvent::Resize(width, height))) => update(state, Msg::Resize { width, height }),
                    Some(Ok(_)) => Vec::new(),
                    Some(Err(e)) => return Err(e.into()),
                    None => return Ok(Outcome::Quit),
                }
            },
            _ = tick.tick() => {
                update(state, Msg::Tick(crate::now_millis()));
                draw_now = true;
                Vec::new()
            },
            ev = net.events.recv() => {
                let Some(first) = ev else {
                    anyhow::bail!("the network task stopped");
                };
                let mut effects = Vec::new();
                // The next event when one is already waiting, up to a turn's share.
                let mut queued = Some(first);
                let mut n = 0;
                while let Some(ev) = queued.take() {
                    match ev {
                        NetEvent::Frame(frame) => effects.extend(update(state, Msg::Frame(frame))),
                        NetEvent::Status(status) => effects.extend(update(state, Msg::Connection(status))),
                        NetEvent::Fatal(f) => return Ok(Outcome::Fatal(f)),
                    }
                    n += 1;
                    if n < FRAMES_PER_TURN {
                        queued = net.events.try_recv().ok();
                    }
                }
                effects
            },
        };
        for effect in effects {
            match effect {
                Effect::Send(frame) => {
                    if net.commands.send(frame).is_err() {
                        anyhow::bail!("the network task stopped");
                    }
                }
                Effect::Quit => return Ok(Outcome::Quit),
                Effect::SwitchLive(live) => {
                    if net.switch.send(live).is_err() {
                        anyhow::bail!("the network task stopped");
                    }
                }
                // A small local file: written between two turns, then shown.
                Effect::SaveExport(job) => {
                    let saved = super::rights::save(job);
                    update(state, Msg::ExportSaved(saved));
                }
                // Between two draws, so it never lands inside a frame.
                Effect::Notify(n) => notify(&n),
            }
        }
        if draw_now && state.dirty {
            state.dirty = false;
            terminal
                .draw(|frame| view::draw(frame, state, &mut feed_view, theme))
                .map_err(|e| anyhow::anyhow!("drawing failed: {e}"))?;
        }
    }
}

/// Writes a notification's bell and OSC strings to the terminal. A failed
/// write only loses the notification.
fn notify(n: &super::notify::Notification) {
    use std::io::Write;
    let mut out = io::stdout().lock();
    let _ = out.write_all(super::notify::escape(n).as_bytes());
    let _ = out.flush();
}
