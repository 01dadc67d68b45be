//! Whether a file sits where someone other than root could change it.
//!
//! The configuration decides which routes a host announces, and the state
//! file which VIPs stay withdrawn: a file another local user could
//! rewrite or replace would hand them the host's traffic. Checking the
//! file alone is not enough, since whoever can write to any directory on
//! its path, or own a symlink on it, can swap what the path means. So the
//! whole path is walked the way the kernel resolves it, symlinks included,
//! and every directory, symlink and the file itself must be owned by root
//! or by the user herald runs as, and be writable by nobody else. A
//! directory others may write to is accepted only with the sticky bit (as
//! `/tmp`): there others cannot rename or remove what they do not own, and
//! what lies below it is checked in turn.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::fs::Metadata;
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

/// Symlinks followed before giving up, as Linux's own limit (`ELOOP`).
const MAX_SYMLINKS: usize = 40;
/// `S_ISVTX`: in a directory, only an entry's owner may rename or remove it.
const STICKY: u32 = 0o1000;

/// Where a path leads, and whether others could change that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resolved {
    /// The path with every symlink resolved; below the first component that
    /// does not exist, the rest of the path as given.
    pub path: PathBuf,
    /// Why someone other than root or herald's user could change what
    /// `path` holds, naming the first component that allows it.
    pub exposed: Option<String>,
}

/// Walks `path` (relative to the working directory unless absolute),
/// checking every component; see the module documentation. A component
/// that does not exist ends the walk: nobody but those who may write to
/// its directory can create it, and that directory was checked.
pub fn resolve(path: &Path) -> io::Result<Resolved> {
    let absolute = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()?.join(path)
    };
    let uid = nix::unistd::geteuid().as_raw();
    let mut pending: VecDeque<OsString> = names(&absolute).collect();
    let mut real = PathBuf::from("/");
    let mut exposed = judge(&real, &std::fs::metadata(&real)?, uid);
    let mut links = 0;
    while let Some(name) = pending.pop_front() {
        if name == ".." {
            real.pop();
            continue;
        }
        let next = real.join(&name);
        let metadata = match std::fs::symlink_metadata(&next) {
            Ok(metadata) => metadata,
            Err(err) if err.kind() == io::ErrorKind::NotFound => {
                let path = pending.iter().fold(next, |path, name| path.join(name));
                return Ok(Resolved { path, exposed });
            }
            Err(err) => return Err(err),
        };
        exposed = exposed.or_else(|| judge(&next, &metadata, uid));
        if metadata.file_type().is_symlink() {
            links += 1;
            if links > MAX_SYMLINKS {
                return Err(io::Error::other(format!(
                    "more than {MAX_SYMLINKS} symlinks on the way to {}",
                    path.display()
                )));
            }
            let target = std::fs::read_link(&next)?;
            if target.is_absolute() {
                real = PathBuf::from("/");
            }
            for name in names(&target).collect::<Vec<_>>().into_iter().rev() {
                pending.push_front(name);
            }
            continue;
        }
        real = next;
    }
    Ok(Resolved {
        path: real,
        exposed,
    })
}

/// Why others could change what `path` names, if they could.
pub fn exposed(path: &Path) -> Option<String> {
    match resolve(path) {
        Ok(resolved) => resolved.exposed,
        Err(err) => Some(format!("cannot check {}: {err}", path.display())),
    }
}

/// The names in `path`, `..` kept, `.` and the root left out.
fn names(path: &Path) -> impl Iterator<Item = OsString> + '_ {
    path.components().filter_map(|c| match c {
        Component::Normal(name) => Some(name.to_os_string()),
        Component::ParentDir => Some(OsString::from("..")),
        Component::RootDir | Component::CurDir | Component::Prefix(_) => None,
    })
}

