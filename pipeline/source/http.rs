//! HTTP(S) for URL inputs (ureq with rustls): one agent with timeouts, and errors in words
//! a reporter can act on ("HTTP 404", "cannot reach host") instead of library jargon.

use std::io::Read;
use std::time::Duration;

use anyhow::{anyhow, Result};

/// A URL input (`http://` or `https://`).
pub fn is_url(input: &str) -> bool {
    let lower = input.to_ascii_lowercase();
    lower.starts_with("http://") || lower.starts_with("https://")
}

/// Why a request failed, sorted by what to do about it.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// The server answered with this status.
    Status(u16),
    /// No answer or a broken one (DNS, refused, reset, timeout): worth retrying.
    Network(String),
}

impl Failure {
    /// 404 and 410 mean the thing is gone; 403 usually means an expired signed URL or key.
    pub fn is_gone(&self) -> bool {
        matches!(self, Failure::Status(403 | 404 | 410))
    }
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Status(code) => write!(f, "HTTP {code}"),
            Failure::Network(why) => write!(f, "{why}"),
        }
    }
}

fn failure(e: ureq::Error) -> Failure {
    match e {
        ureq::Error::StatusCode(code) => Failure::Status(code),
        ureq::Error::HostNotFound => Failure::Network("cannot find the host".into()),
        ureq::Error::ConnectionFailed => Failure::Network("cannot connect to the host".into()),
        ureq::Error::Timeout(_) => Failure::Network("the server did not answer in time".into()),
        ureq::Error::Io(io) => Failure::Network(format!("connection failed: {io}")),
        other => Failure::Network(other.to_string()),
    }
}

pub struct Http {
    agent: ureq::Agent,
}

/// A response body still being received.
pub struct Body {
    pub reader: Box<dyn Read + Send + Sync>,
    pub content_type: Option<String>,
    pub length: Option<u64>,
}

impl Http {
    pub fn new() -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(10)))
            // Per read, not per call: a long recording may take hours to stream.
            .timeout_recv_response(Some(Duration::from_secs(20)))
            .timeout_recv_body(None)
            .timeout_per_call(None)
            .user_agent(concat!("spacescribe/", env!("CARGO_PKG_VERSION")))
            .build();
        Self {
            agent: config.into(),
        }
    }

    /// Start a GET; the body is read as the caller consumes it.
    pub fn open(&self, url: &str) -> Result<Body, Failure> {
        let response = self.agent.get(url).call().map_err(failure)?;
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.to_ascii_lowercase());
        let length = response
            .headers()
            .get("content-length")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        let reader = Box::new(response.into_body().into_reader());
        Ok(Body {
            reader,
            content_type,
            length,
        })
    }

    /// A whole (small) body: playlists, segments, keys.
    pub fn get(&self, url: &str) -> Result<Vec<u8>, Failure> {
        let mut body = self.open(url)?;
        let mut bytes = Vec::with_capacity(body.length.unwrap_or(0).min(64 << 20) as usize);
        body.reader
            .read_to_end(&mut bytes)
            .map_err(|e| Failure::Network(format!("connection broke off: {e}")))?;
        if let Some(len) = body.length {
            if (bytes.len() as u64) < len {
                return Err(Failure::Network(format!(
                    "connection broke off after {} of {len} bytes",
                    bytes.len()
                )));
            }
        }
        Ok(bytes)
    }
}

impl Default for Http {
    fn default() -> Self {
        Self::new()
    }
}

/// `url` joined with a (possibly relative) reference from a playlist.
pub fn join(base: &str, reference: &str) -> String {
    if is_url(reference) {
        return reference.to_string();
    }
    let base = base.split(['?', '#']).next().unwrap_or(base);
    if let Some(rest) = reference.strip_prefix("//") {
        let scheme = base.split("://").next().unwrap_or("https");
        return format!("{scheme}://{rest}");
    }
    let origin_end = base
        .find("://")
        .map(|i| i + 3 + base[i + 3..].find('/').unwrap_or(base.len() - i - 3))
        .unwrap_or(0);
    if reference.starts_with('/') {
        return format!("{}{reference}", &base[..origin_end]);
    }
    let dir = match base[origin_end..].rfind('/') {
        Some(i) => base[..origin_end + i + 1].to_string(),
        None => format!("{base}/"),
    };
    format!("{dir}{reference}")
}

/// The output stem a URL suggests: the path's last component without its extension
/// (`https://host/a/space3.m3u8?x=1` -> `space3`).
pub fn url_stem(url: &str) -> String {
    let path = url
        .split(['?', '#'])
        .next()
        .unwrap_or(url)
        .split("://")
        .nth(1)
        .unwrap_or("");
    let last = path
        .split('/')
        .skip(1)
        .filter(|s| !s.is_empty())
        .last()
        .unwrap_or("");
    let stem = last.rsplit_once('.').map_or(last, |(s, _)| s);
    if stem.is_empty() {
        "stream".to_string()
    } else {
        stem.to_string()
    }
}

/// The URL path's extension, lower case, for the format probe.
pub fn url_extension(url: &str) -> Option<String> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let last = path.rsplit('/').next()?;
    last.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())
}

/// One line for an input that could not be fetched.
pub fn describe_open_failure(url: &str, what: &str, f: &Failure) -> anyhow::Error {
    match f {
        Failure::Status(404 | 410) => anyhow!("{url}: {what} not found (HTTP 404)"),
        Failure::Status(403) => {
            anyhow!("{url}: access to the {what} refused (HTTP 403; an expired link?)")
        }
        Failure::Status(code) => anyhow!("{url}: the server refused the {what} (HTTP {code})"),
        Failure::Network(why) => anyhow!("{url}: {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_relative_references() {
        let base = "http://h:8/live/x/index.m3u8?t=1";
        assert_eq!(join(base, "seg1.ts"), "http://h:8/live/x/seg1.ts");
        assert_eq!(join(base, "../a/b.ts"), "http://h:8/live/x/../a/b.ts");
        assert_eq!(join(base, "/key"), "http://h:8/key");
        assert_eq!(join(base, "https://o/k"), "https://o/k");
        assert_eq!(join(base, "//cdn/k"), "http://cdn/k");
        assert_eq!(join("http://h", "a.ts"), "http://h/a.ts");
    }

    #[test]
    fn stems_from_url_paths() {
        assert_eq!(url_stem("https://x.com/i/spaces/space3.m3u8?a=b"), "space3");
        assert_eq!(url_stem("http://127.0.0.1:80/talk.mp3"), "talk");
        assert_eq!(url_stem("http://host/"), "stream");
        assert_eq!(url_extension("http://h/a/b.M4A?x"), Some("m4a".into()));
    }
}
