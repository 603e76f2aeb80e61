//! The checks a config file's values go through, for the config itself and for each
//! vendor's settings (`vendors::<vendor>::config`): each problem is collected with its
//! `file:line:column`, so `check-config` reports them all at once.

use crate::secret::{QueryGroup, Secret, SecretSpec};
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// One problem in a config file, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub path: PathBuf,
    /// 1-based; 0 when the problem has no place in the file (e.g. it cannot be read).
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.path.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.path.display(),
                self.line,
                self.column,
                self.message
            )
        }
    }
}

/// Every problem found in a config file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// Checks a config file's values and collects every problem found, with where it is.
pub struct Checker<'a> {
    pub(crate) path: &'a Path,
    text: &'a str,
    pub(crate) file_is_private: bool,
    /// The socket's group, once `agent.socket_group` is settled: no secret file may be open
    /// to it.
    pub(crate) query_group: Option<QueryGroup>,
    pub(crate) errors: Vec<ConfigError>,
}

/// A name written into rows, URLs and metrics labels (a source's, a hook's): non-empty,
/// lowercase ASCII letters, digits and '-' only.
pub fn is_plain_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// The longest duration any setting takes: far beyond any sensible interval or grace, and
/// far inside every clock's range.
pub const MAX_DURATION: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

impl<'a> Checker<'a> {
    pub fn new(path: &'a Path, text: &'a str, file_is_private: bool) -> Checker<'a> {
        Checker {
            path,
            text,
            file_is_private,
            query_group: None,
            errors: Vec::new(),
        }
    }

    pub fn line_col(&self, offset: usize) -> (usize, usize) {
        let before = &self.text[..offset.min(self.text.len())];
        let line = before.matches('\n').count() + 1;
        let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        (line, column)
    }

    pub fn error_at(&mut self, offset: Option<usize>, message: impl Into<String>) {
        let (line, column) = offset.map_or((0, 0), |o| self.line_col(o));
        self.errors.push(ConfigError {
            path: self.path.to_path_buf(),
            line,
            column,
            message: message.into(),
        });
    }

    pub fn error<T>(&mut self, at: &Spanned<T>, message: impl Into<String>) {
        self.error_at(Some(at.span().start), message);
    }

    pub fn duration(
        &mut self,
        value: &Option<Spanned<String>>,
        default: Duration,
        key: &str,
    ) -> Duration {
        let Some(v) = value else { return default };
        match humantime::parse_duration(v.get_ref()) {
            // Every duration ends up added to or taken from a clock; one past any clock's
            // range ("300000years") would make that arithmetic fail long after the check.
            Ok(d) if d > MAX_DURATION => {
                self.error(
                    v,
                    format!(
                        "`{key}` = {:?} is longer than any duration assetd accepts (10 years)",
                        v.get_ref()
                    ),
                );
                default
            }
            Ok(d) => d,
            Err(e) => {
                self.error(
                    v,
                    format!("`{key}`: {e} (write a duration such as \"30m\", \"1h\" or \"24h\")"),
                );
                default
            }
        }
    }

    pub fn positive_duration(
        &mut self,
        value: &Option<Spanned<String>>,
        default: Duration,
        key: &str,
    ) -> Duration {
        let d = self.duration(value, default, key);
        if let Some(v) = value
            && d < Duration::from_secs(1)
        {
            self.error(v, format!("`{key}` must be at least 1s"));
            return default;
        }
        d
    }

    pub fn secret(&mut self, spec: &Spanned<SecretSpec>, key: &str) -> Secret {
        if spec.get_ref().is_inline() && !self.file_is_private {
            self.error(
                spec,
                format!(
                    "`{key}` is written inline, but this config file is readable by group or others: \
                     run `chmod 600 {}`, or move the secret to `{key} = {{ file = \"/etc/assetd/secrets/...\" }}`",
                    self.path.display()
                ),
            );
            return Secret::new("");
        }
        match spec.get_ref().resolve_for(self.query_group.as_ref()) {
            Ok(s) => s,
            Err(e) => {
                self.error(spec, format!("`{key}`: {e}"));
                Secret::new("")
            }
        }
    }

    /// A required text key of source `name`: missing (said at `table`, the source's
    /// table) or empty is an error with `hint`.
    pub fn required<'s>(
        &mut self,
        table: usize,
        value: &'s Option<Spanned<String>>,
        name: &str,
        key: &str,
        hint: &str,
    ) -> Option<&'s str> {
        match value {
            Some(v) if !v.get_ref().trim().is_empty() => Some(v.get_ref().as_str()),
            Some(v) => {
                self.error(v, format!("source `{name}`: `{key}` is empty ({hint})"));
                None
            }
            None => {
                self.error_at(
                    Some(table),
                    format!("source `{name}`: `{key}` is missing ({hint})"),
                );
                None
            }
        }
    }
}
