//! The command line, as clap definitions only; `main.rs` dispatches.

use std::path::PathBuf;
use std::time::Duration;

use clap::{ArgAction, Args, Parser, Subcommand};

/// Default configuration file, as installed by the packages.
pub const DEFAULT_CONFIG: &str = "/etc/herald/herald.toml";
/// Default control socket, as `[control] socket` defaults.
pub const DEFAULT_SOCKET: &str = "/run/herald/herald.sock";

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
    /// Run the daemon in the foreground: keep a BGP session to every peer,
    /// run the health checks and announce the VIPs.
    Run(ConfigArg),
    /// Validate a configuration file and print a summary of it.
    Check(ConfigArg),
    /// Show peers, VIPs and checks of the running daemon.
    Status(StatusArgs),
    /// Withdraw VIPs regardless of their health, until `herald auto`; kept
    /// across restarts.
    Withdraw(WithdrawArgs),
    /// Announce VIPs regardless of their health, until `herald auto`; kept
    /// across restarts.
    Announce(TargetArgs),
    /// Hand VIPs back to their health checks (`--all` also ends a drain).
    Auto(TargetArgs),
    /// Re-read the configuration file; an invalid one changes nothing.
    Reload(SocketArg),
    /// Planned maintenance: announce every VIP with GRACEFUL_SHUTDOWN
    /// (65535:0), then withdraw them all after the drain time. Sessions stay
    /// up.
    Drain(DrainArgs),
    /// End a drain: VIPs follow their checks again.
    Undrain(SocketArg),
    /// Restart the daemon in place (same process, the binary on disk
    /// executed again, e.g. after an upgrade) without the routers noticing:
    /// they keep this host's routes (BGP graceful restart) and BFD stays
    /// up. Waits until the new daemon answers.
    Restart(RestartArgs),
}

/// `herald restart`.
#[derive(Debug, Args)]
pub struct RestartArgs {
    /// How long to wait for the restarted daemon to answer.
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub timeout: Duration,
    #[command(flatten)]
    pub socket: SocketArg,
}

/// `--config PATH`, shared by the commands that read the file.
#[derive(Debug, Args)]
pub struct ConfigArg {
    /// Configuration file.
    #[arg(short, long, value_name = "PATH", default_value = DEFAULT_CONFIG)]
    pub config: PathBuf,
}

/// `--socket PATH`, shared by the commands that talk to the daemon.
#[derive(Debug, Args)]
pub struct SocketArg {
    /// Control socket of the running daemon.
    #[arg(short, long, value_name = "PATH", env = "HERALD_SOCKET", default_value = DEFAULT_SOCKET)]
    pub socket: PathBuf,
}

/// `herald status`.
#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print the status as JSON (a stable, documented format).
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub socket: SocketArg,
}

/// The VIPs a command applies to.
#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Prefixes as configured (a bare address means /32 or /128).
    #[arg(
        value_name = "VIP",
        required_unless_present = "all",
        conflicts_with = "all"
    )]
    pub vips: Vec<String>,
    /// Every configured VIP.
    #[arg(long)]
    pub all: bool,
    #[command(flatten)]
    pub socket: SocketArg,
}

/// `herald withdraw`.
#[derive(Debug, Args)]
pub struct WithdrawArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    /// Why, shown by `herald status` and logged.
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

/// `herald drain`.
#[derive(Debug, Args)]
pub struct DrainArgs {
    /// How long routes carry GRACEFUL_SHUTDOWN before they are withdrawn
    /// ("30s", "2m"); default: `global.drain-time`.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub time: Option<Duration>,
    #[command(flatten)]
    pub socket: SocketArg,
}

impl Cli {
    /// `-v` count minus `-q` count, for the log level.
    pub fn verbosity(&self) -> i8 {
        let clamp = |n: u8| i8::try_from(n).unwrap_or(i8::MAX);
        clamp(self.verbose) - clamp(self.quiet)
    }
}

fn parse_duration(text: &str) -> Result<Duration, String> {
    crate::config::parse_duration(text)
}
