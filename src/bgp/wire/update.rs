//! UPDATE (RFC 4271 §4.3) with the revised error handling of RFC 7606, and
//! the End-of-RIB marker (RFC 4724 §2).
//!
//! ```text
//! +-----------------------------------------------------+
//! |   Withdrawn Routes Length (2 octets)                |
//! +-----------------------------------------------------+
//! |   Withdrawn Routes (variable)                       |
//! +-----------------------------------------------------+
//! |   Total Path Attribute Length (2 octets)            |
//! +-----------------------------------------------------+
//! |   Path Attributes (variable)                        |
//! +-----------------------------------------------------+
//! |   Network Layer Reachability Information (variable) |
//! +-----------------------------------------------------+
//! ```

use bytes::{Buf, BufMut, Bytes, BytesMut};

use super::buf::{patch_u16, take};
use super::iana::attr_type;
use super::{
    attributes, nlri, Context, ErrorHandling, Family, MpUnreach, PathAttributes, Update,
    UpdateError,
};

impl Update {
    /// The End-of-RIB marker (RFC 4724 §2): for IPv4 unicast an UPDATE with
    /// nothing in it; for other families an UPDATE holding only an
    /// MP_UNREACH_NLRI without prefixes.
    pub fn end_of_rib(family: Family) -> Update {
        let attributes = match family {
            Family::Ipv4Unicast => None,
            Family::Ipv6Unicast => Some(PathAttributes {
                mp_unreach: Some(MpUnreach {
                    family,
                    withdrawn: Vec::new(),
                }),
                ..PathAttributes::default()
            }),
        };
        Update {
            attributes,
            ..Update::default()
        }
    }

    /// The family this UPDATE ends the initial table of, if it is an
    /// End-of-RIB marker.
    pub fn end_of_rib_family(&self) -> Option<Family> {
        if !self.withdrawn.is_empty() || !self.nlri.is_empty() {
            return None;
        }
        let Some(attrs) = &self.attributes else {
            return Some(Family::Ipv4Unicast);
        };
        let unreach = attrs.mp_unreach.as_ref()?;
        let only_unreach = PathAttributes {
            mp_unreach: Some(MpUnreach {
                family: unreach.family,
                withdrawn: Vec::new(),
            }),
            ..PathAttributes::default()
        };
        (*attrs == only_unreach).then_some(unreach.family)
    }

    /// Whether this UPDATE announces routes, which is when ORIGIN and
    /// AS_PATH are due (RFC 4271 §5, RFC 4760 §3).
    fn announces(&self) -> bool {
        let attrs = self.attributes.as_ref();
        !self.nlri.is_empty() || attrs.is_some_and(|a| a.next_hop.is_some() || a.mp_reach.is_some())
    }

    pub(super) fn encode_body(&self, ctx: &Context, out: &mut BytesMut) {
        let at = out.len();
        out.put_u16(0);
        self.withdrawn
            .iter()
            .for_each(|p| nlri::encode(&(*p).into(), out));
        patch_u16(out, at, out.len() - at - 2);
        let at = out.len();
        out.put_u16(0);
        if let Some(attrs) = &self.attributes {
            attributes::encode(attrs, self.announces(), ctx, out);
        }
        patch_u16(out, at, out.len() - at - 2);
        self.nlri
            .iter()
            .for_each(|p| nlri::encode(&(*p).into(), out));
    }
}

/// Decodes the UPDATE body. Errors RFC 7606 handles by "session reset" are
/// returned; "treat-as-withdraw" and "attribute discard" are reported in
/// [`Update::treat_as_withdraw`].
pub(super) fn decode(mut body: Bytes, ctx: &Context) -> Result<Update, UpdateError> {
    // The header check guaranteed the two 2-octet length fields are there.
    let withdrawn_len = body.try_get_u16().unwrap_or_default();
    if body.len() < usize::from(withdrawn_len) + 2 {
        return Err(UpdateError::WithdrawnLengthOverrun(withdrawn_len));
    }
    let withdrawn_buf = take(&mut body, usize::from(withdrawn_len))
        .ok_or(UpdateError::WithdrawnLengthOverrun(withdrawn_len))?;
    let attrs_len = body.try_get_u16().unwrap_or_default();
    let attrs_buf = take(&mut body, usize::from(attrs_len))
        .ok_or(UpdateError::AttributesLengthOverrun(attrs_len))?;
    let withdrawn = nlri::decode_v4(withdrawn_buf)?;
    let mut decoded = attributes::decode(attrs_buf, ctx)?;
    let nlri = nlri::decode_v4(body)?;

    // RFC 4271 §5 and RFC 4760 §3: ORIGIN and AS_PATH with any reachable
    // routes, NEXT_HOP with those in the NLRI field; missing ones are
    // treat-as-withdraw (RFC 7606 §3 d).
    let mp_routes = decoded
        .attrs
        .mp_reach
        .as_ref()
        .is_some_and(|r| !r.nlri.is_empty());
    let mut required = Vec::new();
    if !nlri.is_empty() || mp_routes {
        required.extend([attr_type::ORIGIN, attr_type::AS_PATH]);
    }
    if !nlri.is_empty() {
        required.push(attr_type::NEXT_HOP);
    }
    if let Some(&missing) = required.iter().find(|t| !decoded.seen.contains(t)) {
        decoded.note(UpdateError::MissingWellKnown(missing));
    }

    let treat_as_withdraw = decoded.issue.map(|err| match err.handling() {
        ErrorHandling::AttributeDiscard => format!("{err} (attribute discarded)"),
        _ => format!("{err} (treat-as-withdraw)"),
    });
    Ok(Update {
        withdrawn,
        attributes: (attrs_len > 0).then_some(decoded.attrs),
        nlri,
        treat_as_withdraw,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_hex(bytes: &'static [u8]) -> Result<Update, UpdateError> {
        decode(Bytes::from_static(bytes), &Context::default())
    }

    #[test]
    fn nlri_without_next_hop_is_treated_as_withdraw() {
        let u = decode_hex(&[0, 0, 0, 7, 0x40, 1, 1, 0, 0x40, 2, 0, 24, 192, 0, 2])
            .expect("not a reset");
        assert_eq!(u.nlri.len(), 1);
        assert_eq!(
            u.treat_as_withdraw.as_deref(),
            Some("missing well-known attribute NEXT_HOP (treat-as-withdraw)")
        );
    }

    #[test]
    fn an_attribute_overrunning_the_list_still_lets_the_nlri_be_read() {
        let u = decode_hex(&[0, 0, 0, 4, 0x40, 1, 5, 0, 24, 192, 0, 2]).expect("not a reset");
        assert_eq!(u.nlri.len(), 1);
        assert!(u.treat_as_withdraw.is_some());
    }

    #[test]
    fn both_end_of_rib_markers_are_recognized() {
        for family in [Family::Ipv4Unicast, Family::Ipv6Unicast] {
            assert_eq!(Update::end_of_rib(family).end_of_rib_family(), Some(family));
        }
        let withdrawal = Update {
            withdrawn: vec!["192.0.2.0/24".parse().expect("net")],
            ..Update::default()
        };
        assert_eq!(withdrawal.end_of_rib_family(), None);
    }
}
