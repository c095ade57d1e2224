//! RTTM, the diarization exchange format: one line per speaker turn,
//! `SPEAKER <recording> 1 <start> <duration> <NA> <NA> <name> <NA> <NA>`.

use std::io::{self, Write};

use anyhow::{bail, Context, Result};

use crate::transcript::{SpeakerTurn, Transcript};

pub fn write_rttm(w: &mut dyn Write, t: &Transcript, recording: &str) -> io::Result<()> {
    // Names with spaces would break the whitespace-separated fields.
    let uri = recording.replace(char::is_whitespace, "_");
    for turn in &t.turns {
        writeln!(
            w,
            "SPEAKER {uri} 1 {:.3} {:.3} <NA> <NA> {} <NA> <NA>",
            turn.start,
            turn.end - turn.start,
            t.speaker_name(turn.speaker)
                .replace(char::is_whitespace, "_")
        )?;
    }
    Ok(())
}

/// The speaker turns of an RTTM file (any diarizer's, or a reference): speakers numbered
/// in order of first appearance, turns in file order, the duration the last turn's end.
/// Other RTTM records and `;;` comments are skipped; a malformed `SPEAKER` line, or a line
/// that is no RTTM record at all, is an error naming its line.
pub fn read_rttm(text: &str) -> Result<Transcript> {
    let mut t = Transcript::default();
    for (i, line) in text.lines().enumerate() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        if fields.first() != Some(&"SPEAKER") {
            // Other RTTM record types (SPKR-INFO, LEXEME, ...) have 9 or 10 fields too;
            // anything else (a transcript, binary data) is not RTTM.
            if !fields.is_empty() && !fields[0].starts_with(';') && fields.len() < 9 {
                bail!("line {}: not an RTTM line", i + 1);
            }
            continue;
        }
        let parse = |k: usize, what: &str| -> Result<f64> {
            let v: f64 = fields
                .get(k)
                .with_context(|| format!("line {}: no {what}", i + 1))?
                .parse()
                .with_context(|| format!("line {}: {what} is not a number", i + 1))?;
            if !v.is_finite() || v < 0.0 {
                bail!("line {}: {what} {v} is not a time", i + 1);
            }
            Ok(v)
        };
        let (start, duration) = (parse(3, "start")?, parse(4, "duration")?);
        let Some(name) = fields.get(7) else {
            bail!("line {}: no speaker name (field 8)", i + 1);
        };
        let speaker = match t.speakers.iter().position(|s| s == name) {
            Some(k) => k,
            None => {
                t.speakers.push(name.to_string());
                t.speakers.len() - 1
            }
        };
        t.turns.push(SpeakerTurn {
            start,
            end: start + duration,
            speaker,
        });
        t.duration = t.duration.max(start + duration);
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transcript::SpeakerTurn;

    #[test]
    fn ten_fields_per_turn() {
        let t = Transcript {
            turns: vec![
                SpeakerTurn {
                    start: 0.5,
                    end: 2.25,
                    speaker: 0,
                },
                SpeakerTurn {
                    start: 2.0,
                    end: 3.0,
                    speaker: 1,
                },
            ],
            speakers: vec!["SPEAKER_00".into(), "Ana Lopez".into()],
            ..Default::default()
        };
        let mut out = Vec::new();
        write_rttm(&mut out, &t, "my talk").unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "SPEAKER my_talk 1 0.500 1.750 <NA> <NA> SPEAKER_00 <NA> <NA>\n\
             SPEAKER my_talk 1 2.000 1.000 <NA> <NA> Ana_Lopez <NA> <NA>\n"
        );
    }

    #[test]
    fn reads_what_it_writes() {
        let text = "SPEAKER talk 1 0.500 1.750 <NA> <NA> Ann <NA> <NA>\n\
                    SPEAKER talk 1 2.000 1.000 <NA> <NA> Bob <NA> <NA>\n\
                    SPEAKER talk 1 3.500 0.500 <NA> <NA> Ann <NA> <NA>\n";
        let t = read_rttm(text).unwrap();
        assert_eq!(t.speakers, ["Ann", "Bob"]);
        assert_eq!(
            t.turns.iter().map(|x| x.speaker).collect::<Vec<_>>(),
            [0, 1, 0]
        );
        assert!((t.duration - 4.0).abs() < 1e-9);
        let mut out = Vec::new();
        write_rttm(&mut out, &t, "talk").unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), text.replace("  ", ""));
    }

    #[test]
    fn a_bad_line_is_named() {
        let e = read_rttm("SPEAKER x 1 0.5 abc <NA> <NA> A <NA> <NA>\n").unwrap_err();
        assert_eq!(format!("{e:#}").split(':').next(), Some("line 1"));
        let e = read_rttm(";; made by hand\nHello there, how are you?\n").unwrap_err();
        assert_eq!(format!("{e:#}"), "line 2: not an RTTM line");
        let other = "SPKR-INFO x 1 <NA> <NA> <NA> unknown A <NA> <NA>\n";
        assert!(read_rttm(other).unwrap().turns.is_empty());
    }
}
