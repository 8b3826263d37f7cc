use clap::Parser;

/// jemalloc, with its background purging thread: after thousands of viewers
/// leave, freed pages go back to the OS within seconds (its 10 s decay),
/// where glibc's malloc kept ~190 MiB of a 12 MiB hub resident for good.
/// The figures and the commands that produced them are in `docs/memory.md`.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = regie::cli::Cli::parse();
    // Boxed: the subcommands' futures (the console's state among them)
    // are bigger than a stack frame should carry.
    match Box::pin(regie::cli::run(cli)).await {
        Ok(exit) => exit.into(),
        Err(failed) => {
            eprintln!("regie: {}", regie::cli::describe(&failed.error));
            failed.exit.into()
        }
    }
}
