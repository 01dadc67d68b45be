//! Graceful restart for the session (RFC 4724, with RFC 8538's
//! NOTIFICATION extension): what our OPEN offers, what the two OPENs
//! agree on, and which NOTIFICATION, if any, each deliberate close sends.
//!
//! herald is only ever the *restarting* speaker in the RFC's sense: the
//! router is the helper that keeps our routes while herald is away. The
//! reverse, herald keeping the router's routes, has no meaning because
//! herald ignores received routes; a received NOTIFICATION therefore needs
//! nothing beyond what the state machine does anyway.
//!
//! Why the Forwarding State (F) bit is 1 for every family we offer: herald
//! forwards no packets itself. The "forwarding state" behind its routes is
//! the host's services and addresses, and they keep running while herald
//! restarts. The router keeping our routes during that time sends traffic
//! to a host that still serves it, which is what RFC 4724 §4.2 asks F to
//! promise.
//!
//! What each kind of close sends, by what the two OPENs agreed on (RFC
//! 4724 §4.2, RFC 8538 §4 and §5.1):
//!
//! | close                            | N on both sides       | GR on both, not N | no GR on both |
//! |----------------------------------|-----------------------|-------------------|---------------|
//! | [`Input::Restart`]               | Cease / Adm. Reset    | nothing           | Cease / Adm. Reset |
//! | [`Input::Stop`], [`Input::BfdDown`] | Hard Reset around the Cease (see [`for_deliberate_close`]) | the Cease | the Cease |
//! | decode error, hold timer expiry  | its own NOTIFICATION  | the same          | the same      |
//!
//! Errors keep their own NOTIFICATION even with N: RFC 8538 §4 wants a
//! malformed message or a silent peer to end in a graceful restart, so the
//! router keeps our routes while herald reconnects.
//!
//! [`Input::Restart`]: super::Input::Restart
//! [`Input::Stop`]: super::Input::Stop
//! [`Input::BfdDown`]: super::Input::BfdDown

use super::{Action, DownReason, Negotiated, Phase, Session, SessionConfig};
use crate::bgp::wire::iana::{cease_subcode, error_code, graceful_restart};
use crate::bgp::wire::{Capability, Family, GracefulRestart, Notification, Open};

/// What we offer in our Graceful Restart capability.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct GracefulRestartConfig {
    /// Seconds the router should keep our routes while herald restarts
    /// (RFC 4724 §3). The field has 12 bits: anything above 4095 is sent
    /// as 4095.
    pub restart_time: u16,
    /// Set the N flag (RFC 8538 §2): when the router sets it too, a
    /// NOTIFICATION other than Hard Reset, or a hold timer expiry, leaves
    /// our routes with the router as after a restart, and most deliberate
    /// stops are sent as Hard Reset so that they still remove them.
    pub notification: bool,
}

/// Our Graceful Restart capability: R while the first session after a
/// restart of herald is being set up (RFC 4724 §4.1), N as configured, and
/// one entry per configured family with F = 1 (see the module
/// documentation for why F holds).
pub(super) fn capability(
    config: &GracefulRestartConfig,
    restarting: bool,
    families: &[Family],
) -> Capability {
    Capability::GracefulRestart(GracefulRestart {
        restart_state: restarting,
        notification: config.notification,
        restart_time: config.restart_time.min(graceful_restart::MAX_RESTART_TIME),
        families: families.iter().map(|family| (*family, true)).collect(),
    })
}

/// Both sides set N (RFC 8538 §2 requires both for the extension to
/// apply).
pub(super) fn notification_negotiated(config: &SessionConfig, open: &Open) -> bool {
    let ours = config.graceful_restart.is_some_and(|gr| gr.notification);
    let theirs = open.graceful_restart().is_some_and(|gr| gr.notification);
    ours && theirs
}

