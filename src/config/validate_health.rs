//! Health: `[[check]]` tables and the keys that tie VIPs to them.
//!
//! Checks are validated before the VIPs, so a VIP may name a check declared
//! further down the file (the VIP side is in `validate_vip_health`). The
//! grammar of single values (URLs, status ranges) is in `health_syntax`.

use std::collections::HashMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::error::ConfigError;
use super::health_syntax::{self, Scheme};
use super::raw::{RawArgv, RawCheck, Scalar};
use super::validate::Validator;
use super::{Check, CheckKind, HttpCheck};

/// Probe interval when a check does not set one.
const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);
/// Probe interval while a change is pending, when a check does not set one
/// (lowered to the check's interval if that is shorter).
const DEFAULT_FAST_INTERVAL: Duration = Duration::from_millis(250);
/// Probe timeout when a check does not set one.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(1);
/// Successes that make a check healthy, when not set.
const DEFAULT_RISE: u32 = 3;
/// Failures that make a check unhealthy, when not set.
const DEFAULT_FALL: u32 = 2;
/// Largest `rise` or `fall`.
const MAX_RISE_FALL: i64 = 100;
/// The kind of a check, to tell which keys apply to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Tcp,
    Http,
    Exec,
    File,
}

impl Kind {
    const ALL: [(&'static str, Kind); 4] = [
        ("tcp", Kind::Tcp),
        ("http", Kind::Http),
        ("exec", Kind::Exec),
        ("file", Kind::File),
    ];

    fn name(self) -> &'static str {
        match self {
            Kind::Tcp => "tcp",
            Kind::Http => "http",
            Kind::Exec => "exec",
            Kind::File => "file",
        }
    }
}

/// The per-kind keys of a check that are set: name, kind, where.
fn kind_keys(c: &RawCheck) -> Vec<(&'static str, Kind, Range<usize>)> {
    let span = |v: Option<Range<usize>>, name, kind| v.map(|s| (name, kind, s));
    [
        span(c.address.as_ref().map(Spanned::span), "address", Kind::Tcp),
        span(c.url.as_ref().map(Spanned::span), "url", Kind::Http),
        span(c.status.as_ref().map(Spanned::span), "status", Kind::Http),
        span(c.body.as_ref().map(Spanned::span), "body", Kind::Http),
        span(c.host.as_ref().map(Spanned::span), "host", Kind::Http),
        span(c.ca_file.as_ref().map(Spanned::span), "ca-file", Kind::Http),
        span(
            c.tls_verify.as_ref().map(Spanned::span),
            "tls-verify",
            Kind::Http,
        ),
        span(c.command.as_ref().map(Spanned::span), "command", Kind::Exec),
        span(c.path.as_ref().map(Spanned::span), "path", Kind::File),
        span(
            c.healthy_when.as_ref().map(Spanned::span),
            "healthy-when",
            Kind::File,
        ),
    ]
    .into_iter()
    .flatten()
    .collect()
}

