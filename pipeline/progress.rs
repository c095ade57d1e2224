//! The progress bar: audio time done, ETA and real-time factor. indicatif hides it by
//! itself when stderr is not a terminal, so pipes and CI stay quiet.

use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressState, ProgressStyle};

use crate::timefmt::hms;

pub struct Progress {
    bar: ProgressBar,
    started: Instant,
}

impl Progress {
    /// `total_s`: audio length when the container says; a spinner otherwise.
    pub fn new(label: &str, total_s: Option<f64>, enabled: bool) -> Self {
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
