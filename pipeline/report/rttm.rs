//! RTTM, the diarization exchange format: one line per speaker turn,
//! `SPEAKER <recording> 1 <start> <duration> <NA> <NA> <name> <NA> <NA>`.

use std::io::{self, Write};

use crate::transcript::Transcript;

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
}
