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
        // A segment in another language than the transcript's is marked as WebVTT's
        // language span, so players and screen readers read it in its own.
        let text = match &s.language {
            Some(lang) => format!("<lang {}>{}</lang>", escape(lang), escape(&s.text)),
            None => escape(&s.text),
        };
        match s.speaker {
            Some(id) => writeln!(w, "<v {}>{text}", escape(&t.speaker_name(id)))?,
            None => writeln!(w, "{text}")?,
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

    #[test]
    fn a_segment_in_another_language_is_a_language_span() {
        let mut t = transcript(false);
        t.segments[1].language = Some("de".into());
        let mut out = Vec::new();
        write_vtt(&mut out, &t).unwrap();
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("\nHello there.\n"), "{out}");
        assert!(
            out.contains("\n<lang de>Bye &lt;now&gt; &amp; \"go\"</lang>\n"),
            "{out}"
        );
    }
}
