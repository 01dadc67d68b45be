//! The configuration file exactly as written: a serde mirror of the TOML.
//!
//! Every field that validation inspects is a [`Spanned`] so that errors can
//! point at the offending value. Required keys are `Option`s here: their
//! absence is reported by validation, at the table that lacks them, rather
//! than by serde. Unknown keys are rejected by `deny_unknown_fields`.

use std::fmt;
use std::ops::Range;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawConfig {
    pub(crate) global: Option<Spanned<RawGlobal>>,
    #[serde(default)]
    pub(crate) peer: Vec<Spanned<RawPeer>>,
    #[serde(default)]
    pub(crate) vip: Vec<Spanned<RawVip>>,
    #[serde(default)]
    pub(crate) check: Vec<Spanned<RawCheck>>,
    pub(crate) control: Option<Spanned<RawControl>>,
    pub(crate) metrics: Option<Spanned<RawMetrics>>,
}

impl RawConfig {
    /// Where `[metrics]` starts, for errors about the table as a whole.
    pub(crate) fn metrics_span(&self) -> Range<usize> {
        self.metrics.as_ref().map_or(0..0, Spanned::span)
    }
}

/// `[control]`: the daemon's Unix socket.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawControl {
    pub(crate) socket: Option<Spanned<String>>,
    pub(crate) mode: Option<Spanned<String>>,
    pub(crate) group: Option<Spanned<String>>,
}

/// `[metrics]`: the optional Prometheus endpoint.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawMetrics {
    pub(crate) listen: Option<Spanned<String>>,
}

/// An argv as written: `["/usr/local/bin/check-db", "--quick"]`.
pub(crate) type RawArgv = Spanned<Vec<Spanned<String>>>;

/// Session timers, settable in `[global]` and overridden per `[[peer]]`.
#[derive(Debug, Default)]
pub(crate) struct RawTimers<'a> {
    pub(crate) hold_time: Option<&'a Spanned<Scalar>>,
    pub(crate) keepalive: Option<&'a Spanned<Scalar>>,
    pub(crate) connect_retry: Option<&'a Spanned<Scalar>>,
    pub(crate) connect_retry_max: Option<&'a Spanned<Scalar>>,
}

/// `[global]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawGlobal {
    pub(crate) asn: Option<Spanned<i64>>,
    pub(crate) router_id: Option<Spanned<String>>,
    pub(crate) hold_time: Option<Spanned<Scalar>>,
    pub(crate) keepalive: Option<Spanned<Scalar>>,
    pub(crate) connect_retry: Option<Spanned<Scalar>>,
    pub(crate) connect_retry_max: Option<Spanned<Scalar>>,
    pub(crate) hook: Option<RawArgv>,
    pub(crate) state_file: Option<Spanned<String>>,
    pub(crate) drain_time: Option<Spanned<Scalar>>,
    pub(crate) drain_on_stop: Option<Spanned<bool>>,
    pub(crate) on_sigterm: Option<Spanned<String>>,
    pub(crate) graceful_restart: Option<Spanned<bool>>,
    pub(crate) restart_time: Option<Spanned<Scalar>>,
    pub(crate) bfd: Option<Spanned<bool>>,
    pub(crate) bfd_min_tx: Option<Spanned<Scalar>>,
    pub(crate) bfd_min_rx: Option<Spanned<Scalar>>,
    pub(crate) bfd_multiplier: Option<Spanned<i64>>,
}

/// The keys `[global]` sets for every peer and `[[peer]]` overrides: the
/// same field names in both tables, viewed as one borrowed group each.
macro_rules! per_peer_keys {
    ($($table:ty),+) => {$(
        impl $table {
            /// The timer keys of this table.
            pub(crate) fn timers(&self) -> RawTimers<'_> {
                RawTimers {
                    hold_time: self.hold_time.as_ref(),
                    keepalive: self.keepalive.as_ref(),
                    connect_retry: self.connect_retry.as_ref(),
                    connect_retry_max: self.connect_retry_max.as_ref(),
                }
            }

            /// The graceful-restart and BFD keys of this table.
            pub(crate) fn continuity(&self) -> RawContinuity<'_> {
                RawContinuity {
                    graceful_restart: self.graceful_restart.as_ref(),
                    restart_time: self.restart_time.as_ref(),
                    bfd: self.bfd.as_ref(),
                    bfd_min_tx: self.bfd_min_tx.as_ref(),
                    bfd_min_rx: self.bfd_min_rx.as_ref(),
                    bfd_multiplier: self.bfd_multiplier.as_ref(),
                }
            }
        }
    )+};
}

per_peer_keys!(RawGlobal, RawPeer);

