//! Plain text: `[hh:mm:ss] text`, or `[hh:mm:ss] NAME: text` once speakers are known.

use std::io::{self, Write};

use crate::timefmt::hms;
use crate::transcript::Transcript;

pub fn write_txt(w: &mut dyn Write, t: &Transcript) -> io::Result<()> {
    for s in &t.segments {
        match s.speaker {
            Some(id) => writeln!(w, "[{}] {}: {}", hms(s.start), t.speaker_name(id), s.text)?,
            None => writeln!(w, "[{}] {}", hms(s.start), s.text)?,
        }
    }
    Ok(())
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
}
