use clap::Parser;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    match caly::cli::run(caly::cli::Cli::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
