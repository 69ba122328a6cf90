//! The `stilt` binary: parse arguments, pick the verb, wire the engine. Nothing else.

use clap::Parser;
use stilt::cli::{AlphaCommand, Cli, Command};

fn main() {
    let cli = Cli::parse();
    let code = match cli.command {
        Command::Version => {
            println!("stilt {}", env!("CARGO_PKG_VERSION"));
            0
        }
        Command::Down(args) => block_on(stilt::cli::down::down(args)),
        Command::Up(args) => block_on(stilt::cli::up::up(args)),
        Command::Ci(args) => block_on(stilt::cli::ci::ci(args)),
        Command::Client(verb) => block_on(verb.run()),
        Command::Alpha(AlphaCommand::TiltfileResult(args)) => {
            block_on(stilt::cli::tiltfile_result::tiltfile_result(args))
        }
    };
    std::process::exit(code);
}

/// How long the runtime may take to wind down after the verb returned.
const SHUTDOWN_LIMIT: std::time::Duration = std::time::Duration::from_millis(500);

fn block_on(f: impl std::future::Future<Output = i32>) -> i32 {
    match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => {
            let code = rt.block_on(f);
            // Dropping the runtime would wait for every blocking thread, and a Tiltfile
            // load that ignored its cancellation would then hold the process forever. By
            // now the engine has stopped everything it started; nothing is left to wait for.
            rt.shutdown_timeout(SHUTDOWN_LIMIT);
            code
        }
        Err(e) => {
            eprintln!("Error: cannot start the async runtime: {e}");
            2
        }
    }
}
