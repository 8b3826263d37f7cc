//! The process signals a `regie` process stops on, watched in one way.
//! A leaf: it imports nothing from the crate.
//!
//! `regie serve` stops on Ctrl-C or SIGTERM (service managers), `regie
//! crowd` on Ctrl-C, and the console restores the terminal and quits on
//! SIGTERM or SIGHUP (a closed terminal window). Off Unix only Ctrl-C exists.

use std::io;

/// A signal that ends a `regie` process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// Ctrl-C (SIGINT).
    Interrupt,
    /// SIGTERM: asked to stop by a service manager or `kill`.
    Terminate,
    /// SIGHUP: the terminal went away.
    Hangup,
}

/// A set of signals being watched. Watching starts when it is made, so a
/// signal that arrives before [`Signals::recv`] is awaited is not lost.
pub struct Signals {
    #[cfg(unix)]
    watched: Vec<(Signal, tokio::signal::unix::Signal)>,
    #[cfg(not(unix))]
    interrupt: bool,
}

impl Signals {
    /// Watches every signal of `which`; fails when one cannot be watched.
    pub fn listen(which: &[Signal]) -> io::Result<Signals> {
        Self::watch(which, |_, e| Err(e))
    }

    /// Watches the signals of `which` that can be, logging the others: a
    /// server that cannot see SIGTERM still stops on Ctrl-C.
    pub fn listen_available(which: &[Signal]) -> Signals {
        let watched = Self::watch(which, |signal, e| {
            tracing::warn!(?signal, error = %e, "cannot watch this signal");
            Ok(())
        });
        // The callback never fails, so neither does `watch`.
        watched.unwrap_or_else(|_| Signals::none())
    }

    /// Resolves with the first watched signal to arrive; never, when none is
    /// watched.
    pub async fn recv(&mut self) -> Signal {
        #[cfg(unix)]
        {
            std::future::poll_fn(|cx| {
                for (signal, stream) in &mut self.watched {
                    if stream.poll_recv(cx).is_ready() {
                        return std::task::Poll::Ready(*signal);
                    }
                }
                std::task::Poll::Pending
            })
            .await
        }
        #[cfg(not(unix))]
        {
            if self.interrupt && tokio::signal::ctrl_c().await.is_ok() {
                return Signal::Interrupt;
            }
            std::future::pending().await
        }
    }

    fn none() -> Signals {
        Signals {
            #[cfg(unix)]
            watched: Vec::new(),
            #[cfg(not(unix))]
            interrupt: false,
        }
    }

    /// Watches each of `which`; `failed` decides whether a signal that
    /// cannot be watched is an error or is skipped.
    fn watch(
        which: &[Signal],
        mut failed: impl FnMut(Signal, io::Error) -> io::Result<()>,
    ) -> io::Result<Signals> {
        let mut signals = Signals::none();
        for &signal in which {
            #[cfg(unix)]
            {
                use tokio::signal::unix::SignalKind;
                let kind = match signal {
                    Signal::Interrupt => SignalKind::interrupt(),
                    Signal::Terminate => SignalKind::terminate(),
                    Signal::Hangup => SignalKind::hangup(),
                };
                match tokio::signal::unix::signal(kind) {
                    Ok(stream) => signals.watched.push((signal, stream)),
                    Err(e) => failed(signal, e)?,
                }
            }
            #[cfg(not(unix))]
            {
                let _ = &mut failed;
                signals.interrupt |= signal == Signal::Interrupt;
            }
        }
        Ok(signals)
    }
}

/// Resolves on the first of `which` that arrives (those that cannot be
/// watched are skipped). Watching starts when this future is first polled.
pub async fn first_of(which: &[Signal]) -> Signal {
    Signals::listen_available(which).recv().await
}
