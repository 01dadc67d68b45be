//! Every number that appears on the wire, with the document that assigns it.
//!
//! Nothing else in the codec spells a raw code: a reader checking herald
//! against the IANA registries only needs this file.

/// BGP version herald speaks (RFC 4271 §4.2).
pub const BGP_VERSION: u8 = 4;
/// Placeholder 2-byte ASN for 4-byte ASNs (RFC 6793 §9).
pub const AS_TRANS: u16 = 23456;
/// TCP port for BGP (RFC 4271 §8.2.1).
pub const BGP_PORT: u16 = 179;

/// Message types (RFC 4271 §4.1, RFC 2918 §3).
pub mod message_type {
    pub const OPEN: u8 = 1;
    pub const UPDATE: u8 = 2;
    pub const NOTIFICATION: u8 = 3;
    pub const KEEPALIVE: u8 = 4;
    pub const ROUTE_REFRESH: u8 = 5;
}

/// OPEN optional parameter types (RFC 5492 §4).
pub mod open_param {
    pub const CAPABILITIES: u8 = 2;
    /// Marks the extended optional parameters length format (RFC 9072 §2).
    pub const EXTENDED_LENGTH: u8 = 255;
}

/// Capability codes (RFC 5492 §4; IANA "Capability Codes").
pub mod capability {
    /// RFC 4760 §8.
    pub const MULTIPROTOCOL: u8 = 1;
    /// RFC 2918 §2.
    pub const ROUTE_REFRESH: u8 = 2;
    /// RFC 4724 §3.
    pub const GRACEFUL_RESTART: u8 = 64;
    /// RFC 6793 §3.
    pub const FOUR_OCTET_AS: u8 = 65;
}

/// Fields of the Graceful Restart capability (RFC 4724 §3) and the
/// Notification flag added to it (RFC 8538 §2).
pub mod graceful_restart {
    /// Restart State (R), in the 4-bit Restart Flags: the sender has just
    /// restarted (RFC 4724 §3).
    pub const RESTART_STATE: u8 = 0x8;
    /// Graceful Notification (N), in the 4-bit Restart Flags: the sender
    /// applies graceful restart to NOTIFICATIONs too (RFC 8538 §2).
    pub const NOTIFICATION: u8 = 0x4;
    /// The Restart Flags sit in the top 4 bits of the first 16-bit word,
    /// the Restart Time in the low 12 (RFC 4724 §3).
    pub const FLAGS_SHIFT: u32 = 12;
    /// Largest Restart Time in seconds: the field has 12 bits (RFC 4724 §3).
    pub const MAX_RESTART_TIME: u16 = 0x0fff;
    /// Forwarding State (F), in the flags octet of each AFI/SAFI: the
    /// sender kept forwarding for that family across the restart (RFC 4724
    /// §3).
    pub const FORWARDING_STATE: u8 = 0x80;
}

/// Address family identifiers (IANA "Address Family Numbers").
pub mod afi {
    pub const IPV4: u16 = 1;
    pub const IPV6: u16 = 2;
}

/// Subsequent address family identifiers (RFC 4760 §6).
pub mod safi {
    pub const UNICAST: u8 = 1;
}

/// Path attribute flags (RFC 4271 §4.3).
pub mod attr_flag {
    pub const OPTIONAL: u8 = 0x80;
    pub const TRANSITIVE: u8 = 0x40;
    pub const PARTIAL: u8 = 0x20;
    pub const EXTENDED_LENGTH: u8 = 0x10;
}

