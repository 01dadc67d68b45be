//! What configuration problems look like to the operator.
//!
//! Both errors and warnings point at the exact place in the file:
//! `FILE:LINE:COL: KEY: message`. Lines and columns are 1-based and the
//! column counts characters, as editors do. Keys are paths such as
//! `global.asn`, `peer[0].hold-time` or `vip[2].communities[1]`; indices are
//! 0-based positions in the file, in the order the `[[peer]]`, `[[vip]]`
//! and `[[check]]` tables appear.

use std::fmt;
use std::path::{Path, PathBuf};

/// A position in the configuration text: 1-based line and column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Position {
    pub(crate) line: usize,
    pub(crate) column: usize,
}

impl Position {
    /// The position of byte `offset` in `text` (clamped to the text).
    pub(crate) fn of(text: &str, offset: usize) -> Position {
        let mut line = 1;
        let mut column = 1;
        for (index, c) in text.char_indices() {
            if index >= offset {
                break;
            }
            if c == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
        Position { line, column }
    }
}

/// A configuration file that herald refuses to run with.
///
/// `Display` gives `FILE:LINE:COL: KEY: message`; the position and the key
/// are left out when unknown (an unreadable file, a syntax error outside any
/// key). When the file cannot be read, [`std::error::Error::source`] holds
/// the I/O error.
#[derive(Debug)]
pub struct ConfigError {
    path: PathBuf,
    position: Option<Position>,
    key: Option<String>,
    message: String,
    io: Option<std::io::Error>,
}

impl ConfigError {
    /// An error at a known place in the file.
    pub(crate) fn at(
        path: &Path,
        position: Option<Position>,
        key: Option<String>,
        message: impl Into<String>,
    ) -> ConfigError {
        ConfigError {
            path: path.to_path_buf(),
            position,
            key,
            message: message.into(),
            io: None,
        }
    }

    /// The file could not be read at all.
    pub(crate) fn io(path: &Path, error: std::io::Error) -> ConfigError {
        ConfigError {
            path: path.to_path_buf(),
            position: None,
            key: None,
            message: "cannot read the configuration file".to_string(),
            io: Some(error),
        }
    }

    /// The file the error is about.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// 1-based line of the offending value, when known.
    pub fn line(&self) -> Option<usize> {
        self.position.map(|p| p.line)
    }

    /// 1-based column (in characters) of the offending value, when known.
    pub fn column(&self) -> Option<usize> {
        self.position.map(|p| p.column)
    }

    /// Path of the offending key, such as `peer[0].hold-time`, when known.
    pub fn key(&self) -> Option<&str> {
        self.key.as_deref()
    }

    /// What is wrong, without file, position or key.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.path.display())?;
        if let Some(p) = self.position {
            write!(f, ":{}:{}", p.line, p.column)?;
        }
        if let Some(key) = &self.key {
            write!(f, ": {key}")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for ConfigError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.io.as_ref().map(|e| e as _)
    }
}

/// Something legal but probably not what the operator meant.
///
/// `Display` gives `FILE:LINE:COL: warning: KEY: message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    /// The file the warning is about.
    pub source: PathBuf,
    /// 1-based line of the value the warning is about.
    pub line: usize,
    /// 1-based column (in characters) of that value.
    pub column: usize,
    /// Path of the key, such as `vip[0].local-pref`.
    pub key: String,
    /// What is suspicious and what herald does about it.
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: warning: {}: {}",
            self.source.display(),
            self.line,
            self.column,
            self.key,
            self.message
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_and_count_characters() {
        let text = "ab\nçd☕x\n";
        assert_eq!(Position::of(text, 0), Position { line: 1, column: 1 });
        assert_eq!(Position::of(text, 3), Position { line: 2, column: 1 });
        let x = text.find('x').unwrap_or_default();
        assert_eq!(Position::of(text, x), Position { line: 2, column: 4 });
        assert_eq!(Position::of(text, 1000), Position { line: 3, column: 1 });
    }

    #[test]
    fn an_error_without_a_position_names_only_the_file() {
        let error = ConfigError::at(Path::new("h.toml"), None, None, "broken");
        assert_eq!(error.to_string(), "h.toml: broken");
    }
}
