//! Statistics as JSON (everything) and CSV (one row per speaker, for spreadsheets).

use std::io::{self, Write};

use crate::stats::ConversationStats;

pub fn write_stats_json(w: &mut dyn Write, s: &ConversationStats) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *w, s)?;
    writeln!(w)
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

pub fn write_stats_csv(w: &mut dyn Write, s: &ConversationStats) -> io::Result<()> {
    writeln!(
        w,
        "speaker,talk_s,share,turns,mean_turn_s,longest_turn_s,longest_turn_start_s,words,words_per_minute,interruptions_made,interruptions_suffered,backchannels,overlap_s"
    )?;
    for p in &s.speakers {
        writeln!(
            w,
            "{},{:.2},{:.4},{},{:.2},{:.2},{:.2},{},{:.1},{},{},{},{:.2}",
            csv_field(&p.name),
            p.talk_s,
            p.share,
            p.turns,
            p.mean_turn_s,
            p.longest_turn_s,
            p.longest_turn_start,
            p.words,
            p.words_per_minute,
            p.interruptions_made,
            p.interruptions_suffered,
            p.backchannels,
            p.overlap_s
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::compute_stats;
    use crate::transcript::{SpeakerTurn, Transcript};

    #[test]
    fn csv_has_a_header_and_a_row_per_speaker() {
        let t = Transcript {
            duration: 10.0,
            turns: vec![
                SpeakerTurn {
                    start: 0.0,
                    end: 4.0,
                    speaker: 0,
                },
                SpeakerTurn {
                    start: 5.0,
                    end: 6.0,
                    speaker: 1,
                },
            ],
            speakers: vec!["Host, main".into(), "Guest".into()],
            ..Default::default()
        };
        let mut out = Vec::new();
        write_stats_csv(&mut out, &compute_stats(&t)).unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<_> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(
            lines[1].starts_with("\"Host, main\",4.00,0.8000,1,"),
            "{}",
            lines[1]
        );
        let mut json = Vec::new();
        write_stats_json(&mut json, &compute_stats(&t)).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&json).unwrap();
        assert_eq!(v["dominant"]["name"], "Host, main");
    }
}
