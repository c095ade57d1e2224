//! A finished run as its `.json` keeps it: the transcript (words, segments, speaker turns,
//! names), where its recording is, which outputs it has, and the edit history `review`
//! keeps. Every output is a function of this document, which is what lets `rebuild` and
//! `review` regenerate them without re-transcribing.

use std::path::PathBuf;

use crate::edit::history::History;
use crate::report::Format;
use crate::transcript::Transcript;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunDocument {
    pub transcript: Transcript,
    /// The recording the run transcribed (absolute when known), for `review`'s player and
    /// the report's audio link.
    pub audio: Option<PathBuf>,
    /// The output formats the run wrote; `rebuild` and `review` regenerate these.
    pub outputs: Vec<Format>,
    /// Saved edits so far; `review` refuses an edit made against an older revision.
    pub revision: u64,
    pub history: History,
}

impl RunDocument {
    /// A fresh run's document. Times are rounded to the millisecond the JSON keeps (and
    /// clamped to the audio) before any writer sees them, so every output of a run is
    /// exactly what `rebuild` regenerates from its JSON.
    pub fn new(mut transcript: Transcript, audio: Option<PathBuf>, outputs: Vec<Format>) -> Self {
        transcript.canonicalize();
        let audio = audio.map(|p| std::path::absolute(&p).unwrap_or(p));
        Self {
            transcript,
            audio,
            outputs,
            revision: 0,
            history: History::default(),
        }
    }
}
