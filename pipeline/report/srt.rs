//! SubRip subtitles; the speaker's name leads the cue when known.

use std::io::{self, Write};

use super::timestamp_ms;
use crate::transcript::Transcript;

pub fn write_srt(w: &mut dyn Write, t: &Transcript) -> io::Result<()> {
    for (i, s) in t.segments.iter().enumerate() {
        writeln!(w, "{}", i + 1)?;
        writeln!(
            w,
            "{} --> {}",
            timestamp_ms(s.start, ','),
            timestamp_ms(s.end, ',')
        )?;
        match s.speaker {
            Some(id) => writeln!(w, "{}: {}", t.speaker_name(id), s.text)?,
            None => writeln!(w, "{}", s.text)?,
        }
        writeln!(w)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::transcript;

    #[test]
    fn numbered_cues_with_millisecond_times() {
        let mut out = Vec::new();
        write_srt(&mut out, &transcript(true)).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1\n00:00:00,500 --> 00:00:02,250\nSPEAKER_00: Hello there.\n\n\
             2\n01:02:03,000 --> 01:02:04,500\nAna: Bye <now> & \"go\"\n\n"
        );
    }
}