impl Validator<'_> {
    /// Validates every `[[check]]`, in file order, with unique names.
    pub(super) fn checks(
        &mut self,
        raw: &[Spanned<RawCheck>],
    ) -> Result<(Vec<Check>, HashMap<String, usize>), ConfigError> {
        let mut checks = Vec::with_capacity(raw.len());
        let mut by_name: HashMap<String, usize> = HashMap::new();
        let mut spans = Vec::with_capacity(raw.len());
        for (index, raw_check) in raw.iter().enumerate() {
            let check = self.check(index, raw_check)?;
            let name_span = raw_check
                .get_ref()
                .name
                .as_ref()
                .map_or_else(|| raw_check.span(), Spanned::span);
            if let Some(&first) = by_name.get(&check.name) {
                return Err(self.error(
                    name_span,
                    format!("check[{index}].name"),
                    format!(
                        "check name {:?} is already used by check[{first}] (line {})",
                        check.name,
                        self.line(&spans, first)
                    ),
                ));
            }
            by_name.insert(check.name.clone(), index);
            spans.push(raw_check.span());
            checks.push(check);
        }
        Ok((checks, by_name))
    }

    /// Warns about checks that no VIP lists: they are probed for nothing.
    pub(super) fn unused_checks(&mut self, raw: &[Spanned<RawCheck>], used: &[bool]) {
        for (index, raw_check) in raw.iter().enumerate() {
            if used.get(index).copied().unwrap_or(false) {
                continue;
            }
            if let Some(name) = &raw_check.get_ref().name {
                self.warn(
                    name.span(),
                    format!("check[{index}].name"),
                    format!(
                        "check {:?} is in no VIP's `checks`, so it changes nothing",
                        name.get_ref()
                    ),
                );
            }
        }
    }

    fn check(&mut self, index: usize, raw: &Spanned<RawCheck>) -> Result<Check, ConfigError> {
        let c = raw.get_ref();
        let key = |name: &str| format!("check[{index}].{name}");
        let name = self.required(&c.name, raw.span(), &key("name"))?;
        if name.get_ref().trim().is_empty() {
            return Err(self.error(name.span(), key("name"), "check name must not be empty"));
        }
        let kind = self.required(&c.kind, raw.span(), &key("kind"))?;
        let kind = self.choice(kind, &key("kind"), "check kind", &Kind::ALL)?;
        for (name, applies_to, span) in kind_keys(c) {
            if applies_to != kind {
                return Err(self.error(
                    span,
                    key(name),
                    format!(
                        "`{name}` applies to {} checks only, not to {} checks",
                        applies_to.name(),
                        kind.name()
                    ),
                ));
            }
        }
        let interval = self.positive(c.interval.as_ref(), &key("interval"), DEFAULT_INTERVAL)?;
        let fast_interval = match &c.fast_interval {
            None => DEFAULT_FAST_INTERVAL.min(interval),
            Some(value) => {
                let fast = self.positive(Some(value), &key("fast-interval"), interval)?;
                if fast > interval {
                    return Err(self.error(
                        value.span(),
                        key("fast-interval"),
                        format!(
                            "fast-interval {fast:?} must not be longer than the interval \
                             {interval:?}: it is how often to probe while a change is pending"
                        ),
                    ));
                }
                fast
            }
        };
        let timeout = self.positive(c.timeout.as_ref(), &key("timeout"), DEFAULT_TIMEOUT)?;
        let threshold = |v: &Option<Spanned<i64>>, name: &str, default: u32| match v {
            Some(v) => self.integer(v, &key(name), 1..=MAX_RISE_FALL, name),
            None => Ok(default),
        };
        let rise = threshold(&c.rise, "rise", DEFAULT_RISE)?;
        let fall = threshold(&c.fall, "fall", DEFAULT_FALL)?;
        let initially_healthy = match &c.initial {
            Some(v) => self.choice(
                v,
                &key("initial"),
                "initial state",
                &[("down", false), ("up", true)],
            )?,
            None => false,
        };
        let missing = |name: &str| {
            self.error(
                raw.span(),
                key(name),
                format!(
                    "missing required key `{name}`: {} checks need one",
                    kind.name()
                ),
            )
        };
        let kind = match kind {
            Kind::Tcp => {
                let address = c.address.as_ref().ok_or_else(|| missing("address"))?;
                CheckKind::Tcp {
                    address: self.socket_address(address, &key("address"))?,
                }
            }
            Kind::Http => {
                let url = c.url.as_ref().ok_or_else(|| missing("url"))?;
                CheckKind::Http(self.http(index, c, url)?)
            }
            Kind::Exec => {
                let command = c.command.as_ref().ok_or_else(|| missing("command"))?;
                CheckKind::Exec {
                    argv: self.argv(command, &key("command"))?,
                }
            }
            Kind::File => {
                let path = c.path.as_ref().ok_or_else(|| missing("path"))?;
                let healthy_when_present = match &c.healthy_when {
                    Some(v) => self.choice(
                        v,
                        &key("healthy-when"),
                        "healthy-when",
                        &[("absent", false), ("present", true)],
                    )?,
                    None => false,
                };
                CheckKind::File {
                    path: self.absolute_path(path, &key("path"))?,
                    healthy_when_present,
                }
            }
        };
        Ok(Check {
            name: name.get_ref().clone(),
            kind,
            interval,
            fast_interval,
            timeout,
            rise,
            fall,
            initially_healthy,
        })
    }
}

