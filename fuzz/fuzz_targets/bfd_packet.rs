//! Decodes one BFD Control packet from hostile bytes: it must come back as
//! a packet or a named reception error, never a panic. An accepted packet
//! must re-encode to itself, and a session fed with it must answer within
//! the rules (never Poll and Final together, RFC 5880 §6.5).
//!
//! Input: the UDP payload, as received on port 3784.

#![no_main]

use std::num::NonZeroU32;

use herald::bfd::{decode, Action, Input, Session, Settings};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let packet = match decode(data) {
        Ok(packet) => packet,
        Err(err) => {
            let _ = err.to_string();
            return;
        }
    };
    assert_eq!(decode(&packet.encode()), Ok(packet), "re-encodes to itself");
    let mut session = Session::new(Settings::default(), NonZeroU32::MIN, 0);
    session.start();
    for action in session.handle(Input::Received(packet)) {
        if let Action::Send(sent) = action {
            assert!(!(sent.poll && sent.final_), "P and F together: {sent:?}");
        }
    }
});
