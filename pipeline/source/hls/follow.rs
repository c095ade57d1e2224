//! Following a playlist: the one thread of the HLS input. It refreshes the media playlist
//! as often as the playlist asks (its target duration; half that when nothing changed),
//! fetches new segments in order (`sequence.rs`), retries failures with back-off, and
//! sends each segment's audio bytes down a channel the decoder reads as one stream.
//! Segments that stay unavailable become gaps in the shared `StreamLog`, never a silent
//! skip; nothing here is fatal once audio flows (a live stream outlives network trouble).

use std::collections::HashMap;
use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Result};
use crossbeam_channel::{Receiver, Sender};

use super::playlist::{parse, MediaList, Parsed, SegmentRef};
use super::segment::{decrypt, detect, elementary, extension, Packaging};
use super::sequence::{Sequencer, Step};
use crate::gaps::{describe, StreamClock};
use crate::source::http::{describe_open_failure, Http};
use crate::timefmt::hms;

/// Tries per segment before it counts as missing, and the first back-off (doubling).
const SEGMENT_TRIES: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(300);
/// A live playlist that cannot be refreshed for this long ends the session (politely).
const PLAYLIST_GIVE_UP: Duration = Duration::from_secs(60);

/// When a segment's audio reached the decoder.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    /// Seconds of received audio once this segment is in.
    pub received_end: f64,
    pub at: Instant,
    pub duration: f64,
}

/// What the follower has done, for the command's outputs and messages.
#[derive(Debug, Default)]
pub struct StreamLog {
    /// Seconds of audio received (EXTINF lengths of the segments delivered).
    pub received: f64,
    pub clock: StreamClock,
    pub arrivals: Vec<Arrival>,
    pub fetched: usize,
    /// Segments that never arrived.
    pub lost: usize,
    /// Set when following stopped for good before the playlist's end.
    pub ended_early: Option<String>,
}

impl StreamLog {
    /// When the segment holding received second `t` arrived.
    pub fn arrival_of(&self, t: f64) -> Option<Arrival> {
        self.arrivals
            .iter()
            .find(|a| a.received_end >= t - 1e-6)
            .copied()
    }
}

pub type SharedLog = Arc<Mutex<StreamLog>>;

/// The state of following one media playlist.
pub struct Follower {
    http: Http,
    url: String,
    sequencer: Sequencer,
    list: MediaList,
    keys: HashMap<String, [u8; 16]>,
    init_sent: Option<String>,
    pub packaging: Packaging,
    /// What the decoder's probe should assume the joined stream is.
    pub extension: &'static str,
    /// Steps of the latest snapshot not yet carried out.
    pending: Vec<Step>,
    pub log: SharedLog,
}

impl Follower {
    /// Fetch the media playlist and the first segment (so a bad stream fails here, with
    /// one clear message); returns the follower and the first bytes for the decoder.
    pub fn start(http: Http, playlist_url: &str) -> Result<(Self, Vec<u8>)> {
        let (url, list) = media_playlist(&http, playlist_url)?;
        if list.segments.is_empty() && list.ended {
            bail!("{url}: the playlist has no audio segments");
        }
        let mut f = Self {
            http,
            url,
            sequencer: Sequencer::default(),
            list,
            keys: HashMap::new(),
            init_sent: None,
            packaging: Packaging::Adts,
            extension: "aac",
            pending: Vec::new(),
            log: SharedLog::default(),
        };
        // Wait for a live playlist's first segment.
        let mut steps = f.sequencer.plan(&f.list);
        while steps.is_empty() {
            std::thread::sleep(f.refresh_interval(false));
            f.list = media_playlist(&f.http, &f.url)?.1;
            steps = f.sequencer.plan(&f.list);
        }
        let Some(Step::Fetch(first)) = steps.first().cloned() else {
            bail!("{}: the playlist has no audio segments", f.url);
        };
        let raw = f
            .segment_bytes(&first)
            .map_err(|e| anyhow!("{}: {e:#}", f.url))?;
        f.packaging = detect(&raw, first.init.is_some()).map_err(|e| anyhow!("{}: {e}", f.url))?;
        f.extension = extension(&raw, f.packaging);
        let mut bytes = f.with_init(&first)?;
        bytes.extend(elementary(raw, f.packaging).map_err(|e| anyhow!("{}: {e}", f.url))?);
        f.delivered(&first);
        // The rest of this snapshot is fetched by the thread.
        f.pending = steps.into_iter().skip(1).collect();
        Ok((f, bytes))
    }

