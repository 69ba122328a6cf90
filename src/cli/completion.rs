//! `stilt completion bash|zsh|fish`: a completion script for the shell, generated
//! from the same clap definitions the binary parses with.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

#[derive(Debug, Args)]
#[command(
    after_help = "Examples:\n  stilt completion bash > ~/.local/share/bash-completion/completions/stilt\n  stilt completion fish > ~/.config/fish/completions/stilt.fish"
)]
pub struct CompletionArgs {
    #[arg(value_parser = ["bash", "zsh", "fish"])]
    pub shell: String,
}

pub fn completion(args: &CompletionArgs, out: &mut dyn std::io::Write) -> i32 {
    let shell = match args.shell.as_str() {
        "bash" => Shell::Bash,
        "zsh" => Shell::Zsh,
        _ => Shell::Fish,
    };
    let mut cmd = super::Cli::command();
    clap_complete::generate(shell, &mut cmd, "stilt", out);
    0
}
