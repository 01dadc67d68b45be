//! The command line, as clap definitions only; `main.rs` dispatches.

use std::path::PathBuf;

use clap::{ArgAction, Parser, Subcommand};

/// Default configuration file, as installed by the packages.
pub const DEFAULT_CONFIG: &str = "/etc/herald/herald.toml";

/// herald announces service IPs (VIPs) to routers over BGP, so that every
/// healthy host is an equal-cost next hop.
#[derive(Debug, Parser)]
#[command(name = "herald", version, about, propagate_version = true)]
pub struct Cli {
    /// More log output (-v debug, -vv trace). RUST_LOG overrides.
    #[arg(short, long, action = ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Less log output (-q warnings only, -qq errors only).
    #[arg(short, long, action = ArgAction::Count, global = true, conflicts_with = "verbose")]
    pub quiet: u8,
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon in the foreground: keep a BGP session to every peer
    /// and announce the configured VIPs.
    Run(ConfigArg),
    /// Validate a configuration file and print a summary of its peers and
    /// VIPs.
    Check(ConfigArg),
}

/// `--config PATH`, shared by the commands that read the file.
#[derive(Debug, clap::Args)]
pub struct ConfigArg {
    /// Configuration file.
    #[arg(short, long, value_name = "PATH", default_value = DEFAULT_CONFIG)]
    pub config: PathBuf,
}

impl Cli {
    /// `-v` count minus `-q` count, for the log level.
    pub fn verbosity(&self) -> i8 {
        let clamp = |n: u8| i8::try_from(n).unwrap_or(i8::MAX);
        clamp(self.verbose) - clamp(self.quiet)
    }
}
