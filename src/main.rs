use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = regie::cli::Cli::parse();
    match regie::cli::run(cli).await {
        Ok(code) => code,
        Err(err) => {
            eprintln!("regie: {err:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
