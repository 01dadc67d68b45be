//! The health keys of a `[[vip]]`: `checks`, `on-down`, the `degrade-*`
//! keys, `hook` (falling back to `global.hook`) and `[vip.damping]`.

use std::collections::HashMap;

use toml::Spanned;

use super::error::ConfigError;
use super::raw::{RawDamping, RawVip};
use super::validate::Validator;
use super::{Damping, Degrade, DownAction};

/// Most extra prepends while degraded (as for `as-path-prepend`).
const MAX_DEGRADE_PREPEND: i64 = 32;

/// What VIP validation needs from the checks and `[global]`.
pub(super) struct HealthContext {
    /// Check name to index into `Config::checks`.
    pub(super) by_name: HashMap<String, usize>,
    /// `global.hook`, validated.
    pub(super) global_hook: Option<Vec<String>>,
}

/// The health settings of one VIP, every default resolved.
pub(super) struct VipHealth {
    pub(super) checks: Vec<usize>,
    pub(super) on_down: DownAction,
    pub(super) damping: Option<Damping>,
    pub(super) hook: Option<Vec<String>>,
}

impl Validator<'_> {
    pub(super) fn vip_health(
        &mut self,
        index: usize,
        r: &RawVip,
        context: &HealthContext,
    ) -> Result<VipHealth, ConfigError> {
        let key = |name: &str| format!("vip[{index}].{name}");
        let mut checks = Vec::new();
        for (i, name) in r.checks.iter().flat_map(|l| l.get_ref()).enumerate() {
            let item_key = format!("vip[{index}].checks[{i}]");
            let Some(&check) = context.by_name.get(name.get_ref()) else {
                let mut known: Vec<&str> = context.by_name.keys().map(String::as_str).collect();
                known.sort_unstable();
                let known = if known.is_empty() {
                    "no [[check]] is configured".to_string()
                } else {
                    format!("known checks: {}", known.join(", "))
                };
                return Err(self.error(
                    name.span(),
                    item_key,
                    format!("unknown check {:?} ({known})", name.get_ref()),
                ));
            };
            if checks.contains(&check) {
                return Err(self.error(
                    name.span(),
                    item_key,
                    format!("check {:?} is listed twice", name.get_ref()),
                ));
            }
            checks.push(check);
        }
        let degrade = r.on_down.as_ref().map_or(Ok(false), |v| {
            self.choice(
                v,
                &key("on-down"),
                "on-down action",
                &[("withdraw", false), ("degrade", true)],
            )
        })?;
        let on_down = if degrade {
            let degrade = self.degrade(index, r)?;
            if degrade.med.is_none()
                && degrade.as_path_prepend == 0
                && degrade.communities.is_empty()
            {
                let span = r.on_down.as_ref().map(Spanned::span).unwrap_or_default();
                return Err(self.error(
                    span,
                    key("on-down"),
                    "on-down = \"degrade\" needs degrade-med, degrade-prepend or \
                     degrade-communities: without them, degrade changes nothing",
                ));
            }
            DownAction::Degrade(degrade)
        } else {
            let set = [
                ("degrade-med", r.degrade_med.as_ref().map(Spanned::span)),
                (
                    "degrade-prepend",
                    r.degrade_prepend.as_ref().map(Spanned::span),
                ),
                (
                    "degrade-communities",
                    r.degrade_communities.as_ref().map(Spanned::span),
                ),
            ];
            for (name, span) in set {
                if let Some(span) = span {
                    self.warn(
                        span,
                        key(name),
                        format!("`{name}` is ignored: on-down is \"withdraw\", not \"degrade\""),
                    );
                }
            }
            DownAction::Withdraw
        };
        let damping = r
            .damping
            .as_ref()
            .map(|d| self.damping(index, d))
            .transpose()?;
        let hook = match &r.hook {
            Some(hook) => Some(self.argv(hook, &key("hook"))?),
            None => context.global_hook.clone(),
        };
        Ok(VipHealth {
            checks,
            on_down,
            damping,
            hook,
        })
    }

    fn degrade(&mut self, index: usize, r: &RawVip) -> Result<Degrade, ConfigError> {
        let key = |name: &str| format!("vip[{index}].{name}");
        let med = r
            .degrade_med
            .as_ref()
            .map(|v| self.integer(v, &key("degrade-med"), 0..=i64::from(u32::MAX), "MED"))
            .transpose()?;
        let as_path_prepend = match &r.degrade_prepend {
            Some(v) => self.integer(
                v,
                &key("degrade-prepend"),
                0..=MAX_DEGRADE_PREPEND,
                "degrade-prepend",
            )?,
            None => 0,
        };
        let communities = match &r.degrade_communities {
            Some(list) => self.standard_communities(list.get_ref(), &key("degrade-communities"))?,
            None => Vec::new(),
        };
        Ok(Degrade {
            med,
            as_path_prepend,
            communities,
        })
    }

    fn damping(&self, index: usize, raw: &Spanned<RawDamping>) -> Result<Damping, ConfigError> {
        let d = raw.get_ref();
        let key = |name: &str| format!("vip[{index}].damping.{name}");
        let number = |v: &Option<Spanned<i64>>, name: &str, default: u32| match v {
            Some(v) => self.integer(v, &key(name), 1..=i64::from(u32::MAX), name),
            None => Ok(default),
        };
        let defaults = Damping::default();
        let penalty = number(&d.penalty, "penalty", defaults.penalty)?;
        let suppress = number(&d.suppress, "suppress", defaults.suppress)?;
        let reuse = number(&d.reuse, "reuse", defaults.reuse)?;
        let half_life =
            self.positive(d.half_life.as_ref(), &key("half-life"), defaults.half_life)?;
        let max_suppress = self.positive(
            d.max_suppress.as_ref(),
            &key("max-suppress"),
            defaults.max_suppress,
        )?;
        let shown = |given: bool, name: &str| {
            if given {
                key(name)
            } else {
                "default".to_string()
            }
        };
        if suppress <= reuse {
            let (span, blame) = match (&d.suppress, &d.reuse) {
                (Some(v), _) => (v.span(), "suppress"),
                (None, Some(v)) => (v.span(), "reuse"),
                (None, None) => (raw.span(), "suppress"),
            };
            return Err(self.error(
                span,
                key(blame),
                format!(
                    "suppress {suppress} ({}) must be greater than reuse {reuse} ({}): a \
                     suppressed VIP is released when its penalty decays below reuse",
                    shown(d.suppress.is_some(), "suppress"),
                    shown(d.reuse.is_some(), "reuse"),
                ),
            ));
        }
        if max_suppress < half_life {
            let (span, blame) = match (&d.max_suppress, &d.half_life) {
                (Some(v), _) => (v.span(), "max-suppress"),
                (None, Some(v)) => (v.span(), "half-life"),
                (None, None) => (raw.span(), "max-suppress"),
            };
            return Err(self.error(
                span,
                key(blame),
                format!(
                    "max-suppress {max_suppress:?} ({}) must be at least half-life \
                     {half_life:?} ({})",
                    shown(d.max_suppress.is_some(), "max-suppress"),
                    shown(d.half_life.is_some(), "half-life"),
                ),
            ));
        }
        Ok(Damping {
            penalty,
            suppress,
            reuse,
            half_life,
            max_suppress,
        })
    }
}
