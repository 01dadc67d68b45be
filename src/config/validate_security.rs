//! The security keys of a `[[peer]]`: TCP MD5 (`password`,
//! `password-file`), `ttl` and `ttl-security`.

use std::os::unix::fs::PermissionsExt;

use toml::Spanned;

use super::error::ConfigError;
use super::raw::RawPeer;
use super::validate::Validator;
use super::{PeerSecurity, Secret};

/// Longest TCP MD5 key Linux accepts (TCP_MD5SIG_MAXKEYLEN).
const MAX_KEY_LEN: usize = 80;
/// Longest key file read: the key and a comment or two.
const MAX_KEY_FILE_LEN: u64 = 4096;

impl Validator<'_> {
    pub(super) fn peer_security(
        &mut self,
        index: usize,
        raw: &Spanned<RawPeer>,
    ) -> Result<PeerSecurity, ConfigError> {
        let p = raw.get_ref();
        let key = |name: &str| format!("peer[{index}].{name}");
        let password = match (&p.password, &p.password_file) {
            (Some(_), Some(file)) => {
                return Err(self.error(
                    file.span(),
                    key("password-file"),
                    "set either `password` or `password-file`, not both",
                ));
            }
            (Some(value), None) => {
                Some(self.md5_key(value, value.get_ref().clone(), &key("password"))?)
            }
            (None, Some(file)) => Some(self.password_file(file, &key("password-file"))?),
            (None, None) => None,
        };
        let ttl_security = p.ttl_security.as_ref().is_some_and(|v| *v.get_ref());
        let ttl = match &p.ttl {
            Some(ttl) if ttl_security => {
                return Err(self.error(
                    ttl.span(),
                    key("ttl"),
                    "`ttl` and `ttl-security` exclude each other: GTSM always sends TTL 255",
                ));
            }
            Some(ttl) => Some(self.integer(ttl, &key("ttl"), 1..=255, "TTL")?),
            None => None,
        };
        Ok(PeerSecurity {
            password,
            ttl,
            ttl_security,
        })
    }

    /// A key read from a file: its first line. Other users must not be
    /// able to read it, nor change it (see `location`); a file they can is
    /// refused rather than trusted.
    fn password_file(&mut self, file: &Spanned<String>, key: &str) -> Result<Secret, ConfigError> {
        let path = std::path::Path::new(file.get_ref());
        let fail = |this: &Self, why: String| this.error(file.span(), key, why);
        if !path.is_absolute() {
            return Err(fail(
                self,
                format!("{:?} is not an absolute path", file.get_ref()),
            ));
        }
        let resolved = super::location::resolve(path)
            .map_err(|e| fail(self, format!("cannot read {}: {e}", path.display())))?;
        if let Some(why) = resolved.exposed {
            return Err(fail(
                self,
                format!("refusing a key file other users could change: {why}"),
            ));
        }
        let path = resolved.path.as_path();
        let metadata = std::fs::metadata(path)
            .map_err(|e| fail(self, format!("cannot read {}: {e}", path.display())))?;
        if metadata.permissions().mode() & 0o004 != 0 {
            return Err(fail(
                self,
                format!(
                    "{} is readable by every user: restrict it (chmod o-r) before it holds a key",
                    path.display()
                ),
            ));
        }
        let bytes = crate::fsutil::read_regular(path, MAX_KEY_FILE_LEN)
            .map_err(|e| fail(self, format!("cannot read {}: {e}", path.display())))?;
        let text = String::from_utf8(bytes)
            .map_err(|_| fail(self, format!("{} is not UTF-8 text", path.display())))?;
        let first = text.lines().next().unwrap_or_default().to_string();
        self.md5_key(file, first, key)
    }

    /// Checks a key's length without ever quoting it in a message.
    fn md5_key(
        &self,
        at: &Spanned<String>,
        value: String,
        key: &str,
    ) -> Result<Secret, ConfigError> {
        if value.is_empty() {
            return Err(self.error(at.span(), key, "the TCP MD5 key is empty"));
        }
        if value.len() > MAX_KEY_LEN {
            return Err(self.error(
                at.span(),
                key,
                format!(
                    "the TCP MD5 key is {} bytes long; at most {MAX_KEY_LEN} are possible",
                    value.len()
                ),
            ));
        }
        Ok(Secret::new(value))
    }
}
