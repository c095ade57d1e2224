//! Where a run's time goes, stage by stage (`SPACESCRIBE_PROFILE=1`; scripts/profile-stages).
//!
//! Each stage adds the wall time its own thread spent in it, so with several workers the
//! stage times sum to more than the run's wall time: they are thread-seconds, the cost
//! of each stage on the machine. Off by default; when off, a timer is one relaxed load.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Once;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Container demuxing, codec decoding and resampling to 16 kHz (the reader thread).
    ReadAudio,
    /// Silero VAD and cutting the stream into chunks (the reader thread).
    VadAndChunking,
    /// A fresh whisper state per chunk (allocating its buffers).
    WhisperState,
    /// Log-mel spectrogram and whisper's encoder, up to the first decoded token.
    WhisperEncoder,
    /// Whisper's decoder: every token after the first, timestamps, fallbacks.
    WhisperDecoder,
    /// CAM++ features and embeddings of the speaker windows.
    SpeakerEmbeddings,
    /// The segmentation model over each chunk and the local speakers' embeddings.
    SpeakerSegmentation,
    /// Clustering, labelling words and turns (after the workers finish).
    Clustering,
    /// Writing every output format.
    Outputs,
}

const STAGES: [(Stage, &str); 9] = [
    (Stage::ReadAudio, "read, decode, resample"),
    (Stage::VadAndChunking, "VAD and chunking"),
    (Stage::WhisperState, "whisper state per chunk"),
    (Stage::WhisperEncoder, "whisper encoder (mel + encode)"),
    (Stage::WhisperDecoder, "whisper decoder"),
    (Stage::SpeakerEmbeddings, "speaker embeddings (CAM++)"),
    (Stage::SpeakerSegmentation, "speaker segmentation"),
    (Stage::Clustering, "clustering and labels"),
    (Stage::Outputs, "writing outputs"),
];

static ENABLED: AtomicBool = AtomicBool::new(false);
static INIT: Once = Once::new();
static NANOS: [AtomicU64; 9] = [const { AtomicU64::new(0) }; 9];
static CALLS: [AtomicU64; 9] = [const { AtomicU64::new(0) }; 9];

fn index(stage: Stage) -> usize {
    STAGES.iter().position(|(s, _)| *s == stage).unwrap_or(0)
}

/// Whether stages are being timed (read once from `SPACESCRIBE_PROFILE`).
pub fn enabled() -> bool {
    INIT.call_once(|| {
        let on = std::env::var_os("SPACESCRIBE_PROFILE").is_some_and(|v| !v.is_empty());
        ENABLED.store(on, Ordering::Relaxed);
    });
    ENABLED.load(Ordering::Relaxed)
}

/// Add `spent` to `stage` (one call).
pub fn add(stage: Stage, spent: Duration) {
    if enabled() {
        NANOS[index(stage)].fetch_add(spent.as_nanos() as u64, Ordering::Relaxed);
        CALLS[index(stage)].fetch_add(1, Ordering::Relaxed);
    }
}

/// Time `f` as one call of `stage`.
pub fn time<T>(stage: Stage, f: impl FnOnce() -> T) -> T {
    if !enabled() {
        return f();
    }
    let t0 = Instant::now();
    let out = f();
    add(stage, t0.elapsed());
    out
}

/// Adds the time from `start` to its drop to a stage (for spans with early returns).
pub struct Timer {
    stage: Stage,
    started: Instant,
}

impl Timer {
    pub fn start(stage: Stage) -> Self {
        Self {
            stage,
            started: Instant::now(),
        }
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        add(self.stage, self.started.elapsed());
    }
}

/// The table printed at the end of a profiled run: per stage thread-seconds, calls and
/// share of the total, against the run's wall time.
pub fn report(wall: Duration) -> String {
    let spent: Vec<(f64, u64)> = (0..STAGES.len())
        .map(|i| {
            (
                NANOS[i].load(Ordering::Relaxed) as f64 / 1e9,
                CALLS[i].load(Ordering::Relaxed),
            )
        })
        .collect();
    format_report(&spent, wall.as_secs_f64())
}

fn format_report(spent: &[(f64, u64)], wall: f64) -> String {
    let total: f64 = spent.iter().map(|s| s.0).sum();
    let mut out = String::from("| stage | thread-s | calls | share |\n|---|---|---|---|\n");
    for ((_, name), &(seconds, calls)) in STAGES.iter().zip(spent) {
        let share = if total > 0.0 { seconds / total } else { 0.0 };
        out += &format!(
            "| {name} | {seconds:.2} | {calls} | {:.1}% |\n",
            100.0 * share
        );
    }
    out += &format!("| all stages | {total:.2} | | 100% |\n");
    out += &format!("wall time {wall:.2} s\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_lists_every_stage_with_its_share_of_the_total() {
        let mut spent = vec![(0.0, 0); STAGES.len()];
        spent[index(Stage::WhisperEncoder)] = (3.0, 10);
        spent[index(Stage::WhisperDecoder)] = (1.0, 10);
        let text = format_report(&spent, 2.5);
        assert!(text.contains("| whisper encoder (mel + encode) | 3.00 | 10 | 75.0% |"));
        assert!(text.contains("| whisper decoder | 1.00 | 10 | 25.0% |"));
        assert!(text.contains("| writing outputs | 0.00 | 0 | 0.0% |"));
        assert!(text.contains("| all stages | 4.00 |"));
        assert!(text.ends_with("wall time 2.50 s\n"));
        assert_eq!(text.lines().count(), 2 + STAGES.len() + 2);
    }
}
