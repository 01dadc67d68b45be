//! Writes shell completions for `herald` into a directory, for packaging:
//!
//! ```sh
//! cargo run --example completions -- OUTDIR
//! ```
//!
//! It produces `herald.bash`, `_herald` (zsh) and `herald.fish` from the same
//! clap definitions the binary parses with, so the completions cannot drift
//! from the command line. An example rather than a subcommand keeps
//! `clap_complete` out of the shipped binary's dependencies.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::CommandFactory;
use clap_complete::{generate_to, Shell};

use herald::cli::Cli;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: completions OUTDIR");
        return ExitCode::from(2);
    };
    if let Err(err) = std::fs::create_dir_all(&dir) {
        eprintln!("completions: cannot create {}: {err}", dir.display());
        return ExitCode::FAILURE;
    }
    let mut command = Cli::command();
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        match generate_to(shell, &mut command, "herald", &dir) {
            Ok(path) => println!("{}", path.display()),
            Err(err) => {
                eprintln!("completions: cannot write {shell} completions: {err}");
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
