//! A finished run as its `.json` keeps it: the transcript (words, segments, speaker turns,
//! names), where its recording is, which outputs it has, and the edit history `review`
//! keeps. Every output is a function of this document, which is what lets `rebuild` and
//! `review` regenerate them without re-transcribing.

use std::path::{Path, PathBuf};

use crate::audio_copy::{link_url, report_audio_for};
use crate::edit::history::History;
use crate::provenance::Provenance;
use crate::report::{Format, ReportAudio};
use crate::transcript::Transcript;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunDocument {
    pub transcript: Transcript,
    /// The recording the run transcribed (absolute when known), for `review`'s player and
    /// the report's audio link.
    pub audio: Option<PathBuf>,
    /// The output formats the run wrote; `rebuild` and `review` regenerate these.
    pub outputs: Vec<Format>,
    /// The HTML report carries a compact copy of the audio (`--embed-audio`).
    pub embed_audio: bool,
    /// What made the run (input, models, options), for skipping done work.
    pub made_by: Option<Provenance>,
    /// The run was interrupted or its input ended early: the outputs cover part of it.
    pub partial: bool,
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
            embed_audio: false,
            made_by: None,
            partial: false,
            revision: 0,
            history: History::default(),
        }
    }

    /// How the HTML report written into `out_dir` reaches the recording (at `audio`, or
    /// where the run found it): linked relatively, or embedded when the run asked. A
    /// recording that cannot be embedded any more is linked instead, with a note.
    pub fn report_audio(&self, out_dir: &Path, audio: Option<&Path>) -> ReportAudio {
        let Some(audio) = audio.or(self.audio.as_deref()) else {
            return ReportAudio::None;
        };
        let embed = self.embed_audio && self.outputs.contains(&Format::Html);
        report_audio_for(audio, out_dir, embed).unwrap_or_else(|e| {
            eprintln!("note: the report links the recording instead of embedding it: {e:#}");
            ReportAudio::Linked(link_url(audio, out_dir))
        })
    }
}
