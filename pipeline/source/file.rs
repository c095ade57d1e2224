//! Decoding audio files with symphonia: wav, mp3, m4a/mp4 (AAC, ALAC), raw ADTS .aac,
//! flac, ogg/vorbis, mkv/webm, aiff, caf - any rate, any channel count, downmixed to mono.
//!
//! Error policy (after symphonia-play's `play_track`): a packet that fails to decode is
//! skipped; an I/O error while demuxing ends the stream early and is remembered as a
//! truncation so the caller can transcribe what decoded and still say where it stopped.

use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{anyhow, bail, Context, Result};
use symphonia::core::codecs::audio::{AudioDecoder, AudioDecoderOptions};
use symphonia::core::errors::Error as SymError;
use symphonia::core::formats::probe::Hint;
use symphonia::core::formats::{FormatOptions, FormatReader, TrackType};
use symphonia::core::io::{MediaSource, MediaSourceStream};
use symphonia::core::meta::MetadataOptions;

use super::mp4_edit::{self, EditTrim};
use super::{downmix_interleaved, AudioSource, PcmBlock};

/// symphonia has no reader for the file's format or no decoder for its codec; the
/// message names the file (`source::open_file` then tries ffmpeg).
#[derive(Debug)]
pub struct Unsupported(String);

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Unsupported {}

/// After this many packets in a row fail to decode, the stream is treated as corrupt.
const MAX_CONSECUTIVE_DECODE_ERRORS: usize = 32;

pub struct FileSource {
    /// How messages name the input (a path, a URL, "standard input").
    path: PathBuf,
    format: Box<dyn FormatReader>,
    decoder: Box<dyn AudioDecoder>,
    track_id: u32,
    sample_rate: u32,
    expected_frames: Option<u64>,
    decoded_frames: u64,
    interleaved: Vec<f32>,
    /// What of the decoded audio is still to be dropped, kept or preceded by silence, per
    /// the file's edit list (MP4 priming and padding; `mp4_edit`).
    trim: EditTrim,
    /// Why decoding stopped before the end of the file, if it did.
    truncation: Option<String>,
    finished: bool,
}

impl FileSource {
    pub fn open(path: &Path) -> Result<Self> {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let len = file
            .metadata()
            .with_context(|| format!("cannot read {}", path.display()))?
            .len();
        if len == 0 {
            bail!("{} is empty (0 bytes)", path.display());
        }
        let extension = path.extension().and_then(|e| e.to_str());
        Self::from_media(Box::new(file), extension, path)
    }

    /// Decode any byte stream (a download, standard input, HLS segments joined up);
    /// `label` names it in messages, `extension` helps the format probe.
    pub fn from_media(
        media: Box<dyn MediaSource>,
        extension: Option<&str>,
        label: &Path,
    ) -> Result<Self> {
        let path = label;
        let mut media = media;
        let edit = if media.is_seekable() {
            mp4_edit::read_audio_edit(&mut *media)
        } else {
            None
        };
        let mss = MediaSourceStream::new(media, Default::default());
        let mut hint = Hint::new();
        if let Some(ext) = extension {
            hint.with_extension(ext);
        }
        let format = symphonia::default::get_probe()
            .probe(
                &hint,
                mss,
                FormatOptions::default(),
                MetadataOptions::default(),
            )
            .map_err(|e| {
                Unsupported(format!(
                    "{}: not a supported audio file ({})",
                    path.display(),
                    describe(&e)
                ))
            })?;
        let track = format
            .default_track(TrackType::Audio)
            .ok_or_else(|| anyhow!("{}: contains no audio track", path.display()))?;
        let params = track
            .codec_params
            .as_ref()
            .and_then(|p| p.audio())
            .ok_or_else(|| anyhow!("{}: audio track has no codec parameters", path.display()))?
            .clone();
        let decoder = symphonia::default::get_codecs()
            .make_audio_decoder(&params, &AudioDecoderOptions::default())
            .map_err(|e| {
                Unsupported(format!(
                    "{}: unsupported audio codec ({})",
                    path.display(),
                    describe(&e)
                ))
            })?;
        let sample_rate = params
            .sample_rate
            .ok_or_else(|| anyhow!("{}: sample rate unknown", path.display()))?;
        if sample_rate == 0 {
            bail!("{}: invalid sample rate 0", path.display());
        }
        let trim = edit.map_or_else(EditTrim::default, |e| e.in_frames(sample_rate));
        let expected_frames = match trim.keep {
            Some(keep) => Some(trim.lead_silence + keep),
            None => track
                .num_frames
                .map(|n| trim.lead_silence + n.saturating_sub(trim.skip)),
        };
        Ok(Self {
            path: path.to_path_buf(),
            track_id: track.id,
            expected_frames,
            format,
            decoder,
            sample_rate,
            decoded_frames: 0,
            interleaved: Vec::new(),
            trim,
            truncation: None,
            finished: false,
        })
    }

