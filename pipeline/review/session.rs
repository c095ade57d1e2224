//! One run under review: the document in memory, its JSON on disk, and what an edit does
//! to both. Plain, blocking code (the HTTP layer in `server.rs` calls it from worker
//! threads), so it is tested without a server.
//!
//! Every accepted edit is saved at once: the JSON (with its history) and every other
//! output are regenerated through the writers `transcribe` uses and renamed into place
//! as a set. An edit names the revision it was made against; a page that has not seen
//! the latest revision (another tab, another program) is refused, never applied over it.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

use serde::Deserialize;
use serde_json::{json, Value};

use crate::commands::rebuild::{formats_for, load_run, run_stem};
use crate::document::RunDocument;
use crate::edit::ops::Edit;
use crate::report::html::{colour, summary_html, REPORT_CSS};
use crate::report::{write_outputs, Format, ReportAudio};
use crate::stats::compute_stats;

/// What went wrong with a request, as an HTTP status and a message for the page.
#[derive(Debug, PartialEq)]
pub struct ApiError {
    pub status: u16,
    pub message: String,
}

impl ApiError {
    pub fn new(status: u16, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

/// What the page may ask to change.
pub enum Change {
    Edit,
    Undo,
    Redo,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeRequest {
    revision: u64,
    #[serde(default)]
    edit: Option<Edit>,
}

/// The JSON file as last read or written: a different one on disk was changed by
/// someone else.
#[derive(Clone, Copy, PartialEq, Debug)]
struct Stamp {
    len: u64,
    modified: Option<SystemTime>,
}

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    Some(Stamp {
        len: m.len(),
        modified: m.modified().ok(),
    })
}

struct State {
    doc: RunDocument,
    seen: Option<Stamp>,
}

pub struct Session {
    json_path: PathBuf,
    out_dir: PathBuf,
    stem: String,
    /// The recording, when it exists; else why the page has no player.
    pub audio: Result<PathBuf, String>,
    report_audio: ReportAudio,
    state: Mutex<State>,
}

impl Session {
    /// Open a run's JSON; `audio` overrides where the run says its recording is.
    pub fn open(json_path: &Path, audio: Option<&Path>) -> anyhow::Result<Self> {
        let doc = load_run(json_path)?;
        let audio = match audio.map(Path::to_path_buf).or_else(|| doc.audio.clone()) {
            Some(p) if p.is_file() => Ok(std::path::absolute(&p).unwrap_or(p)),
            Some(p) => Err(format!(
                "The recording is not at {} any more: restart with --audio PATH to hear it.",
                p.display()
            )),
            None => Err(
                "This run does not say where its recording is: restart with --audio PATH to hear it."
                    .to_string(),
            ),
        };
        let out_dir = crate::commands::rebuild::folder_of(json_path);
        Ok(Self {
            json_path: json_path.to_path_buf(),
            report_audio: doc.report_audio(&out_dir, audio.as_ref().ok().map(PathBuf::as_path)),
            stem: run_stem(json_path),
            out_dir,
            audio,
            state: Mutex::new(State {
                doc,
                seen: stamp(json_path),
            }),
        })
    }

    pub fn title(&self) -> &str {
        &self.stem
    }

    /// The run as the page shows it.
    pub fn view(&self) -> Result<Value, ApiError> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.refresh(&mut state)?;
        Ok(self.view_of(&state.doc))
    }

    /// Apply an edit, an undo or a redo sent as `{"revision": N, "edit": {...}}`, save
    /// everything, and return the new view.
    pub fn change(&self, change: Change, body: &[u8]) -> Result<Value, ApiError> {
        let request: ChangeRequest = serde_json::from_slice(body)
            .map_err(|e| ApiError::new(400, format!("malformed request: {e}")))?;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.refresh(&mut state)?;
        if request.revision != state.doc.revision {
            return Err(ApiError::new(
                409,
                format!(
                    "This run was changed elsewhere (another tab or program) since this page loaded: it is at revision {}, the page at {}. Reload to see the changes; your last edit was not applied.",
                    state.doc.revision, request.revision
                ),
            ));
        }
        let mut doc = state.doc.clone();
        let applied = match (change, &request.edit) {
            (Change::Edit, Some(edit)) => doc.edit(edit),
            (Change::Edit, None) => Err("the request names no edit".to_string()),
            (Change::Undo, _) => doc.undo(),
            (Change::Redo, _) => doc.redo(),
        };
        applied.map_err(|e| ApiError::new(422, e))?;
        self.save(&doc)
            .map_err(|e| ApiError::new(500, format!("not saved: {e:#}")))?;
        state.seen = stamp(&self.json_path);
        state.doc = doc;
        Ok(self.view_of(&state.doc))
    }

    /// The JSON and every output the run has, as one set.
    fn save(&self, doc: &RunDocument) -> anyhow::Result<()> {
        let mut formats = formats_for(doc, doc.outputs.clone());
        if !formats.contains(&Format::Json) {
            formats.push(Format::Json);
        }
        write_outputs(&self.out_dir, &self.stem, doc, &formats, &self.report_audio)?;
        Ok(())
    }

    /// Pick up a JSON someone else changed since we last read or wrote it.
    fn refresh(&self, state: &mut State) -> Result<(), ApiError> {
        let now = stamp(&self.json_path);
        if now == state.seen {
            return Ok(());
        }
        state.doc = load_run(&self.json_path).map_err(|e| {
            ApiError::new(
                409,
                format!("The run's JSON was changed on disk and cannot be read: {e:#}"),
            )
        })?;
        state.seen = now;
        Ok(())
    }

    fn view_of(&self, doc: &RunDocument) -> Value {
        let t = &doc.transcript;
        let stats = compute_stats(t);
        let speakers: Vec<Value> = (0..t.speakers.len())
            .map(|i| json!({"name": t.speaker_name(i), "colour": colour(i)}))
            .collect();
        let segments: Vec<Value> = t
            .segments
            .iter()
            .map(|s| {
                json!({
                    "start": s.start,
                    "end": s.end,
                    "speaker": s.speaker,
                    "text": s.text,
                    // Only where it is not the run's (see `Segment::language`).
                    "language": s.language,
                    "words": s.words.iter().map(|w| json!({
                        "word": w.word, "start": w.start, "end": w.end
                    })).collect::<Vec<_>>(),
                })
            })
            .collect();
        json!({
            "revision": doc.revision,
            "title": self.stem,
            "duration": t.duration,
            "audio": {
                "url": "/audio",
                "fallback_url": "/audio/compact",
                "note": self.audio.as_ref().err(),
            },
            "speakers": speakers,
            "segments": segments,
            "summary_html": summary_html(t, &stats, &self.stem),
            "report_css": REPORT_CSS,
            "undo": doc.history.undo_label(),
            "redo": doc.history.redo_label(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::transcript_with_turns;

    fn run_in(dir: &Path) -> PathBuf {
        let doc = RunDocument::new(
            transcript_with_turns(),
            None,
            vec![Format::Json, Format::Txt],
        );
        write_outputs(dir, "talk", &doc, &doc.outputs, &ReportAudio::None).unwrap();
        dir.join("talk.json")
    }

    fn body(revision: u64, edit: Value) -> Vec<u8> {
        json!({"revision": revision, "edit": edit})
            .to_string()
            .into_bytes()
    }

    #[test]
    fn an_edit_is_saved_with_every_output_and_undone() {
        let dir = tempfile::tempdir().unwrap();
        let json_path = run_in(dir.path());
        let s = Session::open(&json_path, None).unwrap();
        let rename = json!({"op": "rename", "speaker": "Ana", "name": "Dana"});
        let v = s.change(Change::Edit, &body(0, rename)).unwrap();
        assert_eq!(v["revision"], 1);
        assert_eq!(v["undo"], "rename Ana to Dana");
        let txt = std::fs::read_to_string(dir.path().join("talk.txt")).unwrap();
        assert!(txt.contains("Dana: Bye"), "{txt}");
        // A fresh session (a reload, or after a crash) sees the edit and can undo it.
        let s = Session::open(&json_path, None).unwrap();
        let v = s.change(Change::Undo, &body(1, Value::Null)).unwrap();
        assert_eq!(v["speakers"][1]["name"], "Ana");
        assert_eq!(v["redo"], "rename Ana to Dana");
        let txt = std::fs::read_to_string(dir.path().join("talk.txt")).unwrap();
        assert!(txt.contains("Ana: Bye"), "{txt}");
    }

    #[test]
    fn the_page_is_told_a_segment_in_another_language() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = transcript_with_turns();
        t.segments[1].language = Some("de".into());
        let doc = RunDocument::new(t, None, vec![Format::Json]);
        write_outputs(dir.path(), "talk", &doc, &doc.outputs, &ReportAudio::None).unwrap();
        let v = Session::open(&dir.path().join("talk.json"), None)
            .unwrap()
            .view()
            .unwrap();
        assert_eq!(v["segments"][0]["language"], Value::Null);
        assert_eq!(v["segments"][1]["language"], "de");
    }

    #[test]
    fn a_stale_or_bad_edit_changes_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let json_path = run_in(dir.path());
        let s = Session::open(&json_path, None).unwrap();
        let other_tab = Session::open(&json_path, None).unwrap();
        let rename = json!({"op": "rename", "speaker": "Ana", "name": "Dana"});
        s.change(Change::Edit, &body(0, rename.clone())).unwrap();
        let saved = std::fs::read(&json_path).unwrap();
        let e = other_tab
            .change(
                Change::Edit,
                &body(0, json!({"op": "split", "segment": 0, "word": 1})),
            )
            .unwrap_err();
        assert_eq!(e.status, 409, "{}", e.message);
        let e = s
            .change(
                Change::Edit,
                &body(1, json!({"op": "split", "segment": 7, "word": 1})),
            )
            .unwrap_err();
        assert_eq!(
            (e.status, e.message.as_str()),
            (422, "there is no segment 7 (the run has 2)")
        );
        let e = s
            .change(
                Change::Edit,
                b"{\"revision\": 1, \"edit\": {\"op\": \"explode\"}}",
            )
            .unwrap_err();
        assert_eq!(e.status, 400, "{}", e.message);
        let e = s.change(Change::Redo, &body(1, Value::Null)).unwrap_err();
        assert_eq!((e.status, e.message.as_str()), (422, "nothing to redo"));
        assert_eq!(std::fs::read(&json_path).unwrap(), saved);
    }
}