/// Path attribute type codes (IANA "BGP Path Attributes").
pub mod attr_type {
    /// RFC 4271 §5.1.1.
    pub const ORIGIN: u8 = 1;
    /// RFC 4271 §5.1.2.
    pub const AS_PATH: u8 = 2;
    /// RFC 4271 §5.1.3.
    pub const NEXT_HOP: u8 = 3;
    /// RFC 4271 §5.1.4.
    pub const MULTI_EXIT_DISC: u8 = 4;
    /// RFC 4271 §5.1.5.
    pub const LOCAL_PREF: u8 = 5;
    /// RFC 4271 §5.1.6.
    pub const ATOMIC_AGGREGATE: u8 = 6;
    /// RFC 4271 §5.1.7 (4-byte form with RFC 6793).
    pub const AGGREGATOR: u8 = 7;
    /// RFC 1997.
    pub const COMMUNITIES: u8 = 8;
    /// RFC 4760 §3.
    pub const MP_REACH_NLRI: u8 = 14;
    /// RFC 4760 §4.
    pub const MP_UNREACH_NLRI: u8 = 15;
    /// RFC 4360 §2.
    pub const EXTENDED_COMMUNITIES: u8 = 16;
    /// RFC 6793 §3.
    pub const AS4_PATH: u8 = 17;
    /// RFC 6793 §3.
    pub const AS4_AGGREGATOR: u8 = 18;
    /// RFC 8092 §3.
    pub const LARGE_COMMUNITY: u8 = 32;
}

/// ORIGIN values (RFC 4271 §5.1.1).
pub mod origin {
    pub const IGP: u8 = 0;
    pub const EGP: u8 = 1;
    pub const INCOMPLETE: u8 = 2;
}

/// AS_PATH segment types (RFC 4271 §4.3; RFC 5065 §3 for confederations).
pub mod as_path_segment {
    pub const AS_SET: u8 = 1;
    pub const AS_SEQUENCE: u8 = 2;
    pub const AS_CONFED_SEQUENCE: u8 = 3;
    pub const AS_CONFED_SET: u8 = 4;
}

/// Well-known communities (RFC 1997; IANA "BGP Well-known Communities").
pub mod community {
    /// RFC 8326 §5.
    pub const GRACEFUL_SHUTDOWN: u32 = 0xFFFF_0000;
    /// RFC 7611 §3.
    pub const ACCEPT_OWN: u32 = 0xFFFF_0001;
    /// RFC 7999 §5.
    pub const BLACKHOLE: u32 = 0xFFFF_029A;
    /// RFC 1997.
    pub const NO_EXPORT: u32 = 0xFFFF_FF01;
    /// RFC 1997.
    pub const NO_ADVERTISE: u32 = 0xFFFF_FF02;
    /// RFC 1997.
    pub const NO_EXPORT_SUBCONFED: u32 = 0xFFFF_FF03;
    /// RFC 3765 §5.
    pub const NOPEER: u32 = 0xFFFF_FF04;
}

/// Extended community types used in configuration (RFC 4360 §3, RFC 5668).
pub mod ext_community {
    /// Transitive two-octet AS-specific (RFC 4360 §3.1).
    pub const TWO_OCTET_AS: u8 = 0x00;
    /// Transitive IPv4-address-specific (RFC 4360 §3.2).
    pub const IPV4_ADDRESS: u8 = 0x01;
    /// Transitive four-octet AS-specific (RFC 5668 §2).
    pub const FOUR_OCTET_AS: u8 = 0x02;
    /// Sub-type Route Target (RFC 4360 §4).
    pub const ROUTE_TARGET: u8 = 0x02;
    /// Sub-type Route Origin (RFC 4360 §5).
    pub const ROUTE_ORIGIN: u8 = 0x03;
}

/// NOTIFICATION error codes (RFC 4271 §4.5) and their subcodes.
pub mod error_code {
    pub const MESSAGE_HEADER: u8 = 1;
    pub const OPEN_MESSAGE: u8 = 2;
    pub const UPDATE_MESSAGE: u8 = 3;
    pub const HOLD_TIMER_EXPIRED: u8 = 4;
    pub const FSM: u8 = 5;
    pub const CEASE: u8 = 6;
    /// RFC 7313 §5.
    pub const ROUTE_REFRESH_MESSAGE: u8 = 7;
}