    /// Follow to the end (ENDLIST, `stop`, or the reader gone), sending audio bytes.
    pub fn run(mut self, tx: Sender<Vec<u8>>, stop: Arc<AtomicBool>) {
        let mut last_refresh = Instant::now();
        loop {
            let steps = std::mem::take(&mut self.pending);
            let changed = !steps.is_empty();
            for step in steps {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                if !self.take(step, &tx, &stop) {
                    return; // the reader is gone
                }
            }
            if self.list.ended {
                return;
            }
            // Refresh as the playlist asks, counted from the previous refresh.
            let due = last_refresh + self.refresh_interval(changed);
            if !sleep_until(due, &stop) {
                return;
            }
            last_refresh = Instant::now();
            match self.refresh(&stop) {
                Some(list) => {
                    self.pending = self.sequencer.plan(&list);
                    self.list = list;
                }
                None => return,
            }
        }
    }

    fn refresh_interval(&self, changed: bool) -> Duration {
        let target = self.list.target_duration.max(0.5);
        Duration::from_secs_f64(if changed { target } else { target / 2.0 })
    }

    /// The playlist again, retried with back-off; None when it stays unreachable.
    fn refresh(&mut self, stop: &AtomicBool) -> Option<MediaList> {
        let started = Instant::now();
        let mut backoff = FIRST_BACKOFF;
        loop {
            let result = self
                .http
                .get(&self.url)
                .map_err(|f| f.to_string())
                .and_then(|bytes| match parse(&bytes, &self.url) {
                    Ok(Parsed::Media(list)) => Ok(list),
                    Ok(Parsed::Master(_)) => Err("the media playlist became a master".into()),
                    Err(e) => Err(e.to_string()),
                });
            match result {
                Ok(list) => return Some(list),
                Err(why) => {
                    if started.elapsed() > PLAYLIST_GIVE_UP || stop.load(Ordering::SeqCst) {
                        let why = format!(
                            "the playlist could not be refreshed for {} s ({why}); stopped following it",
                            started.elapsed().as_secs()
                        );
                        eprintln!("warning: {why}");
                        self.log.lock().unwrap().ended_early = Some(why);
                        return None;
                    }
                    eprintln!(
                        "note: playlist refresh failed ({why}); retrying in {:.1} s",
                        backoff.as_secs_f64()
                    );
                    if !sleep_until(Instant::now() + backoff, stop) {
                        return None;
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(8));
                }
            }
        }
    }

    /// Carry out one step; false when the reader has gone away.
    fn take(&mut self, step: Step, tx: &Sender<Vec<u8>>, stop: &AtomicBool) -> bool {
        match step {
            Step::Missed {
                first,
                count,
                seconds,
            } => {
                self.missing(
                    seconds,
                    count as usize,
                    &format!(
                        "segments {first}..{} left the playlist before they could be fetched",
                        first + count - 1
                    ),
                );
                true
            }
            Step::Fetch(seg) => {
                let mut backoff = FIRST_BACKOFF;
                let mut last_error = String::new();
                for attempt in 1..=SEGMENT_TRIES {
                    match self.segment_audio(&seg) {
                        Ok(bytes) => {
                            if tx.send(bytes).is_err() {
                                return false;
                            }
                            self.delivered(&seg);
                            return true;
                        }
                        Err(e) => {
                            last_error = format!("{e:#}");
                            if attempt < SEGMENT_TRIES {
                                eprintln!(
                                    "note: segment {}: {last_error}; retrying in {:.1} s",
                                    seg.seq,
                                    backoff.as_secs_f64()
                                );
                                if !sleep_until(Instant::now() + backoff, stop) {
                                    return false;
                                }
                                backoff *= 2;
                            }
                        }
                    }
                }
                self.missing(
                    seg.duration,
                    1,
                    &format!(
                        "segment {}: {last_error} after {SEGMENT_TRIES} tries",
                        seg.seq
                    ),
                );
                true
            }
        }
    }

