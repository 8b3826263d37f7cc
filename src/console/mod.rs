//! The moderation console (`regie console`): the terminal hosts,
//! moderators and support staff keep open during a live show.
//!
//! Elm-style, so behaviour is testable without a terminal or a socket:
//! - [`state`]: the state and its one transition, `update(state, Msg) -> Vec<Effect>`;
//! - [`view`]: functions from state to a ratatui frame, one per pane; they
//!   only read the state (the feed's own view state is [`view::FeedView`]);
//! - [`popups`]: the popups as components: keys, drawing, footer hints;
//! - [`feed`], [`wrap`], [`filter`]: the chat feed's scrollback, layout, filter;
//! - [`games`]: polls and instant wins: the show's state and the launch forms;
//! - [`sanctioned`]: the viewers under a ban or timeout, whose lines are marked;
//! - [`notify`]: the bell and desktop notifications (question, held, mention), rate-limited;
//! - [`activity`]: staff-activity lines and the viewers they name (relabelled on a rectification);
//! - [`rights`]: data-protection requests: a viewer's export to a private file, the requests log;
//! - [`keymap`], [`theme`], [`config`]: named actions, colours, the config file;
//! - [`net`]: the WebSocket task (hello, resume, reconnect, the outbox);
//! - [`terminal`]: the one `select!` loop over keys, the network and a render tick;
//! - [`app`]: the run, from resolved settings to how it ended (`regie console`'s entry).
//!
//! Exit codes of `regie console` (also in the README; defined once in
//! [`crate::exit::Exit`]):
//! - 0: quit by the user;
//! - 1: an unexpected error (terminal I/O, …);
//! - 2: bad arguments or configuration (no token, unreadable config), or no
//!   interactive terminal to draw on;
//! - 3: the hub cannot be reached (bad URL, refused, no answer, not a regie hub);
//! - 4: the hub refused the token (invalid, expired, or for another live);
//! - 5: the hub does not speak this protocol version.

pub mod activity;
pub mod app;
pub mod bench;
pub mod config;
pub mod feed;
pub mod filter;
pub mod games;
pub mod input;
pub mod keymap;
pub mod net;
pub mod notify;
pub mod permissions;
pub mod popups;
pub mod rights;
pub mod sanctioned;
pub mod showcase;
pub mod state;
pub mod terminal;
pub mod theme;
pub mod view;
pub mod wrap;
