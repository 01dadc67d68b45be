//! Bidirectional Forwarding Detection (placeholder doc, completed below).

pub mod iana;
pub mod packet;
pub mod session;

pub use packet::{decode, ControlPacket, Diagnostic, PacketError, State};
pub use session::{
    Action, Counters, Input, ResumeState, Session, Settings, SettingsError, Snapshot,
};
