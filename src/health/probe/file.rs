//! File probe: a maintenance flag. Operators drain a host by creating a
//! file (or, with `healthy_when_present`, by removing one) without touching
//! the daemon or its configuration.

use std::path::PathBuf;

use super::{one_line, Verdict};

/// Checks whether one path exists.
#[derive(Debug)]
pub(super) struct FileProbe {
    path: PathBuf,
    healthy_when_present: bool,
}

impl FileProbe {
    pub(super) fn new(path: PathBuf, healthy_when_present: bool) -> FileProbe {
        FileProbe {
            path,
            healthy_when_present,
        }
    }

    /// Succeeds when the presence of the path is the healthy one. An error
    /// other than "not found" (say, a directory we may not search) fails:
    /// the flag's state is unknown.
    pub(super) async fn run(&self) -> Verdict {
        let present = tokio::fs::try_exists(&self.path)
            .await
            .map_err(|err| format!("cannot check {}: {}", self.path.display(), one_line(&err)))?;
        let reason = format!(
            "{} is {}",
            self.path.display(),
            if present { "present" } else { "absent" }
        );
        if present == self.healthy_when_present {
            Ok(reason)
        } else {
            Err(reason)
        }
    }
}
