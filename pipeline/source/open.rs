//! What an input names: `-` (standard input), an http(s) URL (an audio file streamed as it
//! downloads, or an HLS playlist), or a local file. One function so the commands treat
//! all three alike.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::{anyhow, bail, Result};

use super::ffmpeg::FfmpegSource;
use super::file::FileSource;
use super::hls::follow::SharedLog;
use super::http::{describe_open_failure, is_url, url_extension, url_stem, Http};
use super::spool::{SharedSpool, Spool};
use super::AudioSource;

pub struct OpenedInput {
    pub source: Box<dyn AudioSource>,
    /// Output file stem (`--name` wins).
    pub stem: String,
    /// The recording on disk, when the input is a local file (the report links it).
    pub local_file: Option<PathBuf>,
    /// For HLS: the follower's record of gaps and segment arrivals.
    pub stream: Option<SharedLog>,
}

/// Open any input. `live` follows an HLS playlist as it grows (no back-pressure on
/// fetching); `stop` ends the follower (Ctrl-C).
pub fn open_input(
    input: &Path,
    name: Option<&str>,
    live: bool,
    stop: Arc<AtomicBool>,
) -> Result<OpenedInput> {
    let text = input.to_string_lossy();
    let named = |default: String| name.map_or(default, str::to_string);
    if text == "-" {
        let source = open_stream(std::io::stdin(), None, None, "standard input").map_err(|e| {
            let e = format!("{e:#}");
            if e.contains("end of") || e.contains("empty") {
                anyhow!("standard input is empty or not audio ({e})")
            } else {
                anyhow!(e)
            }
        })?;
        return Ok(OpenedInput {
            source,
            stem: named("stdin".into()),
            local_file: None,
            stream: None,
        });
    }
    if is_url(&text) {
        let url = text.as_ref();
        let (source, stream) = open_url(url, live, stop)?;
        return Ok(OpenedInput {
            source,
            stem: named(url_stem(url)),
            local_file: None,
            stream,
        });
    }
    let stem = input
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "transcript".into());
    Ok(OpenedInput {
        source: super::open_file(input)?,
        stem: named(stem),
        local_file: Some(input.to_path_buf()),
        stream: None,
    })
}

/// A URL: an HLS playlist (by its type, extension or first line) or an audio file.
fn open_url(
    url: &str,
    live: bool,
    stop: Arc<AtomicBool>,
) -> Result<(Box<dyn AudioSource>, Option<SharedLog>)> {
    let http = Http::new();
    let mut body = http
        .open(url)
        .map_err(|f| describe_open_failure(url, "recording", &f))?;
    let content_type = body.content_type.clone().unwrap_or_default();
    // Look at the first bytes without losing them.
    let mut head = vec![0u8; 512];
    let mut filled = 0;
    while filled < head.len() {
        match body.reader.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) => bail!("{url}: connection broke off: {e}"),
        }
    }
    head.truncate(filled);
    if head.is_empty() {
        bail!("{url}: the server sent nothing");
    }
    let text_start = String::from_utf8_lossy(&head)
        .trim_start()
        .to_ascii_lowercase();
    let is_playlist = content_type.contains("mpegurl") || text_start.starts_with("#extm3u");
    if is_playlist {
        drop(body);
        let (source, log) = super::hls::open(url, live, stop)?;
        return Ok((Box::new(source), Some(log)));
    }
    if content_type.starts_with("text/html")
        || text_start.starts_with("<!doctype")
        || text_start.starts_with("<html")
    {
        bail!("{url}: the server sent a web page, not audio (give the address of the recording or its .m3u8 playlist)");
    }
    let reader = std::io::Cursor::new(head).chain(body.reader);
    let extension = url_extension(url);
    let source = open_stream(reader, body.length, extension.as_deref(), url)?;
    Ok((source, None))
}

/// A one-way stream (standard input, a download), spooled so it can be read again:
/// symphonia, or ffmpeg from the first byte when symphonia has no decoder for it.
fn open_stream<R: Read + Send + Sync + 'static>(
    reader: R,
    announced_len: Option<u64>,
    extension: Option<&str>,
    label: &str,
) -> Result<Box<dyn AudioSource>> {
    let spool = SharedSpool::new(Spool::new(reader, announced_len)?);
    let label = Path::new(label);
    super::symphonia_or_ffmpeg(
        FileSource::from_media(Box::new(spool.clone()), extension, label),
        || FfmpegSource::from_stream(spool, label),
    )
}
