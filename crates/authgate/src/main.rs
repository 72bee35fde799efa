//! The `authgate` binary: command line, configuration, start-up.

mod cli;
mod commands;
mod logging;
mod secret_key;
mod settings;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let cli = cli::Cli::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the Tokio runtime starts");
    match runtime.block_on(commands::run(cli)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("authgate: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
