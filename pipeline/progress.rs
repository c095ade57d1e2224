//! The progress bar: audio time done, ETA and real-time factor. indicatif hides it by
//! itself when stderr is not a terminal, so pipes and CI stay quiet.

use std::time::{Duration, Instant};

use std::io::IsTerminal;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{MultiProgress, ProgressBar, ProgressState, ProgressStyle};

use crate::inputs::Input;

use crate::timefmt::hms;

pub struct Progress {
    bar: ProgressBar,
    started: Instant,
}

impl Progress {
    /// `total_s`: audio length when the container says; a spinner otherwise.
    pub fn new(label: &str, total_s: Option<f64>, enabled: bool) -> Self {
        Self::under(None, label, total_s, enabled)
    }

    fn under(
        multi: Option<&MultiProgress>,
        label: &str,
        total_s: Option<f64>,
        enabled: bool,
    ) -> Self {
        let bar = if !enabled {
            ProgressBar::hidden()
        } else if let Some(total) = total_s {
            ProgressBar::new((total * 1000.0) as u64)
        } else {
            ProgressBar::new_spinner()
        };
        let audio_time = |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{}", hms(state.pos() as f64 / 1000.0));
        };
        let audio_len = |state: &ProgressState, w: &mut dyn std::fmt::Write| {
            let _ = write!(w, "{}", hms(state.len().unwrap_or(0) as f64 / 1000.0));
        };
        let template = if total_s.is_some() {
            "{prefix} [{bar:30}] {audio}/{audio_len} ETA {eta} {msg}"
        } else {
            "{prefix} {spinner} {audio} {msg}"
        };
        bar.set_style(
            ProgressStyle::with_template(template)
                .expect("static template is valid")
                .with_key("audio", audio_time)
                .with_key("audio_len", audio_len)
                .progress_chars("=> "),
        );
        bar.set_prefix(label.to_string());
        let bar = match multi {
            Some(m) if enabled => m.add(bar),
            _ => bar,
        };
        bar.enable_steady_tick(Duration::from_millis(250));
        Self {
            bar,
            started: Instant::now(),
        }
    }

    /// Audio transcribed up to `done_s`.
    pub fn set_done(&self, done_s: f64) {
        self.bar.set_position((done_s * 1000.0) as u64);
        let elapsed = self.started.elapsed().as_secs_f64();
        if done_s > 0.0 {
            self.bar
                .set_message(format!("{:.2}x real time", elapsed / done_s));
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Several inputs: a bar over the whole archive (files done of all, audio hours, ETA)
/// above each file's own bar. Only on a terminal, and only for more than one input.
pub struct ArchiveProgress {
    /// None when nothing is shown (the per-file bars then hide too).
    multi: Option<MultiProgress>,
    overall: ProgressBar,
    total_s: f64,
    started: Instant,
    /// Milliseconds of audio in the files finished so far.
    audio_done_ms: AtomicU64,
}

impl ArchiveProgress {
    pub fn new(inputs: &[Input], enabled: bool) -> Self {
        let archive = enabled && inputs.len() > 1 && std::io::stderr().is_terminal();
        let mut total_s = 0.0;
        let (multi, overall) = if archive {
            // The archive's length in audio, from each container's header (cheap to read).
            total_s = inputs
                .iter()
                .filter_map(|i| crate::source::open_file(&i.path).ok()?.duration_hint())
                .sum();
            let multi = MultiProgress::new();
            let overall = multi.add(ProgressBar::new(inputs.len() as u64));
            overall.set_style(
                ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} files, {msg}")
                    .expect("static template is valid")
                    .progress_chars("=> "),
            );
            overall.set_prefix("archive");
            (Some(multi), overall)
        } else {
            (enabled.then(MultiProgress::new), ProgressBar::hidden())
        };
        let progress = Self {
            multi,
            overall,
            total_s,
            started: Instant::now(),
            audio_done_ms: AtomicU64::new(0),
        };
        progress.update_message();
        progress
    }

    /// The bar of the next file.
    pub fn file(&self, label: &str, total_s: Option<f64>) -> Progress {
        Progress::under(self.multi.as_ref(), label, total_s, self.multi.is_some())
    }

    /// A file is finished (with its audio length), skipped or failed (None).
    pub fn file_finished(&self, audio_s: Option<f64>) {
        if let Some(s) = audio_s {
            self.audio_done_ms
                .fetch_add((s * 1000.0) as u64, Ordering::Relaxed);
        }
        self.overall.inc(1);
        self.update_message();
    }

    /// Audio hours done of all, and an ETA from audio (an archive mixes five-minute and
    /// two-hour files, so files done would mislead).
    fn update_message(&self) {
        let done_s = self.audio_done_ms.load(Ordering::Relaxed) as f64 / 1000.0;
        let mut msg = format!(
            "{:.1} of {:.1} h of audio",
            done_s / 3600.0,
            self.total_s / 3600.0
        );
        if done_s > 0.0 && self.total_s > done_s {
            let eta = self.started.elapsed().as_secs_f64() / done_s * (self.total_s - done_s);
            msg.push_str(&format!(", ETA {}", hms(eta)));
        }
        self.overall.set_message(msg);
    }

    pub fn finish(&self) {
        self.overall.finish_and_clear();
    }
}
