//! Where audio comes from. A source yields blocks of mono f32 samples at its own rate;
//! the resampler brings them to 16 kHz. Files decode with symphonia (`file.rs`), or with
//! ffmpeg where symphonia has no decoder (`ffmpeg.rs`); the microphone (`live`)
//! implements the same trait so all feed one pipeline.

pub mod clip;
pub mod ffmpeg;
pub mod file;
pub mod hls;
pub mod http;
pub mod limit;
pub mod mic;
pub mod mp4_edit;
pub mod open;
pub mod ring;
pub mod spool;

use std::path::Path;

use anyhow::Result;

use ffmpeg::{FfmpegSource, Unreadable};
use file::{FileSource, Unsupported};

/// A local audio file: symphonia where it can (streams, no process), ffmpeg for the
/// formats it cannot read (Opus, WMA, AC-3, AMR...).
pub fn open_file(path: &Path) -> Result<Box<dyn AudioSource>> {
    symphonia_or_ffmpeg(FileSource::open(path), || FfmpegSource::open(path))
}

/// symphonia's source, or - where it calls the input unsupported - ffmpeg's. Errors other
/// than "unsupported" (missing, empty, corrupt) are symphonia's, and so is the error for an
/// input ffmpeg finds no audio in either; without ffmpeg the error says it would help.
pub fn symphonia_or_ffmpeg(
    symphonia: Result<FileSource>,
    ffmpeg: impl FnOnce() -> std::result::Result<FfmpegSource, Unreadable>,
) -> Result<Box<dyn AudioSource>> {
    let unsupported = match symphonia {
        Ok(source) => return Ok(Box::new(source)),
        Err(e) if e.is::<Unsupported>() => e,
        Err(e) => return Err(e),
    };
    match ffmpeg() {
        Ok(source) => Ok(Box::new(source)),
        Err(Unreadable::NoAudio) => Err(unsupported),
        Err(Unreadable::NoFfmpeg) => Err(anyhow::anyhow!(
            "{unsupported:#}; ffmpeg, which scripts/setup installs, would read more formats"
        )),
    }
}

/// The message of a source that stopped before the end of its input (`stopped_early`).
pub fn truncation(label: &Path, at_s: f64, reason: &str) -> String {
    format!(
        "{}: decoding stopped at {} ({reason}); the transcript covers the audio before that",
        label.display(),
        crate::timefmt::hms(at_s)
    )
}

/// A block of mono samples in -1..1 at the source's native rate.
pub type PcmBlock = Vec<f32>;

pub trait AudioSource: Send {
    /// Native sample rate of the blocks this source yields.
    fn sample_rate(&self) -> u32;
    /// Duration in seconds when the container says (for the progress bar), else None.
    fn duration_hint(&self) -> Option<f64>;
    /// Next block of mono samples; `Ok(None)` at the end of the stream.
    fn next_block(&mut self) -> Result<Option<PcmBlock>>;
    /// After the end of the stream: why it ended before the end of the input, if it did.
    fn stopped_early(&self) -> Option<String> {
        None
    }
}

/// Average all channels of an interleaved buffer into mono, appending to `out`.
/// Averaging (not summing) keeps full-scale stereo inside -1..1.
pub fn downmix_interleaved(interleaved: &[f32], channels: usize, out: &mut Vec<f32>) {
    if channels <= 1 {
        out.extend_from_slice(interleaved);
        return;
    }
    let scale = 1.0 / channels as f32;
    out.extend(
        interleaved
            .chunks_exact(channels)
            .map(|frame| frame.iter().sum::<f32>() * scale),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downmix_averages_channels() {
        let mut out = Vec::new();
        downmix_interleaved(&[1.0, 0.0, 0.5, 0.5, -1.0, -1.0], 2, &mut out);
        assert_eq!(out, vec![0.5, 0.5, -1.0]);
    }

    #[test]
    fn downmix_mono_is_copy() {
        let mut out = vec![9.0];
        downmix_interleaved(&[0.1, 0.2], 1, &mut out);
        assert_eq!(out, vec![9.0, 0.1, 0.2]);
    }
}
