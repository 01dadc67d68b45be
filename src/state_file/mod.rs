//! Operator overrides that survive restarts and reboots.
//!
//! When an operator withdraws a VIP from a host (say, for maintenance), a
//! restart of herald, a package upgrade or a reboot must not quietly announce
//! it again. The daemon therefore keeps its overrides in a small JSON file,
//! loads it at start-up and rewrites it whenever an override changes.
//!
//! # Format
//!
//! Pretty-printed JSON, so that an operator can read it, and in an emergency
//! edit it, with nothing but a text editor:
//!
//! ```json
//! {
//!   "version": 1,
//!   "boot_id": "6f1c0c53-8a55-4b8e-9a1e-3f0f8e2b9c11",
//!   "overrides": {
//!     "192.0.2.10/32": {
//!       "action": "withdraw",
//!       "reason": "disk replacement, ticket 4711",
//!       "since_unix": 1700000000
//!     }
//!   },
//!   "vips": {
//!     "192.0.2.20/32": {
//!       "announce": "announced",
//!       "attributes": { "origin": "igp", "med": 10, ... },
//!       "penalty": 0
//!     }
//!   },
//!   "checks": { "web": true },
//!   "bfd": { "tor1": { "local_discr": 1234, ... } },
//!   "exit": { "kind": "restart", "at_unix": 1700000100 }
//! }
//! ```
//!
//! * `version` is 1; a file with any other version is refused rather than
//!   half understood.
//! * `boot_id` is the kernel's boot ID when the file was written: state
//!   from before a reboot is never taken for the state of a restart.
//! * `overrides` maps each VIP prefix to its override: `action` is
//!   `withdraw` (never announce, whatever the health checks say) or
//!   `announce` (announce, whatever they say); `reason` is free text or
//!   `null`; `since_unix` is when the override was set, in seconds since
//!   the Unix epoch.
//! * `vips` is what each VIP announced when the file was written, with
//!   the attributes and the damping penalty; `checks` the verdict of each
//!   check. After a restart herald starts from them, so that routers see
//!   the same routes before and after (see `daemon::resume`).
//! * `bfd` holds what a BFD session needs to carry on after a restart
//!   without its peer noticing.
//! * `exit` says how the last daemon ended: `restart` or `stop`. Absent
//!   while a daemon runs, so after a crash.
//! * Keys this version does not know are ignored, so a file written by a
//!   newer herald that only added fields still loads after a downgrade;
//!   every key but `version` may be missing.
//!
//! # Why the careful save
//!
//! A half-written file would lose every override at the next start, exactly
//! when they matter (hosts are often rebooted during maintenance). [`save`]
//! therefore writes a temporary file in the same directory, flushes it to
//! disk, and renames it over the old file: `rename(2)` within one file
//! system replaces the name atomically, so a reader, or herald after a
//! crash or power loss, sees either the old or the new state, never a mix.
//! The directory is flushed too, because the rename is a change to the
//! directory and is only durable once the directory is. The temporary file
//! is created with `O_EXCL | O_NOFOLLOW` (see `fsutil::create`): a symlink
//! planted under its name is removed, never written through. A temporary
//! file left behind by a crash is ignored by [`load`] and replaced by the
//! next [`save`].
//!
//! Only one daemon writes this file: it holds [`StateLock`] while it runs.
//! A file that cannot be loaded is kept aside, never overwritten (see
//! [`StateFile::load_or_keep_aside`]).
//!
//! [`save`]: StateFile::save
//! [`load`]: StateFile::load

use std::collections::BTreeMap;
use std::fs::{self, DirBuilder, File, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ipnet::IpNet;
use serde::{Deserialize, Serialize};

use crate::bfd::ResumeState;
use crate::fsutil::create_new;
use crate::health::vip_state::Announce;
use crate::route::RouteAttrs;

mod lock;
mod recover;
mod writer;

pub use lock::{lock_path, StateLock};
pub use recover::{Lost, Start};
pub use writer::{Change, StateWriter};

/// The only format version this herald reads and writes.
const VERSION: u64 = 1;
/// Longest state file read: some 40,000 overrides with long reasons.
pub const MAX_STATE_LEN: u64 = 16 << 20;
/// Owner writes, group (e.g. a monitoring user) reads, others nothing.
const FILE_MODE: u32 = 0o640;
/// The same for the directory, which must also be searchable.
const DIR_MODE: u32 = 0o750;

/// What an operator forces for one VIP.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OverrideAction {
    /// Never announce the VIP from this host, whatever its health.
    Withdraw,
    /// Announce the VIP from this host, whatever its health.
    Announce,
}

