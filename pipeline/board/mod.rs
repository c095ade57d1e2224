//! The running board of a live session: each speaker's share of the talking so far and
//! who holds the floor, from the online speaker labels as utterances come in. Plain
//! state; `live` prints it on the terminal every few seconds and `web.rs` serves it as a
//! page that updates itself.

pub mod web;

use std::collections::VecDeque;

use serde_json::json;

use crate::gaps::Gap;
use crate::timefmt::hms;
use crate::transcript::default_speaker_label;

/// Transcript lines the web page keeps.
const RECENT_LINES: usize = 40;
/// Width of a full share bar on the terminal.
const BAR_WIDTH: usize = 30;

#[derive(Debug, Default)]
pub struct Board {
    /// Seconds of speech per (online) speaker.
    talk: Vec<f64>,
    /// Who spoke last, and since when (stream seconds) they have held the floor.
    floor: Option<(usize, f64)>,
    /// Stream time heard so far.
    heard: f64,
    lines: VecDeque<String>,
    gaps: Vec<Gap>,
}

impl Board {
    /// An utterance: its speaker (None without diarization), speech regions and printed
    /// lines, all on the stream clock.
    pub fn utterance(&mut self, speaker: Option<usize>, speech: &[(f64, f64)], lines: &[String]) {
        let speech_s: f64 = speech.iter().map(|(a, b)| b - a).sum();
        let start = speech.first().map_or(self.heard, |s| s.0);
        let end = speech.last().map_or(self.heard, |s| s.1);
        self.heard = self.heard.max(end);
        if let Some(s) = speaker {
            if self.talk.len() <= s {
                self.talk.resize(s + 1, 0.0);
            }
            self.talk[s] += speech_s;
            match self.floor {
                Some((holder, _)) if holder == s => {}
                _ => self.floor = Some((s, start)),
            }
        }
        for line in lines {
            if self.lines.len() == RECENT_LINES {
                self.lines.pop_front();
            }
            self.lines.push_back(line.clone());
        }
    }

    pub fn set_gaps(&mut self, gaps: Vec<Gap>) {
        self.gaps = gaps;
    }

    /// (speaker, seconds, share 0..1), most talk first.
    pub fn shares(&self) -> Vec<(usize, f64, f64)> {
        let total: f64 = self.talk.iter().sum();
        let mut v: Vec<_> = self
            .talk
            .iter()
            .enumerate()
            .filter(|(_, &t)| t > 0.0)
            .map(|(s, &t)| (s, t, if total > 0.0 { t / total } else { 0.0 }))
            .collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1));
        v
    }

    /// The terminal view: a header line, then one bar per speaker.
    pub fn render_terminal(&self) -> String {
        let mut out = format!("── board at {}", hms(self.heard));
        if let Some((s, since)) = self.floor {
            out += &format!(
                " · floor: {} (for {:.0} s)",
                default_speaker_label(s),
                (self.heard - since).max(0.0)
            );
        }
        if !self.gaps.is_empty() {
            let missing: f64 = self.gaps.iter().map(|g| g.end - g.start).sum();
            out += &format!(" · {missing:.0} s of audio missing");
        }
        out.push('\n');
        for (s, seconds, share) in self.shares() {
            let filled = (share * BAR_WIDTH as f64).round() as usize;
            out += &format!(
                "   {:<11} {:>3.0}%  {}{}  {}\n",
                default_speaker_label(s),
                share * 100.0,
                "█".repeat(filled),
                "·".repeat(BAR_WIDTH - filled.min(BAR_WIDTH)),
                hms(seconds)
            );
        }
        out
    }

    /// What the web page shows.
    pub fn snapshot(&self) -> serde_json::Value {
        json!({
            "heard": self.heard,
            "floor": self.floor.map(|(s, since)| json!({
                "speaker": default_speaker_label(s),
                "seconds": (self.heard - since).max(0.0),
            })),
            "speakers": self.shares().iter().map(|&(s, seconds, share)| json!({
                "speaker": default_speaker_label(s),
                "seconds": seconds,
                "share": share,
            })).collect::<Vec<_>>(),
            "gaps": self.gaps,
            "lines": self.lines,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_and_floor() {
        let mut b = Board::default();
        b.utterance(
            Some(0),
            &[(0.0, 6.0)],
            &["[00:00:00] SPEAKER_00: hi".into()],
        );
        b.utterance(Some(1), &[(6.5, 8.5)], &[]);
        b.utterance(Some(1), &[(9.0, 11.0)], &[]);
        let s = b.shares();
        assert_eq!(s[0].0, 0);
        assert!((s[0].2 - 0.6).abs() < 1e-9 && (s[1].2 - 0.4).abs() < 1e-9);
        let view = b.render_terminal();
        assert!(
            view.starts_with("── board at 00:00:11 · floor: SPEAKER_01 (for 4 s)\n"),
            "{view}"
        );
        assert!(view.contains("SPEAKER_00   60%"), "{view}");
        let snap = b.snapshot();
        assert_eq!(snap["floor"]["speaker"], "SPEAKER_01");
        assert_eq!(snap["lines"].as_array().unwrap().len(), 1);
    }
}