/// Graceful-restart and BFD keys, settable in `[global]` and overridden per
/// `[[peer]]`.
#[derive(Debug, Default)]
pub(crate) struct RawContinuity<'a> {
    pub(crate) graceful_restart: Option<&'a Spanned<bool>>,
    pub(crate) restart_time: Option<&'a Spanned<Scalar>>,
    pub(crate) bfd: Option<&'a Spanned<bool>>,
    pub(crate) bfd_min_tx: Option<&'a Spanned<Scalar>>,
    pub(crate) bfd_min_rx: Option<&'a Spanned<Scalar>>,
    pub(crate) bfd_multiplier: Option<&'a Spanned<i64>>,
}

/// One `[[peer]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawPeer {
    pub(crate) name: Option<Spanned<String>>,
    pub(crate) address: Option<Spanned<String>>,
    pub(crate) asn: Option<Spanned<i64>>,
    pub(crate) port: Option<Spanned<i64>>,
    pub(crate) local_address: Option<Spanned<String>>,
    pub(crate) hold_time: Option<Spanned<Scalar>>,
    pub(crate) keepalive: Option<Spanned<Scalar>>,
    pub(crate) connect_retry: Option<Spanned<Scalar>>,
    pub(crate) connect_retry_max: Option<Spanned<Scalar>>,
    pub(crate) ipv4: Option<Spanned<bool>>,
    pub(crate) ipv6: Option<Spanned<bool>>,
    pub(crate) next_hop_ipv4: Option<Spanned<String>>,
    pub(crate) next_hop_ipv6: Option<Spanned<String>>,
    pub(crate) password: Option<Spanned<String>>,
    pub(crate) password_file: Option<Spanned<String>>,
    pub(crate) ttl: Option<Spanned<i64>>,
    pub(crate) ttl_security: Option<Spanned<bool>>,
    pub(crate) graceful_restart: Option<Spanned<bool>>,
    pub(crate) restart_time: Option<Spanned<Scalar>>,
    pub(crate) bfd: Option<Spanned<bool>>,
    pub(crate) bfd_min_tx: Option<Spanned<Scalar>>,
    pub(crate) bfd_min_rx: Option<Spanned<Scalar>>,
    pub(crate) bfd_multiplier: Option<Spanned<i64>>,
}

/// One `[[vip]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawVip {
    pub(crate) prefix: Option<Spanned<String>>,
    pub(crate) med: Option<Spanned<i64>>,
    pub(crate) local_pref: Option<Spanned<i64>>,
    #[serde(default)]
    pub(crate) communities: Vec<Spanned<Scalar>>,
    #[serde(default)]
    pub(crate) large_communities: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) extended_communities: Vec<Spanned<String>>,
    pub(crate) as_path_prepend: Option<Spanned<i64>>,
    pub(crate) peers: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) origin: Option<Spanned<String>>,
    pub(crate) checks: Option<Spanned<Vec<Spanned<String>>>>,
    pub(crate) on_down: Option<Spanned<String>>,
    pub(crate) degrade_med: Option<Spanned<i64>>,
    pub(crate) degrade_prepend: Option<Spanned<i64>>,
    pub(crate) degrade_communities: Option<Spanned<Vec<Spanned<Scalar>>>>,
    pub(crate) hook: Option<RawArgv>,
    pub(crate) damping: Option<Spanned<RawDamping>>,
}

/// `[vip.damping]` (or `damping = {}`): its presence turns damping on.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawDamping {
    pub(crate) penalty: Option<Spanned<i64>>,
    pub(crate) suppress: Option<Spanned<i64>>,
    pub(crate) reuse: Option<Spanned<i64>>,
    pub(crate) half_life: Option<Spanned<Scalar>>,
    pub(crate) max_suppress: Option<Spanned<Scalar>>,
}

/// One `[[check]]`. The keys of every kind are accepted here; validation
/// rejects those that do not apply to the check's `kind`, by name.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub(crate) struct RawCheck {
    pub(crate) name: Option<Spanned<String>>,
    pub(crate) kind: Option<Spanned<String>>,
    pub(crate) interval: Option<Spanned<Scalar>>,
    pub(crate) fast_interval: Option<Spanned<Scalar>>,
    pub(crate) timeout: Option<Spanned<Scalar>>,
    pub(crate) rise: Option<Spanned<i64>>,
    pub(crate) fall: Option<Spanned<i64>>,
    pub(crate) initial: Option<Spanned<String>>,
    /// tcp
    pub(crate) address: Option<Spanned<String>>,
    /// http
    pub(crate) url: Option<Spanned<String>>,
    pub(crate) status: Option<Spanned<Scalar>>,
    pub(crate) body: Option<Spanned<String>>,
    pub(crate) host: Option<Spanned<String>>,
    pub(crate) ca_file: Option<Spanned<String>>,
    pub(crate) tls_verify: Option<Spanned<bool>>,
    /// exec
    pub(crate) command: Option<RawArgv>,
    /// file
    pub(crate) path: Option<Spanned<String>>,
    pub(crate) healthy_when: Option<Spanned<String>>,
}

