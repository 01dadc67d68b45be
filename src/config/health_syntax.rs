//! The syntax of single health-check values: probe URLs and accepted HTTP
//! status codes.

use std::net::Ipv6Addr;
use std::ops::RangeInclusive;

use super::raw::Scalar;

/// The scheme of a check URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scheme {
    Http,
    Https,
}

/// Lowest and highest HTTP status codes (RFC 9110 §15).
const STATUS_CODES: RangeInclusive<u16> = 100..=599;

/// Checks a probe URL: `http://` or `https://`, a host (a name, an IPv4
/// address, or an IPv6 address in brackets), an optional port, then any
/// path and query. Credentials are not accepted.
pub(crate) fn url(text: &str) -> Result<Scheme, String> {
    const FORM: &str = "expected a URL such as \"http://127.0.0.1:8080/health\"";
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "URL {text:?} contains spaces or control characters"
        ));
    }
    let Some((scheme, rest)) = text.split_once("://") else {
        return Err(format!("{text:?} is not a URL: {FORM}"));
    };
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        _ => {
            return Err(format!(
                "unsupported scheme {scheme:?} in {text:?}: expected http:// or https://"
            ))
        }
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..end).unwrap_or_default();
    if authority.contains('@') {
        return Err(format!(
            "URL {text:?} carries credentials, which herald does not send: remove `user@`"
        ));
    }
    let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
        let Some((address, after)) = bracketed.split_once(']') else {
            return Err(format!("URL {text:?} has an unclosed `[` in its host"));
        };
        if address.parse::<Ipv6Addr>().is_err() {
            return Err(format!(
                "{address:?} in URL {text:?} is not an IPv6 address"
            ));
        }
        match after {
            "" => (address, None),
            _ => match after.strip_prefix(':') {
                Some(port) => (address, Some(port)),
                None => return Err(format!("{text:?} is not a URL: {FORM}")),
            },
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    if host.is_empty() {
        return Err(format!("URL {text:?} has no host: {FORM}"));
    }
    if !authority.starts_with('[')
        && !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
    {
        return Err(format!(
            "{host:?} in URL {text:?} is not a host name or address"
        ));
    }
    if let Some(port) = port {
        let valid = !port.is_empty()
            && port.bytes().all(|b| b.is_ascii_digit())
            && port.parse::<u16>().is_ok_and(|p| p != 0);
        if !valid {
            return Err(format!(
                "port {port:?} in URL {text:?} is not a port number: expected 1..=65535"
            ));
        }
    }
    Ok(scheme)
}

/// Parses the accepted statuses: a code (`200`, `"200"`) or a range
/// (`"200-299"`), within 100..=599.
pub(crate) fn status(value: &Scalar) -> Result<RangeInclusive<u16>, String> {
    let (low, high, shown) = match value {
        Scalar::Integer(n) => (Some(*n), Some(*n), n.to_string()),
        Scalar::Text(text) => {
            let code = |s: &str| {
                (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| s.parse::<i64>().ok())
                    .flatten()
            };
            let (low, high) = text.split_once('-').unwrap_or((text, text));
            (code(low), code(high), text.clone())
        }
    };
    let (Some(low), Some(high)) = (low, high) else {
        return Err(format!(
            "invalid status {shown:?}: expected a code such as 200 or a range such as \"200-299\""
        ));
    };
    let in_range = |n: i64| u16::try_from(n).ok().filter(|n| STATUS_CODES.contains(n));
    let (Some(low), Some(high)) = (in_range(low), in_range(high)) else {
        return Err(format!(
            "status {shown:?} is out of range: HTTP status codes are 100..=599"
        ));
    };
    if low > high {
        return Err(format!(
            "status range {shown:?} is empty: write the lower code first, such as \"{high}-{low}\""
        ));
    }
    Ok(low..=high)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_and_https_urls_with_a_host_are_accepted() {
        for (text, scheme) in [
            ("http://127.0.0.1:8080/health", Scheme::Http),
            ("https://www.example.com/", Scheme::Https),
            ("HTTPS://www.example.com", Scheme::Https),
            ("http://[::1]:80/status?full=1", Scheme::Http),
            ("http://[2001:db8::1]", Scheme::Http),
            ("http://localhost?x#y", Scheme::Http),
        ] {
            assert_eq!(url(text), Ok(scheme), "{text}");
        }
    }

    #[test]
    fn other_schemes_and_malformed_urls_are_rejected() {
        for (text, reason) in [
            ("ftp://example.com/", "unsupported scheme \"ftp\""),
            ("tcp://127.0.0.1:80", "unsupported scheme"),
            ("example.com/health", "is not a URL"),
            ("http:///health", "has no host"),
            ("http://:8080/", "has no host"),
            ("http://host:0/", "not a port number"),
            ("http://host:99999/", "not a port number"),
            ("http://host:/", "not a port number"),
            ("http://user:pw@host/", "credentials"),
            ("http://[::1/", "unclosed"),
            ("http://[nope]/", "not an IPv6 address"),
            ("http://a b/", "spaces"),
            ("http://::1/", "not a host name"),
        ] {
            let error = url(text).unwrap_err();
            assert!(error.contains(reason), "{text}: {error}");
        }
    }

    #[test]
    fn a_status_is_a_code_or_an_inclusive_range() {
        let text = |s: &str| Scalar::Text(s.to_string());
        assert_eq!(status(&Scalar::Integer(204)), Ok(204..=204));
        assert_eq!(status(&text("200")), Ok(200..=200));
        assert_eq!(status(&text("200-399")), Ok(200..=399));
        assert_eq!(status(&text("100-599")), Ok(100..=599));
    }

    #[test]
    fn statuses_outside_100_to_599_or_reversed_are_rejected() {
        let text = |s: &str| Scalar::Text(s.to_string());
        assert!(status(&Scalar::Integer(99))
            .unwrap_err()
            .contains("out of range"));
        assert!(status(&Scalar::Integer(-200))
            .unwrap_err()
            .contains("out of range"));
        assert!(status(&text("200-600"))
            .unwrap_err()
            .contains("out of range"));
        assert!(status(&text("299-200")).unwrap_err().contains("is empty"));
        for bad in ["", "2xx", "200-", "-200", "200-299-300", " 200", "+200"] {
            assert!(
                status(&text(bad)).unwrap_err().contains("invalid status"),
                "{bad:?}"
            );
        }
    }
}
