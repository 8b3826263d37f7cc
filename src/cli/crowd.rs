//! `regie crowd`: a simulated audience as a process. Runs
//! [`crate::crowd::run_crowd`] until its duration passes or Ctrl-C, then
//! prints the summary on stdout.

use super::{Failed, usage};
use crate::crowd::{CrowdConfig, CrowdError, GamePlay, LineMix, run_crowd};
use crate::exit::Exit;
use crate::signals::{self, Signal};

/// `regie crowd`
#[derive(Debug, clap::Args)]
pub struct CrowdArgs {
    /// The hub's WebSocket URL.
    #[arg(long, default_value = "ws://127.0.0.1:7878")]
    pub url: String,
    #[command(flatten)]
    pub trust: super::CaFlag,
    /// The live session to join.
    #[arg(long, default_value = "show")]
    pub live: String,
    /// How many viewers connect, each on its own WebSocket.
    #[arg(long, default_value_t = 300)]
    pub viewers: usize,
    /// Chat lines per second, across the whole crowd.
    #[arg(long, default_value_t = 40.0)]
    pub rate: f64,
    /// How long the crowd runs, ramp-up included (e.g. 60s, 5m).
    #[arg(long, default_value = "60s")]
    pub duration: humantime::Duration,
    /// Seed for names and lines; the same seed replays the same audience.
    /// Random (and printed) when absent.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Share of lines that are product questions.
    #[arg(long, default_value_t = LineMix::default().question_ratio)]
    pub question_ratio: f64,
    /// Share of lines that are (mildly) abusive.
    #[arg(long, default_value_t = LineMix::default().abuse_ratio)]
    pub abuse_ratio: f64,
    /// Share of lines that contain a phone number or an e-mail address.
    #[arg(long, default_value_t = LineMix::default().personal_data_ratio)]
    pub personal_data_ratio: f64,
    /// Viewers joining per second during the ramp-up.
    #[arg(long, default_value_t = 200.0)]
    pub connect_rate: f64,
    /// Stop after this many lines, even before the duration is over.
    #[arg(long)]
    pub lines: Option<u64>,
    /// In polls, the share of votes that go to the first option on top of
    /// an even spread (0 = uniform, 1 = all on the first option).
    #[arg(long, default_value_t = GamePlay::default().poll_bias)]
    pub poll_bias: f64,
    /// Share of viewers who enter an instant win they see open.
    #[arg(long, default_value_t = GamePlay::default().entry_ratio)]
    pub entry_ratio: f64,
    /// Viewers give (made-up) contact data when they join, so support sees
    /// a masked phone and e-mail on their card.
    #[arg(long)]
    pub contact: bool,
    /// Reconnect tries in a row before a viewer whose connection closed
    /// gives up (0: viewers do not reconnect). A ban ends a viewer at once.
    #[arg(long, default_value_t = 20)]
    pub reconnects: u32,
}

impl CrowdArgs {
    /// The run these arguments ask for, with `seed` when none was given.
    fn config(self, seed: u64) -> CrowdConfig {
        CrowdConfig {
            viewers: self.viewers,
            rate: self.rate,
            duration: self.duration.into(),
            seed,
            mix: LineMix {
                question_ratio: self.question_ratio,
                abuse_ratio: self.abuse_ratio,
                personal_data_ratio: self.personal_data_ratio,
            },
            connect_rate: self.connect_rate,
            max_lines: self.lines,
            play: GamePlay {
                poll_bias: self.poll_bias,
                entry_ratio: self.entry_ratio,
                ..GamePlay::default()
            },
            contact: self.contact,
            max_reconnects: self.reconnects,
            ..CrowdConfig::new(self.url, self.live)
        }
    }
}

/// Runs until the duration passes or Ctrl-C, then prints the summary.
/// Fails when personal data reached a viewer. Settings the crowd cannot
/// run with exit [`Exit::Usage`] before anything connects.
pub async fn run(args: CrowdArgs) -> Result<Exit, Failed> {
    crate::telemetry::to_stderr();
    let seed = args.seed.unwrap_or_else(rand::random);
    let tls = crate::tls::ClientTls::new(args.trust.ca.as_deref(), false).map_err(usage)?;
    let mut config = args.config(seed);
    config.tls = tls;
    config.validate().map_err(usage)?;
    eprintln!(
        "crowd: {} viewers, {} lines/s for {} against {} (seed {seed})",
        config.viewers,
        config.rate,
        humantime::format_duration(config.duration),
        config.url
    );
    let ctrl_c = async {
        signals::first_of(&[Signal::Interrupt]).await;
    };
    let report = run_crowd(config, ctrl_c).await.map_err(|e| match e {
        CrowdError::Config(_) => usage(e),
        other => other.into(),
    })?;
    println!("{report}");
    if report.personal_data_seen_by_viewers > 0 {
        return Err(anyhow::anyhow!(
            "{} messages with personal data reached viewers",
            report.personal_data_seen_by_viewers
        )
        .into());
    }
    Ok(Exit::Success)
}
