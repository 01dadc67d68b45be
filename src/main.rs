//! The `herald` binary: parse the command line, dispatch, and turn errors
//! into one `herald: ...` line and an exit code from the table below
//! (documented in herald(8)):
//!
//! | code | meaning                                                      |
//! |------|--------------------------------------------------------------|
//! | 0    | success                                                      |
//! | 1    | failure at run time (the daemon, or an unexpected answer)   |
//! | 2    | command-line usage error                                     |
//! | 3    | the configuration file is unreadable or invalid              |
//! | 4    | the daemon cannot be reached (not running, no permission)    |
//! | 5    | the daemon refused the request (unknown VIP, invalid config) |

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;

use herald::cli::{Cli, Command, RestartArgs, SocketArg, TargetArgs};
use herald::config::Config;
use herald::control::client;
use herald::control::protocol::{self, ErrorCode, Request, Response, StatusReport, Target};
use herald::control::render::render_status;
use herald::daemon::restart::Ending;
use herald::errors::one_line;
use herald::text::escape_controls;
use herald::{logging, summary};

const EXIT_RUNTIME: u8 = 1;
const EXIT_CONFIG: u8 = 3;
const EXIT_REFUSED: u8 = 5;

/// How long a one-shot command waits for the daemon. A reload builds new
/// probes and a status asks every task, both well under a second; the
/// margin covers a loaded host.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// How often `herald restart` asks whether the new daemon is up.
const RESTART_POLL: Duration = Duration::from_millis(20);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let verbosity = cli.verbosity();
    match cli.command {
        Command::Check(args) => check(&args.config),
        Command::Run(args) => {
            logging::init(verbosity);
            run(&args.config)
        }
        Command::Status(args) => {
            let json = args.json;
            ask(&args.socket, &Request::Status, |response| match response {
                Response::Status(report) if json => {
                    // Serialising our own report cannot fail.
                    let text = serde_json::to_string_pretty(&report).unwrap_or_default();
                    println!("{text}");
                    ExitCode::SUCCESS
                }
                Response::Status(report) => {
                    print!("{}", render_status(&report));
                    ExitCode::SUCCESS
                }
                other => unexpected(other),
            })
        }
        Command::Withdraw(args) => match target(&args.target) {
            Ok(target) => {
                let request = Request::Withdraw {
                    target,
                    reason: args.reason,
                };
                ask(&args.target.socket, &request, done)
            }
            Err(code) => code,
        },
        Command::Announce(args) => match target(&args) {
            Ok(target) => ask(&args.socket, &Request::Announce { target }, done),
            Err(code) => code,
        },
        Command::Auto(args) => match target(&args) {
            Ok(target) => ask(&args.socket, &Request::Auto { target }, done),
            Err(code) => code,
        },
        Command::Reload(args) => ask(&args, &Request::Reload, done),
        Command::Drain(args) => ask(&args.socket, &Request::Drain { time: args.time }, done),
        Command::Undrain(args) => ask(&args, &Request::Undrain, done),
        Command::Restart(args) => restart(&args),
    }
}

/// `herald restart`: asks for the restart, then waits until a daemon
/// that started after the request answers.
fn restart(args: &RestartArgs) -> ExitCode {
    let socket = &args.socket.socket;
    let before = match status_of(socket) {
        Ok(report) => report,
        Err(code) => return code,
    };
    let asked = Instant::now();
    let code = ask(&args.socket, &Request::Restart, |response| match response {
        Response::Done { .. } => ExitCode::SUCCESS,
        other => unexpected(other),
    });
    if code != ExitCode::SUCCESS {
        return code;
    }
    while asked.elapsed() < args.timeout {
        std::thread::sleep(RESTART_POLL);
        let answer = client::request(socket, &Request::Status, RESTART_POLL * 4);
        if let Ok(Response::Status(report)) = answer {
            if report.started_unix_ms != before.started_unix_ms {
                println!(
                    "restarted in {} ms (pid {}, version {})",
                    asked.elapsed().as_millis(),
                    report.pid,
                    report.version
                );
                return ExitCode::SUCCESS;
            }
        }
    }
    eprintln!(
        "herald: the daemon did not answer within {:?} of the restart; see its log",
        args.timeout
    );
    ExitCode::from(EXIT_RUNTIME)
}

/// The daemon's status, or the exit code of why it could not be had.
fn status_of(socket: &Path) -> Result<StatusReport, ExitCode> {
    match client::request(socket, &Request::Status, REQUEST_TIMEOUT) {
        Ok(Response::Status(report)) => Ok(report),
        Ok(other) => Err(unexpected(other)),
        Err(err) => {
            eprintln!("herald: {}", one_line(&err));
            Err(ExitCode::from(err.exit_code()))
        }
    }
}

fn check(path: &Path) -> ExitCode {
    match Config::load(path) {
        Ok((config, warnings)) => {
            for warning in &warnings {
                eprintln!("herald: {warning}");
            }
            print!("{}", summary::render(&config));
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("herald: {}", one_line(&err));
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

fn run(path: &Path) -> ExitCode {
    // Before anything else: after a package upgrade replaced the binary,
    // the running one's path would read "... (deleted)".
    let self_exec = herald::daemon::restart::SelfExec::capture();
    let config = match Config::load(path) {
        Ok((config, warnings)) => {
            for warning in &warnings {
                tracing::warn!("{warning}");
            }
            config
        }
        Err(err) => {
            eprintln!("herald: {}", one_line(&err));
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    match herald::daemon::run(config) {
        Ok(Ending::Reexec) => {
            let err = match self_exec {
                Ok(program) => program.exec(),
                Err(err) => err,
            };
            eprintln!("herald: cannot execute herald again to restart: {err}");
            ExitCode::from(EXIT_RUNTIME)
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("herald: {}", one_line(&err));
            ExitCode::from(EXIT_RUNTIME)
        }
    }
}

/// The VIPs named on the command line, checked before the daemon is asked.
fn target(args: &TargetArgs) -> Result<Target, ExitCode> {
    if args.all {
        return Ok(Target::All);
    }
    args.vips
        .iter()
        .map(|text| protocol::parse_vip(text))
        .collect::<Result<Vec<_>, _>>()
        .map(Target::Vips)
        .map_err(|err| {
            eprintln!("herald: {}", err.message);
            ExitCode::from(2)
        })
}

/// Sends `request`; errors (unreachable daemon, refused request) are
/// printed here, anything else goes to `handle`.
fn ask(
    socket: &SocketArg,
    request: &Request,
    handle: impl FnOnce(Response) -> ExitCode,
) -> ExitCode {
    match client::request(&socket.socket, request, REQUEST_TIMEOUT) {
        Ok(Response::Error { code, message }) => {
            eprintln!("herald: {} ({code})", escape_controls(&message));
            ExitCode::from(match code {
                ErrorCode::UnknownVip | ErrorCode::InvalidConfig => EXIT_REFUSED,
                _ => EXIT_RUNTIME,
            })
        }
        Ok(response) => handle(response),
        Err(err) => {
            eprintln!("herald: {}", one_line(&err));
            ExitCode::from(err.exit_code())
        }
    }
}

fn done(response: Response) -> ExitCode {
    match response {
        Response::Done { message } => {
            println!("{}", escape_controls(&message));
            ExitCode::SUCCESS
        }
        other => unexpected(other),
    }
}

fn unexpected(response: Response) -> ExitCode {
    eprintln!(
        "herald: unexpected answer from the daemon: {}",
        response.to_line().trim_end()
    );
    ExitCode::from(EXIT_RUNTIME)
}