/// Message Header Error subcodes (RFC 4271 §6.1).
pub mod header_subcode {
    pub const CONNECTION_NOT_SYNCHRONIZED: u8 = 1;
    pub const BAD_MESSAGE_LENGTH: u8 = 2;
    pub const BAD_MESSAGE_TYPE: u8 = 3;
}

/// OPEN Message Error subcodes (RFC 4271 §6.2, RFC 5492 §5).
pub mod open_subcode {
    /// A recognized optional parameter is malformed (RFC 4271 §6.2).
    pub const UNSPECIFIC: u8 = 0;
    pub const UNSUPPORTED_VERSION_NUMBER: u8 = 1;
    pub const BAD_PEER_AS: u8 = 2;
    pub const BAD_BGP_IDENTIFIER: u8 = 3;
    pub const UNSUPPORTED_OPTIONAL_PARAMETER: u8 = 4;
    pub const UNACCEPTABLE_HOLD_TIME: u8 = 6;
    /// RFC 5492 §5.
    pub const UNSUPPORTED_CAPABILITY: u8 = 7;
    /// RFC 9234 §3.
    pub const ROLE_MISMATCH: u8 = 11;
}

/// UPDATE Message Error subcodes (RFC 4271 §6.3).
pub mod update_subcode {
    /// RFC 4271 §6.3.
    pub const UNSPECIFIC: u8 = 0;
    pub const MALFORMED_ATTRIBUTE_LIST: u8 = 1;
    pub const UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: u8 = 2;
    pub const MISSING_WELL_KNOWN_ATTRIBUTE: u8 = 3;
    pub const ATTRIBUTE_FLAGS_ERROR: u8 = 4;
    pub const ATTRIBUTE_LENGTH_ERROR: u8 = 5;
    pub const INVALID_ORIGIN_ATTRIBUTE: u8 = 6;
    pub const INVALID_NEXT_HOP_ATTRIBUTE: u8 = 8;
    pub const OPTIONAL_ATTRIBUTE_ERROR: u8 = 9;
    pub const INVALID_NETWORK_FIELD: u8 = 10;
    pub const MALFORMED_AS_PATH: u8 = 11;
}

/// Finite State Machine Error subcodes (RFC 6608 §3).
pub mod fsm_subcode {
    pub const UNSPECIFIED: u8 = 0;
    pub const UNEXPECTED_IN_OPEN_SENT: u8 = 1;
    pub const UNEXPECTED_IN_OPEN_CONFIRM: u8 = 2;
    pub const UNEXPECTED_IN_ESTABLISHED: u8 = 3;
}

/// Cease subcodes (RFC 4486 §4, RFC 8203/9003 for the shutdown message,
/// RFC 8538 and RFC 9384 for the last two).
pub mod cease_subcode {
    pub const MAX_PREFIXES_REACHED: u8 = 1;
    pub const ADMINISTRATIVE_SHUTDOWN: u8 = 2;
    pub const PEER_DE_CONFIGURED: u8 = 3;
    pub const ADMINISTRATIVE_RESET: u8 = 4;
    pub const CONNECTION_REJECTED: u8 = 5;
    pub const OTHER_CONFIGURATION_CHANGE: u8 = 6;
    pub const CONNECTION_COLLISION_RESOLUTION: u8 = 7;
    pub const OUT_OF_RESOURCES: u8 = 8;
    /// Hard Reset: end the session without graceful restart; the data is
    /// the NOTIFICATION that caused it (RFC 8538 §3).
    pub const HARD_RESET: u8 = 9;
    /// BFD Down: the BFD session protecting the connection went down
    /// (RFC 9384 §2).
    pub const BFD_DOWN: u8 = 10;
}

/// ROUTE-REFRESH Message Error subcodes (RFC 7313 §5).
pub mod route_refresh_subcode {
    pub const INVALID_MESSAGE_LENGTH: u8 = 1;
}

