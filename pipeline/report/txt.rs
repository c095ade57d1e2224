//! Plain text: `[hh:mm:ss] text`, or `[hh:mm:ss] NAME: text` once speakers are known.

use std::io::{self, Write};

use crate::timefmt::hms;
use crate::transcript::Transcript;

/// Missing stream audio shows as its own line where it happened.
pub fn write_txt(w: &mut dyn Write, t: &Transcript) -> io::Result<()> {
    let mut gaps = t.gaps.iter().peekable();
    for s in &t.segments {
        while let Some(g) = gaps.next_if(|g| g.start <= s.start) {
            write_gap(w, g)?;
        }
        match s.speaker {
            Some(id) => writeln!(w, "[{}] {}: {}", hms(s.start), t.speaker_name(id), s.text)?,
            None => writeln!(w, "[{}] {}", hms(s.start), s.text)?,
        }
    }
    for g in gaps {
        write_gap(w, g)?;
    }
    Ok(())
}

fn write_gap(w: &mut dyn Write, g: &crate::gaps::Gap) -> io::Result<()> {
    writeln!(
        w,
        "[{}] (audio missing until {}: {:.1} s of the stream never arrived)",
        hms(g.start),
        hms(g.end),
        g.end - g.start
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::transcript;

    fn render(t: &Transcript) -> String {
        let mut out = Vec::new();
        write_txt(&mut out, t).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn plain_and_labelled() {
        assert_eq!(
            render(&transcript(false)),
            "[00:00:00] Hello there.\n[01:02:03] Bye <now> & \"go\"\n"
        );
        assert_eq!(
            render(&transcript(true)),
            "[00:00:00] SPEAKER_00: Hello there.\n[01:02:03] Ana: Bye <now> & \"go\"\n"
        );
    }

    #[test]
    fn missing_audio_is_a_line_of_its_own() {
        let mut t = transcript(false);
        t.gaps = vec![crate::gaps::Gap {
            start: 60.0,
            end: 64.0,
        }];
        assert_eq!(
            render(&t),
            "[00:00:00] Hello there.\n[00:01:00] (audio missing until 00:01:04: 4.0 s of the stream never arrived)\n[01:02:03] Bye <now> & \"go\"\n"
        );
    }
}
