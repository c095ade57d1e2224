//! The types every stage after transcription shares: words, segments, speaker turns and
//! the finished transcript. Times are seconds from the start of the recording (f64), so
//! writers, alignment and statistics never convert units.

use serde::{Deserialize, Serialize};

/// Index of a speaker cluster; its display name lives in [`Transcript::speakers`].
pub type SpeakerId = usize;

/// One recognised word with its own time span (from whisper token timestamps or DTW).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Word {
    /// The word as whisper wrote it, leading space trimmed.
    pub word: String,
    pub start: f64,
    pub end: f64,
    /// Mean token probability of the word, 0..1.
    pub probability: f32,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub speaker: Option<SpeakerId>,
}

/// A run of text as whisper segmented it (or as the aligner split it at a turn change).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Segment {
    pub start: f64,
    pub end: f64,
    pub text: String,
    pub words: Vec<Word>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub speaker: Option<SpeakerId>,
    /// The language the segment was transcribed in. Whisper sets it; once chunks are
    /// assembled it is kept only where it is not the transcript's (a recording that changes
    /// language: see `transcribe::assemble`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub language: Option<String>,
    /// Whisper's quality scores, kept so later stages can drop hallucinations.
    #[serde(skip)]
    pub avg_logprob: f32,
    #[serde(skip)]
    pub no_speech_prob: f32,
}

impl Segment {
    /// A line's text from its words, as the aligner writes a segment it splits.
    pub fn text_of(words: &[Word]) -> String {
        words
            .iter()
            .map(|w| w.word.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// A stretch of time in which one speaker talks (diarization output, RTTM line).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SpeakerTurn {
    pub start: f64,
    pub end: f64,
    pub speaker: SpeakerId,
}

/// Everything known about one recording once the pipeline has run.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Transcript {
    /// Language code whisper used or detected ("en", "de", ...).
    pub language: String,
    /// Length of the decoded audio in seconds.
    pub duration: f64,
    pub segments: Vec<Segment>,
    /// Display names indexed by [`SpeakerId`]; empty when diarization did not run.
    pub speakers: Vec<String>,
    /// Speaker turns, sorted by start; may overlap when two people talk at once.
    pub turns: Vec<SpeakerTurn>,
    /// Where the stream's audio is missing (segments that never arrived); times above are
    /// on the stream's clock, so they run on across these.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gaps: Vec<crate::gaps::Gap>,
}

impl Transcript {
    /// Display name of a speaker, `SPEAKER_00` style when no name was given.
    pub fn speaker_name(&self, id: SpeakerId) -> String {
        self.speakers
            .get(id)
            .cloned()
            .unwrap_or_else(|| default_speaker_label(id))
    }
}

/// Seconds rounded to the millisecond, as the JSON keeps them; `+ 0.0` turns -0.0 into 0.0.
pub fn round_ms(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0 + 0.0
}

impl Transcript {
    /// Put every time on the millisecond grid the JSON keeps, inside `[0, duration]`, with
    /// `start <= end`, and probabilities at three decimals: what a run writes is then
    /// exactly what its JSON reads back as.
    pub fn canonicalize(&mut self) {
        self.duration = round_ms(self.duration.max(0.0));
        let d = self.duration;
        let span = |start: &mut f64, end: &mut f64| {
            *start = round_ms(start.clamp(0.0, d));
            *end = round_ms(end.clamp(*start, d));
        };
        for seg in &mut self.segments {
            span(&mut seg.start, &mut seg.end);
            // Whisper's scores served the transcription stage; the JSON does not keep them.
            seg.avg_logprob = 0.0;
            seg.no_speech_prob = 0.0;
            for w in &mut seg.words {
                span(&mut w.start, &mut w.end);
                w.probability = ((w.probability as f64 * 1000.0).round() / 1000.0) as f32;
                // A segment holds its words (the JSON reader insists on it).
                seg.start = seg.start.min(w.start);
                seg.end = seg.end.max(w.end);
            }
        }
        for t in &mut self.turns {
            span(&mut t.start, &mut t.end);
        }
        self.turns.retain(|t| t.end > t.start);
        for g in &mut self.gaps {
            span(&mut g.start, &mut g.end);
        }
    }
}

/// `SPEAKER_00`, `SPEAKER_01`, ... as pyannote and WhisperX name clusters.
pub fn default_speaker_label(id: SpeakerId) -> String {
    format!("SPEAKER_{id:02}")
}
