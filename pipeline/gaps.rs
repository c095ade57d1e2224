//! Audio that never arrived (HLS segments gone for good). The pipeline and the recording
//! hold only the audio received; the outputs keep the stream's clock: every time after a
//! gap moves on by the gap's length, and the gaps themselves are listed so readers see
//! where audio is missing.

use serde::{Deserialize, Serialize};

use crate::transcript::Transcript;

/// A stretch of the stream, in stream-clock seconds, whose audio is missing.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Gap {
    pub start: f64,
    pub end: f64,
}

/// Maps the clock of the audio received to the stream's clock.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamClock {
    /// (received seconds at which the gap sits, its length), in order.
    holes: Vec<(f64, f64)>,
}

impl StreamClock {
    /// `seconds` of stream missing after `received` seconds of audio arrived.
    pub fn add_gap(&mut self, received: f64, seconds: f64) {
        if seconds <= 0.0 {
            return;
        }
        match self.holes.last_mut() {
            Some((at, len)) if (*at - received).abs() < 1e-9 => *len += seconds,
            _ => self.holes.push((received, seconds)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.holes.is_empty()
    }

    pub fn missing_seconds(&self) -> f64 {
        self.holes.iter().map(|h| h.1).sum()
    }

    /// Stream time of a received instant that starts something: one right at a gap's
    /// position belongs after the gap.
    pub fn start_time(&self, received: f64) -> f64 {
        received
            + self
                .holes
                .iter()
                .filter(|h| h.0 <= received)
                .map(|h| h.1)
                .sum::<f64>()
    }

    /// Stream time of a received instant that ends something: one right at a gap's
    /// position belongs before it.
    pub fn end_time(&self, received: f64) -> f64 {
        received
            + self
                .holes
                .iter()
                .filter(|h| h.0 < received)
                .map(|h| h.1)
                .sum::<f64>()
    }

    /// The gaps on the stream clock.
    pub fn gaps(&self) -> Vec<Gap> {
        let mut before = 0.0;
        self.holes
            .iter()
            .map(|&(at, len)| {
                let start = at + before;
                before += len;
                Gap {
                    start,
                    end: start + len,
                }
            })
            .collect()
    }

    /// Move a transcript made from the received audio onto the stream clock.
    pub fn apply(&self, t: &mut Transcript) {
        if self.is_empty() {
            return;
        }
        for seg in &mut t.segments {
            seg.start = self.start_time(seg.start);
            seg.end = self.end_time(seg.end);
            for w in &mut seg.words {
                w.start = self.start_time(w.start);
                w.end = self.end_time(w.end);
            }
        }
        for turn in &mut t.turns {
            turn.start = self.start_time(turn.start);
            turn.end = self.end_time(turn.end);
        }
        t.duration = self.end_time(t.duration) + self.holes_at_end(t.duration);
        t.gaps = self.gaps();
    }

    /// Gaps sitting exactly at the end of the received audio (the stream's last segments).
    fn holes_at_end(&self, received_end: f64) -> f64 {
        self.holes
            .iter()
            .filter(|h| h.0 >= received_end)
            .map(|h| h.1)
            .sum()
    }
}

/// "00:01:04-00:01:08 (4.0 s)" for messages.
pub fn describe(gap: &Gap) -> String {
    format!(
        "{}-{} ({:.1} s)",
        crate::timefmt::hms(gap.start),
        crate::timefmt::hms(gap.end),
        gap.end - gap.start
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::{Segment, SpeakerTurn};

    #[test]
    fn times_after_a_gap_move_by_its_length() {
        let mut c = StreamClock::default();
        c.add_gap(10.0, 4.0);
        c.add_gap(20.0, 2.0);
        c.add_gap(20.0, 2.0); // two segments in a row: one gap
        assert_eq!(c.start_time(5.0), 5.0);
        assert_eq!(c.start_time(10.0), 14.0);
        assert_eq!(c.end_time(10.0), 10.0);
        assert_eq!(c.start_time(25.0), 33.0);
        assert_eq!(
            c.gaps(),
            vec![
                Gap {
                    start: 10.0,
                    end: 14.0
                },
                Gap {
                    start: 24.0,
                    end: 28.0
                }
            ]
        );
        assert_eq!(c.missing_seconds(), 8.0);
    }

    #[test]
    fn a_transcript_keeps_the_stream_clock() {
        let mut c = StreamClock::default();
        c.add_gap(3.0, 2.0);
        c.add_gap(6.0, 1.0); // at the very end
        let mut t = Transcript {
            duration: 6.0,
            segments: vec![Segment {
                start: 3.0,
                end: 4.0,
                text: "x".into(),
                words: vec![],
                speaker: Some(0),
                avg_logprob: 0.0,
                no_speech_prob: 0.0,
                language: None,
            }],
            turns: vec![SpeakerTurn {
                start: 1.0,
                end: 3.0,
                speaker: 0,
            }],
            ..Default::default()
        };
        c.apply(&mut t);
        assert_eq!((t.segments[0].start, t.segments[0].end), (5.0, 6.0));
        assert_eq!((t.turns[0].start, t.turns[0].end), (1.0, 3.0));
        assert_eq!(t.duration, 9.0);
        assert_eq!(t.gaps.len(), 2);
    }
}
