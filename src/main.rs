use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = regie::cli::Cli::parse();
    match regie::cli::run(cli).await {
        Ok(exit) => exit.into(),
        Err(failed) => {
            eprintln!("regie: {}", regie::cli::describe(&failed.error));
            failed.exit.into()
        }
    }
}
