//! `regie demo`: hub, crowd and console in one process, on a temporary
//! store ([`crate::demo`] runs the pieces). Exits with the console's code.

use super::{Failed, usage};
use crate::console::app;
use crate::demo::{self, Demo, DemoOptions, HubEnd, STOP_WAIT};
use crate::exit::Exit;
use crate::protocol::StaffRole;

/// `regie demo`
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// The role the console logs in as: host, moderator, support or admin.
    #[arg(long = "as", default_value = "host")]
    pub role: StaffRole,
    /// Simulated viewers.
    #[arg(long, default_value_t = 80)]
    pub viewers: usize,
    /// Chat lines per second across the crowd.
    #[arg(long, default_value_t = 3.0)]
    pub rate: f64,
    /// Theme: default, light, high-contrast, or a file.
    #[arg(long)]
    pub theme: Option<String>,
    /// Seed for the crowd's names and lines (random when absent).
    #[arg(long)]
    pub seed: Option<u64>,
}

impl From<DemoArgs> for DemoOptions {
    fn from(args: DemoArgs) -> Self {
        DemoOptions {
            role: args.role,
            viewers: args.viewers,
            rate: args.rate,
            theme: args.theme,
            seed: args.seed,
        }
    }
}

/// Refuses bad options and a missing terminal (exit 2) before anything
/// starts; then runs the demo until the console quits.
pub async fn run(args: DemoArgs) -> Result<Exit, Failed> {
    let options = DemoOptions::from(args);
    options.validate().map_err(usage)?;
    app::check_terminal().map_err(usage)?;
    let temp = demo::temp_dir()?;
    // The console owns the terminal: the hub's and crowd's logs go to a file
    // in the temporary directory, deleted with it.
    crate::telemetry::to_file(&demo::log_file(temp.path()));
    let (running, console) = Demo::start(temp, &options).await?;
    eprintln!(
        "regie demo: hub on {}; a second console's URL and token are in {}\n\
         regie demo: attach a second console with:\n  {}",
        running.url,
        running.second_console.display(),
        running.attach
    );
    let ended = app::run(console.settings, Some(console.role), Some(console.intro)).await;
    let exit = super::console::report(ended);

    let stopped = running.stop().await;
    match &stopped.hub {
        HubEnd::Failed(e) => eprintln!("regie demo: the hub stopped with an error: {e}"),
        HubEnd::TaskFailed(e) => eprintln!("regie demo: the hub task failed: {e}"),
        HubEnd::TimedOut => eprintln!(
            "regie demo: the hub did not stop within {} s",
            STOP_WAIT.as_secs()
        ),
        HubEnd::Stopped => {}
    }
    stopped.delete()?;
    eprintln!("regie demo: stopped; temporary data deleted");
    exit
}
