//! Operator requests about VIPs: overrides, drain, and the VIP part of
//! `herald status`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ipnet::IpNet;
use tokio::time::Instant;

use super::{Announcer, Drain};
use crate::control::protocol::{
    DrainStatus, ErrorCode, OverrideStatus, Request, Response, StatusReport, Target, VipStatus,
};
use crate::health::vip_state::Health;
use crate::state_file::{Override, OverrideAction};

/// The save of a change the operator made, to wait on before answering.
pub(super) type Saving =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>;

impl Announcer {
    /// Carries out one operator request; nothing changes when it is
    /// refused. A request that changed the overrides also returns the
    /// future of their save, for the answer to wait on.
    pub(super) fn operator(&mut self, request: Request) -> (Response, Option<Saving>) {
        match request {
            Request::Withdraw { target, reason } => {
                self.set_override(&target, Some(OverrideAction::Withdraw), reason)
            }
            Request::Announce { target } => {
                self.set_override(&target, Some(OverrideAction::Announce), None)
            }
            Request::Auto { target } => self.set_override(&target, None, None),
            Request::Drain { time } => (self.start_drain(time), None),
            Request::Undrain => (self.undrain(), None),
            Request::Status | Request::Reload | Request::Restart => (
                Response::Error {
                    code: ErrorCode::Internal,
                    message: format!("{} is not a VIP request", request.command()),
                },
                None,
            ),
        }
    }

    /// Sets (or with `None` clears) the override of every VIP in `target`.
    /// `auto --all` also ends a drain: it hands the whole host back to its
    /// checks.
    fn set_override(
        &mut self,
        target: &Target,
        action: Option<OverrideAction>,
        reason: Option<String>,
    ) -> (Response, Option<Saving>) {
        let prefixes = match self.resolve(target) {
            Ok(prefixes) => prefixes,
            Err(message) => {
                let refused = Response::Error {
                    code: ErrorCode::UnknownVip,
                    message,
                };
                return (refused, None);
            }
        };
        let since_unix = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let why = match (&action, &reason) {
            (Some(_), Some(reason)) => format!("operator: {reason}"),
            (Some(OverrideAction::Withdraw), None) => "operator withdraw".to_string(),
            (Some(OverrideAction::Announce), None) => "operator announce".to_string(),
            (None, _) => "operator handed it back to its checks".to_string(),
        };
        let undrain = action.is_none() && matches!(target, Target::All);
        self.apply(&why, |this| {
            for prefix in &prefixes {
                match action {
                    Some(action) => {
                        let entry = Override {
                            action,
                            reason: reason.clone(),
                            since_unix,
                        };
                        this.overrides.insert(*prefix, entry);
                    }
                    None => {
                        this.overrides.remove(prefix);
                    }
                }
            }
            if undrain {
                this.drain = Drain::Off;
            }
        });
        let verb = match action {
            Some(OverrideAction::Withdraw) => "withdrawn",
            Some(OverrideAction::Announce) => "announced",
            None => "handed back to their checks",
        };
        let mut message = format!("{} VIP(s) {verb}", prefixes.len());
        if undrain {
            message.push_str("; drain ended");
        }
        (Response::Done { message }, Some(Box::pin(self.persist())))
    }

    /// The configured prefixes `target` names, or a message listing those
    /// that are not configured.
    fn resolve(&self, target: &Target) -> Result<Vec<IpNet>, String> {
        match target {
            Target::All => Ok(self.entries.iter().map(|e| e.vip.prefix).collect()),
            Target::Vips(prefixes) => {
                let unknown: Vec<String> = prefixes
                    .iter()
                    .filter(|p| !self.entries.iter().any(|e| e.vip.prefix == **p))
                    .map(IpNet::to_string)
                    .collect();
                if unknown.is_empty() {
                    Ok(prefixes.clone())
                } else {
                    Err(format!("not in the configuration: {}", unknown.join(", ")))
                }
            }
        }
    }

    fn start_drain(&mut self, time: Option<Duration>) -> Response {
        let time = time.unwrap_or(self.drain_time);
        let until = Instant::now() + time;
        self.apply("operator drain", |this| {
            this.drain = if time.is_zero() {
                Drain::Drained
            } else {
                Drain::Draining { until }
            };
        });
        Response::Done {
            message: format!(
                "draining {} VIP(s): GRACEFUL_SHUTDOWN (65535:0) for {}s, then withdrawn",
                self.announced(),
                time.as_secs()
            ),
        }
    }

    fn undrain(&mut self) -> Response {
        if self.drain == Drain::Off {
            return Response::Done {
                message: "not draining".to_string(),
            };
        }
        self.apply("operator undrain", |this| this.drain = Drain::Off);
        Response::Done {
            message: format!("drain ended: {} VIP(s) announced", self.announced()),
        }
    }

    /// Fills in `vips` and `drain` of a status report.
    pub(super) fn fill_status(&self, report: &mut StatusReport) {
        let now = self.now();
        report.drain = match self.drain {
            Drain::Off => DrainStatus::None,
            Drain::Draining { until } => DrainStatus::Draining {
                remaining_secs: until.saturating_duration_since(Instant::now()).as_secs(),
            },
            Drain::Drained => DrainStatus::Drained,
        };
        report.vips = self
            .entries
            .iter()
            .map(|entry| {
                let prefix = entry.vip.prefix;
                let peers = self
                    .peers
                    .iter()
                    .filter(|p| p.routes.borrow().contains_key(&prefix))
                    .map(|p| p.name.clone())
                    .collect();
                VipStatus {
                    prefix: prefix.to_string(),
                    state: self.effective(entry).to_string(),
                    health: match entry.state.health() {
                        Health::Up => "up",
                        Health::Down => "down",
                    }
                    .to_string(),
                    override_: self.overrides.get(&prefix).map(|o| OverrideStatus {
                        action: match o.action {
                            OverrideAction::Withdraw => "withdraw",
                            OverrideAction::Announce => "announce",
                        }
                        .to_string(),
                        reason: o.reason.clone(),
                        since_unix: o.since_unix,
                    }),
                    peers,
                    penalty: entry.state.penalty(now),
                    suppressed: entry.state.suppressed(now),
                    checks: entry.check_names.clone(),
                }
            })
            .collect();
    }
}
