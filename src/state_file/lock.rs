//! One daemon per state file.
//!
//! Two daemons on one state file would each rewrite it with their own
//! overrides, and each restart would resurrect the other's: a VIP
//! withdrawn for maintenance could come back. The daemon therefore holds
//! an exclusive `flock(2)` on `<state-file>.lock` for as long as it runs.
//! The lock is not on the state file itself, which every save replaces by
//! a rename (a lock belongs to the file, not to its name). The kernel drops
//! the lock when the process ends, however it ends, and at `exec`, when
//! `herald restart` runs the new binary in the same process, which takes
//! it again. The file holds the PID of the holder, for the error message
//! of the next one to try; it is left in place, since removing a lock
//! file races with the next daemon opening it.

use std::ffi::OsString;
use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

use super::{create_dir, dir_of, StateError, FILE_MODE};
use crate::fsutil::open_lock_file;

/// The exclusive lock on a state file; released when dropped.
#[derive(Debug)]
pub struct StateLock {
    path: PathBuf,
    _lock: Flock<File>,
}

impl StateLock {
    /// Takes the lock of the state file `state`, without waiting: a
    /// second daemon is an error naming the first one's PID.
    pub fn take(state: &Path) -> Result<StateLock, StateError> {
        let path = lock_path(state);
        let error = |step, source| StateError::Lock {
            step,
            path: path.clone(),
            source,
        };
        create_dir(dir_of(state))?;
        let file = open_lock_file(&path, FILE_MODE).map_err(|e| error("open", e))?;
        let mut lock = match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => lock,
            Err((mut file, Errno::EWOULDBLOCK)) => {
                return Err(StateError::Locked {
                    path: state.to_path_buf(),
                    holder: holder(&mut file),
                });
            }
            Err((_, errno)) => return Err(error("lock", errno.into())),
        };
        record_pid(&mut lock).map_err(|e| error("write", e))?;
        Ok(StateLock { path, _lock: lock })
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `<state>.lock`, next to the state file.
pub fn lock_path(state: &Path) -> PathBuf {
    let mut name = OsString::from(state.as_os_str());
    name.push(".lock");
    PathBuf::from(name)
}

/// Replaces the lock file's content with this process's PID.
fn record_pid(file: &mut File) -> io::Result<()> {
    file.set_len(0)?;
    file.rewind()?;
    writeln!(file, "{}", std::process::id())
}

/// The PID the holder wrote into the lock file, if it reads as one.
fn holder(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.take(32).read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}