/// Longest shutdown communication in octets (RFC 9003 §2).
pub const MAX_SHUTDOWN_MESSAGE_LEN: usize = 255;

/// Name of a path attribute type code, for logs and error messages.
pub fn attr_type_name(type_code: u8) -> Option<&'static str> {
    use attr_type::*;
    Some(match type_code {
        ORIGIN => "ORIGIN",
        AS_PATH => "AS_PATH",
        NEXT_HOP => "NEXT_HOP",
        MULTI_EXIT_DISC => "MULTI_EXIT_DISC",
        LOCAL_PREF => "LOCAL_PREF",
        ATOMIC_AGGREGATE => "ATOMIC_AGGREGATE",
        AGGREGATOR => "AGGREGATOR",
        COMMUNITIES => "COMMUNITIES",
        MP_REACH_NLRI => "MP_REACH_NLRI",
        MP_UNREACH_NLRI => "MP_UNREACH_NLRI",
        EXTENDED_COMMUNITIES => "EXTENDED_COMMUNITIES",
        AS4_PATH => "AS4_PATH",
        AS4_AGGREGATOR => "AS4_AGGREGATOR",
        LARGE_COMMUNITY => "LARGE_COMMUNITY",
        _ => return None,
    })
}

/// Name of a NOTIFICATION error code (RFC 4271 §4.5).
pub fn error_code_name(code: u8) -> Option<&'static str> {
    use error_code::*;
    Some(match code {
        MESSAGE_HEADER => "Message Header Error",
        OPEN_MESSAGE => "OPEN Message Error",
        UPDATE_MESSAGE => "UPDATE Message Error",
        HOLD_TIMER_EXPIRED => "Hold Timer Expired",
        FSM => "Finite State Machine Error",
        CEASE => "Cease",
        ROUTE_REFRESH_MESSAGE => "ROUTE-REFRESH Message Error",
        _ => return None,
    })
}