/// Why one component, `path` with `metadata` (not followed), lets someone
/// other than root or `uid` change it, if it does.
fn judge(path: &Path, metadata: &Metadata, uid: u32) -> Option<String> {
    let owner = metadata.uid();
    if owner != 0 && owner != uid {
        return Some(format!(
            "{} is owned by uid {owner}, neither root nor herald's user",
            path.display()
        ));
    }
    // A symlink's own mode is always 0777 and means nothing.
    if metadata.file_type().is_symlink() {
        return None;
    }
    let mode = metadata.permissions().mode();
    let sticky_dir = metadata.is_dir() && mode & STICKY != 0;
    let who = match (mode & 0o020 != 0, mode & 0o002 != 0) {
        _ if sticky_dir => return None,
        (_, true) => "every user",
        (true, false) => "its group",
        (false, false) => return None,
    };
    Some(format!("{} is writable by {who}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    /// A private temporary directory holding an empty `name`, mode 0644.
    fn private_file(name: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(name);
        std::fs::write(&file, "").unwrap();
        chmod(&file, 0o644);
        (dir, file)
    }

    #[test]
    fn a_private_file_in_a_private_directory_is_not_exposed() {
        let (_dir, file) = private_file("herald.toml");
        assert_eq!(exposed(&file), None);
        assert_eq!(resolve(&file).unwrap().path, file);
    }

    #[test]
    fn a_file_writable_by_others_or_its_group_is_exposed() {
        let (_dir, file) = private_file("herald.toml");
        chmod(&file, 0o666);
        assert!(exposed(&file).is_some_and(|why| why.contains("every user")));
        chmod(&file, 0o664);
        assert!(exposed(&file).is_some_and(|why| why.contains("its group")));
    }

    #[test]
    fn a_world_writable_directory_exposes_its_files_unless_sticky() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("state.json");
        chmod(dir.path(), 0o777);
        assert!(exposed(&file).is_some());
        chmod(dir.path(), 0o1777);
        assert_eq!(exposed(&file), None);
        chmod(dir.path(), 0o700);
    }

    #[test]
    fn an_ancestor_others_may_write_to_exposes_everything_below_it() {
        let (dir, _) = private_file("unused");
        let deep = dir.path().join("a/b");
        std::fs::create_dir_all(&deep).unwrap();
        let file = deep.join("herald.toml");
        std::fs::write(&file, "").unwrap();
        chmod(&dir.path().join("a"), 0o777);
        let why = exposed(&file).unwrap();
        assert!(why.contains("/a is writable by every user"), "{why}");
    }

    #[test]
    fn a_symlink_is_judged_by_where_it_leads() {
        let (dir, _) = private_file("unused");
        let open = dir.path().join("open");
        std::fs::create_dir(&open).unwrap();
        chmod(&open, 0o777);
        let target = open.join("herald.toml");
        std::fs::write(&target, "").unwrap();
        chmod(&target, 0o644);
        let link = dir.path().join("herald.toml");
        std::os::unix::fs::symlink("open/herald.toml", &link).unwrap();
        let resolved = resolve(&link).unwrap();
        assert_eq!(resolved.path, target);
        assert!(resolved
            .exposed
            .is_some_and(|why| why.contains("/open is writable")));
    }

    #[test]
    fn a_file_owned_by_another_user_is_exposed() {
        let (_dir, file) = private_file("herald.toml");
        nix::unistd::chown(&file, Some(nix::unistd::Uid::from_raw(65534)), None).unwrap();
        let why = exposed(&file).unwrap();
        assert!(why.contains("owned by uid 65534"), "{why}");
    }

    #[test]
    fn a_missing_file_in_a_private_directory_resolves_to_where_it_would_be() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("state/state.json");
        let resolved = resolve(&file).unwrap();
        assert_eq!(
            resolved,
            Resolved {
                path: file,
                exposed: None
            }
        );
    }

    #[test]
    fn a_symlink_loop_is_an_error_not_a_hang() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("loop");
        std::os::unix::fs::symlink("loop", &link).unwrap();
        assert!(resolve(&link).is_err());
    }
}
