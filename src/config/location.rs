//! Whether a file sits where other users could change it.
//!
//! The configuration decides which routes a host announces, and the state
//! file which VIPs stay withdrawn: a file any local user could rewrite or
//! replace would hand them the host's traffic. A file is exposed when it
//! is world-writable, or when its directory is world-writable without the
//! sticky bit (anyone could then replace it).

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

/// Why `path` could be changed by any local user, if it could.
pub fn exposed(path: &Path) -> Option<String> {
    let world_writable = |p: &Path| {
        std::fs::metadata(p)
            .ok()
            .map(|m| m.permissions().mode())
            .filter(|mode| mode & 0o002 != 0)
    };
    if world_writable(path).is_some() {
        return Some(format!("{} is writable by every user", path.display()));
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    match world_writable(dir) {
        // The sticky bit (as on /tmp) keeps others from replacing it.
        Some(mode) if mode & 0o1000 == 0 => Some(format!(
            "{} is in {}, which every user may write to",
            path.display(),
            dir.display()
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chmod(path: &Path, mode: u32) {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn a_private_file_in_a_private_directory_is_not_exposed() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("herald.toml");
        std::fs::write(&file, "").unwrap();
        chmod(&file, 0o644);
        assert_eq!(exposed(&file), None);
    }

    #[test]
    fn a_world_writable_file_is_exposed() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("herald.toml");
        std::fs::write(&file, "").unwrap();
        chmod(&file, 0o666);
        assert!(exposed(&file).is_some_and(|why| why.contains("every user")));
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
}