impl Validator<'_> {
    /// The keys of an http check, `url` given.
    fn http(
        &mut self,
        index: usize,
        c: &RawCheck,
        url: &Spanned<String>,
    ) -> Result<HttpCheck, ConfigError> {
        let key = |name: &str| format!("check[{index}].{name}");
        let scheme = health_syntax::url(url.get_ref())
            .map_err(|message| self.error(url.span(), key("url"), message))?;
        let status = match &c.status {
            None => 200..=299,
            Some(v) => health_syntax::status(v.get_ref())
                .map_err(|message| self.error(v.span(), key("status"), message))?,
        };
        if let Some(body) = c.body.as_ref().filter(|b| b.get_ref().is_empty()) {
            return Err(self.error(
                body.span(),
                key("body"),
                "an empty body matches every response: remove `body` to accept any body",
            ));
        }
        if let Some(host) = c.host.as_ref().filter(|h| h.get_ref().trim().is_empty()) {
            return Err(self.error(
                host.span(),
                key("host"),
                "the Host header must not be empty: remove `host` to send the URL's host",
            ));
        }
        let ca_file = c
            .ca_file
            .as_ref()
            .map(|v| self.absolute_path(v, &key("ca-file")))
            .transpose()?;
        if scheme == Scheme::Http {
            let tls = [
                ("ca-file", c.ca_file.as_ref().map(Spanned::span)),
                ("tls-verify", c.tls_verify.as_ref().map(Spanned::span)),
            ];
            for (name, span) in tls {
                if let Some(span) = span {
                    self.warn(
                        span,
                        key(name),
                        format!("`{name}` is ignored: the url is http://, not https://"),
                    );
                }
            }
        }
        Ok(HttpCheck {
            url: url.get_ref().clone(),
            status,
            body: c.body.as_ref().map(|b| b.get_ref().clone()),
            host: c.host.as_ref().map(|h| h.get_ref().clone()),
            ca_file,
            tls_verify: c.tls_verify.as_ref().is_none_or(|v| *v.get_ref()),
        })
    }

    fn socket_address(
        &self,
        value: &Spanned<String>,
        key: &str,
    ) -> Result<std::net::SocketAddr, ConfigError> {
        let address: std::net::SocketAddr = self.parsed(
            value,
            key,
            "an IP address and port such as \"127.0.0.1:8080\" or \"[::1]:80\"",
        )?;
        if address.port() == 0 {
            return Err(self.error(value.span(), key, "port 0 cannot be connected to"));
        }
        Ok(address)
    }

    /// A command line: a non-empty list whose first element names the
    /// program, as an absolute path or a bare name looked up in `PATH`.
    pub(super) fn argv(&mut self, value: &RawArgv, key: &str) -> Result<Vec<String>, ConfigError> {
        let Some(program) = value.get_ref().first() else {
            return Err(self.error(
                value.span(),
                key,
                "an empty command runs nothing: give the program and its arguments, such as \
                 [\"/usr/local/bin/check-db\", \"--quick\"]",
            ));
        };
        let program_key = format!("{key}[0]");
        if program.get_ref().trim().is_empty() {
            return Err(self.error(
                program.span(),
                program_key,
                "the program name must not be empty",
            ));
        }
        for (i, arg) in value.get_ref().iter().enumerate() {
            if arg.get_ref().contains('\0') {
                return Err(self.error(
                    arg.span(),
                    format!("{key}[{i}]"),
                    "a command line cannot contain a NUL character",
                ));
            }
        }
        let text = program.get_ref();
        if text.contains('/') && !Path::new(text).is_absolute() {
            self.warn(
                program.span(),
                program_key,
                format!(
                    "{text:?} is resolved against herald's working directory: use an absolute \
                     path, or a bare name to search PATH"
                ),
            );
        }
        Ok(value
            .get_ref()
            .iter()
            .map(|a| a.get_ref().clone())
            .collect())
    }

    fn absolute_path(&self, value: &Spanned<String>, key: &str) -> Result<PathBuf, ConfigError> {
        let text = value.get_ref();
        if !Path::new(text).is_absolute() {
            return Err(self.error(
                value.span(),
                key,
                format!("{text:?} is not an absolute path: write it from the root, such as \"/etc/herald/maintenance\""),
            ));
        }
        Ok(PathBuf::from(text))
    }

    /// One of a fixed set of words.
    pub(super) fn choice<T: Copy>(
        &self,
        value: &Spanned<String>,
        key: &str,
        what: &str,
        options: &[(&str, T)],
    ) -> Result<T, ConfigError> {
        if let Some((_, choice)) = options.iter().find(|(name, _)| name == value.get_ref()) {
            return Ok(*choice);
        }
        let quoted: Vec<String> = options
            .iter()
            .map(|(name, _)| format!("{name:?}"))
            .collect();
        let expected = match quoted.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        };
        Err(self.error(
            value.span(),
            key,
            format!("unknown {what} {:?}: expected {expected}", value.get_ref()),
        ))
    }

    /// A duration longer than zero, or `default` when absent.
    pub(super) fn positive(
        &self,
        value: Option<&Spanned<Scalar>>,
        key: &str,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        let Some(value) = value else {
            return Ok(default);
        };
        let duration = self.duration(value, key)?;
        if duration.is_zero() {
            let name = key.rsplit('.').next().unwrap_or(key);
            return Err(self.error(value.span(), key, format!("{name} must be longer than 0")));
        }
        Ok(duration)
    }
}
