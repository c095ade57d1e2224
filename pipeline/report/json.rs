//! WhisperX-like JSON: `{language, segments: [{start, end, text, speaker?, words: [{word,
//! start, end, probability, speaker?}]}]}` with speaker names, times rounded to ms.

use std::io::{self, Write};

use serde::Serialize;

use crate::transcript::Transcript;

#[derive(Serialize)]
struct JsonWord<'a> {
    word: &'a str,
    start: f64,
    end: f64,
    probability: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    speaker: Option<String>,
}

#[derive(Serialize)]
struct JsonSegment<'a> {
    start: f64,
    end: f64,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    speaker: Option<String>,
    words: Vec<JsonWord<'a>>,
}

#[derive(Serialize)]
struct JsonTranscript<'a> {
    language: &'a str,
    duration: f64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    speakers: Vec<String>,
    segments: Vec<JsonSegment<'a>>,
}

fn ms(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

pub fn write_json(w: &mut dyn Write, t: &Transcript) -> io::Result<()> {
    let name = |id: Option<usize>| id.map(|i| t.speaker_name(i));
    let doc = JsonTranscript {
        language: &t.language,
        duration: ms(t.duration),
        speakers: (0..t.speakers.len()).map(|i| t.speaker_name(i)).collect(),
        segments: t
            .segments
            .iter()
            .map(|s| JsonSegment {
                start: ms(s.start),
                end: ms(s.end),
                text: &s.text,
                speaker: name(s.speaker),
                words: s
                    .words
                    .iter()
                    .map(|x| JsonWord {
                        word: &x.word,
                        start: ms(x.start),
                        end: ms(x.end),
                        probability: (x.probability as f64 * 1000.0).round() / 1000.0,
                        speaker: name(x.speaker),
                    })
                    .collect(),
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *w, &doc)?;
    writeln!(w)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::transcript;

    #[test]
    fn whisperx_shape_with_speaker_names() {
        let mut out = Vec::new();
        write_json(&mut out, &transcript(true)).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["language"], "en");
        assert_eq!(v["segments"][1]["speaker"], "Ana");
        assert_eq!(v["segments"][1]["text"], "Bye <now> & \"go\"");
        assert_eq!(v["segments"][0]["words"][1]["word"], "there.");
        assert_eq!(v["segments"][0]["words"][1]["end"], 2.25);
        assert_eq!(v["segments"][0]["words"][0]["speaker"], "SPEAKER_00");
        assert_eq!(v["speakers"][1], "Ana");
    }

    #[test]
    fn no_speaker_fields_without_diarization() {
        let mut out = Vec::new();
        write_json(&mut out, &transcript(false)).unwrap();
        let s = String::from_utf8(out).unwrap();
        assert!(!s.contains("speaker"), "{s}");
    }
}
