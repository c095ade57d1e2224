//! HLS input: master and media playlists (`playlist.rs`), which segments to fetch when
//! (`sequence.rs`), segment bytes to decoder bytes (`segment.rs`, `ts.rs`), and the
//! follower thread (`follow.rs`). The joined segments decode through `FileSource`, like
//! any other stream, so HLS adds no second decoding path.

pub mod follow;
pub mod playlist;
pub mod segment;
pub mod sequence;
pub mod ts;

use std::path::Path;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use anyhow::Result;
use symphonia::core::io::ReadOnlySource;

use self::follow::{ChannelReader, Follower, SharedLog};
use super::file::FileSource;
use super::http::Http;

/// Segments decoded ahead of the pipeline when replaying (live streams queue freely, so
/// refreshes never wait for transcription).
const REPLAY_AHEAD: usize = 3;

/// Open an HLS stream: the source to decode and the follower's log (gaps, arrivals).
pub fn open(url: &str, live: bool, stop: Arc<AtomicBool>) -> Result<(FileSource, SharedLog)> {
    let (follower, first) = Follower::start(Http::new(), url)?;
    let log = Arc::clone(&follower.log);
    let (tx, rx) = if live {
        crossbeam_channel::unbounded()
    } else {
        crossbeam_channel::bounded(REPLAY_AHEAD)
    };
    let extension = follower.extension;
    std::thread::spawn(move || follower.run(tx, stop));
    let reader = ChannelReader::new(first, rx);
    let source = FileSource::from_media(
        Box::new(ReadOnlySource::new(reader)),
        Some(extension),
        Path::new(url),
    )?;
    Ok((source, log))
}
