//! The `herald` binary: parse the command line, dispatch, and turn errors
//! into one `herald: ...` line and an exit code from the table below
//! (documented in herald(8)):
//!
//! | code | meaning                                           |
//! |------|---------------------------------------------------|
//! | 0    | success                                           |
//! | 1    | the daemon failed at run time                     |
//! | 2    | command-line usage error                          |
//! | 3    | the configuration file is unreadable or invalid   |

use std::process::ExitCode;

use clap::Parser;

use herald::cli::{Cli, Command};
use herald::config::Config;
use herald::{logging, summary};

const EXIT_RUNTIME: u8 = 1;
const EXIT_CONFIG: u8 = 3;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let verbosity = cli.verbosity();
    match cli.command {
        Command::Check(args) => match Config::load(&args.config) {
            Ok((config, warnings)) => {
                for warning in &warnings {
                    eprintln!("herald: {warning}");
                }
                print!("{}", summary::render(&config));
                ExitCode::SUCCESS
            }
            Err(err) => {
                eprintln!("herald: {}", chain(&err));
                ExitCode::from(EXIT_CONFIG)
            }
        },
        Command::Run(args) => {
            logging::init(verbosity);
            let config = match Config::load(&args.config) {
                Ok((config, warnings)) => {
                    for warning in &warnings {
                        tracing::warn!("{warning}");
                    }
                    config
                }
                Err(err) => {
                    eprintln!("herald: {}", chain(&err));
                    return ExitCode::from(EXIT_CONFIG);
                }
            };
            match herald::daemon::run(config) {
                Ok(()) => ExitCode::SUCCESS,
                Err(err) => {
                    eprintln!("herald: {}", chain(&err));
                    ExitCode::from(EXIT_RUNTIME)
                }
            }
        }
    }
}

/// An error and its causes on one line: `outer: inner: root`.
fn chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
