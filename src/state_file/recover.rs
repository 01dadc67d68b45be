//! Starting from a state file that cannot be loaded.
//!
//! Such a file may have held overrides: a VIP withdrawn for maintenance
//! on a host that must not take traffic. Starting without them would
//! announce it again, so herald takes the safe side: the file is kept
//! aside as `<state-file>.corrupt-<unix time>` for the operator to read,
//! never overwritten, and every VIP starts withdrawn by an override whose
//! reason says why, until the operator hands it back with `herald auto`.
//! A host that announces nothing costs capacity; one that announces a VIP
//! under repair costs the traffic sent to it.

use std::ffi::OsString;
use std::path::PathBuf;

use ipnet::IpNet;

use super::{unix_now, Override, OverrideAction, Saved, StateError, StateFile};
use crate::errors::one_line;

/// How many names `keep_aside` tries when earlier ones are taken.
const ASIDE_ATTEMPTS: u32 = 100;

/// What the daemon starts from.
#[derive(Debug)]
pub struct Start {
    /// The saved state, or the withdrawals that replace it.
    pub saved: Saved,
    /// Why the file could not be loaded, if it could not.
    pub lost: Option<Lost>,
}

/// A state file that could not be loaded, and where it went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lost {
    /// The load error, on one line.
    pub why: String,
    /// Where the file now is.
    pub kept_as: PathBuf,
}

impl StateFile {
    /// Loads the state; a file that cannot be loaded is renamed aside and
    /// every one of `vips` starts withdrawn (see the module
    /// documentation). Only a file that cannot be moved aside either is an
    /// error: saving over it would destroy it.
    pub fn load_or_keep_aside(&self, vips: &[IpNet]) -> Result<Start, StateError> {
        let err = match self.load() {
            Ok(saved) => return Ok(Start { saved, lost: None }),
            Err(err) => err,
        };
        let kept_as = self.keep_aside()?;
        let reason = format!(
            "the state file could not be loaded and is kept as {}; overrides may have \
             been lost: check it, then hand VIPs back with `herald auto`",
            kept_as.display()
        );
        let since_unix = unix_now();
        let overrides = vips
            .iter()
            .map(|prefix| {
                let entry = Override {
                    action: OverrideAction::Withdraw,
                    reason: Some(reason.clone()),
                    since_unix,
                };
                (*prefix, entry)
            })
            .collect();
        Ok(Start {
            saved: Saved {
                overrides,
                ..Saved::default()
            },
            lost: Some(Lost {
                why: one_line(&err),
                kept_as,
            }),
        })
    }

    /// Renames the file to `<path>.corrupt-<unix time>`, with `-N` added
    /// when that name is taken.
    fn keep_aside(&self) -> Result<PathBuf, StateError> {
        let mut base = OsString::from(self.path.as_os_str());
        base.push(format!(".corrupt-{}", unix_now()));
        let mut to = PathBuf::from(&base);
        for n in 1..ASIDE_ATTEMPTS {
            if std::fs::symlink_metadata(&to).is_err() {
                break;
            }
            let mut name = base.clone();
            name.push(format!("-{n}"));
            to = PathBuf::from(name);
        }
        std::fs::rename(&self.path, &to).map_err(|source| StateError::KeepAside {
            path: self.path.clone(),
            to: to.clone(),
            source,
        })?;
        Ok(to)
    }
}
