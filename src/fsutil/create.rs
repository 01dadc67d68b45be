//! Creating files where a symlink may have been planted.
//!
//! A directory herald writes to may hold a name another user prepared: a
//! symlink to `/etc/shadow`, say. `O_NOFOLLOW` refuses to open through a
//! symlink in the last component, and `O_EXCL` refuses any name that
//! already exists, symlink or not, so herald never writes into a file it
//! did not just create.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// Creates the file `path` for writing, with `mode` (before the umask);
/// fails with [`io::ErrorKind::AlreadyExists`] if anything has that name.
pub fn create_new(path: &Path, mode: u32) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .mode(mode)
        .open(path)
}

/// Opens the lock file `path` for reading and writing, creating it with
/// `mode` if it is missing. Unlike [`create_new`] it may exist (a lock
/// file stays between runs), but it is never a symlink and must be a
/// regular file; `O_NONBLOCK` keeps a FIFO there from blocking the open.
pub fn open_lock_file(path: &Path, mode: u32) -> io::Result<File> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY)
        .mode(mode)
        .open(path)?;
    if !file.metadata()?.is_file() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "not a regular file",
        ));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_planted_symlink_is_never_followed() {
        let dir = tempfile::tempdir().unwrap();
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let planted = dir.path().join(".state.json.tmp");
        std::os::unix::fs::symlink(&victim, &planted).unwrap();
        assert!(create_new(&planted, 0o640).is_err());
        assert!(open_lock_file(&planted, 0o640).is_err());
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    }

    #[test]
    fn an_existing_file_is_not_reused_by_create_new() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, "").unwrap();
        let err = create_new(&path, 0o640).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert!(open_lock_file(&path, 0o640).is_ok());
    }
}
