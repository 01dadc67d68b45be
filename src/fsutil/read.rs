//! Reading a whole file that must be a regular file of bounded size.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

/// Reads the regular file at `path`, at most `limit` bytes.
///
/// The file is opened with `O_NONBLOCK`, so that opening a FIFO returns at
/// once instead of waiting for a writer, and `O_NOCTTY`, so that a terminal
/// never becomes herald's; what was opened is then checked with `fstat`,
/// so a file swapped in between cannot slip through. Anything but a
/// regular file, or a file longer than `limit`, is an
/// [`io::ErrorKind::InvalidInput`] error saying which.
pub fn read_regular(path: &Path, limit: u64) -> io::Result<Vec<u8>> {
    let file = OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)?;
    let metadata = file.metadata()?;
    let kind = metadata.file_type();
    if !kind.is_file() {
        return Err(invalid(format!(
            "{} is not a regular file",
            kind_name(&kind)
        )));
    }
    if metadata.len() > limit {
        return Err(too_long(metadata.len(), limit));
    }
    read_bounded(file, limit)
}

/// Reads `file` to its end, refusing more than `limit` bytes (the file may
/// have grown since its size was checked).
fn read_bounded(file: File, limit: u64) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    let read = u64::try_from(bytes.len()).unwrap_or(u64::MAX);
    if read > limit {
        return Err(too_long(read, limit));
    }
    Ok(bytes)
}

fn too_long(len: u64, limit: u64) -> io::Error {
    invalid(format!(
        "it is {len} bytes long, more than the {limit} herald reads"
    ))
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, message)
}

/// What a file that is not a regular file is, in words.
fn kind_name(kind: &std::fs::FileType) -> &'static str {
    if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else {
        "something"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    #[test]
    fn a_regular_file_within_the_limit_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.toml");
        std::fs::write(&path, "asn = 1\n").unwrap();
        assert_eq!(read_regular(&path, 8).unwrap(), b"asn = 1\n");
    }

    #[test]
    fn a_file_over_the_limit_is_refused_with_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.toml");
        std::fs::write(&path, "asn = 1\n").unwrap();
        let err = read_regular(&path, 7).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("8 bytes"), "{err}");
    }

    #[test]
    fn a_fifo_is_refused_at_once_instead_of_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("herald.toml");
        nix::unistd::mkfifo(&path, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        let start = Instant::now();
        let err = read_regular(&path, 1024).unwrap_err();
        assert!(err.to_string().contains("a FIFO"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[test]
    fn a_directory_and_a_device_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_regular(dir.path(), 1024).unwrap_err();
        assert!(err.to_string().contains("a directory"), "{err}");
        let err = read_regular(Path::new("/dev/zero"), 1024).unwrap_err();
        assert!(err.to_string().contains("a character device"), "{err}");
    }
}
