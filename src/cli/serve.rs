//! `regie serve`: the hub as a process. Binds, logs to stderr, serves until
//! Ctrl-C or SIGTERM; [`crate::hub::serve`] does the serving.

use anyhow::Context;

use crate::exit::Exit;
use crate::hub::HubConfig;
use crate::signals::{self, Signal};

/// `regie serve`
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (WebSocket at `/`, plus `/healthz`, `/metrics` and
    /// `/draws/{id}.json`).
    #[arg(long, default_value = "127.0.0.1:7878")]
    pub listen: std::net::SocketAddr,
    /// Data directory: the SQLite store and the token signing key live here.
    #[arg(long, default_value = "./regie-data")]
    pub data: std::path::PathBuf,
    /// Name of the live session this hub runs.
    #[arg(long, default_value = "show")]
    pub live: String,
}

/// Ctrl-C at the terminal, SIGTERM from a service manager.
const STOP_ON: &[Signal] = &[Signal::Interrupt, Signal::Terminate];

pub async fn run(args: ServeArgs) -> anyhow::Result<Exit> {
    crate::telemetry::to_stderr();
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    eprintln!(
        "regie: serving live {:?} on ws://{} (data in {})",
        args.live,
        listener.local_addr()?,
        args.data.display()
    );
    crate::hub::serve(listener, HubConfig::new(args.live, args.data), async {
        signals::first_of(STOP_ON).await;
    })
    .await
    .context("the hub stopped")?;
    Ok(Exit::Success)
}