/// One operator override of a VIP's announcement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    /// What to do with the VIP.
    pub action: OverrideAction,
    /// Why, in the operator's words.
    pub reason: Option<String>,
    /// When the override was set, in seconds since the Unix epoch.
    pub since_unix: u64,
}

/// Reading or writing the state file failed.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The file exists but could not be read.
    #[error("cannot read state file {}", .path.display())]
    Read {
        /// The state file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The file is not valid JSON of the expected shape.
    #[error("state file {} is corrupt", .path.display())]
    Corrupt {
        /// The state file.
        path: PathBuf,
        /// Where and what, with line and column.
        source: serde_json::Error,
    },
    /// The file was written in a format version this herald does not know.
    #[error(
        "state file {} has format version {found}, this herald reads version {VERSION}",
        .path.display()
    )]
    UnsupportedVersion {
        /// The state file.
        path: PathBuf,
        /// The version found in the file.
        found: u64,
    },
    /// Another process holds the lock on the state file.
    #[error(
        "state file {} is in use by another herald{}; one state file serves one daemon",
        .path.display(),
        .holder.map(|pid| format!(" (pid {pid})")).unwrap_or_default()
    )]
    Locked {
        /// The state file.
        path: PathBuf,
        /// The PID the holder wrote into the lock file, if readable.
        holder: Option<u32>,
    },
    /// The lock file could not be opened, locked or written.
    #[error("cannot {step} the lock file {}", .path.display())]
    Lock {
        /// What was being done.
        step: &'static str,
        /// The lock file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A file that could not be loaded could not be moved aside either.
    #[error("cannot keep the unloadable state file {} aside as {}", .path.display(), .to.display())]
    KeepAside {
        /// The state file.
        path: PathBuf,
        /// The name it was to get.
        to: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// One step of an atomic save failed; the previous state is intact.
    #[error("cannot save state: cannot {step} {}", .path.display())]
    Write {
        /// What was being done.
        step: &'static str,
        /// The file or directory it was done to.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
}

/// Everything the file holds besides its version.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Saved {
    /// The kernel's boot ID when the file was written (see [`boot_id`]).
    #[serde(default)]
    pub boot_id: Option<String>,
    /// Operator overrides by VIP.
    #[serde(default)]
    pub overrides: BTreeMap<IpNet, Override>,
    /// What each VIP announced.
    #[serde(default)]
    pub vips: BTreeMap<IpNet, SavedVip>,
    /// The verdict of each check, by name.
    #[serde(default)]
    pub checks: BTreeMap<String, bool>,
    /// BFD sessions to resume after a restart, by peer name.
    #[serde(default)]
    pub bfd: BTreeMap<String, ResumeState>,
    /// How the last daemon ended; `None` while one runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exit: Option<ExitRecord>,
}

/// What one VIP announced.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedVip {
    /// Announced, degraded or withdrawn.
    pub announce: Announce,
    /// The attributes of the announced route, or `None` when withdrawn.
    #[serde(default)]
    pub attributes: Option<RouteAttrs>,
    /// The flap-damping penalty; 0 without damping.
    #[serde(default)]
    pub penalty: u32,
}

/// How a daemon ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExitKind {
    /// It meant to come back at once and left its routes with the routers.
    Restart,
    /// It withdrew its routes and closed its sessions.
    Stop,
}

/// The last words of a daemon.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExitRecord {
    /// Restart or stop.
    pub kind: ExitKind,
    /// When, in seconds since the Unix epoch.
    pub at_unix: u64,
}

/// The file as written.
#[derive(Serialize)]
struct OnDiskRef<'a> {
    version: u64,
    #[serde(flatten)]
    saved: &'a Saved,
}

/// The file as read, once [`VersionOnly`] has vouched for the version.
#[derive(Deserialize)]
struct OnDisk {
    #[serde(flatten)]
    saved: Saved,
}

/// Just the version, to report an unknown version rather than the parse
/// error its unknown shape would cause.
#[derive(Deserialize)]
struct VersionOnly {
    version: u64,
}