/// A value that may be written as a string or as an integer: durations
/// (`"90s"` or `90`), standard communities (`"no-export"` or `65536`) and
/// HTTP statuses (`"200-299"` or `200`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Scalar {
    Integer(i64),
    Text(String),
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ScalarVisitor;

        impl Visitor<'_> for ScalarVisitor {
            type Value = Scalar;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or an integer")
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar::Integer(v))
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                i64::try_from(v)
                    .map(Scalar::Integer)
                    .map_err(|_| E::custom("integer out of range"))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar::Text(v.to_string()))
            }
        }

        deserializer.deserialize_any(ScalarVisitor)
    }
}

/// The shape of any TOML document with the position of every key and value.
///
/// Only used to name the key that a serde error (an unknown key, a value of
/// the wrong type) points at: toml reports the position, this finds the key.
#[derive(Debug)]
pub(crate) enum Tree {
    Table(Vec<(Spanned<String>, Spanned<Tree>)>),
    Array(Vec<Spanned<Tree>>),
    Leaf,
}

impl Tree {
    /// The key path (`peer[1].hold-time`) of the deepest key or value whose
    /// text contains byte `offset`.
    pub(crate) fn path_at(&self, offset: usize) -> Option<String> {
        let mut path = String::new();
        self.find(offset, &mut path).then_some(path)
    }

    fn find(&self, offset: usize, path: &mut String) -> bool {
        let contains = |span: Range<usize>| span.contains(&offset);
        let start = path.len();
        match self {
            Tree::Table(entries) => {
                for (key, value) in entries {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(key.get_ref());
                    if value.get_ref().find(offset, path)
                        || contains(key.span())
                        || (matches!(value.get_ref(), Tree::Leaf) && contains(value.span()))
                    {
                        return true;
                    }
                    path.truncate(start);
                }
            }
            Tree::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    path.push_str(&format!("[{index}]"));
                    if item.get_ref().find(offset, path)
                        || (matches!(item.get_ref(), Tree::Leaf) && contains(item.span()))
                    {
                        return true;
                    }
                    path.truncate(start);
                }
            }
            Tree::Leaf => {}
        }
        false
    }
}

impl<'de> Deserialize<'de> for Tree {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TreeVisitor;

        impl<'de> Visitor<'de> for TreeVisitor {
            type Value = Tree;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any TOML value")
            }

            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Tree, E> {
                Ok(Tree::Leaf)
            }

            fn visit_i64<E: de::Error>(self, _: i64) -> Result<Tree, E> {
                Ok(Tree::Leaf)
            }

            fn visit_u64<E: de::Error>(self, _: u64) -> Result<Tree, E> {
                Ok(Tree::Leaf)
            }

            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Tree, E> {
                Ok(Tree::Leaf)
            }

            fn visit_str<E: de::Error>(self, _: &str) -> Result<Tree, E> {
                Ok(Tree::Leaf)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Tree, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(Tree::Array(items))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Tree, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key()? {
                    entries.push((key, map.next_value()?));
                }
                Ok(Tree::Table(entries))
            }
        }

        deserializer.deserialize_any(TreeVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_at(text: &str, needle: &str) -> Option<String> {
        let tree: Tree = toml::from_str(text).expect("valid TOML");
        let offset = text.find(needle).expect("needle in text");
        tree.path_at(offset)
    }

    #[test]
    fn a_position_is_named_by_the_deepest_key_that_contains_it() {
        let text = "[global]\nasn = 1\n\n[[peer]]\nasn = 2\n\n[[peer]]\nhold = 3\n\
                    [[vip]]\ncommunities = [\"a\", \"b\"]\n";
        assert_eq!(path_at(text, "asn = 1").as_deref(), Some("global.asn"));
        assert_eq!(path_at(text, "1\n").as_deref(), Some("global.asn"));
        assert_eq!(path_at(text, "hold").as_deref(), Some("peer[1].hold"));
        assert_eq!(
            path_at(text, "\"b\"").as_deref(),
            Some("vip[0].communities[1]")
        );
    }

    #[test]
    fn keys_inside_inline_tables_are_found_too() {
        let text = "peer = [{ asn = 1 }, { address = \"x\", port = 5 }]\n";
        assert_eq!(path_at(text, "port").as_deref(), Some("peer[1].port"));
    }

    #[test]
    fn a_position_outside_every_key_has_no_path() {
        let text = "# comment\n[global]\nasn = 1\n";
        assert_eq!(path_at(text, "comment"), None);
    }
}
