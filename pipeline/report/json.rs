//! The run's JSON, both ways. Writing: WhisperX's shape (`{language, segments: [{start,
//! end, text, speaker?, words: [{word, start, end, probability, speaker?}]}]}` with speaker
//! names) plus what regenerating every output needs - the audio's path, the speaker turns
//! the statistics are computed from, the outputs written, the revision and edit history
//! `review` keeps. Reading: the same document back, checked, so that `rebuild` and
//! `review` never write outputs from a document that contradicts itself; every error says
//! where (`segments[3].words[2]: ...`).

use std::collections::HashMap;
use std::io::{self, Write};
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::document::RunDocument;
use crate::edit::history::History;
use crate::provenance::Provenance;
use crate::report::Format;
use crate::transcript::{Segment, SpeakerTurn, Transcript, Word};

#[derive(Serialize, Deserialize)]
struct JsonWord {
    word: String,
    start: f64,
    end: f64,
    #[serde(default = "one")]
    probability: f64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    speaker: Option<String>,
}

fn one() -> f64 {
    1.0
}

#[derive(Serialize, Deserialize)]
struct JsonSegment {
    start: f64,
    end: f64,
    text: String,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    speaker: Option<String>,
    /// Only where it is not the run's `language` (see `Segment::language`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    language: Option<String>,
    #[serde(default)]
    words: Vec<JsonWord>,
}

#[derive(Serialize, Deserialize)]
struct JsonTurn {
    start: f64,
    end: f64,
    speaker: String,
}

#[derive(Serialize, Deserialize)]
struct JsonRun {
    language: String,
    duration: f64,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    audio: Option<PathBuf>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    speakers: Vec<String>,
    segments: Vec<JsonSegment>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    turns: Vec<JsonTurn>,
    /// Where the stream's audio is missing (URL inputs whose segments never arrived).
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    gaps: Vec<crate::gaps::Gap>,
    #[serde(skip_serializing_if = "Vec::is_empty", default)]
    outputs: Vec<String>,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    embed_audio: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not", default)]
    partial: bool,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    made_by: Option<Provenance>,
    #[serde(skip_serializing_if = "is_zero", default)]
    revision: u64,
    #[serde(skip_serializing_if = "History::is_empty", default)]
    history: History,
}

fn is_zero(x: &u64) -> bool {
    *x == 0
}

fn ms(x: f64) -> f64 {
    crate::transcript::round_ms(x)
}

pub fn write_json(w: &mut dyn Write, doc: &RunDocument) -> io::Result<()> {
    let t = &doc.transcript;
    let name = |id: Option<usize>| id.map(|i| t.speaker_name(i));
    let json = JsonRun {
        language: t.language.clone(),
        duration: ms(t.duration),
        audio: doc.audio.clone(),
        gaps: t
            .gaps
            .iter()
            .map(|g| crate::gaps::Gap {
                start: ms(g.start),
                end: ms(g.end),
            })
            .collect(),
        speakers: (0..t.speakers.len()).map(|i| t.speaker_name(i)).collect(),
        segments: t
            .segments
            .iter()
            .map(|s| JsonSegment {
                start: ms(s.start),
                end: ms(s.end),
                text: s.text.clone(),
                speaker: name(s.speaker),
                language: s.language.clone(),
                words: s
                    .words
                    .iter()
                    .map(|x| JsonWord {
                        word: x.word.clone(),
                        start: ms(x.start),
                        end: ms(x.end),
                        probability: (x.probability as f64 * 1000.0).round() / 1000.0,
                        speaker: name(x.speaker),
                    })
                    .collect(),
            })
            .collect(),
        turns: t
            .turns
            .iter()
            .map(|x| JsonTurn {
                start: ms(x.start),
                end: ms(x.end),
                speaker: t.speaker_name(x.speaker),
            })
            .collect(),
        outputs: doc
            .outputs
            .iter()
            .map(|f| f.extension().to_string())
            .collect(),
        embed_audio: doc.embed_audio,
        partial: doc.partial,
        made_by: doc.made_by.clone(),
        revision: doc.revision,
        history: doc.history.clone(),
    };
    serde_json::to_writer_pretty(&mut *w, &json)?;
    writeln!(w)
}

/// Times may sit this far outside their container (a word outside its segment, anything
/// past the end of the audio): less than one millisecond step of rounding.
const SLACK_S: f64 = 0.0005;