/// The NOTIFICATION for a close herald chose ([`Input::Stop`] or
/// [`Input::BfdDown`]). Without N on both sides it is `cease` unchanged. With
/// N, any NOTIFICATION except Hard Reset makes the router keep our routes
/// (RFC 8538 §4), so a deliberate close is wrapped in Hard Reset (RFC 8538
/// §3), following the suggestions of RFC 8538 §5.1 for Cease subcodes:
///
/// - Maximum Number of Prefixes Reached, Administrative Shutdown and Peer
///   De-configured: Hard Reset.
/// - BFD Down (RFC 9384, later than that list): Hard Reset too. The router
///   must not keep sending traffic over the path BFD just found broken.
/// - Administrative Reset: left to the operator by RFC 8538; herald's
///   operator chooses with the input: [`Input::Stop`] means a Hard Reset,
///   [`Input::Restart`] the graceful kind.
/// - Connection Rejected, Other Configuration Change, Connection Collision
///   Resolution and Out of Resources: RFC 8538 §5.1 keeps them graceful, so
///   they are sent unwrapped. herald's reload uses Other Configuration
///   Change to reset a peer whose settings changed; the new session
///   follows at once and its End-of-RIB replaces whatever the router kept.
/// - A Hard Reset is not wrapped again; any other code is a deliberate stop
///   and is wrapped.
///
/// [`Input::Stop`]: super::Input::Stop
/// [`Input::BfdDown`]: super::Input::BfdDown
/// [`Input::Restart`]: super::Input::Restart
pub(super) fn for_deliberate_close(
    negotiated: Option<&Negotiated>,
    cease: Notification,
) -> Notification {
    let graceful_cease = cease.code == error_code::CEASE
        && matches!(
            cease.subcode,
            cease_subcode::CONNECTION_REJECTED
                | cease_subcode::OTHER_CONFIGURATION_CHANGE
                | cease_subcode::CONNECTION_COLLISION_RESOLUTION
                | cease_subcode::OUT_OF_RESOURCES
        );
    let notification_gr = negotiated.is_some_and(|n| n.notification_gr);
    if notification_gr && !graceful_cease && !cease.is_hard_reset() {
        Notification::hard_reset(&cease)
    } else {
        cease
    }
}

/// The NOTIFICATION that makes [`Input::Restart`] leave our routes with
/// the router, once OPENs were exchanged (`negotiated`); `None` means
/// close the connection without one.
///
/// - N on both sides: Cease / Administrative Reset with `message`. Any
///   NOTIFICATION but Hard Reset makes the router a helper (RFC 8538 §4),
///   and this one tells its operator why the session went down.
/// - Both sides advertised Graceful Restart, but not both N: no
///   NOTIFICATION. RFC 4724 §4.2 keeps routes only when the TCP connection
///   ends without one; a NOTIFICATION would make the router drop them.
/// - Graceful Restart not advertised by both sides: the router drops our
///   routes whatever we do, so Cease / Administrative Reset with `message`
///   at least says why.
///
/// [`Input::Restart`]: super::Input::Restart
pub(super) fn restart_notification(
    config: &SessionConfig,
    negotiated: &Negotiated,
    message: &str,
) -> Option<Notification> {
    let both_advertised =
        config.graceful_restart.is_some() && negotiated.peer_graceful_restart.is_some();
    if both_advertised && !negotiated.notification_gr {
        None
    } else {
        Some(Notification::cease(
            cease_subcode::ADMINISTRATIVE_RESET,
            message,
        ))
    }
}

impl Session {
    /// RFC 4271 Event 2 for a graceful restart of herald: see
    /// [`restart_notification`] for what is sent once OPENs were
    /// exchanged, and [`Input::Restart`] for why nothing is sent before.
    ///
    /// [`Input::Restart`]: super::Input::Restart
    pub(super) fn restart(&mut self, message: &str) -> Vec<Action> {
        let notification = match &self.phase {
            Phase::OpenConfirm(negotiated) | Phase::Established(negotiated) => {
                restart_notification(&self.config, negotiated, message)
            }
            Phase::Idle | Phase::Connect | Phase::OpenSent { .. } => None,
        };
        self.halt(notification, DownReason::Restarting)
    }
}
