//! HTTP probe: an HTTP/1.1 GET whose status, and optionally body, says
//! whether the service works.
//!
//! The client is built once per check and keeps no idle connections: each
//! run opens a fresh one, so a server that stopped accepting connections
//! fails its check instead of hiding behind a kept-alive socket. Proxies
//! from the environment are ignored (the probe must reach this host's
//! service, not a proxy's view of it), and redirects are not followed: a
//! 3xx is judged by the status range like any other answer.

use std::ops::RangeInclusive;

use reqwest::header::{HeaderValue, HOST};
use reqwest::{redirect, Certificate, Client, Response, Url};

use super::{one_line, ProbeError, Verdict};
use crate::config::HttpCheck;

/// Most body bytes read when looking for the expected substring.
const BODY_LIMIT: usize = 64 * 1024;
/// Longest CA bundle read: the whole Mozilla bundle is about 220 KiB.
const MAX_CA_FILE_LEN: u64 = 4 << 20;

/// One HTTP check with its client.
#[derive(Debug)]
pub(super) struct HttpProbe {
    client: Client,
    url: Url,
    host: Option<HeaderValue>,
    status: RangeInclusive<u16>,
    body: Option<String>,
}

impl HttpProbe {
    /// Parses the URL and the Host override, loads the CA file, and builds
    /// the client: certificates are verified against the system's and the
    /// built-in web roots plus the CA file, unless `tls_verify` is off.
    pub(super) fn new(check: &HttpCheck) -> Result<HttpProbe, ProbeError> {
        let url = Url::parse(&check.url).map_err(|err| ProbeError::BadUrl {
            url: check.url.clone(),
            reason: err.to_string(),
        })?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err(ProbeError::UnsupportedScheme {
                url: check.url.clone(),
            });
        }
        let host = check
            .host
            .as_ref()
            .map(|host| {
                HeaderValue::from_str(host).map_err(|source| ProbeError::BadHost {
                    host: host.clone(),
                    source,
                })
            })
            .transpose()?;

        let mut builder = Client::builder()
            .http1_only()
            .redirect(redirect::Policy::none())
            .no_proxy()
            .pool_max_idle_per_host(0)
            .danger_accept_invalid_certs(!check.tls_verify);
        if let Some(path) = &check.ca_file {
            let pem = crate::fsutil::read_regular(path, MAX_CA_FILE_LEN).map_err(|source| {
                ProbeError::CaFileUnreadable {
                    path: path.clone(),
                    source,
                }
            })?;
            let certs =
                Certificate::from_pem_bundle(&pem).map_err(|source| ProbeError::CaFileInvalid {
                    path: path.clone(),
                    source,
                })?;
            if certs.is_empty() {
                return Err(ProbeError::CaFileEmpty { path: path.clone() });
            }
            for cert in certs {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder.build().map_err(ProbeError::HttpClient)?;

        Ok(HttpProbe {
            client,
            url,
            host,
            status: check.status.clone(),
            body: check.body.clone(),
        })
    }

    /// Sends the GET and judges the answer; the caller bounds the time.
    pub(super) async fn run(&self) -> Verdict {
        let mut request = self.client.get(self.url.clone());
        if let Some(host) = &self.host {
            request = request.header(HOST, host.clone());
        }
        let mut response = request.send().await.map_err(|err| one_line(&err))?;

        let status = response.status().as_u16();
        if !self.status.contains(&status) {
            return Err(format!(
                "HTTP {status} (expected {})",
                describe_range(&self.status)
            ));
        }
        if let Some(needle) = &self.body {
            let body = read_head(&mut response)
                .await
                .map_err(|err| format!("HTTP {status}, reading body: {}", one_line(&err)))?;
            if !contains(&body, needle.as_bytes()) {
                return Err(format!("body lacks {needle:?}"));
            }
        }
        Ok(format!("HTTP {status}"))
    }
}

/// Reads the body up to [`BODY_LIMIT`] bytes; a longer body is cut there.
async fn read_head(response: &mut Response) -> reqwest::Result<Vec<u8>> {
    let mut body = Vec::new();
    while body.len() < BODY_LIMIT {
        let Some(chunk) = response.chunk().await? else {
            break;
        };
        let room = BODY_LIMIT - body.len();
        body.extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
    Ok(body)
}

/// Whether `needle` occurs in `haystack`; the empty needle always does.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty()
        || haystack
            .windows(needle.len())
            .any(|window| window == needle)
}

/// "200-299", or "200" for a range of one.
fn describe_range(range: &RangeInclusive<u16>) -> String {
    if range.start() == range.end() {
        range.start().to_string()
    } else {
        format!("{}-{}", range.start(), range.end())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn substring_search_handles_edges() {
        assert!(contains(b"status: OK", b"OK"));
        assert!(contains(b"", b""));
        assert!(!contains(b"O", b"OK"));
        assert!(!contains(b"status: ok", b"OK"));
    }

    #[test]
    fn a_range_of_one_status_reads_as_that_status() {
        assert_eq!(describe_range(&(200..=200)), "200");
        assert_eq!(describe_range(&(200..=399)), "200-399");
    }
}