/// Parse and check a run's JSON. The error names the place: `line 4 column 7: ...` for
/// syntax, `segments[3].words[2]: ...` for contents.
pub fn read_json(text: &str) -> Result<RunDocument, String> {
    let run: JsonRun = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let duration = run.duration;
    if !(duration.is_finite() && duration >= 0.0) {
        return Err(format!("duration: {duration} is not a length in seconds"));
    }
    let mut speakers: Vec<String> = Vec::new();
    let mut ids: HashMap<String, usize> = HashMap::new();
    for (i, name) in run.speakers.iter().enumerate() {
        if name.trim().is_empty() {
            return Err(format!("speakers[{i}]: empty name"));
        }
        if ids.insert(name.clone(), i).is_some() {
            return Err(format!("speakers[{i}]: \"{name}\" is listed twice"));
        }
        speakers.push(name.clone());
    }
    // A speaker named only in a segment (a person gave a line to someone new) joins the list.
    let mut speaker_id = |name: &str, at: &str| -> Result<usize, String> {
        if name.trim().is_empty() {
            return Err(format!("{at}: empty speaker name"));
        }
        Ok(*ids.entry(name.to_string()).or_insert_with(|| {
            speakers.push(name.to_string());
            speakers.len() - 1
        }))
    };
    let span = |at: &str, start: f64, end: f64, within: (f64, f64)| -> Result<(), String> {
        if !(start.is_finite() && end.is_finite()) {
            return Err(format!("{at}: times must be numbers of seconds"));
        }
        if start > end {
            return Err(format!("{at}: start {start} s is after its end {end} s"));
        }
        if start < within.0 - SLACK_S || end > within.1 + SLACK_S {
            return Err(format!(
                "{at}: {start}-{end} s lies outside {}-{} s",
                within.0, within.1
            ));
        }
        Ok(())
    };
    let audio = (0.0, duration);
    let mut segments = Vec::with_capacity(run.segments.len());
    let mut previous_start = 0.0;
    for (i, s) in run.segments.into_iter().enumerate() {
        let at = format!("segments[{i}]");
        span(&at, s.start, s.end, audio).map_err(|e| format!("{e} (the audio)"))?;
        if s.start < previous_start {
            return Err(format!(
                "{at}: starts at {} s, before the segment above it ({previous_start} s): segments must be in time order",
                s.start
            ));
        }
        previous_start = s.start;
        let segment_language = match s.language {
            Some(l) if l.trim().is_empty() => return Err(format!("{at}: empty language")),
            // The run's own language is what a segment without one is in.
            l => l.filter(|l| *l != run.language),
        };
        let speaker = s
            .speaker
            .as_deref()
            .map(|n| speaker_id(n, &at))
            .transpose()?;
        let mut words = Vec::with_capacity(s.words.len());
        let mut previous_word = s.start;
        for (j, w) in s.words.into_iter().enumerate() {
            let at = format!("{at}.words[{j}]");
            span(&at, w.start, w.end, (s.start, s.end))
                .map_err(|e| format!("{e} (its segment): the word is not in this segment"))?;
            if w.start < previous_word - SLACK_S {
                return Err(format!(
                    "{at}: starts at {} s, before the word above it ({previous_word} s)",
                    w.start
                ));
            }
            previous_word = w.start;
            if !(0.0..=1.0).contains(&w.probability) {
                return Err(format!(
                    "{at}: probability {} is not in 0..1",
                    w.probability
                ));
            }
            words.push(Word {
                word: w.word,
                start: w.start,
                end: w.end,
                probability: w.probability as f32,
                speaker: w
                    .speaker
                    .as_deref()
                    .map(|n| speaker_id(n, &at))
                    .transpose()?,
            });
        }
        segments.push(Segment {
            start: s.start,
            end: s.end,
            text: s.text,
            words,
            speaker,
            avg_logprob: 0.0,
            no_speech_prob: 0.0,
            language: segment_language,
        });
    }
    let mut turns = Vec::with_capacity(run.turns.len());
    for (i, x) in run.turns.into_iter().enumerate() {
        let at = format!("turns[{i}]");
        span(&at, x.start, x.end, audio).map_err(|e| format!("{e} (the audio)"))?;
        let Some(&speaker) = ids.get(&x.speaker) else {
            return Err(format!("{at}: unknown speaker \"{}\"", x.speaker));
        };
        turns.push(SpeakerTurn {
            start: x.start,
            end: x.end,
            speaker,
        });
    }
    let outputs = run
        .outputs
        .iter()
        .enumerate()
        .map(|(i, name)| {
            Format::ALL
                .iter()
                .copied()
                .find(|f| f.extension() == name)
                .ok_or_else(|| format!("outputs[{i}]: unknown format \"{name}\""))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let transcript = Transcript {
        language: run.language,
        duration,
        segments,
        speakers,
        turns,
        gaps: run.gaps,
    };
    run.history.check().map_err(|e| format!("history: {e}"))?;
    Ok(RunDocument {
        transcript,
        audio: run.audio,
        outputs,
        embed_audio: run.embed_audio,
        partial: run.partial,
        made_by: run.made_by,
        revision: run.revision,
        history: run.history,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::transcript;

    fn doc(speakers: bool) -> RunDocument {
        RunDocument::new(transcript(speakers), None, vec![Format::Txt])
    }

    fn written(d: &RunDocument) -> String {
        let mut out = Vec::new();
        write_json(&mut out, d).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn whisperx_shape_with_speaker_names() {
        let v: serde_json::Value = serde_json::from_str(&written(&doc(true))).unwrap();
        assert_eq!(v["language"], "en");
        assert_eq!(v["segments"][1]["speaker"], "Ana");
        assert_eq!(v["segments"][1]["text"], "Bye <now> & \"go\"");
        assert_eq!(v["segments"][0]["words"][1]["word"], "there.");
        assert_eq!(v["segments"][0]["words"][1]["end"], 2.25);
        assert_eq!(v["segments"][0]["words"][0]["speaker"], "SPEAKER_00");
        assert_eq!(v["speakers"][1], "Ana");
        assert_eq!(v["outputs"][0], "txt");
        assert!(v["segments"][0].get("language").is_none());
    }

    #[test]
    fn a_segment_says_its_language_only_where_it_is_not_the_runs() {
        let mut v: serde_json::Value = serde_json::from_str(&written(&doc(true))).unwrap();
        v["segments"][0]["language"] = "en".into();
        v["segments"][1]["language"] = "de".into();
        let d = read_json(&v.to_string()).unwrap();
        assert_eq!(d.transcript.segments[0].language, None);
        assert_eq!(d.transcript.segments[1].language.as_deref(), Some("de"));
        let e = error_of(|v| v["segments"][1]["language"] = " ".into());
        assert!(e.starts_with("segments[1]: empty language"), "{e}");
    }

    #[test]
    fn no_speaker_fields_without_diarization() {
        let s = written(&doc(false));
        assert!(!s.contains("speaker"), "{s}");
    }

    #[test]
    fn what_is_written_reads_back_the_same() {
        let mut d = doc(true);
        d.transcript.turns = vec![SpeakerTurn {
            start: 0.5,
            end: 2.25,
            speaker: 1,
        }];
        d.audio = Some("/rec/talk.m4a".into());
        d.transcript.segments[1].language = Some("de".into());
        let back = read_json(&written(&d)).unwrap();
        assert_eq!(back, d);
        assert_eq!(written(&back), written(&d));
    }

    #[track_caller]
    fn error_of(edit: impl FnOnce(&mut serde_json::Value)) -> String {
        let mut v: serde_json::Value = serde_json::from_str(&written(&doc(true))).unwrap();
        edit(&mut v);
        read_json(&v.to_string()).unwrap_err()
    }

    #[test]
    fn contradictions_are_refused_with_their_place() {
        let e = error_of(|v| v["segments"][0]["start"] = 3.0.into());
        assert!(
            e.starts_with("segments[0]: start 3 s is after its end 2.25 s"),
            "{e}"
        );
        let e = error_of(|v| v["segments"][1]["end"] = 4000.0.into());
        assert!(
            e.starts_with("segments[1]: 3723-4000 s lies outside 0-3725 s"),
            "{e}"
        );
        let e = error_of(|v| v["segments"][1]["start"] = 0.1.into());
        assert!(
            e.contains("segments[1]: starts at 0.1 s, before the segment above"),
            "{e}"
        );
        let e = error_of(|v| v["segments"][0]["words"][1]["start"] = 0.2.into());
        assert!(
            e.starts_with("segments[0].words[1]: 0.2-2.25 s lies outside 0.5-2.25 s"),
            "{e}"
        );
        let e = error_of(|v| v["segments"][0]["words"][1]["end"] = 3.0.into());
        assert!(e.contains("the word is not in this segment"), "{e}");
        let e = error_of(|v| v["speakers"][1] = "SPEAKER_00".into());
        assert!(
            e.contains("speakers[1]: \"SPEAKER_00\" is listed twice"),
            "{e}"
        );
        let e = error_of(|v| {
            v["turns"] = serde_json::json!([{"start": 1.0, "end": 2.0, "speaker": "Bob"}])
        });
        assert!(e.contains("turns[0]: unknown speaker \"Bob\""), "{e}");
        let e = read_json("{\"language\": \"en\",\n \"duration\": }").unwrap_err();
        assert!(e.contains("line 2 column"), "{e}");
    }

    #[test]
    fn a_new_name_on_a_segment_is_a_new_speaker() {
        let mut v: serde_json::Value = serde_json::from_str(&written(&doc(true))).unwrap();
        v["segments"][1]["speaker"] = "Dana".into();
        let d = read_json(&v.to_string()).unwrap();
        assert_eq!(d.transcript.speakers, ["SPEAKER_00", "Ana", "Dana"]);
        assert_eq!(d.transcript.segments[1].speaker, Some(2));
    }
}
