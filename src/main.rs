use clap::Parser;
use regie::exit::Exit;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = regie::cli::Cli::parse();
    match regie::cli::run(cli).await {
        Ok(exit) => exit.into(),
        Err(err) => {
            eprintln!("regie: {err:#}");
            Exit::Failure.into()
        }
    }
}