/// The state file at one path; see the module documentation.
#[derive(Clone, Debug)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    /// A state file at `path`; nothing is read or written yet.
    pub fn new(path: PathBuf) -> StateFile {
        StateFile { path }
    }

    /// The path of the state file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Reads the saved state.
    ///
    /// A missing file is a fresh host and yields an empty state. A file that
    /// cannot be read (not a regular file, longer than [`MAX_STATE_LEN`])
    /// or parsed is an error naming the file; the daemon goes through
    /// [`StateFile::load_or_keep_aside`] instead.
    pub fn load(&self) -> Result<Saved, StateError> {
        let bytes = match crate::fsutil::read_regular(&self.path, MAX_STATE_LEN) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Saved::default()),
            Err(source) => {
                return Err(StateError::Read {
                    path: self.path.clone(),
                    source,
                })
            }
        };
        let corrupt = |source| StateError::Corrupt {
            path: self.path.clone(),
            source,
        };
        let VersionOnly { version } = serde_json::from_slice(&bytes).map_err(corrupt)?;
        if version != VERSION {
            return Err(StateError::UnsupportedVersion {
                path: self.path.clone(),
                found: version,
            });
        }
        let file: OnDisk = serde_json::from_slice(&bytes).map_err(corrupt)?;
        Ok(file.saved)
    }

    /// Replaces the file with `saved`, atomically and durably.
    ///
    /// Creates the directory (mode 0750) if it is missing. The file gets
    /// mode 0640. On error the previous file is left as it was.
    pub fn save(&self, saved: &Saved) -> Result<(), StateError> {
        let dir = dir_of(&self.path);
        let Some(name) = self.path.file_name() else {
            return Err(StateError::Write {
                step: "write to",
                path: self.path.clone(),
                source: io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"),
            });
        };
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(".tmp");
        let temp = dir.join(temp_name);

        create_dir(dir)?;

        let mut contents = serde_json::to_vec_pretty(&OnDiskRef {
            version: VERSION,
            saved,
        })
        .map_err(|e| StateError::Write {
            step: "serialize the state for",
            path: self.path.clone(),
            source: e.into(),
        })?;
        contents.push(b'\n');

        if let Err(e) = write_synced(&temp, &contents) {
            // Best effort: a leftover is harmless and overwritten next time.
            let _ = fs::remove_file(&temp);
            return Err(e);
        }
        fs::rename(&temp, &self.path).map_err(|source| {
            let _ = fs::remove_file(&temp);
            StateError::Write {
                step: "rename the new state over",
                path: self.path.clone(),
                source,
            }
        })?;
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|source| StateError::Write {
                step: "flush directory",
                path: dir.to_path_buf(),
                source,
            })
    }
}

/// The kernel's ID of the current boot, which changes at every boot; `None`
/// where the kernel does not provide it.
pub fn boot_id() -> Option<String> {
    fs::read_to_string("/proc/sys/kernel/random/boot_id")
        .ok()
        .map(|id| id.trim().to_string())
        .filter(|id| !id.is_empty())
}

/// Seconds since the Unix epoch, 0 if the clock is before it.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The directory of the file `path`.
fn dir_of(path: &Path) -> &Path {
    match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

/// Creates `dir` and its parents if missing, the last one with [`DIR_MODE`]
/// whatever the umask.
fn create_dir(dir: &Path) -> Result<(), StateError> {
    if dir.is_dir() {
        return Ok(());
    }
    let error = |source| StateError::Write {
        step: "create directory",
        path: dir.to_path_buf(),
        source,
    };
    DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .map_err(error)?;
    fs::set_permissions(dir, Permissions::from_mode(DIR_MODE)).map_err(error)
}

/// Writes `contents` to the new file `path` with [`FILE_MODE`] and flushes
/// it to disk. Whatever has that name already, a crash's leftover or a
/// symlink someone planted, is removed first, never written through.
fn write_synced(path: &Path, contents: &[u8]) -> Result<(), StateError> {
    let error = |step| {
        move |source| StateError::Write {
            step,
            path: path.to_path_buf(),
            source,
        }
    };
    let mut file = match create_new(path, FILE_MODE) {
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            fs::remove_file(path).map_err(error("remove the leftover"))?;
            create_new(path, FILE_MODE)
        }
        other => other,
    }
    .map_err(error("create"))?;
    // The mode given at creation is masked by the umask.
    file.set_permissions(Permissions::from_mode(FILE_MODE))
        .and_then(|()| file.write_all(contents))
        .and_then(|()| file.sync_all())
        .map_err(error("write"))
}