/// Name of a NOTIFICATION error subcode within its code. Subcode 0 is
/// "Unspecific" for every code that defines subcodes (RFC 4271 §4.5).
pub fn error_subcode_name(code: u8, subcode: u8) -> Option<&'static str> {
    let name = match (code, subcode) {
        (error_code::MESSAGE_HEADER, header_subcode::CONNECTION_NOT_SYNCHRONIZED) => {
            "Connection Not Synchronized"
        }
        (error_code::MESSAGE_HEADER, header_subcode::BAD_MESSAGE_LENGTH) => "Bad Message Length",
        (error_code::MESSAGE_HEADER, header_subcode::BAD_MESSAGE_TYPE) => "Bad Message Type",
        (error_code::OPEN_MESSAGE, open_subcode::UNSUPPORTED_VERSION_NUMBER) => {
            "Unsupported Version Number"
        }
        (error_code::OPEN_MESSAGE, open_subcode::BAD_PEER_AS) => "Bad Peer AS",
        (error_code::OPEN_MESSAGE, open_subcode::BAD_BGP_IDENTIFIER) => "Bad BGP Identifier",
        (error_code::OPEN_MESSAGE, open_subcode::UNSUPPORTED_OPTIONAL_PARAMETER) => {
            "Unsupported Optional Parameter"
        }
        (error_code::OPEN_MESSAGE, open_subcode::UNACCEPTABLE_HOLD_TIME) => {
            "Unacceptable Hold Time"
        }
        (error_code::OPEN_MESSAGE, open_subcode::UNSUPPORTED_CAPABILITY) => {
            "Unsupported Capability"
        }
        (error_code::OPEN_MESSAGE, open_subcode::ROLE_MISMATCH) => "Role Mismatch",
        (error_code::UPDATE_MESSAGE, update_subcode::MALFORMED_ATTRIBUTE_LIST) => {
            "Malformed Attribute List"
        }
        (error_code::UPDATE_MESSAGE, update_subcode::UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE) => {
            "Unrecognized Well-known Attribute"
        }
        (error_code::UPDATE_MESSAGE, update_subcode::MISSING_WELL_KNOWN_ATTRIBUTE) => {
            "Missing Well-known Attribute"
        }
        (error_code::UPDATE_MESSAGE, update_subcode::ATTRIBUTE_FLAGS_ERROR) => {
            "Attribute Flags Error"
        }
        (error_code::UPDATE_MESSAGE, update_subcode::ATTRIBUTE_LENGTH_ERROR) => {
            "Attribute Length Error"
        }
        (error_code::UPDATE_MESSAGE, update_subcode::INVALID_ORIGIN_ATTRIBUTE) => {
            "Invalid ORIGIN Attribute"
        }
        (error_code::UPDATE_MESSAGE, update_subcode::INVALID_NEXT_HOP_ATTRIBUTE) => {
            "Invalid NEXT_HOP Attribute"
        }
        (error_code::UPDATE_MESSAGE, update_subcode::OPTIONAL_ATTRIBUTE_ERROR) => {
            "Optional Attribute Error"
        }
        (error_code::UPDATE_MESSAGE, update_subcode::INVALID_NETWORK_FIELD) => {
            "Invalid Network Field"
        }
        (error_code::UPDATE_MESSAGE, update_subcode::MALFORMED_AS_PATH) => "Malformed AS_PATH",
        (error_code::FSM, fsm_subcode::UNEXPECTED_IN_OPEN_SENT) => {
            "Receive Unexpected Message in OpenSent State"
        }
        (error_code::FSM, fsm_subcode::UNEXPECTED_IN_OPEN_CONFIRM) => {
            "Receive Unexpected Message in OpenConfirm State"
        }
        (error_code::FSM, fsm_subcode::UNEXPECTED_IN_ESTABLISHED) => {
            "Receive Unexpected Message in Established State"
        }
        (error_code::CEASE, cease_subcode::MAX_PREFIXES_REACHED) => {
            "Maximum Number of Prefixes Reached"
        }
        (error_code::CEASE, cease_subcode::ADMINISTRATIVE_SHUTDOWN) => "Administrative Shutdown",
        (error_code::CEASE, cease_subcode::PEER_DE_CONFIGURED) => "Peer De-configured",
        (error_code::CEASE, cease_subcode::ADMINISTRATIVE_RESET) => "Administrative Reset",
        (error_code::CEASE, cease_subcode::CONNECTION_REJECTED) => "Connection Rejected",
        (error_code::CEASE, cease_subcode::OTHER_CONFIGURATION_CHANGE) => {
            "Other Configuration Change"
        }
        (error_code::CEASE, cease_subcode::CONNECTION_COLLISION_RESOLUTION) => {
            "Connection Collision Resolution"
        }
        (error_code::CEASE, cease_subcode::OUT_OF_RESOURCES) => "Out of Resources",
        (error_code::CEASE, cease_subcode::HARD_RESET) => "Hard Reset",
        (error_code::CEASE, cease_subcode::BFD_DOWN) => "BFD Down",
        (error_code::ROUTE_REFRESH_MESSAGE, route_refresh_subcode::INVALID_MESSAGE_LENGTH) => {
            "Invalid Message Length"
        }
        (_, 0) => "Unspecific",
        _ => return None,
    };
    Some(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_code_and_cease_subcode_has_a_name() {
        for code in 1..=7 {
            assert!(error_code_name(code).is_some(), "code {code}");
        }
        for subcode in 1..=10 {
            assert!(
                error_subcode_name(error_code::CEASE, subcode).is_some(),
                "cease {subcode}"
            );
        }
        assert_eq!(error_subcode_name(error_code::UPDATE_MESSAGE, 7), None);
    }

    #[test]
    fn attribute_names_follow_the_registry() {
        assert_eq!(
            attr_type_name(attr_type::LARGE_COMMUNITY),
            Some("LARGE_COMMUNITY")
        );
        assert_eq!(attr_type_name(99), None);
    }
}
