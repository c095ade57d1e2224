//! WebVTT; speakers as voice spans (`<v NAME>`), text escaped as the format requires.

use std::io::{self, Write};

use super::timestamp_ms;
use crate::transcript::Transcript;

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

pub fn write_vtt(w: &mut dyn Write, t: &Transcript) -> io::Result<()> {
    writeln!(w, "WEBVTT")?;
    writeln!(w)?;
    for s in &t.segments {
        writeln!(
            w,
            "{} --> {}",
            timestamp_ms(s.start, '.'),
            timestamp_ms(s.end, '.')
        )?;
        match s.speaker {
            Some(id) => writeln!(w, "<v {}>{}", escape(&t.speaker_name(id)), escape(&s.text))?,
            None => writeln!(w, "{}", escape(&s.text))?,
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
    fn voice_spans_and_escaping() {
        let mut out = Vec::new();
        write_vtt(&mut out, &transcript(true)).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "WEBVTT\n\n00:00:00.500 --> 00:00:02.250\n<v SPEAKER_00>Hello there.\n\n\
             01:02:03.000 --> 01:02:04.500\n<v Ana>Bye &lt;now&gt; &amp; \"go\"\n\n"
        );
    }
}