    /// Seconds of audio decoded so far.
    pub fn decoded_seconds(&self) -> f64 {
        self.decoded_frames as f64 / self.sample_rate as f64
    }

    /// Drops the priming still to skip and anything past the edit's end from a decoded
    /// block; false when nothing of it is left to present.
    fn apply_edit(&mut self, mono: &mut Vec<f32>) -> bool {
        if self.trim.skip > 0 {
            let drop = self.trim.skip.min(mono.len() as u64) as usize;
            mono.drain(..drop);
            self.trim.skip -= drop as u64;
        }
        if let Some(keep) = self.trim.keep.as_mut() {
            if (mono.len() as u64) >= *keep {
                mono.truncate(*keep as usize);
                // The edit's end: the rest of the file is padding.
                self.finished = true;
            }
            *keep -= mono.len() as u64;
        }
        !mono.is_empty()
    }

    fn stop_early(&mut self, reason: String) {
        self.truncation = Some(super::truncation(
            &self.path,
            self.decoded_seconds(),
            &reason,
        ));
        self.finished = true;
    }
}

impl AudioSource for FileSource {
    fn sample_rate(&self) -> u32 {
        self.sample_rate
    }

    fn duration_hint(&self) -> Option<f64> {
        self.expected_frames
            .map(|n| n as f64 / self.sample_rate as f64)
    }

    fn next_block(&mut self) -> Result<Option<PcmBlock>> {
        if self.trim.lead_silence > 0 {
            let frames = self.trim.lead_silence.min(u64::from(self.sample_rate)) as usize;
            self.trim.lead_silence -= frames as u64;
            self.decoded_frames += frames as u64;
            return Ok(Some(vec![0.0; frames]));
        }
        let mut consecutive_errors = 0;
        while !self.finished {
            let packet = match self.format.next_packet() {
                Ok(Some(packet)) => packet,
                Ok(None) => {
                    self.finished = true;
                    if let Some(expected) = self.expected_frames {
                        // Containers that know their length let us notice a cut-off file
                        // even when the demuxer reports a clean end.
                        if self.decoded_frames + (self.sample_rate as u64) < expected {
                            let total = expected as f64 / self.sample_rate as f64;
                            self.stop_early(format!(
                                "file ends early: the header promises {}",
                                crate::timefmt::hms(total)
                            ));
                        }
                    }
                    break;
                }
                Err(SymError::ResetRequired) => {
                    self.stop_early("the stream changes its track layout".into());
                    break;
                }
                Err(e) => {
                    self.stop_early(describe(&e));
                    break;
                }
            };
            if packet.track_id != self.track_id {
                continue;
            }
            match self.decoder.decode(&packet) {
                Ok(buf) => {
                    let channels = buf.spec().channels().count().max(1);
                    let frames = buf.frames();
                    if frames == 0 {
                        continue;
                    }
                    let rate = buf.spec().rate();
                    if rate == self.sample_rate {
                        buf.copy_to_vec_interleaved(&mut self.interleaved);
                    }
                    if rate != self.sample_rate {
                        self.stop_early(format!(
                            "sample rate changes mid-stream from {} to {rate} Hz",
                            self.sample_rate
                        ));
                        break;
                    }
                    let mut mono = Vec::with_capacity(frames);
                    downmix_interleaved(
                        &self.interleaved[..frames * channels],
                        channels,
                        &mut mono,
                    );
                    if !self.apply_edit(&mut mono) {
                        continue;
                    }
                    self.decoded_frames += mono.len() as u64;
                    return Ok(Some(mono));
                }
                Err(SymError::DecodeError(_)) | Err(SymError::IoError(_)) => {
                    consecutive_errors += 1;
                    if consecutive_errors >= MAX_CONSECUTIVE_DECODE_ERRORS {
                        self.stop_early("the audio data is corrupt".into());
                        break;
                    }
                }
                Err(e) => {
                    self.stop_early(describe(&e));
                    break;
                }
            }
        }
        Ok(None)
    }

    fn stopped_early(&self) -> Option<String> {
        self.truncation.clone()
    }
}

/// Symphonia's errors in words a reporter can act on.
fn describe(e: &SymError) -> String {
    match e {
        SymError::IoError(io) if io.kind() == std::io::ErrorKind::UnexpectedEof => {
            "unexpected end of file".into()
        }
        SymError::Unsupported(what) => format!("unsupported: {what}"),
        other => other.to_string(),
    }
}