    fn delivered(&mut self, seg: &SegmentRef) {
        let mut log = self.log.lock().unwrap();
        log.received += seg.duration;
        log.fetched += 1;
        let received_end = log.received;
        log.arrivals.push(Arrival {
            received_end,
            at: Instant::now(),
            duration: seg.duration,
        });
    }

    fn missing(&mut self, seconds: f64, segments: usize, why: &str) {
        let mut log = self.log.lock().unwrap();
        let at = log.received;
        log.clock.add_gap(at, seconds);
        log.lost += segments;
        let gap = log.clock.gaps().last().copied();
        if let Some(gap) = gap {
            eprintln!(
                "warning: audio missing at {} for {seconds:.1} s ({why}); the stream so far: {}",
                hms(gap.end - seconds),
                describe(&gap)
            );
        }
    }

    /// A segment's decoder bytes (with the init section first if it changed).
    fn segment_audio(&mut self, seg: &SegmentRef) -> Result<Vec<u8>> {
        let raw = self.segment_bytes(seg)?;
        let mut bytes = self.with_init(seg)?;
        bytes.extend(elementary(raw, self.packaging)?);
        Ok(bytes)
    }

    /// The init section's bytes when this segment needs one not yet sent, else nothing.
    fn with_init(&mut self, seg: &SegmentRef) -> Result<Vec<u8>> {
        match &seg.init {
            Some(init) if self.init_sent.as_deref() != Some(init) => {
                let bytes = self
                    .http
                    .get(init)
                    .map_err(|f| describe_open_failure(init, "init section", &f))?;
                self.init_sent = Some(init.clone());
                Ok(bytes)
            }
            _ => Ok(Vec::new()),
        }
    }

    /// A segment's bytes, fetched and decrypted.
    fn segment_bytes(&mut self, seg: &SegmentRef) -> Result<Vec<u8>> {
        let data = self
            .http
            .get(&seg.url)
            .map_err(|f| describe_open_failure(&seg.url, "segment", &f))?;
        let Some(key) = &seg.key else {
            return Ok(data);
        };
        let secret = match self.keys.get(&key.url) {
            Some(k) => *k,
            None => {
                let bytes = self
                    .http
                    .get(&key.url)
                    .map_err(|f| describe_open_failure(&key.url, "decryption key", &f))?;
                let k: [u8; 16] = bytes.as_slice().try_into().map_err(|_| {
                    anyhow!(
                        "{}: the decryption key is {} bytes, not 16",
                        key.url,
                        bytes.len()
                    )
                })?;
                self.keys.insert(key.url.clone(), k);
                k
            }
        };
        decrypt(&data, &secret, &key.iv)
    }
}

/// Follow `master -> media` to a media playlist; (its URL, its contents).
fn media_playlist(http: &Http, url: &str) -> Result<(String, MediaList)> {
    let mut url = url.to_string();
    for _ in 0..3 {
        let bytes = http
            .get(&url)
            .map_err(|f| describe_open_failure(&url, "playlist", &f))?;
        match parse(&bytes, &url)? {
            Parsed::Media(list) => return Ok((url, list)),
            Parsed::Master(next) => url = next,
        }
    }
    bail!("{url}: master playlists nested too deep")
}

/// Sleep until `due`, waking early when `stop` rises; false if it did.
fn sleep_until(due: Instant, stop: &AtomicBool) -> bool {
    while Instant::now() < due {
        if stop.load(Ordering::SeqCst) {
            return false;
        }
        let left = due.saturating_duration_since(Instant::now());
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
    !stop.load(Ordering::SeqCst)
}

/// The decoder's side of the channel: the segments' bytes as one stream, ending when the
/// follower does.
pub struct ChannelReader {
    rx: Receiver<Vec<u8>>,
    current: Vec<u8>,
    pos: usize,
}

impl ChannelReader {
    pub fn new(first: Vec<u8>, rx: Receiver<Vec<u8>>) -> Self {
        Self {
            rx,
            current: first,
            pos: 0,
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.current.len() {
            match self.rx.recv() {
                Ok(next) => {
                    self.current = next;
                    self.pos = 0;
                }
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.current.len() - self.pos);
        out[..n].copy_from_slice(&self.current[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}
