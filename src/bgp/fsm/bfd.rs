//! BFD hooks of the session (RFC 5880 for BFD itself, RFC 5882 for how
//! client protocols use it, RFC 9384 for the Cease subcode).
//!
//! The BGP session does not come up while BFD is configured and down:
//! [`Input::Start`] and the connect-retry timer in Idle only note that a
//! connection is due, and [`Input::BfdUp`] opens it. BGP's
//! own failure detection is the hold timer, often 90 seconds or more; a
//! session brought up over a path BFD cannot confirm would rely on that
//! alone, which reintroduces the black hole BFD is configured to close. RFC
//! 5882 §4 lets a client protocol hold its adjacency back this way.
//!
//! [`Input::BfdDown`] ends a connection in any state, sending Cease / BFD
//! Down once a BGP connection exists (RFC 9384 §2), and backs off like any
//! failure; in Idle it only marks BFD down. BFD starts out down. A session
//! without `bfd` ignores both inputs, so the I/O layer may forward BFD
//! events without checking the configuration.
//!
//! [`Input::Start`]: super::Input::Start
//! [`Input::BfdUp`]: super::Input::BfdUp
//! [`Input::BfdDown`]: super::Input::BfdDown

use bytes::Bytes;

use super::{graceful, notification, Action, DownReason, Phase, Session};
use crate::bgp::wire::iana::{cease_subcode, error_code};

impl Session {
    /// Open the connection that was due, if any; a running backoff keeps
    /// running.
    pub(super) fn bfd_up(&mut self) -> Vec<Action> {
        if !self.config.bfd {
            return Vec::new();
        }
        self.bfd_up = true;
        if self.connect_due {
            self.connect()
        } else {
            Vec::new()
        }
    }

    /// RFC 9384 §2: Cease / BFD Down, no data, when a BGP connection
    /// exists; a connection still being opened is just abandoned. Either
    /// way the backoff starts as after any failure, and its expiry waits
    /// for BFD again.
    pub(super) fn bfd_down(&mut self) -> Vec<Action> {
        if !self.config.bfd {
            return Vec::new();
        }
        self.bfd_up = false;
        match self.phase {
            Phase::Idle => Vec::new(),
            Phase::Connect => self.fail(None, DownReason::BfdDown),
            Phase::OpenSent { .. } | Phase::OpenConfirm(_) | Phase::Established(_) => {
                let cease = notification(error_code::CEASE, cease_subcode::BFD_DOWN, Bytes::new());
                let cease = graceful::for_deliberate_close(self.negotiated(), cease);
                self.fail(Some(cease), DownReason::BfdDown)
            }
        }
    }
}
